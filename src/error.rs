//! The ways a sign-in can fail, their stable codes and their HTTP statuses.

use core::fmt;

use crate::config::settings::SettingsError;

/// The stable error codes shared by the Worker (in problem+json bodies) and the npm package
/// (as `error.code`). Other tools branch on these strings: never rename one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// A Worker setting is missing or invalid (checked before any upstream call).
    Misconfigured,
    /// An option passed to the npm package is missing or invalid.
    InvalidOptions,
    /// Freedom ID answered with a non-2xx status (3xx included), or a 2xx with an `error` member.
    UpstreamStatus,
    /// Freedom ID's answer is not JSON, has no string `redirect_uri`, or is over 64 KiB.
    UpstreamMalformed,
    /// The link Freedom ID returned fails the trust rule (see `authorize::trust_link`).
    UntrustedLink,
    /// The connection to Freedom ID failed (refused, reset, DNS).
    UpstreamNetwork,
    /// Freedom ID did not answer in full within the timeout.
    UpstreamTimeout,
    /// The Worker has no such route.
    NotFound,
    /// The route exists, but not for this HTTP method.
    MethodNotAllowed,
    /// A return to `/callback` whose `state` is missing or differs from the browser's cookie.
    StateMismatch,
    /// Too many sign-ins from this address: the rate limiter said no (no upstream call made).
    RateLimited,
    /// The token endpoint refused the authorization code (an `error` body, or a 4xx).
    CodeRejected,
    /// The token endpoint refused the refresh token: sign the user in again.
    RefreshRejected,
    /// The callback carries `error_code`: the user declined, or Freedom ID refused the sign-in.
    SignInDeclined,
    /// A state-changing request (`POST /logout`) that did not come from this site.
    CrossSiteRequest,
    /// A guarded path asked for without a live session, by a caller that is not a browser.
    SignInRequired,
    /// The site behind the gate could not be reached.
    AppUnreachable,
    /// A request body the route cannot read (`POST /revoke`).
    InvalidRequest,
    /// `POST /revoke` without the `FREEDOM_ID_REVOCATIONS` KV binding or without
    /// `FREEDOM_ID_REVOKE_KEY`.
    RevocationUnavailable,
    /// `POST /revoke` whose `key` query parameter is missing or not `FREEDOM_ID_REVOKE_KEY`.
    RevocationForbidden,
    /// The OIDC flavour's id_token failed a check (its form, `alg`, signature, `iss`, `aud`,
    /// `exp`, `iat`, `nonce` or `sub`), or a user-info `sub` is not its `sub`.
    IdTokenInvalid,
    /// Freedom ID's user-info call refused the access token (401 or 403).
    UserinfoRejected,
    /// A signed-in user whom `FREEDOM_ID_ALLOW` does not let through the gate.
    AccessDenied,
    /// npm `verifyGateAssertion`: the gate's assertion is missing, malformed, signed with
    /// another algorithm or an unknown key, forged, for another issuer or audience, expired,
    /// or issued in the future.
    AssertionInvalid,
}

impl ErrorCode {
    /// Every code.
    pub const ALL: [ErrorCode; 24] = [
        ErrorCode::Misconfigured,
        ErrorCode::InvalidOptions,
        ErrorCode::UpstreamStatus,
        ErrorCode::UpstreamMalformed,
        ErrorCode::UntrustedLink,
        ErrorCode::UpstreamNetwork,
        ErrorCode::UpstreamTimeout,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::StateMismatch,
        ErrorCode::RateLimited,
        ErrorCode::CodeRejected,
        ErrorCode::RefreshRejected,
        ErrorCode::SignInDeclined,
        ErrorCode::CrossSiteRequest,
        ErrorCode::SignInRequired,
        ErrorCode::AppUnreachable,
        ErrorCode::InvalidRequest,
        ErrorCode::RevocationUnavailable,
        ErrorCode::RevocationForbidden,
        ErrorCode::IdTokenInvalid,
        ErrorCode::UserinfoRejected,
        ErrorCode::AccessDenied,
        ErrorCode::AssertionInvalid,
    ];

