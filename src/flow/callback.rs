//! `GET /callback`: the state checked before the code is spent, the exchange, and the new
//! session.

use crate::base::cookies::{clear_cookie, cookie_value};
use crate::config::settings::Settings;
use crate::error::Error;
use crate::freedom_id::callback::{check_callback, CallbackParams, ExpectedState};
use crate::freedom_id::token::{exchange_request, read_token_reply, TokenCall};
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
    let upstream = exchange_request(
        &settings.token_url,
        &settings.client_id,
        &settings.client_secret,
        &code,
    );
    let reply = fx.send(&upstream, settings.timeout_ms, None).await;
    let result = read_token_reply(TokenCall::Exchange, &reply, fx);
    if let (Some(id), Ok(_) | Err(Error::CodeRejected { .. })) = (&flow_id, &result) {
        // A definite answer spends the flow: replaying its cookie with another guessed code
        // costs no further token-endpoint call (in this isolate; the cookie is cleared too).
        fx.spend_flow(id);
    }
    let tokens = match result {
        Ok(tokens) => tokens,
        // A refused code is spent: the flow is over. On an outage the code may still be
        // good, so the flow cookie stays for a reload to try again.
        Err(error @ Error::CodeRejected { .. }) => {
            return failed(fx, request, &error, reply.status, started).with_cookies(clear_flow);
        }
        Err(error) => return failed(fx, request, &error, reply.status, started),
    };
    let signed_in = Session {
        tokens,
        began_at: now_secs(fx),
    };
    let Some(session_cookie) = session_cookie(fx, settings, &signed_in).await else {
        return seal_failed(fx, request, started);
    };
    let tokens = signed_in.tokens;
    let completed = Event::new(EventName::SignInCompleted)
        .upstream_status(reply.status)
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
