//! The npm functions' options: which each function reads, the type and rules of each, and the
//! message every invalid one gets. The driver hands over each options object as something
//! serde can read (serde-wasm-bindgen over a prototype-free copy in the wasm, `serde_json`
//! in the native tests); it is read into serde types, `createAuthorizationLink`'s into the
//! same [`SettingsInput`] the Worker's environment fills, so both go through
//! [`Settings::from_input`]. Every option is a [`Field`]: absent, a value, of the wrong type
//! (with the words for the type it needs) or unreadable (its getter threw). Every check is
//! here, and every problem is reported at once, in a fixed order.
//!
//! Messages name options and say what is wrong with them, never what they hold: a client
//! secret, a code, a token or a state never reaches one.

use core::fmt;

use serde::{Deserialize, Deserializer};

use super::{AssertionKeys, NpmError};
use crate::base::json::{JsonEngine as _, Object, SerdeJson};
use crate::base::secret::{
    AccessToken, AuthorizationCode, ClientId, ClientSecret, CsrfState, RefreshToken,
};
use crate::base::url::AbsoluteUrl;
use crate::config::parse::{parse_client_id, parse_client_secret, parse_timeout, parse_token_url};
use crate::config::settings::{
    Field, ProblemReason, Setting, Settings, SettingsInput, StateInput, TimeoutInput,
};
use crate::config::values::{Protocol, DEFAULT_ISSUER, DEFAULT_OIDC_TOKEN_URL, MAX_STATE_LEN};
use crate::freedom_id::callback::CallbackParams;
use crate::freedom_id::jwks::KeySet;
use crate::web::assertion_verify::{DEFAULT_CLOCK_TOLERANCE_SECS, MAX_CLOCK_TOLERANCE_SECS};

/// What `createAuthorizationLink` signs in with in `oidc` when `clientSecret` is not given:
/// the OIDC link is built locally and sends no secret, so the settings' secret is never used.
const UNUSED_SECRET: &str = "unused: the OIDC link sends no secret";

/// What is wrong with a `jwks` that is no key set.
const NOT_A_KEY_SET: &str = "must be a key set with at least one key ({ keys: [...] })";

/// The client's Basic pair.
#[derive(Clone, Debug)]
pub struct Client {
    /// The Basic user.
    pub id: ClientId,
    /// The Basic password.
    pub secret: ClientSecret,
}

/// Where the token calls go, and how long each may take.
#[derive(Clone, Debug)]
pub struct TokenEndpoint {
    /// `tokenUrl`, or Freedom ID's own.
    pub url: AbsoluteUrl,
    /// `timeoutMs`, or the default.
    pub timeout_ms: u32,
}

/// How `completeSignIn` checks the callback's `state`.
#[derive(Clone, Debug)]
pub enum StateCheck {
    /// `expectedState`: the state kept from `createAuthorizationLink`.
    Expect(CsrfState),
    /// `skipStateCheck: true`: no check, for a link made with `state: false`.
    Skip,
}

/// `createAuthorizationLink`'s options, valid.
#[derive(Clone, Debug)]
pub struct LinkOptions {
    /// The settings they make, by the Worker's rules; `state` is
    /// [`StateMode::Bind`](crate::config::values::StateMode::Bind) when none was given.
    pub settings: Settings,
    /// `nonce` (`oidc` only): the caller's, or `None` for a fresh one.
    pub nonce: Option<CsrfState>,
}

/// What `completeSignIn` needs in the OpenID Connect flavour.
#[derive(Clone, Debug)]
pub struct OidcCheck {
    /// `redirectUri`: sent again with the code, as the token call requires.
    pub redirect_uri: AbsoluteUrl,
    /// `expectedNonce`: the nonce kept from `createAuthorizationLink`.
    pub nonce: CsrfState,
    /// `oidcTokenUrl`, or Freedom ID's own.
    pub token_url: AbsoluteUrl,
    /// `issuer`, or Freedom ID's own: the `iss` the id_token must carry.
    pub issuer: String,
    /// `jwksUrl`: the key set that verifies the id_token's signature; `None`: not verified.
    pub jwks_url: Option<AbsoluteUrl>,
}

