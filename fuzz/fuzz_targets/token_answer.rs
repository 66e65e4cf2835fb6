//! Whatever the token endpoint answers, reading it never panics; a token pair is only ever
//! accepted from a 2xx JSON object without an `error`, with header-safe tokens and valid UTC
//! expiry times; and a refusal never echoes anything but a short plain code. The ISO-8601
//! reader and the callback URL reader get the same bytes too. The answer is read by the
//! serde types (`TokenAnswer`, `ErrorAnswer` through `SerdeJson`), checked against
//! serde_json's own `Value`.
//!
//! Input: the first two bytes are the HTTP status (big-endian), the rest is the body.
#![no_main]

mod serde_reference;

use freedom_id_edge::base::secret::{AccessToken, CsrfState, RefreshToken};
use freedom_id_edge::base::time::parse_utc_instant;
use freedom_id_edge::error::Error;
use freedom_id_edge::freedom_id::callback::{check_callback, CallbackParams, ExpectedState};
use freedom_id_edge::freedom_id::token::{
    is_token_text, parse_token_answer, plain_code, TokenCall, Tokens,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (status, body) = match data {
        [high, low, body @ ..] => (u16::from_be_bytes([*high, *low]), body),
        _ => (0, data),
    };
    let Ok(text) = std::str::from_utf8(body) else {
        return;
    };
    for call in [TokenCall::Exchange, TokenCall::Refresh] {
        match parse_token_answer(call, status, text) {
            Ok(tokens) => {
                assert!((200..300).contains(&status), "tokens from HTTP {status}");
                assert!(is_token_text(tokens.access_token.secret()));
                assert!(is_token_text(tokens.refresh_token.secret()));
                // Accepted answers are JSON for serde_json's Value too (unless it refuses only
                // what a skipped member may hold).
                if let Some(value) = serde_reference::reference(text) {
                    assert_eq!(value["access_token"], tokens.access_token.secret());
                    assert_eq!(value["refresh_token"], tokens.refresh_token.secret());
                    assert!(value.get("error").is_none_or(serde_json::Value::is_null));
                }
                // Debug never depends on the tokens: the same pair with other tokens prints the
                // same. (A plain "does not contain" fails on a token such as "A", which the
                // redacted text itself contains.)
                let other = Tokens {
                    access_token: AccessToken::new("other-access"),
                    refresh_token: RefreshToken::new("other-refresh"),
                    ..tokens.clone()
                };
                assert_eq!(format!("{tokens:?}"), format!("{other:?}"));
            }
            Err(
                Error::CodeRejected { upstream_code, .. }
                | Error::RefreshRejected { upstream_code, .. },
            ) => {
                if let Some(code) = upstream_code {
                    assert!(plain_code(&code), "{code:?}");
                }
            }
            Err(_) => {}
        }
    }
    if let Some(unix) = parse_utc_instant(text) {
        assert!(text.len() >= 20 && text.is_ascii(), "{text:?}");
        assert!(unix < 253_402_300_800, "{text:?}");
    }
    if let Ok(params) = CallbackParams::from_url(text) {
        let expected = CsrfState::new("fuzz-expected-state");
        let decided = check_callback(&params, ExpectedState::Value(&expected));
        let state_matches =
            params.state.as_ref().map(|s| s.secret()) == Some("fuzz-expected-state");
        if !state_matches {
            assert!(matches!(decided, Err(Error::StateMismatch)), "{text:?}");
        }
        if let Some(code) = params.error_code {
            assert!(plain_code(&code) || code == "unrecognised", "{code:?}");
        }
    }
});
