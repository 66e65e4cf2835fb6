//! Settings: who we are to Freedom ID, where it sends the user back, and what we ask for.
//!
//! The Worker reads them from its environment by the names in [`Setting::env_name`]; the
//! npm package from its options object by [`Setting::option_name`]. Both go through
//! [`Settings::from_input`], so they accept and refuse exactly the same values.

use super::values::{
    StateMode, DEFAULT_AUTHORIZE_URL, DEFAULT_TIMEOUT_MS, MAX_STATE_LEN, MAX_TIMEOUT_MS,
};
use core::fmt;

use crate::base::secret::{ClientId, ClientSecret};
use crate::base::url::{AbsoluteUrl, Scheme, UrlError};
use crate::config::grants::{GrantError, Grants};

/// One setting, for naming it in errors without ever showing its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    /// `FREEDOM_ID_CLIENT_ID` / `clientId`.
    ClientId,
    /// `FREEDOM_ID_CLIENT_SECRET` / `clientSecret`.
    ClientSecret,
    /// `FREEDOM_ID_REDIRECT_URI` / `redirectUri`.
    RedirectUri,
    /// `FREEDOM_ID_GRANTS` / `grants`.
    Grants,
    /// `FREEDOM_ID_AUTHORIZE_URL` / `authorizeUrl`.
    AuthorizeUrl,
    /// `FREEDOM_ID_TIMEOUT_MS` / `timeoutMs`.
    TimeoutMs,
    /// `FREEDOM_ID_STATE` (`on`/`off`) / `state` (a value to append).
    State,
    /// `FREEDOM_ID_TOKEN_URL` / `tokenUrl`.
    TokenUrl,
    /// `FREEDOM_ID_SESSION_SECRET` (Worker only): seals the session and flow cookies.
    SessionSecret,
    /// `FREEDOM_ID_AFTER_SIGN_IN` (Worker only): where a completed sign-in lands.
    AfterSignIn,
    /// `FREEDOM_ID_PROTECT` (Worker only): the path prefixes the gate guards.
    Protect,
    /// `FREEDOM_ID_APP_ORIGIN` (Worker only): where guarded requests go.
    AppOrigin,
    /// `FREEDOM_ID_LOG` (Worker only): `off`, `errors` (default) or `all`.
    Log,
    /// `FREEDOM_ID_SESSION_MAX_AGE` (Worker only): the longest a session lives, refreshes
    /// included, in seconds.
    SessionMaxAge,
    /// `FREEDOM_ID_GATE_CSRF` (Worker only): `on` (default) refuses cross-site writes through
    /// the gate; `off` leaves that to the site.
    GateCsrf,
    /// `FREEDOM_ID_REVOKE_KEY` (Worker only): the key Freedom ID's sign-out call must carry.
    RevokeKey,
}

impl Setting {
    /// Every setting, in the order errors list them.
    pub const ALL: [Setting; 16] = [
        Setting::ClientId,
        Setting::ClientSecret,
        Setting::RedirectUri,
        Setting::Grants,
        Setting::AuthorizeUrl,
        Setting::TimeoutMs,
        Setting::State,
        Setting::TokenUrl,
        Setting::SessionSecret,
        Setting::AfterSignIn,
        Setting::Protect,
        Setting::AppOrigin,
        Setting::Log,
        Setting::SessionMaxAge,
        Setting::GateCsrf,
        Setting::RevokeKey,
    ];

    /// The Worker environment variable (or secret) holding it.
    pub fn env_name(self) -> &'static str {
        match self {
            Setting::ClientId => "FREEDOM_ID_CLIENT_ID",
            Setting::ClientSecret => "FREEDOM_ID_CLIENT_SECRET",
            Setting::RedirectUri => "FREEDOM_ID_REDIRECT_URI",
            Setting::Grants => "FREEDOM_ID_GRANTS",
            Setting::AuthorizeUrl => "FREEDOM_ID_AUTHORIZE_URL",
            Setting::TimeoutMs => "FREEDOM_ID_TIMEOUT_MS",
            Setting::State => "FREEDOM_ID_STATE",
            Setting::TokenUrl => "FREEDOM_ID_TOKEN_URL",
            Setting::SessionSecret => "FREEDOM_ID_SESSION_SECRET",
            Setting::AfterSignIn => "FREEDOM_ID_AFTER_SIGN_IN",
            Setting::Protect => "FREEDOM_ID_PROTECT",
            Setting::AppOrigin => "FREEDOM_ID_APP_ORIGIN",
            Setting::Log => "FREEDOM_ID_LOG",
            Setting::SessionMaxAge => "FREEDOM_ID_SESSION_MAX_AGE",
            Setting::GateCsrf => "FREEDOM_ID_GATE_CSRF",
            Setting::RevokeKey => "FREEDOM_ID_REVOKE_KEY",
        }
    }

    /// The property of the npm package's options object holding it.
    pub fn option_name(self) -> &'static str {
        match self {
            Setting::ClientId => "clientId",
            Setting::ClientSecret => "clientSecret",
            Setting::RedirectUri => "redirectUri",
            Setting::Grants => "grants",
            Setting::AuthorizeUrl => "authorizeUrl",
            Setting::TimeoutMs => "timeoutMs",
            Setting::State => "state",
            Setting::TokenUrl => "tokenUrl",
            Setting::SessionSecret => "sessionSecret",
            Setting::AfterSignIn => "afterSignIn",
            Setting::Protect => "protect",
            Setting::AppOrigin => "appOrigin",
            Setting::Log => "log",
            Setting::SessionMaxAge => "sessionMaxAge",
            Setting::GateCsrf => "gateCsrf",
            Setting::RevokeKey => "revokeKey",
        }
    }
}