    /// The key of the code's localized page title (`title.<CODE>`).
    pub fn title_key(self) -> &'static str {
        match self {
            ErrorCode::Misconfigured => "title.MISCONFIGURED",
            ErrorCode::InvalidOptions => "title.INVALID_OPTIONS",
            ErrorCode::UpstreamStatus => "title.UPSTREAM_STATUS",
            ErrorCode::UpstreamMalformed => "title.UPSTREAM_MALFORMED",
            ErrorCode::UntrustedLink => "title.UNTRUSTED_LINK",
            ErrorCode::UpstreamNetwork => "title.UPSTREAM_NETWORK",
            ErrorCode::UpstreamTimeout => "title.UPSTREAM_TIMEOUT",
            ErrorCode::NotFound => "title.NOT_FOUND",
            ErrorCode::MethodNotAllowed => "title.METHOD_NOT_ALLOWED",
            ErrorCode::StateMismatch => "title.STATE_MISMATCH",
            ErrorCode::RateLimited => "title.RATE_LIMITED",
            ErrorCode::CodeRejected => "title.CODE_REJECTED",
            ErrorCode::RefreshRejected => "title.REFRESH_REJECTED",
            ErrorCode::SignInDeclined => "title.SIGN_IN_DECLINED",
            ErrorCode::CrossSiteRequest => "title.CROSS_SITE_REQUEST",
            ErrorCode::SignInRequired => "title.SIGN_IN_REQUIRED",
            ErrorCode::AppUnreachable => "title.APP_UNREACHABLE",
            ErrorCode::InvalidRequest => "title.INVALID_REQUEST",
            ErrorCode::RevocationUnavailable => "title.REVOCATION_UNAVAILABLE",
            ErrorCode::RevocationForbidden => "title.REVOCATION_FORBIDDEN",
            ErrorCode::IdTokenInvalid => "title.ID_TOKEN_INVALID",
            ErrorCode::UserinfoRejected => "title.USERINFO_REJECTED",
            ErrorCode::AccessDenied => "title.ACCESS_DENIED",
            ErrorCode::AssertionInvalid => "title.ASSERTION_INVALID",
        }
    }

    /// The code as shown to users and programs, e.g. `UPSTREAM_TIMEOUT`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Misconfigured => "MISCONFIGURED",
            ErrorCode::InvalidOptions => "INVALID_OPTIONS",
            ErrorCode::UpstreamStatus => "UPSTREAM_STATUS",
            ErrorCode::UpstreamMalformed => "UPSTREAM_MALFORMED",
            ErrorCode::UntrustedLink => "UNTRUSTED_LINK",
            ErrorCode::UpstreamNetwork => "UPSTREAM_NETWORK",
            ErrorCode::UpstreamTimeout => "UPSTREAM_TIMEOUT",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ErrorCode::StateMismatch => "STATE_MISMATCH",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::CodeRejected => "CODE_REJECTED",
            ErrorCode::RefreshRejected => "REFRESH_REJECTED",
            ErrorCode::SignInDeclined => "SIGN_IN_DECLINED",
            ErrorCode::CrossSiteRequest => "CROSS_SITE_REQUEST",
            ErrorCode::SignInRequired => "SIGN_IN_REQUIRED",
            ErrorCode::AppUnreachable => "APP_UNREACHABLE",
            ErrorCode::InvalidRequest => "INVALID_REQUEST",
            ErrorCode::RevocationUnavailable => "REVOCATION_UNAVAILABLE",
            ErrorCode::RevocationForbidden => "REVOCATION_FORBIDDEN",
            ErrorCode::IdTokenInvalid => "ID_TOKEN_INVALID",
            ErrorCode::UserinfoRejected => "USERINFO_REJECTED",
            ErrorCode::AccessDenied => "ACCESS_DENIED",
            ErrorCode::AssertionInvalid => "ASSERTION_INVALID",
        }
    }

    /// The status the Worker answers with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::Misconfigured => 500,
            ErrorCode::InvalidOptions => 400,
            ErrorCode::UpstreamStatus
            | ErrorCode::UpstreamMalformed
            | ErrorCode::UntrustedLink
            | ErrorCode::UpstreamNetwork => 502,
            ErrorCode::UpstreamTimeout => 504,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::StateMismatch | ErrorCode::SignInDeclined | ErrorCode::CrossSiteRequest => {
                403
            }
            ErrorCode::RateLimited => 429,
            ErrorCode::CodeRejected | ErrorCode::InvalidRequest => 400,
            ErrorCode::RefreshRejected | ErrorCode::SignInRequired => 401,
            ErrorCode::AppUnreachable | ErrorCode::IdTokenInvalid | ErrorCode::UserinfoRejected => {
                502
            }
            ErrorCode::RevocationUnavailable => 501,
            ErrorCode::RevocationForbidden | ErrorCode::AccessDenied => 403,
            ErrorCode::AssertionInvalid => 401,
        }
    }

    /// A short human title (the problem+json `title`).
    pub fn title(self) -> &'static str {
        match self {
            ErrorCode::Misconfigured => "Sign-in is not configured correctly",
            ErrorCode::InvalidOptions => "Invalid options",
            ErrorCode::UpstreamStatus => "Freedom ID answered with an error",
            ErrorCode::UpstreamMalformed => "Freedom ID sent an answer we could not read",
            ErrorCode::UntrustedLink => "Freedom ID sent a link we do not trust",
            ErrorCode::UpstreamNetwork => "Freedom ID could not be reached",
            ErrorCode::UpstreamTimeout => "Freedom ID did not answer in time",
            ErrorCode::NotFound => "Not found",
            ErrorCode::MethodNotAllowed => "Method not allowed",
            ErrorCode::StateMismatch => "This sign-in was not started in this browser",
            ErrorCode::RateLimited => "Too many sign-in attempts",
            ErrorCode::CodeRejected => "Freedom ID did not accept this sign-in",
            ErrorCode::RefreshRejected => "The session has ended",
            ErrorCode::SignInDeclined => "Sign-in was cancelled",
            ErrorCode::CrossSiteRequest => "Request refused",
            ErrorCode::SignInRequired => "Sign-in required",
            ErrorCode::AppUnreachable => "The site could not be reached",
            ErrorCode::InvalidRequest => "Invalid request",
            ErrorCode::RevocationUnavailable => "Revocation is not set up",
            ErrorCode::RevocationForbidden => "Revocation refused",
            ErrorCode::IdTokenInvalid => "Freedom ID's identity token did not pass its checks",
            ErrorCode::UserinfoRejected => "Freedom ID did not share the user's profile",
            ErrorCode::AccessDenied => "This account may not open this site",
            ErrorCode::AssertionInvalid => "The gate's identity assertion did not pass its checks",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the answer was unreadable ([`ErrorCode::UpstreamMalformed`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Malformed {
    /// The body is over 64 KiB (by `Content-Length` or as read).
    TooLarge,
    /// The body is not UTF-8.
    NotUtf8,
    /// The body is not a JSON object.
    NotJson,
    /// The object has no `redirect_uri`, or it is not a string.
    NoRedirectUri,
    /// The object has a member the core reads twice (`redirect_uri`, `error`, a token):
    /// readers may disagree on which one counts.
    RepeatedMember,
    /// A token answer without usable tokens (missing, empty, or with characters no header
    /// can carry), or with a member given twice.
    BadTokens,
    /// A token answer whose expiry times are not valid UTC instants.
    BadExpiry,
    /// A user-info answer without a usable `id`, or with a member it reads twice.
    BadProfile,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Malformed::TooLarge => "the answer is larger than 64 KiB",
            Malformed::NotUtf8 => "the answer is not UTF-8 text",
            Malformed::NotJson => "the answer is not a JSON object",
            Malformed::NoRedirectUri => "the answer has no string redirect_uri",
            Malformed::RepeatedMember => "the answer has a member twice",
            Malformed::BadTokens => "the answer has no usable token pair",
            Malformed::BadExpiry => "the answer's expiry times are not valid UTC instants",
            Malformed::BadProfile => "the user-info answer has no usable id",
        })
    }
}

