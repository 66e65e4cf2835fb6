//! The npm functions' options: which each function reads, the type and rules of each, and the
//! message every invalid one gets. The driver hands over the object's own properties as
//! [`OptionValue`]s through [`OptionsSource`]; every check is here, so `createAuthorizationLink`
//! goes through the same [`Settings::from_input`] as the Worker's environment.
//!
//! Messages name options and say what is wrong with them, never what they hold: a client
//! secret, a code, a token or a state never reaches one.

use core::fmt;

use super::NpmError;
use crate::base::secret::{AuthorizationCode, ClientId, ClientSecret, CsrfState, RefreshToken};
use crate::base::url::AbsoluteUrl;
use crate::config::parse::{parse_client_id, parse_client_secret, parse_timeout, parse_token_url};
use crate::config::settings::{
    Field, GrantsInput, ProblemReason, Setting, Settings, SettingsInput, StateInput, TimeoutInput,
};
use crate::freedom_id::callback::CallbackParams;

/// One own property of an options object, as the driver read it.
#[derive(Clone)]
pub enum OptionValue {
    /// Not an own property, or `undefined` or `null`.
    Absent,
    /// Its getter (or a Proxy trap) threw; what it threw is never looked at.
    Unreadable,
    /// A string.
    String(String),
    /// A number.
    Number(f64),
    /// `true` or `false`.
    Bool(bool),
    /// An array whose every item is a string.
    Strings(Vec<String>),
    /// Anything else: an object, another array, a bigint, a symbol, a function.
    Other,
}

impl fmt::Debug for OptionValue {
    /// The kind only: a value may be the client secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OptionValue::Absent => "Absent",
            OptionValue::Unreadable => "Unreadable",
            OptionValue::String(_) => "String([redacted])",
            OptionValue::Number(_) => "Number",
            OptionValue::Bool(_) => "Bool",
            OptionValue::Strings(_) => "Strings([redacted])",
            OptionValue::Other => "Other",
        })
    }
}

/// An options object, as its driver reads it.
pub trait OptionsSource {
    /// The own property `name`. An inherited one (a polluted `Object.prototype`) must read as
    /// [`OptionValue::Absent`]: it could redirect the client secret.
    fn own(&self, name: &str) -> OptionValue;
}

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

impl LinkOptions {
    /// Reads and checks `createAuthorizationLink`'s options; `None` is a value that is no
    /// options object (missing, a string, an array). Every problem is reported at once, in
    /// [`Setting::ALL`] order.
    pub fn read<S: OptionsSource + ?Sized>(source: Option<&S>) -> Result<LinkOptions, NpmError> {
        let source = object(source, "createAuthorizationLink")?;
        let text = |setting: Setting| {
            typed_field(source, setting, "a string", |value| match value {
                OptionValue::String(text) => Some(text),
                _ => None,
            })
        };
        let grants = typed_field(
            source,
            Setting::Grants,
            "an array of strings",
            |value| match value {
                OptionValue::Strings(items) => Some(GrantsInput::Items(items)),
                _ => None,
            },
        );
        let timeout_ms = typed_field(
            source,
            Setting::TimeoutMs,
            "a number",
            |value| match value {
                OptionValue::Number(number) => Some(TimeoutInput::Number(number)),
                _ => None,
            },
        );
        // Absent: a fresh state (Bind); false: none; a string: the caller's.
        let state =
            match typed_field(
                source,
                Setting::State,
                "a string or false",
                |value| match value {
                    OptionValue::Bool(false) => Some(StateInput::Switch("off".to_owned())),
                    OptionValue::String(text) => Some(StateInput::Value(text)),
                    _ => None,
                },
            ) {
                Field::Absent => Field::Value(StateInput::Switch("on".to_owned())),
                given => given,
            };
        Settings::from_input(SettingsInput {
            client_id: text(Setting::ClientId),
            client_secret: text(Setting::ClientSecret),
            redirect_uri: text(Setting::RedirectUri),
            authorize_url: text(Setting::AuthorizeUrl),
            grants,
            timeout_ms,
            state,
            ..SettingsInput::default()
        })
        .map(|settings| LinkOptions { settings })
        .map_err(|error| {
            NpmError::invalid_options(&format!(
                "invalid options: {}",
                error.describe(Setting::option_name)
            ))
        })
    }
}

