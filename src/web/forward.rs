//! The Worker as a sign-in gate in front of an existing site: which paths are guarded, where
//! a guarded request goes, and which headers the site receives. Pure rules; `flow.rs` decides
//! with them and the driver forwards the request.
//!
//! The site learns who it talks to from headers only the Worker sets: the signed
//! `X-Freedom-ID-Assertion` (with `FREEDOM_ID_ASSERTION_KEY`, see [`crate::web::assertion`]),
//! `X-Freedom-ID-Token-Id`, `X-Freedom-ID-User-Id`, `X-Freedom-ID-Access-Expires-At`, and
//! `X-Freedom-ID-Access-Token` only with `FREEDOM_ID_FORWARD_ACCESS_TOKEN=on`. Every
//! `X-Freedom-ID-*` header a client sends is removed first, and the Worker's own cookies
//! never reach the site.

use crate::base::cookies::pairs;
use crate::base::url::AbsoluteUrl;
use crate::freedom_id::token::Tokens;
use crate::freedom_id::user::User;
use crate::session::{DEAD_COOKIE, FLOW_COOKIE_PREFIX, SESSION_COOKIE};

/// The prefix of every identity header; a client's own are always removed.
pub const IDENTITY_HEADER_PREFIX: &str = "x-freedom-id-";
/// The access token, for the site to call Freedom ID's APIs on the user's behalf.
pub const ACCESS_TOKEN_HEADER: &str = "X-Freedom-ID-Access-Token";
/// Freedom ID's id of the token pair (absent from older answers).
pub const TOKEN_ID_HEADER: &str = "X-Freedom-ID-Token-Id";
/// When the access token expires, in unix seconds.
pub const ACCESS_EXPIRES_HEADER: &str = "X-Freedom-ID-Access-Expires-At";
/// The user's id, when the sign-in learned it (the OIDC flavour, or the user-info call).
pub const USER_ID_HEADER: &str = "X-Freedom-ID-User-Id";

/// Where a guarded request goes: `FREEDOM_ID_APP_ORIGIN` with the request's path and query,
/// or, without it, the request's own URL (on a Workers route, the site behind it).
pub fn forward_url(app_origin: Option<&AbsoluteUrl>, request_url: &AbsoluteUrl) -> String {
    match app_origin {
        Some(origin) => format!("{}{}", origin.origin(), request_url.path_and_query()),
        None => request_url.as_str().to_owned(),
    }
}

/// The `Cookie` header the site receives: the request's, without the Worker's own cookies;
/// `None` when nothing is left.
pub fn forwarded_cookie(cookie_header: Option<&str>) -> Option<String> {
    let kept: Vec<String> = pairs(cookie_header)
        .filter(|(name, _)| {
            *name != SESSION_COOKIE && *name != DEAD_COOKIE && !name.starts_with(FLOW_COOKIE_PREFIX)
        })
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    (!kept.is_empty()).then(|| kept.join("; "))
}

/// Whether a request header must not reach the site as the client sent it: any case, and
/// `_` read as `-` (CGI, WSGI and Rack fold both into one name, so
/// `X_Freedom_ID_Access_Token` would arrive as ours).
pub fn is_identity_header(name: &str) -> bool {
    let folded = |b: u8| {
        if b == b'_' {
            b'-'
        } else {
            b.to_ascii_lowercase()
        }
    };
    name.len() >= IDENTITY_HEADER_PREFIX.len()
        && name
            .bytes()
            .zip(IDENTITY_HEADER_PREFIX.bytes())
            .all(|(have, want)| folded(have) == want)
}

/// The `Cache-Control` a forwarded answer gets when the Worker adds a session cookie to it.
pub const PRIVATE_NO_STORE: &str = "private, no-store";

/// Whether `method` may change something (anything but `GET`, `HEAD` and `OPTIONS`).
pub fn is_write(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS")
}

/// The identity headers for a live session: the token pair's id, the user's id when known,
/// the access token's expiry, and the access token itself only when `with_access_token`
/// (`FREEDOM_ID_FORWARD_ACCESS_TOKEN=on`: a site that only needs to know who the user is
/// should not hold a token that acts as them).
pub fn identity_headers(
    tokens: &Tokens,
    user: Option<&User>,
    with_access_token: bool,
) -> Vec<(&'static str, String)> {
    let mut headers = Vec::with_capacity(5);
    if with_access_token {
        headers.push((ACCESS_TOKEN_HEADER, tokens.access_token.secret().to_owned()));
    }
    if let Some(id) = &tokens.id {
        headers.push((TOKEN_ID_HEADER, id.clone()));
    }
    if let Some(user) = user {
        headers.push((USER_ID_HEADER, user.id.clone()));
    }
    headers.push((ACCESS_EXPIRES_HEADER, tokens.access_expires_at.to_string()));
    headers
}

