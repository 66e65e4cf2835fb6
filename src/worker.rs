//! The Cloudflare Worker: a thin adapter that reads the request and env, asks the core,
//! and copies its [`Answer`] into a response. Errors are answered with their own status
//! (an `Err` out of `#[event(fetch)]` would become an opaque 500).

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use worker::{console_error, event, Context, Env, Request, Response, ResponseBuilder};

use crate::authorize::{read_reply, AuthorizeRequest};
use crate::error::{Error, ErrorCode};
use crate::fetch::send;
use crate::http::{self, failure_log_line, prefers_html, problem, route, Answer, Route};
use crate::rate_limit::rate_limit_key;
use crate::settings::{Settings, SettingsError, StateMode};
use crate::state::{self, STATE_BYTES, STATE_COOKIE, STATE_PARAM};
use crate::url::AbsoluteUrl;

/// The optional rate-limiting binding (`[[ratelimits]]` in wrangler.toml).
const RATE_LIMITER_BINDING: &str = "FREEDOM_ID_RATE_LIMITER";
/// The callback page, shown only by `/callback` after the state check: it is compiled in,
/// not a static asset, so no URL reaches it around the check.
const CALLBACK_PAGE: &str = include_str!("pages/callback.html");

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buffer: &mut [u8]);
}

#[event(start)]
fn start() {
    crate::panic_hook::install();
}

#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let accept = request.headers().get("Accept").ok().flatten();
    let wants_html = prefers_html(accept.as_deref());
    let answer = match route(request.method().as_ref(), &request.path()) {
        Route::Login => login(&request, &env, accept.as_deref()).await,
        Route::Callback => callback(&request, &env, wants_html).await,
        Route::Healthz => http::healthz(&settings(&env)),
        Route::MethodNotAllowed => problem(
            ErrorCode::MethodNotAllowed,
            "This address only answers GET and HEAD requests.",
            wants_html,
        ),
        Route::NotFound => problem(
            ErrorCode::NotFound,
            "There is nothing at this address.",
            wants_html,
        ),
    };
    into_response(answer)
}

async fn login(request: &Request, env: &Env, accept: Option<&str>) -> Answer {
    let started = now_ms();
    if let Some(retry_after) = over_rate_limit(request, env).await {
        console_error!("freedom-id-edge: /login refused code=RATE_LIMITED");
        return http::rate_limited(prefers_html(accept), retry_after);
    }
    let settings = settings(env);
    let settings = match settings.as_ref() {
        Ok(settings) => settings,
        Err(error) => return failed(&Error::Settings(error.clone()), None, started, accept),
    };
    let state = (settings.state == StateMode::Bind).then(random_state);
    let request = AuthorizeRequest::new(settings, state.as_deref()).to_upstream();
    let reply = send(&request, settings.timeout_ms).await;
    match read_reply(&reply, &settings.authorize_url) {
        Ok(link) => {
            let answer = http::redirect(&link);
            match state {
                Some(state) => {
                    let now_secs = (now_ms() / 1000.0) as u64;
                    answer.with_header(
                        "Set-Cookie",
                        state::set_state_cookie(&state, link.expire_at, now_secs),
                    )
                }
                None => answer,
            }
        }
        Err(error) => failed(&error, reply.status, started, accept),
    }
}

fn failed(
    error: &Error,
    upstream_status: Option<u16>,
    started: f64,
    accept: Option<&str>,
) -> Answer {
    console_error!(
        "{}",
        failure_log_line(error, upstream_status, now_ms() - started)
    );
    http::login_answer(&Err(error.clone()), accept)
}

/// `Some(seconds to wait)` when the rate limiter (if bound) refuses this client.
async fn over_rate_limit(request: &Request, env: &Env) -> Option<u32> {
    let limiter = env.rate_limiter(RATE_LIMITER_BINDING).ok()?;
    let client_ip = request.headers().get("CF-Connecting-IP").ok().flatten();
    let key = rate_limit_key(client_ip.as_deref())?;
    match limiter.limit(key).await {
        Ok(outcome) if !outcome.success => Some(60),
        Ok(_) => None,
        Err(_) => {
            // Fail open: a broken limiter must not lock everyone out of signing in.
            console_error!("freedom-id-edge: rate limiter unavailable, /login allowed");
            None
        }
    }
}

async fn callback(request: &Request, env: &Env, wants_html: bool) -> Answer {
    // Invalid settings fail closed: the state is checked unless it is explicitly off.
    let binding = settings(env)
        .as_ref()
        .as_ref()
        .map_or(true, |settings| settings.state == StateMode::Bind);
    if binding {
        // The raw URL read with the core's own parser: `Request::url()` would link in the
        // `url` crate and its Unicode tables (about 77 kB of gzipped wasm).
        let returned = AbsoluteUrl::parse(&request.inner().url())
            .ok()
            .and_then(|url| url.query_param(STATE_PARAM));
        let cookies = request.headers().get("Cookie").ok().flatten();
        let kept = state::cookie_value(cookies.as_deref(), STATE_COOKIE);
        if !state::states_match(returned.as_deref(), kept) {
            console_error!("freedom-id-edge: /callback refused code=STATE_MISMATCH");
            return http::state_mismatch(wants_html);
        }
    }
    http::callback_page(CALLBACK_PAGE.to_owned(), binding)
}

/// A fresh state from the runtime's CSPRNG.
fn random_state() -> String {
    let mut random = [0_u8; STATE_BYTES];
    get_random_values(&mut random);
    state::encode_state(&random)
}

thread_local! {
    /// The settings as read by this isolate's first request.
    static SETTINGS: RefCell<Option<Rc<Result<Settings, SettingsError>>>> = const { RefCell::new(None) };
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

fn into_response(answer: Answer) -> worker::Result<Response> {
    let mut builder = ResponseBuilder::new().with_status(answer.status);
    for (name, value) in &answer.headers {
        builder = builder.with_header(name, value)?;
    }
    Ok(if answer.body.is_empty() {
        builder.empty()
    } else {
        builder.fixed(answer.body.into_bytes())
    })
}

/// Milliseconds since the epoch, for the elapsed time in log lines.
fn now_ms() -> f64 {
    js_sys::Date::now()
}
