//! Freedom ID's token endpoint as plain data: the exchange and refresh requests to send, and
//! the rules for reading their answers. No I/O here; the drivers move the bytes.
//!
//! ```text
//! POST  {token_url}  Authorization: Basic base64(client_id:client_secret)
//!                    {"authorization_code": "..."}
//! PATCH {token_url}  Authorization: Bearer <refresh_token>          (no body)
//!
//! 200 {"id": "<uuid>", "access_token": "...", "refresh_token": "...",
//!      "access_expire_at": "2025-03-04T06:35:50.000000Z", "refresh_expire_at": "..."}
//! 4xx, or even 200: {"error": {"message": "...", "code": 100101}}
//! ```
//! A refresh answer carries a new refresh token: the old one is used up from then on.

use serde::{Deserialize, Serialize};

use crate::base::json::{self, JsonEngine, JsonError, Leaf, Member, Number, SerdeJson};
use crate::base::secret::{
    AccessToken, AuthorizationCode, AuthorizationHeader, ClientId, ClientSecret, RefreshToken,
};
use crate::base::time::parse_utc_instant;
use crate::base::url::AbsoluteUrl;
use crate::error::{Error, Malformed};
use crate::freedom_id::upstream::{BodyRule, Method, Reply, UpstreamRequest};

/// The longest token accepted (Freedom ID's are 128 characters).
pub const MAX_TOKEN_LEN: usize = 4096;
/// The longest token-pair `id` accepted (Freedom ID's are UUIDs).
pub const MAX_ID_LEN: usize = 256;

/// A token pair from Freedom ID. The tokens are secret types: their `Debug` is redacted.
#[derive(Clone, Debug)]
pub struct Tokens {
    /// Freedom ID's id for this token pair (the back-channel sign-out names it); older
    /// answers have none.
    pub id: Option<String>,
    /// The access token.
    pub access_token: AccessToken,
    /// The refresh token (used up once spent).
    pub refresh_token: RefreshToken,
    /// When the access token expires, in unix seconds.
    pub access_expires_at: u64,
    /// When the refresh token expires, in unix seconds.
    pub refresh_expires_at: u64,
}

/// Which token call an answer belongs to: it decides the error a refusal becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenCall {
    /// The authorization code exchange: a refusal is [`Error::CodeRejected`].
    Exchange,
    /// The refresh: a refusal is [`Error::RefreshRejected`].
    Refresh,
}

/// The exchange call's body: `{"authorization_code": "..."}`.
#[derive(Serialize)]
struct ExchangeBody<'a> {
    authorization_code: &'a str,
}

/// A token answer's members we read, each leniently: the core's rules judge them.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TokenAnswer {
    /// Freedom ID's `{"error": {...}}`: any value but `null` is a refusal.
    pub error: Member<ErrorMember>,
    /// The token pair's id.
    pub id: Member<String>,
    /// The access token.
    pub access_token: Member<String>,
    /// The refresh token.
    pub refresh_token: Member<String>,
    /// When the access token expires (ISO-8601, UTC).
    pub access_expire_at: Member<String>,
    /// When the refresh token expires (ISO-8601, UTC).
    pub refresh_expire_at: Member<String>,
}

/// What an error answer's body holds, as far as we read it: `{"error": {"code": ...}}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ErrorAnswer {
    /// The `error` member.
    pub error: Member<ErrorMember>,
}

/// The `error` member: any value, of which an object's `code` is read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorMember {
    /// Its `code`, when it is an object with one.
    pub code: Member<ErrorCodeText>,
}

impl Leaf for ErrorMember {
    fn from_str(_: &str) -> Option<ErrorMember> {
        Some(ErrorMember::default())
    }
    fn from_number(_: Number) -> Option<ErrorMember> {
        Some(ErrorMember::default())
    }
    fn from_bool(_: bool) -> Option<ErrorMember> {
        Some(ErrorMember::default())
    }
    /// The object's `code`; a `code` given twice is no code (it is still a refusal), as a
    /// derived type would instead fail the whole answer and turn a refusal into an outage.
    fn from_map<'de, A: serde::de::MapAccess<'de>>(
        mut map: A,
    ) -> Result<Option<ErrorMember>, A::Error> {
        let mut code = Member::Absent;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key != "code" {
                map.next_value::<serde::de::IgnoredAny>()?;
            } else if code == Member::Absent {
                code = map.next_value()?;
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
                code = Member::Other;
            }
        }
        Ok(Some(ErrorMember { code }))
    }
    fn from_seq<'de, A: serde::de::SeqAccess<'de>>(
        mut seq: A,
    ) -> Result<Option<ErrorMember>, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Some(ErrorMember::default()))
    }
}

