//! The Worker's sealed cookies: the seal's format, what the flow and session cookies hold, and
//! their names and lifetimes, and which flows an isolate has seen spent.

pub mod payload;
pub mod rules;
pub mod seal;
pub mod spent;

pub use payload::{
    decode_session, encode_session, encode_session_fitting, sealed_cookie_len, Flow, Session,
    MAX_COOKIE_BYTES,
};
pub use rules::{
    flow_cookie_name, flows_to_expire, freshness, session_max_age, Freshness, DEAD_COOKIE,
    FLOW_COOKIE_PREFIX, FLOW_MAX_AGE, FLOW_NAME_CHARS, MAX_FLOW_COOKIES, REFRESH_LEEWAY,
    SESSION_COOKIE,
};
