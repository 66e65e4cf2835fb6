//! The client credentials, and the Basic header made from them.
//!
//! The secret and the header print `[redacted]` in `Debug` and have no `Display` nor
//! `PartialEq`, so neither can slip into a log line, an error or a comparison by accident.

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

/// An `Authorization: Basic base64(client_id:client_secret)` header value.
#[derive(Clone)]
pub struct BasicAuthorization(String);

impl BasicAuthorization {
    /// Builds the header value as Freedom ID documents it: the pair as given, not
    /// form-encoded first.
    pub fn new(client_id: &ClientId, client_secret: &ClientSecret) -> BasicAuthorization {
        let pair = format!("{}:{}", client_id.as_str(), client_secret.secret());
        BasicAuthorization(format!("Basic {}", STANDARD.encode(pair)))
    }

    /// The header value, to hand to the HTTP client and nowhere else.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for BasicAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BasicAuthorization([redacted])")
    }
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
            let header = BasicAuthorization::new(&ClientId::new(id), &ClientSecret::new(secret));
            assert_eq!(header.secret(), expected);
        }
    }

    #[test]
    fn debug_output_is_redacted() {
        let secret = ClientSecret::new("hunter2");
        let header = BasicAuthorization::new(&ClientId::new("id"), &secret);
        let shown = format!("{secret:?} {header:?}");
        assert_eq!(
            shown,
            "ClientSecret([redacted]) BasicAuthorization([redacted])"
        );
    }
}