/// What is wrong with one setting. Never carries a secret's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The setting at fault.
    pub setting: Setting,
    /// What is wrong with it.
    pub reason: ProblemReason,
}

/// The ways a setting can be wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemReason {
    /// Not set, or set to an empty string.
    Missing,
    /// Set, but to a value of the wrong type (npm options only).
    WrongType(&'static str),
    /// A getter (or Proxy trap) that threw when read (npm options only).
    Unreadable,
    /// Starts or ends with whitespace (easy to paste by mistake, so refused, not trimmed).
    SurroundingWhitespace,
    /// Has a control character.
    ControlCharacter,
    /// A client id with `:`, which Basic authentication cannot carry.
    ColonInClientId,
    /// Not an acceptable URL.
    Url(UrlError),
    /// An `http://` URL on a host other than `localhost` or `127.0.0.1`.
    HttpNotLoopback,
    /// A redirect URI with a `#fragment`, which OAuth forbids.
    Fragment,
    /// A redirect URI that already has a `state` query parameter while the state binding
    /// adds one: Freedom ID would return two and the check could never pass.
    StateInRedirectUri,
    /// The grants list is empty or has a malformed grant.
    Grants(GrantError),
    /// A timeout that is not a whole number of milliseconds from 1 to [`MAX_TIMEOUT_MS`].
    Timeout,
    /// `FREEDOM_ID_STATE` other than `on` or `off`.
    StateSwitch,
    /// A session secret (or one of its two space-separated keys) shorter than
    /// [`MIN_SESSION_SECRET_LEN`] characters, or more than two keys.
    SessionSecret,
    /// `FREEDOM_ID_AFTER_SIGN_IN` that is not a path on this site.
    LocalPath,
    /// `FREEDOM_ID_REDIRECT_URI` on another origin than the Worker serves, with the state
    /// binding on: the browser would not send the flow cookie there.
    RedirectUriOrigin,
    /// `FREEDOM_ID_PROTECT` with a prefix that is not a plain path on this site.
    ProtectPrefix,
    /// `FREEDOM_ID_PROTECT` set while `FREEDOM_ID_STATE=off`: there is no session to check.
    ProtectWithoutSession,
    /// `FREEDOM_ID_APP_ORIGIN` with a path, query or fragment (an origin only).
    NotAnOrigin,
    /// `FREEDOM_ID_LOG` other than `off`, `errors` or `all`.
    LogLevel,
    /// A `state` value that is empty or longer than [`MAX_STATE_LEN`] bytes.
    StateValue,
    /// `FREEDOM_ID_SESSION_MAX_AGE` that is not a whole number of seconds from
    /// [`MIN_SESSION_MAX_AGE`] to [`MAX_SESSION_MAX_AGE`].
    SessionMaxAge,
    /// `FREEDOM_ID_GATE_CSRF` other than `on` or `off`.
    GateCsrfSwitch,
    /// `FREEDOM_ID_REVOKE_KEY` shorter than [`MIN_REVOKE_KEY_LEN`] characters, or with
    /// whitespace or control characters.
    RevokeKey,
    /// `FREEDOM_ID_REVOKE_KEY` unset while the `FREEDOM_ID_REVOCATIONS` binding is there:
    /// Freedom ID's sign-out calls cannot be told from anyone else's.
    RevokeKeyRequired,
}

impl fmt::Display for ProblemReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProblemReason::Missing => f.write_str("is missing"),
            ProblemReason::WrongType(expected) => write!(f, "must be {expected}"),
            ProblemReason::Unreadable => f.write_str("could not be read"),
            ProblemReason::SurroundingWhitespace => f.write_str("starts or ends with whitespace"),
            ProblemReason::ControlCharacter => f.write_str("contains a control character"),
            ProblemReason::ColonInClientId => f.write_str("contains ':'"),
            ProblemReason::Url(error) => error.fmt(f),
            ProblemReason::HttpNotLoopback => {
                f.write_str("uses http://, which is only allowed for localhost and 127.0.0.1")
            }
            ProblemReason::Fragment => f.write_str("has a #fragment"),
            ProblemReason::StateInRedirectUri => f.write_str(
                "already has a `state` query parameter, which the state binding adds itself",
            ),
            ProblemReason::Grants(error) => error.fmt(f),
            ProblemReason::StateSwitch => f.write_str("must be `on` or `off`"),
            ProblemReason::SessionSecret => write!(
                f,
                "must be one key of at least {MIN_SESSION_SECRET_LEN} characters, or two separated by a space (the first seals, both open)"
            ),
            ProblemReason::LocalPath => f.write_str(
                "must be a path on this site: one leading `/`, no `//` or `/\\`, no whitespace or control characters, at most 1 KiB",
            ),
            ProblemReason::ProtectPrefix => f.write_str(
                "must be path prefixes on this site separated by spaces (`/app /api/private`), or `/`",
            ),
            ProblemReason::ProtectWithoutSession => f.write_str(
                "needs FREEDOM_ID_STATE on: the gate checks the session the Worker keeps",
            ),
            ProblemReason::LogLevel => f.write_str("must be `off`, `errors` or `all`"),
            ProblemReason::NotAnOrigin => {
                f.write_str("must be an origin only, e.g. https://origin.example.com")
            }
            ProblemReason::RedirectUriOrigin => f.write_str(
                "must be on the origin this Worker serves while FREEDOM_ID_STATE is on (the browser sends the flow cookie only there)",
            ),
            ProblemReason::StateValue => write!(
                f,
                "must be a non-empty string of at most {MAX_STATE_LEN} bytes without control characters"
            ),
            ProblemReason::Timeout => write!(
                f,
                "must be a whole number of milliseconds from 1 to {MAX_TIMEOUT_MS}"
            ),
            ProblemReason::SessionMaxAge => write!(
                f,
                "must be a whole number of seconds from {MIN_SESSION_MAX_AGE} to {MAX_SESSION_MAX_AGE}"
            ),
            ProblemReason::GateCsrfSwitch => f.write_str("must be `on` or `off`"),
            ProblemReason::RevokeKey => write!(
                f,
                "must be at least {MIN_REVOKE_KEY_LEN} characters without whitespace or control characters"
            ),
            ProblemReason::RevokeKeyRequired => f.write_str(
                "must be set while the FREEDOM_ID_REVOCATIONS binding is there: /revoke refuses every call without it",
            ),
        }
    }
}