/// Freedom ID's error `code`: a number (written back in decimal) or a string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorCodeText(pub String);

impl Leaf for ErrorCodeText {
    fn from_str(text: &str) -> Option<ErrorCodeText> {
        Some(ErrorCodeText(text.to_owned()))
    }
    fn from_number(number: Number) -> Option<ErrorCodeText> {
        Some(ErrorCodeText(match number {
            Number::Unsigned(value) => value.to_string(),
            Number::Signed(value) => value.to_string(),
            Number::Float(value) => value.to_string(),
        }))
    }
}

/// The exchange request: `POST` with the Basic header and `{"authorization_code": code}`.
pub fn exchange_request(
    token_url: &AbsoluteUrl,
    client_id: &ClientId,
    client_secret: &ClientSecret,
    code: &AuthorizationCode,
) -> UpstreamRequest {
    let body = json::to_string(&ExchangeBody {
        authorization_code: code.secret(),
    });
    UpstreamRequest {
        method: Method::Post,
        url: token_url.as_str().to_owned(),
        authorization: Some(AuthorizationHeader::basic(client_id, client_secret)),
        body: Some(body),
        body_rule: BodyRule::SuccessAndClientError,
    }
}

/// The refresh request: `PATCH` with `Bearer <refresh token>` and no body.
pub fn refresh_request(token_url: &AbsoluteUrl, refresh_token: &RefreshToken) -> UpstreamRequest {
    UpstreamRequest {
        method: Method::Patch,
        url: token_url.as_str().to_owned(),
        authorization: Some(AuthorizationHeader::bearer(refresh_token)),
        body: None,
        body_rule: BodyRule::SuccessAndClientError,
    }
}

/// Whether `text` can be a token: 1 to [`MAX_TOKEN_LEN`] visible ASCII characters, none of
/// which could end a header value, a cookie or a JSON string early.
pub fn is_token_text(text: &str) -> bool {
    is_plain_text(text, MAX_TOKEN_LEN)
}

/// Whether `text` can be a token pair's `id`: 1 to [`MAX_ID_LEN`] header-safe characters.
pub fn is_token_id(text: &str) -> bool {
    is_plain_text(text, MAX_ID_LEN)
}

fn is_plain_text(text: &str, max: usize) -> bool {
    !text.is_empty()
        && text.len() <= max
        && text
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\\' | b',' | b';'))
}

/// Reads what a token call brought back, its body decoded by `json`: a failure as it is; a
/// 2xx with tokens; a 2xx with an `error` member or a 4xx as the call's refusal; any other
/// status as [`Error::UpstreamStatus`].
pub fn read_token_reply(
    call: TokenCall,
    reply: &Reply,
    json: &impl JsonEngine,
) -> Result<Tokens, Error> {
    let body = reply.body.as_ref().map_err(Clone::clone)?;
    let status = reply.status.unwrap_or(0);
    if (400..500).contains(&status) {
        // The body only says why; an unreadable one is still a refusal.
        let answer: Option<ErrorAnswer> = json.decode(body).ok();
        return Err(refusal_for(
            call,
            status,
            answer.and_then(|a| a.error.into_value()),
        ));
    }
    if !(200..300).contains(&status) {
        return Err(Error::UpstreamStatus { status });
    }
    check_token_answer(call, status, json.decode(body))
}

/// Whether a refresh's reply settles it (new tokens, or a refusal), so that it may be shared
/// with every request carrying the same sealed cookie. An outage or an answer that cannot be
/// read never is: the next request tries again.
pub fn is_definite_refresh(reply: &Reply, json: &impl JsonEngine) -> bool {
    matches!(
        read_token_reply(TokenCall::Refresh, reply, json),
        Ok(_) | Err(Error::RefreshRejected { .. })
    )
}