/// `completeSignIn`'s options, valid.
#[derive(Clone, Debug)]
pub struct CompleteSignInOptions {
    /// `clientId` and `clientSecret`.
    pub client: Client,
    /// What `callbackUrl` carries.
    pub callback: CallbackParams,
    /// `expectedState`, or `skipStateCheck: true`.
    pub state_check: StateCheck,
    /// `tokenUrl` and `timeoutMs`.
    pub endpoint: TokenEndpoint,
    /// `protocol: 'oidc'`: what the OpenID Connect flavour checks; `None` in `oauth2`.
    pub oidc: Option<OidcCheck>,
    /// `userInfoUrl`: where the user's profile is fetched after the exchange; `None`: not.
    pub userinfo_url: Option<AbsoluteUrl>,
}

/// `fetchUserInfo`'s options, valid.
#[derive(Clone, Debug)]
pub struct UserInfoOptions {
    /// `accessToken`.
    pub access_token: AccessToken,
    /// `userInfoUrl`.
    pub url: AbsoluteUrl,
    /// `timeoutMs`, or the default.
    pub timeout_ms: u32,
}

/// `exchangeAuthorizationCode`'s options, valid.
#[derive(Clone, Debug)]
pub struct ExchangeOptions {
    /// `clientId` and `clientSecret`.
    pub client: Client,
    /// `code`.
    pub code: AuthorizationCode,
    /// `tokenUrl` and `timeoutMs`.
    pub endpoint: TokenEndpoint,
}

/// `refreshTokens`' options, valid.
#[derive(Clone, Debug)]
pub struct RefreshOptions {
    /// `refreshToken`.
    pub refresh_token: RefreshToken,
    /// `tokenUrl` and `timeoutMs`.
    pub endpoint: TokenEndpoint,
}

/// `verifyGateAssertion`'s options, valid.
#[derive(Clone, Debug)]
pub struct VerifyAssertionOptions {
    /// `jwksUrl` or `jwks`.
    pub keys: AssertionKeys,
    /// `issuer`: the `iss` wanted (the gate's origin).
    pub issuer: String,
    /// `audience`: the `aud` wanted.
    pub audience: String,
    /// `clockToleranceSec`, or 5.
    pub clock_tolerance_secs: u64,
    /// `timeoutMs` (for `jwksUrl`), or the default.
    pub timeout_ms: u32,
}

// The token functions' options as given. No `Debug`: they hold the secret, codes and tokens.

/// `completeSignIn`'s options as given.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct CompleteSignInInput {
    client_id: Field<String>,
    client_secret: Field<String>,
    callback_url: Field<String>,
    expected_state: Field<String>,
    skip_state_check: Field<bool>,
    token_url: Field<String>,
    timeout_ms: Field<TimeoutInput>,
    protocol: Field<String>,
    redirect_uri: Field<String>,
    expected_nonce: Field<String>,
    oidc_token_url: Field<String>,
    issuer: Field<String>,
    jwks_url: Field<String>,
    user_info_url: Field<String>,
}

/// `createAuthorizationLink`'s options beyond the settings table's.
#[derive(Default, Deserialize)]
#[serde(default)]
struct LinkExtraInput {
    nonce: Field<String>,
}

/// `fetchUserInfo`'s options as given.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct UserInfoInput {
    access_token: Field<String>,
    user_info_url: Field<String>,
    timeout_ms: Field<TimeoutInput>,
}

/// `exchangeAuthorizationCode`'s options as given.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ExchangeInput {
    client_id: Field<String>,
    client_secret: Field<String>,
    code: Field<String>,
    token_url: Field<String>,
    timeout_ms: Field<TimeoutInput>,
}

/// `verifyGateAssertion`'s options as given.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct VerifyAssertionInput {
    jwks_url: Field<String>,
    jwks: Field<String>,
    issuer: Field<String>,
    audience: Field<String>,
    clock_tolerance_sec: Field<TimeoutInput>,
    timeout_ms: Field<TimeoutInput>,
}

/// `refreshTokens`' options as given.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct RefreshInput {
    refresh_token: Field<String>,
    token_url: Field<String>,
    timeout_ms: Field<TimeoutInput>,
}

