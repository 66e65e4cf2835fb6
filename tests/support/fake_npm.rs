//! The npm core's fake driver for the native tests (`tests/flow_npm.rs`,
//! `tests/flow_npm_options.rs`): scripted upstream answers, every request recorded, counted
//! random bytes, and options objects as JSON (`serde_json` drives the same serde types the
//! wasm's serde-wasm-bindgen does, over what the npm driver hands the core).
#![allow(dead_code, unused_imports)] // each test file uses its own part of it

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

pub use freedom_id_edge::error::{Error, ErrorCode, Malformed};
pub use freedom_id_edge::flow::npm::{
    complete_sign_in, create_authorization_link, exchange_authorization_code, fetch_user_info,
    gate_assertion_result, refresh_tokens, verify_gate_assertion, CompleteSignInOptions, Detail,
    ExchangeOptions, IdentityEffects, KeySets, LinkOptions, LinkResult, NpmEffects, NpmError,
    RefreshOptions, SignInLink, SignedIn, TokensResult, UserInfoOptions, VerifyAssertionOptions,
};
pub use freedom_id_edge::freedom_id::id_token::Algorithm;
pub use freedom_id_edge::freedom_id::jwks::{Jwk, KeyCache};
pub use freedom_id_edge::freedom_id::token::Tokens;
pub use freedom_id_edge::freedom_id::upstream::{BodyRule, Method, Reply, UpstreamRequest};
pub use freedom_id_edge::freedom_id::user::User;
pub use serde_json::{json, Value};

use super::fake_edge::{counted_bytes, fake_signature, next_reply, run, token_answer, NOW};

pub const SECRET: &str = "demo-secret";
/// `Basic base64("demo-client:demo-secret")`.
pub const BASIC: &str = "Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ=";
pub const AUTHORIZE_URL: &str = "https://id.example/api/v1/oauth/authorize";
pub const TOKEN_URL: &str = "https://id.example/api/v1/oauth/token";
pub const REDIRECT_URI: &str = "https://app.example.com/callback";
pub const LINK: &str =
    r#"{"redirect_uri":"https://id.example/login?track_id=t-1&expire_at=1727246098"}"#;

/// The npm driver's stand-in: scripted replies, every request recorded, counting random
/// bytes, a settable clock (at `fake_edge::NOW` unless moved) and the process's key set.
pub struct Fake {
    pub replies: RefCell<VecDeque<Reply>>,
    pub sent: RefCell<Vec<(UpstreamRequest, u32)>>,
    pub counter: Cell<u8>,
    pub now_ms: Cell<f64>,
    pub key_cache: RefCell<KeyCache>,
    pub assertion_keys: RefCell<KeySets>,
}

impl Default for Fake {
    fn default() -> Fake {
        Fake {
            replies: RefCell::default(),
            sent: RefCell::default(),
            counter: Cell::default(),
            now_ms: Cell::new(NOW),
            key_cache: RefCell::default(),
            assertion_keys: RefCell::default(),
        }
    }
}

impl Fake {
    pub fn reply(&self, status: u16, body: &str) -> &Fake {
        self.replies
            .borrow_mut()
            .push_back(Reply::answered(status, body));
        self
    }

    pub fn fail(&self, error: Error) -> &Fake {
        self.replies
            .borrow_mut()
            .push_back(Reply::failed(None, error));
        self
    }

    pub fn sent(&self) -> usize {
        self.sent.borrow().len()
    }

    /// The last request as (method, URL, headers, body, body rule, timeout).
    pub fn last(&self) -> Sent {
        let sent = self.sent.borrow();
        let (request, timeout_ms) = sent.last().expect("a request was sent");
        let headers = request
            .headers()
            .into_iter()
            .map(|(name, value)| (name, value.to_owned()))
            .collect();
        (
            request.method,
            request.url.clone(),
            headers,
            request.body.clone(),
            request.body_rule,
            *timeout_ms,
        )
    }
}