/// Reads a token answer with `status` and `body`, with `serde_json`.
pub fn parse_token_answer(call: TokenCall, status: u16, body: &str) -> Result<Tokens, Error> {
    read_token_reply(call, &Reply::answered(status, body), &SerdeJson)
}

/// Judges a decoded 2xx token answer: an `error` member is the call's refusal; the tokens
/// must be token text, the `id` (when given) header-safe, the expiry times ISO-8601 UTC.
pub fn check_token_answer(
    call: TokenCall,
    status: u16,
    answer: Result<TokenAnswer, JsonError>,
) -> Result<Tokens, Error> {
    let answer = answer.map_err(|error| {
        Error::UpstreamMalformed(match error {
            // Today's reading of a repeated token: no usable pair.
            JsonError::Duplicate => Malformed::BadTokens,
            _ => Malformed::NotJson,
        })
    })?;
    // Freedom ID documents errors under HTTP 200 too.
    if answer.error.is_present() {
        return Err(refusal_for(call, status, answer.error.into_value()));
    }
    let token = |member: Member<String>| member.into_value().filter(|text| is_token_text(text));
    let (Some(access), Some(refresh)) = (token(answer.access_token), token(answer.refresh_token))
    else {
        return Err(Error::UpstreamMalformed(Malformed::BadTokens));
    };
    let id = match answer.id {
        Member::Absent | Member::Null => None,
        Member::Value(text) if is_plain_text(&text, MAX_ID_LEN) => Some(text),
        _ => return Err(Error::UpstreamMalformed(Malformed::BadTokens)),
    };
    let instant = |member: &Member<String>| member.value().and_then(|text| parse_utc_instant(text));
    let (Some(access_expires_at), Some(refresh_expires_at)) = (
        instant(&answer.access_expire_at),
        instant(&answer.refresh_expire_at),
    ) else {
        return Err(Error::UpstreamMalformed(Malformed::BadExpiry));
    };
    Ok(Tokens {
        id,
        access_token: AccessToken::new(access),
        refresh_token: RefreshToken::new(refresh),
        access_expires_at,
        refresh_expires_at,
    })
}

/// The call's refusal, with the `code` of its `error` member when that is plain; anything
/// else is left out rather than echoed.
pub fn refusal_for(call: TokenCall, status: u16, error: Option<ErrorMember>) -> Error {
    let upstream_code = error
        .and_then(|error| error.code.into_value())
        .map(|code| code.0)
        .filter(|text| plain_code(text));
    match call {
        TokenCall::Exchange => Error::CodeRejected {
            status,
            upstream_code,
        },
        TokenCall::Refresh => Error::RefreshRejected {
            status,
            upstream_code,
        },
    }
}

