//! `GET /callback`: the state checked before the code is spent, the exchange, and the new
//! session.

use crate::base::cookies::{clear_cookie, cookie_value};
use crate::base::secret::CsrfState;
use crate::config::settings::Settings;
use crate::config::values::Protocol;
use crate::error::Error;
use crate::freedom_id::callback::{check_callback, CallbackParams, ExpectedState};
use crate::freedom_id::id_token::{Expected, IdTokenProblem};
use crate::freedom_id::oidc::{self, OidcTokens};
use crate::freedom_id::token::{exchange_request, read_token_reply, TokenCall, Tokens};
use crate::log::{Event, EventName};
use crate::session::seal::{decode_sealed, seal_id};
use crate::session::{flow_cookie_name, Flow, Session, DEAD_COOKIE};
use crate::web::{self as http, Answer};

use super::session::session_cookie;
use super::*;

pub(super) async fn callback<E: Effects>(
    fx: &E,
    settings: &Settings,
    request: &Request<'_>,
) -> Answer {
    let started = fx.now_ms();
    // Each callback may cost a token-endpoint call on our credentials: limited like /login.
    if let Some(limited) = rate_limit(fx, request).await {
        return limited;
    }
    let params = CallbackParams::from_query(request.url.query());
    // The flow cookie this callback names; without a state there is none to find. A flow
    // whose code already had a definite answer is spent: it matches nothing.
    let flow_name = params.state.as_ref().map(flow_cookie_name);
    let flow = match &flow_name {
        Some(name) => open_flow(fx, settings, request, name)
            .await
            .filter(|(id, _)| !fx.flow_spent(id)),
        None => None,
    };
    let (flow_id, flow) = flow.unzip();
    let clear_flow: Vec<String> = flow_name
        .iter()
        .filter(|name| cookie_value(request.cookie, name).is_some())
        .map(|name| clear_cookie(name))
        .collect();
    let expected = flow.as_ref().map(|flow| &flow.state);
    // No flow cookie: an expected state nobody can match, so the check fails closed.
    let none = crate::base::secret::CsrfState::new("");
    let code = match check_callback(&params, ExpectedState::Value(expected.unwrap_or(&none))) {
        Ok(code) => code,
        Err(error) => {
            return failed(fx, request, &error, None, started).with_cookies(clear_flow);
        }
    };
    // The exchange, in the settings' flavour.
    let (upstream, nonce) = match settings.protocol {
        Protocol::OAuth2 => (
            exchange_request(
                &settings.token_url,
                &settings.client_id,
                &settings.client_secret,
                &code,
            ),
            None,
        ),
        Protocol::Oidc => (
            oidc::exchange_request(
                &settings.oidc_token_url,
                &settings.client_id,
                &settings.client_secret,
                &code,
                &settings.redirect_uri,
            ),
            flow.as_ref().and_then(|flow| flow.nonce.as_ref()),
        ),
    };
    let reply = fx.send(&upstream, settings.timeout_ms, None).await;
    let upstream_status = reply.status;
    let exchanged = match settings.protocol {
        Protocol::OAuth2 => {
            read_token_reply(TokenCall::Exchange, &reply, fx).map(Exchanged::OAuth2)
        }
        Protocol::Oidc => oidc::read_exchange_reply(&reply, now_secs(fx), fx).map(Exchanged::Oidc),
    };
    if let (Some(id), Ok(_) | Err(Error::CodeRejected { .. })) = (&flow_id, &exchanged) {
        // A definite answer spends the flow: replaying its cookie with another guessed code
        // costs no further token-endpoint call (in this isolate; the cookie is cleared too).
        fx.spend_flow(id);
    }
    let exchanged = match exchanged {
        Ok(exchanged) => exchanged,
        // A refused code is spent: the flow is over. On an outage the code may still be good,
        // so the flow cookie stays for a reload to try again.
        Err(error @ Error::CodeRejected { .. }) => {
            return failed(fx, request, &error, upstream_status, started).with_cookies(clear_flow);
        }
        Err(error) => return failed(fx, request, &error, upstream_status, started),
    };
    let signed_in = match exchanged {
        Exchanged::OAuth2(tokens) => oauth2_session(fx, settings, tokens).await,
        Exchanged::Oidc(tokens) => oidc_session(fx, settings, tokens, nonce).await,
    };
    let signed_in = match signed_in {
        Ok(session) => session,
        // The code is spent: only a new sign-in can go on.
        Err(error) => {
            return failed(fx, request, &error, upstream_status, started).with_cookies(clear_flow)
        }
    };
    let mut signed_in = signed_in;
    let Some(session_cookie) = session_cookie(fx, settings, &mut signed_in).await else {
        return seal_failed(fx, request, started);
    };
    let tokens = signed_in.tokens;
    let completed = Event::new(EventName::SignInCompleted)
        .upstream_status(upstream_status)
        .elapsed(started, fx.now_ms())
        .token_id(tokens.id.as_deref());
    emit(fx, request, completed);
    let landing = flow
        .and_then(|flow| flow.return_to)
        .unwrap_or_else(|| settings.after_sign_in.clone());
    let mut cookies = clear_flow;
    cookies.push(session_cookie);
    if cookie_value(request.cookie, DEAD_COOKIE).is_some() {
        cookies.push(clear_cookie(DEAD_COOKIE));
    }
    http::see_other(&landing).with_cookies(cookies)
}

