//! The settings' raw input as a driver read it: one [`Field`] per setting (absent, a value,
//! or of the wrong type), and the few inputs that are not plain text.

use super::problem::ProblemReason;

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
    pub(super) fn given(&self) -> Result<Option<&T>, ProblemReason> {
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

/// A timeout as given: text from the environment or a number from JavaScript.
#[derive(Clone, Debug)]
pub enum TimeoutInput {
    /// `FREEDOM_ID_TIMEOUT_MS` as written.
    Text(String),
    /// `timeoutMs` as a JavaScript number.
    Number(f64),
}

/// The login-CSRF `state` as given.
#[derive(Clone, Debug)]
pub enum StateInput {
    /// `FREEDOM_ID_STATE`: `on` (the default) or `off`.
    Switch(String),
    /// `state`: a value the caller made, appended as is (npm package).
    Value(String),
}

/// Grants as given: one separated list (environment) or one item per grant (JavaScript).
#[derive(Clone, Debug)]
pub enum GrantsInput {
    /// `FREEDOM_ID_GRANTS`: grants separated by spaces and/or commas.
    List(String),
    /// `grants`: an array with one grant per item.
    Items(Vec<String>),
}