/// Whether `text` is a short code safe to show: 1 to 32 ASCII letters, digits, `-`, `_`, `.`.
pub fn plain_code(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 32
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: &str = r#"{"id":"8a1c9b0e-1f2d-4c3b-9a8e-7d6c5b4a3f2e","access_token":"AAAA","refresh_token":"RRRR","access_expire_at":"2025-03-04T06:35:50.000000Z","refresh_expire_at":"2025-03-25T06:35:50.000000Z"}"#;

    fn url() -> AbsoluteUrl {
        AbsoluteUrl::parse(crate::config::values::DEFAULT_TOKEN_URL).unwrap()
    }

    #[test]
    fn only_tokens_or_a_refusal_settle_a_shared_refresh() {
        let good = r#"{"access_token":"A","refresh_token":"R","access_expire_at":"2024-10-02T10:52:21.000000Z","refresh_expire_at":"2024-10-25T10:52:21.000000Z"}"#;
        assert!(is_definite_refresh(&Reply::answered(200, good), &SerdeJson));
        assert!(is_definite_refresh(&Reply::answered(401, ""), &SerdeJson));
        assert!(is_definite_refresh(
            &Reply::answered(200, r#"{"error":{"message":"no","code":1}}"#),
            &SerdeJson
        ));
        for unsettled in [
            Reply::answered(200, "not json"),
            Reply::answered(200, r#"{"access_token":"A"}"#),
            Reply::answered(500, good),
            Reply::answered(302, ""),
            Reply::failed(None, Error::UpstreamNetwork),
            Reply::failed(Some(200), Error::UpstreamTimeout { timeout_ms: 5 }),
        ] {
            assert!(
                !is_definite_refresh(&unsettled, &SerdeJson),
                "{unsettled:?}"
            );
        }
    }

    #[test]
    fn builds_the_exact_documented_requests() {
        let code = AuthorizationCode::new("c0de\"x");
        let request = exchange_request(
            &url(),
            &ClientId::new("demo-client"),
            &ClientSecret::new("top-secret-value"),
            &code,
        );
        assert_eq!(request.method, Method::Post);
        assert_eq!(request.url, crate::config::values::DEFAULT_TOKEN_URL);
        assert_eq!(
            request.body.as_deref(),
            Some(r#"{"authorization_code":"c0de\"x"}"#)
        );
        assert_eq!(
            request.headers(),
            [
                (
                    "Authorization",
                    "Basic ZGVtby1jbGllbnQ6dG9wLXNlY3JldC12YWx1ZQ=="
                ),
                ("Accept", "application/json"),
                ("Accept-Encoding", "identity"),
                ("Content-Type", "application/json"),
            ]
        );
        let shown = format!("{request:?}");
        assert!(
            !shown.contains("c0de") && !shown.contains("ZGVtby1j"),
            "{shown}"
        );

        let refresh = refresh_request(&url(), &RefreshToken::new("RRRR"));
        assert_eq!(refresh.method, Method::Patch);
        assert_eq!(refresh.body, None);
        assert_eq!(
            refresh.headers(),
            [
                ("Authorization", "Bearer RRRR"),
                ("Accept", "application/json"),
                ("Accept-Encoding", "identity"),
            ]
        );
        assert!(!format!("{refresh:?}").contains("RRRR"));
    }

    #[test]
    fn reads_the_providers_sample_answer() {
        for call in [TokenCall::Exchange, TokenCall::Refresh] {
            let tokens = parse_token_answer(call, 200, ANSWER).unwrap();
            assert_eq!(
                tokens.id.as_deref(),
                Some("8a1c9b0e-1f2d-4c3b-9a8e-7d6c5b4a3f2e")
            );
            assert_eq!(tokens.access_token.secret(), "AAAA");
            assert_eq!(tokens.refresh_token.secret(), "RRRR");
            assert_eq!(tokens.access_expires_at, 1_741_070_150);
            assert_eq!(tokens.refresh_expires_at, 1_742_884_550);
            let shown = format!("{tokens:?}");
            assert!(
                !shown.contains("AAAA") && !shown.contains("RRRR"),
                "{shown}"
            );
        }
        let older = ANSWER.replace("\"id\":\"8a1c9b0e-1f2d-4c3b-9a8e-7d6c5b4a3f2e\",", "");
        assert_eq!(
            parse_token_answer(TokenCall::Exchange, 200, &older)
                .unwrap()
                .id,
            None
        );
    }

    #[test]
    fn refusals_carry_the_status_and_a_plain_upstream_code() {
        let cases = [
            (
                400,
                r#"{"error":{"message":"Invalid authorization_code.","code":100101}}"#,
                Some("100101"),
            ),
            (
                200,
                r#"{"error":{"message":"Invalid authorization_code.","code":100101}}"#,
                Some("100101"),
            ),
            (
                401,
                r#"{"error":{"message":"x","code":"100103"}}"#,
                Some("100103"),
            ),
            (
                422,
                r#"{"error":{"message":"Error validating transmitted data.","errors":{"authorization_code":["required"]}}}"#,
                None,
            ),
            (400, "<html>nope</html>", None),
            (403, "", None),
            (
                400,
                r#"{"error":{"code":"<script>alert(1)</script>"}}"#,
                None,
            ),
            (400, r#"{"error":{"code":{"nested":1}}}"#, None),
            (200, r#"{"error":"plain"}"#, None),
        ];
        for (status, body, code) in cases {
            let expected_code = code.map(str::to_owned);
            assert_eq!(
                parse_token_answer(TokenCall::Exchange, status, body).unwrap_err(),
                Error::CodeRejected {
                    status,
                    upstream_code: expected_code.clone()
                },
                "{status} {body}"
            );
            assert_eq!(
                parse_token_answer(TokenCall::Refresh, status, body).unwrap_err(),
                Error::RefreshRejected {
                    status,
                    upstream_code: expected_code
                },
                "{status} {body}"
            );
        }
    }

    #[test]
    fn other_statuses_are_upstream_status() {
        for status in [0, 101, 301, 302, 500, 503, 599] {
            assert_eq!(
                parse_token_answer(TokenCall::Exchange, status, ANSWER).unwrap_err(),
                Error::UpstreamStatus { status },
                "{status}"
            );
        }
    }

    #[test]
    fn unusable_answers_are_malformed() {
        let malformed =
            |body: &str| parse_token_answer(TokenCall::Exchange, 200, body).unwrap_err();
        let not_json = Error::UpstreamMalformed(Malformed::NotJson);
        let bad_tokens = Error::UpstreamMalformed(Malformed::BadTokens);
        let bad_expiry = Error::UpstreamMalformed(Malformed::BadExpiry);
        let cases = [
            ("<html></html>".to_owned(), not_json.clone()),
            ("[]".to_owned(), not_json.clone()),
            (
                ANSWER.replace("\"access_token\":\"AAAA\",", ""),
                bad_tokens.clone(),
            ),
            (ANSWER.replace("\"AAAA\"", "\"\""), bad_tokens.clone()),
            (ANSWER.replace("\"AAAA\"", "\"A A\""), bad_tokens.clone()),
            (ANSWER.replace("\"AAAA\"", "\"A;B\""), bad_tokens.clone()),
            (ANSWER.replace("\"AAAA\"", "\"A\\nB\""), bad_tokens.clone()),
            (ANSWER.replace("\"AAAA\"", "\"Ä\""), bad_tokens.clone()),
            (ANSWER.replace("\"AAAA\"", "42"), bad_tokens.clone()),
            (
                ANSWER.replace(
                    "\"RRRR\"",
                    &format!("\"{}\"", "R".repeat(MAX_TOKEN_LEN + 1)),
                ),
                bad_tokens.clone(),
            ),
            (
                ANSWER.replace("{\"id\"", "{\"access_token\":\"B\",\"id\""),
                bad_tokens.clone(),
            ),
            (
                ANSWER.replace("\"8a1c9b0e-1f2d-4c3b-9a8e-7d6c5b4a3f2e\"", "7"),
                bad_tokens.clone(),
            ),
            (
                ANSWER.replace("2025-03-04T06:35:50.000000Z", "2025-02-30T25:00:00Z"),
                bad_expiry.clone(),
            ),
            (
                ANSWER.replace("\"2025-03-25T06:35:50.000000Z\"", "1742884550"),
                bad_expiry.clone(),
            ),
            (
                ANSWER.replace(",\"refresh_expire_at\":\"2025-03-25T06:35:50.000000Z\"", ""),
                bad_expiry,
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(malformed(&body), expected, "{body}");
        }
        assert!(parse_token_answer(
            TokenCall::Exchange,
            200,
            &ANSWER.replace("\"AAAA\"", &format!("\"{}\"", "A".repeat(MAX_TOKEN_LEN)))
        )
        .is_ok());
    }

    #[test]
    fn failures_before_an_answer_pass_through() {
        let reply = Reply::failed(None, Error::UpstreamTimeout { timeout_ms: 5 });
        assert_eq!(
            read_token_reply(TokenCall::Refresh, &reply, &SerdeJson).unwrap_err(),
            Error::UpstreamTimeout { timeout_ms: 5 }
        );
        let ok = Reply::answered(200, ANSWER);
        assert!(read_token_reply(TokenCall::Refresh, &ok, &SerdeJson).is_ok());
    }

    #[test]
    fn a_repeated_code_in_an_error_is_still_a_refusal_without_its_code() {
        for call in [TokenCall::Exchange, TokenCall::Refresh] {
            for status in [200, 400] {
                let refused = parse_token_answer(
                    call,
                    status,
                    r#"{"error":{"code":100101,"code":1,"message":"x"}}"#,
                )
                .unwrap_err();
                assert!(
                    matches!(
                        refused,
                        Error::CodeRejected {
                            upstream_code: None,
                            ..
                        } | Error::RefreshRejected {
                            upstream_code: None,
                            ..
                        }
                    ),
                    "{call:?} {status}: {refused:?}"
                );
            }
        }
    }
}
