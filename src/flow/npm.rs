//! The npm package's flows: every decision of `createAuthorizationLink`, `completeSignIn`,
//! `exchangeAuthorizationCode`, `refreshTokens` and `fetchUserInfo`, as plain Rust over the
//! effects its driver performs ([`NpmEffects`]: send one request, fill random bytes, the
//! clock, the key set kept per process, WebCrypto's signature check). The driver
//! (`drivers/node/`) hands each options object to [`LinkOptions::read`] and its siblings as a
//! serde `Deserializer` over a prototype-free copy, performs the calls, and turns a result
//! ([`LinkResult`], [`TokensResult`]: serde types) or an [`NpmError`] into JavaScript. Which
//! options there are and their rules, the state, the order of the callback's checks, the
//! requests, the results' shape, and each error's code, message and details are all decided
//! here; `tests/flow_npm.rs` drives them through a fake with scripted answers.
//!
//! `completeSignIn`, in order: the options are checked (nothing sent on a problem); the
//! callback's `state` is compared with `expectedState` in constant time **before** anything
//! else ([`StateCheck`]), so a forged callback never spends the code; an `error_code` is
//! `SIGN_IN_DECLINED`; a callback with no code either is `INVALID_OPTIONS`; only then is the
//! code exchanged, once. In `protocol: 'oidc'` the exchange is the OpenID Connect one and its
//! id_token is checked (its signature too with `jwksUrl`) by the same steps as the Worker's
//! `/callback` (`flow::identity`); in both flavours `userInfoUrl` then fetches the profile.
//! Only then does it resolve, with the user.
//!
//! `verifyGateAssertion` (`assertion`) is the site's side of the gate: the assertion the
//! Worker signs, checked against a key set given or fetched and kept per URL.

mod assertion;
mod options;

pub use assertion::{
    result as gate_assertion_result, verify_gate_assertion, AssertionKeys, GateAssertionResult,
    KeySets, ASSERTION_KEYS_FRESH_MS, MAX_KEY_SETS,
};

pub use super::identity::IdentityEffects;
pub use options::{
    Client, CompleteSignInOptions, ExchangeOptions, LinkOptions, OidcCheck, RefreshOptions,
    StateCheck, TokenEndpoint, UserInfoOptions, VerifyAssertionOptions,
};

use core::fmt;

use serde::Serialize;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use super::identity;
use crate::base::secret::{AccessToken, AuthorizationCode, CsrfState};
use crate::base::url::AbsoluteUrl;
use crate::config::values::{Protocol, StateMode};
use crate::error::{Error, ErrorCode};
use crate::freedom_id::authorize::{read_reply, AuthorizationLink, AuthorizeRequest};
use crate::freedom_id::callback::{check_callback, ExpectedState};
use crate::freedom_id::id_token::Expected;
use crate::freedom_id::oidc;
use crate::freedom_id::state::{new_state, STATE_BYTES};
use crate::freedom_id::token::{
    exchange_request, read_token_reply, refresh_request, TokenCall, Tokens,
};
use crate::freedom_id::user::User;
use crate::web::assertion_verify::AssertionProblem;

/// What every npm error message starts with.
pub const MESSAGE_PREFIX: &str = "freedom-id-edge: ";

/// The I/O the npm flows ask their driver to perform: the identity steps' (one upstream
/// call, the clock, the key set, the signature check), random bytes, and the assertion key
/// sets kept per process. Failures come back as data (the
/// [`Reply`](crate::freedom_id::upstream::Reply)'s error).
pub trait NpmEffects: IdentityEffects {
    /// Fills `out` from a CSPRNG.
    fn random(&self, out: &mut [u8]);
    /// Runs `f` on the `jwksUrl` key sets of `verifyGateAssertion` this process keeps (the
    /// core decides when to fetch them).
    fn with_assertion_keys<R>(&self, f: impl FnOnce(&mut KeySets) -> R) -> R;
}

