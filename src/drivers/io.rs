//! The JavaScript half of every effect, bound once: `io.js` (both products) and
//! `worker_io.js` (the Worker). Each effect is one call across the wasm boundary and, when
//! it waits, one future: the arguments go over as a few strings, numbers and byte views, the
//! result comes back as one value. Crossing the boundary, not the work itself, was the largest
//! cost wasm-bindgen added (BENCHMARKS.md, "Round 3"). Decisions stay in the core; these
//! helpers only do what they are told.

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::prelude::*;

// Why an upstream call stopped: 1 (`NETWORK` in io.js): no answer arrived; fetch.rs reads any
// number it does not name as that.
/// Why an upstream call stopped: the timeout signal fired.
pub(crate) const FAILED_TIMEOUT: u8 = 2;
/// Why an upstream call stopped: the body passed the cap.
pub(crate) const FAILED_TOO_LARGE: u8 = 3;

#[wasm_bindgen(module = "/src/drivers/io.js")]
extern "C" {
    /// A WebCrypto key (opaque here).
    #[derive(Clone)]
    pub type CryptoKey;

    /// What `upstream` resolves: the status (0: no answer), why it stopped (0: it did not),
    /// the body's bytes if read.
    pub(crate) type UpstreamResult;
    #[wasm_bindgen(method, getter)]
    pub(crate) fn status(this: &UpstreamResult) -> u16;
    #[wasm_bindgen(method, getter)]
    pub(crate) fn failure(this: &UpstreamResult) -> u8;
    #[wasm_bindgen(method, getter)]
    pub(crate) fn body(this: &UpstreamResult) -> Option<Uint8Array>;

    /// One upstream call; resolves an [`UpstreamResult`], never rejects.
    pub(crate) fn upstream(
        url: &str,
        method: &str,
        header_lines: &str,
        body: Option<&str>,
        timeout_ms: u32,
        read_classes: u32,
        cap: u32,
    ) -> Promise;

    /// Imports a public key for `verify` (`"ES256"`: x, y; `"RS256"`: n, e); resolves the
    /// key or null.
    #[wasm_bindgen(js_name = verifyKey)]
    pub(crate) fn verify_key(algorithm: &str, a: &str, b: &str) -> Promise;

    /// Resolves whether `signature` over `data` verifies.
    pub(crate) fn verify(
        algorithm: &str,
        key: &CryptoKey,
        signature: &[u8],
        data: &[u8],
    ) -> Promise;
}

#[cfg(feature = "worker")]
#[wasm_bindgen(module = "/src/drivers/worker_io.js")]
extern "C" {
    /// The request's method, URL and the headers the flow reads, as lines of UTF-8
    /// (`worker::RequestFacts` reads them; [`text`] makes them a string).
    #[wasm_bindgen(js_name = requestFacts)]
    pub(crate) fn request_facts(request: &JsValue) -> Uint8Array;

    /// The request's header names, as lines of UTF-8.
    #[wasm_bindgen(js_name = headerNames)]
    pub(crate) fn header_names(request: &JsValue) -> Uint8Array;

    /// At most `cap` bytes of the request's body stream; resolves a `Uint8Array` or null.
    #[wasm_bindgen(js_name = readBody)]
    pub(crate) fn read_body(stream: &JsValue, cap: u32) -> Promise;

    /// A `Response`: the status, the headers as lines, the body.
    pub(crate) fn answer(status: u16, header_lines: &str, body: &str) -> JsValue;

    /// The request sent on to the site; resolves its `Response` or null.
    pub(crate) fn forward(
        request: &JsValue,
        url: &str,
        drop_lines: &str,
        set_lines: &str,
        set_cookies: &str,
        cache_control: Option<&str>,
    ) -> Promise;

    /// Resolves the AES-256-GCM key HKDF derives from `secret`, or null.
    #[wasm_bindgen(js_name = sessionKey)]
    pub(crate) fn session_key(secret: &[u8], info: &[u8]) -> Promise;

    /// Resolves AES-GCM's output (`open`: the plaintext) or null.
    #[wasm_bindgen(js_name = aesGcm)]
    pub(crate) fn aes_gcm(
        open: bool,
        key: &CryptoKey,
        iv: &[u8],
        aad: &[u8],
        data: &[u8],
    ) -> Promise;

    /// Resolves the assertion's signing key, or null.
    #[wasm_bindgen(js_name = signingKey)]
    pub(crate) fn signing_key(x: &str, y: &str, d: &str) -> Promise;

    /// Resolves the 64-byte ES256 signature, or null.
    #[wasm_bindgen(js_name = signEs256)]
    pub(crate) fn sign_es256(key: &CryptoKey, data: &[u8]) -> Promise;

    /// Resolves true (allowed), false (limited) or null (the binding failed).
    #[wasm_bindgen(js_name = rateLimit)]
    pub(crate) fn rate_limit(limiter: &JsValue, key: &str) -> Promise;

    /// Resolves true (found), false (absent) or null (the binding failed).
    #[wasm_bindgen(js_name = kvHas)]
    pub(crate) fn kv_has(namespace: &JsValue, key: &str) -> Promise;

    /// Resolves true (stored) or false (the binding failed).
    #[wasm_bindgen(js_name = kvPut)]
    pub(crate) fn kv_put(namespace: &JsValue, key: &str, value: &str, ttl_secs: u32) -> Promise;
}

/// Name/value pairs as the helpers read them: one line each, `name\nvalue\n...`.
pub(crate) fn lines<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (name, value) in pairs {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(name);
        out.push('\n');
        out.push_str(value);
    }
    out
}

/// A helper's UTF-8 bytes as text, copied once into the wasm memory (`TextEncoder` made them,
/// so they are valid UTF-8; anything else would read as no text).
#[cfg(feature = "worker")]
pub(crate) fn text(bytes: &Uint8Array) -> String {
    String::from_utf8(bytes.to_vec()).unwrap_or_default()
}

/// A promise's value, `None` when it resolved null (the helpers' "refused") or rejected.
pub(crate) async fn settled(promise: Promise) -> Option<JsValue> {
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .ok()
        .filter(|value| !value.is_null() && !value.is_undefined())
}
