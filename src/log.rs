//! Sign-in events as one JSON line each, for Workers Logs and `wrangler tail`:
//! `{"event":"sign_in_failed","code":"UPSTREAM_TIMEOUT","upstream_status":null,"elapsed_ms":5003,"request_id":"8f7a…-DME"}`.
//! A line names what happened and never a secret, token, code, state, cookie value, IP
//! address or user data: the fields are fixed, and the only value from outside is the
//! token pair's id, cut to its first [`TOKEN_ID_PREFIX_CHARS`] characters.

use serde::Serialize;

use crate::base::json;
pub use crate::config::values::LogLevel;
use crate::error::ErrorCode;

/// How much of a token pair's id a line shows.
pub const TOKEN_ID_PREFIX_CHARS: usize = 8;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventName {
    /// `/login` redirected to Freedom ID.
    SignInStarted,
    /// `/callback` kept a new session.
    SignInCompleted,
    /// A sign-in step failed (`/login`, `/callback`, or a session route misconfigured).
    SignInFailed,
    /// A session was refreshed.
    SessionRefreshed,
    /// A refresh failed (refused, or an outage: the session is kept then).
    RefreshFailed,
    /// `/logout` ended a session.
    SignedOut,
    /// A guarded request had no live session.
    GateDenied,
    /// The site behind the gate did not answer.
    GateFailed,
    /// Freedom ID's back channel signed a token pair out.
    Revoked,
    /// A back-channel sign-out could not be recorded.
    RevokeFailed,
    /// `/login` past the rate limit.
    RateLimited,
    /// The rate limiter failed (sign-in allowed).
    RateLimiterUnavailable,
    /// The revocations store failed (sessions kept).
    RevocationsUnavailable,
}

impl EventName {
    /// The name in the line.
    pub fn as_str(self) -> &'static str {
        match self {
            EventName::SignInStarted => "sign_in_started",
            EventName::SignInCompleted => "sign_in_completed",
            EventName::SignInFailed => "sign_in_failed",
            EventName::SessionRefreshed => "session_refreshed",
            EventName::RefreshFailed => "refresh_failed",
            EventName::SignedOut => "signed_out",
            EventName::GateDenied => "gate_denied",
            EventName::GateFailed => "gate_failed",
            EventName::Revoked => "revoked",
            EventName::RevokeFailed => "revoke_failed",
            EventName::RateLimited => "rate_limited",
            EventName::RateLimiterUnavailable => "rate_limiter_unavailable",
            EventName::RevocationsUnavailable => "revocations_unavailable",
        }
    }

    /// Whether `FREEDOM_ID_LOG=errors` logs it.
    pub fn is_failure(self) -> bool {
        !matches!(
            self,
            EventName::SignInStarted
                | EventName::SignInCompleted
                | EventName::SessionRefreshed
                | EventName::SignedOut
                | EventName::GateDenied
                | EventName::Revoked
        )
    }
}

/// One event and its fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// What happened.
    pub name: EventName,
    /// The error code, for failures.
    pub code: Option<ErrorCode>,
    /// Freedom ID's (or the site's) HTTP status, when an answer arrived.
    pub upstream_status: Option<u16>,
    /// How long the step took.
    pub elapsed_ms: Option<u64>,
    /// The first characters of the token pair's id, where one is known.
    pub token_id: Option<String>,
    /// For `MISCONFIGURED`: the names (never the values) of the bad settings.
    pub problems: Vec<&'static str>,
}

impl Event {
    /// An event with no fields yet.
    pub fn new(name: EventName) -> Event {
        Event {
            name,
            code: None,
            upstream_status: None,
            elapsed_ms: None,
            token_id: None,
            problems: Vec::new(),
        }
    }

    /// With `code`.
    pub fn code(mut self, code: ErrorCode) -> Event {
        self.code = Some(code);
        self
    }

    /// With the upstream status, if any.
    pub fn upstream_status(mut self, status: Option<u16>) -> Event {
        self.upstream_status = status;
        self
    }

