//! Sign people in with **Freedom ID** (Freedom Pay's identity service) from a Cloudflare
//! Worker or a Node backend.
//!
//! Freedom ID's "authorization link" API takes the client's Basic credentials, a
//! `redirect_uri` and a list of grants, and answers with a one-time sign-in link; its token
//! endpoint trades the code the user comes back with for a token pair, and refreshes it. This
//! crate is a pure core that decides everything about those exchanges, plus two thin drivers:
//!
//! - `worker` feature: a Cloudflare Worker that completes the sign-in and keeps a sealed
//!   session cookie (`/login`, `/callback`, `/session`, `/logout`).
//! - `node` feature: the npm package's `createAuthorizationLink`, `completeSignIn`,
//!   `exchangeAuthorizationCode` and `refreshTokens` (built by `scripts/build-npm.sh` into `pkg/`: one wasm, an entry per JS runtime).
//!
//! The core has no I/O and no wasm dependencies, so `cargo test` checks it natively. Its
//! folders are layers, each importing only those above it (`tests/layers.rs` checks it):
//!
//! - [`base`]: JSON text, the strict URL rules, ISO-8601 instants, redacted secrets, cookie
//!   syntax, local return paths, the rate limiter's key, HTML escaping;
//! - [`config`]: the settings, their values and defaults, and grant syntax, from env or JS
//!   options;
//! - [`error`] and [`log`]: the stable error codes with their HTTP statuses, and the event
//!   lines;
//! - [`freedom_id`]: Freedom ID's wire as data: one upstream call, the authorize and token
//!   requests and answers, the link trust rule, the callback and the login-CSRF state;
//! - [`session`]: the sealed cookies, what they hold and for how long;
//! - [`web`]: the Worker's answers (routes, redirects, problem+json / HTML errors, pages,
//!   languages) and what a forwarded request carries, as data;
//! - [`flow`]: the Worker's routes as flows over an I/O trait, whole sign-ins included;
//! - `drivers` (`js` features only): the Worker and the npm exports, the only code that knows
//!   wasm-bindgen.
//!
//! ```
//! use freedom_id_edge::freedom_id::authorize::{parse_body, AuthorizeRequest};
//! use freedom_id_edge::config::settings::Settings;
//!
//! let settings = Settings::from_env(|name| match name {
//!     "FREEDOM_ID_CLIENT_ID" => Some("my-client".into()),
//!     "FREEDOM_ID_CLIENT_SECRET" => Some("my-secret".into()),
//!     "FREEDOM_ID_REDIRECT_URI" => Some("https://app.example.com/callback".into()),
//!     "FREEDOM_ID_GRANTS" => Some("openid read.email".into()),
//!     "FREEDOM_ID_SESSION_SECRET" => Some("a-session-secret-of-32-characters!".into()),
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

// The layers, each importing only those above it (tests/layers.rs checks it): plain building
// blocks, the settings, the error codes and the log lines, Freedom ID's wire, the sealed
// cookies, the HTTP answers, the flows, and last the drivers, the only code that knows wasm.
pub mod base;
pub mod config;
#[cfg(feature = "js")]
pub mod drivers;
pub mod error;
pub mod flow;
pub mod freedom_id;
pub mod log;
pub mod session;
pub mod web;

pub use config::settings::Settings;
pub use error::{Error, ErrorCode};
pub use freedom_id::authorize::AuthorizationLink;
