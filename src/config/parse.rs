//! The parser of each setting: from the value a driver read to the valid value, or the
//! [`ProblemReason`] it is refused for. The table in `settings.rs` calls them.

use super::input::{GrantsInput, StateInput, TimeoutInput};
use super::problem::ProblemReason;
use super::values::{
    LogLevel, Protect, Protocol, StateMode, DEFAULT_AUTHORIZE_URL, DEFAULT_ISSUER,
    DEFAULT_OIDC_AUTHORIZE_URL, DEFAULT_OIDC_TOKEN_URL, DEFAULT_TIMEOUT_MS, DEFAULT_TOKEN_URL,
    MAX_SESSION_MAX_AGE, MAX_STATE_LEN, MAX_TIMEOUT_MS, MIN_REVOKE_KEY_LEN, MIN_SESSION_MAX_AGE,
    MIN_SESSION_SECRET_LEN,
};
use crate::base::return_to::local_path;
use crate::base::secret::{ClientId, ClientSecret, RevokeKey, SessionSecret};
use crate::base::url::{AbsoluteUrl, Scheme};
use crate::config::allow::AllowRules;
use crate::config::assertion_key::{parse_assertion_keys, AssertionKey};
use crate::config::grants::Grants;

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

/// The token endpoint: Freedom ID's own ([`DEFAULT_TOKEN_URL`]) when not
/// given, else by the same rules as the authorize URL.
pub(crate) fn parse_token_url(value: Option<&str>) -> Result<AbsoluteUrl, ProblemReason> {
    match value {
        None | Some("") => parse_web_url(DEFAULT_TOKEN_URL),
        Some(value) => parse_web_url(value),
    }
}

