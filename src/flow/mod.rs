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
//! the dead sealed cookie ([`DEAD_COOKIE`]); a request whose session cookie is the one named
//! there is signed out at once, without another upstream call, while a renewed cookie (a
//! new IV) is unaffected. An upstream outage during a refresh never signs anyone out; but
//! while the access token has expired and cannot be renewed, the gate forwards nothing
//! ([`SessionLookup::Reconnecting`]): a dead token never reaches the site.

pub mod npm;

use crate::base::cookies::{clear_cookie, cookie_value, names_with_prefix, set_cookie};
use crate::base::rate_limit::rate_limit_key;
use crate::base::return_to::local_path;
use crate::base::secret::constant_time_eq;
use crate::base::url::AbsoluteUrl;
use crate::config::settings::{Problem, ProblemReason, Setting, Settings, SettingsError};
use crate::config::values::LogLevel;
use crate::config::values::StateMode;
use crate::error::{Error, ErrorCode};
use crate::freedom_id::authorize::{read_reply, AuthorizeRequest};
use crate::freedom_id::callback::{check_callback, CallbackParams, ExpectedState};
use crate::freedom_id::state::{new_state, STATE_BYTES};
use crate::freedom_id::token::{
    exchange_request, read_token_reply, refresh_request, TokenCall, Tokens,
};
use crate::freedom_id::upstream::{Reply, UpstreamRequest};
use crate::log::{Event, EventName};
use crate::session::payload::{
    decode_session, encode_session, flow_cookie_name, flows_to_expire, freshness, session_max_age,
    Flow, Freshness, Session, DEAD_COOKIE, FLOW_COOKIE_PREFIX, FLOW_MAX_AGE, SESSION_COOKIE,
};
use crate::session::seal::{decode_sealed, encode_sealed, seal_id, IV_BYTES};
use crate::web::forward;
use crate::web::http::{self, problem, Answer, Client, Message, Route};
use crate::web::i18n::{self, Lang, LANG_COOKIE};

/// The I/O a flow asks its driver to perform. Every method is infallible from the flow's
/// point of view: failures come back as data (`Reply`'s error, `None`).
#[allow(async_fn_in_trait)] // single-threaded drivers (wasm): no `Send` bound wanted
pub trait Effects {
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
}

/// What recording a revocation did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    let route = http::route(request.method, request.path);
    if let (Route::NotFound | Route::Home, Ok(valid)) = (route, settings) {
        // A gate guarding `/` takes the start page's place too.
        if valid.protect.guards(request.path) {
            return apart(gate(fx, valid, request)).await;
        }
    }
    Outcome::Answer(answer(fx, settings, request, route).await)
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

async fn answer<E: Effects>(
    fx: &E,
    settings: &Result<Settings, SettingsError>,
    request: &Request<'_>,
    route: Route,
) -> Answer {
    let client = request.client();
    let session_route = matches!(
        route,
        Route::Callback | Route::Session | Route::Logout | Route::Revoke
    );
    match (route, settings) {
        (Route::Home, _) => home(request),
        (Route::Login, _) => apart(login(fx, settings, request)).await,
        (Route::Healthz, _) => healthz(fx, settings, request),
        (Route::MethodNotAllowed(allowed), _) => http::method_not_allowed(allowed, &client),
        (Route::NotFound, _) => not_found(&client),
        (_, Err(error)) if session_route => {
            let started = fx.now_ms();
            failed(fx, request, &Error::Settings(error.clone()), None, started)
        }
        (_, Ok(settings)) if session_route && settings.state != StateMode::Bind => {
            // Link-only mode: the site's own backend completes the sign-in.
            not_found(&client)
        }
        (Route::Callback, Ok(settings)) => apart(callback(fx, settings, request)).await,
        (Route::Session, Ok(settings)) => apart(session(fx, settings, request)).await,
        (Route::Logout, Ok(settings)) => apart(logout(fx, settings, request)).await,
        (Route::Revoke, Ok(settings)) => apart(revoke(fx, settings, request)).await,
        _ => not_found(&client),
    }
}