/// What `createAuthorizationLink` resolves to.
#[derive(Clone, Debug)]
pub struct SignInLink {
    /// The link that passed the trust rule, with its `track_id` and `expire_at`.
    pub link: AuthorizationLink,
    /// The state appended to the redirect URI (fresh, or the caller's); `None` with
    /// `state: false`. In `oidc`, the link's own `state` parameter.
    pub state: Option<CsrfState>,
    /// `oidc`: the link's `nonce` (fresh, or the caller's); `None` in `oauth2`.
    pub nonce: Option<CsrfState>,
}

impl SignInLink {
    /// What `createAuthorizationLink` resolves to in JavaScript.
    pub fn result(&self) -> LinkResult<'_> {
        LinkResult {
            url: self.link.url.as_str(),
            track_id: self.link.track_id.as_deref(),
            // Unix seconds fit a JavaScript number exactly for the next 285 million years.
            expire_at: self.link.expire_at.map(|at| at as f64),
            state: self.state.as_ref().map(CsrfState::secret),
            nonce: self.nonce.as_ref().map(CsrfState::secret),
        }
    }
}

/// `createAuthorizationLink`'s result as JavaScript gets it: `{ url, trackId, expireAt,
/// state, nonce }`, each absent one `null` (`nonce` in `oauth2`; `trackId` and `expireAt` in
/// `oidc`, whose link is built here). No `Debug`: it holds the state and the nonce.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkResult<'a> {
    url: &'a str,
    track_id: Option<&'a str>,
    expire_at: Option<f64>,
    state: Option<&'a str>,
    nonce: Option<&'a str>,
}

/// The token functions' result as JavaScript gets it: `{ id, accessToken, refreshToken,
/// accessExpiresAt, refreshExpiresAt }`, `id` `null` when Freedom ID sent none. No `Debug`:
/// it holds the tokens.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokensResult<'a> {
    id: Option<&'a str>,
    access_token: &'a str,
    refresh_token: &'a str,
    access_expires_at: f64,
    refresh_expires_at: f64,
}

impl<'a> TokensResult<'a> {
    /// `tokens` as JavaScript gets them.
    pub fn of(tokens: &'a Tokens) -> TokensResult<'a> {
        TokensResult {
            id: tokens.id.as_deref(),
            access_token: tokens.access_token.secret(),
            refresh_token: tokens.refresh_token.secret(),
            access_expires_at: tokens.access_expires_at as f64,
            refresh_expires_at: tokens.refresh_expires_at as f64,
        }
    }
}

/// What `completeSignIn` learned: the tokens, who signed in, and in `oidc` the id_token. Its
/// `Debug` shows neither the user (personal data) nor the id_token, only whether they are
/// known.
pub struct SignedIn {
    /// The token pair; in `oidc` without an `id`, and with the access token's expiry as the
    /// refresh token's: no refresh is documented for that flavour, so the sign-in lasts as
    /// long as its access token (and a `Tokens` caller's `min` of the two stays right).
    pub tokens: Tokens,
    /// The user: from the id_token (and the profile), or the profile alone in `oauth2`;
    /// `None` in `oauth2` without `userInfoUrl`.
    pub user: Option<User>,
    /// `oidc`: the id_token as received, checked.
    pub id_token: Option<String>,
}

impl fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedIn")
            .field("tokens", &self.tokens)
            .field("user", &self.user.as_ref().map(|_| "<personal data>"))
            .field("id_token", &self.id_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl SignedIn {
    /// What `completeSignIn` resolves to in JavaScript, but `idTokenClaims` (see
    /// [`SignedIn::claims_json`]).
    pub fn result(&self) -> SignInResult<'_> {
        let tokens = TokensResult::of(&self.tokens);
        SignInResult {
            id: tokens.id,
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            access_expires_at: tokens.access_expires_at,
            refresh_expires_at: tokens.refresh_expires_at,
            user: self.user.as_ref(),
            id_token: self.id_token.as_deref(),
            id_token_claims: None,
        }
    }

    /// `idTokenClaims` as JSON text: the checked id_token's payload, a JSON object, as
    /// Freedom ID wrote it (every claim, not only those checked). The driver makes it a
    /// JavaScript object with the runtime's `JSON.parse`: a JWT may hold any JSON, and no
    /// generic JSON value type need land in the wasm for it. `None` in `oauth2`.
    pub fn claims_json(&self) -> Option<String> {
        let payload = self.id_token.as_deref()?.split('.').nth(1)?;
        // The token passed `id_token::parse`, so its payload is base64url of UTF-8 JSON.
        String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
    }
}

/// `completeSignIn`'s result as JavaScript gets it: the tokens (`{ id, accessToken,
/// refreshToken, accessExpiresAt, refreshExpiresAt }`), `user`, and `idToken` and
/// `idTokenClaims`, each absent one `null`. No `Debug`: it holds the tokens and the user.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInResult<'a> {
    id: Option<&'a str>,
    access_token: &'a str,
    refresh_token: &'a str,
    access_expires_at: f64,
    refresh_expires_at: f64,
    user: Option<&'a User>,
    id_token: Option<&'a str>,
    /// Always `null` here: the driver sets the object from [`SignedIn::claims_json`].
    id_token_claims: Option<()>,
}