impl LinkOptions {
    /// Reads and checks `createAuthorizationLink`'s options, given as a way to make the same
    /// object's `Deserializer` (read twice: once as the settings table, once for `nonce`,
    /// which is no setting of the Worker's). Anything that is no object (`null` from the
    /// driver for a missing value, a string, an array) is refused as such. Every problem is
    /// reported at once, the settings' in [`Setting::ALL`] order, then `nonce`'s.
    pub fn read<'de, D: Deserializer<'de>>(
        options: impl Fn() -> D,
    ) -> Result<LinkOptions, NpmError> {
        let mut input: SettingsInput = object(options(), "createAuthorizationLink")?;
        let extra: LinkExtraInput = object(options(), "createAuthorizationLink")?;
        // Absent: a fresh state (Bind); false: none; a string: the caller's.
        if let Field::Absent = input.state {
            input.state = Field::Value(StateInput::Switch("on".to_owned()));
        }
        let oidc = matches!(&input.protocol, Field::Value(protocol) if Protocol::parse(protocol) == Some(Protocol::Oidc));
        if oidc && matches!(input.client_secret, Field::Absent) {
            input.client_secret = Field::Value(UNUSED_SECRET.to_owned());
        }
        let mut problems = Problems::default();
        let settings = Settings::from_input(input)
            .map_err(|error| problems.0.push(error.describe(Setting::option_name)))
            .ok();
        let nonce = problems.nonce("nonce", extra.nonce, oidc, false);
        problems.finish()?;
        match (settings, nonce) {
            (Some(settings), Some(nonce)) => Ok(LinkOptions { settings, nonce }),
            _ => Err(NpmError::invalid_options(
                "createAuthorizationLink: invalid options",
            )),
        }
    }
}

impl CompleteSignInOptions {
    /// Reads and checks `completeSignIn`'s options, then reads `callbackUrl`.
    pub fn read<'de, D: Deserializer<'de>>(options: D) -> Result<CompleteSignInOptions, NpmError> {
        let input: CompleteSignInInput = object(options, "completeSignIn")?;
        let mut problems = Problems::default();
        let client = problems.client(&input.client_id, &input.client_secret);
        let callback_url = problems.required("callbackUrl", input.callback_url);
        let state_check = problems.state_check(&input.skip_state_check, input.expected_state);
        let endpoint = problems.token_endpoint(&input.token_url, &input.timeout_ms);
        let protocol = problems.parse("protocol", &input.protocol, |protocol| {
            Protocol::parse(protocol.map_or("", String::as_str)).ok_or(ProblemReason::Protocol)
        });
        let oidc = protocol == Some(Protocol::Oidc);
        // The flavour's options are read in both (a bad one is named either way); `oauth2`
        // uses none of them, and refuses only `expectedNonce`, whose check it cannot make.
        let redirect_uri = match (&input.redirect_uri, oidc) {
            (Field::Absent, false) => None,
            (field, _) => problems.parse("redirectUri", field, |uri| {
                web_url(
                    uri.map(String::as_str)
                        .filter(|uri| !uri.is_empty())
                        .ok_or(ProblemReason::Missing)?,
                )
            }),
        };
        let nonce = problems.nonce("expectedNonce", input.expected_nonce, oidc, true);
        let token_url = problems.parse("oidcTokenUrl", &input.oidc_token_url, |url| {
            web_url(non_empty(url).unwrap_or(DEFAULT_OIDC_TOKEN_URL))
        });
        let issuer = problems.parse("issuer", &input.issuer, |issuer| {
            let issuer = non_empty(issuer).unwrap_or(DEFAULT_ISSUER);
            web_url(issuer).map(|_| issuer.to_owned())
        });
        let jwks_url = problems.parse("jwksUrl", &input.jwks_url, optional_url);
        let userinfo_url = problems.parse("userInfoUrl", &input.user_info_url, optional_url);
        problems.finish()?;
        let (
            Some(client),
            Some(callback_url),
            Some(state_check),
            Some(endpoint),
            Some(nonce),
            Some(token_url),
            Some(issuer),
            Some(jwks_url),
            Some(userinfo_url),
        ) = (
            client,
            callback_url,
            state_check,
            endpoint,
            nonce,
            token_url,
            issuer,
            jwks_url,
            userinfo_url,
        )
        else {
            return Err(NpmError::invalid_options("completeSignIn: invalid options"));
        };
        let oidc = match (oidc, redirect_uri, nonce) {
            (false, _, _) => None,
            (true, Some(redirect_uri), Some(nonce)) => Some(OidcCheck {
                redirect_uri,
                nonce,
                token_url,
                issuer,
                jwks_url,
            }),
            (true, _, _) => {
                return Err(NpmError::invalid_options("completeSignIn: invalid options"))
            }
        };
        let callback = CallbackParams::from_url(&callback_url).map_err(|why| {
            NpmError::invalid_options(&format!("invalid options: callbackUrl {why}"))
        })?;
        Ok(CompleteSignInOptions {
            client,
            callback,
            state_check,
            endpoint,
            oidc,
            userinfo_url,
        })
    }
}

