//! `POST /logout`: only from this site; records the session as signed out where revocations
//! are kept, clears the cookies, and lands on the start page (or, with `?then=login`, on a
//! new sign-in).

use crate::base::cookies::{clear_cookie, names_with_prefix};
use crate::config::settings::Settings;
use crate::error::ErrorCode;
use crate::log::{Event, EventName};
use crate::session::{DEAD_COOKIE, FLOW_COOKIE_PREFIX, SESSION_COOKIE};
use crate::web::{self as http, problem, Answer, Message};

use super::session::session_token_id;
use super::*;

/// `POST /logout`, only from this site: `Origin` is this origin, or (without `Origin`, or
/// with `Origin: null`) `Sec-Fetch-Site: same-origin`. With the revocations binding the
/// session's token pair is recorded as signed out, so a copy of the cookie elsewhere is
/// signed out too; without it, sign-out is per browser.
pub(super) async fn logout<E: Effects>(
    fx: &E,
    settings: &Settings,
    request: &Request<'_>,
) -> Answer {
    if !from_this_site(request, false) {
        return problem(
            ErrorCode::CrossSiteRequest,
            &Message::new("detail.cross_site"),
            &request.client(),
        );
    }
    if let Some(token_id) = session_token_id(fx, settings, request).await {
        if fx.revoke(&token_id, settings.session_max_age).await == Revocation::Failed {
            // The browser is still signed out; only a copy of its cookie may live on.
            emit(
                fx,
                request,
                Event::new(EventName::RevokeFailed).code(ErrorCode::RevocationUnavailable),
            );
        }
    }
    emit(fx, request, Event::new(EventName::SignedOut));
    let flows = names_with_prefix(request.cookie, FLOW_COOKIE_PREFIX);
    let cookies = [SESSION_COOKIE, DEAD_COOKIE]
        .into_iter()
        .chain(flows)
        .map(clear_cookie);
    http::see_other(&after_logout(request)).with_cookies(cookies)
}

/// Where a sign-out lands: the start page; or, for `?then=login` ("Sign in with another
/// account" on the `ACCESS_DENIED` page), a new sign-in that comes back to `return_to` when
/// that is a path on this site.
fn after_logout(request: &Request<'_>) -> String {
    if request.query_param("then").as_deref() != Some("login") {
        return "/".to_owned();
    }
    match request
        .query_param("return_to")
        .as_deref()
        .and_then(crate::base::return_to::local_path)
    {
        Some(path) => crate::base::url::append_query_param("/login", "return_to", path),
        None => "/login".to_owned(),
    }
}
