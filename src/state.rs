//! Login-CSRF binding. Freedom ID's authorize API has no `state` parameter, so nothing ties
//! a sign-in to the browser that started it: an attacker could send a victim to our callback
//! with the attacker's own `authorization_code`. So `/login` makes a random state, adds it
//! to the `redirect_uri` sent to Freedom ID (which returns it untouched, as it does any
//! query in `redirect_uri`), and keeps a copy in a `__Host-` cookie; `/callback` accepts
//! the return only when both agree.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// The cookie holding the state. `__Host-`: Secure, `Path=/`, no `Domain`, so no sibling
/// subdomain can plant or read it.
pub const STATE_COOKIE: &str = "__Host-freedom_id_state";
/// The query parameter carrying the state.
pub const STATE_PARAM: &str = "state";
/// How many random bytes a state has (256 bits).
pub const STATE_BYTES: usize = 32;
/// The longest a state cookie lives, in seconds.
pub const MAX_STATE_AGE: u64 = 600;

/// The state for `random` bytes: URL-safe base64 without padding.
pub fn encode_state(random: &[u8; STATE_BYTES]) -> String {
    URL_SAFE_NO_PAD.encode(random)
}

/// `redirect_uri` with `state=<state>` appended, keeping any query it already has.
pub fn redirect_uri_with_state(redirect_uri: &str, state: &str) -> String {
    crate::url::append_query_param(redirect_uri, STATE_PARAM, state)
}

/// The `Set-Cookie` value that binds `state` to this browser until the link expires
/// (`expire_at`, unix seconds), and never longer than [`MAX_STATE_AGE`].
pub fn set_state_cookie(state: &str, expire_at: Option<u64>, now_secs: u64) -> String {
    let max_age = expire_at
        .map(|expire_at| expire_at.saturating_sub(now_secs))
        .filter(|seconds| *seconds > 0)
        .map_or(MAX_STATE_AGE, |seconds| seconds.min(MAX_STATE_AGE));
    format!("{STATE_COOKIE}={state}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age={max_age}")
}

/// The `Set-Cookie` value that removes the state cookie.
pub fn clear_state_cookie() -> String {
    format!("{STATE_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0")
}

/// The value of cookie `name` in a `Cookie` request header.
pub fn cookie_value<'a>(cookie_header: Option<&'a str>, name: &str) -> Option<&'a str> {
    cookie_header?.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key.trim() == name).then(|| value.trim())
    })
}

/// Whether the returned state equals the cookie's, compared in constant time so the
/// comparison leaks no prefix length. Both must be present and non-empty.
pub fn states_match(returned: Option<&str>, cookie: Option<&str>) -> bool {
    match (returned, cookie) {
        (Some(returned), Some(cookie))
            if !returned.is_empty() && returned.len() == cookie.len() =>
        {
            let difference = returned
                .bytes()
                .zip(cookie.bytes())
                .fold(0_u8, |acc, (a, b)| acc | (a ^ b));
            difference == 0
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_url_safe_and_carry_256_bits() {
        let state = encode_state(&[0xfb; STATE_BYTES]);
        assert_eq!(state.len(), 43);
        assert!(
            state
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{state}"
        );
        assert_ne!(
            encode_state(&[0; STATE_BYTES]),
            encode_state(&[1; STATE_BYTES])
        );
    }

    #[test]
    fn state_is_appended_to_the_redirect_uri() {
        let cases = [
            (
                "https://app.kz/callback",
                "https://app.kz/callback?state=abc-_",
            ),
            (
                "https://app.kz/callback?lang=kk",
                "https://app.kz/callback?lang=kk&state=abc-_",
            ),
        ];
        for (uri, expected) in cases {
            assert_eq!(redirect_uri_with_state(uri, "abc-_"), expected);
        }
    }

    #[test]
    fn cookie_lives_until_the_link_expires_and_at_most_ten_minutes() {
        let now = 1_700_000_000;
        let cases = [
            (Some(now + 120), 120),
            (Some(now + 3600), 600),
            (Some(now - 5), 600),
            (Some(now), 600),
            (None, 600),
        ];
        for (expire_at, max_age) in cases {
            assert_eq!(
                set_state_cookie("s", expire_at, now),
                format!("__Host-freedom_id_state=s; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age={max_age}"),
                "{expire_at:?}"
            );
        }
        assert!(clear_state_cookie().ends_with("Max-Age=0"));
        assert!(clear_state_cookie().starts_with("__Host-freedom_id_state=;"));
    }

    #[test]
    fn reads_the_cookie_among_others() {
        let header = Some("theme=dark; __Host-freedom_id_state=abc ;other=1");
        assert_eq!(cookie_value(header, STATE_COOKIE), Some("abc"));
        assert_eq!(cookie_value(Some("freedom_id_state=x"), STATE_COOKIE), None);
        assert_eq!(cookie_value(None, STATE_COOKIE), None);
    }

    #[test]
    fn states_match_only_when_equal_and_present() {
        assert!(states_match(Some("abc"), Some("abc")));
        for (returned, cookie) in [
            (Some("abc"), Some("abd")),
            (Some("abc"), Some("abcd")),
            (Some("abc"), None),
            (None, Some("abc")),
            (None, None),
            (Some(""), Some("")),
        ] {
            assert!(!states_match(returned, cookie), "{returned:?} {cookie:?}");
        }
    }
}
