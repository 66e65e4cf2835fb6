//! The Worker's routes as flows: a request as data in, an [`Answer`] out. Every decision is
//! here (which route, the state check, `return_to`, what to seal, when to refresh, which
//! cookies to set or clear, the answer); the driver only performs the I/O a flow asks for
//! through [`Effects`] (fetch, random bytes, AES-GCM with the session keys, the clock, the
//! rate limiter, the log) and copies the answer out. `cargo test` drives whole sign-ins
//! through it with scripted upstream answers.
//!
//! ## Refreshing without undoing a sibling's rotation
//! A refresh is shared by every request carrying the same sealed cookie (the driver keys it
//! by the cookie's IV). When Freedom ID refuses a refresh, the answer is "signed out" but
//! the session cookie is **not** cleared: a clearing `Set-Cookie` could reach the browser
//! after a sibling request's renewed cookie and undo it. Instead a small marker cookie names
//! the dead sealed cookie ([`crate::session::DEAD_COOKIE`]); a request whose session cookie is the one named
//! there is signed out at once, without another upstream call, while a renewed cookie (a
//! new IV) is unaffected. An upstream outage during a refresh never signs anyone out; but
//! while the access token has expired and cannot be renewed, the gate forwards nothing
//! ([`SessionLookup::Reconnecting`]): a dead token never reaches the site.

mod callback;
mod gate;
mod home;
mod identity;
mod login;
mod logout;
pub mod npm;
mod revoke;
mod session;

pub use session::{lookup_session, SessionLookup};

use crate::base::cookies::cookie_value;
use crate::base::json::JsonEngine;
use crate::base::rate_limit::rate_limit_key;
use crate::base::url::AbsoluteUrl;
use crate::config::assertion_key::AssertionKey;
use crate::config::settings::{Problem, ProblemReason, Setting, Settings, SettingsError};
use crate::config::values::LogLevel;
use crate::config::values::StateMode;
use crate::error::{Error, ErrorCode};
use crate::freedom_id::id_token::Algorithm;
use crate::freedom_id::jwks::{Jwk, KeyCache};
use crate::freedom_id::upstream::{Reply, UpstreamRequest};
use crate::log::{Event, EventName};
use crate::session::seal::{decode_sealed, encode_sealed, IV_BYTES};
use crate::web::i18n::LANG_COOKIE;
use crate::web::{self as http, problem, route, Answer, Client, Message, NoRoute, Route};

