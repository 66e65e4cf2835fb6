//! The values settings take beyond plain text, and their defaults: Freedom ID's documented
//! endpoints, the timeout bounds, the state switch, the log level and the gate's guarded
//! prefixes. Plain rules; the layers below use them.

/// Freedom ID's documented authorize endpoint, used when none is configured.
pub const DEFAULT_AUTHORIZE_URL: &str = "https://passport.freedompay.kz/api/v1/oauth/authorize";

/// Freedom ID's documented token endpoint, used when none is configured.
pub const DEFAULT_TOKEN_URL: &str = "https://passport.freedompay.kz/api/v1/oauth/token";

/// Freedom ID's OpenID Connect authorization page (`FREEDOM_ID_OIDC_AUTHORIZE_URL`).
pub const DEFAULT_OIDC_AUTHORIZE_URL: &str = "https://passport.freedompay.kz/openid";

/// Freedom ID's OpenID Connect token endpoint (`FREEDOM_ID_OIDC_TOKEN_URL`). Its page prints
/// `/api/v1oidc//token`, which cannot be right: this is the likely path, and a setting.
pub const DEFAULT_OIDC_TOKEN_URL: &str = "https://passport.freedompay.kz/api/v1/oidc/token";

/// The `iss` Freedom ID's id_tokens carry (`FREEDOM_ID_ISSUER`).
pub const DEFAULT_ISSUER: &str = "https://passport.freedompay.kz";

/// Which of Freedom ID's two sign-in flavours is used (`FREEDOM_ID_PROTOCOL`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Protocol {
    /// The authorization-link flow (`oauth2`, the default).
    #[default]
    OAuth2,
    /// The OpenID Connect flavour (`oidc`): a locally built URL, an id_token.
    Oidc,
}

impl Protocol {
    /// `oauth2` or `oidc`; empty is the default.
    pub fn parse(text: &str) -> Option<Protocol> {
        match text {
            "oauth2" | "" => Some(Protocol::OAuth2),
            "oidc" => Some(Protocol::Oidc),
            _ => None,
        }
    }
}

/// Upstream timeout used when none is configured.
pub const DEFAULT_TIMEOUT_MS: u32 = 5_000;

/// The longest upstream timeout accepted.
pub const MAX_TIMEOUT_MS: u32 = 60_000;

/// The query parameter carrying the state.
pub const STATE_PARAM: &str = "state";

/// How the `state` query parameter is added to the redirect URI sent to Freedom ID.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StateMode {
    /// The Worker makes a fresh random state per sign-in and binds it to the browser with a
    /// cookie (`FREEDOM_ID_STATE=on`, the default).
    Bind,
    /// No state: the redirect URI is sent exactly as configured.
    Off,
    /// The caller's own state value (npm `state` option).
    Given(String),
}

/// The longest `state` value accepted from a caller.
pub const MAX_STATE_LEN: usize = 512;

/// Which events are logged (`FREEDOM_ID_LOG`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogLevel {
    /// Nothing.
    Off,
    /// Failures only (the default).
    #[default]
    Errors,
    /// Every event.
    All,
}

impl LogLevel {
    /// `off`, `errors` or `all`; empty is the default.
    pub fn parse(text: &str) -> Option<LogLevel> {
        match text {
            "off" => Some(LogLevel::Off),
            "errors" | "" => Some(LogLevel::Errors),
            "all" => Some(LogLevel::All),
            _ => None,
        }
    }
}

/// The guarded path prefixes (`FREEDOM_ID_PROTECT`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Protect(Vec<String>);

/// Why `FREEDOM_ID_PROTECT` was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProtectError;

impl Protect {
    /// Reads prefixes separated by spaces (`/app /api/private`), or `/` for everything. Each
    /// must be a path on this site; a trailing `/` is dropped (`/app/` guards `/app` too).
    pub fn parse(text: &str) -> Result<Protect, ProtectError> {
        let mut prefixes = Vec::new();
        for prefix in text.split_ascii_whitespace() {
            let path = crate::base::return_to::local_path(prefix).ok_or(ProtectError)?;
            if path.contains(['?', '#']) {
                return Err(ProtectError);
            }
            let trimmed = path.trim_end_matches('/');
            prefixes.push(if trimmed.is_empty() { "/" } else { trimmed }.to_owned());
        }
        Ok(Protect(prefixes))
    }

    /// Whether nothing is guarded (today's behaviour).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `path` is guarded: a prefix matches whole path segments (`/app` guards `/app`
    /// and `/app/x`, not `/application`); `/` guards every path.
    pub fn guards(&self, path: &str) -> bool {
        self.0.iter().any(|prefix| {
            prefix == "/"
                || path == prefix
                || path
                    .strip_prefix(prefix.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    }
}

/// The shortest session key accepted (`openssl rand -base64 32` gives 44 characters).
pub const MIN_SESSION_SECRET_LEN: usize = 32;

/// The shortest session life `FREEDOM_ID_SESSION_MAX_AGE` accepts: 5 minutes.
pub const MIN_SESSION_MAX_AGE: u64 = 300;

/// The longest, and the default: 30 days.
pub const MAX_SESSION_MAX_AGE: u64 = 30 * 24 * 60 * 60;

/// The shortest `FREEDOM_ID_REVOKE_KEY` accepted (`openssl rand -hex 32` gives 64).
pub const MIN_REVOKE_KEY_LEN: usize = 32;

impl core::fmt::Display for ProtectError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("not path prefixes on this site separated by spaces, or `/`")
    }
}

impl std::error::Error for ProtectError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_guard_whole_segments() {
        let protect = Protect::parse("/app  /api/private/").unwrap();
        for (path, guarded) in [
            ("/app", true),
            ("/app/", true),
            ("/app/x/y", true),
            ("/application", false),
            ("/api/private", true),
            ("/api/private/1", true),
            ("/api/public", false),
            ("/", false),
        ] {
            assert_eq!(protect.guards(path), guarded, "{path}");
        }
        let all = Protect::parse("/").unwrap();
        assert!(all.guards("/") && all.guards("/anything"));
        assert!(Protect::parse("").unwrap().is_empty());
        for bad in ["app", "//evil", "/a?x", "https://x.kz/"] {
            assert_eq!(Protect::parse(bad), Err(ProtectError), "{bad}");
        }
    }
}
