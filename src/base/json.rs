//! JSON through serde: the engine every JSON document the core reads goes through, and the
//! lenient member type that lets a wrong-typed member be judged by the core's rules instead
//! of failing its whole document.
//!
//! Every shape the crate reads or writes is a serde type next to the code that owns it (the
//! authorize and token answers in `freedom_id/`, the sealed payloads in `session/`, the
//! answers in `web/`, the event lines in `log.rs`). Writing is `serde_json` everywhere.
//! Reading goes through a [`JsonEngine`], which each driver provides: natively and by default
//! in the wasm, [`SerdeJson`] (`serde_json` compiled in); the engine comparison in
//! `BENCHMARKS.md` says why the wasm builds keep it.
//!
//! Bodies are capped at 64 KiB before they get here and nesting at [`MAX_DEPTH`], so a
//! hostile upstream can cost neither memory nor stack.

use core::fmt;
use core::marker::PhantomData;

use serde::de::{self, DeserializeOwned, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// Why a document could not be read into its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonError {
    /// Not well-formed JSON (or nested too deeply), or not an object at the top.
    Malformed,
    /// A member the type reads appears twice: readers may disagree on which one counts, so
    /// such a document is refused. A repeated member the type does not read is ignored.
    Duplicate,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JsonError::Malformed => "not a well-formed JSON object",
            JsonError::Duplicate => "a member appears twice",
        })
    }
}

impl std::error::Error for JsonError {}

/// Reads JSON text into a serde type. The drivers choose the engine; the core only asks.
pub trait JsonEngine {
    /// `text`, a JSON object at the top, as a `T`. The upstream answers read every member
    /// leniently ([`Member`]), so their only failures are the two [`JsonError`]s; our own
    /// sealed payloads are strict, and any failure of theirs is [`JsonError::Malformed`].
    fn decode<T: DeserializeOwned>(&self, text: &str) -> Result<T, JsonError> {
        SerdeJson.decode(text)
    }
}

/// `serde_json`, compiled in.
#[derive(Clone, Copy, Debug, Default)]
pub struct SerdeJson;

impl JsonEngine for SerdeJson {
    fn decode<T: DeserializeOwned>(&self, text: &str) -> Result<T, JsonError> {
        if !nesting_within(text, MAX_DEPTH) {
            return Err(JsonError::Malformed);
        }
        serde_json::from_str::<Object<T>>(text)
            .map(|object| object.0)
            .map_err(|error| classify(&error.to_string()))
    }
}

/// The deepest nesting of arrays and objects accepted; the answers need 3.
pub const MAX_DEPTH: usize = 32;

/// Whether no array or object in `text` is nested deeper than `max`: the same limit as before
/// serde, kept because `serde_json` skips an unread member however deep it goes. Counts
/// brackets outside strings only; whether the text is JSON at all is serde's to say.
pub fn nesting_within(text: &str, max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0_usize, false, false);
    for byte in text.bytes() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return false;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    true
}

/// A JSON object at the top, read as `T`: serde's derived structs would also take an array
/// of their fields in order, which no answer we read is.
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Object<T>, D::Error> {
        deserializer.deserialize_map(ObjectVisitor(PhantomData))
    }
}

struct ObjectVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
    type Value = Object<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Object<T>, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Object)
    }
}

/// Which [`JsonError`] a serde error message is. serde's derived types report a repeated
/// field as ``duplicate field `name` ``; with every member lenient, any other failure is the
/// document's syntax or its top-level type.
pub fn classify(message: &str) -> JsonError {
    if message.starts_with("duplicate field") {
        JsonError::Duplicate
    } else {
        JsonError::Malformed
    }
}

/// `value` as JSON text. The types written here cannot fail to serialize (no maps with
/// non-string keys, no floats that are not finite).
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// A member read without failing its document: absent, `null`, a value of the type
/// wanted, or another JSON value (whose content is skipped, never kept).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Member<T> {
    /// Not in the object.
    #[default]
    Absent,
    /// `null`.
    Null,
    /// A value of the kind wanted.
    Value(T),
    /// Any other value.
    Other,
}

impl<T> Member<T> {
    /// The value, when the member holds one of the kind wanted.
    pub fn value(&self) -> Option<&T> {
        match self {
            Member::Value(value) => Some(value),
            _ => None,
        }
    }

    /// The value, owned.
    pub fn into_value(self) -> Option<T> {
        match self {
            Member::Value(value) => Some(value),
            _ => None,
        }
    }

    /// Whether the member is there with a value other than `null`.
    pub fn is_present(&self) -> bool {
        !matches!(self, Member::Absent | Member::Null)
    }
}

/// A kind of JSON value a [`Member`] can want: each method takes the value if it is of the
/// kind, and `None` leaves the member [`Member::Other`]. Containers that are not wanted are
/// drained unread.
pub trait Leaf: Sized {
    /// A string.
    fn from_str(_text: &str) -> Option<Self> {
        None
    }
    /// A number: serde hands a whole number over as `u64` or `i64`, others as `f64`.
    fn from_number(_number: Number) -> Option<Self> {
        None
    }
    /// `true` or `false`.
    fn from_bool(_value: bool) -> Option<Self> {
        None
    }
    /// An object.
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Option<Self>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    /// An array.
    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Option<Self>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

/// A JSON number as serde hands it over.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    /// A whole number from 0.
    Unsigned(u64),
    /// A negative whole number.
    Signed(i64),
    /// Anything else.
    Float(f64),
}

impl Leaf for String {
    fn from_str(text: &str) -> Option<String> {
        Some(text.to_owned())
    }
}

impl Leaf for u64 {
    fn from_number(number: Number) -> Option<u64> {
        match number {
            Number::Unsigned(value) => Some(value),
            _ => None,
        }
    }
}

