//! The Cloudflare Worker: a thin driver. It reads the request and env into the core's
//! types, performs the I/O a flow asks for (fetch, random bytes, AES-GCM through WebCrypto,
//! the rate limiter, the log) and copies the core's [`Answer`] into a response. Every
//! decision is in `flow.rs`. Errors are answered with their own status (an `Err` out of
//! `#[event(fetch)]` would become an opaque 500).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use worker::{console_error, event, Context, Env, Headers, Request, Response, ResponseBuilder};

use crate::error::{Error, ErrorCode};
use crate::flow::{respond, Effects};
use crate::http::{problem, Answer};
use crate::seal::IV_BYTES;
use crate::settings::{Settings, SettingsError};
use crate::upstream::{Reply, UpstreamRequest};
use crate::url::AbsoluteUrl;
use crate::webcrypto::{self, CryptoKey};

/// The optional rate-limiting binding (`[[ratelimits]]` in wrangler.toml).
const RATE_LIMITER_BINDING: &str = "FREEDOM_ID_RATE_LIMITER";
/// How long a finished shared refresh is remembered: a request that still carries the old
/// cookie gets the renewed session instead of spending the used-up refresh token again.
const SHARED_REPLY_MS: f64 = 60_000.0;
/// The most shared refreshes remembered at once.
const MAX_SHARED: usize = 1024;

#[event(start)]
fn start() {
    crate::panic_hook::install();
}

#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let header = |name: &str| request.headers().get(name).ok().flatten();
    let (cookie, accept) = (header("Cookie"), header("Accept"));
    let (origin, sec_fetch_site) = (header("Origin"), header("Sec-Fetch-Site"));
    let client_ip = header("CF-Connecting-IP");
    // The raw URL read with the core's own parser: `Request::url()` would link in the `url`
    // crate and its Unicode tables (about 77 kB of gzipped wasm).
    let Ok(url) = AbsoluteUrl::parse(&request.inner().url()) else {
        let wants_html = crate::http::prefers_html(accept.as_deref());
        return into_response(problem(
            ErrorCode::NotFound,
            "There is nothing at this address.",
            wants_html,
        ));
    };
    let path = request.path();
    let method = request.method();
    let core_request = crate::flow::Request {
        method: method.as_ref(),
        url: &url,
        path: &path,
        cookie: cookie.as_deref(),
        accept: accept.as_deref(),
        origin: origin.as_deref(),
        sec_fetch_site: sec_fetch_site.as_deref(),
        client_ip: client_ip.as_deref(),
    };
    let settings = settings(&env);
    let driver = Edge {
        env: &env,
        settings: &settings,
    };
    into_response(respond(&driver, &settings, &core_request).await)
}

/// The I/O of one request.
struct Edge<'a> {
    env: &'a Env,
    settings: &'a Result<Settings, SettingsError>,
}

impl Effects for Edge<'_> {
    async fn send(&self, request: &UpstreamRequest, timeout_ms: u32, share: Option<&str>) -> Reply {
        match share {
            Some(key) => send_shared(request, timeout_ms, key).await,
            None => crate::fetch::send(request, timeout_ms).await,
        }
    }

    fn random(&self, out: &mut [u8]) {
        webcrypto::random(out);
    }

    async fn encrypt(
        &self,
        key: usize,
        iv: &[u8; IV_BYTES],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Option<Vec<u8>> {
        let keys = session_keys(self.settings).await;
        webcrypto::encrypt(keys.get(key)?, iv, aad, plaintext).await
    }

    async fn decrypt(
        &self,
        key: usize,
        iv: &[u8; IV_BYTES],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Option<Vec<u8>> {
        let keys = session_keys(self.settings).await;
        webcrypto::decrypt(keys.get(key)?, iv, aad, ciphertext).await
    }

    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
    }

    async fn rate_limited(&self, key: &str) -> bool {
        let Ok(limiter) = self.env.rate_limiter(RATE_LIMITER_BINDING) else {
            return false;
        };
        match limiter.limit(key.to_owned()).await {
            Ok(outcome) => !outcome.success,
            Err(_) => {
                // Fail open: a broken limiter must not lock everyone out of signing in.
                console_error!("freedom-id-edge: rate limiter unavailable, /login allowed");
                false
            }
        }
    }

    fn log(&self, line: &str) {
        console_error!("{line}");
    }
}

/// A refresh in flight or just finished, shared by every request with the same sealed cookie.
struct Shared {
    done: Promise,
    reply: Rc<RefCell<Option<Reply>>>,
    started_ms: f64,
}

