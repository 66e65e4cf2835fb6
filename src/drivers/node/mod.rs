//! The npm package's exports: `createAuthorizationLink`, `completeSignIn`,
//! `exchangeAuthorizationCode` and `refreshTokens`. A driver: each reads its options object
//! (`options.rs`), lets the core (`flow::npm`) check them and run the function over the
//! runtime's `fetch` and `crypto.getRandomValues`, and turns the result into a plain object
//! or the [`NpmError`] into a rejected `Error` with a `code`. Every decision is the core's.

mod options;

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::drivers::fetch::send;
use crate::flow::npm::{
    self, CompleteSignInOptions, Detail, ExchangeOptions, LinkOptions, NpmEffects, NpmError,
    RefreshOptions, SignInLink,
};
use crate::freedom_id::token::Tokens;
use crate::freedom_id::upstream::{Reply, UpstreamRequest};
use options::JsOptions;

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

/// The runtime's I/O: global `fetch` and WebCrypto's random bytes.
struct Runtime;

impl NpmEffects for Runtime {
    async fn send(&self, request: &UpstreamRequest, timeout_ms: u32) -> Reply {
        send(request, timeout_ms).await
    }

    fn random(&self, out: &mut [u8]) {
        crate::drivers::webcrypto::random(out);
    }
}

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
    let options = LinkOptions::read(JsOptions::of(&options).as_ref()).map_err(js_error)?;
    npm::create_authorization_link(&Runtime, &options)
        .await
        .map(|link| link_object(&link))
        .map_err(js_error)
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
    let options =
        CompleteSignInOptions::read(JsOptions::of(&options).as_ref()).map_err(js_error)?;
    npm::complete_sign_in(&Runtime, &options)
        .await
        .map(|tokens| tokens_object(&tokens))
        .map_err(js_error)
}

/// Exchanges an authorization code for tokens (no state check: use `completeSignIn` on a
/// callback).
#[wasm_bindgen(js_name = exchangeAuthorizationCode, unchecked_return_type = "Tokens")]
pub async fn exchange_authorization_code(
    #[wasm_bindgen(unchecked_param_type = "ExchangeAuthorizationCodeOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    crate::drivers::panic_hook::install();
    let options = ExchangeOptions::read(JsOptions::of(&options).as_ref()).map_err(js_error)?;
    npm::exchange_authorization_code(&Runtime, &options)
        .await
        .map(|tokens| tokens_object(&tokens))
        .map_err(js_error)
}

/// Trades a refresh token for a new token pair. The old refresh token is used up: store
/// the new one. Rejects with `REFRESH_REJECTED` when Freedom ID refuses it.
#[wasm_bindgen(js_name = refreshTokens, unchecked_return_type = "Tokens")]
pub async fn refresh_tokens(
    #[wasm_bindgen(unchecked_param_type = "RefreshTokensOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    crate::drivers::panic_hook::install();
    let options = RefreshOptions::read(JsOptions::of(&options).as_ref()).map_err(js_error)?;
    npm::refresh_tokens(&Runtime, &options)
        .await
        .map(|tokens| tokens_object(&tokens))
        .map_err(js_error)
}

fn set(target: &Object, key: &str, value: &JsValue) {
    // Setting a property on a fresh plain object or Error cannot fail.
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

fn optional_string(text: Option<&str>) -> JsValue {
    text.map_or(JsValue::NULL, JsValue::from_str)
}

/// `{ url, trackId, expireAt, state }`.
fn link_object(link: &SignInLink) -> JsValue {
    let object = Object::new();
    set(&object, "url", &JsValue::from_str(link.link.url.as_str()));
    set(
        &object,
        "trackId",
        &optional_string(link.link.track_id.as_deref()),
    );
    // Unix seconds fit a JavaScript number exactly for the next 285 million years.
    let expire_at = link
        .link
        .expire_at
        .map_or(JsValue::NULL, |at| JsValue::from_f64(at as f64));
    set(&object, "expireAt", &expire_at);
    let state = link.state.as_ref().map(|state| state.secret());
    set(&object, "state", &optional_string(state));
    object.into()
}

/// `{ id, accessToken, refreshToken, accessExpiresAt, refreshExpiresAt }`.
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

/// A real `Error` with the core's message, its `code` and its details.
fn js_error(error: NpmError) -> JsValue {
    let object = js_sys::Error::new(&error.message);
    set(&object, "code", &JsValue::from_str(error.code.as_str()));
    for (name, detail) in error.details() {
        let value = match detail {
            Some(Detail::Number(number)) => JsValue::from(number),
            Some(Detail::Text(text)) => JsValue::from_str(text),
            None => continue,
        };
        set(&object, name, &value);
    }
    object.into()
}
