//! The fake driver the native whole-flow tests share (`tests/flow.rs`, `tests/flow_security.rs`):
//! scripted upstream answers, a keyed checksum for an "AEAD" (enough to tell a tampered
//! cookie, another key or another cookie name; the real AES-GCM runs in workerd), a cookie jar,
//! and the start-of-sign-in steps.
#![allow(dead_code)] // each test file uses its own part of it

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

pub use freedom_id_edge::base::url::AbsoluteUrl;
pub use freedom_id_edge::config::assertion_key::AssertionKey;
pub use freedom_id_edge::config::settings::{Settings, SettingsError};
pub use freedom_id_edge::config::values::LogLevel;
pub use freedom_id_edge::flow::{respond, Effects, Forward, Outcome, Request, Revocation};
pub use freedom_id_edge::freedom_id::id_token::Algorithm;
pub use freedom_id_edge::freedom_id::jwks::{Jwk, KeyCache};
pub use freedom_id_edge::freedom_id::upstream::{Method, Reply, UpstreamRequest};
pub use freedom_id_edge::session::seal::IV_BYTES;
pub use freedom_id_edge::web::Answer;

pub const KEY: &str = "first-session-key-of-32-characters!";
pub const NEW_KEY: &str = "second-session-key-of-32-characters";
pub const NOW: f64 = 1_700_000_000_000.0;
/// The `FREEDOM_ID_REVOKE_KEY` of the tests that set one.
pub const REVOKE_KEY: &str = "revoke-key-of-at-least-32-characters";

/// Runs a future whose every await is ready at once (the fake driver never waits).
pub fn run<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut context) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the fake driver never waits"),
    }
}

/// The next scripted upstream reply: both fakes (this one and `fake_npm.rs`'s) answer every
/// upstream call from their script, in order.
pub fn next_reply(replies: &RefCell<VecDeque<Reply>>) -> Reply {
    replies
        .borrow_mut()
        .pop_front()
        .expect("a scripted upstream reply")
}

/// The "random" bytes both fakes hand out: a counter, so that a test can tell how many were drawn.
pub fn counted_bytes(counter: &Cell<u8>, out: &mut [u8]) {
    for byte in out {
        counter.set(counter.get().wrapping_add(1));
        *byte = counter.get();
    }
}

/// One upstream call as sent: method, URL, body, and the Authorization of a shared call.
pub type Sent = (Method, String, Option<String>, Option<String>);

pub struct Fake {
    pub keys: Vec<&'static str>,
    pub replies: RefCell<VecDeque<Reply>>,
    pub sent: RefCell<Vec<Sent>>,
    pub counter: Cell<u8>,
    pub now_ms: Cell<f64>,
    pub limited: bool,
    pub logs: RefCell<Vec<String>>,
    pub revoked: RefCell<Vec<String>>,
    /// The TTL of each recorded revocation, in order.
    pub revoke_ttls: RefCell<Vec<u64>>,
    pub revocations_bound: bool,
    /// Flows spent in this "isolate", by sealed-cookie id.
    pub spent: RefCell<Vec<String>>,
    pub body: Option<String>,
    /// The id_token key set this "isolate" keeps.
    pub key_cache: RefCell<KeyCache>,
}

/// The fake's signature of `input` by the key `kid` (see `verify_signature`).
pub fn fake_signature(kid: &str, input: &[u8]) -> Vec<u8> {
    let sum = input.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    });
    format!("{kid}:{sum:016x}").into_bytes()
}