    /// With the time since `started_ms` at `now_ms`.
    pub fn elapsed(mut self, started_ms: f64, now_ms: f64) -> Event {
        // Whole milliseconds through integer formatting: float formatting costs wasm bytes.
        self.elapsed_ms = Some((now_ms - started_ms).max(0.0).round() as u64);
        self
    }

    /// With the token pair's id, cut to [`TOKEN_ID_PREFIX_CHARS`].
    pub fn token_id(mut self, id: Option<&str>) -> Event {
        self.token_id = id.map(|id| id.chars().take(TOKEN_ID_PREFIX_CHARS).collect());
        self
    }

    /// Whether `level` logs this event.
    pub fn logged_at(&self, level: LogLevel) -> bool {
        match level {
            LogLevel::Off => false,
            LogLevel::Errors => self.name.is_failure(),
            LogLevel::All => true,
        }
    }

    /// The JSON line. `request_id` is the `cf-ray` header or a random id.
    pub fn line(&self, request_id: &str) -> String {
        json::to_string(&EventLine {
            event: self.name.as_str(),
            code: self.code.map(ErrorCode::as_str),
            upstream_status: self.upstream_status,
            elapsed_ms: self.elapsed_ms,
            request_id,
            token_id: self.token_id.as_deref(),
            problems: &self.problems,
        })
    }
}

/// One event line's fields, in this order; `upstream_status` is always there (`null` when
/// no answer came), the others only when known.
#[derive(Serialize)]
struct EventLine<'a> {
    event: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
    upstream_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    elapsed_ms: Option<u64>,
    request_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_id: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    problems: &'a [&'static str],
}

/// A request id from `cf-ray` when it is plain (letters, digits, `-`, at most 64), else
/// `None` (the driver then makes a random one).
pub fn request_id_from_ray(ray: Option<&str>) -> Option<&str> {
    ray.filter(|ray| {
        !ray.is_empty()
            && ray.len() <= 64
            && ray.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_json_with_fixed_fields() {
        let line = Event::new(EventName::SignInFailed)
            .code(ErrorCode::UpstreamStatus)
            .upstream_status(Some(503))
            .elapsed(1000.0, 1041.6)
            .line("8f7a1b2c3d4e5f60-DME");
        assert_eq!(
            line,
            r#"{"event":"sign_in_failed","code":"UPSTREAM_STATUS","upstream_status":503,"elapsed_ms":42,"request_id":"8f7a1b2c3d4e5f60-DME"}"#
        );
        let completed = Event::new(EventName::SignInCompleted)
            .token_id(Some("8a1c9b0e-1f2d-4c3b-9a8e-7d6c5b4a3f2e"))
            .line("r1");
        let value: serde_json::Value = serde_json::from_str(&completed).unwrap();
        assert_eq!(value["token_id"], "8a1c9b0e");
        assert_eq!(value["upstream_status"], serde_json::Value::Null);
    }

    #[test]
    fn levels() {
        let failure = Event::new(EventName::RefreshFailed);
        let success = Event::new(EventName::SessionRefreshed);
        assert!(!failure.logged_at(LogLevel::Off) && !success.logged_at(LogLevel::Off));
        assert!(failure.logged_at(LogLevel::Errors) && !success.logged_at(LogLevel::Errors));
        assert!(failure.logged_at(LogLevel::All) && success.logged_at(LogLevel::All));
        assert_eq!(LogLevel::parse(""), Some(LogLevel::Errors));
        assert_eq!(LogLevel::parse("ALL"), None);
    }

    #[test]
    fn only_plain_ray_ids_are_used() {
        assert_eq!(request_id_from_ray(Some("8f7a-DME")), Some("8f7a-DME"));
        for bad in [None, Some(""), Some("a\"b"), Some("a b")] {
            assert_eq!(request_id_from_ray(bad), None, "{bad:?}");
        }
    }
}
