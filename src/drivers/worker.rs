//! The Cloudflare Worker: a thin driver. It reads the request and env into the core's
//! types, performs the I/O a flow asks for (fetch, random bytes, AES-GCM through WebCrypto,
//! the rate limiter, the log) and copies the core's [`Answer`] into a response, each as one
//! call of `worker_io.js`/`io.js` (`io.rs`). Every decision is in `flow`. Errors are answered
//! with their own status (an `Err` out of `#[event(fetch)]` would become an opaque 500).

use crate::base::json::{JsonEngine, JsonError};
use crate::freedom_id::id_token::Algorithm;
use crate::freedom_id::jwks::{Jwk, KeyCache};
use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use worker::web_sys;
use worker::{console_log, event, Context, Env};

use crate::base::url::AbsoluteUrl;
use crate::config::assertion_key::AssertionKey;
use crate::config::settings::{Settings, SettingsError};
use crate::drivers::io;
use crate::drivers::webcrypto::{self, CryptoKey};
use crate::error::{Error, ErrorCode};
use crate::flow::{respond, Effects, Forward, Outcome, Revocation};
use crate::freedom_id::upstream::{Reply, UpstreamRequest};
use crate::log::{request_id_from_ray, Event, EventName, LogLevel};
use crate::session::seal::IV_BYTES;
use crate::session::spent::SpentFlows;
use crate::web::forward::is_identity_header;
use crate::web::{self as http, problem, Answer};

/// The optional rate-limiting binding (`[[ratelimits]]` in wrangler.toml).
const RATE_LIMITER_BINDING: &str = "FREEDOM_ID_RATE_LIMITER";
/// The optional KV namespace of Freedom ID's back-channel sign-outs.
const REVOCATIONS_BINDING: &str = "FREEDOM_ID_REVOCATIONS";
/// How long a finished shared refresh is remembered: a request that still carries the old
/// cookie gets the renewed session instead of spending the used-up refresh token again.
const SHARED_REPLY_MS: f64 = 60_000.0;
/// The most shared refreshes remembered at once.
const MAX_SHARED: usize = 1024;

/// The env binding `name`, if the deployment has one.
fn binding(env: &Env, name: &str) -> Option<JsValue> {
    let value = js_sys::Reflect::get(env, &JsValue::from_str(name)).ok()?;
    value.is_object().then_some(value)
}

#[event(start)]
fn start() {
    crate::drivers::panic_hook::install();
}

#[event(fetch)]
async fn fetch(
    request: web_sys::Request,
    env: Env,
    _ctx: Context,
) -> worker::Result<web_sys::Response> {
    let started_ms = js_sys::Date::now();
    let text = io::text(&io::request_facts(&request));
    let facts = RequestFacts::read(&text);
    let request_id = match request_id_from_ray(facts.ray) {
        Some(ray) => ray.to_owned(),
        None => random_request_id(),
    };
    let client = http::Client::new(
        facts.accept,
        facts.accept_language,
        crate::base::cookies::cookie_value(facts.cookie, crate::web::i18n::LANG_COOKIE),
    );
    // The raw URL read with the core's own parser: `worker::Request::url()` would link in the
    // `url` crate and its Unicode tables (about 77 kB of gzipped wasm).
    let Ok(url) = AbsoluteUrl::parse(facts.url) else {
        let not_found = problem(
            ErrorCode::NotFound,
            &http::Message::new("detail.not_found"),
            &client,
        );
        return into_response(not_found);
    };
    let path_and_query = url.path_and_query();
    let path = path_and_query.split('?').next().unwrap_or("/");
    let core_request = crate::flow::Request {
        method: facts.method,
        url: &url,
        path,
        cookie: facts.cookie,
        accept: facts.accept,
        accept_language: facts.accept_language,
        origin: facts.origin,
        sec_fetch_site: facts.sec_fetch_site,
        sec_fetch_mode: facts.sec_fetch_mode,
        client_ip: facts.client_ip,
        request_id: &request_id,
        log: LogLevel::Errors,
        started_ms,
    };
    let settings = settings(&env);
    let driver = Edge {
        env: &env,
        settings: &settings,
        request: &request,
        request_id: &request_id,
        started_ms,
    };
    match respond(&driver, &settings, &core_request).await {
        Outcome::Answer(answer) => into_response(answer),
        Outcome::Forward(plan) => match forward(&request, &plan).await {
            Some(response) => Ok(response),
            None => {
                if let Some(line) = plan.unreachable_line(js_sys::Date::now()) {
                    console_log!("{line}");
                }
                into_response(http::app_unreachable(&client).with_cookies(plan.set_cookies))
            }
        },
    }
}

