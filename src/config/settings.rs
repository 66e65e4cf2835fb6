//! Settings: who we are to Freedom ID, where it sends the user back, and what we ask for.
//!
//! One table (the `settings!` invocation below) lists every setting once: its name in the
//! Worker's environment ([`Setting::env_name`]) and in the npm package's options
//! ([`Setting::option_name`]), the input a driver hands in, the valid value it becomes, and the
//! parser between them. Both drivers fill the same typed [`SettingsInput`] (each field a
//! [`Field`]: absent, a value, or of the wrong type) and go through [`Settings::from_input`],
//! so they accept and refuse exactly the same values. Adding a setting is one row and its
//! parser (in `parse.rs`); the few rules between settings are `cross_checks`.

use super::allow::AllowRules;
use super::assertion_key::AssertionKey;
pub use super::input::{Field, GrantsInput, StateInput, TimeoutInput};
use super::parse::{
    after_sign_in, allow, app_origin, assertion_audience, assertion_keys, authorize_url, client_id,
    client_secret, forward_access_token, gate_csrf, grants, issuer, log, oidc_authorize_url,
    oidc_token_url, optional_url, protect, protocol, redirect_uri, revoke_key, session_max_age,
    session_secret, state, timeout, token_url,
};
pub use super::problem::ProblemReason;
use super::values::{LogLevel, Protect, Protocol, StateMode, MAX_SESSION_MAX_AGE, STATE_PARAM};
use crate::base::secret::{ClientId, ClientSecret, RevokeKey, SessionSecret};
use crate::base::url::AbsoluteUrl;
use crate::config::grants::Grants;
use core::fmt;