/// `GET /`: the start page in the visitor's language; `?lang=kk|ru|en` chooses one and keeps
/// it in the `lang` cookie.
fn home(request: &Request<'_>) -> Answer {
    let chosen = request
        .query_param("lang")
        .and_then(|tag| Lang::from_tag(&tag));
    let lang = i18n::choose(
        chosen.map(Lang::tag),
        cookie_value(request.cookie, LANG_COOKIE),
        request.accept_language,
    );
    let page = http::start_page(lang);
    match chosen {
        Some(lang) => page.with_cookies([http::lang_cookie(lang)]),
        None => page,
    }
}

/// A guarded path: forwarded with a live session (refreshed first when due); otherwise a
/// browser is sent to sign in and coming back here, and any other caller gets `401`.
async fn gate<E: Effects>(fx: &E, settings: &Settings, request: &Request<'_>) -> Outcome {
    if settings.gate_csrf && forward::is_write(request.method) && !from_this_site(request, true) {
        // A cookie alone does not make a write the user's own (a sibling subdomain's form
        // sends it too): refused before any session work, and nothing reaches the site.
        emit(
            fx,
            request,
            Event::new(EventName::GateDenied).code(ErrorCode::CrossSiteRequest),
        );
        return Outcome::Answer(problem(
            ErrorCode::CrossSiteRequest,
            &Message::new("detail.cross_site_write"),
            &request.client(),
        ));
    }
    match lookup_session(fx, settings, request).await {
        SessionLookup::Live {
            tokens,
            set_cookies,
        } => {
            let failure = Event::new(EventName::GateFailed)
                .code(ErrorCode::AppUnreachable)
                .token_id(tokens.id.as_deref());
            Outcome::Forward(Forward {
                request_id: request.request_id.to_owned(),
                started_ms: request.started_ms,
                url: forward::forward_url(settings.app_origin.as_ref(), request.url),
                cookie: forward::forwarded_cookie(request.cookie),
                identity: forward::identity_headers(&tokens),
                cache_control: (!set_cookies.is_empty()).then_some(forward::PRIVATE_NO_STORE),
                set_cookies,
                unreachable: failure.logged_at(request.log).then_some(failure),
            })
        }
        SessionLookup::Reconnecting { error, .. } => {
            // The refresh failed on an outage and the access token is dead: the session
            // stays (the next request retries), but nothing is forwarded with it.
            Outcome::Answer(
                problem(
                    error.code(),
                    &Message::new("detail.reconnecting"),
                    &request.client(),
                )
                .with_header("Retry-After", RECONNECT_RETRY_SECS.to_string()),
            )
        }
        SessionLookup::SignedOut { set_cookies } => {
            emit(
                fx,
                request,
                Event::new(EventName::GateDenied).code(ErrorCode::SignInRequired),
            );
            let answer = if forward::is_browser_navigation(
                request.method,
                request.accept,
                request.sec_fetch_mode,
            ) {
                http::sign_in_redirect(forward::login_location(request.url))
            } else {
                http::sign_in_required(&request.client())
            };
            Outcome::Answer(answer.with_cookies(set_cookies))
        }
    }
}

/// `POST /revoke?key=<FREEDOM_ID_REVOKE_KEY> {"id": "<token id>"}`: Freedom ID's
/// back-channel sign-out. Only with the key (compared in constant time); the answer is the
/// same whether or not the id was known.
async fn revoke<E: Effects>(fx: &E, settings: &Settings, request: &Request<'_>) -> Answer {
    if let Some(limited) = rate_limit(fx, request).await {
        return limited;
    }
    let Some(expected) = &settings.revoke_key else {
        return problem(
            ErrorCode::RevocationUnavailable,
            &Message::new("detail.revocation_key_missing"),
            &request.client(),
        );
    };
    let key_matches = request
        .query_param("key")
        .is_some_and(|key| constant_time_eq(&key, expected.secret()));
    if !key_matches {
        emit(
            fx,
            request,
            Event::new(EventName::RevokeFailed).code(ErrorCode::RevocationForbidden),
        );
        return problem(
            ErrorCode::RevocationForbidden,
            &Message::new("detail.revocation_forbidden"),
            &request.client(),
        );
    }
    let id = fx.body(MAX_REVOKE_BODY).await.and_then(|body| {
        let [id] = crate::base::json::read_fields(&body, ["id"]).ok()?;
        id.as_str()
            .filter(|id| crate::freedom_id::token::is_token_id(id))
            .map(str::to_owned)
    });
    let Some(id) = id else {
        return problem(
            ErrorCode::InvalidRequest,
            &Message::new("detail.invalid_revoke"),
            &request.client(),
        );
    };
    match fx.revoke(&id, settings.session_max_age).await {
        Revocation::Recorded => {
            emit(
                fx,
                request,
                Event::new(EventName::Revoked).token_id(Some(&id)),
            );
            http::no_content()
        }
        Revocation::NotConfigured => problem(
            ErrorCode::RevocationUnavailable,
            &Message::new("detail.revocation_unavailable"),
            &request.client(),
        ),
        Revocation::Failed => {
            let event = Event::new(EventName::RevokeFailed).code(ErrorCode::RevocationUnavailable);
            emit(fx, request, event);
            problem(
                ErrorCode::RevocationUnavailable,
                &Message::new("detail.revocation_failed"),
                &request.client(),
            )
        }
    }
}

