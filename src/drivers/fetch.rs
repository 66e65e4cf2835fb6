//! Upstream calls to Freedom ID, made with the runtime's global `fetch` (workerd and Node >= 18
//! both have it), so both adapters share them. It moves bytes only: every decision is the
//! core's (`upstream.rs`, `authorize.rs`, `token.rs`).

use js_sys::{Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::error::{Error, Malformed};
use crate::freedom_id::upstream::{check_content_length, BodyCollector, Reply, UpstreamRequest};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(url: &str, init: &Object) -> Promise;

    type FetchResponse;
    #[wasm_bindgen(method, getter)]
    fn status(this: &FetchResponse) -> u16;
    #[wasm_bindgen(method, getter)]
    fn headers(this: &FetchResponse) -> FetchHeaders;
    #[wasm_bindgen(method, getter)]
    fn body(this: &FetchResponse) -> Option<BodyStream>;

    type FetchHeaders;
    #[wasm_bindgen(method)]
    fn get(this: &FetchHeaders, name: &str) -> Option<String>;

    type BodyStream;
    #[wasm_bindgen(method, js_name = getReader)]
    fn get_reader(this: &BodyStream) -> BodyReader;
    #[wasm_bindgen(method)]
    fn cancel(this: &BodyStream) -> Promise;

    type BodyReader;
    #[wasm_bindgen(method)]
    fn read(this: &BodyReader) -> Promise;
    #[wasm_bindgen(method)]
    fn cancel(this: &BodyReader) -> Promise;

    type AbortSignal;
    #[wasm_bindgen(static_method_of = AbortSignal)]
    fn timeout(millis: u32) -> AbortSignal;
}

/// Sends `request`, never following redirects, within `timeout_ms` for the whole answer.
/// The body is read only when the request's rule asks for it, as a stream, counting decoded
/// bytes: a compressed answer can never grow past the cap in memory.
pub(crate) async fn send(request: &UpstreamRequest, timeout_ms: u32) -> Reply {
    let response =
        match JsFuture::from(global_fetch(&request.url, &init(request, timeout_ms))).await {
            Ok(response) => response.unchecked_into::<FetchResponse>(),
            Err(error) => return Reply::failed(None, classify(&error, timeout_ms)),
        };
    let status = response.status();
    let body = response.body();
    let wanted = request.body_rule.reads(status);
    let declared = response.headers().get("content-length");
    let early = if wanted {
        check_content_length(declared.as_deref())
    } else {
        Ok(())
    };
    match (body, wanted && early.is_ok()) {
        (Some(stream), true) => Reply {
            status: Some(status),
            body: read_capped(&stream, timeout_ms).await,
        },
        (Some(stream), false) => {
            // Awaited so that a rejection (an already failed stream) is handled, not left loose.
            let _ = JsFuture::from(stream.cancel()).await;
            Reply {
                status: Some(status),
                body: early.map(|()| String::new()),
            }
        }
        (None, _) => Reply {
            status: Some(status),
            body: early.map(|()| String::new()),
        },
    }
}

fn init(request: &UpstreamRequest, timeout_ms: u32) -> Object {
    let set = |target: &Object, key: &str, value: &JsValue| {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(target, &JsValue::from_str(key), value);
    };
    let headers = Object::new();
    for (name, value) in request.headers() {
        set(&headers, name, &JsValue::from_str(value));
    }
    let init = Object::new();
    set(&init, "method", &JsValue::from_str(request.method.as_str()));
    set(&init, "headers", &headers);
    if let Some(body) = &request.body {
        set(&init, "body", &JsValue::from_str(body));
    }
    set(&init, "redirect", &JsValue::from_str("manual"));
    set(&init, "signal", &AbortSignal::timeout(timeout_ms));
    init
}

/// Reads a request body stream (a JS `ReadableStream`) as text, at most 64 KiB.
#[cfg(feature = "worker")]
pub(crate) async fn read_body(stream: &JsValue) -> Option<String> {
    read_capped(
        stream.unchecked_ref(),
        crate::config::values::MAX_TIMEOUT_MS,
    )
    .await
    .ok()
}

async fn read_capped(stream: &BodyStream, timeout_ms: u32) -> Result<String, Error> {
    let reader = stream.get_reader();
    let mut collector = BodyCollector::default();
    loop {
        let step = JsFuture::from(reader.read())
            .await
            .map_err(|error| classify(&error, timeout_ms))?;
        let done =
            Reflect::get(&step, &JsValue::from_str("done")).map_or(true, |done| done.is_truthy());
        if done {
            return collector.finish();
        }
        let chunk = Reflect::get(&step, &JsValue::from_str("value"))
            .ok()
            .and_then(|value| value.dyn_into::<Uint8Array>().ok())
            .ok_or(Error::UpstreamMalformed(Malformed::NotUtf8))?;
        if !collector.fits(chunk.length() as usize) {
            let _ = JsFuture::from(reader.cancel()).await;
            return Err(Error::UpstreamMalformed(Malformed::TooLarge));
        }
        collector.push(&chunk.to_vec())?;
    }
}

/// A rejected fetch or read: our own timeout signal, or a network failure.
fn classify(error: &JsValue, timeout_ms: u32) -> Error {
    let name = Reflect::get(error, &JsValue::from_str("name"))
        .ok()
        .and_then(|name| name.as_string());
    match name.as_deref() {
        Some("TimeoutError" | "AbortError") => Error::UpstreamTimeout { timeout_ms },
        _ => Error::UpstreamNetwork,
    }
}