/// Declares the settings table: the [`Setting`] enum with its names, [`SettingsInput`] with a
/// [`Field`] per setting, [`Settings`] with its valid value, and the loop that parses each.
macro_rules! settings {
    // Whether a row is marked `npm:` (read by the Worker alone).
    (@worker_only) => { false };
    (@worker_only $npm:expr) => { true };
    ($(
        $(#[doc = $doc:literal])*
        $(#[serde($($serde:tt)*)])*
        $variant:ident ($env:literal, $option:literal, from_env: $from_env:expr)
            $field:ident: $input:ty => $output:ty = $parse:ident $(, npm: $npm:expr)?;
    )*) => {
        /// One setting, for naming it in errors without ever showing its value.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum Setting {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Setting {
            /// Every setting, in the order errors list them.
            pub const ALL: &'static [Setting] = &[$(Setting::$variant),*];

            /// The Worker's environment variable or secret.
            pub fn env_name(self) -> &'static str {
                match self { $(Setting::$variant => $env,)* }
            }

            /// The npm package's option.
            pub fn option_name(self) -> &'static str {
                match self { $(Setting::$variant => $option,)* }
            }

            /// Whether only the Worker reads this setting: the npm build takes its absent
            /// value (the rows marked `npm:`).
            pub fn worker_only(self) -> bool {
                match self { $(Setting::$variant => settings!(@worker_only $($npm)?),)* }
            }
        }

        /// Raw settings before validation, as a driver read them: one [`Field`] per setting.
        /// Deserialized from `createAuthorizationLink`'s options, by their option names.
        #[derive(Clone, Debug, Default, serde::Deserialize)]
        #[serde(default)]
        pub struct SettingsInput {
            $(
                $(#[doc = $doc])*
                #[serde(rename = $option)]
                $(#[serde($($serde)*)])*
                pub $field: Field<$input>,
            )*
            /// Whether a session secret is required while the state binding is on (the
            /// Worker, which keeps sessions; not the npm package).
            #[serde(skip)]
            pub require_session_secret: bool,
        }

        /// Valid settings: everything the flows need.
        #[derive(Clone, Debug)]
        pub struct Settings {
            $($(#[doc = $doc])* pub $field: $output,)*
        }

        /// Each setting parsed on its own: `None` where it had a problem.
        struct Parsed {
            $($field: Option<$output>,)*
        }

        impl Parsed {
            fn parse(input: &SettingsInput, problems: &mut Vec<Problem>) -> Parsed {
                Parsed {
                    $($field: {
                        let parse = || input.$field.given().and_then($parse);
                        $(let parse = || if NPM_ONLY { Ok($npm) } else { parse() };)?
                        parse().map_err(|reason| {
                            problems.push(Problem { setting: Setting::$variant, reason })
                        }).ok()
                    },)*
                }
            }

            fn complete(self) -> Option<Settings> {
                Some(Settings { $($field: self.$field?,)* })
            }
        }

        /// Each `npm:` row's setting, what its parser makes of it absent, and its `npm:`
        /// value, both as `Debug` text: they must be the same.
        #[cfg(test)]
        fn npm_values() -> Vec<(Setting, String, String)> {
            vec![$($((
                Setting::$variant,
                format!("{:?}", $parse(None)),
                format!("{:?}", Ok::<$output, ProblemReason>($npm)),
            ),)?)*]
        }

        impl SettingsInput {
            /// Reads every setting through `lookup` (environment name to value).
            pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> SettingsInput {
                SettingsInput {
                    $($field: lookup($env).map($from_env).into(),)*
                    require_session_secret: true,
                }
            }
        }
    };
}

/// The npm build (`node` without `worker`): its options object never has the Worker's
/// settings, so each row marked `npm:` takes that value, which is what its parser makes of
/// an absent setting (`npm_values_are_the_absent_values` checks it), and the build links
/// none of those parsers (the allow rules', the assertion keys' JWK reader…).
const NPM_ONLY: bool = cfg!(all(feature = "node", not(feature = "worker")));

/// Text from the environment as it is.
fn text(value: String) -> String {
    value
}

// A row marked `#[serde(skip)]` is no option of `createAuthorizationLink`: its options
// object is never read for it (the token URL belongs to the token functions, the rest to the
// Worker, whose rows give the npm build their absent value with `npm:`).
settings! {
    /// `FREEDOM_ID_CLIENT_ID` / `clientId`: the Basic user.
    ClientId("FREEDOM_ID_CLIENT_ID", "clientId", from_env: text)
        client_id: String => ClientId = client_id;
    /// `FREEDOM_ID_CLIENT_SECRET` / `clientSecret`: the Basic password (its `Debug` is
    /// redacted).
    ClientSecret("FREEDOM_ID_CLIENT_SECRET", "clientSecret", from_env: text)
        client_secret: String => ClientSecret = client_secret;
    /// `FREEDOM_ID_REDIRECT_URI` / `redirectUri`: where Freedom ID sends the user back.
    RedirectUri("FREEDOM_ID_REDIRECT_URI", "redirectUri", from_env: text)
        redirect_uri: String => AbsoluteUrl = redirect_uri;
    /// `FREEDOM_ID_GRANTS` / `grants`: what to ask the user for, in order.
    Grants("FREEDOM_ID_GRANTS", "grants", from_env: GrantsInput::List)
        grants: GrantsInput => Grants = grants;
    /// `FREEDOM_ID_AUTHORIZE_URL` / `authorizeUrl`: the endpoint to POST to, also the origin
    /// a returned link must have; Freedom ID's own by default.
    AuthorizeUrl("FREEDOM_ID_AUTHORIZE_URL", "authorizeUrl", from_env: text)
        authorize_url: String => AbsoluteUrl = authorize_url;
    /// `FREEDOM_ID_TIMEOUT_MS` / `timeoutMs`: how long to wait for a whole upstream answer.
    TimeoutMs("FREEDOM_ID_TIMEOUT_MS", "timeoutMs", from_env: TimeoutInput::Text)
        timeout_ms: TimeoutInput => u32 = timeout;
    /// `FREEDOM_ID_STATE` (`on`/`off`) / `state` (a value to append): whether and how a
    /// `state` is added to the redirect URI.
    State("FREEDOM_ID_STATE", "state", from_env: StateInput::Switch)
        state: StateInput => StateMode = state;
    /// `FREEDOM_ID_TOKEN_URL` / `tokenUrl`: the token endpoint (exchange and refresh).
    #[serde(skip)]
    TokenUrl("FREEDOM_ID_TOKEN_URL", "tokenUrl", from_env: text)
        token_url: String => AbsoluteUrl = token_url;
    /// `FREEDOM_ID_SESSION_SECRET` (Worker only): the keys that seal the cookies, the first
    /// seals, each opens. Empty where no session is kept.
    #[serde(skip)]
    SessionSecret("FREEDOM_ID_SESSION_SECRET", "sessionSecret", from_env: text)
        session_keys: String => Vec<SessionSecret> = session_secret, npm: Vec::new();
    /// `FREEDOM_ID_AFTER_SIGN_IN` (Worker only): where a completed sign-in lands without a
    /// `return_to`.
    #[serde(skip)]
    AfterSignIn("FREEDOM_ID_AFTER_SIGN_IN", "afterSignIn", from_env: text)
        after_sign_in: String => String = after_sign_in, npm: "/".to_owned();
    /// `FREEDOM_ID_PROTECT` (Worker only): the path prefixes the gate guards (empty: no gate).
    #[serde(skip)]
    Protect("FREEDOM_ID_PROTECT", "protect", from_env: text)
        protect: String => Protect = protect, npm: Protect::default();
    /// `FREEDOM_ID_APP_ORIGIN` (Worker only): where guarded requests go; `None`: to their own
    /// URL.
    #[serde(skip)]
    AppOrigin("FREEDOM_ID_APP_ORIGIN", "appOrigin", from_env: text)
        app_origin: String => Option<AbsoluteUrl> = app_origin, npm: None;
    /// `FREEDOM_ID_LOG` (Worker only): which events are logged (`off`, `errors`, `all`).
    #[serde(skip)]
    Log("FREEDOM_ID_LOG", "log", from_env: text)
        log: String => LogLevel = log, npm: LogLevel::Errors;
    /// `FREEDOM_ID_SESSION_MAX_AGE` (Worker only): the longest a session lives from its
    /// sign-in, refreshes included, in seconds.
    #[serde(skip)]
    SessionMaxAge("FREEDOM_ID_SESSION_MAX_AGE", "sessionMaxAge", from_env: text)
        session_max_age: String => u64 = session_max_age, npm: MAX_SESSION_MAX_AGE;
    /// `FREEDOM_ID_GATE_CSRF` (Worker only): whether the gate forwards a write (not `GET`,
    /// `HEAD`, `OPTIONS`) only from this site.
    #[serde(skip)]
    GateCsrf("FREEDOM_ID_GATE_CSRF", "gateCsrf", from_env: text)
        gate_csrf: String => bool = gate_csrf, npm: true;
    /// `FREEDOM_ID_REVOKE_KEY` (Worker only): the key Freedom ID's back-channel sign-out must
    /// carry; `None`: `/revoke` is off.
    #[serde(skip)]
    RevokeKey("FREEDOM_ID_REVOKE_KEY", "revokeKey", from_env: text)
        revoke_key: String => Option<RevokeKey> = revoke_key, npm: None;
    /// `FREEDOM_ID_PROTOCOL` / `protocol`: `oauth2` (the authorization link, the default) or
    /// `oidc` (the OpenID Connect flavour).
    Protocol("FREEDOM_ID_PROTOCOL", "protocol", from_env: text)
        protocol: String => Protocol = protocol;
    /// `FREEDOM_ID_OIDC_AUTHORIZE_URL`: the OpenID Connect authorization page; Freedom ID's
    /// own by default.
    OidcAuthorizeUrl("FREEDOM_ID_OIDC_AUTHORIZE_URL", "oidcAuthorizeUrl", from_env: text)
        oidc_authorize_url: String => AbsoluteUrl = oidc_authorize_url;
    /// `FREEDOM_ID_OIDC_TOKEN_URL` / `oidcTokenUrl`: the OpenID Connect token endpoint.
    OidcTokenUrl("FREEDOM_ID_OIDC_TOKEN_URL", "oidcTokenUrl", from_env: text)
        oidc_token_url: String => AbsoluteUrl = oidc_token_url;
    /// `FREEDOM_ID_ISSUER` / `issuer`: the `iss` an id_token must carry.
    Issuer("FREEDOM_ID_ISSUER", "issuer", from_env: text)
        issuer: String => String = issuer;
    /// `FREEDOM_ID_JWKS_URL` / `jwksUrl`: the key set that verifies id_token signatures;
    /// `None`: not verified (the token comes straight from the token endpoint over TLS).
    JwksUrl("FREEDOM_ID_JWKS_URL", "jwksUrl", from_env: text)
        jwks_url: String => Option<AbsoluteUrl> = optional_url;
    /// `FREEDOM_ID_USERINFO_URL` / `userInfoUrl`: Freedom ID's user-info call (its path is
    /// not public); `None`: not called.
    UserinfoUrl("FREEDOM_ID_USERINFO_URL", "userInfoUrl", from_env: text)
        userinfo_url: String => Option<AbsoluteUrl> = optional_url;
    /// `FREEDOM_ID_ASSERTION_KEY` (Worker only, a secret): the P-256 keys that sign the
    /// gate's `X-Freedom-ID-Assertion`, the first signs, all are published at
    /// `/.well-known/jwks.json`. Empty: no assertion.
    #[serde(skip)]
    AssertionKey("FREEDOM_ID_ASSERTION_KEY", "assertionKey", from_env: text)
        assertion_keys: String => Vec<AssertionKey> = assertion_keys, npm: Vec::new();
    /// `FREEDOM_ID_ASSERTION_AUDIENCE` (Worker only): the assertion's `aud`; `None`: the
    /// origin the request is forwarded to.
    #[serde(skip)]
    AssertionAudience("FREEDOM_ID_ASSERTION_AUDIENCE", "assertionAudience", from_env: text)
        assertion_audience: String => Option<String> = assertion_audience, npm: None;
    /// `FREEDOM_ID_FORWARD_ACCESS_TOKEN` (Worker only): whether the gate sends the site
    /// `X-Freedom-ID-Access-Token` (`on`); `off`, the default, sends none.
    #[serde(skip)]
    ForwardAccessToken("FREEDOM_ID_FORWARD_ACCESS_TOKEN", "forwardAccessToken", from_env: text)
        forward_access_token: String => bool = forward_access_token, npm: false;
    /// `FREEDOM_ID_ALLOW` (Worker only): who may pass the gate; empty: every signed-in user.
    #[serde(skip)]
    Allow("FREEDOM_ID_ALLOW", "allow", from_env: text)
        allow: String => AllowRules = allow, npm: AllowRules::default();
}

/// What is wrong with one setting. Never carries a secret's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The setting at fault.
    pub setting: Setting,
    /// What is wrong with it.
    pub reason: ProblemReason,
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

impl std::error::Error for SettingsError {}

impl SettingsError {
    /// The env names (never the values) of the settings at fault.
    pub fn setting_names(&self) -> Vec<&'static str> {
        self.problems
            .iter()
            .map(|problem| problem.setting.env_name())
            .collect()
    }
}

impl Settings {
    /// Reads the Worker's settings through `lookup` (environment name to value). The Worker
    /// binds the state by default: a missing `FREEDOM_ID_STATE` reads as `on`.
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, SettingsError> {
        let mut input = SettingsInput::from_env(lookup);
        if let Field::Absent = input.state {
            input.state = Field::Value(StateInput::Switch("on".to_owned()));
        }
        Settings::from_input(input)
    }

    /// Validates every setting, reporting all problems at once, in [`Setting::ALL`] order.
    pub fn from_input(input: SettingsInput) -> Result<Settings, SettingsError> {
        let mut problems = Vec::new();
        let mut parsed = Parsed::parse(&input, &mut problems);
        cross_checks(&input, &mut parsed, &mut problems);
        match parsed.complete() {
            Some(settings) if problems.is_empty() => Ok(settings),
            _ => {
                problems
                    .sort_by_key(|problem| Setting::ALL.iter().position(|s| *s == problem.setting));
                problems.dedup_by_key(|problem| problem.setting);
                Err(SettingsError::from_problems(problems))
            }
        }
    }
}

/// The rules between settings: the session secret is needed only where a session is kept,
/// the gate needs the session, and a redirect URI cannot carry its own `state` while one is
/// added.
fn cross_checks(input: &SettingsInput, parsed: &mut Parsed, problems: &mut Vec<Problem>) {
    let keeps_session = input.require_session_secret && parsed.state == Some(StateMode::Bind);
    if !keeps_session {
        // No session: whatever the secret says does not matter.
        problems.retain(|problem| problem.setting != Setting::SessionSecret);
        parsed.session_keys = Some(Vec::new());
    } else if parsed.session_keys.as_ref().is_some_and(Vec::is_empty) {
        problems.push(Problem {
            setting: Setting::SessionSecret,
            reason: ProblemReason::Missing,
        });
        parsed.session_keys = None;
    }
    let gated = parsed.protect.as_ref().is_some_and(|p| !p.is_empty());
    if gated && parsed.state == Some(StateMode::Off) {
        problems.push(Problem {
            setting: Setting::Protect,
            reason: ProblemReason::ProtectWithoutSession,
        });
    }
    if parsed.protocol == Some(Protocol::Oidc) {
        if parsed
            .grants
            .as_ref()
            .is_some_and(|grants| !grants.iter().any(|g| g.as_str() == "openid"))
        {
            problems.push(Problem {
                setting: Setting::Grants,
                reason: ProblemReason::OidcNeedsOpenid,
            });
        }
        if parsed.state == Some(StateMode::Off) {
            problems.push(Problem {
                setting: Setting::State,
                reason: ProblemReason::OidcNeedsState,
            });
        }
    }
    // The OIDC flavour sends `state` as its own parameter, never in the redirect URI.
    let adds_state = parsed.protocol != Some(Protocol::Oidc)
        && matches!(parsed.state, Some(StateMode::Bind | StateMode::Given(_)));
    if adds_state
        && parsed
            .redirect_uri
            .as_ref()
            .is_some_and(|uri| uri.has_query_param(STATE_PARAM))
    {
        problems.push(Problem {
            setting: Setting::RedirectUri,
            reason: ProblemReason::StateInRedirectUri,
        });
    }
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