impl UserInfoOptions {
    /// Reads and checks `fetchUserInfo`'s options.
    pub fn read<'de, D: Deserializer<'de>>(options: D) -> Result<UserInfoOptions, NpmError> {
        let input: UserInfoInput = object(options, "fetchUserInfo")?;
        let mut problems = Problems::default();
        let access_token = problems.required("accessToken", input.access_token);
        let url = match input.user_info_url {
            Field::Absent => {
                problems.add("userInfoUrl", &ProblemReason::Missing);
                None
            }
            field => problems
                .parse("userInfoUrl", &field, optional_url)
                .and_then(|url| {
                    if url.is_none() {
                        problems.add("userInfoUrl", &ProblemReason::Missing);
                    }
                    url
                }),
        };
        let timeout_ms = problems.parse("timeoutMs", &input.timeout_ms, parse_timeout);
        problems.finish()?;
        let (Some(access_token), Some(url), Some(timeout_ms)) = (access_token, url, timeout_ms)
        else {
            return Err(NpmError::invalid_options("fetchUserInfo: invalid options"));
        };
        Ok(UserInfoOptions {
            access_token: AccessToken::new(access_token),
            url,
            timeout_ms,
        })
    }
}

impl VerifyAssertionOptions {
    /// Reads and checks `verifyGateAssertion`'s options: exactly one of `jwksUrl` (by the
    /// URL rules of every URL option) and `jwks` (a key set with at least one key);
    /// `issuer` and `audience` non-empty strings; `clockToleranceSec` a whole number from 0
    /// to 300; `timeoutMs` as elsewhere.
    pub fn read<'de, D: Deserializer<'de>>(options: D) -> Result<VerifyAssertionOptions, NpmError> {
        let input: VerifyAssertionInput = object(options, "verifyGateAssertion")?;
        let mut problems = Problems::default();
        let url = problems.parse("jwksUrl", &input.jwks_url, optional_url);
        // `jwks` as the npm driver hands it over: the key set as JSON text (each key's public
        // string members), `{}` (of the wrong type) for a value that is no key set, or the
        // unreadable mark. Natively, the tests hand over the same.
        let set = match &input.jwks {
            Field::Absent => Some(None),
            Field::Unreadable => {
                problems.add("jwks", &ProblemReason::Unreadable);
                None
            }
            Field::Value(text) => match SerdeJson.decode::<KeySet>(text) {
                Ok(set) if !set.keys.is_empty() => Some(Some(set)),
                _ => {
                    problems.add("jwks", &NOT_A_KEY_SET);
                    None
                }
            },
            Field::WrongType(_) => {
                problems.add("jwks", &NOT_A_KEY_SET);
                None
            }
        };
        let keys = match (url, set) {
            (Some(Some(url)), Some(None)) => Some(AssertionKeys::Url(url)),
            (Some(None), Some(Some(set))) => Some(AssertionKeys::Given(set)),
            (Some(Some(_)), Some(Some(_))) => {
                problems.add(
                    "jwksUrl",
                    &"cannot be combined with jwks (pass one of them)",
                );
                None
            }
            (Some(None), Some(None)) => {
                problems.add("jwksUrl", &"is missing (pass jwksUrl or jwks)");
                None
            }
            _ => None,
        };
        let issuer = problems.required("issuer", input.issuer);
        let audience = problems.required("audience", input.audience);
        let tolerance =
            problems.parse(
                "clockToleranceSec",
                &input.clock_tolerance_sec,
                |value| match value {
                    None => Ok(DEFAULT_CLOCK_TOLERANCE_SECS),
                    Some(TimeoutInput::Number(number))
                        if number.fract() == 0.0
                            && (0.0..=MAX_CLOCK_TOLERANCE_SECS as f64).contains(number) =>
                    {
                        Ok(*number as u64)
                    }
                    Some(_) => Err(ProblemReason::WrongType(
                        "a whole number of seconds from 0 to 300",
                    )),
                },
            );
        let timeout_ms = problems.parse("timeoutMs", &input.timeout_ms, parse_timeout);
        problems.finish()?;
        let (
            Some(keys),
            Some(issuer),
            Some(audience),
            Some(clock_tolerance_secs),
            Some(timeout_ms),
        ) = (keys, issuer, audience, tolerance, timeout_ms)
        else {
            return Err(NpmError::invalid_options(
                "verifyGateAssertion: invalid options",
            ));
        };
        Ok(VerifyAssertionOptions {
            keys,
            issuer,
            audience,
            clock_tolerance_secs,
            timeout_ms,
        })
    }
}

