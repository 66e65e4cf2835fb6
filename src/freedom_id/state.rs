//! Login-CSRF binding. Freedom ID's authorize API has no `state` parameter, so nothing ties
//! a sign-in to the browser that started it: an attacker could send a victim to our callback
//! with the attacker's own `authorization_code`. So each sign-in gets a random state, added
//! to the `redirect_uri` sent to Freedom ID (which returns it untouched, as it does any query
//! in `redirect_uri`); the Worker keeps a copy in a sealed flow cookie (`session.rs`), the npm
//! package hands it to the app; the callback is accepted only when both agree
//! (`callback.rs`).

use crate::config::values::STATE_PARAM;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use crate::base::secret::CsrfState;

/// How many random bytes a state has (256 bits).
pub const STATE_BYTES: usize = 32;

/// The state for `random` bytes: URL-safe base64 without padding.
pub fn encode_state(random: &[u8; STATE_BYTES]) -> String {
    URL_SAFE_NO_PAD.encode(random)
}

/// A state made from `random` bytes (from the runtime's CSPRNG).
pub fn new_state(random: &[u8; STATE_BYTES]) -> CsrfState {
    CsrfState::new(encode_state(random))
}

/// `redirect_uri` with `state=<state>` appended, keeping any query it already has.
pub fn redirect_uri_with_state(redirect_uri: &str, state: &str) -> String {
    crate::base::url::append_query_param(redirect_uri, STATE_PARAM, state)
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
}