/// Every problem found in a set of settings, in [`Setting::ALL`] order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingsError {
    problems: Vec<Problem>,
}

impl SettingsError {
    /// An error with these problems (one per setting, as the flows find them at run time).
    pub fn from_problems(problems: Vec<Problem>) -> SettingsError {
        SettingsError { problems }
    }

    /// The problems, one per bad setting.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// A sentence naming each bad setting with `name` (env or option names) and its reason.
    pub fn describe(&self, name: fn(Setting) -> &'static str) -> String {
        let parts: Vec<String> = self
            .problems
            .iter()
            .map(|problem| format!("{} {}", name(problem.setting), problem.reason))
            .collect();
        parts.join("; ")
    }
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(Setting::env_name))
    }
}

/// A timeout as given: text from the environment or a number from JavaScript.
#[derive(Clone, Copy, Debug)]
pub enum TimeoutInput<'a> {
    /// `FREEDOM_ID_TIMEOUT_MS` as written.
    Text(&'a str),
    /// `timeoutMs` as a JavaScript number.
    Number(f64),
}

/// The login-CSRF `state` as given.
#[derive(Clone, Copy, Debug)]
pub enum StateInput<'a> {
    /// `FREEDOM_ID_STATE`: `on` (the default) or `off`.
    Switch(&'a str),
    /// `state`: a value the caller made, appended as is (npm package).
    Value(&'a str),
}

/// Grants as given: one separated list (environment) or one item per grant (JavaScript).
#[derive(Clone, Copy, Debug)]
pub enum GrantsInput<'a> {
    /// `FREEDOM_ID_GRANTS`: grants separated by spaces and/or commas.
    List(&'a str),
    /// `grants`: an array with one grant per item.
    Items(&'a [String]),
}

/// Raw settings before validation. `None` means "not given"; `Err` carries a wrong-type
/// problem found by an adapter (a number where a string belongs, say).
#[derive(Clone, Debug, Default)]
pub struct SettingsInput<'a> {
    /// The Basic user.
    pub client_id: Option<&'a str>,
    /// The Basic password.
    pub client_secret: Option<&'a str>,
    /// Where Freedom ID sends the user back.
    pub redirect_uri: Option<&'a str>,
    /// What to ask the user for.
    pub grants: Option<GrantsInput<'a>>,
    /// The authorize endpoint; Freedom ID's own when `None`.
    pub authorize_url: Option<&'a str>,
    /// The upstream timeout; [`DEFAULT_TIMEOUT_MS`] when `None`.
    pub timeout_ms: Option<TimeoutInput<'a>>,
    /// The login-CSRF state; [`StateMode::Bind`] for a missing switch is the env default,
    /// [`StateMode::Off`] when `None`.
    pub state: Option<StateInput<'a>>,
    /// The token endpoint; Freedom ID's own when `None`.
    pub token_url: Option<&'a str>,
    /// The session-sealing secret: one key, or two separated by a space.
    pub session_secret: Option<&'a str>,
    /// Whether a session secret is required while the state binding is on (the Worker).
    pub require_session_secret: bool,
    /// Where a completed sign-in lands without a `return_to`; `/` when `None`.
    pub after_sign_in: Option<&'a str>,
    /// The gate's guarded prefixes; nothing guarded when `None`.
    pub protect: Option<&'a str>,
    /// Where guarded requests go; their own URL when `None`.
    pub app_origin: Option<&'a str>,
    /// Which events are logged; failures only when `None`.
    pub log: Option<&'a str>,
    /// The longest session life in seconds; [`MAX_SESSION_MAX_AGE`] when `None`.
    pub session_max_age: Option<&'a str>,
    /// `on` or `off`: whether the gate refuses cross-site writes; `on` when `None`.
    pub gate_csrf: Option<&'a str>,
    /// The key `/revoke` requires; `/revoke` is unavailable when `None`.
    pub revoke_key: Option<&'a str>,
    /// Problems an adapter found before this point (wrong JavaScript types).
    pub early_problems: Vec<Problem>,
}

/// Valid settings: everything needed to call the authorize endpoint.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The Basic user.
    pub client_id: ClientId,
    /// The Basic password (its `Debug` is redacted).
    pub client_secret: ClientSecret,
    /// Where Freedom ID sends the user back.
    pub redirect_uri: AbsoluteUrl,
    /// What to ask the user for, in order.
    pub grants: Grants,
    /// The endpoint to POST to; also the origin a returned link must have.
    pub authorize_url: AbsoluteUrl,
    /// How long to wait for the whole upstream answer.
    pub timeout_ms: u32,
    /// Whether and how a `state` is added to the redirect URI.
    pub state: StateMode,
    /// The token endpoint (exchange and refresh).
    pub token_url: AbsoluteUrl,
    /// The keys that seal the Worker's cookies: the first seals, each opens. Empty where no
    /// session is kept (the npm package, or `FREEDOM_ID_STATE=off`).
    pub session_keys: Vec<crate::base::secret::SessionSecret>,
    /// Where a completed sign-in lands without a `return_to`.
    pub after_sign_in: String,
    /// The gate's guarded path prefixes (empty: no gate).
    pub protect: crate::config::values::Protect,
    /// Where guarded requests go; `None`: to their own URL.
    pub app_origin: Option<AbsoluteUrl>,
    /// Which events are logged.
    pub log: crate::config::values::LogLevel,
    /// The longest a session lives from its sign-in, refreshes included (seconds).
    pub session_max_age: u64,
    /// Whether the gate forwards a write (not `GET`, `HEAD`, `OPTIONS`) only from this site.
    pub gate_csrf: bool,
    /// The key Freedom ID's back-channel sign-out must carry; `None`: `/revoke` is off.
    pub revoke_key: Option<crate::base::secret::RevokeKey>,
}

