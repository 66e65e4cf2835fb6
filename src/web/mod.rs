//! The Worker's HTTP side as data: routes, content negotiation, answers, problem pages, the
//! start page, the languages, and what a forwarded request carries.

pub mod forward;
pub mod http;
pub mod i18n;