/// The I/O a flow asks its driver to perform. Every method is infallible from the flow's
/// point of view: failures come back as data (`Reply`'s error, `None`).
#[allow(async_fn_in_trait)] // single-threaded drivers (wasm): no `Send` bound wanted
pub trait Effects: JsonEngine {
    /// Sends `request` within `timeout_ms`. Calls with the same `share` key that overlap
    /// may be performed once and their reply shared.
    async fn send(&self, request: &UpstreamRequest, timeout_ms: u32, share: Option<&str>) -> Reply;
    /// Fills `out` from a CSPRNG.
    fn random(&self, out: &mut [u8]);
    /// AES-256-GCM with session key `key` (0 seals; every key may open).
    async fn encrypt(
        &self,
        key: usize,
        iv: &[u8; IV_BYTES],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Option<Vec<u8>>;
    /// The inverse of [`Effects::encrypt`]; `None` when the tag does not verify.
    async fn decrypt(
        &self,
        key: usize,
        iv: &[u8; IV_BYTES],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Option<Vec<u8>>;
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> f64;
    /// Whether the rate limiter refuses `key` now (never called for requests it cannot key).
    async fn rate_limited(&self, key: &str) -> bool;
    /// Whether Freedom ID signed out the token pair `id` (back channel); `false` without
    /// the revocations binding.
    async fn is_revoked(&self, id: &str) -> bool;
    /// Records that the token pair `id` is signed out (by Freedom ID's back channel, or by
    /// `/logout`), for `ttl_secs`.
    async fn revoke(&self, id: &str, ttl_secs: u64) -> Revocation;
    /// Whether the deployment has the revocations binding (`FREEDOM_ID_REVOCATIONS`).
    fn revocations_bound(&self) -> bool;
    /// Whether the flow `id` (its sealed cookie's id) was spent by an earlier callback, as far
    /// as this driver remembers (per isolate or process).
    fn flow_spent(&self, id: &str) -> bool;
    /// Remembers that the flow `id` is spent: its code reached a definite answer.
    fn spend_flow(&self, id: &str);
    /// The request body as text, if it is at most `max` bytes of UTF-8.
    async fn body(&self, max: usize) -> Option<String>;
    /// Writes one log line (never with a secret in it: the flows make the lines).
    fn log(&self, line: &str);
    /// Runs `f` on the id_token key set this isolate or process keeps
    /// (`FREEDOM_ID_JWKS_URL`; the core decides when to fetch it).
    fn with_key_cache<R>(&self, f: impl FnOnce(&mut KeyCache) -> R) -> R;
    /// Whether `signature` over `input` verifies with the public `key` for `algorithm`
    /// (WebCrypto: RSASSA-PKCS1-v1_5 or ECDSA P-256, SHA-256); `false` for a key the runtime
    /// cannot import.
    async fn verify_signature(
        &self,
        algorithm: Algorithm,
        key: &Jwk,
        input: &[u8],
        signature: &[u8],
    ) -> bool;
    /// The ES256 signature (`r || s`, 64 bytes) of `input` with the private assertion `key`
    /// (WebCrypto ECDSA P-256, SHA-256); `None` if the runtime refuses the key.
    async fn sign_assertion(&self, key: &AssertionKey, input: &[u8]) -> Option<Vec<u8>>;
}

/// What recording a revocation did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Revocation {
    /// Recorded.
    Recorded,
    /// No `FREEDOM_ID_REVOCATIONS` binding.
    NotConfigured,
    /// The store failed.
    Failed,
}

/// What to do with a request: answer it, or forward it to the site behind the gate.
#[derive(Debug)]
pub enum Outcome {
    /// The Worker answers.
    Answer(Answer),
    /// A guarded request with a live session goes to the site.
    Forward(Forward),
}

/// How to forward a guarded request: everything else (method, other headers, the body,
/// streamed) goes as the client sent it, and the site's answer comes back as it is.
#[derive(Debug)]
pub struct Forward {
    /// The request it forwards, for the log line's id and time.
    pub request_id: String,
    /// When that request arrived.
    pub started_ms: f64,
    /// Where to send it.
    pub url: String,
    /// The `Cookie` header to send instead of the client's (without the Worker's cookies).
    pub cookie: Option<String>,
    /// The identity headers to set, after removing every `X-Freedom-ID-*` the client sent.
    pub identity: Vec<(&'static str, String)>,
    /// `Set-Cookie` headers to add to the site's answer (a refreshed session).
    pub set_cookies: Vec<String>,
    /// A `Cache-Control` to put on the site's answer in place of its own: `private,
    /// no-store` whenever `set_cookies` carries a session, so no shared cache keeps it.
    pub cache_control: Option<&'static str>,
    /// The event to log if the site cannot be reached (`None`: not logged at this level);
    /// render it with [`Forward::unreachable_line`].
    pub unreachable: Option<Event>,
}

impl Forward {
    /// The line to log when the site could not be reached at `now_ms` (`None`: not logged).
    pub fn unreachable_line(&self, now_ms: f64) -> Option<String> {
        let event = self.unreachable.clone()?;
        Some(
            event
                .elapsed(self.started_ms, now_ms)
                .line(&self.request_id),
        )
    }
}

/// The parts of a request the flows read.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The method.
    pub method: &'a str,
    /// The URL the Worker received (its origin is the site's).
    pub url: &'a AbsoluteUrl,
    /// The URL's path.
    pub path: &'a str,
    /// `Cookie`.
    pub cookie: Option<&'a str>,
    /// `Accept`.
    pub accept: Option<&'a str>,
    /// `Accept-Language`.
    pub accept_language: Option<&'a str>,
    /// `Origin`.
    pub origin: Option<&'a str>,
    /// `Sec-Fetch-Site`.
    pub sec_fetch_site: Option<&'a str>,
    /// `Sec-Fetch-Mode`.
    pub sec_fetch_mode: Option<&'a str>,
    /// `CF-Connecting-IP`.
    pub client_ip: Option<&'a str>,
    /// The id log lines carry: `cf-ray` when present (see [`crate::log::request_id_from_ray`]), else
    /// a random one.
    pub request_id: &'a str,
    /// Which events are logged; [`respond`] sets it from the settings.
    pub log: LogLevel,
    /// When the request arrived (milliseconds since the epoch).
    pub started_ms: f64,
}

impl Request<'_> {
    /// `event`'s line for this request; an event that timed no step of its own gets the
    /// time since the request began.
    pub fn log_line(&self, event: Event, now_ms: f64) -> String {
        let event = match event.elapsed_ms {
            Some(_) => event,
            None => event.elapsed(self.started_ms, now_ms),
        };
        event.line(self.request_id)
    }