/// The largest `/revoke` body read.
const MAX_REVOKE_BODY: usize = 1024;

/// `Retry-After` while a session cannot be renewed (Freedom ID is not answering).
const RECONNECT_RETRY_SECS: u32 = 5;

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
        event.problems = http::problem_names(settings);
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

/// With the revocations binding, `/revoke` needs its key: without one, every sign-out call
/// from Freedom ID would be refused.
fn revoke_key_problem<E: Effects>(fx: &E, settings: &Settings) -> Option<Problem> {
    let missing = settings.state == StateMode::Bind
        && settings.revoke_key.is_none()
        && fx.revocations_bound();
    missing.then_some(Problem {
        setting: Setting::RevokeKey,
        reason: ProblemReason::RevokeKeyRequired,
    })
}

fn healthz<E: Effects>(
    fx: &E,
    settings: &Result<Settings, SettingsError>,
    request: &Request<'_>,
) -> Answer {
    let Ok(valid) = settings else {
        return http::healthz(settings);
    };
    let mut problems: Vec<Problem> = origin_problem(valid, request)
        .map(|error| error.problems().to_vec())
        .unwrap_or_default();
    problems.extend(revoke_key_problem(fx, valid));
    if problems.is_empty() {
        http::healthz(settings)
    } else {
        http::healthz(&Err(SettingsError::from_problems(problems)))
    }
}

async fn login<E: Effects>(
    fx: &E,
    settings: &Result<Settings, SettingsError>,
    request: &Request<'_>,
) -> Answer {
    let started = fx.now_ms();
    if let Some(limited) = rate_limit(fx, request).await {
        return limited;
    }
    let settings = match settings {
        Ok(settings) => settings,
        Err(error) => return failed(fx, request, &Error::Settings(error.clone()), None, started),
    };
    if let Some(error) = origin_problem(settings, request) {
        return failed(fx, request, &Error::Settings(error), None, started);
    }
    let state = match &settings.state {
        StateMode::Bind => {
            let mut random = [0_u8; STATE_BYTES];
            fx.random(&mut random);
            Some(new_state(&random))
        }
        // The npm package's own state never reaches the Worker's settings.
        StateMode::Off | StateMode::Given(_) => None,
    };
    let upstream =
        AuthorizeRequest::new(settings, state.as_ref().map(|s| s.secret())).to_upstream();
    let reply = fx.send(&upstream, settings.timeout_ms, None).await;
    let link = match read_reply(&reply, &settings.authorize_url) {
        Ok(link) => link,
        Err(error) => return failed(fx, request, &error, reply.status, started),
    };
    let started_event = Event::new(EventName::SignInStarted)
        .upstream_status(reply.status)
        .elapsed(started, fx.now_ms());
    let Some(state) = state else {
        emit(fx, request, started_event);
        return http::redirect(&link);
    };
    let flow = Flow {
        state,
        return_to: request
            .query_param("return_to")
            .and_then(|path| local_path(&path).map(str::to_owned)),
        created_at: now_secs(fx),
    };
    let name = flow_cookie_name(&flow.state);
    let Some(sealed) = seal(fx, &name, &flow.encode()).await else {
        return seal_failed(fx, request, started);
    };
    emit(fx, request, started_event);
    let earlier = names_with_prefix(request.cookie, FLOW_COOKIE_PREFIX);
    let expired = flows_to_expire(&earlier).into_iter().map(clear_cookie);
    http::redirect(&link).with_cookies(expired.chain([set_cookie(&name, &sealed, FLOW_MAX_AGE)]))
}

