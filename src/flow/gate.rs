//! A guarded path: forwarded to the site with a live session, refused for a cross-site write
//! or while an expired token cannot be renewed, sent to sign in otherwise.

use crate::config::settings::Settings;
use crate::error::ErrorCode;
use crate::log::{Event, EventName};
use crate::web::forward;
use crate::web::{self as http, problem, Message};

use super::*;

/// A guarded path: forwarded with a live session (refreshed first when due); otherwise a
/// browser is sent to sign in and coming back here, and any other caller gets `401`.
pub(super) async fn gate<E: Effects>(
    fx: &E,
    settings: &Settings,
    request: &Request<'_>,
) -> Outcome {
    if settings.gate_csrf && forward::is_write(request.method) && !from_this_site(request, true) {
        // A cookie alone does not make a write the user's own (a sibling subdomain's form
        // sends it too): refused before any session work, and nothing reaches the site.
        emit(
            fx,
            request,
            Event::new(EventName::GateDenied).code(ErrorCode::CrossSiteRequest),
        );
        return Outcome::Answer(problem(
            ErrorCode::CrossSiteRequest,
            &Message::new("detail.cross_site_write"),
            &request.client(),
        ));
    }
    match lookup_session(fx, settings, request).await {
        SessionLookup::Live {
            session,
            set_cookies,
        } => {
            let tokens = &session.tokens;
            let failure = Event::new(EventName::GateFailed)
                .code(ErrorCode::AppUnreachable)
                .token_id(tokens.id.as_deref());
            Outcome::Forward(Forward {
                request_id: request.request_id.to_owned(),
                started_ms: request.started_ms,
                url: forward::forward_url(settings.app_origin.as_ref(), request.url),
                cookie: forward::forwarded_cookie(request.cookie),
                identity: forward::identity_headers(tokens, session.user.as_ref()),
                cache_control: (!set_cookies.is_empty()).then_some(forward::PRIVATE_NO_STORE),
                set_cookies,
                unreachable: failure.logged_at(request.log).then_some(failure),
            })
        }
        SessionLookup::Reconnecting { error, .. } => {
            // The refresh failed on an outage and the access token is dead: the session
            // stays (the next request retries), but nothing is forwarded with it.
            Outcome::Answer(
                problem(
                    error.code(),
                    &Message::new("detail.reconnecting"),
                    &request.client(),
                )
                .with_header("Retry-After", RECONNECT_RETRY_SECS.to_string()),
            )
        }
        SessionLookup::SignedOut { set_cookies } => {
            emit(
                fx,
                request,
                Event::new(EventName::GateDenied).code(ErrorCode::SignInRequired),
            );
            let answer = if forward::is_browser_navigation(
                request.method,
                request.accept,
                request.sec_fetch_mode,
            ) {
                http::sign_in_redirect(forward::login_location(request.url))
            } else {
                http::sign_in_required(&request.client())
            };
            Outcome::Answer(answer.with_cookies(set_cookies))
        }
    }
}

/// `Retry-After` while a session cannot be renewed (Freedom ID is not answering).
pub(super) const RECONNECT_RETRY_SECS: u32 = 5;