    /// Who the answer is for: HTML or JSON, and the language.
    pub fn client(&self) -> Client {
        Client::new(
            self.accept,
            self.accept_language,
            cookie_value(self.cookie, LANG_COOKIE),
        )
    }

    fn query_param(&self, name: &str) -> Option<String> {
        self.url.query_param(name)
    }
}

/// Answers `request` with `settings` (as read once per isolate), or forwards it through
/// the gate.
pub async fn respond<E: Effects>(
    fx: &E,
    settings: &Result<Settings, SettingsError>,
    request: &Request<'_>,
) -> Outcome {
    let level = settings
        .as_ref()
        .map_or(LogLevel::Errors, |settings| settings.log);
    let request = &Request {
        log: level,
        ..*request
    };
    let routed = route(request.method, request.path);
    if let (Ok(Route::Home) | Err(NoRoute::NotFound), Ok(valid)) = (routed, settings) {
        // A gate guarding `/` takes the start page's place too.
        if valid.protect.guards(request.path) {
            return apart(gate::gate(fx, valid, request)).await;
        }
    }
    let answer = match routed {
        Ok(route) => answer(fx, settings, request, route).await,
        Err(NoRoute::MethodNotAllowed(allowed)) => {
            http::method_not_allowed(allowed, &request.client())
        }
        Err(NoRoute::NotFound) => not_found(&request.client()),
    };
    Outcome::Answer(answer)
}

/// A route's future behind a pointer the optimiser cannot see through: its state machine
/// stays a function of its own instead of being inlined into one poll function for every
/// route (40 kB of wasm that the first request compiles whatever its route).
#[inline(never)]
fn apart<'a, T: 'a>(
    future: impl core::future::Future<Output = T> + 'a,
) -> core::pin::Pin<Box<dyn core::future::Future<Output = T> + 'a>> {
    core::hint::black_box(Box::pin(future))
}

/// One route's answer. The match names every route: a new one does not compile until it is
/// answered here.
async fn answer<E: Effects>(
    fx: &E,
    settings: &Result<Settings, SettingsError>,
    request: &Request<'_>,
    route: Route,
) -> Answer {
    match route {
        Route::Home => home::home(request),
        Route::Login => apart(login::login(fx, settings, request)).await,
        Route::Healthz => home::healthz(fx, settings, request),
        Route::Jwks => home::jwks(fx, settings, request),
        Route::Callback => match session_settings(fx, settings, request) {
            Ok(settings) => apart(callback::callback(fx, settings, request)).await,
            Err(answer) => answer,
        },
        Route::Session => match session_settings(fx, settings, request) {
            Ok(settings) => apart(session::session(fx, settings, request)).await,
            Err(answer) => answer,
        },
        Route::Logout => match session_settings(fx, settings, request) {
            Ok(settings) => apart(logout::logout(fx, settings, request)).await,
            Err(answer) => answer,
        },
        Route::Revoke => match session_settings(fx, settings, request) {
            Ok(settings) => apart(revoke::revoke(fx, settings, request)).await,
            Err(answer) => answer,
        },
    }
}

/// The settings of a route that needs the Worker's session: misconfigured settings are that
/// route's failure, and link-only mode (`FREEDOM_ID_STATE=off`, the site's own backend
/// completes the sign-in) has no such route.
fn session_settings<'s, E: Effects>(
    fx: &E,
    settings: &'s Result<Settings, SettingsError>,
    request: &Request<'_>,
) -> Result<&'s Settings, Answer> {
    match settings {
        Err(error) => {
            let started = fx.now_ms();
            Err(failed(
                fx,
                request,
                &Error::Settings(error.clone()),
                None,
                started,
            ))
        }
        Ok(settings) if settings.state != StateMode::Bind => Err(not_found(&request.client())),
        Ok(settings) => Ok(settings),
    }
}

/// `429 RATE_LIMITED` when the rate limiter refuses this client, before any upstream call;
/// `None` to go on (also for a request it cannot key).
async fn rate_limit<E: Effects>(fx: &E, request: &Request<'_>) -> Option<Answer> {
    let key = rate_limit_key(request.client_ip)?;
    if !fx.rate_limited(&key).await {
        return None;
    }
    emit(
        fx,
        request,
        Event::new(EventName::RateLimited).code(ErrorCode::RateLimited),
    );
    Some(http::rate_limited(&request.client(), 60))
}