/// One option as the settings' typed field: absent, `read`'s value, or the type it had to be.
fn typed_field<S: OptionsSource + ?Sized, T>(
    source: &S,
    setting: Setting,
    expected: &'static str,
    read: fn(OptionValue) -> Option<T>,
) -> Field<T> {
    match source.own(setting.option_name()) {
        OptionValue::Absent => Field::Absent,
        OptionValue::Unreadable => Field::Unreadable,
        value => read(value).map_or(Field::WrongType(expected), Field::Value),
    }
}

impl CompleteSignInOptions {
    /// Reads and checks `completeSignIn`'s options, then reads `callbackUrl`.
    pub fn read<S: OptionsSource + ?Sized>(
        source: Option<&S>,
    ) -> Result<CompleteSignInOptions, NpmError> {
        let mut reader = Reader::new(source, "completeSignIn")?;
        let client = reader.client();
        let callback_url = reader.required_string("callbackUrl");
        let state_check = reader.state_check();
        let endpoint = reader.token_endpoint();
        reader.finish()?;
        let (Some(client), Some(callback_url), Some(state_check), Some(endpoint)) =
            (client, callback_url, state_check, endpoint)
        else {
            return Err(NpmError::invalid_options("completeSignIn: invalid options"));
        };
        let callback = CallbackParams::from_url(&callback_url).map_err(|why| {
            NpmError::invalid_options(&format!("invalid options: callbackUrl {why}"))
        })?;
        Ok(CompleteSignInOptions {
            client,
            callback,
            state_check,
            endpoint,
        })
    }
}

impl ExchangeOptions {
    /// Reads and checks `exchangeAuthorizationCode`'s options.
    pub fn read<S: OptionsSource + ?Sized>(
        source: Option<&S>,
    ) -> Result<ExchangeOptions, NpmError> {
        let mut reader = Reader::new(source, "exchangeAuthorizationCode")?;
        let client = reader.client();
        let code = reader.required_string("code");
        let endpoint = reader.token_endpoint();
        reader.finish()?;
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
    pub fn read<S: OptionsSource + ?Sized>(source: Option<&S>) -> Result<RefreshOptions, NpmError> {
        let mut reader = Reader::new(source, "refreshTokens")?;
        let refresh_token = reader.required_string("refreshToken");
        let endpoint = reader.token_endpoint();
        reader.finish()?;
        let (Some(refresh_token), Some(endpoint)) = (refresh_token, endpoint) else {
            return Err(NpmError::invalid_options("refreshTokens: invalid options"));
        };
        Ok(RefreshOptions {
            refresh_token: RefreshToken::new(refresh_token),
            endpoint,
        })
    }
}

/// The options object, or the error for a value that is none.
fn object<'a, S: OptionsSource + ?Sized>(
    source: Option<&'a S>,
    function: &str,
) -> Result<&'a S, NpmError> {
    source
        .ok_or_else(|| NpmError::invalid_options(&format!("{function} expects an options object")))
}

/// Reads the token functions' options, collecting every problem (never a value) in the
/// order they are read.
struct Reader<'a, S: ?Sized> {
    source: &'a S,
    problems: Vec<String>,
}

