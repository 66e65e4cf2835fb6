//! A strict parser for the absolute `http`/`https` URLs this crate handles.
//!
//! Every URL here is either configured by the operator (the redirect URI, the authorize
//! endpoint) or comes back from Freedom ID (the sign-in link). All of them are plain ASCII
//! `scheme://host[:port]/path?query` strings, so instead of a full WHATWG parser (and its
//! Unicode tables in every wasm isolate) we accept only an unambiguous subset: anything a
//! browser could read differently from us is rejected rather than normalised. In
//! particular: no control characters, spaces, backslashes or non-ASCII bytes anywhere; no
//! userinfo; a host made of letters, digits, `.`, `-` and `_` (IDNs in their `xn--` form) or
//! an IPv6 literal.
//!
//! Just over 500 lines with its tests: the parser, origin comparison and query parameters are
//! one grammar, and the table-driven tests of what it refuses stay beside it.

use core::fmt;

/// The scheme of an [`AbsoluteUrl`]: only `http` and `https` are handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// `http`: only ever allowed for loopback hosts (local mocks and demos).
    Http,
    /// `https`.
    Https,
}

impl Scheme {
    /// The scheme as written in a URL, lowercase.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// Why a string is not an acceptable absolute URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlError {
    /// The string is empty.
    Empty,
    /// A control character, space, backslash or non-ASCII character appears in it.
    ForbiddenCharacter,
    /// It does not start with `http://` or `https://`.
    NotHttp,
    /// It has userinfo (`user:password@`) before the host.
    UserInfo,
    /// The host is empty or has characters a hostname or IPv6 literal cannot have.
    InvalidHost,
    /// The port is empty, not a number, or above 65535.
    InvalidPort,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UrlError::Empty => "is empty",
            UrlError::ForbiddenCharacter => {
                "contains a space, control character, backslash or non-ASCII character"
            }
            UrlError::NotHttp => "is not an absolute http:// or https:// URL",
            UrlError::UserInfo => "has a user name or password before the host",
            UrlError::InvalidHost => "has a missing or invalid host",
            UrlError::InvalidPort => "has an invalid port",
        })
    }
}

/// An absolute `http`/`https` URL that passed the strict rules of this module.
///
/// It keeps the original text (which is what gets sent or redirected to) and the parts
/// needed to compare origins.
#[derive(Clone, PartialEq, Eq)]
pub struct AbsoluteUrl {
    text: String,
    scheme: Scheme,
    /// Lowercased host, IPv6 literals with their brackets.
    host: String,
    port: Option<u16>,
    /// Byte offset where the path (or query, or fragment) starts.
    rest_start: usize,
}

impl AbsoluteUrl {
    /// Parses `text` by the strict rules in the module docs.
    pub fn parse(text: &str) -> Result<AbsoluteUrl, UrlError> {
        if text.is_empty() {
            return Err(UrlError::Empty);
        }
        if !text.bytes().all(is_allowed_byte) {
            return Err(UrlError::ForbiddenCharacter);
        }
        let (scheme, after_scheme) = split_scheme(text).ok_or(UrlError::NotHttp)?;
        let authority_len = text[after_scheme..]
            .find(['/', '?', '#'])
            .unwrap_or(text.len() - after_scheme);
        let authority = &text[after_scheme..after_scheme + authority_len];
        if authority.contains('@') {
            return Err(UrlError::UserInfo);
        }
        let (host, port) = split_host_port(authority)?;
        Ok(AbsoluteUrl {
            text: text.to_owned(),
            scheme,
            host: host.to_ascii_lowercase(),
            port,
            rest_start: after_scheme + authority_len,
        })
    }

    /// The URL exactly as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `scheme://host[:port]` as written (no trailing `/`).
    pub fn origin(&self) -> &str {
        self.text.get(..self.rest_start).unwrap_or("")
    }