/// Why an npm function rejected: the `Error` it rejects with has `code`, `message` and, when
/// present, the details ([`NpmError::details`]). Never holds a secret, a code, a token, a
/// state or an upstream body.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NpmError {
    /// The stable code.
    pub code: ErrorCode,
    /// The whole message, [`MESSAGE_PREFIX`] included.
    pub message: String,
    /// `status`: the HTTP status, for `UPSTREAM_STATUS`, `CODE_REJECTED`,
    /// `REFRESH_REJECTED` and `USERINFO_REJECTED`.
    pub status: Option<u16>,
    /// `upstreamCode`: Freedom ID's own error code of a refusal, when it sent a plain one.
    pub upstream_code: Option<String>,
    /// `freedomIdErrorCode`: the callback's `error_code`, for `SIGN_IN_DECLINED`.
    pub freedom_id_error_code: Option<String>,
    /// `details.problem`: which check failed, for `ASSERTION_INVALID` (`malformed`, `alg`,
    /// `kid`, `signature`, `iss`, `aud`, `exp`, `iat`); the driver sets it as
    /// `error.details = { problem }`.
    pub problem: Option<&'static str>,
}

/// One detail property of an npm error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail<'a> {
    /// A number (`status`).
    Number(u16),
    /// A string (`upstreamCode`, `freedomIdErrorCode`).
    Text(&'a str),
}

impl NpmError {
    /// `INVALID_OPTIONS` with `message` (after the prefix).
    pub fn invalid_options(message: &str) -> NpmError {
        NpmError::new(ErrorCode::InvalidOptions, message)
    }

    /// `ASSERTION_INVALID` for `problem`: the message names the check, never the token.
    pub fn assertion_invalid(problem: AssertionProblem) -> NpmError {
        let mut error = NpmError::new(
            ErrorCode::AssertionInvalid,
            &format!("the gate's assertion failed its `{problem}` check"),
        );
        error.problem = Some(problem.as_str());
        error
    }

    fn new(code: ErrorCode, message: &str) -> NpmError {
        let mut text = String::with_capacity(MESSAGE_PREFIX.len() + message.len());
        text.push_str(MESSAGE_PREFIX);
        text.push_str(message);
        NpmError {
            code,
            message: text,
            status: None,
            upstream_code: None,
            freedom_id_error_code: None,
            problem: None,
        }
    }

    /// The properties to set on the JavaScript `Error` beside `code` and `message`, by
    /// their JavaScript names, in this order; `None` for those it has not.
    pub fn details(&self) -> [(&'static str, Option<Detail<'_>>); 3] {
        [
            ("status", self.status.map(Detail::Number)),
            (
                "upstreamCode",
                self.upstream_code.as_deref().map(Detail::Text),
            ),
            (
                "freedomIdErrorCode",
                self.freedom_id_error_code.as_deref().map(Detail::Text),
            ),
        ]
    }
}

