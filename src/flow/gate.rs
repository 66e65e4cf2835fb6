//! A guarded path: forwarded to the site with a live session, refused for a cross-site write
//! or while an expired token cannot be renewed, sent to sign in otherwise.

use crate::config::allow::Admission;
use crate::config::assertion_key::AssertionKey;
use crate::config::settings::Settings;
use crate::config::values::Protocol;
use crate::error::ErrorCode;
use crate::log::{Event, EventName};
use crate::session::Session;
use crate::web::assertion::{signed, signing_input, AssertionClaims, ASSERTION_HEADER};
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
            let user = session.user.as_ref();
            let admission = settings.allow.admit(
                user.map(|user| user.id.as_str()),
                user.and_then(|user| user.email.as_deref()),
                user.and_then(|user| user.phone.as_deref()),
            );
            if admission == Admission::Denied {
                // Nothing of the user in the line: who was refused is personal data.
                emit(
                    fx,
                    request,
                    Event::new(EventName::GateDenied).code(ErrorCode::AccessDenied),
                );
                let sign_in = match settings.protocol {
                    Protocol::Oidc => &settings.oidc_authorize_url,
                    _ => &settings.authorize_url,
                };
                let answer = http::access_denied(
                    &request.url.path_and_query(),
                    sign_in.origin(),
                    &request.client(),
                );
                return Outcome::Answer(answer.with_cookies(set_cookies));
            }
            let tokens = &session.tokens;
            let url = forward::forward_url(settings.app_origin.as_ref(), request.url);
            let mut identity =
                forward::identity_headers(tokens, user, settings.forward_access_token);
            if let Some(key) = settings.assertion_keys.first() {
                let Some(token) = assertion(fx, settings, request, key, &session).await else {
                    return Outcome::Answer(key_refused(
                        fx,
                        request,
                        Setting::AssertionKey,
                        ProblemReason::AssertionKey,
                    ));
                };
                identity.push((ASSERTION_HEADER, token));
            }
            let failure = Event::new(EventName::GateFailed)
                .code(ErrorCode::AppUnreachable)
                .token_id(tokens.id.as_deref());
            Outcome::Forward(Forward {
                request_id: request.request_id.to_owned(),
                started_ms: request.started_ms,
                url,
                cookie: forward::forwarded_cookie(request.cookie),
                identity,
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

/// The signed assertion for this forwarded request: issued by this Worker's origin, for
/// `FREEDOM_ID_ASSERTION_AUDIENCE` or the origin the request goes to, good for a minute.
/// `None` if the runtime refused the key (nothing is forwarded then).
async fn assertion<E: Effects>(
    fx: &E,
    settings: &Settings,
    request: &Request<'_>,
    key: &AssertionKey,
    session: &Session,
) -> Option<String> {
    let target = settings
        .app_origin
        .as_ref()
        .map_or(request.url.origin(), AbsoluteUrl::origin);
    let audience = settings.assertion_audience.as_deref().unwrap_or(target);
    let claims = AssertionClaims::new(
        request.url.origin(),
        audience,
        session.tokens.id.as_deref(),
        session.user.as_ref(),
        now_secs(fx),
    );
    let input = signing_input(key, &claims);
    let signature = fx.sign_assertion(key, input.as_bytes()).await?;
    Some(signed(&input, &signature))
}

/// `Retry-After` while a session cannot be renewed (Freedom ID is not answering).
pub(super) const RECONNECT_RETRY_SECS: u32 = 5;