/// A failed step of a sign-in. Messages never include a secret, a code, a token or an
/// upstream body.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Settings are missing or invalid; no upstream call was made.
    Settings(SettingsError),
    /// Freedom ID answered `status` (not 2xx, or 2xx with an `error` member).
    UpstreamStatus {
        /// The HTTP status Freedom ID answered with.
        status: u16,
    },
    /// Freedom ID's answer could not be read.
    UpstreamMalformed(Malformed),
    /// The returned link is not on the authorize endpoint's origin, or is not a clean URL.
    UntrustedLink,
    /// The connection to Freedom ID failed.
    UpstreamNetwork,
    /// Freedom ID did not answer within the configured timeout.
    UpstreamTimeout {
        /// The timeout that ran out.
        timeout_ms: u32,
    },
    /// The token endpoint refused the authorization code.
    CodeRejected {
        /// The HTTP status of the refusal (200 when the error came in a 200 body).
        status: u16,
        /// Freedom ID's own error code, when it sent one (digits, letters, `-`, `_`, `.`).
        upstream_code: Option<String>,
    },
    /// The token endpoint refused the refresh token.
    RefreshRejected {
        /// The HTTP status of the refusal.
        status: u16,
        /// Freedom ID's own error code, when it sent one.
        upstream_code: Option<String>,
    },
    /// The callback's `state` is missing or is not the one this sign-in began with.
    StateMismatch,
    /// The callback carries `error_code` instead of a code.
    SignInDeclined {
        /// Freedom ID's `error_code` (only digits, letters, `-`, `_` and `.`, at most 32).
        error_code: String,
    },
    /// The callback carries neither `authorization_code` nor `error_code`.
    CallbackWithoutCode,
    /// The id_token failed a check; says which, never a value.
    IdTokenInvalid {
        /// What was wrong (`iss`, `aud`, `exp`, `signature`, ...).
        problem: &'static str,
    },
    /// The user-info call answered 401 or 403.
    UserinfoRejected {
        /// The HTTP status.
        status: u16,
    },
}