async fn callback<E: Effects>(fx: &E, settings: &Settings, request: &Request<'_>) -> Answer {
    let started = fx.now_ms();
    // Each callback may cost a token-endpoint call on our credentials: limited like /login.
    if let Some(limited) = rate_limit(fx, request).await {
        return limited;
    }
    let params = CallbackParams::from_query(request.url.query());
    // The flow cookie this callback names; without a state there is none to find. A flow
    // whose code already had a definite answer is spent: it matches nothing.
    let flow_name = params.state.as_ref().map(flow_cookie_name);
    let flow = match &flow_name {
        Some(name) => open_flow(fx, settings, request, name)
            .await
            .filter(|(id, _)| !fx.flow_spent(id)),
        None => None,
    };
    let (flow_id, flow) = flow.unzip();
    let clear_flow: Vec<String> = flow_name
        .iter()
        .filter(|name| cookie_value(request.cookie, name).is_some())
        .map(|name| clear_cookie(name))
        .collect();
    let expected = flow.as_ref().map(|flow| &flow.state);
    // No flow cookie: an expected state nobody can match, so the check fails closed.
    let none = crate::base::secret::CsrfState::new("");
    let code = match check_callback(&params, ExpectedState::Value(expected.unwrap_or(&none))) {
        Ok(code) => code,
        Err(error) => {
            return failed(fx, request, &error, None, started).with_cookies(clear_flow);
        }
    };
    let upstream = exchange_request(
        &settings.token_url,
        &settings.client_id,
        &settings.client_secret,
        &code,
    );
    let reply = fx.send(&upstream, settings.timeout_ms, None).await;
    let result = read_token_reply(TokenCall::Exchange, &reply);
    if let (Some(id), Ok(_) | Err(Error::CodeRejected { .. })) = (&flow_id, &result) {
        // A definite answer spends the flow: replaying its cookie with another guessed code
        // costs no further token-endpoint call (in this isolate; the cookie is cleared too).
        fx.spend_flow(id);
    }
    let tokens = match result {
        Ok(tokens) => tokens,
        // A refused code is spent: the flow is over. On an outage the code may still be
        // good, so the flow cookie stays for a reload to try again.
        Err(error @ Error::CodeRejected { .. }) => {
            return failed(fx, request, &error, reply.status, started).with_cookies(clear_flow);
        }
        Err(error) => return failed(fx, request, &error, reply.status, started),
    };
    let signed_in = Session {
        tokens,
        began_at: now_secs(fx),
    };
    let Some(session_cookie) = session_cookie(fx, settings, &signed_in).await else {
        return seal_failed(fx, request, started);
    };
    let tokens = signed_in.tokens;
    let completed = Event::new(EventName::SignInCompleted)
        .upstream_status(reply.status)
        .elapsed(started, fx.now_ms())
        .token_id(tokens.id.as_deref());
    emit(fx, request, completed);
    let landing = flow
        .and_then(|flow| flow.return_to)
        .unwrap_or_else(|| settings.after_sign_in.clone());
    let mut cookies = clear_flow;
    cookies.push(session_cookie);
    if cookie_value(request.cookie, DEAD_COOKIE).is_some() {
        cookies.push(clear_cookie(DEAD_COOKIE));
    }
    http::see_other(&landing).with_cookies(cookies)
}

/// The live flow sealed in cookie `name`, with its sealed cookie's id.
async fn open_flow<E: Effects>(
    fx: &E,
    settings: &Settings,
    request: &Request<'_>,
    name: &str,
) -> Option<(String, Flow)> {
    let value = cookie_value(request.cookie, name)?;
    let (iv, _) = decode_sealed(value)?;
    let flow = Flow::decode(&open(fx, settings, name, value).await?)?;
    (!flow.expired(now_secs(fx))).then(|| (seal_id(&iv), flow))
}

