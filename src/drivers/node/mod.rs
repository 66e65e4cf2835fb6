//! The npm package's exports: `createAuthorizationLink`, `completeSignIn`,
//! `exchangeAuthorizationCode` and `refreshTokens`. A thin adapter: it reads the options
//! object into the core's types, performs the calls the core builds, and turns the core's
//! answer into a plain object or a rejected `Error` with a `code`.
//!
//! Options are read from the object's **own** properties only: a polluted
//! `Object.prototype.authorizeUrl` must never redirect the client secret.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::base::secret::{AuthorizationCode, ClientId, ClientSecret, CsrfState, RefreshToken};
use crate::base::url::AbsoluteUrl;
use crate::config::parse::{parse_client_id, parse_client_secret, parse_timeout, parse_token_url};
use crate::config::settings::{
    Field, GrantsInput, ProblemReason, Setting, Settings, SettingsInput, StateInput, TimeoutInput,
};
use crate::config::values::StateMode;
use crate::drivers::fetch::send;
use crate::error::{Error, ErrorCode};
use crate::freedom_id::authorize::{read_reply, AuthorizeRequest};
use crate::freedom_id::callback::{check_callback, CallbackParams, ExpectedState};
use crate::freedom_id::token::{
    exchange_request, read_token_reply, refresh_request, TokenCall, Tokens,
};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
export interface AuthorizationLinkOptions {
  clientId: string; clientSecret: string;   // the Basic pair issued by Freedom ID
  redirectUri: string;                      // absolute https URL (http only for localhost)
  grants: string[];                         // e.g. ["openid", "read.email"]
  authorizeUrl?: string;                    // default https://passport.freedompay.kz/api/v1/oauth/authorize
  timeoutMs?: number;                       // default 5000
  /** Login-CSRF binding. Absent (or undefined/null): a fresh 256-bit state is made and returned.
   *  A string: yours is used. false: no state (only if you bind the sign-in some other way). */
  state?: string | false | null;
}
export interface AuthorizationLink {
  url: string;                 // the Freedom ID link to redirect the user to
  trackId: string | null;      // track_id query parameter of the link, if present
  expireAt: number | null;     // expire_at (unix seconds) of the link, if present
  /** The state appended to redirectUri: keep it in the user's session and pass it to
   *  completeSignIn as expectedState. null only when made with state: false (then pass
   *  completeSignIn skipStateCheck: true). */
  state: string | null;
}
/** The state check is required: pass expectedState, the state kept from createAuthorizationLink.
 *  Only for a link made with state: false, pass skipStateCheck: true instead (never both). */
export type CompleteSignInOptions = {
  clientId: string; clientSecret: string;
  callbackUrl: string;            // the full URL Freedom ID sent the user back to (or its path and query)
  tokenUrl?: string;              // default https://passport.freedompay.kz/api/v1/oauth/token
  timeoutMs?: number;             // default 5000
} & (
  | { expectedState: string; skipStateCheck?: false }    // the state kept from createAuthorizationLink
  | { skipStateCheck: true; expectedState?: undefined }  // no state check: only for a link made with state: false
);
export interface ExchangeAuthorizationCodeOptions {
  clientId: string; clientSecret: string;
  code: string;                   // the authorization_code from the callback
  tokenUrl?: string; timeoutMs?: number;
}
export interface RefreshTokensOptions {
  refreshToken: string;           // used up by this call: store the new one
  tokenUrl?: string; timeoutMs?: number;
}
export interface Tokens {
  id: string | null;              // Freedom ID's id for this token pair
  accessToken: string;
  refreshToken: string;
  accessExpiresAt: number;        // unix seconds
  refreshExpiresAt: number;       // unix seconds
}
"#;