impl Settings {
    /// Reads the Worker's settings through `lookup` (environment name to value).
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, SettingsError> {
        let read = |setting: Setting| lookup(setting.env_name());
        let (client_id, client_secret) = (read(Setting::ClientId), read(Setting::ClientSecret));
        let (redirect_uri, grants) = (read(Setting::RedirectUri), read(Setting::Grants));
        let (authorize_url, timeout_ms) = (read(Setting::AuthorizeUrl), read(Setting::TimeoutMs));
        // The Worker binds state by default: a missing switch reads as `on`.
        let state = read(Setting::State).unwrap_or_else(|| "on".to_owned());
        let (token_url, session_secret) = (read(Setting::TokenUrl), read(Setting::SessionSecret));
        let after_sign_in = read(Setting::AfterSignIn);
        let (protect, app_origin) = (read(Setting::Protect), read(Setting::AppOrigin));
        let log = read(Setting::Log);
        let session_max_age = read(Setting::SessionMaxAge);
        let (gate_csrf, revoke_key) = (read(Setting::GateCsrf), read(Setting::RevokeKey));
        Settings::from_input(SettingsInput {
            client_id: client_id.as_deref(),
            client_secret: client_secret.as_deref(),
            redirect_uri: redirect_uri.as_deref(),
            grants: grants.as_deref().map(GrantsInput::List),
            authorize_url: authorize_url.as_deref(),
            timeout_ms: timeout_ms.as_deref().map(TimeoutInput::Text),
            state: Some(StateInput::Switch(&state)),
            token_url: token_url.as_deref(),
            session_secret: session_secret.as_deref(),
            require_session_secret: true,
            after_sign_in: after_sign_in.as_deref(),
            protect: protect.as_deref(),
            app_origin: app_origin.as_deref(),
            log: log.as_deref(),
            session_max_age: session_max_age.as_deref(),
            gate_csrf: gate_csrf.as_deref(),
            revoke_key: revoke_key.as_deref(),
            early_problems: Vec::new(),
        })
    }

    /// Validates every setting, reporting all problems at once.
    pub fn from_input(input: SettingsInput<'_>) -> Result<Settings, SettingsError> {
        let mut problems = input.early_problems;
        let client_id = check(
            &mut problems,
            Setting::ClientId,
            parse_client_id(input.client_id),
        );
        let client_secret = check(
            &mut problems,
            Setting::ClientSecret,
            parse_client_secret(input.client_secret),
        );
        let redirect_uri = check(
            &mut problems,
            Setting::RedirectUri,
            parse_redirect_uri(input.redirect_uri),
        );
        let grants = check(&mut problems, Setting::Grants, parse_grants(input.grants));
        let authorize_url = check(
            &mut problems,
            Setting::AuthorizeUrl,
            parse_authorize_url(input.authorize_url),
        );
        let timeout_ms = check(
            &mut problems,
            Setting::TimeoutMs,
            parse_timeout(input.timeout_ms),
        );
        let state = check(&mut problems, Setting::State, parse_state(input.state));
        let token_url = check(
            &mut problems,
            Setting::TokenUrl,
            parse_token_url(input.token_url),
        );
        let keeps_session = input.require_session_secret && state == Some(StateMode::Bind);
        let session_keys = if keeps_session {
            check(
                &mut problems,
                Setting::SessionSecret,
                parse_session_secret(input.session_secret),
            )
        } else {
            Some(Vec::new())
        };
        let after_sign_in = check(
            &mut problems,
            Setting::AfterSignIn,
            match input.after_sign_in {
                None | Some("") => Ok("/".to_owned()),
                Some(path) => crate::base::return_to::local_path(path)
                    .map(str::to_owned)
                    .ok_or(ProblemReason::LocalPath),
            },
        );
        let protect = check(
            &mut problems,
            Setting::Protect,
            parse_protect(input.protect, state.as_ref()),
        );
        let app_origin = check(
            &mut problems,
            Setting::AppOrigin,
            parse_app_origin(input.app_origin),
        );
        let log = check(
            &mut problems,
            Setting::Log,
            crate::config::values::LogLevel::parse(input.log.unwrap_or(""))
                .ok_or(ProblemReason::LogLevel),
        );
        let session_max_age = check(
            &mut problems,
            Setting::SessionMaxAge,
            parse_session_max_age(input.session_max_age),
        );
        let gate_csrf = check(
            &mut problems,
            Setting::GateCsrf,
            match input.gate_csrf {
                None | Some("" | "on") => Ok(true),
                Some("off") => Ok(false),
                Some(_) => Err(ProblemReason::GateCsrfSwitch),
            },
        );
        let revoke_key = check(
            &mut problems,
            Setting::RevokeKey,
            parse_revoke_key(input.revoke_key),
        );
        if let (Some(uri), Some(StateMode::Bind | StateMode::Given(_))) = (&redirect_uri, &state) {
            if uri.has_query_param(crate::config::values::STATE_PARAM) {
                problems.push(Problem {
                    setting: Setting::RedirectUri,
                    reason: ProblemReason::StateInRedirectUri,
                });
            }
        }
        match (
            (
                client_id,
                client_secret,
                redirect_uri,
                grants,
                authorize_url,
            ),
            (timeout_ms, state, token_url, session_keys, after_sign_in),
            (protect, app_origin, log),
            (session_max_age, gate_csrf, revoke_key),
        ) {
            (
                (
                    Some(client_id),
                    Some(client_secret),
                    Some(redirect_uri),
                    Some(grants),
                    Some(authorize_url),
                ),
                (
                    Some(timeout_ms),
                    Some(state),
                    Some(token_url),
                    Some(session_keys),
                    Some(after_sign_in),
                ),
                (Some(protect), Some(app_origin), Some(log)),
                (Some(session_max_age), Some(gate_csrf), Some(revoke_key)),
            ) if problems.is_empty() => Ok(Settings {
                client_id,
                client_secret,
                redirect_uri,
                grants,
                authorize_url,
                timeout_ms,
                state,
                token_url,
                session_keys,
                after_sign_in,
                protect,
                app_origin,
                log,
                session_max_age,
                gate_csrf,
                revoke_key,
            }),
            _ => {
                problems
                    .sort_by_key(|problem| Setting::ALL.iter().position(|s| *s == problem.setting));
                problems.dedup_by_key(|problem| problem.setting);
                Err(SettingsError { problems })
            }
        }
    }
}