/// A live session for this request, refreshed if it had to be, and the cookies to set.
#[derive(Debug)]
pub enum SessionLookup {
    /// Signed in; `set_cookies` holds the renewed session after a refresh.
    Live {
        /// The session's tokens (refreshed, or as they were during an upstream outage).
        tokens: Tokens,
        /// Cookies to set with the answer.
        set_cookies: Vec<String>,
    },
    /// Still signed in, but the access token has expired and the refresh failed on an
    /// outage: the cookie stays and the next request retries, but no token may be used.
    Reconnecting {
        /// Why the refresh failed (the upstream outage's error).
        error: Error,
        /// The session's tokens, expired (for `/session`'s `accessExpiresAt`).
        tokens: Tokens,
    },
    /// Signed out; `set_cookies` clears what is unusable or marks a refused refresh.
    SignedOut {
        /// Cookies to set with the answer.
        set_cookies: Vec<String>,
    },
}

/// Finds this request's session: opens the cookie, refreshes it when due (one shared call
/// per sealed cookie), and decides the cookies to set.
pub async fn lookup_session<E: Effects>(
    fx: &E,
    settings: &Settings,
    request: &Request<'_>,
) -> SessionLookup {
    let signed_out = |set_cookies| SessionLookup::SignedOut { set_cookies };
    let Some(value) = cookie_value(request.cookie, SESSION_COOKIE) else {
        return signed_out(Vec::new());
    };
    let Some((iv, _)) = decode_sealed(value) else {
        return signed_out(vec![clear_cookie(SESSION_COOKIE)]);
    };
    let id = seal_id(&iv);
    let Some(session) = open_session(fx, settings, value).await else {
        // Tampered, truncated, another key or version: signed out, and cleared.
        return signed_out(vec![clear_cookie(SESSION_COOKIE)]);
    };
    if cookie_value(request.cookie, DEAD_COOKIE) == Some(id.as_str()) {
        // Its refresh was refused before: no further upstream call.
        return signed_out(Vec::new());
    }
    if let Some(token_id) = &session.tokens.id {
        if fx.is_revoked(token_id).await {
            // Signed out (Freedom ID's back channel, or /logout from another copy of this
            // cookie): so is this request, for good.
            return signed_out(vec![clear_cookie(SESSION_COOKIE)]);
        }
    }
    let now = now_secs(fx);
    match freshness(&session, now, settings.session_max_age) {
        Freshness::Fresh => SessionLookup::Live {
            tokens: session.tokens,
            set_cookies: Vec::new(),
        },
        // Past the refresh token or FREEDOM_ID_SESSION_MAX_AGE: over, and cleared.
        Freshness::Over => signed_out(vec![clear_cookie(SESSION_COOKIE)]),
        Freshness::Refresh => refresh(fx, settings, request, session, &id).await,
    }
}

/// The session sealed in the session cookie `value`.
async fn open_session<E: Effects>(fx: &E, settings: &Settings, value: &str) -> Option<Session> {
    decode_session(&open(fx, settings, SESSION_COOKIE, value).await?)
}

async fn refresh<E: Effects>(
    fx: &E,
    settings: &Settings,
    request: &Request<'_>,
    session: Session,
    id: &str,
) -> SessionLookup {
    let Session { tokens, began_at } = session;
    let started = fx.now_ms();
    let upstream = refresh_request(&settings.token_url, &tokens.refresh_token);
    let reply = fx.send(&upstream, settings.timeout_ms, Some(id)).await;
    let event = |name: EventName| {
        Event::new(name)
            .upstream_status(reply.status)
            .elapsed(started, fx.now_ms())
            .token_id(tokens.id.as_deref())
    };
    match read_token_reply(TokenCall::Refresh, &reply) {
        Ok(renewed) => {
            emit(fx, request, event(EventName::SessionRefreshed));
            let renewed = Session {
                tokens: renewed,
                began_at,
            };
            refreshed(fx, settings, renewed).await
        }
        Err(error) => {
            emit(
                fx,
                request,
                event(EventName::RefreshFailed).code(error.code()),
            );
            if let Error::RefreshRejected { .. } = error {
                SessionLookup::SignedOut {
                    set_cookies: vec![set_cookie(DEAD_COOKIE, id, settings.session_max_age)],
                }
            } else if tokens.access_expires_at <= now_secs(fx) {
                // An outage never signs anyone out, but an expired token is no pass: the
                // session waits for the next request's retry.
                SessionLookup::Reconnecting { error, tokens }
            } else {
                // An outage never signs anyone out: the token is still good, so keep the
                // session as it is and try again on a later request.
                SessionLookup::Live {
                    tokens,
                    set_cookies: Vec::new(),
                }
            }
        }
    }
}