pub type Sent = (
    Method,
    String,
    Vec<(&'static str, String)>,
    Option<String>,
    BodyRule,
    u32,
);

/// The core's default JSON engine (`serde_json`), as the wasm builds use it.
impl freedom_id_edge::base::json::JsonEngine for Fake {}

impl IdentityEffects for Fake {
    async fn send(&self, request: &UpstreamRequest, timeout_ms: u32) -> Reply {
        self.sent.borrow_mut().push((request.clone(), timeout_ms));
        next_reply(&self.replies)
    }

    fn now_ms(&self) -> f64 {
        self.now_ms.get()
    }

    fn with_key_cache<R>(&self, f: impl FnOnce(&mut KeyCache) -> R) -> R {
        f(&mut self.key_cache.borrow_mut())
    }

    async fn verify_signature(
        &self,
        _algorithm: Algorithm,
        key: &Jwk,
        input: &[u8],
        signature: &[u8],
    ) -> bool {
        // The Worker fake's stand-in for WebCrypto (the packed package checks real ES256 and
        // RS256 signatures against the mock's keys): the key's id and the text's checksum.
        let kid = key.kid.value().map_or("", String::as_str);
        signature == fake_signature(kid, input).as_slice()
    }
}

impl NpmEffects for Fake {
    fn random(&self, out: &mut [u8]) {
        counted_bytes(&self.counter, out);
    }

    fn with_assertion_keys<R>(&self, f: impl FnOnce(&mut KeySets) -> R) -> R {
        f(&mut self.assertion_keys.borrow_mut())
    }
}

/// An options object changed: each name set to its value (`Value::Null` reads as absent, as
/// JavaScript's `undefined` and `null` do).
pub trait With {
    fn with(self, changes: &[(&str, Value)]) -> Value;
}

impl With for Value {
    fn with(mut self, changes: &[(&str, Value)]) -> Value {
        let object = self.as_object_mut().expect("an options object");
        for (name, value) in changes {
            object.insert((*name).to_owned(), value.clone());
        }
        self
    }
}

pub fn text(value: &str) -> Value {
    Value::String(value.to_owned())
}

/// What the npm driver hands over for an option whose getter or Proxy trap threw.
pub fn unreadable() -> Value {
    let mut mark = serde_json::Map::new();
    mark.insert(
        freedom_id_edge::config::input::UNREADABLE.to_owned(),
        Value::Bool(true),
    );
    Value::Object(mark)
}

/// What the npm driver hands over for an object, a function, a symbol or a bigint.
pub fn other() -> Value {
    json!({})
}

pub fn link_options(changes: &[(&str, Value)]) -> Value {
    json!({
        "clientId": "demo-client",
        "clientSecret": SECRET,
        "redirectUri": REDIRECT_URI,
        "grants": ["openid", "read.email"],
        "authorizeUrl": AUTHORIZE_URL,
    })
    .with(changes)
}

pub fn sign_in_options(changes: &[(&str, Value)]) -> Value {
    json!({ "clientId": "demo-client", "clientSecret": SECRET, "tokenUrl": TOKEN_URL })
        .with(changes)
}

pub fn link(fx: &Fake, options: &Value) -> Result<SignInLink, NpmError> {
    let options = LinkOptions::read(|| options)?;
    run(create_authorization_link(fx, &options))
}

pub fn complete(fx: &Fake, options: &Value) -> Result<SignedIn, NpmError> {
    let options = CompleteSignInOptions::read(options)?;
    run(complete_sign_in(fx, &options))
}

pub fn user_info(fx: &Fake, options: &Value) -> Result<User, NpmError> {
    let options = UserInfoOptions::read(options)?;
    run(fetch_user_info(fx, &options))
}

/// What `completeSignIn` resolves to in JavaScript: the result with `idTokenClaims` as the
/// driver's `JSON.parse` makes it.
pub fn js_result(signed_in: &SignedIn) -> Value {
    let mut value = serde_json::to_value(signed_in.result()).unwrap();
    if let Some(claims) = signed_in.claims_json() {
        value["idTokenClaims"] = serde_json::from_str(&claims).unwrap();
    }
    value
}

/// The message of an error, checked to hold none of the test's secret values.
pub fn message(error: &NpmError) -> &str {
    let shown = format!("{error} {error:?}");
    for secret in [SECRET, "c0de", "s1-kept-state", "tok-access", "tok-refresh"] {
        assert!(!shown.contains(secret), "{shown}");
    }
    error
        .message
        .strip_prefix("freedom-id-edge: ")
        .expect("every message has the prefix")
}

/// The error's detail properties, as JS would get them.
pub fn details(error: &NpmError) -> Vec<(&'static str, String)> {
    error
        .details()
        .into_iter()
        .filter_map(|(name, detail)| match detail? {
            Detail::Number(number) => Some((name, number.to_string())),
            Detail::Text(text) => Some((name, text.to_owned())),
        })
        .collect()
}

/// The headers of a client-authenticated JSON POST (a link, an exchange), as the npm core sends them.
pub fn client_post_headers() -> Vec<(&'static str, String)> {
    vec![
        ("Authorization", BASIC.to_owned()),
        ("Accept", "application/json".to_owned()),
        ("Accept-Encoding", "identity".to_owned()),
        ("Content-Type", "application/json".to_owned()),
    ]
}

pub fn exchange_sent(code: &str, timeout_ms: u32) -> Sent {
    (
        Method::Post,
        TOKEN_URL.to_owned(),
        client_post_headers(),
        Some(format!(r#"{{"authorization_code":"{code}"}}"#)),
        BodyRule::SuccessAndClientError,
        timeout_ms,
    )
}

pub fn tokens() -> String {
    token_answer("tok-access", "tok-refresh", 900, 7200)
}

/// `verifyGateAssertion(assertion, options)` as the driver runs it: the options read first.
pub fn verify_assertion(
    fx: &Fake,
    assertion: Option<&str>,
    options: &Value,
) -> Result<Value, NpmError> {
    let options = VerifyAssertionOptions::read(options)?;
    let verified = run(verify_gate_assertion(fx, assertion, &options))?;
    Ok(serde_json::to_value(gate_assertion_result(&verified)).unwrap())
}

/// A compact JWS over `header` and `claims` (JSON text), "signed" as the fake verifies:
/// `fake_signature(kid, signing input)`.
pub fn fake_jws(header: &str, claims: &str, kid: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let signature = URL_SAFE_NO_PAD.encode(fake_signature(kid, input.as_bytes()));
    format!("{input}.{signature}")
}
