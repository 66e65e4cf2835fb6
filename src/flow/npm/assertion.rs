//! `verifyGateAssertion`: the gate's assertion checked by the site behind it, in the order of
//! `web::assertion_verify` (form, `alg`, `kid`, signature, `iss`, `aud`, `exp`, `iat`), with
//! the key set given (`jwks`) or fetched from `jwksUrl` and kept per process and per URL
//! ([`KeySets`]): fresh for [`ASSERTION_KEYS_FRESH_MS`], and refetched for an unknown `kid`
//! at most once per [`REFETCH_GAP_MS`](crate::freedom_id::jwks::REFETCH_GAP_MS), so a flood
//! of made-up key ids cannot become a flood of fetches.

use serde::Serialize;

use super::identity::key_from_set;
use super::{now_secs, NpmEffects, NpmError, VerifyAssertionOptions};
use crate::base::url::AbsoluteUrl;
use crate::freedom_id::id_token::Algorithm;
use crate::freedom_id::jwks::{Jwk, KeyCache, KeySet};
use crate::freedom_id::user::User;
use crate::web::assertion_verify::{
    check_claims, parse, AssertionProblem, Expected, VerifiedAssertion,
};

/// How long a key set from `jwksUrl` is used: 5 minutes, the `max-age` the gate sends.
pub const ASSERTION_KEYS_FRESH_MS: f64 = 5.0 * 60.0 * 1000.0;
/// How many `jwksUrl`s a process keeps key sets for; the oldest kept is dropped for another.
pub const MAX_KEY_SETS: usize = 8;

/// Where the assertion's keys come from.
#[derive(Clone, Debug)]
pub enum AssertionKeys {
    /// `jwksUrl`: fetched, and kept per process.
    Url(AbsoluteUrl),
    /// `jwks`: the key set given.
    Given(KeySet),
}

/// The assertion key sets one process keeps, one [`KeyCache`] per `jwksUrl`, at most
/// [`MAX_KEY_SETS`] of them.
#[derive(Clone, Debug, Default)]
pub struct KeySets(Vec<(String, KeyCache)>);

impl KeySets {
    /// Runs `f` on the cache for `url`, made (in place of the oldest when full) if there is
    /// none.
    pub fn with<R>(&mut self, url: &str, f: impl FnOnce(&mut KeyCache) -> R) -> R {
        if let Some((_, cache)) = self.0.iter_mut().find(|(kept, _)| kept == url) {
            return f(cache);
        }
        let mut cache = KeyCache::default();
        let result = f(&mut cache);
        if self.0.len() >= MAX_KEY_SETS {
            self.0.remove(0);
        }
        self.0.push((url.to_owned(), cache));
        result
    }

    /// How many URLs have a cache.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none has.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `verifyGateAssertion`'s result as JavaScript gets it: `{ sub, sid, user, iat, exp }`,
/// `sub`, `sid` and `user` `null` when the assertion has none. No `Debug`: it holds the user.
#[derive(Serialize)]
pub struct GateAssertionResult<'a> {
    sub: Option<&'a str>,
    sid: Option<&'a str>,
    user: Option<&'a User>,
    iat: f64,
    exp: f64,
}

/// What `verifyGateAssertion` resolves to in JavaScript.
pub fn result(verified: &VerifiedAssertion) -> GateAssertionResult<'_> {
    GateAssertionResult {
        sub: verified.sub.as_deref(),
        sid: verified.sid.as_deref(),
        user: verified.user.as_ref(),
        // Unix seconds fit a JavaScript number exactly.
        iat: verified.iat as f64,
        exp: verified.exp as f64,
    }
}

/// `verifyGateAssertion`: `assertion` (`None` when it is no string) checked against the
/// options; the options were read first, so a bad one is `INVALID_OPTIONS` whatever the
/// assertion. Fetching the key set fails as the other functions' calls do.
pub async fn verify_gate_assertion<E: NpmEffects>(
    fx: &E,
    assertion: Option<&str>,
    options: &VerifyAssertionOptions,
) -> Result<VerifiedAssertion, NpmError> {
    let token = parse(assertion.unwrap_or(""), fx).map_err(NpmError::assertion_invalid)?;
    let key = match &options.keys {
        AssertionKeys::Given(set) => set
            .key_for(Some(&token.kid), Algorithm::Es256)
            .cloned()
            .ok_or(NpmError::assertion_invalid(AssertionProblem::KeyId))?,
        AssertionKeys::Url(url) => fetched_key(fx, url, &token.kid, options.timeout_ms).await?,
    };
    let verified = fx
        .verify_signature(
            Algorithm::Es256,
            &key,
            token.signing_input.as_bytes(),
            &token.signature,
        )
        .await;
    if !verified {
        return Err(NpmError::assertion_invalid(AssertionProblem::Signature));
    }
    let expected = Expected {
        issuer: &options.issuer,
        audience: &options.audience,
        now: now_secs(fx),
        tolerance_secs: options.clock_tolerance_secs,
    };
    check_claims(token, &expected).map_err(NpmError::assertion_invalid)
}

/// The key for `kid` from the set at `url`, kept per URL (see
/// [`identity::key_from_set`](super::identity::key_from_set)).
async fn fetched_key<E: NpmEffects>(
    fx: &E,
    url: &AbsoluteUrl,
    kid: &str,
    timeout_ms: u32,
) -> Result<Jwk, NpmError> {
    let keep = |use_cache: &mut dyn FnMut(&mut KeyCache)| {
        fx.with_assertion_keys(|sets| sets.with(url.as_str(), use_cache))
    };
    key_from_set(
        fx,
        url,
        Some(kid),
        Algorithm::Es256,
        ASSERTION_KEYS_FRESH_MS,
        timeout_ms,
        keep,
    )
    .await
    .map_err(|error| NpmError::from(&error))?
    .ok_or(NpmError::assertion_invalid(AssertionProblem::KeyId))
}
