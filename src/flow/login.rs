//! `GET /login`: ask Freedom ID for a sign-in link, bind it to this browser with a sealed
//! flow cookie, and send the browser there.

use crate::base::cookies::{clear_cookie, names_with_prefix, set_cookie};
use crate::base::return_to::local_path;
use crate::config::settings::{Settings, SettingsError};
use crate::config::values::{Protocol, StateMode};
use crate::error::Error;
use crate::freedom_id::authorize::{read_reply, AuthorizationLink, AuthorizeRequest};
use crate::freedom_id::oidc;
use crate::freedom_id::state::{new_state, STATE_BYTES};
use crate::log::{Event, EventName};
use crate::session::{flow_cookie_name, flows_to_expire, Flow, FLOW_COOKIE_PREFIX, FLOW_MAX_AGE};
use crate::web::{self as http, Answer};

use super::*;

pub(super) async fn login<E: Effects>(
    fx: &E,
    settings: &Result<Settings, SettingsError>,
    request: &Request<'_>,
) -> Answer {
    let started = fx.now_ms();
    if let Some(limited) = rate_limit(fx, request).await {
        return limited;
    }
    let settings = match settings {
        Ok(settings) => settings,
        Err(error) => return failed(fx, request, &Error::Settings(error.clone()), None, started),
    };
    if let Some(error) = origin_problem(settings, request) {
        return failed(fx, request, &Error::Settings(error), None, started);
    }
    if settings.protocol == Protocol::Oidc {
        return login_oidc(fx, settings, request, started).await;
    }
    let state = match &settings.state {
        StateMode::Bind => {
            let mut random = [0_u8; STATE_BYTES];
            fx.random(&mut random);
            Some(new_state(&random))
        }
        // The npm package's own state never reaches the Worker's settings.
        StateMode::Off | StateMode::Given(_) => None,
    };
    let upstream =
        AuthorizeRequest::new(settings, state.as_ref().map(|s| s.secret())).to_upstream();
    let reply = fx.send(&upstream, settings.timeout_ms, None).await;
    let link = match read_reply(&reply, &settings.authorize_url, fx) {
        Ok(link) => link,
        Err(error) => return failed(fx, request, &error, reply.status, started),
    };
    let started_event = Event::new(EventName::SignInStarted)
        .upstream_status(reply.status)
        .elapsed(started, fx.now_ms());
    let Some(state) = state else {
        emit(fx, request, started_event);
        return http::redirect(&link);
    };
    let flow = Flow {
        state,
        nonce: None,
        return_to: return_to(request),
        created_at: now_secs(fx),
    };
    bind_flow(fx, request, flow, &link, started_event, started).await
}

/// Where to land after the sign-in: the `return_to` query parameter, if it is a path here.
fn return_to(request: &Request<'_>) -> Option<String> {
    request
        .query_param("return_to")
        .and_then(|path| local_path(&path).map(str::to_owned))
}

/// `/login` in the OIDC flavour: a fresh state and nonce, kept in the sealed flow cookie, and
/// `302` to the locally built authorization URL. No call to Freedom ID.
async fn login_oidc<E: Effects>(
    fx: &E,
    settings: &Settings,
    request: &Request<'_>,
    started: f64,
) -> Answer {
    let mut random = [0_u8; STATE_BYTES];
    fx.random(&mut random);
    let state = new_state(&random);
    fx.random(&mut random);
    let nonce = new_state(&random);
    let link = match oidc::authorization_link(settings, state.secret(), nonce.secret()) {
        Ok(link) => link,
        Err(error) => return failed(fx, request, &error, None, started),
    };
    let flow = Flow {
        state,
        nonce: Some(nonce),
        return_to: return_to(request),
        created_at: now_secs(fx),
    };
    let started_event = Event::new(EventName::SignInStarted).elapsed(started, fx.now_ms());
    bind_flow(fx, request, flow, &link, started_event, started).await
}

/// Seals `flow` into its cookie and redirects to `link`, expiring the oldest flow cookies.
async fn bind_flow<E: Effects>(
    fx: &E,
    request: &Request<'_>,
    flow: Flow,
    link: &AuthorizationLink,
    started_event: Event,
    started: f64,
) -> Answer {
    let name = flow_cookie_name(&flow.state);
    let Some(sealed) = seal(fx, &name, &flow.encode()).await else {
        return seal_failed(fx, request, started);
    };
    emit(fx, request, started_event);
    let earlier = names_with_prefix(request.cookie, FLOW_COOKIE_PREFIX);
    let expired = flows_to_expire(&earlier).into_iter().map(clear_cookie);
    http::redirect(link).with_cookies(expired.chain([set_cookie(&name, &sealed, FLOW_MAX_AGE)]))
}
