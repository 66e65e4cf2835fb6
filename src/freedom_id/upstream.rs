//! One HTTP call to Freedom ID, as plain data: the request the core wants sent, and the
//! reply the driver hands back. The drivers (`fetch.rs`) move bytes only; the rules that
//! every call shares live here: no redirect is followed, at most [`MAX_BODY_BYTES`] of
//! decoded body is read (the driver stops reading there, [`body_text`] checks it again), the
//! timeout covers the whole answer, and the body is asked for uncompressed.

use crate::base::secret::AuthorizationHeader;
use crate::error::{Error, Malformed};

/// The most body read from Freedom ID, counted after any decompression; anything longer is
/// [`Malformed::TooLarge`].
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The HTTP methods Freedom ID's endpoints use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Method {
    /// The user-info call and the key set.
    Get,
    /// Authorize and token exchange.
    Post,
    /// Token refresh.
    Patch,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
        }
    }
}

/// Which answers' bodies the core reads. The others are decided by their status alone, so
/// their bodies are cancelled unread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodyRule {
    /// 2xx only (the authorize call).
    Success,
    /// 2xx and 4xx (the token calls: a 4xx body says why a code or token was refused).
    SuccessAndClientError,
}

impl BodyRule {
    /// The rule as the driver's helper reads it: bit `n` set when the `n00`-`n99` answers'
    /// bodies are read (the same answers as [`BodyRule::reads`]).
    pub fn status_classes(self) -> u32 {
        match self {
            BodyRule::Success => 1 << 2,
            BodyRule::SuccessAndClientError => (1 << 2) | (1 << 4),
        }
    }

    /// Whether an answer with `status` has its body read.
    pub fn reads(self, status: u16) -> bool {
        match self {
            BodyRule::Success => (200..300).contains(&status),
            BodyRule::SuccessAndClientError => {
                (200..300).contains(&status) || (400..500).contains(&status)
            }
        }
    }
}

/// A request to send. Its `Debug` shows the `Authorization` header as `[redacted]`; the
/// body may hold a code, so it is redacted too.
#[derive(Clone)]
pub struct UpstreamRequest {
    /// The method.
    pub method: Method,
    /// Where to send it.
    pub url: String,
    /// The `Authorization` header value; `None` for a public resource (the key set).
    pub authorization: Option<AuthorizationHeader>,
    /// A JSON body, if any.
    pub body: Option<String>,
    /// Which answers' bodies to read.
    pub body_rule: BodyRule,
}

impl core::fmt::Debug for UpstreamRequest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("UpstreamRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("authorization", &self.authorization)
            .field("body", &self.body.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl UpstreamRequest {
    /// The headers to send, `Authorization` included. `Accept-Encoding: identity` asks for
    /// an uncompressed body; the cap is counted on decoded bytes anyway, for servers that
    /// compress regardless.
    pub fn headers(&self) -> Vec<(&'static str, &str)> {
        let mut headers = Vec::with_capacity(4);
        if let Some(authorization) = &self.authorization {
            headers.push(("Authorization", authorization.secret()));
        }
        headers.extend([
            ("Accept", "application/json"),
            ("Accept-Encoding", "identity"),
        ]);
        if self.body.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        headers
    }
}

/// What came back: the status, if an answer arrived, and the body (empty when the
/// [`BodyRule`] skips it) or why it could not be had.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The answer's status; `None` when the connection failed or timed out first.
    pub status: Option<u16>,
    /// The body text, or the network, timeout or size failure that stopped it.
    pub body: Result<String, Error>,
}

impl Reply {
    /// An answer that arrived whole.
    pub fn answered(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status: Some(status),
            body: Ok(body.into()),
        }
    }

    /// A call that failed before or while reading the answer.
    pub fn failed(status: Option<u16>, error: Error) -> Reply {
        Reply {
            status,
            body: Err(error),
        }
    }
}

/// The body's bytes as the driver read them, as text: over [`MAX_BODY_BYTES`] is
/// [`Malformed::TooLarge`] (a driver that read past the cap), not UTF-8 [`Malformed::NotUtf8`].
pub fn body_text(bytes: Vec<u8>) -> Result<String, Error> {
    if bytes.len() > MAX_BODY_BYTES {
        return Err(Error::UpstreamMalformed(Malformed::TooLarge));
    }
    String::from_utf8(bytes).map_err(|_| Error::UpstreamMalformed(Malformed::NotUtf8))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::secret::RefreshToken;

    #[test]
    fn body_rules() {
        for (status, success, with_client_errors) in [
            (200, true, true),
            (204, true, true),
            (302, false, false),
            (400, false, true),
            (499, false, true),
            (500, false, false),
            (503, false, false),
        ] {
            assert_eq!(BodyRule::Success.reads(status), success, "{status}");
            assert_eq!(
                BodyRule::SuccessAndClientError.reads(status),
                with_client_errors,
                "{status}"
            );
        }
    }

    #[test]
    fn the_drivers_status_classes_are_the_same_rule() {
        for rule in [BodyRule::Success, BodyRule::SuccessAndClientError] {
            for status in 100..600_u16 {
                let by_class = (rule.status_classes() >> (status / 100)) & 1 == 1;
                assert_eq!(by_class, rule.reads(status), "{rule:?} {status}");
            }
        }
    }

    #[test]
    fn every_request_asks_for_an_uncompressed_json_answer() {
        let request = UpstreamRequest {
            method: Method::Patch,
            url: "https://x.kz/token".into(),
            authorization: Some(AuthorizationHeader::bearer(&RefreshToken::new("r"))),
            body: None,
            body_rule: BodyRule::SuccessAndClientError,
        };
        let headers = request.headers();
        assert!(headers.contains(&("Accept-Encoding", "identity")));
        assert!(headers.contains(&("Accept", "application/json")));
        assert!(!headers.iter().any(|(name, _)| *name == "Content-Type"));
        let shown = format!("{request:?}");
        assert!(!shown.contains("Bearer"), "{shown}");
    }

    #[test]
    fn the_cap_counts_every_byte() {
        assert_eq!(
            body_text(vec![b'a'; MAX_BODY_BYTES]).map(|text| text.len()),
            Ok(MAX_BODY_BYTES)
        );
        assert_eq!(
            body_text(vec![b'a'; MAX_BODY_BYTES + 1]),
            Err(Error::UpstreamMalformed(Malformed::TooLarge))
        );
        assert_eq!(
            body_text(vec![0xff, 0xfe]),
            Err(Error::UpstreamMalformed(Malformed::NotUtf8))
        );
    }
}
