//! Plain building blocks that know nothing of Freedom ID or HTTP routes: JSON text, the strict
//! URL rules, ISO-8601 instants, redacted secrets, cookie syntax, local return paths and the
//! rate limiter's client key.

pub mod cookies;
pub mod json;
pub mod rate_limit;
pub mod return_to;
pub mod secret;
pub mod text;
pub mod time;
pub mod url;
