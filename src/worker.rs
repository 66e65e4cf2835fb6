//! The Cloudflare Worker: a thin adapter that reads the request and env, asks the core,
//! and copies its [`Answer`] into a response. Errors are answered with their own status
//! (an `Err` out of `#[event(fetch)]` would become an opaque 500).

use wasm_bindgen::JsValue;
use worker::{console_error, event, Context, Env, Request, Response, ResponseBuilder};

use crate::authorize::AuthorizeRequest;
use crate::error::{Error, ErrorCode};
use crate::fetch::exchange;
use crate::http::{self, failure_log_line, prefers_html, problem, route, Answer, Route};
use crate::settings::{Settings, SettingsError};

#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let accept = request.headers().get("Accept").ok().flatten();
    let answer = match route(request.method().as_ref(), &request.path()) {
        Route::Login => login(&env, accept.as_deref()).await,
        Route::Healthz => http::healthz(&read_settings(&env)),
        Route::MethodNotAllowed => problem(
            ErrorCode::MethodNotAllowed,
            "This address only answers GET and HEAD requests.",
            prefers_html(accept.as_deref()),
        ),
        Route::NotFound => problem(
            ErrorCode::NotFound,
            "There is nothing at this address.",
            prefers_html(accept.as_deref()),
        ),
    };
    into_response(answer)
}

async fn login(env: &Env, accept: Option<&str>) -> Answer {
    let started = now_ms();
    let (result, upstream_status) = match read_settings(env) {
        Ok(settings) => {
            let request = AuthorizeRequest::new(&settings, settings.redirect_uri.as_str());
            let exchange = exchange(&request, &settings).await;
            (exchange.result, exchange.upstream_status)
        }
        Err(error) => (Err(Error::Settings(error)), None),
    };
    if let Err(error) = &result {
        console_error!(
            "{}",
            failure_log_line(error, upstream_status, now_ms() - started)
        );
    }
    http::login_answer(&result, accept)
}

fn read_settings(env: &Env) -> Result<Settings, SettingsError> {
    Settings::from_env(|name| read_env(env, name))
}

/// Vars and secrets are both plain values in the env; a var written as a TOML number
/// (`FREEDOM_ID_TIMEOUT_MS = 5000`) arrives as a JavaScript number.
fn read_env(env: &Env, name: &str) -> Option<String> {
    let value = js_sys::Reflect::get(env, &JsValue::from_str(name)).ok()?;
    value
        .as_string()
        .or_else(|| value.as_f64().map(|number| number.to_string()))
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
