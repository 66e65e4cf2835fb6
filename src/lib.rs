//! Send people to **Freedom ID** sign-in (Freedom Pay's identity service) from a Cloudflare
//! Worker or a Node backend.
//!
//! Freedom ID's "authorization link" API takes the client's Basic credentials, a
//! `redirect_uri` and a list of grants, and answers with a one-time sign-in link. This crate
//! is a pure core that decides everything about that exchange, plus two thin adapters:
//!
//! - `worker` feature: a Cloudflare Worker whose `GET /login` answers `302` to the link.
//! - `node` feature: the npm package's `createAuthorizationLink()` (built with wasm-pack
//!   into `pkg/`), see [`node`] when built with that feature.
//!
//! The core has no I/O and no wasm dependencies, so `cargo test` checks it natively:
//!
//! - [`settings`]: reading and validating the six settings, from env or JS options;
//! - [`grants`]: grant syntax; [`url`]: the strict URL rules;
//! - [`authorize`]: the request to send, the answer's parsing and the link trust rule;
//! - [`error`]: the stable error codes and their HTTP statuses;
//! - [`http`]: the Worker's answers (redirect, problem+json / HTML errors, health) as data;
//! - [`state`]: the login-CSRF state, its cookie and the constant-time check.
//!
//! ```
//! use freedom_id_edge::authorize::{parse_body, AuthorizeRequest};
//! use freedom_id_edge::settings::Settings;
//!
//! let settings = Settings::from_env(|name| match name {
//!     "FREEDOM_ID_CLIENT_ID" => Some("my-client".into()),
//!     "FREEDOM_ID_CLIENT_SECRET" => Some("my-secret".into()),
//!     "FREEDOM_ID_REDIRECT_URI" => Some("https://app.example.com/callback".into()),
//!     "FREEDOM_ID_GRANTS" => Some("openid read.email".into()),
//!     _ => None,
//! })
//! .expect("valid settings");
//! let request = AuthorizeRequest::new(&settings, None);
//! assert_eq!(request.body, r#"{"redirect_uri":"https://app.example.com/callback","grants":["openid","read.email"]}"#);
//!
//! let answer = r#"{"redirect_uri":"https://passport.freedompay.kz/login?track_id=t1&expire_at=1727246098"}"#;
//! let link = parse_body(200, answer, &settings.authorize_url).expect("trusted link");
//! assert_eq!(link.track_id.as_deref(), Some("t1"));
//! ```
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

pub mod authorize;
pub mod callback;
pub mod error;
pub mod grants;
pub mod http;
mod json;
pub mod rate_limit;
pub mod secret;
pub mod settings;
pub mod state;
pub mod time;
pub mod token;
pub mod upstream;
pub mod url;

#[cfg(feature = "js")]
mod fetch;
#[cfg(feature = "node")]
pub mod node;
#[cfg(feature = "js")]
mod panic_hook;
#[cfg(feature = "worker")]
mod worker;

pub use authorize::AuthorizationLink;
pub use error::{Error, ErrorCode};
pub use settings::Settings;