thread_local! {
    /// The settings as read by this isolate's first request.
    static SETTINGS: RefCell<Option<Rc<Result<Settings, SettingsError>>>> = const { RefCell::new(None) };
    /// The session keys, derived once per isolate (WebCrypto `CryptoKey`s).
    static KEYS: RefCell<Option<Rc<Vec<CryptoKey>>>> = const { RefCell::new(None) };
    /// Refreshes shared by concurrent requests, by sealed-cookie id.
    static SHARED: RefCell<HashMap<String, Shared>> = RefCell::new(HashMap::new());
}

async fn send_shared(request: &UpstreamRequest, timeout_ms: u32, key: &str) -> Reply {
    let now = js_sys::Date::now();
    let existing = SHARED.with(|shared| {
        shared
            .borrow()
            .get(key)
            .filter(|entry| now - entry.started_ms < SHARED_REPLY_MS)
            .map(|entry| (entry.done.clone(), Rc::clone(&entry.reply)))
    });
    let (done, reply) = existing.unwrap_or_else(|| {
        let reply = Rc::new(RefCell::new(None));
        let (slot, request) = (Rc::clone(&reply), request.clone());
        let done = future_to_promise(async move {
            let answer = crate::fetch::send(&request, timeout_ms).await;
            *slot.borrow_mut() = Some(answer);
            Ok(JsValue::UNDEFINED)
        });
        SHARED.with(|shared| {
            let mut shared = shared.borrow_mut();
            shared.retain(|_, entry| now - entry.started_ms < SHARED_REPLY_MS);
            if shared.len() >= MAX_SHARED {
                shared.clear();
            }
            shared.insert(
                key.to_owned(),
                Shared {
                    done: done.clone(),
                    reply: Rc::clone(&reply),
                    started_ms: now,
                },
            );
        });
        (done, reply)
    });
    let _ = JsFuture::from(done).await;
    let answer = reply.borrow().clone();
    answer.unwrap_or_else(|| Reply::failed(None, Error::UpstreamNetwork))
}

/// The settings, read and validated once per isolate: an isolate serves one deployment
/// version, whose vars and secrets cannot change under it.
fn settings(env: &Env) -> Rc<Result<Settings, SettingsError>> {
    SETTINGS.with(|cell| {
        Rc::clone(
            cell.borrow_mut()
                .get_or_insert_with(|| Rc::new(Settings::from_env(|name| read_env(env, name)))),
        )
    })
}

/// The session keys for `settings`, derived on first use and kept for the isolate's life.
async fn session_keys(settings: &Result<Settings, SettingsError>) -> Rc<Vec<CryptoKey>> {
    if let Some(keys) = KEYS.with(|cell| cell.borrow().clone()) {
        return keys;
    }
    let mut keys = Vec::new();
    for secret in settings.iter().flat_map(|settings| &settings.session_keys) {
        if let Some(key) = webcrypto::session_key(secret.secret()).await {
            keys.push(key);
        }
    }
    let keys = Rc::new(keys);
    KEYS.with(|cell| *cell.borrow_mut() = Some(Rc::clone(&keys)));
    keys
}

/// Vars and secrets are both plain values in the env; a var written as a TOML number
/// (`FREEDOM_ID_TIMEOUT_MS = 5000`) arrives as a JavaScript number.
fn read_env(env: &Env, name: &str) -> Option<String> {
    let value = js_sys::Reflect::get(env, &JsValue::from_str(name)).ok()?;
    value
        .as_string()
        .or_else(|| value.as_f64().map(number_text))
}

/// A JavaScript number as settings text: whole numbers as digits, anything else as text the
/// settings refuse. Not `f64::to_string`, whose float formatting costs 18 kB of wasm.
fn number_text(number: f64) -> String {
    if number.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&number) {
        (number as u32).to_string()
    } else {
        "not a whole number".to_owned()
    }
}

/// Copies an [`Answer`] into a response; repeated headers (`Set-Cookie`) are appended.
fn into_response(answer: Answer) -> worker::Result<Response> {
    let headers = Headers::new();
    for (name, value) in &answer.headers {
        headers.append(name, value)?;
    }
    let builder = ResponseBuilder::new()
        .with_status(answer.status)
        .with_headers(headers);
    Ok(if answer.body.is_empty() {
        builder.empty()
    } else {
        builder.fixed(answer.body.into_bytes())
    })
}