impl Error {
    /// The stable code. Settings errors are [`ErrorCode::Misconfigured`] here; the npm
    /// package reports them as [`ErrorCode::InvalidOptions`].
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Settings(_) => ErrorCode::Misconfigured,
            Error::UpstreamStatus { .. } => ErrorCode::UpstreamStatus,
            Error::UpstreamMalformed(_) => ErrorCode::UpstreamMalformed,
            Error::UntrustedLink => ErrorCode::UntrustedLink,
            Error::UpstreamNetwork => ErrorCode::UpstreamNetwork,
            Error::UpstreamTimeout { .. } => ErrorCode::UpstreamTimeout,
            Error::CodeRejected { .. } | Error::CallbackWithoutCode => ErrorCode::CodeRejected,
            Error::RefreshRejected { .. } => ErrorCode::RefreshRejected,
            Error::StateMismatch => ErrorCode::StateMismatch,
            Error::SignInDeclined { .. } => ErrorCode::SignInDeclined,
            Error::IdTokenInvalid { .. } => ErrorCode::IdTokenInvalid,
            Error::UserinfoRejected { .. } => ErrorCode::UserinfoRejected,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Settings(error) => write!(f, "invalid settings: {error}"),
            Error::UpstreamStatus { status } => {
                write!(f, "Freedom ID answered with HTTP {status}")
            }
            Error::UpstreamMalformed(why) => write!(f, "Freedom ID's answer is unusable: {why}"),
            Error::UntrustedLink => f.write_str(
                "Freedom ID's link is not on the authorize endpoint's origin or is not a clean URL",
            ),
            Error::UpstreamNetwork => f.write_str("could not connect to Freedom ID"),
            Error::UpstreamTimeout { timeout_ms } => {
                write!(f, "Freedom ID did not answer within {timeout_ms} ms")
            }
            Error::CodeRejected { status, .. } => write!(
                f,
                "Freedom ID refused the authorization code (HTTP {status}); sign the user in again"
            ),
            Error::RefreshRejected { status, .. } => write!(
                f,
                "Freedom ID refused the refresh token (HTTP {status}); sign the user in again"
            ),
            Error::StateMismatch => f.write_str(
                "the callback's state is missing or differs from the expected state; nothing was sent to Freedom ID",
            ),
            Error::SignInDeclined { error_code } => write!(
                f,
                "the sign-in was declined or refused by Freedom ID (error_code {error_code})"
            ),
            Error::CallbackWithoutCode => f.write_str(
                "the callback URL has neither authorization_code nor error_code",
            ),
            Error::IdTokenInvalid { problem } => {
                write!(f, "Freedom ID's id_token failed its `{problem}` check")
            }
            Error::UserinfoRejected { status } => write!(
                f,
                "Freedom ID's user-info call refused the access token (HTTP {status})"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Settings(error) => Some(error),
            Error::UpstreamMalformed(why) => Some(why),
            _ => None,
        }
    }
}