/// Asks Freedom ID for a sign-in link to redirect the user to.
///
/// A fresh login-CSRF `state` is made and appended to `redirectUri` unless `state` is
/// given (yours is used) or `false` (none); it is returned as `link.state`.
///
/// Rejects with an `Error` whose `code` is `INVALID_OPTIONS`, `UPSTREAM_STATUS` (with a
/// numeric `status`), `UPSTREAM_MALFORMED`, `UNTRUSTED_LINK`, `UPSTREAM_NETWORK` or
/// `UPSTREAM_TIMEOUT`. Messages never contain the client secret.
#[wasm_bindgen(js_name = createAuthorizationLink, unchecked_return_type = "AuthorizationLink")]
pub async fn create_authorization_link(
    #[wasm_bindgen(unchecked_param_type = "AuthorizationLinkOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    crate::drivers::panic_hook::install();
    let settings = read_link_options(&options).map_err(invalid_options)?;
    let state = match &settings.state {
        StateMode::Given(state) => Some(state.clone()),
        StateMode::Bind => Some(random_state().secret().to_owned()),
        StateMode::Off => None,
    };
    let request = AuthorizeRequest::new(&settings, state.as_deref()).to_upstream();
    let reply = send(&request, settings.timeout_ms).await;
    match read_reply(&reply, &settings.authorize_url) {
        Ok(link) => {
            let object = Object::new();
            set(&object, "url", &JsValue::from_str(link.url.as_str()));
            set(
                &object,
                "trackId",
                &optional_string(link.track_id.as_deref()),
            );
            // Unix seconds fit a JavaScript number exactly for the next 285 million years.
            let expire_at = link
                .expire_at
                .map_or(JsValue::NULL, |at| JsValue::from_f64(at as f64));
            set(&object, "expireAt", &expire_at);
            set(&object, "state", &optional_string(state.as_deref()));
            Ok(object.into())
        }
        Err(error) => Err(upstream_error(&error)),
    }
}

/// Completes a sign-in on the callback: checks the callback's `state` against
/// `expectedState` (in constant time, before anything is sent), then exchanges the code.
/// `skipStateCheck: true` is the only way to skip the check (for a link made with
/// `state: false`); a non-string `expectedState`, such as `false`, is `INVALID_OPTIONS`.
///
/// Rejects with `STATE_MISMATCH` (nothing sent), `SIGN_IN_DECLINED` (with
/// `freedomIdErrorCode`), `CODE_REJECTED` (with `status` and, when sent, `upstreamCode`),
/// `INVALID_OPTIONS`, or the upstream codes of `createAuthorizationLink`.
#[wasm_bindgen(js_name = completeSignIn, unchecked_return_type = "Tokens")]
pub async fn complete_sign_in(
    #[wasm_bindgen(unchecked_param_type = "CompleteSignInOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    crate::drivers::panic_hook::install();
    let mut reader = OptionsReader::new(&options, "completeSignIn").map_err(invalid_options)?;
    let client = reader.client();
    let callback_url = reader.required_string("callbackUrl");
    let state_check = reader.state_check();
    let endpoint = reader.token_endpoint();
    reader.finish().map_err(invalid_options)?;
    let (Some(client), Some(callback_url), Some(state_check), Some(endpoint)) =
        (client, callback_url, state_check, endpoint)
    else {
        return Err(invalid_options(
            "completeSignIn: invalid options".to_owned(),
        ));
    };
    let params = CallbackParams::from_url(&callback_url)
        .map_err(|why| invalid_options(format!("invalid options: callbackUrl {why}")))?;
    let expected = match &state_check {
        StateCheck::Expect(state) => ExpectedState::Value(state),
        StateCheck::Skip => ExpectedState::Off,
    };
    let code = match check_callback(&params, expected) {
        Ok(code) => code,
        Err(Error::CallbackWithoutCode) => {
            return Err(invalid_options(
                "invalid options: callbackUrl has neither authorization_code nor error_code"
                    .to_owned(),
            ))
        }
        Err(error) => return Err(upstream_error(&error)),
    };
    exchange(&client, &code, &endpoint).await
}

/// Exchanges an authorization code for tokens (no state check: use `completeSignIn` on a
/// callback).
#[wasm_bindgen(js_name = exchangeAuthorizationCode, unchecked_return_type = "Tokens")]
pub async fn exchange_authorization_code(
    #[wasm_bindgen(unchecked_param_type = "ExchangeAuthorizationCodeOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    crate::drivers::panic_hook::install();
    let mut reader =
        OptionsReader::new(&options, "exchangeAuthorizationCode").map_err(invalid_options)?;
    let client = reader.client();
    let code = reader.required_string("code");
    let endpoint = reader.token_endpoint();
    reader.finish().map_err(invalid_options)?;
    let (Some(client), Some(code), Some(endpoint)) = (client, code, endpoint) else {
        return Err(invalid_options(
            "exchangeAuthorizationCode: invalid options".to_owned(),
        ));
    };
    exchange(&client, &AuthorizationCode::new(code), &endpoint).await
}

