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

/// A type an npm option can have: what it takes of the value read and the words a wrong-type
/// message uses for it ("timeoutMs must be a number").
pub trait OptionType: Sized {
    /// What the option must be, after "must be ".
    const EXPECTED: &'static str;
    /// The option from a value of the right kind; `None` for another kind.
    fn from_value(value: OptionValue) -> Option<Self>;
}

impl OptionType for String {
    const EXPECTED: &'static str = "a string";
    fn from_value(value: OptionValue) -> Option<String> {
        match value {
            OptionValue::Text(text) => Some(text),
            _ => None,
        }
    }
}

impl OptionType for bool {
    const EXPECTED: &'static str = "true or false";
    fn from_value(value: OptionValue) -> Option<bool> {
        match value {
            OptionValue::Bool(value) => Some(value),
            _ => None,
        }
    }
}

impl<'de, T: OptionType> Deserialize<'de> for Field<T> {
    /// `null` is absent; the [`UNREADABLE`] object is [`Field::Unreadable`]; a value of
    /// another kind is [`Field::WrongType`]. Never fails on any value.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Field<T>, D::Error> {
        Ok(match Member::<OptionValue>::deserialize(deserializer)? {
            Member::Absent | Member::Null => Field::Absent,
            Member::Value(OptionValue::Unreadable) => Field::Unreadable,
            Member::Value(value) => {
                T::from_value(value).map_or(Field::WrongType(T::EXPECTED), Field::Value)
            }
            Member::Other => Field::WrongType(T::EXPECTED),
        })
    }
}

/// An option's value as read, whichever option it is: one kind for all, so the wasm holds
/// one reader of JavaScript values rather than one per option type. No `Debug`: it may be
/// the client secret.
pub enum OptionValue {
    /// A string.
    Text(String),
    /// A number (every JavaScript number is an f64).
    Number(f64),
    /// `true` or `false`.
    Bool(bool),
    /// An array whose every item is a string.
    Texts(Vec<String>),
    /// The driver's [`UNREADABLE`] mark.
    Unreadable,
}

impl Leaf for OptionValue {
    fn from_str(text: &str) -> Option<OptionValue> {
        Some(OptionValue::Text(text.to_owned()))
    }

    fn from_number(number: Number) -> Option<OptionValue> {
        Some(OptionValue::Number(match number {
            Number::Unsigned(value) => value as f64,
            Number::Signed(value) => value as f64,
            Number::Float(value) => value,
        }))
    }

    fn from_bool(value: bool) -> Option<OptionValue> {
        Some(OptionValue::Bool(value))
    }

    /// No option is an object: an object is the mark, or of the wrong type.
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Option<OptionValue>, A::Error> {
        let mut marked = false;
        while let Some(key) = map.next_key::<String>()? {
            map.next_value::<IgnoredAny>()?;
            marked |= key == UNREADABLE;
        }
        Ok(marked.then_some(OptionValue::Unreadable))
    }

    /// An array whose every item is a string; any other item makes it of the wrong type.
    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Option<OptionValue>, A::Error> {
        let mut items = Some(Vec::new());
        // Items are read as options are: the same one reader.
        while let Some(item) = seq.next_element::<Member<OptionValue>>()? {
            match (item, items.as_mut()) {
                (Member::Value(OptionValue::Text(text)), Some(items)) => items.push(text),
                _ => items = None,
            }
        }
        Ok(items.map(OptionValue::Texts))
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

impl OptionType for TimeoutInput {
    const EXPECTED: &'static str = "a number";
    /// Whether the number is a valid timeout is `parse`'s to say.
    fn from_value(value: OptionValue) -> Option<TimeoutInput> {
        match value {
            OptionValue::Number(number) => Some(TimeoutInput::Number(number)),
            _ => None,
        }
    }
}

/// The login-CSRF `state` as given.
#[derive(Clone, Debug)]
pub enum StateInput {
    /// `FREEDOM_ID_STATE`: `on` (the default) or `off`.
    Switch(String),
    /// `state`: a value the caller made, appended as is (npm package).
    Value(String),
}

impl OptionType for StateInput {
    const EXPECTED: &'static str = "a string or false";
    /// `false` switches the state off; `true` means nothing, so it is of the wrong type.
    fn from_value(value: OptionValue) -> Option<StateInput> {
        match value {
            OptionValue::Text(text) => Some(StateInput::Value(text)),
            OptionValue::Bool(false) => Some(StateInput::Switch("off".to_owned())),
            _ => None,
        }
    }
}

/// Grants as given: one separated list (environment) or one item per grant (JavaScript).
#[derive(Clone, Debug)]
pub enum GrantsInput {
    /// `FREEDOM_ID_GRANTS`: grants separated by spaces and/or commas.
    List(String),
    /// `grants`: an array with one grant per item.
    Items(Vec<String>),
}

impl OptionType for GrantsInput {
    const EXPECTED: &'static str = "an array of strings";
    fn from_value(value: OptionValue) -> Option<GrantsInput> {
        match value {
            OptionValue::Texts(items) => Some(GrantsInput::Items(items)),
            _ => None,
        }
    }
}
