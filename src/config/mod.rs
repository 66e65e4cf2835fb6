//! The settings: their names, their values' grammar, and validation of the Worker's env and the
//! npm package's options into one [`settings::Settings`].

pub mod allow;
pub mod assertion_key;
pub mod grants;
pub mod input;
pub(crate) mod parse;
pub mod problem;
pub mod settings;
pub mod values;