/// Sends a guarded request on to the site: the client's method, headers (less every
/// `X-Freedom-ID-*` and the Worker's own cookies, as the core rules) and body, streamed; the
/// identity headers added. The site's answer comes back as it is, streamed, with any
/// refreshed session's `Set-Cookie` added. `None` when the site cannot be reached.
async fn forward(request: &web_sys::Request, plan: &Forward) -> Option<web_sys::Response> {
    let names = io::text(&io::header_names(request));
    let dropped: Vec<&str> = names
        .split('\n')
        .filter(|name| name.eq_ignore_ascii_case("cookie") || is_identity_header(name))
        .collect();
    let set = plan
        .cookie
        .as_deref()
        .map(|cookie| ("Cookie", cookie))
        .into_iter()
        .chain(
            plan.identity
                .iter()
                .map(|(name, value)| (*name, value.as_str())),
        );
    let sent = io::forward(
        request,
        &plan.url,
        &dropped.join("\n"),
        &io::lines(set),
        &plan.set_cookies.join("\n"),
        plan.cache_control,
    );
    Some(io::settled(sent).await?.unchecked_into())
}

/// What the flow reads of a request, from `worker_io.js`'s `requestFacts` lines: the method,
/// the URL, then each header as `+value` or `-` (absent), in this order.
struct RequestFacts<'a> {
    method: &'a str,
    url: &'a str,
    cookie: Option<&'a str>,
    accept: Option<&'a str>,
    accept_language: Option<&'a str>,
    origin: Option<&'a str>,
    sec_fetch_site: Option<&'a str>,
    sec_fetch_mode: Option<&'a str>,
    client_ip: Option<&'a str>,
    ray: Option<&'a str>,
}

impl<'a> RequestFacts<'a> {
    fn read(lines: &'a str) -> RequestFacts<'a> {
        let mut lines = lines.split('\n');
        let (method, url) = (lines.next().unwrap_or(""), lines.next().unwrap_or(""));
        let mut header = || lines.next().and_then(|line| line.strip_prefix('+'));
        RequestFacts {
            method,
            url,
            cookie: header(),
            accept: header(),
            accept_language: header(),
            origin: header(),
            sec_fetch_site: header(),
            sec_fetch_mode: header(),
            client_ip: header(),
            ray: header(),
        }
    }
}

thread_local! {
    /// The id_token key set, kept per isolate (the core decides when it is stale).
    static KEY_CACHE: RefCell<KeyCache> = RefCell::new(KeyCache::default());
}

/// The I/O of one request.
struct Edge<'a> {
    env: &'a Env,
    settings: &'a Result<Settings, SettingsError>,
    request: &'a web_sys::Request,
    request_id: &'a str,
    started_ms: f64,
}

impl Edge<'_> {
    /// Logs an operational failure of a binding (unless `FREEDOM_ID_LOG=off`).
    fn binding_failed(&self, name: EventName) {
        let level = self.settings.as_ref().map_or(LogLevel::Errors, |s| s.log);
        let event = Event::new(name).elapsed(self.started_ms, js_sys::Date::now());
        if event.logged_at(level) {
            console_log!("{}", event.line(self.request_id));
        }
    }
}

impl JsonEngine for Edge<'_> {
    fn decode<T: serde::de::DeserializeOwned>(&self, text: &str) -> Result<T, JsonError> {
        crate::drivers::Json::default().decode(text)
    }
}

impl Effects for Edge<'_> {
    async fn send(&self, request: &UpstreamRequest, timeout_ms: u32, share: Option<&str>) -> Reply {
        match share {
            Some(key) => send_shared(request, timeout_ms, key).await,
            None => crate::drivers::fetch::send(request, timeout_ms).await,
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
        let Some(limiter) = binding(self.env, RATE_LIMITER_BINDING) else {
            return false;
        };
        match io::settled(io::rate_limit(&limiter, key)).await {
            Some(allowed) => !allowed.is_truthy(),
            None => {
                // Fail open: a broken limiter must not lock everyone out of signing in.
                self.binding_failed(EventName::RateLimiterUnavailable);
                false
            }
        }
    }

    fn log(&self, line: &str) {
        // console.log: Workers Logs and `wrangler tail` show a JSON line as structured data.
        console_log!("{line}");
    }

    fn with_key_cache<R>(&self, f: impl FnOnce(&mut KeyCache) -> R) -> R {
        KEY_CACHE.with(|cache| f(&mut cache.borrow_mut()))
    }

    async fn verify_signature(
        &self,
        algorithm: Algorithm,
        key: &Jwk,
        input: &[u8],
        signature: &[u8],
    ) -> bool {
        webcrypto::verify(algorithm, key, input, signature).await
    }

    async fn is_revoked(&self, id: &str) -> bool {
        let Some(store) = binding(self.env, REVOCATIONS_BINDING) else {
            return false;
        };
        match io::settled(io::kv_has(&store, &revocation_key(id))).await {
            Some(found) => found.is_truthy(),
            None => {
                // Fail open, like the limiter: a KV outage must not sign everyone out.
                self.binding_failed(EventName::RevocationsUnavailable);
                false
            }
        }
    }

    async fn revoke(&self, id: &str, ttl_secs: u64) -> Revocation {
        let Some(store) = binding(self.env, REVOCATIONS_BINDING) else {
            return Revocation::NotConfigured;
        };
        // Whole seconds as a JS number (no float formatting in the wasm).
        let ttl_secs = u32::try_from(ttl_secs).unwrap_or(u32::MAX);
        let stored = io::kv_put(&store, &revocation_key(id), "1", ttl_secs);
        if io::settled(stored)
            .await
            .is_some_and(|done| done.is_truthy())
        {
            Revocation::Recorded
        } else {
            Revocation::Failed
        }
    }

    fn revocations_bound(&self) -> bool {
        binding(self.env, REVOCATIONS_BINDING).is_some()
    }

    fn flow_spent(&self, id: &str) -> bool {
        SPENT_FLOWS.with(|spent| spent.borrow().contains(id, js_sys::Date::now()))
    }

    fn spend_flow(&self, id: &str) {
        SPENT_FLOWS.with(|spent| spent.borrow_mut().insert(id, js_sys::Date::now()));
    }

    async fn sign_assertion(&self, key: &AssertionKey, input: &[u8]) -> Option<Vec<u8>> {
        let cached = ASSERTION_KEY.with(|cell| {
            cell.borrow()
                .as_ref()
                .filter(|(kid, _)| *kid == key.kid)
                .map(|(_, imported)| imported.clone())
        });
        let imported = match cached {
            Some(imported) => imported,
            None => {
                let imported = webcrypto::assertion_signing_key(key).await?;
                ASSERTION_KEY
                    .with(|cell| *cell.borrow_mut() = Some((key.kid.clone(), imported.clone())));
                imported
            }
        };
        webcrypto::sign_es256(&imported, input).await
    }

    async fn body(&self, max: usize) -> Option<String> {
        let stream = self.request.body()?;
        crate::drivers::fetch::read_body(&stream, max).await
    }
}

