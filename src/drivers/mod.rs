//! The drivers: the only code that knows wasm-bindgen, js-sys and the `worker` crate. Each
//! performs the I/O the core asks for and hands the results back.

pub mod fetch;
#[cfg(feature = "node")]
pub mod node;
pub mod panic_hook;
pub mod webcrypto;
#[cfg(feature = "worker")]
pub mod worker;
