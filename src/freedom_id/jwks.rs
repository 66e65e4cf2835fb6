//! The key set that verifies id_token signatures (`FREEDOM_ID_JWKS_URL`; Freedom ID
//! documents none, so it is off unless set): the keys as serde types, and the rules for
//! keeping them. A set is kept per isolate or process for [`KEYS_FRESH_MS`]; a token naming a
//! `kid` the kept set lacks refetches it, at most once per [`REFETCH_GAP_MS`], so a stream of
//! forged `kid`s cannot make every sign-in call the key server. The signature itself is the
//! runtime's WebCrypto, done by the driver.

use serde::Deserialize;

use crate::base::json::{JsonEngine, Member};
use crate::base::url::AbsoluteUrl;
use crate::error::{Error, Malformed};
use crate::freedom_id::id_token::Algorithm;
use crate::freedom_id::upstream::{BodyRule, Method, Reply, UpstreamRequest};

/// How long a fetched key set is used: 10 minutes.
pub const KEYS_FRESH_MS: f64 = 10.0 * 60.0 * 1000.0;
/// The least time between two fetches for an unknown `kid`: 1 minute.
pub const REFETCH_GAP_MS: f64 = 60.0 * 1000.0;

/// One public key (JWK, RFC 7517), members read leniently. Never a private member.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Jwk {
    /// `RSA` or `EC`.
    pub kty: Member<String>,
    /// The key's id.
    pub kid: Member<String>,
    /// The algorithm it is for, if stated.
    pub alg: Member<String>,
    /// `sig` if stated.
    #[serde(rename = "use")]
    pub usage: Member<String>,
    /// EC: the curve.
    pub crv: Member<String>,
    /// EC: the x coordinate.
    pub x: Member<String>,
    /// EC: the y coordinate.
    pub y: Member<String>,
    /// RSA: the modulus.
    pub n: Member<String>,
    /// RSA: the exponent.
    pub e: Member<String>,
}

impl Jwk {
    /// Whether this key can verify `algorithm`: an RSA key for `RS256`, a P-256 key for
    /// `ES256`, and neither stating another `alg` nor a `use` other than `sig`.
    pub fn fits(&self, algorithm: Algorithm) -> bool {
        fn text(member: &Member<String>) -> Option<&str> {
            member.value().map(String::as_str)
        }
        let (kty, wanted) = match algorithm {
            Algorithm::Rs256 => ("RSA", "RS256"),
            Algorithm::Es256 => ("EC", "ES256"),
            Algorithm::Other => return false,
        };
        text(&self.kty) == Some(kty)
            && (algorithm != Algorithm::Es256 || text(&self.crv) == Some("P-256"))
            && text(&self.alg).is_none_or(|alg| alg == wanted)
            && text(&self.usage).is_none_or(|usage| usage == "sig")
    }
}

/// A key set: `{"keys": [...]}`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct KeySet {
    /// The keys.
    pub keys: Vec<Jwk>,
}

impl KeySet {
    /// The key for a token with `kid` (or, without one, the only key that fits) and
    /// `algorithm`.
    pub fn key_for(&self, kid: Option<&str>, algorithm: Algorithm) -> Option<&Jwk> {
        let mut fitting = self.keys.iter().filter(|key| key.fits(algorithm));
        match kid {
            Some(kid) => fitting.find(|key| key.kid.value().map(String::as_str) == Some(kid)),
            None => {
                let first = fitting.next()?;
                fitting.next().is_none().then_some(first)
            }
        }
    }
}

/// What to do to verify a token: use a kept key, fetch the set, or give up on this `kid`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyPlan {
    /// The kept set has the key.
    Use(Box<Jwk>),
    /// No fresh set, or one without the key and no fetch for a minute: fetch it.
    Fetch,
    /// The kept set is fresh, lacks the key, and was fetched less than a minute ago.
    Unknown,
}

/// The key set kept by one isolate or process.
#[derive(Clone, Debug, Default)]
pub struct KeyCache {
    set: Option<KeySet>,
    fetched_ms: f64,
}

impl KeyCache {
    /// What to do for a token with `kid` and `algorithm` at `now_ms`, a set being fresh for
    /// [`KEYS_FRESH_MS`].
    pub fn plan(&self, kid: Option<&str>, algorithm: Algorithm, now_ms: f64) -> KeyPlan {
        self.plan_within(kid, algorithm, now_ms, KEYS_FRESH_MS)
    }

    /// [`KeyCache::plan`] for a set that is fresh for `fresh_ms` (the gate's assertion keys:
    /// 5 minutes, as `/.well-known/jwks.json` lets them be cached).
    pub fn plan_within(
        &self,
        kid: Option<&str>,
        algorithm: Algorithm,
        now_ms: f64,
        fresh_ms: f64,
    ) -> KeyPlan {
        let age = now_ms - self.fetched_ms;
        let Some(set) = self.set.as_ref().filter(|_| (0.0..fresh_ms).contains(&age)) else {
            return KeyPlan::Fetch;
        };
        match set.key_for(kid, algorithm) {
            Some(key) => KeyPlan::Use(Box::new(key.clone())),
            None if age >= REFETCH_GAP_MS => KeyPlan::Fetch,
            None => KeyPlan::Unknown,
        }
    }