impl Fake {
    pub fn new(keys: &[&'static str]) -> Fake {
        Fake {
            keys: keys.to_vec(),
            replies: RefCell::new(VecDeque::new()),
            sent: RefCell::new(Vec::new()),
            counter: Cell::new(0),
            now_ms: Cell::new(NOW),
            limited: false,
            logs: RefCell::new(Vec::new()),
            revoked: RefCell::new(Vec::new()),
            revoke_ttls: RefCell::new(Vec::new()),
            revocations_bound: true,
            spent: RefCell::new(Vec::new()),
            body: None,
            key_cache: RefCell::new(KeyCache::default()),
        }
    }

    pub fn reply(&self, status: u16, body: &str) {
        self.replies
            .borrow_mut()
            .push_back(Reply::answered(status, body));
    }

    fn tag(&self, key: usize, iv: &[u8], aad: &[u8], plain: &[u8]) -> [u8; 16] {
        // FNV-1a over key, IV, AAD and text: a stand-in for GCM's tag in these tests.
        let mut out = [0_u8; 16];
        for (lane, byte) in out.iter_mut().enumerate() {
            let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ lane as u64;
            for b in self.keys[key]
                .bytes()
                .chain(iv.iter().copied())
                .chain(aad.iter().copied())
                .chain(plain.iter().copied())
            {
                hash = (hash ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
            }
            *byte = (hash >> 24) as u8;
        }
        out
    }
}

/// The core's default JSON engine (`serde_json`), as the wasm builds use it.
impl freedom_id_edge::base::json::JsonEngine for Fake {}

impl Effects for Fake {
    async fn send(
        &self,
        request: &UpstreamRequest,
        _timeout_ms: u32,
        share: Option<&str>,
    ) -> Reply {
        let authorization = request
            .authorization
            .as_ref()
            .map(|header| header.secret().to_owned())
            .unwrap_or_default();
        self.sent.borrow_mut().push((
            request.method,
            request.url.clone(),
            request.body.clone(),
            share.map(|_| authorization),
        ));
        next_reply(&self.replies)
    }

    fn random(&self, out: &mut [u8]) {
        counted_bytes(&self.counter, out);
    }

    async fn encrypt(
        &self,
        key: usize,
        iv: &[u8; IV_BYTES],
        aad: &[u8],
        plain: &[u8],
    ) -> Option<Vec<u8>> {
        let mut out = plain.to_vec();
        out.extend_from_slice(&self.tag(key, iv, aad, plain));
        Some(out)
    }

    async fn decrypt(
        &self,
        key: usize,
        iv: &[u8; IV_BYTES],
        aad: &[u8],
        sealed: &[u8],
    ) -> Option<Vec<u8>> {
        let (plain, tag) = sealed.split_at(sealed.len().checked_sub(16)?);
        (self.tag(key, iv, aad, plain) == tag).then(|| plain.to_vec())
    }

    fn now_ms(&self) -> f64 {
        self.now_ms.get()
    }

    async fn rate_limited(&self, _key: &str) -> bool {
        self.limited
    }

    fn log(&self, line: &str) {
        self.logs.borrow_mut().push(line.to_owned());
    }

    async fn is_revoked(&self, id: &str) -> bool {
        self.revoked.borrow().iter().any(|known| known == id)
    }

    async fn revoke(&self, id: &str, ttl_secs: u64) -> Revocation {
        if !self.revocations_bound {
            return Revocation::NotConfigured;
        }
        self.revoked.borrow_mut().push(id.to_owned());
        self.revoke_ttls.borrow_mut().push(ttl_secs);
        Revocation::Recorded
    }

    fn revocations_bound(&self) -> bool {
        self.revocations_bound
    }

    fn flow_spent(&self, id: &str) -> bool {
        self.spent.borrow().iter().any(|known| known == id)
    }

    fn spend_flow(&self, id: &str) {
        self.spent.borrow_mut().push(id.to_owned());
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
        // A stand-in for WebCrypto (workerd runs the real ES256 and RS256 checks against the
        // mock's keys): a signature is the key's id and the signed text's checksum.
        let kid = key.kid.value().map_or("", String::as_str);
        signature == fake_signature(kid, input)
    }

    async fn body(&self, max: usize) -> Option<String> {
        self.body.clone().filter(|body| body.len() <= max)
    }

    async fn sign_assertion(&self, key: &AssertionKey, input: &[u8]) -> Option<Vec<u8>> {
        // The same stand-in as `verify_signature` (workerd signs with real ES256); a key
        // whose kid says so is one the runtime refuses.
        (!key.kid.starts_with("refused")).then(|| fake_signature(&key.kid, input))
    }
}

pub fn settings(extra: &[(&str, &str)]) -> Result<Settings, SettingsError> {
    Settings::from_env(|name| {
        if let Some((_, value)) = extra.iter().find(|(key, _)| *key == name) {
            return Some((*value).to_owned());
        }
        let value = match name {
            "FREEDOM_ID_CLIENT_ID" => "demo-client",
            "FREEDOM_ID_CLIENT_SECRET" => "demo-secret",
            "FREEDOM_ID_REDIRECT_URI" => "https://app.example.com/callback",
            "FREEDOM_ID_GRANTS" => "openid",
            "FREEDOM_ID_AUTHORIZE_URL" => "https://id.example/api/v1/oauth/authorize",
            "FREEDOM_ID_TOKEN_URL" => "https://id.example/api/v1/oauth/token",
            "FREEDOM_ID_SESSION_SECRET" => KEY,
            // The fake binds revocations by default, and a deployment with them has the key.
            "FREEDOM_ID_REVOKE_KEY" => REVOKE_KEY,
            _ => return None,
        };
        Some(value.to_owned())
    })
}

/// A browser's cookie jar: applies `Set-Cookie` headers, sends `Cookie`.
#[derive(Default)]
pub struct Jar(pub Vec<(String, String)>);

impl Jar {
    pub fn take(&mut self, answer: &Answer) {
        for (name, value) in &answer.headers {
            if *name != "Set-Cookie" {
                continue;
            }
            let (pair, attributes) = value.split_once(';').unwrap();
            let (key, val) = pair.split_once('=').unwrap();
            self.0.retain(|(k, _)| k != key);
            if !attributes.contains("Max-Age=0") {
                self.0.push((key.to_owned(), val.to_owned()));
            }
        }
    }

    pub fn header(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| {
            self.0
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

pub fn call(
    fx: &Fake,
    settings: &Result<Settings, SettingsError>,
    method: &str,
    target: &str,
    jar: &Jar,
    origin: Option<&str>,
) -> Answer {
    let accept = Some("application/json");
    match outcome(fx, settings, method, target, jar, origin, accept) {
        Outcome::Answer(answer) => answer,
        Outcome::Forward(forward) => panic!("forwarded: {forward:?}"),
    }
}

pub fn outcome(
    fx: &Fake,
    settings: &Result<Settings, SettingsError>,
    method: &str,
    target: &str,
    jar: &Jar,
    origin: Option<&str>,
    accept: Option<&str>,
) -> Outcome {
    let headers = Headers {
        origin,
        accept,
        ..Headers::default()
    };
    outcome_with(fx, settings, method, target, jar, &headers)
}

/// The request headers a flow reads, beyond the cookie.
#[derive(Clone, Copy, Default)]
pub struct Headers<'a> {
    pub origin: Option<&'a str>,
    pub accept: Option<&'a str>,
    pub sec_fetch_site: Option<&'a str>,
}

/// One request from the jar's browser at `target`, with `headers`.
pub fn outcome_with(
    fx: &Fake,
    settings: &Result<Settings, SettingsError>,
    method: &str,
    target: &str,
    jar: &Jar,
    headers: &Headers<'_>,
) -> Outcome {
    let url = AbsoluteUrl::parse(&format!("https://app.example.com{target}")).unwrap();
    let path = target.split('?').next().unwrap();
    let cookie = jar.header();
    let request = Request {
        method,
        url: &url,
        path,
        cookie: cookie.as_deref(),
        accept: headers.accept,
        accept_language: None,
        origin: headers.origin,
        sec_fetch_site: headers.sec_fetch_site,
        sec_fetch_mode: None,
        client_ip: Some("203.0.113.9"),
        request_id: "req-1",
        log: LogLevel::Errors,
        started_ms: fx.now_ms(),
    };
    run(respond(fx, settings, &request))
}

pub fn token_answer(access: &str, refresh: &str, access_in: i64, refresh_in: i64) -> String {
    let at = |offset: i64| {
        let secs = (NOW / 1000.0) as i64 + offset;
        // Days and seconds to an ISO date: good enough for 2023-11 (the tests' NOW).
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (y, m, d) = civil(days);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000000Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    };
    format!(
        r#"{{"id":"tok-1","access_token":"{access}","refresh_token":"{refresh}","access_expire_at":"{}","refresh_expire_at":"{}"}}"#,
        at(access_in),
        at(refresh_in)
    )
}

pub fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `/login` through the jar (the authorize reply is scripted first); returns the state it
/// sent to Freedom ID.
pub fn begin_sign_in(
    fx: &Fake,
    settings: &Result<Settings, SettingsError>,
    jar: &mut Jar,
    return_to: &str,
) -> String {
    fx.replies.borrow_mut().push_front(Reply::answered(
        200,
        r#"{"redirect_uri":"https://id.example/login?track_id=t&expire_at=1"}"#,
    ));
    let login = call(
        fx,
        settings,
        "GET",
        &format!("/login{return_to}"),
        jar,
        None,
    );
    assert_eq!(login.status, 302, "{login:?}");
    jar.take(&login);
    sent_state(fx)
}

/// The state of the last authorize call sent.
pub fn sent_state(fx: &Fake) -> String {
    let sent = fx.sent.borrow();
    let body = sent
        .iter()
        .rev()
        .find_map(|(_, url, body, _)| url.ends_with("/authorize").then_some(body.clone()))
        .flatten()
        .unwrap();
    body.split("state=")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}

/// `/login` then the callback with `code`, through the jar; returns the callback's answer.
/// The token endpoint's reply must be scripted already: the authorize reply goes first.
pub fn sign_in(
    fx: &Fake,
    settings: &Result<Settings, SettingsError>,
    jar: &mut Jar,
    return_to: &str,
    code: &str,
) -> Answer {
    let state = begin_sign_in(fx, settings, jar, return_to);
    let callback = call(
        fx,
        settings,
        "GET",
        &format!("/callback?state={state}&authorization_code={code}"),
        jar,
        None,
    );
    jar.take(&callback);
    callback
}

pub fn status(answer: &Answer) -> serde_json::Value {
    serde_json::from_str(&answer.body).unwrap()
}

/// A browser signed in as `ACCESS1`/`REFRESH1` (token id `tok-1`), its access token expiring
/// in `access_in` seconds and its refresh token in `refresh_in`: the fake and the jar.
pub fn signed_in(
    settings: &Result<Settings, SettingsError>,
    access_in: i64,
    refresh_in: i64,
) -> (Fake, Jar) {
    let fx = Fake::new(&[KEY]);
    let mut jar = Jar::default();
    fx.reply(
        200,
        &token_answer("ACCESS1", "REFRESH1", access_in, refresh_in),
    );
    let callback = sign_in(&fx, settings, &mut jar, "", "c");
    assert_eq!(callback.status, 303, "{callback:?}");
    (fx, jar)
}

/// `POST /logout` from the jar's browser with `Origin: origin`.
pub fn logout(
    fx: &Fake,
    settings: &Result<Settings, SettingsError>,
    jar: &Jar,
    origin: &str,
) -> Answer {
    call(fx, settings, "POST", "/logout", jar, Some(origin))
}