/// Keeps the value, or records why there is none.
fn check<T>(
    problems: &mut Vec<Problem>,
    setting: Setting,
    result: Result<T, ProblemReason>,
) -> Option<T> {
    result
        .map_err(|reason| problems.push(Problem { setting, reason }))
        .ok()
}

fn required(value: Option<&str>) -> Result<&str, ProblemReason> {
    value
        .filter(|v| !v.is_empty())
        .ok_or(ProblemReason::Missing)
}

/// Rules shared by the client id and secret.
fn check_credential(value: &str) -> Result<(), ProblemReason> {
    if value.chars().any(char::is_control) {
        return Err(ProblemReason::ControlCharacter);
    }
    if value.trim() != value {
        return Err(ProblemReason::SurroundingWhitespace);
    }
    Ok(())
}

pub(crate) fn parse_client_id(value: Option<&str>) -> Result<ClientId, ProblemReason> {
    let value = required(value)?;
    check_credential(value)?;
    if value.contains(':') {
        return Err(ProblemReason::ColonInClientId);
    }
    Ok(ClientId::new(value))
}

pub(crate) fn parse_client_secret(value: Option<&str>) -> Result<ClientSecret, ProblemReason> {
    let value = required(value)?;
    check_credential(value)?;
    Ok(ClientSecret::new(value))
}

/// An absolute URL that is `https`, or `http` on a loopback host.
fn parse_web_url(value: &str) -> Result<AbsoluteUrl, ProblemReason> {
    let url = AbsoluteUrl::parse(value).map_err(ProblemReason::Url)?;
    if url.scheme() == Scheme::Http && !url.is_loopback() {
        return Err(ProblemReason::HttpNotLoopback);
    }
    if url.has_fragment() {
        return Err(ProblemReason::Fragment);
    }
    Ok(url)
}

fn parse_redirect_uri(value: Option<&str>) -> Result<AbsoluteUrl, ProblemReason> {
    parse_web_url(required(value)?)
}

/// The token endpoint: Freedom ID's own ([`crate::config::values::DEFAULT_TOKEN_URL`]) when not
/// given, else by the same rules as the authorize URL.
pub(crate) fn parse_token_url(value: Option<&str>) -> Result<AbsoluteUrl, ProblemReason> {
    match value {
        None | Some("") => parse_web_url(crate::config::values::DEFAULT_TOKEN_URL),
        Some(value) => parse_web_url(value),
    }
}

fn parse_protect(
    value: Option<&str>,
    state: Option<&StateMode>,
) -> Result<crate::config::values::Protect, ProblemReason> {
    let protect = crate::config::values::Protect::parse(value.unwrap_or(""))
        .map_err(|_| ProblemReason::ProtectPrefix)?;
    if !protect.is_empty() && state == Some(&StateMode::Off) {
        return Err(ProblemReason::ProtectWithoutSession);
    }
    Ok(protect)
}

/// An origin (`https://origin.example.com`, `http` on loopback), or `None` when not given.
fn parse_app_origin(value: Option<&str>) -> Result<Option<AbsoluteUrl>, ProblemReason> {
    let Some(text) = value.filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    let url = parse_web_url(text)?;
    if url.origin() != text.trim_end_matches('/') || text.ends_with("//") {
        return Err(ProblemReason::NotAnOrigin);
    }
    Ok(Some(url))
}

/// The shortest session key accepted (`openssl rand -base64 32` gives 44 characters).
pub const MIN_SESSION_SECRET_LEN: usize = 32;

/// One key, or two separated by a space (rotation: the first seals, both open).
fn parse_session_secret(
    value: Option<&str>,
) -> Result<Vec<crate::base::secret::SessionSecret>, ProblemReason> {
    let value = required(value)?;
    if value.chars().any(char::is_control) {
        return Err(ProblemReason::ControlCharacter);
    }
    let keys: Vec<&str> = value.split(' ').collect();
    let valid = (1..=2).contains(&keys.len())
        && keys
            .iter()
            .all(|key| key.chars().count() >= MIN_SESSION_SECRET_LEN);
    if !valid {
        return Err(ProblemReason::SessionSecret);
    }
    Ok(keys
        .into_iter()
        .map(crate::base::secret::SessionSecret::new)
        .collect())
}