/// A random request id (16 hex characters) for requests without `cf-ray`.
fn random_request_id() -> String {
    let mut bytes = [0_u8; 8];
    webcrypto::random(&mut bytes);
    bytes
        .iter()
        .flat_map(|b| [b >> 4, b & 15])
        .filter_map(|nibble| char::from_digit(u32::from(nibble), 16))
        .collect()
}

/// The KV key of a signed-out token pair.
fn revocation_key(id: &str) -> String {
    format!("revoked:{id}")
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
    /// The assertion's signing key, imported once per isolate, by its `kid`.
    static ASSERTION_KEY: RefCell<Option<(String, CryptoKey)>> = const { RefCell::new(None) };
    /// The session keys, derived once per isolate (WebCrypto `CryptoKey`s).
    static KEYS: RefCell<Option<Rc<Vec<CryptoKey>>>> = const { RefCell::new(None) };
    /// Refreshes shared by concurrent requests, by sealed-cookie id.
    /// A short list, not a map: it holds only this isolate's refreshes of the last minute,
    /// and `HashMap` would add its hashing code to every isolate's wasm.
    static SHARED: RefCell<Vec<(String, Shared)>> = const { RefCell::new(Vec::new()) };
    /// Flows whose code had a definite answer: a replay of their cookie costs no
    /// token-endpoint call in this isolate.
    static SPENT_FLOWS: RefCell<SpentFlows> = RefCell::new(SpentFlows::default());
}

async fn send_shared(request: &UpstreamRequest, timeout_ms: u32, key: &str) -> Reply {
    let now = js_sys::Date::now();
    let existing = SHARED.with(|shared| {
        shared
            .borrow()
            .iter()
            .find(|(name, entry)| name == key && now - entry.started_ms < SHARED_REPLY_MS)
            .map(|(_, entry)| (entry.done.clone(), Rc::clone(&entry.reply)))
    });
    let (done, reply) = existing.unwrap_or_else(|| {
        let key_owned = key.to_owned();
        let reply = Rc::new(RefCell::new(None));
        let (slot, request) = (Rc::clone(&reply), request.clone());
        let key = key.to_owned();
        let done = future_to_promise(async move {
            let answer = crate::drivers::fetch::send(&request, timeout_ms).await;
            // Only a definite answer (tokens, or a refusal) is worth remembering: after an
            // outage or an unreadable answer the next request tries again.
            if !crate::freedom_id::token::is_definite_refresh(
                &answer,
                &crate::drivers::Json::default(),
            ) {
                SHARED.with(|shared| shared.borrow_mut().retain(|(name, _)| *name != key));
            }
            *slot.borrow_mut() = Some(answer);
            Ok(JsValue::UNDEFINED)
        });
        SHARED.with(|shared| {
            let mut shared = shared.borrow_mut();
            shared.retain(|(_, entry)| now - entry.started_ms < SHARED_REPLY_MS);
            if shared.len() >= MAX_SHARED {
                shared.clear();
            }
            shared.push((
                key_owned,
                Shared {
                    done: done.clone(),
                    reply: Rc::clone(&reply),
                    started_ms: now,
                },
            ));
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

/// Copies an [`Answer`] into a response in one call; repeated headers (`Set-Cookie`) are
/// appended.
fn into_response(answer: Answer) -> worker::Result<web_sys::Response> {
    let headers = io::lines(
        answer
            .headers
            .iter()
            .map(|(name, value)| (*name, value.as_str())),
    );
    Ok(io::answer(answer.status, &headers, &answer.body).unchecked_into())
}
