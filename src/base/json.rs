//! The little JSON this crate needs, without a JSON library in the wasm.
//!
//! Writing: string escaping for the bodies and cookies we build. Reading: a strict RFC 8259
//! reader that checks a whole document and picks out the top-level members a caller names
//! (the authorize and token answers, the `/revoke` body, the sealed cookies' payloads).
//! Over 500 lines because it is a complete reader with its tests: every malformed document
//! it refuses is pinned here.
//! Bodies are capped at 64 KiB before they get here and nesting at [`MAX_DEPTH`], so a
//! hostile upstream can cost neither memory nor stack.

use core::fmt::Write as _;

/// The deepest nesting accepted; the authorize answer needs 3.
pub const MAX_DEPTH: usize = 32;

/// Appends `text` to `out` as a JSON string literal, quotes included.
pub fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // U+2028/2029 are valid JSON but break some JavaScript string handling.
            c if c < ' ' || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// What the authorize answer's top-level object holds, as far as we care.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct AuthorizeBody {
    /// `redirect_uri` when it is present and a string.
    pub redirect_uri: Option<String>,
    /// `redirect_uri` is present but not a string.
    pub redirect_uri_not_string: bool,
    /// An `error` member with a value other than `null`.
    pub has_error: bool,
}

/// Why a body is not acceptable JSON for us.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonError {
    /// Not well-formed JSON, or nested deeper than [`MAX_DEPTH`].
    Syntax,
    /// Well-formed, but not an object at the top.
    NotAnObject,
    /// `redirect_uri` appears twice: readers may disagree on which one counts.
    DuplicateRedirectUri,
    /// A member [`read_fields`] was asked for appears twice.
    DuplicateMember,
}

impl core::fmt::Display for JsonError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            JsonError::Syntax => "not well-formed JSON, or nested too deeply",
            JsonError::NotAnObject => "not a JSON object at the top",
            JsonError::DuplicateRedirectUri => "redirect_uri appears twice",
            JsonError::DuplicateMember => "a member appears twice",
        })
    }
}

impl std::error::Error for JsonError {}

/// Reads an authorize answer: a JSON object, checked in full.
pub fn read_authorize_body(text: &str) -> Result<AuthorizeBody, JsonError> {
    let mut reader = Reader::at_object(text)?;
    let mut body = AuthorizeBody::default();
    let mut seen_redirect_uri = false;
    reader.read_object_members(|reader, key| {
        match key.as_str() {
            "redirect_uri" => {
                if seen_redirect_uri {
                    return Err(JsonError::DuplicateRedirectUri);
                }
                seen_redirect_uri = true;
                if reader.peek() == Some(b'"') {
                    body.redirect_uri = Some(reader.read_string()?);
                } else {
                    reader.skip_value(1)?;
                    body.redirect_uri_not_string = true;
                }
            }
            "error" => {
                let is_null = reader.peek() == Some(b'n');
                reader.skip_value(1)?;
                body.has_error |= !is_null;
            }
            _ => reader.skip_value(1)?,
        }
        Ok(())
    })?;
    reader.skip_whitespace();
    if !reader.at_end() {
        return Err(JsonError::Syntax);
    }
    Ok(body)
}

/// One top-level member of an object read by [`read_fields`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field {
    /// Not in the object.
    Absent,
    /// `null`.
    Null,
    /// A string, decoded.
    String(String),
    /// A number, as written.
    Number(String),
    /// An object, as its raw text (read it again with [`read_fields`]).
    Object(String),
    /// `true`, `false` or an array.
    Other,
}

impl Field {
    /// The string, when the member is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Field::String(text) => Some(text),
            _ => None,
        }
    }

    /// Whether the member is there with a value other than `null`.
    pub fn is_present(&self) -> bool {
        !matches!(self, Field::Absent | Field::Null)
    }
}