/// What the token endpoint gave, in either flavour.
enum Exchanged {
    OAuth2(Tokens),
    Oidc(OidcTokens),
}

/// The OAuth2 flavour's session from its tokens, with the user from the user-info call when
/// `FREEDOM_ID_USERINFO_URL` is set.
async fn oauth2_session<E: Effects>(
    fx: &E,
    settings: &Settings,
    tokens: Tokens,
) -> Result<Session, Error> {
    let user = match &settings.userinfo_url {
        None => None,
        Some(url) => {
            let info =
                identity::user_info(fx, url, &tokens.access_token, settings.timeout_ms).await?;
            identity::user_from(Some(&info), None)?
        }
    };
    Ok(Session {
        tokens,
        began_at: now_secs(fx),
        user,
        refreshable: true,
    })
}

/// The OIDC flavour's session from its tokens: the id_token checked against the flow's
/// nonce, the user-info call when configured, and the user. No refresh is documented for
/// this flavour, so the session ends with its access token.
async fn oidc_session<E: Effects>(
    fx: &E,
    settings: &Settings,
    tokens: OidcTokens,
    nonce: Option<&CsrfState>,
) -> Result<Session, Error> {
    // A flow without a nonce (sealed before the flavour was switched on) cannot match one.
    let nonce = nonce.ok_or(Error::IdTokenInvalid {
        problem: IdTokenProblem::Nonce.as_str(),
    })?;
    let expected = Expected {
        issuer: &settings.issuer,
        client_id: settings.client_id.as_str(),
        nonce: nonce.secret(),
        now: now_secs(fx),
    };
    let (sub, claims) = identity::checked_id_token(
        fx,
        &tokens.id_token,
        settings.jwks_url.as_ref(),
        settings.timeout_ms,
        &expected,
    )
    .await?;
    let info = match &settings.userinfo_url {
        Some(url) => {
            Some(identity::user_info(fx, url, &tokens.access_token, settings.timeout_ms).await?)
        }
        None => None,
    };
    let user = identity::user_from(info.as_ref(), Some((&sub, &claims)))?;
    Ok(Session {
        tokens: tokens.into_tokens(),
        began_at: now_secs(fx),
        user,
        refreshable: false,
    })
}

/// The live flow sealed in cookie `name`, with its sealed cookie's id.
pub(super) async fn open_flow<E: Effects>(
    fx: &E,
    settings: &Settings,
    request: &Request<'_>,
    name: &str,
) -> Option<(String, Flow)> {
    let value = cookie_value(request.cookie, name)?;
    let (iv, _) = decode_sealed(value)?;
    let flow = Flow::decode(&open(fx, settings, name, value).await?, fx)?;
    (!flow.expired(now_secs(fx))).then(|| (seal_id(&iv), flow))
}