/// The shortest session life `FREEDOM_ID_SESSION_MAX_AGE` accepts: 5 minutes.
pub const MIN_SESSION_MAX_AGE: u64 = 300;
/// The longest, and the default: 30 days.
pub const MAX_SESSION_MAX_AGE: u64 = 30 * 24 * 60 * 60;

fn parse_session_max_age(value: Option<&str>) -> Result<u64, ProblemReason> {
    match value {
        None | Some("") => Ok(MAX_SESSION_MAX_AGE),
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|secs| (MIN_SESSION_MAX_AGE..=MAX_SESSION_MAX_AGE).contains(secs))
            .ok_or(ProblemReason::SessionMaxAge),
    }
}

/// The shortest `FREEDOM_ID_REVOKE_KEY` accepted (`openssl rand -hex 32` gives 64).
pub const MIN_REVOKE_KEY_LEN: usize = 32;

fn parse_revoke_key(
    value: Option<&str>,
) -> Result<Option<crate::base::secret::RevokeKey>, ProblemReason> {
    let Some(key) = value.filter(|key| !key.is_empty()) else {
        return Ok(None);
    };
    let valid = key.chars().count() >= MIN_REVOKE_KEY_LEN
        && !key.chars().any(|c| c.is_control() || c.is_whitespace());
    if valid {
        Ok(Some(crate::base::secret::RevokeKey::new(key)))
    } else {
        Err(ProblemReason::RevokeKey)
    }
}

fn parse_authorize_url(value: Option<&str>) -> Result<AbsoluteUrl, ProblemReason> {
    match value {
        None | Some("") => parse_web_url(DEFAULT_AUTHORIZE_URL),
        Some(value) => parse_web_url(value),
    }
}

fn parse_grants(value: Option<GrantsInput<'_>>) -> Result<Grants, ProblemReason> {
    let grants = match value.ok_or(ProblemReason::Missing)? {
        GrantsInput::List(text) => Grants::parse_list(required(Some(text))?),
        GrantsInput::Items(items) => Grants::from_items(items),
    };
    grants.map_err(ProblemReason::Grants)
}

fn parse_state(value: Option<StateInput<'_>>) -> Result<StateMode, ProblemReason> {
    match value {
        None => Ok(StateMode::Off),
        Some(StateInput::Switch("on" | "")) => Ok(StateMode::Bind),
        Some(StateInput::Switch("off")) => Ok(StateMode::Off),
        Some(StateInput::Switch(_)) => Err(ProblemReason::StateSwitch),
        Some(StateInput::Value(value)) => {
            let valid = !value.is_empty()
                && value.len() <= MAX_STATE_LEN
                && !value.chars().any(char::is_control);
            if valid {
                Ok(StateMode::Given(value.to_owned()))
            } else {
                Err(ProblemReason::StateValue)
            }
        }
    }
}

