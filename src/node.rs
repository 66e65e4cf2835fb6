//! The npm package's export: `createAuthorizationLink(options)`. A thin adapter that reads
//! the options object into the core's settings, makes the same upstream call as the Worker,
//! and turns the result into a plain object or a rejected `Error` with a `code`.

use js_sys::{Array, Object, Reflect};
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;

use crate::authorize::AuthorizeRequest;
use crate::error::{Error, ErrorCode};
use crate::fetch::exchange;
use crate::settings::{
    GrantsInput, Problem, ProblemReason, Setting, Settings, SettingsInput, StateInput, StateMode,
    TimeoutInput,
};
use crate::AuthorizationLink;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
export interface AuthorizationLinkOptions {
  clientId: string; clientSecret: string;   // the Basic pair issued by Freedom ID
  redirectUri: string;                      // absolute https URL (http only for localhost)
  grants: string[];                         // e.g. ["openid", "read.email"]
  authorizeUrl?: string;                    // default https://passport.freedompay.kz/api/v1/oauth/authorize
  timeoutMs?: number;                       // default 5000
  state?: string;                           // appended to redirectUri as ?state= / &state= (login-CSRF binding)
}
export interface AuthorizationLink {
  url: string;                 // the Freedom ID link to redirect the user to
  trackId: string | null;      // track_id query parameter of the link, if present
  expireAt: number | null;     // expire_at (unix seconds) of the link, if present
}
"#;

/// Logs panics through `console.error` (runs once, when the module loads).
#[wasm_bindgen(start)]
fn start() {
    crate::panic_hook::install();
}

/// Asks Freedom ID for a sign-in link to redirect the user to.
///
/// With `state`, the value is appended to `redirectUri` (Freedom ID returns it on the
/// callback): keep a copy bound to the user's session and compare it there.
///
/// Rejects with an `Error` whose `code` is `INVALID_OPTIONS`, `UPSTREAM_STATUS` (with a
/// numeric `status`), `UPSTREAM_MALFORMED`, `UNTRUSTED_LINK`, `UPSTREAM_NETWORK` or
/// `UPSTREAM_TIMEOUT`. Messages never contain the client secret.
#[wasm_bindgen(js_name = createAuthorizationLink, unchecked_return_type = "AuthorizationLink")]
pub async fn create_authorization_link(
    #[wasm_bindgen(unchecked_param_type = "AuthorizationLinkOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let settings = read_options(&options)
        .map_err(|message| js_error(ErrorCode::InvalidOptions, &message, None))?;
    let state = match &settings.state {
        StateMode::Given(state) => Some(state.as_str()),
        StateMode::Bind | StateMode::Off => None,
    };
    let request = AuthorizeRequest::new(&settings, state);
    match exchange(&request, &settings).await.result {
        Ok(link) => Ok(link_object(&link)),
        Err(error) => Err(upstream_error(&error)),
    }
}

/// Reads and validates the options, or says what is wrong with them (never a value).
fn read_options(options: &JsValue) -> Result<Settings, String> {
    if !options.is_object() || Array::is_array(options) {
        return Err("createAuthorizationLink expects an options object".to_owned());
    }
    let mut problems = Vec::new();
    let client_id: Option<String> = option(options, Setting::ClientId, "a string", &mut problems);
    let client_secret: Option<String> =
        option(options, Setting::ClientSecret, "a string", &mut problems);
    let redirect_uri: Option<String> =
        option(options, Setting::RedirectUri, "a string", &mut problems);
    let grants: Option<Vec<String>> = option(
        options,
        Setting::Grants,
        "an array of strings",
        &mut problems,
    );
    let authorize_url: Option<String> =
        option(options, Setting::AuthorizeUrl, "a string", &mut problems);
    let timeout_ms: Option<f64> = option(options, Setting::TimeoutMs, "a number", &mut problems);
    let state: Option<String> = option(options, Setting::State, "a string", &mut problems);
    Settings::from_input(SettingsInput {
        client_id: client_id.as_deref(),
        client_secret: client_secret.as_deref(),
        redirect_uri: redirect_uri.as_deref(),
        grants: grants.as_deref().map(GrantsInput::Items),
        authorize_url: authorize_url.as_deref(),
        timeout_ms: timeout_ms.map(TimeoutInput::Number),
        state: state.as_deref().map(StateInput::Value),
        early_problems: problems,
    })
    .map_err(|error| format!("invalid options: {}", error.describe(Setting::option_name)))
}

/// One property, read with serde-wasm-bindgen; `undefined`/`null` mean "not given".
fn option<T: DeserializeOwned>(
    options: &JsValue,
    setting: Setting,
    expected: &'static str,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    let value = Reflect::get(options, &JsValue::from_str(setting.option_name())).ok()?;
    if value.is_undefined() || value.is_null() {
        return None;
    }
    serde_wasm_bindgen::from_value(value)
        .map_err(|_| {
            problems.push(Problem {
                setting,
                reason: ProblemReason::WrongType(expected),
            })
        })
        .ok()
}

fn set(target: &Object, key: &str, value: &JsValue) {
    // Setting a property on a fresh plain object or Error cannot fail.
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

fn link_object(link: &AuthorizationLink) -> JsValue {
    let object = Object::new();
    set(&object, "url", &JsValue::from_str(link.url.as_str()));
    set(
        &object,
        "trackId",
        &link
            .track_id
            .as_deref()
            .map_or(JsValue::NULL, JsValue::from_str),
    );
    // Unix seconds fit a JavaScript number exactly for the next 285 million years.
    set(
        &object,
        "expireAt",
        &link
            .expire_at
            .map_or(JsValue::NULL, |at| JsValue::from_f64(at as f64)),
    );
    object.into()
}

fn upstream_error(error: &Error) -> JsValue {
    let status = match error {
        Error::UpstreamStatus { status } => Some(*status),
        _ => None,
    };
    js_error(error.code(), &error.to_string(), status)
}

/// A real `Error` with `code` (and `status` for `UPSTREAM_STATUS`), so callers can branch.
fn js_error(code: ErrorCode, message: &str, status: Option<u16>) -> JsValue {
    let error = js_sys::Error::new(&format!("freedom-id-edge: {message}"));
    set(&error, "code", &JsValue::from_str(code.as_str()));
    if let Some(status) = status {
        set(&error, "status", &JsValue::from(status));
    }
    error.into()
}
