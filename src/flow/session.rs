//! The session behind a request (opened, refreshed when due, or over), and `GET /session`.

use crate::base::cookies::{clear_cookie, cookie_value, set_cookie};
use crate::config::settings::Settings;
use crate::error::Error;
use crate::freedom_id::token::{read_token_reply, refresh_request, TokenCall};
use crate::log::{Event, EventName};
use crate::session::seal::{decode_sealed, seal_id};
use crate::session::{
    decode_session, encode_session_fitting, freshness, session_max_age, Freshness, Session,
    DEAD_COOKIE, SESSION_COOKIE,
};
use crate::web::{self as http, Answer};

use super::*;

/// A live session for this request, refreshed if it had to be, and the cookies to set.
#[derive(Debug)]
#[non_exhaustive]
pub enum SessionLookup {
    /// Signed in; `set_cookies` holds the renewed session after a refresh.
    Live {
        /// The session: its tokens (refreshed, or as they were during an upstream outage)
        /// and its user.
        session: Session,
        /// Cookies to set with the answer.
        set_cookies: Vec<String>,
    },
    /// Still signed in, but the access token has expired and the refresh failed on an
    /// outage: the cookie stays and the next request retries, but no token may be used.
    Reconnecting {
        /// Why the refresh failed (the upstream outage's error).
        error: Error,
        /// The session, its access token expired (for `/session`'s `accessExpiresAt`).
        session: Session,
    },
    /// Signed out; `set_cookies` clears what is unusable or marks a refused refresh.
    SignedOut {
        /// Cookies to set with the answer.
        set_cookies: Vec<String>,
    },
}

/// Finds this request's session: opens the cookie, refreshes it when due (one shared call
/// per sealed cookie), and decides the cookies to set.
pub async fn lookup_session<E: Effects>(
    fx: &E,
    settings: &Settings,
    request: &Request<'_>,
) -> SessionLookup {
    let signed_out = |set_cookies| SessionLookup::SignedOut { set_cookies };
    let Some(value) = cookie_value(request.cookie, SESSION_COOKIE) else {
        return signed_out(Vec::new());
    };
    let Some((iv, _)) = decode_sealed(value) else {
        return signed_out(vec![clear_cookie(SESSION_COOKIE)]);
    };
    let id = seal_id(&iv);
    let Some(session) = open_session(fx, settings, value).await else {
        // Tampered, truncated, another key or version: signed out, and cleared.
        return signed_out(vec![clear_cookie(SESSION_COOKIE)]);
    };
    if cookie_value(request.cookie, DEAD_COOKIE) == Some(id.as_str()) {
        // Its refresh was refused before: no further upstream call.
        return signed_out(Vec::new());
    }
    if let Some(token_id) = &session.tokens.id {
        if fx.is_revoked(token_id).await {
            // Signed out (Freedom ID's back channel, or /logout from another copy of this
            // cookie): so is this request, for good.
            return signed_out(vec![clear_cookie(SESSION_COOKIE)]);
        }
    }
    let now = now_secs(fx);
    match freshness(&session, now, settings.session_max_age) {
        Freshness::Fresh => SessionLookup::Live {
            session,
            set_cookies: Vec::new(),
        },
        // Past the refresh token or FREEDOM_ID_SESSION_MAX_AGE: over, and cleared.
        Freshness::Over => signed_out(vec![clear_cookie(SESSION_COOKIE)]),
        Freshness::Refresh => refresh(fx, settings, request, session, &id).await,
    }
}

/// The session sealed in the session cookie `value`.
pub(super) async fn open_session<E: Effects>(
    fx: &E,
    settings: &Settings,
    value: &str,
) -> Option<Session> {
    decode_session(&open(fx, settings, SESSION_COOKIE, value).await?, fx)
}

pub(super) async fn refresh<E: Effects>(
    fx: &E,
    settings: &Settings,
    request: &Request<'_>,
    session: Session,
    id: &str,
) -> SessionLookup {
    let started = fx.now_ms();
    let tokens = &session.tokens;
    let upstream = refresh_request(&settings.token_url, &tokens.refresh_token);
    let reply = fx.send(&upstream, settings.timeout_ms, Some(id)).await;
    let event = |name: EventName| {
        Event::new(name)
            .upstream_status(reply.status)
            .elapsed(started, fx.now_ms())
            .token_id(tokens.id.as_deref())
    };
    match read_token_reply(TokenCall::Refresh, &reply, fx) {
        Ok(renewed) => {
            emit(fx, request, event(EventName::SessionRefreshed));
            let renewed = Session {
                tokens: renewed,
                ..session
            };
            refreshed(fx, settings, renewed).await
        }
        Err(error) => {
            emit(
                fx,
                request,
                event(EventName::RefreshFailed).code(error.code()),
            );
            if let Error::RefreshRejected { .. } = error {
                SessionLookup::SignedOut {
                    set_cookies: vec![set_cookie(DEAD_COOKIE, id, settings.session_max_age)],
                }
            } else if tokens.access_expires_at <= now_secs(fx) {
                // An outage never signs anyone out, but an expired token is no pass: the
                // session waits for the next request's retry.
                SessionLookup::Reconnecting { error, session }
            } else {
                // An outage never signs anyone out: the token is still good, so keep the
                // session as it is and try again on a later request.
                SessionLookup::Live {
                    session,
                    set_cookies: Vec::new(),
                }
            }
        }
    }
}

/// A renewed session and its cookie.
pub(super) async fn refreshed<E: Effects>(
    fx: &E,
    settings: &Settings,
    renewed: Session,
) -> SessionLookup {
    let mut renewed = renewed;
    let set_cookies = session_cookie(fx, settings, &mut renewed)
        .await
        .into_iter()
        .collect();
    SessionLookup::Live {
        session: renewed,
        set_cookies,
    }
}

pub(super) async fn session<E: Effects>(
    fx: &E,
    settings: &Settings,
    request: &Request<'_>,
) -> Answer {
    match lookup_session(fx, settings, request).await {
        SessionLookup::Live {
            session,
            set_cookies,
        } => http::session_status(Some(&status(&session))).with_cookies(set_cookies),
        // Signed in, with the past `accessExpiresAt` (the page can say "reconnecting").
        SessionLookup::Reconnecting { session, .. } => {
            http::session_status(Some(&status(&session)))
        }
        SessionLookup::SignedOut { set_cookies } => {
            http::session_status(None).with_cookies(set_cookies)
        }
    }
}

/// What `/session` shows of a live session: never a token.
fn status(session: &Session) -> http::SessionStatus<'_> {
    http::SessionStatus::new(
        session.tokens.access_expires_at,
        // A session that cannot be refreshed has no refresh expiry to show.
        session
            .refreshable
            .then_some(session.tokens.refresh_expires_at),
        session.user.as_ref(),
    )
}

/// The token pair id of this request's session cookie, if it opens and has one.
pub(super) async fn session_token_id<E: Effects>(
    fx: &E,
    settings: &Settings,
    request: &Request<'_>,
) -> Option<String> {
    let value = cookie_value(request.cookie, SESSION_COOKIE)?;
    open_session(fx, settings, value).await?.tokens.id
}

pub(super) async fn session_cookie<E: Effects>(
    fx: &E,
    settings: &Settings,
    session: &mut Session,
) -> Option<String> {
    let max_age = session_max_age(session, now_secs(fx), settings.session_max_age)?;
    let payload = encode_session_fitting(session, SESSION_COOKIE);
    let sealed = seal(fx, SESSION_COOKIE, &payload).await?;
    Some(set_cookie(SESSION_COOKIE, &sealed, max_age))
}
