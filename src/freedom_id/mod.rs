//! Freedom ID's wire, as data: one upstream call, the authorize request and its answer, the
//! token exchange and refresh, the callback's parameters and the login-CSRF state.

pub mod authorize;
pub mod callback;
pub mod id_token;
pub mod jwks;
pub mod oidc;
pub mod state;
pub mod token;
pub mod upstream;
pub mod user;
pub mod userinfo;