/// Whether a request without a session should be sent to sign in (a browser: `Accept`
/// prefers HTML, or a `GET` navigation) rather than answered `401`.
pub fn is_browser_navigation(
    method: &str,
    accept: Option<&str>,
    sec_fetch_mode: Option<&str>,
) -> bool {
    crate::web::prefers_html(accept) || (method == "GET" && sec_fetch_mode == Some("navigate"))
}

/// `/login?return_to=<path and query>` for a guarded request.
pub fn login_location(request_url: &AbsoluteUrl) -> String {
    crate::base::url::append_query_param("/login", "return_to", &request_url.path_and_query())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::secret::{AccessToken, RefreshToken};

    #[test]
    fn where_guarded_requests_go() {
        let request = AbsoluteUrl::parse("https://site.kz/app/x?y=1").unwrap();
        assert_eq!(forward_url(None, &request), "https://site.kz/app/x?y=1");
        let origin = AbsoluteUrl::parse("https://origin.example.com").unwrap();
        assert_eq!(
            forward_url(Some(&origin), &request),
            "https://origin.example.com/app/x?y=1"
        );
        assert_eq!(
            login_location(&request),
            "/login?return_to=%2Fapp%2Fx%3Fy%3D1"
        );
    }

    #[test]
    fn the_site_never_sees_our_cookies_or_a_client_s_identity_headers() {
        let header = Some("a=1; __Host-freedom_id_session=S; __Host-freedom_id_flow_abc=F; __Host-freedom_id_dead=D; b=2");
        assert_eq!(forwarded_cookie(header).as_deref(), Some("a=1; b=2"));
        assert_eq!(forwarded_cookie(Some("__Host-freedom_id_session=S")), None);
        assert!(is_identity_header("X-Freedom-ID-Access-Token"));
        assert!(is_identity_header("x-freedom-id-anything"));
        for folded in [
            "X_Freedom_ID_Access_Token",
            "x-freedom-id_token-id",
            "X_FREEDOM_ID_",
            "x-Freedom_Id-User-Id",
        ] {
            assert!(is_identity_header(folded), "{folded}");
        }
        assert!(!is_identity_header("x-freedom"));
        assert!(!is_identity_header("x-freedom-idx"));
        assert!(!is_identity_header("x.freedom.id.token"));
        assert!(is_write("POST") && is_write("DELETE") && is_write("PATCH"));
        assert!(!is_write("GET") && !is_write("HEAD") && !is_write("OPTIONS"));
        let tokens = Tokens {
            id: Some("id-1".into()),
            access_token: AccessToken::new("AT"),
            refresh_token: RefreshToken::new("RT"),
            access_expires_at: 1_700_000_000,
            refresh_expires_at: 1_800_000_000,
        };
        assert_eq!(
            identity_headers(&tokens, None, false),
            [
                (TOKEN_ID_HEADER, "id-1".to_owned()),
                (ACCESS_EXPIRES_HEADER, "1700000000".to_owned())
            ],
            "the access token only with the opt-in"
        );
        assert_eq!(
            identity_headers(&tokens, None, true),
            [
                (ACCESS_TOKEN_HEADER, "AT".to_owned()),
                (TOKEN_ID_HEADER, "id-1".to_owned()),
                (ACCESS_EXPIRES_HEADER, "1700000000".to_owned())
            ]
        );
        let user = User {
            id: "41790bb3".into(),
            email: Some("aida@example.com".into()),
            ..User::default()
        };
        let headers = identity_headers(&tokens, Some(&user), true);
        assert!(headers.contains(&(USER_ID_HEADER, "41790bb3".to_owned())));
        assert!(
            !headers.iter().any(|(_, value)| value.contains("aida")),
            "only the id reaches a header"
        );
    }

    #[test]
    fn browsers_are_sent_to_sign_in_and_api_callers_are_not() {
        assert!(is_browser_navigation(
            "GET",
            Some("text/html,*/*;q=0.8"),
            None
        ));
        assert!(is_browser_navigation("GET", None, Some("navigate")));
        assert!(!is_browser_navigation("POST", None, Some("navigate")));
        assert!(!is_browser_navigation(
            "GET",
            Some("application/json"),
            Some("cors")
        ));
        assert!(!is_browser_navigation("GET", Some("*/*"), None));
    }
}
