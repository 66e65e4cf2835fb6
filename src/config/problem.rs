//! Why a setting's value is refused: [`ProblemReason`]. It describes the value's fault and
//! never carries the value.

use core::fmt;

use super::values::{
    MAX_SESSION_MAX_AGE, MAX_STATE_LEN, MAX_TIMEOUT_MS, MIN_REVOKE_KEY_LEN, MIN_SESSION_MAX_AGE,
    MIN_SESSION_SECRET_LEN,
};
use crate::base::url::UrlError;
use crate::config::grants::GrantError;

/// The ways a setting can be wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemReason {
    /// Not set, or set to an empty string.
    Missing,
    /// Set, but to a value of the wrong type (npm options only).
    WrongType(&'static str),
    /// A getter (or Proxy trap) that threw when read (npm options only).
    Unreadable,
    /// Starts or ends with whitespace (easy to paste by mistake, so refused, not trimmed).
    SurroundingWhitespace,
    /// Has a control character.
    ControlCharacter,
    /// A client id with `:`, which Basic authentication cannot carry.
    ColonInClientId,
    /// Not an acceptable URL.
    Url(UrlError),
    /// An `http://` URL on a host other than `localhost` or `127.0.0.1`.
    HttpNotLoopback,
    /// A redirect URI with a `#fragment`, which OAuth forbids.
    Fragment,
    /// A redirect URI that already has a `state` query parameter while the state binding
    /// adds one: Freedom ID would return two and the check could never pass.
    StateInRedirectUri,
    /// The grants list is empty or has a malformed grant.
    Grants(GrantError),
    /// A timeout that is not a whole number of milliseconds from 1 to [`MAX_TIMEOUT_MS`].
    Timeout,
    /// `FREEDOM_ID_STATE` other than `on` or `off`.
    StateSwitch,
    /// A session secret (or one of its two space-separated keys) shorter than
    /// [`MIN_SESSION_SECRET_LEN`] characters, or more than two keys.
    SessionSecret,
    /// `FREEDOM_ID_AFTER_SIGN_IN` that is not a path on this site.
    LocalPath,
    /// `FREEDOM_ID_REDIRECT_URI` on another origin than the Worker serves, with the state
    /// binding on: the browser would not send the flow cookie there.
    RedirectUriOrigin,
    /// `FREEDOM_ID_PROTECT` with a prefix that is not a plain path on this site.
    ProtectPrefix,
    /// `FREEDOM_ID_PROTECT` set while `FREEDOM_ID_STATE=off`: there is no session to check.
    ProtectWithoutSession,
    /// `FREEDOM_ID_APP_ORIGIN` with a path, query or fragment (an origin only).
    NotAnOrigin,
    /// `FREEDOM_ID_LOG` other than `off`, `errors` or `all`.
    LogLevel,
    /// A `state` value that is empty or longer than [`MAX_STATE_LEN`] bytes.
    StateValue,
    /// `FREEDOM_ID_SESSION_MAX_AGE` that is not a whole number of seconds from
    /// [`MIN_SESSION_MAX_AGE`] to [`MAX_SESSION_MAX_AGE`].
    SessionMaxAge,
    /// `FREEDOM_ID_GATE_CSRF` other than `on` or `off`.
    GateCsrfSwitch,
    /// `FREEDOM_ID_REVOKE_KEY` shorter than [`MIN_REVOKE_KEY_LEN`] characters, or with
    /// whitespace or control characters.
    RevokeKey,
    /// `FREEDOM_ID_PROTOCOL` other than `oauth2` or `oidc`.
    Protocol,
    /// `FREEDOM_ID_GRANTS` without `openid` in the `oidc` flavour.
    OidcNeedsOpenid,
    /// `FREEDOM_ID_STATE=off` in the `oidc` flavour, which always carries a state.
    OidcNeedsState,
    /// `FREEDOM_ID_REVOKE_KEY` unset while the `FREEDOM_ID_REVOCATIONS` binding is there:
    /// Freedom ID's sign-out calls cannot be told from anyone else's.
    RevokeKeyRequired,
    /// `FREEDOM_ID_ASSERTION_KEY` that is not a P-256 private key as a JWK with a plain
    /// `kid`, nor a non-empty JSON array of them with distinct `kid`s.
    AssertionKey,
    /// `FREEDOM_ID_ASSERTION_AUDIENCE` that is empty, longer than 256 bytes, or has
    /// whitespace or control characters.
    AssertionAudience,
    /// `FREEDOM_ID_FORWARD_ACCESS_TOKEN` other than `on` or `off`.
    ForwardAccessTokenSwitch,
    /// A `FREEDOM_ID_ALLOW` rule (its position, from 1) that is no user id, email address,
    /// `@domain` or `+phone`.
    AllowRule {
        /// The rule's position, from 1 (never its text: it may be personal data).
        rule: usize,
    },
}

