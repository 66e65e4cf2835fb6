//! Who signed in, after a successful exchange: the OIDC flavour's id_token checked (its
//! signature too when a key set is configured), and the user-info call when
//! `FREEDOM_ID_USERINFO_URL` (or `userInfoUrl`) is set. Shared by the Worker's `/callback` and
//! the npm package's `completeSignIn` and `fetchUserInfo`, over the few effects both drivers
//! perform ([`IdentityEffects`]); every failure is an [`Error`] and nothing is sealed.

use crate::base::secret::AccessToken;
use crate::base::url::AbsoluteUrl;
use crate::error::Error;
use crate::freedom_id::id_token::{self, Claims, Expected, IdToken, IdTokenProblem};
use crate::freedom_id::jwks::{jwks_request, read_jwks_reply, KeyPlan, KEYS_FRESH_MS};
use crate::freedom_id::user::{User, UserInfoAnswer, UserProblem};
use crate::freedom_id::userinfo::{read_userinfo_reply, userinfo_request};

use super::*;

/// The I/O the identity steps need, which both products' drivers perform: one upstream call,
/// the clock, the key set kept per isolate or process, and WebCrypto's signature check. Every
/// Worker [`Effects`] is one (its calls unshared); the npm package's effects build on it.
#[allow(async_fn_in_trait)] // single-threaded drivers (wasm): no `Send` bound wanted
pub trait IdentityEffects: JsonEngine {
    /// Sends `request` within `timeout_ms` for the whole answer, by the rules of
    /// [`UpstreamRequest`] (no redirect followed, the body capped and read only when asked).
    async fn send(&self, request: &UpstreamRequest, timeout_ms: u32) -> Reply;
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> f64;
    /// Runs `f` on the id_token key set this isolate or process keeps (the core decides when
    /// to fetch it).
    fn with_key_cache<R>(&self, f: impl FnOnce(&mut KeyCache) -> R) -> R;
    /// Whether `signature` over `input` verifies with the public `key` for `algorithm`;
    /// `false` for a key the runtime cannot import.
    async fn verify_signature(
        &self,
        algorithm: Algorithm,
        key: &Jwk,
        input: &[u8],
        signature: &[u8],
    ) -> bool;
}

impl<E: Effects> IdentityEffects for E {
    async fn send(&self, request: &UpstreamRequest, timeout_ms: u32) -> Reply {
        Effects::send(self, request, timeout_ms, None).await
    }

    fn now_ms(&self) -> f64 {
        Effects::now_ms(self)
    }

    fn with_key_cache<R>(&self, f: impl FnOnce(&mut KeyCache) -> R) -> R {
        Effects::with_key_cache(self, f)
    }

    async fn verify_signature(
        &self,
        algorithm: Algorithm,
        key: &Jwk,
        input: &[u8],
        signature: &[u8],
    ) -> bool {
        Effects::verify_signature(self, algorithm, key, input, signature).await
    }
}

fn invalid(problem: IdTokenProblem) -> Error {
    Error::IdTokenInvalid {
        problem: problem.as_str(),
    }
}

/// Reads and checks `raw` (the id_token from the token endpoint) against `expected`; its
/// `sub` and claims when it passes.
pub(crate) async fn checked_id_token<E: IdentityEffects>(
    fx: &E,
    raw: &str,
    jwks_url: Option<&AbsoluteUrl>,
    timeout_ms: u32,
    expected: &Expected<'_>,
) -> Result<(String, Claims), Error> {
    let token = id_token::parse(raw, fx).map_err(invalid)?;
    if let Some(url) = jwks_url {
        verify_signature(fx, &token, url, timeout_ms).await?;
    }
    let sub = id_token::check_claims(&token.claims, expected).map_err(invalid)?;
    Ok((sub, token.claims))
}

/// Verifies the token's signature with the key set at `url` (see [`key_from_set`]).
async fn verify_signature<E: IdentityEffects>(
    fx: &E,
    token: &IdToken,
    url: &AbsoluteUrl,
    timeout_ms: u32,
) -> Result<(), Error> {
    let keep = |use_cache: &mut dyn FnMut(&mut KeyCache)| fx.with_key_cache(use_cache);
    let key = key_from_set(
        fx,
        url,
        token.key_id.as_deref(),
        token.algorithm,
        KEYS_FRESH_MS,
        timeout_ms,
        keep,
    )
    .await?
    .ok_or(invalid(IdTokenProblem::UnknownKey))?;
    let verified = fx
        .verify_signature(
            token.algorithm,
            &key,
            token.signing_input.as_bytes(),
            &token.signature,
        )
        .await;
    if verified {
        Ok(())
    } else {
        Err(invalid(IdTokenProblem::Signature))
    }
}

/// The key for `kid` and `algorithm` from the key set at `url`, as `keep` holds it (the
/// id_token's set, or one of the npm verifier's): the kept one while fresh for `fresh_ms`,
/// fetched when stale or, at most once a minute, when it lacks the key. `None`: no such key,
/// after at most one fetch per call. A failed fetch is its error.
pub(crate) async fn key_from_set<E: IdentityEffects>(
    fx: &E,
    url: &AbsoluteUrl,
    kid: Option<&str>,
    algorithm: Algorithm,
    fresh_ms: f64,
    timeout_ms: u32,
    keep: impl Fn(&mut dyn FnMut(&mut KeyCache)),
) -> Result<Option<Jwk>, Error> {
    let mut fetched = false;
    loop {
        let now = fx.now_ms();
        let mut plan = KeyPlan::Unknown;
        keep(&mut |cache| plan = cache.plan_within(kid, algorithm, now, fresh_ms));
        match plan {
            KeyPlan::Use(key) => return Ok(Some(*key)),
            // One fetch per call: a set that still lacks the key names no such key.
            KeyPlan::Unknown => return Ok(None),
            KeyPlan::Fetch if fetched => return Ok(None),
            KeyPlan::Fetch => {
                fetched = true;
                let reply = fx.send(&jwks_request(url), timeout_ms).await;
                let mut set = Some(read_jwks_reply(&reply, fx)?);
                keep(&mut |cache| {
                    if let Some(set) = set.take() {
                        cache.store(set, now);
                    }
                });
            }
        }
    }
}

/// Calls the user-info endpoint with `access_token`.
pub(crate) async fn user_info<E: IdentityEffects>(
    fx: &E,
    url: &AbsoluteUrl,
    access_token: &AccessToken,
    timeout_ms: u32,
) -> Result<UserInfoAnswer, Error> {
    let reply = fx
        .send(&userinfo_request(url, access_token), timeout_ms)
        .await;
    read_userinfo_reply(&reply, fx)
}

/// The user from what the sign-in learned; a user-info `sub` that is not the id_token's, or a
/// `sub` that cannot be a header value, is `ID_TOKEN_INVALID`; a user-info answer without a
/// usable id `UPSTREAM_MALFORMED`.
pub(crate) fn user_from(
    info: Option<&UserInfoAnswer>,
    claims: Option<(&str, &Claims)>,
) -> Result<Option<User>, Error> {
    if info.is_none() && claims.is_none() {
        return Ok(None);
    }
    let from_id_token = claims.is_some();
    User::from_sources(info, claims)
        .map(Some)
        .map_err(|problem| match problem {
            UserProblem::SubjectMismatch => invalid(IdTokenProblem::Subject),
            // In oidc the id is the id_token's `sub`: one no header can carry is its fault.
            _ if from_id_token => invalid(IdTokenProblem::Subject),
            _ => Error::UpstreamMalformed(crate::error::Malformed::BadProfile),
        })
}