/// Trades a refresh token for a new token pair. The old refresh token is used up: store
/// the new one. Rejects with `REFRESH_REJECTED` when Freedom ID refuses it.
#[wasm_bindgen(js_name = refreshTokens, unchecked_return_type = "Tokens")]
pub async fn refresh_tokens(
    #[wasm_bindgen(unchecked_param_type = "RefreshTokensOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    crate::drivers::panic_hook::install();
    let mut reader = OptionsReader::new(&options, "refreshTokens").map_err(invalid_options)?;
    let refresh_token = reader.required_string("refreshToken");
    let endpoint = reader.token_endpoint();
    reader.finish().map_err(invalid_options)?;
    let (Some(refresh_token), Some(endpoint)) = (refresh_token, endpoint) else {
        return Err(invalid_options("refreshTokens: invalid options".to_owned()));
    };
    let request = refresh_request(&endpoint.url, &RefreshToken::new(refresh_token));
    let reply = send(&request, endpoint.timeout_ms).await;
    read_token_reply(TokenCall::Refresh, &reply)
        .map(|tokens| tokens_object(&tokens))
        .map_err(|error| upstream_error(&error))
}

async fn exchange(
    client: &(ClientId, ClientSecret),
    code: &AuthorizationCode,
    endpoint: &TokenEndpoint,
) -> Result<JsValue, JsValue> {
    let request = exchange_request(&endpoint.url, &client.0, &client.1, code);
    let reply = send(&request, endpoint.timeout_ms).await;
    read_token_reply(TokenCall::Exchange, &reply)
        .map(|tokens| tokens_object(&tokens))
        .map_err(|error| upstream_error(&error))
}

/// Where and how long the token calls go.
struct TokenEndpoint {
    url: AbsoluteUrl,
    timeout_ms: u32,
}

/// How `completeSignIn` checks the callback's `state`.
enum StateCheck {
    /// `expectedState`: the state kept from `createAuthorizationLink`.
    Expect(CsrfState),
    /// `skipStateCheck: true`: no check, for a link made with `state: false`.
    Skip,
}

/// A fresh state: 256 bits from the runtime's CSPRNG, URL-safe base64.
fn random_state() -> CsrfState {
    let mut random = [0_u8; crate::freedom_id::state::STATE_BYTES];
    crate::drivers::webcrypto::random(&mut random);
    crate::freedom_id::state::new_state(&random)
}

/// Reads an options object's own properties, collecting every problem (never a value).
struct OptionsReader<'a> {
    options: &'a JsValue,
    problems: Vec<String>,
}

/// One own property: absent (missing, `undefined` or `null`), a value, or a getter that threw.
enum Own {
    Absent,
    Value(JsValue),
    Unreadable,
}