/// Reads a whole JSON object strictly and returns the top-level members named in `keys`, in
/// that order. A named member given twice is [`JsonError::DuplicateMember`]: readers may
/// disagree on which one counts.
pub fn read_fields<const N: usize>(text: &str, keys: [&str; N]) -> Result<[Field; N], JsonError> {
    let mut reader = Reader::at_object(text)?;
    let mut fields = core::array::from_fn(|_| Field::Absent);
    reader.read_object_members(|reader, key| {
        let Some(index) = keys.iter().position(|wanted| *wanted == key) else {
            return reader.skip_value(1);
        };
        let slot = fields.get_mut(index).ok_or(JsonError::Syntax)?;
        if *slot != Field::Absent {
            return Err(JsonError::DuplicateMember);
        }
        let start = reader.pos;
        *slot = match reader.peek() {
            Some(b'"') => Field::String(reader.read_string()?),
            Some(b'n') => {
                reader.skip_value(1)?;
                Field::Null
            }
            Some(b'-' | b'0'..=b'9') => {
                reader.skip_number()?;
                Field::Number(reader.text_since(start)?)
            }
            Some(b'{') => {
                reader.skip_value(1)?;
                Field::Object(reader.text_since(start)?)
            }
            _ => {
                reader.skip_value(1)?;
                Field::Other
            }
        };
        Ok(())
    })?;
    reader.skip_whitespace();
    if !reader.at_end() {
        return Err(JsonError::Syntax);
    }
    Ok(fields)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader positioned at the `{` of `text`: [`JsonError::NotAnObject`] for another
    /// well-formed value, [`JsonError::Syntax`] for anything else.
    fn at_object(text: &'a str) -> Result<Reader<'a>, JsonError> {
        let mut reader = Reader {
            bytes: text.as_bytes(),
            pos: 0,
        };
        reader.skip_whitespace();
        if reader.peek() != Some(b'{') {
            reader.skip_value(0)?;
            reader.skip_whitespace();
            return Err(if reader.at_end() {
                JsonError::NotAnObject
            } else {
                JsonError::Syntax
            });
        }
        Ok(reader)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// The text from `start` to the current position (a value just read).
    fn text_since(&self, start: usize) -> Result<String, JsonError> {
        let bytes = self.bytes.get(start..self.pos).ok_or(JsonError::Syntax)?;
        core::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| JsonError::Syntax)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn next(&mut self) -> Result<u8, JsonError> {
        let byte = self.peek().ok_or(JsonError::Syntax)?;
        self.pos += 1;
        Ok(byte)
    }

    fn expect(&mut self, wanted: u8) -> Result<(), JsonError> {
        if self.next()? == wanted {
            Ok(())
        } else {
            Err(JsonError::Syntax)
        }
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Reads `{ "key": value, ... }`, handing each key to `member` with the reader
    /// positioned at the value, which `member` must consume.
    fn read_object_members(
        &mut self,
        mut member: impl FnMut(&mut Self, String) -> Result<(), JsonError>,
    ) -> Result<(), JsonError> {
        self.expect(b'{')?;
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(JsonError::Syntax);
            }
            let key = self.read_string()?;
            self.skip_whitespace();
            self.expect(b':')?;
            self.skip_whitespace();
            member(self, key)?;
            self.skip_whitespace();
            match self.next()? {
                b',' => continue,
                b'}' => return Ok(()),
                _ => return Err(JsonError::Syntax),
            }
        }
    }

    fn skip_value(&mut self, depth: usize) -> Result<(), JsonError> {
        if depth > MAX_DEPTH {
            return Err(JsonError::Syntax);
        }
        self.skip_whitespace();
        match self.peek().ok_or(JsonError::Syntax)? {
            b'{' => self.read_object_members(|reader, _| reader.skip_value(depth + 1)),
            b'[' => self.skip_array(depth),
            b'"' => self.skip_string(),
            b't' => self.skip_literal(b"true"),
            b'f' => self.skip_literal(b"false"),
            b'n' => self.skip_literal(b"null"),
            b'-' | b'0'..=b'9' => self.skip_number(),
            _ => Err(JsonError::Syntax),
        }
    }

    fn skip_array(&mut self, depth: usize) -> Result<(), JsonError> {
        self.expect(b'[')?;
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.skip_value(depth + 1)?;
            self.skip_whitespace();
            match self.next()? {
                b',' => continue,
                b']' => return Ok(()),
                _ => return Err(JsonError::Syntax),
            }
        }
    }

    fn skip_literal(&mut self, literal: &[u8]) -> Result<(), JsonError> {
        if self
            .bytes
            .get(self.pos..)
            .is_some_and(|rest| rest.starts_with(literal))
        {
            self.pos += literal.len();
            Ok(())
        } else {
            Err(JsonError::Syntax)
        }
    }

    fn skip_digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn skip_number(&mut self) -> Result<(), JsonError> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.skip_digits();
            }
            _ => return Err(JsonError::Syntax),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.skip_digits() == 0 {
                return Err(JsonError::Syntax);
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.skip_digits() == 0 {
                return Err(JsonError::Syntax);
            }
        }
        Ok(())
    }

    fn skip_string(&mut self) -> Result<(), JsonError> {
        self.string_contents(|_| {})
    }

    fn read_string(&mut self) -> Result<String, JsonError> {
        let mut out = String::new();
        self.string_contents(|c| out.push(c))?;
        Ok(out)
    }

    /// Walks a string literal, handing each decoded character to `sink`.
    fn string_contents(&mut self, mut sink: impl FnMut(char)) -> Result<(), JsonError> {
        self.expect(b'"')?;
        loop {
            let start = self.pos;
            // Copy unescaped runs whole; the input is a &str, so runs are valid UTF-8.
            while let Some(byte) = self.peek() {
                if byte == b'"' || byte == b'\\' || byte < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            let run = self.bytes.get(start..self.pos).ok_or(JsonError::Syntax)?;
            let run = core::str::from_utf8(run).map_err(|_| JsonError::Syntax)?;
            run.chars().for_each(&mut sink);
            match self.next()? {
                b'"' => return Ok(()),
                b'\\' => sink(self.read_escape()?),
                _ => return Err(JsonError::Syntax),
            }
        }
    }

    fn read_escape(&mut self) -> Result<char, JsonError> {
        Ok(match self.next()? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.read_hex4()?;
                let code = if (0xD800..0xDC00).contains(&first) {
                    self.expect(b'\\')?;
                    self.expect(b'u')?;
                    let second = self.read_hex4()?;
                    if !(0xDC00..0xE000).contains(&second) {
                        return Err(JsonError::Syntax);
                    }
                    0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                } else {
                    first
                };
                char::from_u32(code).ok_or(JsonError::Syntax)?
            }
            _ => return Err(JsonError::Syntax),
        })
    }

    fn read_hex4(&mut self) -> Result<u32, JsonError> {
        let mut value = 0;
        for _ in 0..4 {
            let digit = (self.next()? as char)
                .to_digit(16)
                .ok_or(JsonError::Syntax)?;
            value = value * 16 + digit;
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_strings_round_trip_through_a_real_parser() {
        let samples = [
            "plain",
            "quote \" back \\ slash",
            "line\nfeed\ttab\r",
            "\u{1}\u{1f}",
            "ü 🎉 \u{2028}",
        ];
        for sample in samples {
            let mut out = String::new();
            write_string(&mut out, sample);
            let parsed: String = serde_json::from_str(&out).unwrap();
            assert_eq!(parsed, sample, "{out}");
        }
    }

    #[test]
    fn picks_out_the_members_we_need() {
        let cases = [
            (
                r#"{"redirect_uri":"https://x.kz/login?a=1&b=2"}"#,
                Some("https://x.kz/login?a=1&b=2"),
                false,
                false,
            ),
            (
                r#" { "other": [1, {"redirect_uri": "nested"}], "redirect_uri" : "a\/b\u0041\ud83c\udf89" } "#,
                Some("a/bA🎉"),
                false,
                false,
            ),
            (
                r#"{"error":{"message":"nope","code":100101}}"#,
                None,
                false,
                true,
            ),
            (
                r#"{"error":null,"redirect_uri":"x"}"#,
                Some("x"),
                false,
                false,
            ),
            (r#"{"redirect_uri":42,"error":false}"#, None, true, true),
            (r#"{"redirect_uri":null}"#, None, true, false),
            (r#"{}"#, None, false, false),
            (
                r#"{"n":-0.5e+10,"t":true,"f":false,"e":[],"o":{}}"#,
                None,
                false,
                false,
            ),
        ];
        for (text, uri, not_string, has_error) in cases {
            let body = read_authorize_body(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
            assert_eq!(body.redirect_uri.as_deref(), uri, "{text}");
            assert_eq!(body.redirect_uri_not_string, not_string, "{text}");
            assert_eq!(body.has_error, has_error, "{text}");
        }
    }

    #[test]
    fn refuses_anything_but_one_well_formed_object() {
        let syntax = [
            "",
            " ",
            "{",
            "}",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\":1,}",
            "{a:1}",
            "{\"a\":01}",
            "{\"a\":1.}",
            "{\"a\":.5}",
            "{\"a\":1e}",
            "{\"a\":tru}",
            "{\"a\":\"\\x\"}",
            "{\"a\":\"\u{1}\"}",
            "{\"a\":\"\\ud800\"}",
            "{\"a\":\"\\udc00\"}",
            "{\"a\":\"unterminated}",
            "{} {}",
            "{}x",
            "{\"a\":[1 2]}",
            "<html>Bad gateway</html>",
            "{'a':1}",
        ];
        for text in syntax {
            assert_eq!(
                read_authorize_body(text),
                Err(JsonError::Syntax),
                "{text:?}"
            );
        }
        for text in [
            "[]",
            "\"https://x.kz\"",
            "null",
            "42",
            " [ {\"redirect_uri\": \"x\"} ] ",
        ] {
            assert_eq!(
                read_authorize_body(text),
                Err(JsonError::NotAnObject),
                "{text:?}"
            );
        }
        let twice = r#"{"redirect_uri":"https://a.kz","redirect_uri":"https://evil.com"}"#;
        assert_eq!(
            read_authorize_body(twice),
            Err(JsonError::DuplicateRedirectUri)
        );
    }

    #[test]
    fn read_fields_picks_top_level_members_by_kind() {
        let text = r#"{"a":"x\u0041","b":-12.5e1,"c":{"code":"1", "n":[1]},"d":null,"e":[1],"f":true,"other":{"a":"inner"}}"#;
        let [a, b, c, d, e, f, g] = read_fields(text, ["a", "b", "c", "d", "e", "f", "g"]).unwrap();
        assert_eq!(a, Field::String("xA".into()));
        assert_eq!(b, Field::Number("-12.5e1".into()));
        assert_eq!(c, Field::Object(r#"{"code":"1", "n":[1]}"#.into()));
        let [code] = read_fields(
            c.as_str().map_or(r#"{"code":"1", "n":[1]}"#, |t| t),
            ["code"],
        )
        .unwrap();
        assert_eq!(code.as_str(), Some("1"));
        assert_eq!(
            (d, e, f, g),
            (Field::Null, Field::Other, Field::Other, Field::Absent)
        );
        assert!(!Field::Null.is_present() && Field::Other.is_present());
        assert_eq!(
            read_fields(r#"{"a":1,"a":2}"#, ["a"]),
            Err(JsonError::DuplicateMember)
        );
        assert!(
            read_fields(r#"{"b":1,"b":2}"#, ["a"]).is_ok(),
            "unasked members may repeat"
        );
        assert_eq!(read_fields("[1]", ["a"]), Err(JsonError::NotAnObject));
        assert_eq!(read_fields("{\"a\":1} x", ["a"]), Err(JsonError::Syntax));
    }

    #[test]
    fn deep_nesting_is_refused_without_exhausting_the_stack() {
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(read_authorize_body(&deep), Err(JsonError::Syntax));
        let fine = format!(
            "{{\"a\":{}{}}}",
            "[".repeat(MAX_DEPTH - 1),
            "]".repeat(MAX_DEPTH - 1)
        );
        assert!(read_authorize_body(&fine).is_ok());
    }
}