fn parse_protect(value: Option<&str>) -> Result<Protect, ProblemReason> {
    Protect::parse(value.unwrap_or("")).map_err(|_| ProblemReason::ProtectPrefix)
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

/// One key, or two separated by a space (rotation: the first seals, both open).
fn parse_session_secret(value: Option<&str>) -> Result<Vec<SessionSecret>, ProblemReason> {
    let Some(value) = value.filter(|value| !value.is_empty()) else {
        return Ok(Vec::new());
    };
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
    Ok(keys.into_iter().map(SessionSecret::new).collect())
}

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

fn parse_revoke_key(value: Option<&str>) -> Result<Option<RevokeKey>, ProblemReason> {
    let Some(key) = value.filter(|key| !key.is_empty()) else {
        return Ok(None);
    };
    let valid = key.chars().count() >= MIN_REVOKE_KEY_LEN
        && !key.chars().any(|c| c.is_control() || c.is_whitespace());
    if valid {
        Ok(Some(RevokeKey::new(key)))
    } else {
        Err(ProblemReason::RevokeKey)
    }
}

/// A URL setting with a default: `default` when not given, else by the same rules.
fn parse_url_or(value: Option<&str>, default: &str) -> Result<AbsoluteUrl, ProblemReason> {
    match value {
        None | Some("") => parse_web_url(default),
        Some(value) => parse_web_url(value),
    }
}

/// A URL setting without a default: `None` when not given.
fn parse_optional_url(value: Option<&str>) -> Result<Option<AbsoluteUrl>, ProblemReason> {
    match value {
        None | Some("") => Ok(None),
        Some(value) => parse_web_url(value).map(Some),
    }
}

pub(super) fn protocol(value: Option<&String>) -> Result<Protocol, ProblemReason> {
    Protocol::parse(text(value).unwrap_or("")).ok_or(ProblemReason::Protocol)
}

pub(super) fn oidc_authorize_url(value: Option<&String>) -> Result<AbsoluteUrl, ProblemReason> {
    parse_url_or(text(value), DEFAULT_OIDC_AUTHORIZE_URL)
}

pub(super) fn oidc_token_url(value: Option<&String>) -> Result<AbsoluteUrl, ProblemReason> {
    parse_url_or(text(value), DEFAULT_OIDC_TOKEN_URL)
}

/// The issuer compared with `iss` as text: a URL by the same rules, kept as written.
pub(super) fn issuer(value: Option<&String>) -> Result<String, ProblemReason> {
    let given = text(value).filter(|text| !text.is_empty());
    parse_url_or(given, DEFAULT_ISSUER)?;
    Ok(given.unwrap_or(DEFAULT_ISSUER).to_owned())
}

pub(super) fn optional_url(value: Option<&String>) -> Result<Option<AbsoluteUrl>, ProblemReason> {
    parse_optional_url(text(value))
}

fn parse_authorize_url(value: Option<&str>) -> Result<AbsoluteUrl, ProblemReason> {
    match value {
        None | Some("") => parse_web_url(DEFAULT_AUTHORIZE_URL),
        Some(value) => parse_web_url(value),
    }
}

pub(super) fn grants(value: Option<&GrantsInput>) -> Result<Grants, ProblemReason> {
    let grants = match value.ok_or(ProblemReason::Missing)? {
        GrantsInput::List(text) => Grants::parse_list(required(Some(text))?),
        GrantsInput::Items(items) => Grants::from_items(items),
    };
    grants.map_err(ProblemReason::Grants)
}

/// The state: a missing one is off (the Worker reads a missing switch as `on` itself).
pub(super) fn state(value: Option<&StateInput>) -> Result<StateMode, ProblemReason> {
    match value {
        None => Ok(StateMode::Off),
        Some(StateInput::Switch(switch)) => match switch.as_str() {
            "on" | "" => Ok(StateMode::Bind),
            "off" => Ok(StateMode::Off),
            _ => Err(ProblemReason::StateSwitch),
        },
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

pub(crate) fn parse_timeout(value: Option<&TimeoutInput>) -> Result<u32, ProblemReason> {
    let millis = match value {
        None => return Ok(DEFAULT_TIMEOUT_MS),
        Some(TimeoutInput::Text(text)) if text.is_empty() => return Ok(DEFAULT_TIMEOUT_MS),
        Some(TimeoutInput::Text(text)) => {
            text.parse::<u32>().map_err(|_| ProblemReason::Timeout)?
        }
        Some(&TimeoutInput::Number(number)) => {
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

/// A text field as `&str`.
fn text(value: Option<&String>) -> Option<&str> {
    value.map(String::as_str)
}

// The table's parsers (settings.rs), one per setting, over its `Field`'s value.

pub(super) fn client_id(value: Option<&String>) -> Result<ClientId, ProblemReason> {
    parse_client_id(text(value))
}

pub(super) fn client_secret(value: Option<&String>) -> Result<ClientSecret, ProblemReason> {
    parse_client_secret(text(value))
}

pub(super) fn redirect_uri(value: Option<&String>) -> Result<AbsoluteUrl, ProblemReason> {
    parse_redirect_uri(text(value))
}

pub(super) fn authorize_url(value: Option<&String>) -> Result<AbsoluteUrl, ProblemReason> {
    parse_authorize_url(text(value))
}

pub(super) fn timeout(value: Option<&TimeoutInput>) -> Result<u32, ProblemReason> {
    parse_timeout(value)
}

pub(super) fn token_url(value: Option<&String>) -> Result<AbsoluteUrl, ProblemReason> {
    parse_token_url(text(value))
}

pub(super) fn session_secret(value: Option<&String>) -> Result<Vec<SessionSecret>, ProblemReason> {
    parse_session_secret(text(value))
}

/// A path on this site, `/` when not given.
pub(super) fn after_sign_in(value: Option<&String>) -> Result<String, ProblemReason> {
    match text(value) {
        None | Some("") => Ok("/".to_owned()),
        Some(path) => local_path(path)
            .map(str::to_owned)
            .ok_or(ProblemReason::LocalPath),
    }
}

pub(super) fn protect(value: Option<&String>) -> Result<Protect, ProblemReason> {
    parse_protect(text(value))
}

pub(super) fn app_origin(value: Option<&String>) -> Result<Option<AbsoluteUrl>, ProblemReason> {
    parse_app_origin(text(value))
}

pub(super) fn log(value: Option<&String>) -> Result<LogLevel, ProblemReason> {
    LogLevel::parse(text(value).unwrap_or("")).ok_or(ProblemReason::LogLevel)
}

pub(super) fn session_max_age(value: Option<&String>) -> Result<u64, ProblemReason> {
    parse_session_max_age(text(value))
}

/// `on` (the default) or `off`.
pub(super) fn gate_csrf(value: Option<&String>) -> Result<bool, ProblemReason> {
    match text(value) {
        None | Some("" | "on") => Ok(true),
        Some("off") => Ok(false),
        Some(_) => Err(ProblemReason::GateCsrfSwitch),
    }
}

pub(super) fn assertion_keys(value: Option<&String>) -> Result<Vec<AssertionKey>, ProblemReason> {
    match text(value) {
        None | Some("") => Ok(Vec::new()),
        Some(text) => parse_assertion_keys(text).map_err(|_| ProblemReason::AssertionKey),
    }
}

/// The longest `FREEDOM_ID_ASSERTION_AUDIENCE` accepted.
const MAX_AUDIENCE_LEN: usize = 256;

pub(super) fn assertion_audience(value: Option<&String>) -> Result<Option<String>, ProblemReason> {
    match text(value) {
        None | Some("") => Ok(None),
        Some(audience)
            if audience.len() <= MAX_AUDIENCE_LEN
                && !audience
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Ok(Some(audience.to_owned()))
        }
        Some(_) => Err(ProblemReason::AssertionAudience),
    }
}

pub(super) fn forward_access_token(value: Option<&String>) -> Result<bool, ProblemReason> {
    match text(value) {
        None | Some("" | "off") => Ok(false),
        Some("on") => Ok(true),
        Some(_) => Err(ProblemReason::ForwardAccessTokenSwitch),
    }
}

pub(super) fn allow(value: Option<&String>) -> Result<AllowRules, ProblemReason> {
    AllowRules::parse(text(value).unwrap_or(""))
        .map_err(|error| ProblemReason::AllowRule { rule: error.rule })
}

pub(super) fn revoke_key(value: Option<&String>) -> Result<Option<RevokeKey>, ProblemReason> {
    parse_revoke_key(text(value))
}