/// A renewed session and its cookie.
async fn refreshed<E: Effects>(fx: &E, settings: &Settings, renewed: Session) -> SessionLookup {
    let set_cookies = session_cookie(fx, settings, &renewed)
        .await
        .into_iter()
        .collect();
    SessionLookup::Live {
        tokens: renewed.tokens,
        set_cookies,
    }
}

async fn session<E: Effects>(fx: &E, settings: &Settings, request: &Request<'_>) -> Answer {
    match lookup_session(fx, settings, request).await {
        SessionLookup::Live {
            tokens,
            set_cookies,
        } => http::session_status(Some((tokens.access_expires_at, tokens.refresh_expires_at)))
            .with_cookies(set_cookies),
        // Signed in, with the past `accessExpiresAt` (the page can say "reconnecting").
        SessionLookup::Reconnecting { tokens, .. } => {
            http::session_status(Some((tokens.access_expires_at, tokens.refresh_expires_at)))
        }
        SessionLookup::SignedOut { set_cookies } => {
            http::session_status(None).with_cookies(set_cookies)
        }
    }
}

/// `POST /logout`, only from this site: `Origin` is this origin, or (without `Origin`, or
/// with `Origin: null`) `Sec-Fetch-Site: same-origin`. With the revocations binding the
/// session's token pair is recorded as signed out, so a copy of the cookie elsewhere is
/// signed out too; without it, sign-out is per browser.
async fn logout<E: Effects>(fx: &E, settings: &Settings, request: &Request<'_>) -> Answer {
    if !from_this_site(request, false) {
        return problem(
            ErrorCode::CrossSiteRequest,
            &Message::new("detail.cross_site"),
            &request.client(),
        );
    }
    if let Some(token_id) = session_token_id(fx, settings, request).await {
        if fx.revoke(&token_id, settings.session_max_age).await == Revocation::Failed {
            // The browser is still signed out; only a copy of its cookie may live on.
            emit(
                fx,
                request,
                Event::new(EventName::RevokeFailed).code(ErrorCode::RevocationUnavailable),
            );
        }
    }
    emit(fx, request, Event::new(EventName::SignedOut));
    let flows = names_with_prefix(request.cookie, FLOW_COOKIE_PREFIX);
    let cookies = [SESSION_COOKIE, DEAD_COOKIE]
        .into_iter()
        .chain(flows)
        .map(clear_cookie);
    http::see_other("/").with_cookies(cookies)
}

/// The token pair id of this request's session cookie, if it opens and has one.
async fn session_token_id<E: Effects>(
    fx: &E,
    settings: &Settings,
    request: &Request<'_>,
) -> Option<String> {
    let value = cookie_value(request.cookie, SESSION_COOKIE)?;
    open_session(fx, settings, value).await?.tokens.id
}

async fn session_cookie<E: Effects>(
    fx: &E,
    settings: &Settings,
    session: &Session,
) -> Option<String> {
    let max_age = session_max_age(session, now_secs(fx), settings.session_max_age)?;
    let sealed = seal(fx, SESSION_COOKIE, &encode_session(session)).await?;
    Some(set_cookie(SESSION_COOKIE, &sealed, max_age))
}

fn seal_failed<E: Effects>(fx: &E, request: &Request<'_>, started: f64) -> Answer {
    let error = Error::Settings(SettingsError::from_problems(vec![Problem {
        setting: Setting::SessionSecret,
        reason: ProblemReason::SessionSecret,
    }]));
    failed(fx, request, &error, None, started)
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