impl Leaf for bool {
    fn from_bool(value: bool) -> Option<bool> {
        Some(value)
    }
}

/// Any value but `null`, its content skipped: for members whose presence is what counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Present;

impl Leaf for Present {
    fn from_str(_: &str) -> Option<Present> {
        Some(Present)
    }
    fn from_number(_: Number) -> Option<Present> {
        Some(Present)
    }
    fn from_bool(_: bool) -> Option<Present> {
        Some(Present)
    }
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Option<Present>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Some(Present))
    }
    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Option<Present>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Some(Present))
    }
}

impl<'de, T: Leaf> Deserialize<'de> for Member<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Member<T>, D::Error> {
        deserializer.deserialize_any(MemberVisitor(PhantomData))
    }
}

struct MemberVisitor<T>(PhantomData<T>);

impl<T> MemberVisitor<T> {
    fn kind(value: Option<T>) -> Member<T> {
        value.map_or(Member::Other, Member::Value)
    }
}

impl<'de, T: Leaf> Visitor<'de> for MemberVisitor<T> {
    type Value = Member<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Member<T>, E> {
        Ok(Member::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Member<T>, E> {
        Ok(Member::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Member<T>, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Member<T>, E> {
        Ok(Self::kind(T::from_bool(value)))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Member<T>, E> {
        Ok(Self::kind(T::from_number(Number::Unsigned(value))))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Member<T>, E> {
        // serde_json hands every whole number from 0 over as u64; others may not.
        Ok(Self::kind(T::from_number(match u64::try_from(value) {
            Ok(unsigned) => Number::Unsigned(unsigned),
            Err(_) => Number::Signed(value),
        })))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Member<T>, E> {
        // JavaScript's numbers are all f64: a whole one in u64's range is a whole number.
        let whole = value.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&value);
        Ok(Self::kind(T::from_number(if whole {
            Number::Unsigned(value as u64)
        } else {
            Number::Float(value)
        })))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Member<T>, E> {
        Ok(Self::kind(T::from_str(text)))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Member<T>, A::Error> {
        Ok(Self::kind(T::from_map(map)?))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Member<T>, A::Error> {
        Ok(Self::kind(T::from_seq(seq)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default)]
    struct Sample {
        text: Member<String>,
        count: Member<u64>,
        flag: Member<bool>,
        seen: Member<Present>,
    }

    fn read(text: &str) -> Result<Sample, JsonError> {
        SerdeJson.decode(text)
    }

    #[test]
    fn members_are_read_by_kind_without_failing_the_document() {
        let sample = read(r#"{"text":"a\"b","count":7,"flag":true,"seen":{"x":[1,{}]}}"#).unwrap();
        assert_eq!(sample.text, Member::Value("a\"b".to_owned()));
        assert_eq!(sample.count, Member::Value(7));
        assert_eq!(sample.flag, Member::Value(true));
        assert_eq!(sample.seen, Member::Value(Present));

        let wrong = read(r#"{"text":1,"count":"7","flag":null,"seen":null,"other":[1]}"#).unwrap();
        assert_eq!(wrong.text, Member::Other);
        assert_eq!(wrong.count, Member::Other);
        assert_eq!(wrong.flag, Member::Null);
        assert!(!wrong.seen.is_present());
        assert_eq!(read("{}").unwrap(), Sample::default());
        for not_whole in ["-1", "1.5", "1e400", "18446744073709551616"] {
            let sample = read(&format!(r#"{{"count":{not_whole}}}"#));
            assert!(
                matches!(
                    sample,
                    Ok(Sample {
                        count: Member::Other,
                        ..
                    }) | Err(JsonError::Malformed)
                ),
                "{not_whole}: {sample:?}"
            );
        }
    }

    #[test]
    fn a_repeated_member_is_refused_only_when_it_is_read() {
        assert_eq!(
            read(r#"{"text":"a","text":"b"}"#),
            Err(JsonError::Duplicate)
        );
        assert!(read(r#"{"unknown":1,"unknown":2}"#).is_ok());
    }

    #[test]
    fn anything_but_one_well_formed_object_is_malformed() {
        for text in [
            "",
            "null",
            "[]",
            "\"x\"",
            "1",
            "{",
            "{\"text\":}",
            "{} {}",
            "{\"a\":1,}",
            "{'a':1}",
            "{\"text\":\"\\ud800\"}",
            "{\"a\":NaN}",
        ] {
            assert_eq!(read(text), Err(JsonError::Malformed), "{text:?}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_exhausting_the_stack() {
        let deep = format!("{{\"x\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(read(&deep), Err(JsonError::Malformed));
        let too_deep = format!(
            "{{\"x\":{}{}}}",
            "[".repeat(MAX_DEPTH),
            "]".repeat(MAX_DEPTH)
        );
        assert_eq!(read(&too_deep), Err(JsonError::Malformed));
        let fine = format!(
            "{{\"x\":{}{}}}",
            "[".repeat(MAX_DEPTH - 1),
            "]".repeat(MAX_DEPTH - 1)
        );
        assert!(read(&fine).is_ok());
        // Brackets inside strings are text, escaped quotes included.
        let text = format!("{{\"x\":\"\\\"{}\"}}", "[".repeat(100));
        assert!(read(&text).is_ok(), "{text}");
    }

    #[test]
    fn written_strings_round_trip() {
        for text in [
            "plain",
            "quote\" backslash\\ newline\n",
            "\u{1}\u{1f}",
            "ünïcode ✓",
        ] {
            let written = to_string(text);
            assert_eq!(serde_json::from_str::<String>(&written).unwrap(), text);
        }
    }
}
