//! The drivers: the only code that knows wasm-bindgen, js-sys and the `worker` crate. Each
//! performs the I/O the core asks for and hands the results back.

pub mod fetch;
pub mod io;
#[cfg(feature = "json-engine-js")]
pub mod json_js;
#[cfg(feature = "node")]
pub mod node;
pub mod panic_hook;
pub mod webcrypto;
#[cfg(feature = "worker")]
pub mod worker;

/// The JSON engine the drivers hand the core: `serde_json`, compiled in (BENCHMARKS.md, "JSON
/// engine", measured it against the runtime's `JSON.parse`).
#[cfg(not(feature = "json-engine-js"))]
pub type Json = crate::base::json::SerdeJson;
/// The JSON engine the drivers hand the core: the runtime's `JSON.parse` read by
/// serde-wasm-bindgen (`json-engine-js`, for the comparison in BENCHMARKS.md, "JSON engine").
#[cfg(feature = "json-engine-js")]
pub type Json = json_js::JsParse;
