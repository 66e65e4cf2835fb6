//! Upstream calls to Freedom ID, made with the runtime's global `fetch` (workerd and Node >= 18
//! both have it), so both adapters share them. One call to `io.js`'s `upstream` per request
//! (the fetch, the timeout, the capped read of the body): this moves bytes only, every
//! decision is the core's (`upstream.rs`: which answers' bodies to read, the cap; `authorize.rs`,
//! `token.rs`: what they mean).

use wasm_bindgen::JsCast;

use crate::drivers::io::{self, UpstreamResult, FAILED_TIMEOUT, FAILED_TOO_LARGE};
use crate::error::{Error, Malformed};
use crate::freedom_id::upstream::{body_text, Reply, UpstreamRequest, MAX_BODY_BYTES};

/// Sends `request`, never following redirects, within `timeout_ms` for the whole answer.
/// The body is read only when the request's rule asks for it, counting decoded bytes: a
/// compressed answer can never grow past the cap in memory.
pub(crate) async fn send(request: &UpstreamRequest, timeout_ms: u32) -> Reply {
    let call = io::upstream(
        &request.url,
        request.method.as_str(),
        &io::lines(request.headers()),
        request.body.as_deref(),
        timeout_ms,
        request.body_rule.status_classes(),
        MAX_BODY_BYTES as u32,
    );
    // `upstream` never rejects; were it to, that is no answer.
    let Some(result) = io::settled(call).await else {
        return Reply::failed(None, Error::UpstreamNetwork);
    };
    let result: UpstreamResult = result.unchecked_into();
    let status = Some(result.status()).filter(|status| *status != 0);
    let body = match result.failure() {
        0 => result
            .body()
            .map_or(Ok(String::new()), |bytes| body_text(bytes.to_vec())),
        FAILED_TIMEOUT => Err(Error::UpstreamTimeout { timeout_ms }),
        FAILED_TOO_LARGE => Err(Error::UpstreamMalformed(Malformed::TooLarge)),
        // 1 (`NETWORK` in io.js), or anything else: no answer to read.
        _ => Err(Error::UpstreamNetwork),
    };
    Reply { status, body }
}

/// Reads a request body stream (a JS `ReadableStream`) as text, at most `max` bytes.
#[cfg(feature = "worker")]
pub(crate) async fn read_body(stream: &wasm_bindgen::JsValue, max: usize) -> Option<String> {
    let bytes = io::settled(io::read_body(stream, max as u32)).await?;
    String::from_utf8(bytes.unchecked_into::<js_sys::Uint8Array>().to_vec()).ok()
}