impl From<&Error> for NpmError {
    /// A failed step's code and message, and the details callers branch on.
    fn from(error: &Error) -> NpmError {
        let mut npm = NpmError::new(error.code(), &error.to_string());
        match error {
            Error::UpstreamStatus { status } | Error::UserinfoRejected { status } => {
                npm.status = Some(*status);
            }
            Error::CodeRejected {
                status,
                upstream_code,
            }
            | Error::RefreshRejected {
                status,
                upstream_code,
            } => {
                npm.status = Some(*status);
                npm.upstream_code.clone_from(upstream_code);
            }
            Error::SignInDeclined { error_code } => {
                npm.freedom_id_error_code = Some(error_code.clone());
            }
            _ => {}
        }
        npm
    }
}

impl fmt::Display for NpmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for NpmError {}

fn fresh<E: NpmEffects>(fx: &E) -> CsrfState {
    let mut random = [0_u8; STATE_BYTES];
    fx.random(&mut random);
    new_state(&random)
}

/// `createAuthorizationLink`: makes the state (fresh unless given or off), asks Freedom ID
/// for the link with it appended to the redirect URI, and checks the link. In `oidc`, the
/// link is built here with the state and a nonce (fresh unless given), with no call.
pub async fn create_authorization_link<E: NpmEffects>(
    fx: &E,
    options: &LinkOptions,
) -> Result<SignInLink, NpmError> {
    let settings = &options.settings;
    let state = match &settings.state {
        StateMode::Given(state) => Some(CsrfState::new(state.as_str())),
        StateMode::Bind => Some(fresh(fx)),
        StateMode::Off => None,
    };
    if settings.protocol == Protocol::Oidc {
        // The settings' rules refuse `state: false` in `oidc`; a link always has one.
        let state = state.unwrap_or_else(|| fresh(fx));
        let nonce = options.nonce.clone().unwrap_or_else(|| fresh(fx));
        let link = oidc::authorization_link(settings, state.secret(), nonce.secret())
            .map_err(|error| NpmError::from(&error))?;
        return Ok(SignInLink {
            link,
            state: Some(state),
            nonce: Some(nonce),
        });
    }
    let request = AuthorizeRequest::new(settings, state.as_ref().map(CsrfState::secret));
    let reply = fx.send(&request.to_upstream(), settings.timeout_ms).await;
    let link =
        read_reply(&reply, &settings.authorize_url, fx).map_err(|error| NpmError::from(&error))?;
    Ok(SignInLink {
        link,
        state,
        nonce: None,
    })
}

/// `completeSignIn`: the state check, then the callback's code exchanged, the id_token
/// checked in `oidc`, and the profile fetched with `userInfoUrl` (see the module's order).
pub async fn complete_sign_in<E: NpmEffects>(
    fx: &E,
    options: &CompleteSignInOptions,
) -> Result<SignedIn, NpmError> {
    let expected = match &options.state_check {
        StateCheck::Expect(state) => ExpectedState::Value(state),
        StateCheck::Skip => ExpectedState::Off,
    };
    let code = match check_callback(&options.callback, expected) {
        Ok(code) => code,
        // A URL that is no callback at all: the caller's options are wrong.
        Err(Error::CallbackWithoutCode) => {
            return Err(NpmError::invalid_options(
                "invalid options: callbackUrl has neither authorization_code nor error_code",
            ))
        }
        Err(error) => return Err(NpmError::from(&error)),
    };
    let timeout_ms = options.endpoint.timeout_ms;
    let Some(check) = &options.oidc else {
        let tokens = exchange(fx, &options.client, &code, &options.endpoint).await?;
        let user = match &options.userinfo_url {
            None => None,
            Some(url) => Some(profile(fx, url, &tokens.access_token, timeout_ms).await?),
        };
        return Ok(SignedIn {
            tokens,
            user,
            id_token: None,
        });
    };
    oidc_sign_in(fx, options, check, &code)
        .await
        .map_err(|error| NpmError::from(&error))
}