impl<'a> OptionsReader<'a> {
    fn new(options: &'a JsValue, function: &str) -> Result<OptionsReader<'a>, String> {
        if !options.is_object() || Array::is_array(options) {
            return Err(format!("{function} expects an options object"));
        }
        Ok(OptionsReader {
            options,
            problems: Vec::new(),
        })
    }

    /// The own property `name`; inherited ones (a polluted prototype) are never read.
    fn own(&self, name: &str) -> Own {
        own_property(self.options, name)
    }

    fn problem(&mut self, name: &str, reason: &str) {
        self.problems.push(format!("{name} {reason}"));
    }

    fn string(&mut self, name: &str) -> Option<String> {
        match self.own(name) {
            Own::Absent => None,
            Own::Value(value) => {
                let text = value.as_string();
                if text.is_none() {
                    self.problem(name, "must be a string");
                }
                text
            }
            Own::Unreadable => {
                self.problem(name, "could not be read");
                None
            }
        }
    }

    fn required_string(&mut self, name: &str) -> Option<String> {
        let present = !matches!(self.own(name), Own::Absent);
        match self.string(name) {
            Some(text) if !text.is_empty() => Some(text),
            Some(_) => {
                self.problem(name, "is missing");
                None
            }
            None if !present => {
                self.problem(name, "is missing");
                None
            }
            None => None,
        }
    }

    fn checked<T>(&mut self, name: &str, result: Result<T, ProblemReason>) -> Option<T> {
        result
            .map_err(|reason| self.problem(name, &reason.to_string()))
            .ok()
    }

    fn client(&mut self) -> Option<(ClientId, ClientSecret)> {
        let id = self.string("clientId");
        let id = self.checked("clientId", parse_client_id(id.as_deref()));
        let secret = self.string("clientSecret");
        let secret = self.checked("clientSecret", parse_client_secret(secret.as_deref()));
        Some((id?, secret?))
    }

    fn token_endpoint(&mut self) -> Option<TokenEndpoint> {
        let url = self.string("tokenUrl");
        let url = self.checked("tokenUrl", parse_token_url(url.as_deref()));
        let timeout = match self.own("timeoutMs") {
            Own::Absent => None,
            Own::Value(value) => match value.as_f64() {
                Some(number) => Some(TimeoutInput::Number(number)),
                None => {
                    self.problem("timeoutMs", "must be a number");
                    return None;
                }
            },
            Own::Unreadable => {
                self.problem("timeoutMs", "could not be read");
                return None;
            }
        };
        let timeout_ms = self.checked("timeoutMs", parse_timeout(timeout.as_ref()));
        Some(TokenEndpoint {
            url: url?,
            timeout_ms: timeout_ms?,
        })
    }

    /// The state check: `expectedState` (a non-empty string), or `skipStateCheck: true` and
    /// no `expectedState`. Nothing else switches the check off: `expectedState: false` (say
    /// from `session.state ?? false`) is a problem naming `expectedState`, and a missing
    /// `expectedState` without `skipStateCheck: true` is one too.
    fn state_check(&mut self) -> Option<StateCheck> {
        let skip = match self.own("skipStateCheck") {
            Own::Absent => Some(false),
            Own::Value(value) => {
                let skip = value.as_bool();
                if skip.is_none() {
                    self.problem("skipStateCheck", "must be true or false");
                }
                skip
            }
            Own::Unreadable => {
                self.problem("skipStateCheck", "could not be read");
                None
            }
        };
        let expected = match self.own("expectedState") {
            Own::Absent => None,
            Own::Value(value) => Some(self.expected_state(&value)),
            Own::Unreadable => {
                self.problem("expectedState", "could not be read");
                return None;
            }
        };
        match (skip?, expected) {
            (true, None) => Some(StateCheck::Skip),
            (true, Some(_)) => {
                self.problem("skipStateCheck", "cannot be combined with expectedState");
                None
            }
            (false, Some(state)) => state.map(StateCheck::Expect),
            (false, None) => {
                self.problem(
                    "expectedState",
                    "is missing (pass the state kept from createAuthorizationLink; \
                     skipStateCheck: true instead only for a link made with state: false)",
                );
                None
            }
        }
    }

    /// A given `expectedState`: a non-empty string, never `false` or another type.
    fn expected_state(&mut self, value: &JsValue) -> Option<CsrfState> {
        match value.as_string() {
            Some(text) if !text.is_empty() => Some(CsrfState::new(text)),
            _ => {
                self.problem(
                    "expectedState",
                    "must be the state kept from createAuthorizationLink (a non-empty string); \
                     only skipStateCheck: true skips the state check",
                );
                None
            }
        }
    }

    fn finish(self) -> Result<(), String> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(format!("invalid options: {}", self.problems.join("; ")))
        }
    }
}

fn own_property(options: &JsValue, name: &str) -> Own {
    let key = JsValue::from_str(name);
    let Some(object) = options.dyn_ref::<Object>() else {
        return Own::Absent;
    };
    // A throwing Proxy trap reads as unreadable, like a throwing getter.
    let has_own = Reflect::get_own_property_descriptor(object, &key);
    match has_own {
        Ok(descriptor) if descriptor.is_undefined() => Own::Absent,
        Ok(_) => match Reflect::get(options, &key) {
            Ok(value) if value.is_undefined() || value.is_null() => Own::Absent,
            Ok(value) => Own::Value(value),
            Err(_) => Own::Unreadable,
        },
        Err(_) => Own::Unreadable,
    }
}

