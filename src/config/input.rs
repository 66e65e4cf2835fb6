//! The settings' raw input as a driver read it: one [`Field`] per setting (absent, a value,
//! or of the wrong type), and the few inputs that are not plain text.
//!
//! The npm package's options reach these types through serde ([`Field`]'s `Deserialize`):
//! serde-wasm-bindgen in the wasm, `serde_json` in the native tests. Each option is read
//! leniently ([`Member`]), so a value of the wrong type becomes [`Field::WrongType`] with the
//! words for the type it needs, instead of failing the whole object.

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess};

use super::problem::ProblemReason;
use crate::base::json::{Leaf, Member, Number};

/// The one member of the object that stands, in an options object as its driver hands it
/// over, for an option whose getter (or Proxy trap) threw: `{ "unreadable": true }`. The npm
/// driver turns every other object value into `{}`, so no option a caller gives can look so.
pub const UNREADABLE: &str = "unreadable";

/// One setting's input as a driver read it.
#[derive(Clone, Debug, Default)]
pub enum Field<T> {
    /// Not given (or `undefined` / `null` in JavaScript).
    #[default]
    Absent,
    /// Given, of the right type.
    Value(T),
    /// Given, of another type than this one (npm options only).
    WrongType(&'static str),
    /// A getter (or Proxy trap) that threw when read (npm options only).
    Unreadable,
}

impl<T> Field<T> {
    /// `Some` for a value, `None` when absent; a problem for the wrong type or a throw.
    pub fn given(&self) -> Result<Option<&T>, ProblemReason> {
        match self {
            Field::Absent => Ok(None),
            Field::Value(value) => Ok(Some(value)),
            Field::WrongType(expected) => Err(ProblemReason::WrongType(expected)),
            Field::Unreadable => Err(ProblemReason::Unreadable),
        }
    }
}

impl<T> From<Option<T>> for Field<T> {
    fn from(value: Option<T>) -> Field<T> {
        value.map_or(Field::Absent, Field::Value)
    }
}

/// A type an npm option can have: how serde takes it ([`Leaf`]) and the words a wrong-type
/// message uses for it ("timeoutMs must be a number").
pub trait OptionType: Leaf {
    /// What the option must be, after "must be ".
    const EXPECTED: &'static str;
}

impl OptionType for String {
    const EXPECTED: &'static str = "a string";
}

impl OptionType for bool {
    const EXPECTED: &'static str = "true or false";
}

impl<'de, T: OptionType> Deserialize<'de> for Field<T> {
    /// `null` is absent; the [`UNREADABLE`] object is [`Field::Unreadable`]; a value of
    /// another kind is [`Field::WrongType`]. Never fails on any value.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Field<T>, D::Error> {
        Ok(match Member::<Read<T>>::deserialize(deserializer)? {
            Member::Absent | Member::Null => Field::Absent,
            Member::Value(Read::Value(value)) => Field::Value(value),
            Member::Value(Read::Unreadable) => Field::Unreadable,
            Member::Other => Field::WrongType(T::EXPECTED),
        })
    }
}

/// An option's value as read: `T`, or the driver's [`UNREADABLE`] mark.
enum Read<T> {
    Value(T),
    Unreadable,
}

impl<T: Leaf> Leaf for Read<T> {
    fn from_str(text: &str) -> Option<Read<T>> {
        T::from_str(text).map(Read::Value)
    }

    fn from_number(number: Number) -> Option<Read<T>> {
        T::from_number(number).map(Read::Value)
    }

    fn from_bool(value: bool) -> Option<Read<T>> {
        T::from_bool(value).map(Read::Value)
    }

    /// No option is an object: an object is the mark, or of the wrong type.
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Option<Read<T>>, A::Error> {
        let mut marked = false;
        while let Some(key) = map.next_key::<String>()? {
            map.next_value::<IgnoredAny>()?;
            marked |= key == UNREADABLE;
        }
        Ok(marked.then_some(Read::Unreadable))
    }

    fn from_seq<'de, A: SeqAccess<'de>>(seq: A) -> Result<Option<Read<T>>, A::Error> {
        Ok(T::from_seq(seq)?.map(Read::Value))
    }
}

/// A timeout as given: text from the environment or a number from JavaScript.
#[derive(Clone, Debug)]
pub enum TimeoutInput {
    /// `FREEDOM_ID_TIMEOUT_MS` as written.
    Text(String),
    /// `timeoutMs` as a JavaScript number.
    Number(f64),
}

impl Leaf for TimeoutInput {
    fn from_number(number: Number) -> Option<TimeoutInput> {
        // Every JavaScript number is an f64; whether it is a valid timeout is `parse`'s to say.
        Some(TimeoutInput::Number(match number {
            Number::Unsigned(value) => value as f64,
            Number::Signed(value) => value as f64,
            Number::Float(value) => value,
        }))
    }
}

impl OptionType for TimeoutInput {
    const EXPECTED: &'static str = "a number";
}

/// The login-CSRF `state` as given.
#[derive(Clone, Debug)]
pub enum StateInput {
    /// `FREEDOM_ID_STATE`: `on` (the default) or `off`.
    Switch(String),
    /// `state`: a value the caller made, appended as is (npm package).
    Value(String),
}

impl Leaf for StateInput {
    fn from_str(text: &str) -> Option<StateInput> {
        Some(StateInput::Value(text.to_owned()))
    }

    /// `false` switches the state off; `true` means nothing, so it is of the wrong type.
    fn from_bool(value: bool) -> Option<StateInput> {
        (!value).then(|| StateInput::Switch("off".to_owned()))
    }
}

impl OptionType for StateInput {
    const EXPECTED: &'static str = "a string or false";
}

/// Grants as given: one separated list (environment) or one item per grant (JavaScript).
#[derive(Clone, Debug)]
pub enum GrantsInput {
    /// `FREEDOM_ID_GRANTS`: grants separated by spaces and/or commas.
    List(String),
    /// `grants`: an array with one grant per item.
    Items(Vec<String>),
}

impl Leaf for GrantsInput {
    /// An array whose every item is a string; any other item makes it of the wrong type.
    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Option<GrantsInput>, A::Error> {
        let mut items = Some(Vec::new());
        while let Some(item) = seq.next_element::<Member<String>>()? {
            match (item.into_value(), items.as_mut()) {
                (Some(text), Some(items)) => items.push(text),
                _ => items = None,
            }
        }
        Ok(items.map(GrantsInput::Items))
    }
}

impl OptionType for GrantsInput {
    const EXPECTED: &'static str = "an array of strings";
}