/// The OpenID Connect exchange and the steps after it, as the Worker's `/callback` runs them.
async fn oidc_sign_in<E: NpmEffects>(
    fx: &E,
    options: &CompleteSignInOptions,
    check: &OidcCheck,
    code: &AuthorizationCode,
) -> Result<SignedIn, Error> {
    let timeout_ms = options.endpoint.timeout_ms;
    let client = &options.client;
    let request = oidc::exchange_request(
        &check.token_url,
        &client.id,
        &client.secret,
        code,
        &check.redirect_uri,
    );
    let reply = fx.send(&request, timeout_ms).await;
    let tokens = oidc::read_exchange_reply(&reply, now_secs(fx), fx)?;
    let expected = Expected {
        issuer: &check.issuer,
        client_id: client.id.as_str(),
        nonce: check.nonce.secret(),
        now: now_secs(fx),
    };
    let (sub, claims) = identity::checked_id_token(
        fx,
        &tokens.id_token,
        check.jwks_url.as_ref(),
        timeout_ms,
        &expected,
    )
    .await?;
    let info = match &options.userinfo_url {
        Some(url) => Some(identity::user_info(fx, url, &tokens.access_token, timeout_ms).await?),
        None => None,
    };
    let user = identity::user_from(info.as_ref(), Some((&sub, &claims)))?;
    Ok(SignedIn {
        id_token: Some(tokens.id_token.clone()),
        tokens: tokens.into_tokens(),
        user,
    })
}

/// `fetchUserInfo`: the user-info call on its own, and the user from its answer.
pub async fn fetch_user_info<E: NpmEffects>(
    fx: &E,
    options: &UserInfoOptions,
) -> Result<User, NpmError> {
    profile(fx, &options.url, &options.access_token, options.timeout_ms).await
}

/// The user from the user-info answer alone (`oauth2`, `fetchUserInfo`).
async fn profile<E: NpmEffects>(
    fx: &E,
    url: &AbsoluteUrl,
    access_token: &AccessToken,
    timeout_ms: u32,
) -> Result<User, NpmError> {
    let user = identity::user_info(fx, url, access_token, timeout_ms)
        .await
        .and_then(|info| identity::user_from(Some(&info), None));
    match user {
        Ok(Some(user)) => Ok(user),
        // `user_from` knows the user whenever it is given an answer.
        Ok(None) => Err(NpmError::from(&Error::UpstreamMalformed(
            crate::error::Malformed::BadProfile,
        ))),
        Err(error) => Err(NpmError::from(&error)),
    }
}

fn now_secs<E: NpmEffects>(fx: &E) -> u64 {
    (fx.now_ms().max(0.0) / 1000.0) as u64
}

/// `exchangeAuthorizationCode`: the bare exchange, no state check.
pub async fn exchange_authorization_code<E: NpmEffects>(
    fx: &E,
    options: &ExchangeOptions,
) -> Result<Tokens, NpmError> {
    exchange(fx, &options.client, &options.code, &options.endpoint).await
}

/// `refreshTokens`: trades the refresh token (used up by the call) for a new pair.
pub async fn refresh_tokens<E: NpmEffects>(
    fx: &E,
    options: &RefreshOptions,
) -> Result<Tokens, NpmError> {
    let request = refresh_request(&options.endpoint.url, &options.refresh_token);
    let reply = fx.send(&request, options.endpoint.timeout_ms).await;
    read_token_reply(TokenCall::Refresh, &reply, fx).map_err(|error| NpmError::from(&error))
}

async fn exchange<E: NpmEffects>(
    fx: &E,
    client: &Client,
    code: &AuthorizationCode,
    endpoint: &TokenEndpoint,
) -> Result<Tokens, NpmError> {
    let request = exchange_request(&endpoint.url, &client.id, &client.secret, code);
    let reply = fx.send(&request, endpoint.timeout_ms).await;
    read_token_reply(TokenCall::Exchange, &reply, fx).map_err(|error| NpmError::from(&error))
}