/// A non-empty string option's text; `None` for absent or empty (the default then).
fn non_empty(value: Option<&String>) -> Option<&str> {
    value.map(String::as_str).filter(|text| !text.is_empty())
}

/// A URL option by the rules of every URL setting (`https`, or `http` on a loopback host; no
/// fragment): the token URL's parser applies them to any given text.
fn web_url(text: &str) -> Result<AbsoluteUrl, ProblemReason> {
    parse_token_url(Some(text))
}

/// A URL option without a default: `None` when absent or empty.
fn optional_url(value: Option<&String>) -> Result<Option<AbsoluteUrl>, ProblemReason> {
    non_empty(value).map(web_url).transpose()
}

impl ExchangeOptions {
    /// Reads and checks `exchangeAuthorizationCode`'s options.
    pub fn read<'de, D: Deserializer<'de>>(options: D) -> Result<ExchangeOptions, NpmError> {
        let input: ExchangeInput = object(options, "exchangeAuthorizationCode")?;
        let mut problems = Problems::default();
        let client = problems.client(&input.client_id, &input.client_secret);
        let code = problems.required("code", input.code);
        let endpoint = problems.token_endpoint(&input.token_url, &input.timeout_ms);
        problems.finish()?;
        let (Some(client), Some(code), Some(endpoint)) = (client, code, endpoint) else {
            return Err(NpmError::invalid_options(
                "exchangeAuthorizationCode: invalid options",
            ));
        };
        Ok(ExchangeOptions {
            client,
            code: AuthorizationCode::new(code),
            endpoint,
        })
    }
}

impl RefreshOptions {
    /// Reads and checks `refreshTokens`' options.
    pub fn read<'de, D: Deserializer<'de>>(options: D) -> Result<RefreshOptions, NpmError> {
        let input: RefreshInput = object(options, "refreshTokens")?;
        let mut problems = Problems::default();
        let refresh_token = problems.required("refreshToken", input.refresh_token);
        let endpoint = problems.token_endpoint(&input.token_url, &input.timeout_ms);
        problems.finish()?;
        let (Some(refresh_token), Some(endpoint)) = (refresh_token, endpoint) else {
            return Err(NpmError::invalid_options("refreshTokens: invalid options"));
        };
        Ok(RefreshOptions {
            refresh_token: RefreshToken::new(refresh_token),
            endpoint,
        })
    }
}

/// The options object read as `T`, or the error for a value that is none. Reading fails
/// only for a value that is no object: every option is read leniently (`Field`), and what
/// serde says is never shown (it could quote a value).
fn object<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    options: D,
    function: &str,
) -> Result<T, NpmError> {
    Object::<T>::deserialize(options)
        .map(|object| object.0)
        .map_err(|_| NpmError::invalid_options(&format!("{function} expects an options object")))
}

