//! One HTTP call to Freedom ID, as plain data: the request the core wants sent, and the
//! reply the driver hands back. The drivers (`fetch.rs`) move bytes only; the rules that
//! every call shares live here: no redirect is followed, at most [`MAX_BODY_BYTES`] of
//! decoded body is read, the timeout covers the whole answer, and the body is asked for
//! uncompressed.

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

/// Refuses a body whose declared `Content-Length` is over [`MAX_BODY_BYTES`] before reading it.
pub fn check_content_length(content_length: Option<&str>) -> Result<(), Error> {
    let too_large = content_length
        .and_then(|value| value.trim().parse::<u64>().ok())
        .is_some_and(|length| length > MAX_BODY_BYTES as u64);
    if too_large {
        Err(Error::UpstreamMalformed(Malformed::TooLarge))
    } else {
        Ok(())
    }
}

/// Collects body chunks as they arrive, refusing the body once it passes [`MAX_BODY_BYTES`].
#[derive(Debug, Default)]
pub struct BodyCollector {
    bytes: Vec<u8>,
}

impl BodyCollector {
    /// Whether `more` bytes still fit.
    pub fn fits(&self, more: usize) -> bool {
        self.bytes.len().saturating_add(more) <= MAX_BODY_BYTES
    }

    /// Adds a chunk; [`Malformed::TooLarge`] once the body passes the cap.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), Error> {
        if !self.fits(chunk.len()) {
            return Err(Error::UpstreamMalformed(Malformed::TooLarge));
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// The body as text.
    pub fn finish(self) -> Result<String, Error> {
        String::from_utf8(self.bytes).map_err(|_| Error::UpstreamMalformed(Malformed::NotUtf8))
    }
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
        let mut collector = BodyCollector::default();
        assert!(collector.push(&vec![b'a'; MAX_BODY_BYTES]).is_ok());
        assert!(!collector.fits(1));
        assert_eq!(
            collector.push(b"a"),
            Err(Error::UpstreamMalformed(Malformed::TooLarge))
        );
        assert_eq!(
            check_content_length(Some("65537")),
            Err(Error::UpstreamMalformed(Malformed::TooLarge))
        );
        assert_eq!(check_content_length(Some("65536")), Ok(()));
        assert_eq!(check_content_length(Some("junk")), Ok(()));
    }
}