    /// Keeps `set`, fetched at `now_ms`.
    pub fn store(&mut self, set: KeySet, now_ms: f64) {
        self.set = Some(set);
        self.fetched_ms = now_ms;
    }
}

/// The request for the key set: a plain `GET`, no credentials (the set is public).
pub fn jwks_request(jwks_url: &AbsoluteUrl) -> UpstreamRequest {
    UpstreamRequest {
        method: Method::Get,
        url: jwks_url.as_str().to_owned(),
        authorization: None,
        body: None,
        body_rule: BodyRule::Success,
    }
}

/// Reads the key set's reply: a failure as it is, a non-2xx as [`Error::UpstreamStatus`],
/// a body that is not `{"keys": [...]}` as [`Error::UpstreamMalformed`].
pub fn read_jwks_reply(reply: &Reply, json: &impl JsonEngine) -> Result<KeySet, Error> {
    let body = reply.body.as_ref().map_err(Clone::clone)?;
    let status = reply.status.unwrap_or(0);
    if !(200..300).contains(&status) {
        return Err(Error::UpstreamStatus { status });
    }
    json.decode(body)
        .map_err(|_| Error::UpstreamMalformed(Malformed::NotJson))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::json::SerdeJson;

    const SET: &str = r#"{"keys":[
        {"kty":"EC","crv":"P-256","x":"x1","y":"y1","kid":"ec-1","alg":"ES256","use":"sig"},
        {"kty":"RSA","n":"n1","e":"AQAB","kid":"rsa-1"},
        {"kty":"EC","crv":"P-384","x":"x2","y":"y2","kid":"ec-384"},
        {"kty":"RSA","n":"n2","e":"AQAB","kid":"enc","use":"enc"}
    ]}"#;

    fn set() -> KeySet {
        SerdeJson.decode(SET).unwrap()
    }

    #[test]
    fn keys_are_picked_by_kid_and_algorithm() {
        let set = set();
        let kid = |key: Option<&Jwk>| key.and_then(|k| k.kid.value().cloned());
        assert_eq!(
            kid(set.key_for(Some("ec-1"), Algorithm::Es256)).as_deref(),
            Some("ec-1")
        );
        assert_eq!(
            kid(set.key_for(Some("rsa-1"), Algorithm::Rs256)).as_deref(),
            Some("rsa-1")
        );
        // The right kid for the wrong algorithm, another curve, an encryption key: none.
        assert_eq!(set.key_for(Some("rsa-1"), Algorithm::Es256), None);
        assert_eq!(set.key_for(Some("ec-384"), Algorithm::Es256), None);
        assert_eq!(set.key_for(Some("enc"), Algorithm::Rs256), None);
        assert_eq!(set.key_for(Some("ec-1"), Algorithm::Other), None);
        // Without a kid, only an unambiguous key.
        assert_eq!(
            kid(set.key_for(None, Algorithm::Es256)).as_deref(),
            Some("ec-1")
        );
        let two_ec = KeySet {
            keys: vec![set.keys[0].clone(), set.keys[0].clone()],
        };
        assert_eq!(two_ec.key_for(None, Algorithm::Es256), None);
    }

    #[test]
    fn a_set_is_kept_ten_minutes_and_unknown_kids_refetch_once_a_minute() {
        let mut cache = KeyCache::default();
        assert_eq!(
            cache.plan(Some("ec-1"), Algorithm::Es256, 1_000.0),
            KeyPlan::Fetch
        );
        cache.store(set(), 1_000.0);
        assert!(matches!(
            cache.plan(Some("ec-1"), Algorithm::Es256, 2_000.0),
            KeyPlan::Use(_)
        ));
        assert_eq!(
            cache.plan(Some("new"), Algorithm::Es256, 2_000.0),
            KeyPlan::Unknown
        );
        assert_eq!(
            cache.plan(Some("new"), Algorithm::Es256, 1_000.0 + REFETCH_GAP_MS),
            KeyPlan::Fetch
        );
        assert_eq!(
            cache.plan(Some("ec-1"), Algorithm::Es256, 1_000.0 + KEYS_FRESH_MS),
            KeyPlan::Fetch
        );
        // A clock that went back is no reason to trust an old set.
        assert_eq!(
            cache.plan(Some("ec-1"), Algorithm::Es256, 0.0),
            KeyPlan::Fetch
        );
    }

    #[test]
    fn the_key_set_request_and_reply() {
        let request = jwks_request(&AbsoluteUrl::parse("https://id.example/jwks.json").unwrap());
        assert_eq!(request.method, Method::Get);
        assert!(!request
            .headers()
            .iter()
            .any(|(name, _)| *name == "Authorization"));
        assert_eq!(
            read_jwks_reply(&Reply::answered(200, SET), &SerdeJson)
                .unwrap()
                .keys
                .len(),
            4
        );
        assert_eq!(
            read_jwks_reply(&Reply::answered(404, ""), &SerdeJson),
            Err(Error::UpstreamStatus { status: 404 })
        );
        assert_eq!(
            read_jwks_reply(&Reply::answered(200, "[]"), &SerdeJson),
            Err(Error::UpstreamMalformed(Malformed::NotJson))
        );
    }
}
