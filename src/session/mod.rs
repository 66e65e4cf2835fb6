//! The Worker's sealed cookies: the seal's format, and what the flow and session cookies hold
//! and for how long.

pub mod payload;
pub mod seal;
