//! The npm package's exports: `createAuthorizationLink`, `completeSignIn`,
//! `exchangeAuthorizationCode`, `refreshTokens`, `fetchUserInfo` and `verifyGateAssertion`.
//! A driver: each hands its
//! options object to the core (`flow::npm`) as a prototype-free copy for serde-wasm-bindgen
//! (`options.rs`), lets the core check them and run the function over the runtime's `fetch`,
//! clock and WebCrypto (`crypto.getRandomValues`, `crypto.subtle.verify` for a `jwksUrl`'s
//! keys, kept per process, and for the gate's assertion), and turns the core's result into a plain object
//! (serde-wasm-bindgen again) or the [`NpmError`] into a rejected `Error` with a `code`.
//! Every decision is the core's.
//!
//! Their TypeScript declarations are `npm/types.d.ts`, which the build ships as each
//! entry's `.d.mts`/`.d.cts`; the `unchecked_*_type` names below must be the ones declared
//! there (`scripts/finish-npm-package.mjs` checks the signatures).

mod options;

use std::cell::RefCell;

use js_sys::{Object, Reflect};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::base::json::{JsonEngine, JsonError};
use crate::drivers::fetch::send;
use crate::drivers::webcrypto;
use crate::flow::npm::{
    self, CompleteSignInOptions, Detail, ExchangeOptions, IdentityEffects, KeySets, LinkOptions,
    NpmEffects, NpmError, RefreshOptions, TokensResult, UserInfoOptions, VerifyAssertionOptions,
};
use crate::freedom_id::id_token::Algorithm;
use crate::freedom_id::jwks::{Jwk, KeyCache};
use crate::freedom_id::upstream::{Reply, UpstreamRequest};
use options::{assertion_copy, own_copy, prototype_free};

thread_local! {
    /// The `jwksUrl` key set, kept per process (the core decides when it is stale). One
    /// cache whatever the URL: a process signs in with one Freedom ID.
    static KEY_CACHE: RefCell<KeyCache> = RefCell::new(KeyCache::default());
    /// `verifyGateAssertion`'s `jwksUrl` key sets, kept per process, one per URL (bounded).
    static ASSERTION_KEYS: RefCell<KeySets> = RefCell::new(KeySets::default());
}

/// The runtime's I/O: global `fetch`, the clock, and WebCrypto.
struct Runtime;

impl JsonEngine for Runtime {
    fn decode<T: serde::de::DeserializeOwned>(&self, text: &str) -> Result<T, JsonError> {
        crate::drivers::Json::default().decode(text)
    }
}

impl IdentityEffects for Runtime {
    async fn send(&self, request: &UpstreamRequest, timeout_ms: u32) -> Reply {
        send(request, timeout_ms).await
    }

    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
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
}

impl NpmEffects for Runtime {
    fn random(&self, out: &mut [u8]) {
        webcrypto::random(out);
    }

    fn with_assertion_keys<R>(&self, f: impl FnOnce(&mut KeySets) -> R) -> R {
        ASSERTION_KEYS.with(|sets| f(&mut sets.borrow_mut()))
    }
}

/// `createAuthorizationLink(options)`: a Freedom ID sign-in link bound to a login-CSRF
/// `state` (see `npm/types.d.ts`).
#[wasm_bindgen(js_name = createAuthorizationLink, unchecked_return_type = "AuthorizationLink")]
pub async fn create_authorization_link(
    #[wasm_bindgen(unchecked_param_type = "AuthorizationLinkOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    crate::drivers::panic_hook::install();
    let copy = own_copy(&options);
    let options = LinkOptions::read(|| serde_wasm_bindgen::Deserializer::from(copy.clone()))
        .map_err(js_error)?;
    npm::create_authorization_link(&Runtime, &options)
        .await
        .map(|link| to_js(&link.result()))
        .map_err(js_error)
}

