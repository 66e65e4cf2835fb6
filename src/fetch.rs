//! The one upstream call, made with the runtime's global `fetch` (workerd and Node >= 18
//! both have it), so both adapters share it. It moves bytes only: every decision is the
//! core's (`authorize.rs`).

use js_sys::{Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::authorize::{
    check_content_length, check_status, parse_body, AuthorizeRequest, BodyCollector,
};
use crate::error::{Error, Malformed};
use crate::settings::Settings;
use crate::AuthorizationLink;

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

    #[wasm_bindgen(method, js_name = arrayBuffer)]
    fn array_buffer(this: &FetchResponse) -> Promise;

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

/// What one authorize call gave: the link or the error, and the upstream status if any
/// answer arrived (for the log line).
pub(crate) struct Exchange {
    pub(crate) result: Result<AuthorizationLink, Error>,
    // Only the Worker logs it; the npm package reports the status on UPSTREAM_STATUS errors.
    #[cfg_attr(not(feature = "worker"), allow(dead_code))]
    pub(crate) upstream_status: Option<u16>,
}

/// POSTs `request`, never following redirects, within `settings.timeout_ms` for the whole
/// answer, reading at most 64 KiB of body.
pub(crate) async fn exchange(request: &AuthorizeRequest, settings: &Settings) -> Exchange {
    let timeout_ms = settings.timeout_ms;
    let response =
        match JsFuture::from(global_fetch(&request.url, &init(request, timeout_ms))).await {
            Ok(response) => response.unchecked_into::<FetchResponse>(),
            Err(error) => {
                return Exchange {
                    result: Err(classify(&error, timeout_ms)),
                    upstream_status: None,
                }
            }
        };
    let status = response.status();
    let result = read_answer(&response, status, settings).await;
    Exchange {
        result,
        upstream_status: Some(status),
    }
}

fn init(request: &AuthorizeRequest, timeout_ms: u32) -> Object {
    let set = |target: &Object, key: &str, value: &JsValue| {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(target, &JsValue::from_str(key), value);
    };
    let headers = Object::new();
    for (name, value) in request.headers() {
        set(&headers, name, &JsValue::from_str(value));
    }
    let init = Object::new();
    set(&init, "method", &JsValue::from_str("POST"));
    set(&init, "headers", &headers);
    set(&init, "body", &JsValue::from_str(&request.body));
    set(&init, "redirect", &JsValue::from_str("manual"));
    set(&init, "signal", &AbortSignal::timeout(timeout_ms));
    init
}

async fn read_answer(
    response: &FetchResponse,
    status: u16,
    settings: &Settings,
) -> Result<AuthorizationLink, Error> {
    let body = response.body();
    let declared = response.headers().get("content-length");
    let early = check_status(status).and_then(|()| check_content_length(declared.as_deref()));
    if let Err(error) = early {
        if let Some(body) = body {
            // Awaited so that a rejection (an already failed stream) is handled, not left loose.
            let _ = JsFuture::from(body.cancel()).await;
        }
        return Err(error);
    }
    let text = match body {
        // A declared length already passed the cap: read it in one go.
        Some(_) if declared.is_some() => read_whole(response, settings.timeout_ms).await?,
        // Chunked: read piece by piece, stopping at the cap.
        Some(stream) => read_capped(&stream, settings.timeout_ms).await?,
        None => String::new(),
    };
    parse_body(status, &text, &settings.authorize_url)
}

async fn read_whole(response: &FetchResponse, timeout_ms: u32) -> Result<String, Error> {
    let buffer = JsFuture::from(response.array_buffer())
        .await
        .map_err(|error| classify(&error, timeout_ms))?;
    let mut collector = BodyCollector::default();
    // The cap still holds if a server sends more than it declared.
    collector.push(&Uint8Array::new(&buffer).to_vec())?;
    collector.finish()
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