/// The token functions' problems, each naming its option (never its value), in the order
/// they are checked.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, name: &str, reason: &dyn fmt::Display) {
        self.0.push(format!("{name} {reason}"));
    }

    fn checked<T>(&mut self, name: &str, result: Result<T, ProblemReason>) -> Option<T> {
        result.map_err(|reason| self.add(name, &reason)).ok()
    }

    /// `field` by `parse` (given `None` when absent); a wrong type or a throw is its problem.
    fn parse<T, U>(
        &mut self,
        name: &str,
        field: &Field<T>,
        parse: impl FnOnce(Option<&T>) -> Result<U, ProblemReason>,
    ) -> Option<U> {
        let result = field.given().and_then(parse);
        self.checked(name, result)
    }

    /// A string that must be given and not empty.
    fn required(&mut self, name: &str, field: Field<String>) -> Option<String> {
        match field {
            Field::Value(text) if !text.is_empty() => Some(text),
            Field::Absent | Field::Value(_) => {
                self.add(name, &ProblemReason::Missing);
                None
            }
            other => {
                if let Err(reason) = other.given() {
                    self.add(name, &reason);
                }
                None
            }
        }
    }

    /// `clientId` and `clientSecret`, by the Worker's rules.
    fn client(&mut self, id: &Field<String>, secret: &Field<String>) -> Option<Client> {
        let id = self.parse("clientId", id, |id| parse_client_id(id.map(String::as_str)));
        let secret = self.parse("clientSecret", secret, |secret| {
            parse_client_secret(secret.map(String::as_str))
        });
        Some(Client {
            id: id?,
            secret: secret?,
        })
    }

    fn token_endpoint(
        &mut self,
        url: &Field<String>,
        timeout: &Field<TimeoutInput>,
    ) -> Option<TokenEndpoint> {
        let url = self.parse("tokenUrl", url, |url| {
            parse_token_url(url.map(String::as_str))
        });
        let timeout_ms = self.parse("timeoutMs", timeout, parse_timeout);
        Some(TokenEndpoint {
            url: url?,
            timeout_ms: timeout_ms?,
        })
    }

    /// The state check: `expectedState` (a non-empty string), or `skipStateCheck: true` and
    /// no `expectedState`. Nothing else switches the check off: `expectedState: false` (say
    /// from `session.state ?? false`) is a problem naming `expectedState`, and a missing
    /// `expectedState` without `skipStateCheck: true` is one too.
    fn state_check(&mut self, skip: &Field<bool>, expected: Field<String>) -> Option<StateCheck> {
        let skip = self.parse("skipStateCheck", skip, |skip| {
            Ok(skip.copied().unwrap_or(false))
        });
        let expected = match expected {
            Field::Absent => None,
            Field::Unreadable => {
                self.add("expectedState", &ProblemReason::Unreadable);
                return None;
            }
            Field::Value(text) if !text.is_empty() => Some(Some(CsrfState::new(text))),
            // `false`, another type, or empty.
            _ => {
                self.add(
                    "expectedState",
                    &"must be the state kept from createAuthorizationLink (a non-empty string); \
                     only skipStateCheck: true skips the state check",
                );
                Some(None)
            }
        };
        match (skip?, expected) {
            (true, None) => Some(StateCheck::Skip),
            (true, Some(_)) => {
                self.add("skipStateCheck", &"cannot be combined with expectedState");
                None
            }
            (false, Some(state)) => state.map(StateCheck::Expect),
            (false, None) => {
                self.add(
                    "expectedState",
                    &"is missing (pass the state kept from createAuthorizationLink; \
                     skipStateCheck: true instead only for a link made with state: false)",
                );
                None
            }
        }
    }

    /// A nonce option (`nonce`, `expectedNonce`): a string by the state's rules, only with
    /// `protocol: 'oidc'`, where `required` ones must be given. `Some(None)`: absent, and
    /// fine so.
    fn nonce(
        &mut self,
        name: &str,
        field: Field<String>,
        oidc: bool,
        required: bool,
    ) -> Option<Option<CsrfState>> {
        match field {
            Field::Absent if oidc && required => {
                self.add(
                    name,
                    &"is missing (pass the nonce kept from createAuthorizationLink)",
                );
                None
            }
            Field::Absent => Some(None),
            Field::Value(_) if !oidc => {
                self.add(name, &"is only for protocol: 'oidc'");
                None
            }
            Field::Value(text) => {
                let valid = !text.is_empty()
                    && text.len() <= MAX_STATE_LEN
                    && !text.chars().any(char::is_control);
                if valid {
                    Some(Some(CsrfState::new(text)))
                } else {
                    self.add(name, &ProblemReason::StateValue);
                    None
                }
            }
            other => {
                if let Err(reason) = other.given() {
                    self.add(name, &reason);
                }
                None
            }
        }
    }

    fn finish(self) -> Result<(), NpmError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(NpmError::invalid_options(&format!(
                "invalid options: {}",
                self.0.join("; ")
            )))
        }
    }
}