/// Whether a request comes from this site: `Origin` is this origin; or `Origin: null` (a
/// same-site form under `Referrer-Policy: no-referrer`) with `Sec-Fetch-Site: same-origin`;
/// or no `Origin` at all, when `allow_no_origin` (non-browser callers) or with
/// `Sec-Fetch-Site: same-origin`. Never with `Sec-Fetch-Site: cross-site` or `same-site`,
/// which no page can forge.
fn from_this_site(request: &Request<'_>, allow_no_origin: bool) -> bool {
    if matches!(request.sec_fetch_site, Some("cross-site" | "same-site")) {
        return false;
    }
    let same_origin_fetch = request.sec_fetch_site == Some("same-origin");
    match request.origin {
        Some("null") => same_origin_fetch,
        Some(origin) => AbsoluteUrl::parse(&format!("{origin}/"))
            .is_ok_and(|origin| origin.same_origin(request.url)),
        None => allow_no_origin || same_origin_fetch,
    }
}

fn not_found(client: &Client) -> Answer {
    problem(
        ErrorCode::NotFound,
        &Message::new("detail.not_found"),
        client,
    )
}

/// Logs a failure on this request's route and answers it.
fn failed<E: Effects>(
    fx: &E,
    request: &Request<'_>,
    error: &Error,
    upstream_status: Option<u16>,
    started: f64,
) -> Answer {
    let mut event = Event::new(EventName::SignInFailed)
        .code(error.code())
        .upstream_status(upstream_status)
        .elapsed(started, fx.now_ms());
    if let Error::Settings(settings) = error {
        event.problems = settings.setting_names();
    }
    emit(fx, request, event);
    problem(error.code(), &http::public_detail(error), &request.client())
}

/// Writes `event` if this request's log level asks for it.
fn emit<E: Effects>(fx: &E, request: &Request<'_>, event: Event) {
    if event.logged_at(request.log) {
        fx.log(&request.log_line(event, fx.now_ms()));
    }
}

/// With the state binding on, the redirect URI must be on this Worker's origin: the browser
/// sends the flow cookie nowhere else.
fn origin_problem(settings: &Settings, request: &Request<'_>) -> Option<SettingsError> {
    let foreign =
        settings.state == StateMode::Bind && !settings.redirect_uri.same_origin(request.url);
    foreign.then(|| {
        SettingsError::from_problems(vec![Problem {
            setting: Setting::RedirectUri,
            reason: ProblemReason::RedirectUriOrigin,
        }])
    })
}

fn seal_failed<E: Effects>(fx: &E, request: &Request<'_>, started: f64) -> Answer {
    let error = Error::Settings(SettingsError::from_problems(vec![Problem {
        setting: Setting::SessionSecret,
        reason: ProblemReason::SessionSecret,
    }]));
    failed(fx, request, &error, None, started)
}

/// `MISCONFIGURED` naming `setting`, for a key the runtime refused to use.
fn key_refused<E: Effects>(
    fx: &E,
    request: &Request<'_>,
    setting: Setting,
    reason: ProblemReason,
) -> Answer {
    let error = Error::Settings(SettingsError::from_problems(vec![Problem {
        setting,
        reason,
    }]));
    failed(fx, request, &error, None, fx.now_ms())
}

/// Seals `plaintext` for the cookie `name` with the first key and a fresh IV.
async fn seal<E: Effects>(fx: &E, name: &str, plaintext: &str) -> Option<String> {
    let mut iv = [0_u8; IV_BYTES];
    fx.random(&mut iv);
    let ciphertext = fx
        .encrypt(0, &iv, name.as_bytes(), plaintext.as_bytes())
        .await?;
    Some(encode_sealed(&iv, &ciphertext))
}

/// Opens a value sealed for the cookie `name` with any of the keys (rotation).
async fn open<E: Effects>(fx: &E, settings: &Settings, name: &str, value: &str) -> Option<String> {
    let (iv, ciphertext) = decode_sealed(value)?;
    for key in 0..settings.session_keys.len() {
        if let Some(plain) = fx.decrypt(key, &iv, name.as_bytes(), &ciphertext).await {
            return String::from_utf8(plain).ok();
        }
    }
    None
}

fn now_secs<E: Effects>(fx: &E) -> u64 {
    (fx.now_ms().max(0.0) / 1000.0) as u64
}