pub(crate) fn parse_timeout(value: Option<TimeoutInput<'_>>) -> Result<u32, ProblemReason> {
    let millis = match value {
        None | Some(TimeoutInput::Text("")) => return Ok(DEFAULT_TIMEOUT_MS),
        Some(TimeoutInput::Text(text)) => {
            text.parse::<u32>().map_err(|_| ProblemReason::Timeout)?
        }
        Some(TimeoutInput::Number(number)) => {
            let whole =
                number.fract() == 0.0 && (1.0..=f64::from(MAX_TIMEOUT_MS)).contains(&number);
            if !whole {
                return Err(ProblemReason::Timeout);
            }
            number as u32
        }
    };
    if (1..=MAX_TIMEOUT_MS).contains(&millis) {
        Ok(millis)
    } else {
        Err(ProblemReason::Timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const SECRET: &str = "s3cr3t-value-never-printed";
    const SESSION_KEY: &str = "session-key-of-at-least-thirty-two-chars";

    fn env(overrides: &[(&str, Option<&str>)]) -> Result<Settings, SettingsError> {
        let mut vars: HashMap<&str, &str> = HashMap::from([
            ("FREEDOM_ID_CLIENT_ID", "demo-client"),
            ("FREEDOM_ID_CLIENT_SECRET", SECRET),
            (
                "FREEDOM_ID_REDIRECT_URI",
                "https://app.example.com/callback",
            ),
            ("FREEDOM_ID_GRANTS", "openid read.email"),
            ("FREEDOM_ID_SESSION_SECRET", SESSION_KEY),
        ]);
        for (name, value) in overrides {
            match value {
                Some(value) => vars.insert(name, value),
                None => vars.remove(name),
            };
        }
        Settings::from_env(|name| vars.get(name).map(|v| v.to_string()))
    }

    fn bad_settings(result: Result<Settings, SettingsError>) -> Vec<(Setting, ProblemReason)> {
        result
            .expect_err("settings should be refused")
            .problems()
            .iter()
            .map(|p| (p.setting, p.reason.clone()))
            .collect()
    }

    #[test]
    fn minimal_environment_uses_the_documented_defaults() {
        let settings = env(&[]).unwrap();
        assert_eq!(settings.authorize_url.as_str(), DEFAULT_AUTHORIZE_URL);
        assert_eq!(settings.timeout_ms, DEFAULT_TIMEOUT_MS);
        assert_eq!(settings.client_id.as_str(), "demo-client");
        assert_eq!(
            settings.redirect_uri.as_str(),
            "https://app.example.com/callback"
        );
    }

    #[test]
    fn state_binding_is_on_unless_switched_off() {
        assert_eq!(env(&[]).unwrap().state, StateMode::Bind);
        assert_eq!(
            env(&[("FREEDOM_ID_STATE", Some("on"))]).unwrap().state,
            StateMode::Bind
        );
        assert_eq!(
            env(&[("FREEDOM_ID_STATE", Some("off"))]).unwrap().state,
            StateMode::Off
        );
    }

    #[test]
    fn session_token_and_landing_settings() {
        let settings = env(&[]).unwrap();
        assert_eq!(
            settings.token_url.as_str(),
            crate::config::values::DEFAULT_TOKEN_URL
        );
        assert_eq!(settings.after_sign_in, "/");
        assert_eq!(settings.session_keys.len(), 1);
        let two = format!("{SESSION_KEY}-new {SESSION_KEY}");
        let rotated = env(&[
            ("FREEDOM_ID_SESSION_SECRET", Some(two.as_str())),
            ("FREEDOM_ID_TOKEN_URL", Some("http://127.0.0.1:9/token")),
            ("FREEDOM_ID_AFTER_SIGN_IN", Some("/app?welcome=1")),
        ])
        .unwrap();
        assert_eq!(rotated.session_keys.len(), 2);
        assert!(
            rotated.session_keys[0].secret().ends_with("-new"),
            "the first key seals"
        );
        assert_eq!(rotated.token_url.as_str(), "http://127.0.0.1:9/token");
        assert_eq!(rotated.after_sign_in, "/app?welcome=1");
        let short = "x".repeat(MIN_SESSION_SECRET_LEN - 1);
        let three = format!("{SESSION_KEY} {SESSION_KEY} {SESSION_KEY}");
        let double_space = format!("{SESSION_KEY}  {SESSION_KEY}");
        for (name, value, reason) in [
            ("FREEDOM_ID_SESSION_SECRET", None, ProblemReason::Missing),
            (
                "FREEDOM_ID_SESSION_SECRET",
                Some(short.as_str()),
                ProblemReason::SessionSecret,
            ),
            (
                "FREEDOM_ID_SESSION_SECRET",
                Some(three.as_str()),
                ProblemReason::SessionSecret,
            ),
            (
                "FREEDOM_ID_SESSION_SECRET",
                Some(double_space.as_str()),
                ProblemReason::SessionSecret,
            ),
            (
                "FREEDOM_ID_AFTER_SIGN_IN",
                Some("//evil.com"),
                ProblemReason::LocalPath,
            ),
            (
                "FREEDOM_ID_AFTER_SIGN_IN",
                Some("https://evil.com/"),
                ProblemReason::LocalPath,
            ),
            (
                "FREEDOM_ID_TOKEN_URL",
                Some("http://evil.com/token"),
                ProblemReason::HttpNotLoopback,
            ),
        ] {
            let setting = *Setting::ALL.iter().find(|s| s.env_name() == name).unwrap();
            assert_eq!(
                bad_settings(env(&[(name, value)])),
                vec![(setting, reason)],
                "{name}={value:?}"
            );
        }
        let off = env(&[
            ("FREEDOM_ID_STATE", Some("off")),
            ("FREEDOM_ID_SESSION_SECRET", None),
        ])
        .unwrap();
        assert!(
            off.session_keys.is_empty(),
            "link-only mode keeps no session"
        );
        let shown = format!("{rotated:?}");
        assert!(!shown.contains(SESSION_KEY), "{shown}");
    }

    #[test]
    fn a_redirect_uri_with_its_own_state_is_refused_while_state_is_added() {
        // Found by the settings fuzz target: two `state` parameters made every return a mismatch.
        for uri in [
            "https://app.example.com/cb?state=x",
            "https://app.example.com/cb?a=1&st%61te=x",
            // Issue 9: an undecodable own state used to pass as "no state".
            "https://app.example.com/cb?state=%FF",
            "https://app.example.com/cb?state=%FF&state=%FF",
        ] {
            assert_eq!(
                bad_settings(env(&[("FREEDOM_ID_REDIRECT_URI", Some(uri))])),
                vec![(Setting::RedirectUri, ProblemReason::StateInRedirectUri)],
                "{uri}"
            );
            let off = env(&[
                ("FREEDOM_ID_REDIRECT_URI", Some(uri)),
                ("FREEDOM_ID_STATE", Some("off")),
            ]);
            assert!(
                off.is_ok(),
                "{uri}: with the binding off the URI is sent as configured"
            );
        }
        assert!(env(&[(
            "FREEDOM_ID_REDIRECT_URI",
            Some("https://app.example.com/cb?statex=1")
        )])
        .is_ok());
    }

    #[test]
    fn optional_settings_are_read() {
        let settings = env(&[
            (
                "FREEDOM_ID_AUTHORIZE_URL",
                Some("http://127.0.0.1:9999/api/v1/oauth/authorize"),
            ),
            ("FREEDOM_ID_TIMEOUT_MS", Some("250")),
            (
                "FREEDOM_ID_REDIRECT_URI",
                Some("http://localhost:8787/callback?lang=kk"),
            ),
        ])
        .unwrap();
        assert_eq!(settings.authorize_url.port_or_default(), 9999);
        assert_eq!(settings.timeout_ms, 250);
        assert_eq!(settings.redirect_uri.query(), Some("lang=kk"));
    }

    #[test]
    fn each_bad_value_names_its_setting() {
        use ProblemReason as R;
        use Setting as S;
        let cases: Vec<(&str, &str, Setting, ProblemReason)> = vec![
            ("FREEDOM_ID_CLIENT_ID", "", S::ClientId, R::Missing),
            (
                "FREEDOM_ID_CLIENT_ID",
                "a:b",
                S::ClientId,
                R::ColonInClientId,
            ),
            (
                "FREEDOM_ID_CLIENT_ID",
                " demo",
                S::ClientId,
                R::SurroundingWhitespace,
            ),
            (
                "FREEDOM_ID_CLIENT_SECRET",
                "abc\n",
                S::ClientSecret,
                R::ControlCharacter,
            ),
            (
                "FREEDOM_ID_CLIENT_SECRET",
                "abc ",
                S::ClientSecret,
                R::SurroundingWhitespace,
            ),
            (
                "FREEDOM_ID_REDIRECT_URI",
                "/callback",
                S::RedirectUri,
                R::Url(UrlError::NotHttp),
            ),
            (
                "FREEDOM_ID_REDIRECT_URI",
                "http://app.example.com/cb",
                S::RedirectUri,
                R::HttpNotLoopback,
            ),
            (
                "FREEDOM_ID_REDIRECT_URI",
                "https://app.example.com/cb#x",
                S::RedirectUri,
                R::Fragment,
            ),
            (
                "FREEDOM_ID_REDIRECT_URI",
                "https://u@app.example.com/",
                S::RedirectUri,
                R::Url(UrlError::UserInfo),
            ),
            (
                "FREEDOM_ID_GRANTS",
                " , ",
                S::Grants,
                R::Grants(GrantError::Empty),
            ),
            (
                "FREEDOM_ID_GRANTS",
                "openid read.Email",
                S::Grants,
                R::Grants(GrantError::Invalid("read.Email".into())),
            ),
            (
                "FREEDOM_ID_AUTHORIZE_URL",
                "http://passport.freedompay.kz/x",
                S::AuthorizeUrl,
                R::HttpNotLoopback,
            ),
            (
                "FREEDOM_ID_AUTHORIZE_URL",
                "passport.freedompay.kz",
                S::AuthorizeUrl,
                R::Url(UrlError::NotHttp),
            ),
            ("FREEDOM_ID_TIMEOUT_MS", "0", S::TimeoutMs, R::Timeout),
            ("FREEDOM_ID_TIMEOUT_MS", "60001", S::TimeoutMs, R::Timeout),
            ("FREEDOM_ID_TIMEOUT_MS", "1.5", S::TimeoutMs, R::Timeout),
            ("FREEDOM_ID_TIMEOUT_MS", "-1", S::TimeoutMs, R::Timeout),
            ("FREEDOM_ID_TIMEOUT_MS", "5s", S::TimeoutMs, R::Timeout),
            ("FREEDOM_ID_STATE", "yes", S::State, R::StateSwitch),
            ("FREEDOM_ID_STATE", "OFF", S::State, R::StateSwitch),
        ];
        for (name, value, setting, reason) in cases {
            assert_eq!(
                bad_settings(env(&[(name, Some(value))])),
                vec![(setting, reason)],
                "{name}={value:?}"
            );
        }
    }

    #[test]
    fn all_problems_are_reported_together_in_order() {
        let problems = bad_settings(env(&[
            ("FREEDOM_ID_GRANTS", None),
            ("FREEDOM_ID_CLIENT_SECRET", None),
            ("FREEDOM_ID_CLIENT_ID", None),
            ("FREEDOM_ID_REDIRECT_URI", None),
        ]));
        let names: Vec<Setting> = problems.iter().map(|(s, _)| *s).collect();
        assert_eq!(
            names,
            [
                Setting::ClientId,
                Setting::ClientSecret,
                Setting::RedirectUri,
                Setting::Grants
            ]
        );
        assert!(problems
            .iter()
            .all(|(_, reason)| *reason == ProblemReason::Missing));
    }

    #[test]
    fn errors_and_debug_output_never_show_the_secret() {
        let error = env(&[(
            "FREEDOM_ID_CLIENT_SECRET",
            Some(" s3cr3t-value-never-printed"),
        )])
        .unwrap_err();
        let shown = format!("{error} {error:?}");
        assert!(
            shown.contains("FREEDOM_ID_CLIENT_SECRET starts or ends with whitespace"),
            "{shown}"
        );
        assert!(!shown.contains("s3cr3t"), "{shown}");
        let settings = env(&[]).unwrap();
        assert!(!format!("{settings:?}").contains("s3cr3t"));
    }

    #[test]
    fn javascript_inputs_use_the_same_rules() {
        let grants = vec!["openid".to_string(), "read.phone".to_string()];
        let input = SettingsInput {
            client_id: Some("demo-client"),
            client_secret: Some(SECRET),
            redirect_uri: Some("https://app.example.com/cb"),
            grants: Some(GrantsInput::Items(&grants)),
            timeout_ms: Some(TimeoutInput::Number(1500.0)),
            ..SettingsInput::default()
        };
        let settings = Settings::from_input(input.clone()).unwrap();
        assert_eq!(settings.timeout_ms, 1500);
        for timeout in [0.0, 1.5, -3.0, f64::NAN, f64::INFINITY, 60_001.0] {
            let input = SettingsInput {
                timeout_ms: Some(TimeoutInput::Number(timeout)),
                ..input.clone()
            };
            assert_eq!(
                bad_settings(Settings::from_input(input)),
                vec![(Setting::TimeoutMs, ProblemReason::Timeout)],
                "{timeout}"
            );
        }
        let one_item_with_two = vec!["openid read.phone".to_string()];
        let input = SettingsInput {
            grants: Some(GrantsInput::Items(&one_item_with_two)),
            ..input
        };
        let error = Settings::from_input(input).unwrap_err();
        assert_eq!(
            error.describe(Setting::option_name),
            "grants has \"openid read.phone\", which is not a grant (expected `openid` or `level.code` in lowercase letters, digits and `_`)"
        );
    }
}