    /// The path and query (no fragment); the path is `/` when the URL has none.
    pub fn path_and_query(&self) -> String {
        let rest = self.text.get(self.rest_start..).unwrap_or("");
        let rest = rest.split('#').next().unwrap_or("");
        if rest.starts_with('/') {
            rest.to_owned()
        } else {
            format!("/{rest}")
        }
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The host, lowercased (IPv6 literals keep their brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, or the scheme's default port when none is written.
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(self.scheme.default_port())
    }

    /// Whether the host is `localhost` or `127.0.0.1`, the only hosts `http` is allowed for.
    pub fn is_loopback(&self) -> bool {
        self.host == "localhost" || self.host == "127.0.0.1"
    }

    /// Whether both URLs have the same scheme, host and (effective) port.
    pub fn same_origin(&self, other: &AbsoluteUrl) -> bool {
        self.scheme == other.scheme
            && self.host == other.host
            && self.port_or_default() == other.port_or_default()
    }

    /// Whether the URL has a `#fragment`.
    pub fn has_fragment(&self) -> bool {
        self.text[self.rest_start..].contains('#')
    }

    /// The query, without the `?` and without any fragment; `None` when there is no `?`.
    pub fn query(&self) -> Option<&str> {
        let rest = &self.text[self.rest_start..];
        let rest = rest.split('#').next().unwrap_or("");
        rest.split_once('?').map(|(_, query)| query)
    }

    /// The value of the **first** occurrence of query parameter `name`, percent-decoded (and
    /// `+` read as a space); `None` when absent, and `None` too when that first value does not
    /// decode to UTF-8 (a later, decodable occurrence never stands in for it).
    pub fn query_param(&self, name: &str) -> Option<String> {
        percent_decode(self.first_raw_param(name)?)
    }

    /// Whether query parameter `name` occurs at all, whatever its value.
    pub fn has_query_param(&self, name: &str) -> bool {
        self.first_raw_param(name).is_some()
    }

    /// The raw (still encoded) value of the first occurrence of `name`.
    fn first_raw_param(&self, name: &str) -> Option<&str> {
        first_raw_param(self.query()?, name)
    }
}

/// In a query string (no `?`), the raw value of the first occurrence of `name`.
fn first_raw_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(key).as_deref() == Some(name)).then_some(value)
    })
}

/// [`AbsoluteUrl::query_param`] for a bare query string (no `?`): the first occurrence's
/// value, decoded, or `None` when absent or undecodable.
pub fn query_string_param(query: &str, name: &str) -> Option<String> {
    percent_decode(first_raw_param(query, name)?)
}

/// Whether `name` occurs in a bare query string, whatever its value.
pub fn query_string_has(query: &str, name: &str) -> bool {
    first_raw_param(query, name).is_some()
}

impl fmt::Debug for AbsoluteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AbsoluteUrl").field(&self.text).finish()
    }
}

impl fmt::Display for AbsoluteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Printable ASCII except space and backslash: a browser strips tabs and newlines and
/// reads `\` as `/`, so allowing them would let it see another host than we do.
fn is_allowed_byte(byte: u8) -> bool {
    byte.is_ascii_graphic() && byte != b'\\'
}

/// Returns the scheme and the offset just after `://`.
fn split_scheme(text: &str) -> Option<(Scheme, usize)> {
    let (name, _) = text.split_once("://")?;
    let scheme = if name.eq_ignore_ascii_case("https") {
        Scheme::Https
    } else if name.eq_ignore_ascii_case("http") {
        Scheme::Http
    } else {
        return None;
    };
    Some((scheme, name.len() + 3))
}

fn split_host_port(authority: &str) -> Result<(&str, Option<u16>), UrlError> {
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']').ok_or(UrlError::InvalidHost)? + 1;
        let (host, after) = authority.split_at(end);
        let inner = &host[1..host.len() - 1];
        let valid_ipv6 = inner.contains(':')
            && inner
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        if !valid_ipv6 {
            return Err(UrlError::InvalidHost);
        }
        match after.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if after.is_empty() => (host, None),
            None => return Err(UrlError::InvalidHost),
        }
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        let valid_name = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        if !valid_name {
            return Err(UrlError::InvalidHost);
        }
        (host, port)
    };
    let port = match port {
        None => None,
        Some(digits) => Some(parse_port(digits).ok_or(UrlError::InvalidPort)?),
    };
    Ok((host, port))
}

