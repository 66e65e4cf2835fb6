//! The npm package's flows: every decision of `createAuthorizationLink`, `completeSignIn`,
//! `exchangeAuthorizationCode` and `refreshTokens`, as plain Rust over the two effects its
//! driver performs ([`NpmEffects`]: send one request, fill random bytes). The driver
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
//! code exchanged, once.

mod options;

pub use options::{
    Client, CompleteSignInOptions, ExchangeOptions, LinkOptions, RefreshOptions, StateCheck,
    TokenEndpoint,
};

use core::fmt;

use serde::Serialize;

use crate::base::json::JsonEngine;
use crate::base::secret::{AuthorizationCode, CsrfState};
use crate::config::values::StateMode;
use crate::error::{Error, ErrorCode};
use crate::freedom_id::authorize::{read_reply, AuthorizationLink, AuthorizeRequest};
use crate::freedom_id::callback::{check_callback, ExpectedState};
use crate::freedom_id::state::{new_state, STATE_BYTES};
use crate::freedom_id::token::{
    exchange_request, read_token_reply, refresh_request, TokenCall, Tokens,
};
use crate::freedom_id::upstream::{Reply, UpstreamRequest};

/// What every npm error message starts with.
pub const MESSAGE_PREFIX: &str = "freedom-id-edge: ";

/// The I/O the npm flows ask their driver to perform. Failures come back as data (the
/// [`Reply`]'s error).
#[allow(async_fn_in_trait)] // single-threaded drivers (wasm): no `Send` bound wanted
pub trait NpmEffects: JsonEngine {
    /// Sends `request` within `timeout_ms` for the whole answer, by the rules of
    /// [`UpstreamRequest`] (no redirect followed, the body capped and read only when asked).
    async fn send(&self, request: &UpstreamRequest, timeout_ms: u32) -> Reply;
    /// Fills `out` from a CSPRNG.
    fn random(&self, out: &mut [u8]);
}

/// What `createAuthorizationLink` resolves to.
#[derive(Clone, Debug)]
pub struct SignInLink {
    /// The link that passed the trust rule, with its `track_id` and `expire_at`.
    pub link: AuthorizationLink,
    /// The state appended to the redirect URI (fresh, or the caller's); `None` with
    /// `state: false`.
    pub state: Option<CsrfState>,
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
        }
    }
}

/// `createAuthorizationLink`'s result as JavaScript gets it: `{ url, trackId, expireAt,
/// state }`, each absent one `null`. No `Debug`: it holds the state.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkResult<'a> {
    url: &'a str,
    track_id: Option<&'a str>,
    expire_at: Option<f64>,
    state: Option<&'a str>,
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
    /// `status`: the HTTP status, for `UPSTREAM_STATUS`, `CODE_REJECTED` and
    /// `REFRESH_REJECTED`.
    pub status: Option<u16>,
    /// `upstreamCode`: Freedom ID's own error code of a refusal, when it sent a plain one.
    pub upstream_code: Option<String>,
    /// `freedomIdErrorCode`: the callback's `error_code`, for `SIGN_IN_DECLINED`.
    pub freedom_id_error_code: Option<String>,
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
            Error::UpstreamStatus { status } => npm.status = Some(*status),
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

/// `createAuthorizationLink`: makes the state (fresh unless given or off), asks Freedom ID
/// for the link with it appended to the redirect URI, and checks the link.
pub async fn create_authorization_link<E: NpmEffects>(
    fx: &E,
    options: &LinkOptions,
) -> Result<SignInLink, NpmError> {
    let settings = &options.settings;
    let state = match &settings.state {
        StateMode::Given(state) => Some(CsrfState::new(state.as_str())),
        StateMode::Bind => {
            let mut random = [0_u8; STATE_BYTES];
            fx.random(&mut random);
            Some(new_state(&random))
        }
        StateMode::Off => None,
    };
    let request = AuthorizeRequest::new(settings, state.as_ref().map(CsrfState::secret));
    let reply = fx.send(&request.to_upstream(), settings.timeout_ms).await;
    let link =
        read_reply(&reply, &settings.authorize_url, fx).map_err(|error| NpmError::from(&error))?;
    Ok(SignInLink { link, state })
}

/// `completeSignIn`: the state check, then the callback's code exchanged (see the module's
/// order).
pub async fn complete_sign_in<E: NpmEffects>(
    fx: &E,
    options: &CompleteSignInOptions,
) -> Result<Tokens, NpmError> {
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
    exchange(fx, &options.client, &code, &options.endpoint).await
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