impl fmt::Display for ProblemReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProblemReason::Missing => f.write_str("is missing"),
            ProblemReason::WrongType(expected) => write!(f, "must be {expected}"),
            ProblemReason::Unreadable => f.write_str("could not be read"),
            ProblemReason::SurroundingWhitespace => f.write_str("starts or ends with whitespace"),
            ProblemReason::ControlCharacter => f.write_str("contains a control character"),
            ProblemReason::ColonInClientId => f.write_str("contains ':'"),
            ProblemReason::Url(error) => error.fmt(f),
            ProblemReason::HttpNotLoopback => {
                f.write_str("uses http://, which is only allowed for localhost and 127.0.0.1")
            }
            ProblemReason::Fragment => f.write_str("has a #fragment"),
            ProblemReason::StateInRedirectUri => f.write_str(
                "already has a `state` query parameter, which the state binding adds itself",
            ),
            ProblemReason::Grants(error) => error.fmt(f),
            ProblemReason::StateSwitch => f.write_str("must be `on` or `off`"),
            ProblemReason::SessionSecret => write!(
                f,
                "must be one key of at least {MIN_SESSION_SECRET_LEN} characters, or two separated by a space (the first seals, both open)"
            ),
            ProblemReason::LocalPath => f.write_str(
                "must be a path on this site: one leading `/`, no `//` or `/\\`, no whitespace or control characters, at most 1 KiB",
            ),
            ProblemReason::ProtectPrefix => f.write_str(
                "must be path prefixes on this site separated by spaces (`/app /api/private`), or `/`",
            ),
            ProblemReason::ProtectWithoutSession => f.write_str(
                "needs FREEDOM_ID_STATE on: the gate checks the session the Worker keeps",
            ),
            ProblemReason::LogLevel => f.write_str("must be `off`, `errors` or `all`"),
            ProblemReason::NotAnOrigin => {
                f.write_str("must be an origin only, e.g. https://origin.example.com")
            }
            ProblemReason::RedirectUriOrigin => f.write_str(
                "must be on the origin this Worker serves while FREEDOM_ID_STATE is on (the browser sends the flow cookie only there)",
            ),
            ProblemReason::StateValue => write!(
                f,
                "must be a non-empty string of at most {MAX_STATE_LEN} bytes without control characters"
            ),
            ProblemReason::Timeout => write!(
                f,
                "must be a whole number of milliseconds from 1 to {MAX_TIMEOUT_MS}"
            ),
            ProblemReason::SessionMaxAge => write!(
                f,
                "must be a whole number of seconds from {MIN_SESSION_MAX_AGE} to {MAX_SESSION_MAX_AGE}"
            ),
            ProblemReason::GateCsrfSwitch => f.write_str("must be `on` or `off`"),
            ProblemReason::RevokeKey => write!(
                f,
                "must be at least {MIN_REVOKE_KEY_LEN} characters without whitespace or control characters"
            ),
            ProblemReason::Protocol => f.write_str("must be `oauth2` or `oidc`"),
            // Named for both drivers: the Worker's FREEDOM_ID_PROTOCOL and npm's `protocol`.
            ProblemReason::OidcNeedsOpenid => {
                f.write_str("must contain `openid` in the OpenID Connect flavour (protocol `oidc`)")
            }
            ProblemReason::OidcNeedsState => f.write_str(
                "cannot be switched off in the OpenID Connect flavour (protocol `oidc`), which always sends a state",
            ),
            ProblemReason::RevokeKeyRequired => f.write_str(
                "must be set while the FREEDOM_ID_REVOCATIONS binding is there: /revoke refuses every call without it",
            ),
            ProblemReason::AssertionKey => f.write_str(
                "must be a P-256 private key as a JWK (kty EC, crv P-256, x, y, d, kid) or a JSON array of such keys with distinct kids (`node scripts/assertion-key.mjs` makes one)",
            ),
            ProblemReason::AssertionAudience => f.write_str(
                "must be one value of at most 256 characters without spaces or control characters",
            ),
            ProblemReason::ForwardAccessTokenSwitch => f.write_str("must be `on` or `off`"),
            ProblemReason::AllowRule { rule } => write!(
                f,
                "rule {rule} is not a user id (UUID), an email address, an @domain or a +phone number in international form"
            ),
        }
    }
}

impl std::error::Error for ProblemReason {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ProblemReason::Url(error) => Some(error),
            ProblemReason::Grants(error) => Some(error),
            _ => None,
        }
    }
}