fn parse_port(digits: &str) -> Option<u16> {
    if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Decodes `%XX` escapes and `+` (form encoding's space). `None` on a bad escape or on
/// bytes that are not UTF-8.
pub(crate) fn percent_decode(text: &str) -> Option<String> {
    let mut bytes = text.bytes();
    let mut out = Vec::with_capacity(text.len());
    while let Some(byte) = bytes.next() {
        out.push(match byte {
            b'%' => {
                let high = char::from(bytes.next()?).to_digit(16)?;
                let low = char::from(bytes.next()?).to_digit(16)?;
                u8::try_from(high * 16 + low).ok()?
            }
            b'+' => b' ',
            byte => byte,
        });
    }
    String::from_utf8(out).ok()
}

/// Appends `name=value` to the query of `url` (before any fragment), percent-encoding
/// both; `?` or `&` depending on whether a query is already there.
pub(crate) fn append_query_param(url: &str, name: &str, value: &str) -> String {
    let (base, fragment) = match url.find('#') {
        Some(at) => url.split_at(at),
        None => (url, ""),
    };
    let mut out = String::with_capacity(url.len() + name.len() + value.len() + 2);
    out.push_str(base);
    out.push(if base.contains('?') { '&' } else { '?' });
    percent_encode_into(&mut out, name);
    out.push('=');
    percent_encode_into(&mut out, value);
    out.push_str(fragment);
    out
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode_into(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            for nibble in [byte >> 4, byte & 15] {
                out.push(char::from(
                    HEX.get(usize::from(nibble)).copied().unwrap_or(b'0'),
                ));
            }
        }
    }
}

impl std::error::Error for UrlError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_urls_and_keeps_their_text() {
        let cases = [
            ("https://example.com", Scheme::Https, "example.com", 443),
            (
                "https://example.com/login",
                Scheme::Https,
                "example.com",
                443,
            ),
            (
                "HTTPS://Example.COM:8443/x?y=1",
                Scheme::Https,
                "example.com",
                8443,
            ),
            (
                "http://127.0.0.1:8787/callback",
                Scheme::Http,
                "127.0.0.1",
                8787,
            ),
            ("http://[::1]:80/", Scheme::Http, "[::1]", 80),
            (
                "https://xn--80ak6aa92e.com/",
                Scheme::Https,
                "xn--80ak6aa92e.com",
                443,
            ),
        ];
        for (text, scheme, host, port) in cases {
            let url = AbsoluteUrl::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(url.as_str(), text);
            assert_eq!(url.scheme(), scheme, "{text}");
            assert_eq!(url.host(), host, "{text}");
            assert_eq!(url.port_or_default(), port, "{text}");
        }
    }

    #[test]
    fn rejects_anything_a_browser_could_read_differently() {
        let cases = [
            ("", UrlError::Empty),
            ("https://exa mple.com/", UrlError::ForbiddenCharacter),
            ("https://example.com/\t", UrlError::ForbiddenCharacter),
            (
                "https://example.com\\@evil.com/",
                UrlError::ForbiddenCharacter,
            ),
            (
                "https://evil.com\\.example.com/",
                UrlError::ForbiddenCharacter,
            ),
            ("https://exämple.com/", UrlError::ForbiddenCharacter),
            ("https://example.com/\u{7f}", UrlError::ForbiddenCharacter),
            ("//example.com/", UrlError::NotHttp),
            ("example.com/login", UrlError::NotHttp),
            ("javascript://example.com/%0aalert(1)", UrlError::NotHttp),
            ("ftp://example.com/", UrlError::NotHttp),
            ("https:/example.com/", UrlError::NotHttp),
            ("https://user@example.com/", UrlError::UserInfo),
            ("https://example.com:pass@evil.com/", UrlError::UserInfo),
            ("https:///path", UrlError::InvalidHost),
            ("https://exa%6dple.com/", UrlError::InvalidHost),
            ("https://[::1/", UrlError::InvalidHost),
            ("https://[evil.com]/", UrlError::InvalidHost),
            ("https://[::1]evil.com/", UrlError::InvalidHost),
            ("https://example.com:/", UrlError::InvalidPort),
            ("https://example.com:65536/", UrlError::InvalidPort),
            ("https://example.com:44x/", UrlError::InvalidPort),
            ("https://example.com:1:2/", UrlError::InvalidPort),
        ];
        for (text, expected) in cases {
            assert_eq!(AbsoluteUrl::parse(text), Err(expected), "{text:?}");
        }
    }

    #[test]
    fn origins_compare_scheme_host_and_effective_port() {
        let base = AbsoluteUrl::parse("https://Passport.example.kz/api").unwrap();
        let same = [
            "https://passport.example.kz:443/login",
            "https://PASSPORT.example.kz",
        ];
        for text in same {
            assert!(
                base.same_origin(&AbsoluteUrl::parse(text).unwrap()),
                "{text}"
            );
        }
        let other = [
            "http://passport.example.kz/login",
            "https://passport.example.kz:444/login",
            "https://passport.example.kz.evil.com/login",
            "https://evil.com/passport.example.kz",
        ];
        for text in other {
            assert!(
                !base.same_origin(&AbsoluteUrl::parse(text).unwrap()),
                "{text}"
            );
        }
    }

    #[test]
    fn reads_query_parameters() {
        let url = AbsoluteUrl::parse(
            "https://x.kz/login?track_id=ac22c50c&expire_at=1727246098&n=a%20b+c#track_id=no",
        )
        .unwrap();
        assert_eq!(url.query_param("track_id").as_deref(), Some("ac22c50c"));
        assert_eq!(url.query_param("expire_at").as_deref(), Some("1727246098"));
        assert_eq!(url.query_param("n").as_deref(), Some("a b c"));
        assert_eq!(url.query_param("missing"), None);
        assert!(url.has_fragment());
        let bare = AbsoluteUrl::parse("https://x.kz/login").unwrap();
        assert_eq!(bare.query(), None);
        assert!(!bare.has_fragment());
        let bad_escape = AbsoluteUrl::parse("https://x.kz/?a=%zz&b=%ff").unwrap();
        assert_eq!(bad_escape.query_param("a"), None);
        assert_eq!(bad_escape.query_param("b"), None);
        assert!(bad_escape.has_query_param("a") && !bad_escape.has_query_param("c"));
    }

    #[test]
    fn origin_and_path_and_query() {
        let url = AbsoluteUrl::parse("https://App.kz:8443/a/b?x=1#frag").unwrap();
        assert_eq!(url.origin(), "https://App.kz:8443");
        assert_eq!(url.path_and_query(), "/a/b?x=1");
        assert_eq!(
            AbsoluteUrl::parse("https://x.kz").unwrap().path_and_query(),
            "/"
        );
        assert_eq!(
            AbsoluteUrl::parse("https://x.kz?q=1")
                .unwrap()
                .path_and_query(),
            "/?q=1"
        );
    }

    #[test]
    fn an_undecodable_first_value_is_not_replaced_by_a_later_one() {
        // Regression (issue 9): `state=%FF&state=ok` used to read as `ok`, so a redirect URI
        // with its own undecodable state slipped past the "already has a state" check.
        let url = AbsoluteUrl::parse("https://x.kz/cb?state=%FF&state=ok").unwrap();
        assert_eq!(url.query_param("state"), None);
        assert!(url.has_query_param("state"));
        let later = AbsoluteUrl::parse("https://x.kz/cb?state=one&state=two").unwrap();
        assert_eq!(later.query_param("state").as_deref(), Some("one"));
    }

    #[test]
    fn appends_query_parameters_before_the_fragment() {
        let cases = [
            ("https://a.kz/cb", "https://a.kz/cb?state=x%2By%20z"),
            (
                "https://a.kz/cb?lang=kk",
                "https://a.kz/cb?lang=kk&state=x%2By%20z",
            ),
            ("https://a.kz/cb#top", "https://a.kz/cb?state=x%2By%20z#top"),
        ];
        for (url, expected) in cases {
            assert_eq!(append_query_param(url, "state", "x+y z"), expected);
        }
    }
}
