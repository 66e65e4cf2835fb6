//! The npm core's fake driver for the native tests (`tests/flow_npm.rs`,
//! `tests/flow_npm_options.rs`): scripted upstream answers, every request recorded, counted
//! random bytes, and options objects as plain lists of own properties.
#![allow(dead_code, unused_imports)] // each test file uses its own part of it

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

pub use freedom_id_edge::error::{Error, ErrorCode, Malformed};
pub use freedom_id_edge::flow::npm::{
    complete_sign_in, create_authorization_link, exchange_authorization_code, refresh_tokens,
    CompleteSignInOptions, Detail, ExchangeOptions, LinkOptions, NpmEffects, NpmError, OptionValue,
    OptionsSource, RefreshOptions, SignInLink,
};
pub use freedom_id_edge::freedom_id::token::Tokens;
pub use freedom_id_edge::freedom_id::upstream::{BodyRule, Method, Reply, UpstreamRequest};

use super::fake_edge::{counted_bytes, next_reply, run, token_answer};

pub const SECRET: &str = "demo-secret";
/// `Basic base64("demo-client:demo-secret")`.
pub const BASIC: &str = "Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ=";
pub const AUTHORIZE_URL: &str = "https://id.example/api/v1/oauth/authorize";
pub const TOKEN_URL: &str = "https://id.example/api/v1/oauth/token";
pub const REDIRECT_URI: &str = "https://app.example.com/callback";
pub const LINK: &str =
    r#"{"redirect_uri":"https://id.example/login?track_id=t-1&expire_at=1727246098"}"#;

/// The npm driver's stand-in: scripted replies, every request recorded, counting random bytes.
#[derive(Default)]
pub struct Fake {
    pub replies: RefCell<VecDeque<Reply>>,
    pub sent: RefCell<Vec<(UpstreamRequest, u32)>>,
    pub counter: Cell<u8>,
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

impl NpmEffects for Fake {
    async fn send(&self, request: &UpstreamRequest, timeout_ms: u32) -> Reply {
        self.sent.borrow_mut().push((request.clone(), timeout_ms));
        next_reply(&self.replies)
    }

    fn random(&self, out: &mut [u8]) {
        counted_bytes(&self.counter, out);
    }
}

/// An options object: its own properties, in order; anything else is absent.
pub struct Options(pub Vec<(&'static str, OptionValue)>);

impl OptionsSource for Options {
    fn own(&self, name: &str) -> OptionValue {
        self.0
            .iter()
            .find(|(key, _)| *key == name)
            .map_or(OptionValue::Absent, |(_, value)| value.clone())
    }
}

impl Options {
    /// These options with `changes` applied (a new value, or `Absent` to remove one).
    pub fn with(mut self, changes: &[(&'static str, OptionValue)]) -> Options {
        for (name, value) in changes {
            self.0.retain(|(key, _)| key != name);
            self.0.push((name, value.clone()));
        }
        self
    }
}

pub fn text(value: &str) -> OptionValue {
    OptionValue::String(value.to_owned())
}

pub fn link_options(changes: &[(&'static str, OptionValue)]) -> Options {
    Options(vec![
        ("clientId", text("demo-client")),
        ("clientSecret", text(SECRET)),
        ("redirectUri", text(REDIRECT_URI)),
        (
            "grants",
            OptionValue::Strings(vec!["openid".into(), "read.email".into()]),
        ),
        ("authorizeUrl", text(AUTHORIZE_URL)),
    ])
    .with(changes)
}

pub fn sign_in_options(changes: &[(&'static str, OptionValue)]) -> Options {
    Options(vec![
        ("clientId", text("demo-client")),
        ("clientSecret", text(SECRET)),
        ("tokenUrl", text(TOKEN_URL)),
    ])
    .with(changes)
}

pub fn link(fx: &Fake, options: &Options) -> Result<SignInLink, NpmError> {
    let options = LinkOptions::read(Some(options))?;
    run(create_authorization_link(fx, &options))
}

pub fn complete(fx: &Fake, options: &Options) -> Result<Tokens, NpmError> {
    let options = CompleteSignInOptions::read(Some(options))?;
    run(complete_sign_in(fx, &options))
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
