//! Logs a panic through `console.error` before the wasm instance aborts, in both builds, so
//! a bug shows up in `wrangler tail` or the Node log instead of as a bare "unreachable".
//! The core is written not to panic (clippy denies unwrap, expect, panic and indexing);
//! this is the net under that.

use std::sync::Once;

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(message: &str);
}

/// Installs the hook once; later calls do nothing.
pub(crate) fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            // The location and message come from our own code, which never formats secrets.
            console_error(&format!("freedom-id-edge: panic: {info}"));
        }));
    });
}