impl<'a, S: OptionsSource + ?Sized> Reader<'a, S> {
    fn new(source: Option<&'a S>, function: &str) -> Result<Reader<'a, S>, NpmError> {
        Ok(Reader {
            source: object(source, function)?,
            problems: Vec::new(),
        })
    }

    fn problem(&mut self, name: &str, reason: &dyn fmt::Display) {
        self.problems.push(format!("{name} {reason}"));
    }

    fn string(&mut self, name: &str) -> Option<String> {
        match self.source.own(name) {
            OptionValue::Absent => None,
            OptionValue::String(text) => Some(text),
            OptionValue::Unreadable => {
                self.problem(name, &ProblemReason::Unreadable);
                None
            }
            _ => {
                self.problem(name, &ProblemReason::WrongType("a string"));
                None
            }
        }
    }

    /// A string that must be given and not empty.
    fn required_string(&mut self, name: &str) -> Option<String> {
        match self.source.own(name) {
            OptionValue::String(text) if !text.is_empty() => Some(text),
            OptionValue::Absent | OptionValue::String(_) => {
                self.problem(name, &ProblemReason::Missing);
                None
            }
            OptionValue::Unreadable => {
                self.problem(name, &ProblemReason::Unreadable);
                None
            }
            _ => {
                self.problem(name, &ProblemReason::WrongType("a string"));
                None
            }
        }
    }

    fn checked<T>(&mut self, name: &str, result: Result<T, ProblemReason>) -> Option<T> {
        result.map_err(|reason| self.problem(name, &reason)).ok()
    }

    /// `clientId` and `clientSecret`, by the Worker's rules. A wrong type is reported, and
    /// then the option as missing too.
    fn client(&mut self) -> Option<Client> {
        let id = self.string("clientId");
        let id = self.checked("clientId", parse_client_id(id.as_deref()));
        let secret = self.string("clientSecret");
        let secret = self.checked("clientSecret", parse_client_secret(secret.as_deref()));
        Some(Client {
            id: id?,
            secret: secret?,
        })
    }

    fn token_endpoint(&mut self) -> Option<TokenEndpoint> {
        let url = self.string("tokenUrl");
        let url = self.checked("tokenUrl", parse_token_url(url.as_deref()));
        let timeout = match self.source.own("timeoutMs") {
            OptionValue::Absent => None,
            OptionValue::Number(number) => Some(TimeoutInput::Number(number)),
            OptionValue::Unreadable => {
                self.problem("timeoutMs", &ProblemReason::Unreadable);
                return None;
            }
            _ => {
                self.problem("timeoutMs", &ProblemReason::WrongType("a number"));
                return None;
            }
        };
        let timeout_ms = self.checked("timeoutMs", parse_timeout(timeout.as_ref()));
        Some(TokenEndpoint {
            url: url?,
            timeout_ms: timeout_ms?,
        })
    }

    /// The state check: `expectedState` (a non-empty string), or `skipStateCheck: true` and
    /// no `expectedState`. Nothing else switches the check off: `expectedState: false` (say
    /// from `session.state ?? false`) is a problem naming `expectedState`, and a missing
    /// `expectedState` without `skipStateCheck: true` is one too.
    fn state_check(&mut self) -> Option<StateCheck> {
        let skip = match self.source.own("skipStateCheck") {
            OptionValue::Absent => Some(false),
            OptionValue::Bool(skip) => Some(skip),
            OptionValue::Unreadable => {
                self.problem("skipStateCheck", &ProblemReason::Unreadable);
                None
            }
            _ => {
                self.problem("skipStateCheck", &ProblemReason::WrongType("true or false"));
                None
            }
        };
        let expected = match self.source.own("expectedState") {
            OptionValue::Absent => None,
            OptionValue::Unreadable => {
                self.problem("expectedState", &ProblemReason::Unreadable);
                return None;
            }
            value => Some(self.expected_state(value)),
        };
        match (skip?, expected) {
            (true, None) => Some(StateCheck::Skip),
            (true, Some(_)) => {
                self.problem("skipStateCheck", &"cannot be combined with expectedState");
                None
            }
            (false, Some(state)) => state.map(StateCheck::Expect),
            (false, None) => {
                self.problem(
                    "expectedState",
                    &"is missing (pass the state kept from createAuthorizationLink; \
                     skipStateCheck: true instead only for a link made with state: false)",
                );
                None
            }
        }
    }

    /// A given `expectedState`: a non-empty string, never `false` or another type.
    fn expected_state(&mut self, value: OptionValue) -> Option<CsrfState> {
        match value {
            OptionValue::String(text) if !text.is_empty() => Some(CsrfState::new(text)),
            _ => {
                self.problem(
                    "expectedState",
                    &"must be the state kept from createAuthorizationLink (a non-empty string); \
                     only skipStateCheck: true skips the state check",
                );
                None
            }
        }
    }

    fn finish(self) -> Result<(), NpmError> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(NpmError::invalid_options(&format!(
                "invalid options: {}",
                self.problems.join("; ")
            )))
        }
    }
}
