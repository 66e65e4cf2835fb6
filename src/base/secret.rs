//! The secrets this crate handles: client credentials, the `Authorization` header made from
//! them, codes, tokens, the login-CSRF state, the session-sealing secret and the key of
//! Freedom ID's back-channel sign-out.
//!
//! Each prints `[redacted]` in `Debug` and has no `Display` nor `PartialEq`, so none can slip
//! into a log line, an error or a timing-leaky comparison by accident.

use core::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// The client id issued by Freedom ID: the Basic user. Not secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientId(String);

impl ClientId {
    /// Wraps an already validated client id.
    pub(crate) fn new(value: &str) -> ClientId {
        ClientId(value.to_owned())
    }

    /// The client id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The client secret issued by Freedom ID: the Basic password.
#[derive(Clone)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// Wraps an already validated client secret.
    pub(crate) fn new(value: &str) -> ClientSecret {
        ClientSecret(value.to_owned())
    }

    /// The secret itself. Only the Basic header should ever need it.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret([redacted])")
    }
}

/// An `Authorization` header value for Freedom ID: `Basic` (client credentials) or
/// `Bearer` (a refresh token).
#[derive(Clone)]
pub struct AuthorizationHeader(String);

impl AuthorizationHeader {
    /// `Basic base64(client_id:client_secret)`, as Freedom ID documents it: the pair as given,
    /// not form-encoded first.
    pub fn basic(client_id: &ClientId, client_secret: &ClientSecret) -> AuthorizationHeader {
        let pair = format!("{}:{}", client_id.as_str(), client_secret.secret());
        AuthorizationHeader(format!("Basic {}", STANDARD.encode(pair)))
    }

    /// `Bearer <refresh token>`, for the refresh call.
    pub fn bearer(token: &RefreshToken) -> AuthorizationHeader {
        AuthorizationHeader(format!("Bearer {}", token.secret()))
    }

    /// `Bearer <access token>`, for the user-info call.
    pub fn bearer_access(token: &AccessToken) -> AuthorizationHeader {
        AuthorizationHeader(format!("Bearer {}", token.secret()))
    }

    /// The header value, to hand to the HTTP client and nowhere else.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AuthorizationHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthorizationHeader([redacted])")
    }
}

/// Declares a secret string newtype: `Debug` prints `Name([redacted])`, there is no
/// `Display` and no `PartialEq` (compare with [`constant_time_eq`] where a comparison is
/// needed), and the value comes out only through `secret()`.
macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(String);

        impl $name {
            /// Wraps a value.
            pub fn new(value: impl Into<String>) -> $name {
                $name(value.into())
            }

            /// The value itself, for the one place that must send or store it.
            pub fn secret(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

secret_type!(
    /// The one-time `authorization_code` Freedom ID appends to the redirect URI.
    AuthorizationCode
);
secret_type!(
    /// An access token: what the app sends to Freedom ID's APIs on the user's behalf.
    AccessToken
);
secret_type!(
    /// A refresh token: trades for a new token pair once, then is used up.
    RefreshToken
);
secret_type!(
    /// The login-CSRF `state`: 256 random bits that tie a sign-in to the browser that began it.
    CsrfState
);
secret_type!(
    /// A session-sealing secret (`FREEDOM_ID_SESSION_SECRET`, one of its keys).
    SessionSecret
);
secret_type!(
    /// The key Freedom ID's back-channel sign-out must carry (`FREEDOM_ID_REVOKE_KEY`), as the
    /// `key` query parameter of the registered `revoke_uri`.
    RevokeKey
);

/// Whether `a` and `b` are equal, in time that depends only on their lengths (no prefix leak).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0_u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_known_answers() {
        // RFC 7617's own example, and the provider's sample header for an empty pair.
        let cases = [
            (
                "Aladdin",
                "open sesame",
                "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
            ),
            ("", "", "Basic Og=="),
        ];
        for (id, secret, expected) in cases {
            let header = AuthorizationHeader::basic(&ClientId::new(id), &ClientSecret::new(secret));
            assert_eq!(header.secret(), expected);
        }
    }

    #[test]
    fn debug_output_is_redacted() {
        let secret = ClientSecret::new("hunter2");
        let header = AuthorizationHeader::basic(&ClientId::new("id"), &secret);
        let shown = format!("{secret:?} {header:?}");
        assert_eq!(
            shown,
            "ClientSecret([redacted]) AuthorizationHeader([redacted])"
        );
        let refresh = RefreshToken::new("r-token");
        let shown = format!(
            "{:?} {:?} {:?} {:?} {:?} {:?}",
            AuthorizationCode::new("c0de"),
            AccessToken::new("a-token"),
            refresh,
            CsrfState::new("st4te"),
            SessionSecret::new("k3y"),
            AuthorizationHeader::bearer(&refresh)
        );
        let shown = format!("{shown} {:?}", RevokeKey::new("r3voke"));
        for value in ["c0de", "a-token", "r-token", "st4te", "k3y", "r3voke"] {
            assert!(!shown.contains(value), "{shown}");
        }
        assert!(shown.starts_with("AuthorizationCode([redacted]) AccessToken([redacted])"));
    }

    #[test]
    fn bearer_header_and_constant_time_comparison() {
        let header = AuthorizationHeader::bearer(&RefreshToken::new("abc"));
        assert_eq!(header.secret(), "Bearer abc");
        assert!(constant_time_eq("abc", "abc"));
        for other in ["abd", "ab", "abcd", ""] {
            assert!(!constant_time_eq("abc", other), "{other}");
        }
    }
}