/// `completeSignIn(options)`: the callback's state checked, then its code exchanged, and who
/// signed in (see `npm/types.d.ts`).
#[wasm_bindgen(js_name = completeSignIn, unchecked_return_type = "SignIn")]
pub async fn complete_sign_in(
    #[wasm_bindgen(unchecked_param_type = "CompleteSignInOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    crate::drivers::panic_hook::install();
    let options = CompleteSignInOptions::read(prototype_free(&options)).map_err(js_error)?;
    let signed_in = npm::complete_sign_in(&Runtime, &options)
        .await
        .map_err(js_error)?;
    let result = to_js(&signed_in.result());
    if let Some(claims) = signed_in.claims_json() {
        // The core checked the payload is a JSON object; JSON.parse makes own data
        // properties only (a `__proto__` claim included), so the object is plain.
        if let (Ok(claims), Some(result)) = (js_sys::JSON::parse(&claims), result.dyn_ref()) {
            set(result, "idTokenClaims", &claims);
        }
    }
    Ok(result)
}

/// `fetchUserInfo(options)`: the user's profile for an access token (see `npm/types.d.ts`).
#[wasm_bindgen(js_name = fetchUserInfo, unchecked_return_type = "User")]
pub async fn fetch_user_info(
    #[wasm_bindgen(unchecked_param_type = "FetchUserInfoOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    crate::drivers::panic_hook::install();
    let options = UserInfoOptions::read(prototype_free(&options)).map_err(js_error)?;
    npm::fetch_user_info(&Runtime, &options)
        .await
        .map(|user| to_js(&user))
        .map_err(js_error)
}

/// `exchangeAuthorizationCode(options)`: the bare code exchange (see `npm/types.d.ts`).
#[wasm_bindgen(js_name = exchangeAuthorizationCode, unchecked_return_type = "Tokens")]
pub async fn exchange_authorization_code(
    #[wasm_bindgen(unchecked_param_type = "ExchangeAuthorizationCodeOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    crate::drivers::panic_hook::install();
    let options = ExchangeOptions::read(prototype_free(&options)).map_err(js_error)?;
    npm::exchange_authorization_code(&Runtime, &options)
        .await
        .map(|tokens| to_js(&TokensResult::of(&tokens)))
        .map_err(js_error)
}

/// `refreshTokens(options)`: a new token pair for the refresh token (see `npm/types.d.ts`).
#[wasm_bindgen(js_name = refreshTokens, unchecked_return_type = "Tokens")]
pub async fn refresh_tokens(
    #[wasm_bindgen(unchecked_param_type = "RefreshTokensOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    crate::drivers::panic_hook::install();
    let options = RefreshOptions::read(prototype_free(&options)).map_err(js_error)?;
    npm::refresh_tokens(&Runtime, &options)
        .await
        .map(|tokens| to_js(&TokensResult::of(&tokens)))
        .map_err(js_error)
}

/// `verifyGateAssertion(assertion, options)`: the gate's `X-Freedom-ID-Assertion` checked
/// (see `npm/types.d.ts`).
#[wasm_bindgen(js_name = verifyGateAssertion, unchecked_return_type = "GateAssertion")]
pub async fn verify_gate_assertion(
    #[wasm_bindgen(unchecked_param_type = "string | null | undefined")] assertion: JsValue,
    #[wasm_bindgen(unchecked_param_type = "VerifyGateAssertionOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    crate::drivers::panic_hook::install();
    let options = VerifyAssertionOptions::read(assertion_copy(&options)).map_err(js_error)?;
    let assertion = assertion.as_string();
    npm::verify_gate_assertion(&Runtime, assertion.as_deref(), &options)
        .await
        .map(|verified| to_js(&npm::gate_assertion_result(&verified)))
        .map_err(js_error)
}

fn set(target: &Object, key: &str, value: &JsValue) {
    // Setting a property on a fresh Error cannot fail.
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// A result of the core's as a plain object, `null` where it has no value.
fn to_js<T: Serialize>(result: &T) -> JsValue {
    let serializer = serde_wasm_bindgen::Serializer::new().serialize_missing_as_null(true);
    // Strings, numbers and nulls only: serializing them cannot fail.
    result.serialize(&serializer).unwrap_or(JsValue::NULL)
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
    if let Some(problem) = error.problem {
        let details = Object::new();
        set(&details, "problem", &JsValue::from_str(problem));
        set(&object, "details", &details);
    }
    object.into()
}