impl std::error::Error for Malformed {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses_match_the_published_table() {
        let table = [
            (ErrorCode::Misconfigured, "MISCONFIGURED", 500),
            (ErrorCode::InvalidOptions, "INVALID_OPTIONS", 400),
            (ErrorCode::UpstreamStatus, "UPSTREAM_STATUS", 502),
            (ErrorCode::UpstreamMalformed, "UPSTREAM_MALFORMED", 502),
            (ErrorCode::UntrustedLink, "UNTRUSTED_LINK", 502),
            (ErrorCode::UpstreamNetwork, "UPSTREAM_NETWORK", 502),
            (ErrorCode::UpstreamTimeout, "UPSTREAM_TIMEOUT", 504),
            (ErrorCode::NotFound, "NOT_FOUND", 404),
            (ErrorCode::MethodNotAllowed, "METHOD_NOT_ALLOWED", 405),
            (ErrorCode::StateMismatch, "STATE_MISMATCH", 403),
            (ErrorCode::RateLimited, "RATE_LIMITED", 429),
            (ErrorCode::CodeRejected, "CODE_REJECTED", 400),
            (ErrorCode::RefreshRejected, "REFRESH_REJECTED", 401),
            (ErrorCode::SignInDeclined, "SIGN_IN_DECLINED", 403),
            (ErrorCode::CrossSiteRequest, "CROSS_SITE_REQUEST", 403),
            (ErrorCode::SignInRequired, "SIGN_IN_REQUIRED", 401),
            (ErrorCode::AppUnreachable, "APP_UNREACHABLE", 502),
            (ErrorCode::InvalidRequest, "INVALID_REQUEST", 400),
            (
                ErrorCode::RevocationUnavailable,
                "REVOCATION_UNAVAILABLE",
                501,
            ),
            (ErrorCode::RevocationForbidden, "REVOCATION_FORBIDDEN", 403),
            (ErrorCode::IdTokenInvalid, "ID_TOKEN_INVALID", 502),
            (ErrorCode::UserinfoRejected, "USERINFO_REJECTED", 502),
            (ErrorCode::AccessDenied, "ACCESS_DENIED", 403),
            (ErrorCode::AssertionInvalid, "ASSERTION_INVALID", 401),
        ];
        assert_eq!(
            table.len(),
            ErrorCode::ALL.len(),
            "every code is in the table"
        );
        for (code, text, status) in table {
            assert_eq!((code.as_str(), code.http_status()), (text, status));
        }
    }

    #[test]
    fn each_error_has_its_code() {
        let cases = [
            (
                Error::UpstreamStatus { status: 401 },
                ErrorCode::UpstreamStatus,
            ),
            (
                Error::UpstreamMalformed(Malformed::NotJson),
                ErrorCode::UpstreamMalformed,
            ),
            (Error::UntrustedLink, ErrorCode::UntrustedLink),
            (Error::UpstreamNetwork, ErrorCode::UpstreamNetwork),
            (
                Error::UpstreamTimeout { timeout_ms: 10 },
                ErrorCode::UpstreamTimeout,
            ),
        ];
        for (error, code) in cases {
            assert_eq!(error.code(), code, "{error}");
        }
        let rejected = Error::CodeRejected {
            status: 400,
            upstream_code: Some("100101".into()),
        };
        assert_eq!(rejected.code(), ErrorCode::CodeRejected);
        assert_eq!(Error::StateMismatch.code(), ErrorCode::StateMismatch);
    }
}