/// Reads `createAuthorizationLink`'s options into settings, or says what is wrong (never a value).
fn read_link_options(options: &JsValue) -> Result<Settings, String> {
    let reader = OptionsReader::new(options, "createAuthorizationLink")?;
    // One own option as a typed field: absent, `read`'s value, or the type it needed.
    let field = |setting: Setting, expected: &'static str, read: &dyn Fn(&JsValue) -> Option<_>| {
        match reader.own(setting.option_name()) {
            Own::Absent => Field::Absent,
            Own::Value(value) => read(&value).map_or(Field::WrongType(expected), Field::Value),
            Own::Unreadable => Field::Unreadable,
        }
    };
    let text = |setting: Setting| field(setting, "a string", &|value| value.as_string());
    let grants = match reader.own(Setting::Grants.option_name()) {
        Own::Absent => Field::Absent,
        Own::Value(value) => strings(&value)
            .map_or(Field::WrongType("an array of strings"), |items| {
                Field::Value(GrantsInput::Items(items))
            }),
        Own::Unreadable => Field::Unreadable,
    };
    let timeout_ms = match reader.own(Setting::TimeoutMs.option_name()) {
        Own::Absent => Field::Absent,
        Own::Value(value) => value
            .as_f64()
            .map_or(Field::WrongType("a number"), |number| {
                Field::Value(TimeoutInput::Number(number))
            }),
        Own::Unreadable => Field::Unreadable,
    };
    // Absent: a fresh state (Bind); false: none; a string: the caller's.
    let state = match reader.own(Setting::State.option_name()) {
        Own::Absent => Field::Value(StateInput::Switch("on".to_owned())),
        Own::Value(value) if value.as_bool() == Some(false) => {
            Field::Value(StateInput::Switch("off".to_owned()))
        }
        Own::Value(value) => value
            .as_string()
            .map_or(Field::WrongType("a string or false"), |text| {
                Field::Value(StateInput::Value(text))
            }),
        Own::Unreadable => Field::Unreadable,
    };
    Settings::from_input(SettingsInput {
        client_id: text(Setting::ClientId),
        client_secret: text(Setting::ClientSecret),
        redirect_uri: text(Setting::RedirectUri),
        authorize_url: text(Setting::AuthorizeUrl),
        grants,
        timeout_ms,
        state,
        ..SettingsInput::default()
    })
    .map_err(|error| format!("invalid options: {}", error.describe(Setting::option_name)))
}

/// A JS array whose every item is a string, as strings; `None` for anything else. Read by
/// hand: serde-wasm-bindgen for this one array cost the npm wasm about 11 kB gzip.
fn strings(value: &JsValue) -> Option<Vec<String>> {
    if !Array::is_array(value) {
        return None;
    }
    let array: &Array = value.unchecked_ref();
    array.iter().map(|item| item.as_string()).collect()
}

fn set(target: &Object, key: &str, value: &JsValue) {
    // Setting a property on a fresh plain object or Error cannot fail.
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

fn optional_string(text: Option<&str>) -> JsValue {
    text.map_or(JsValue::NULL, JsValue::from_str)
}

fn tokens_object(tokens: &Tokens) -> JsValue {
    let object = Object::new();
    set(&object, "id", &optional_string(tokens.id.as_deref()));
    set(
        &object,
        "accessToken",
        &JsValue::from_str(tokens.access_token.secret()),
    );
    set(
        &object,
        "refreshToken",
        &JsValue::from_str(tokens.refresh_token.secret()),
    );
    set(
        &object,
        "accessExpiresAt",
        &JsValue::from_f64(tokens.access_expires_at as f64),
    );
    set(
        &object,
        "refreshExpiresAt",
        &JsValue::from_f64(tokens.refresh_expires_at as f64),
    );
    object.into()
}

fn invalid_options(message: String) -> JsValue {
    js_error(ErrorCode::InvalidOptions, &message)
}

/// A real `Error` with `code`, and the details callers branch on: `status` for
/// `UPSTREAM_STATUS`, `CODE_REJECTED` and `REFRESH_REJECTED`; `upstreamCode` when Freedom ID
/// sent one; `freedomIdErrorCode` for `SIGN_IN_DECLINED`.
fn upstream_error(error: &Error) -> JsValue {
    let object = js_error(error.code(), &error.to_string());
    let target: &Object = object.unchecked_ref();
    match error {
        Error::UpstreamStatus { status } => set(target, "status", &JsValue::from(*status)),
        Error::CodeRejected {
            status,
            upstream_code,
        }
        | Error::RefreshRejected {
            status,
            upstream_code,
        } => {
            set(target, "status", &JsValue::from(*status));
            if let Some(code) = upstream_code {
                set(target, "upstreamCode", &JsValue::from_str(code));
            }
        }
        Error::SignInDeclined { error_code } => {
            set(target, "freedomIdErrorCode", &JsValue::from_str(error_code));
        }
        _ => {}
    }
    object
}

fn js_error(code: ErrorCode, message: &str) -> JsValue {
    let error = js_sys::Error::new(&format!("freedom-id-edge: {message}"));
    set(&error, "code", &JsValue::from_str(code.as_str()));
    error.into()
}
