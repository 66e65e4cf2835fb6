//! The return from Freedom ID: what the callback URL carries, and the check that decides
//! whether its code may be spent. Both products use it: the npm package's `completeSignIn`
//! and the Worker's `/callback`.
//!
//! The order is the security property: the `state` is compared (in constant time) **before**
//! anything else, so a forged callback never reaches the token endpoint and never spends
//! the victim's code.

use crate::base::secret::{constant_time_eq, AuthorizationCode, CsrfState};
use crate::base::url::{query_string_has, query_string_param, AbsoluteUrl};
use crate::config::values::STATE_PARAM;
use crate::error::Error;
use crate::freedom_id::token::plain_code;

/// What a callback URL carries.
#[derive(Clone, Debug, Default)]
pub struct CallbackParams {
    /// The `state` query parameter, if present and decodable.
    pub state: Option<CsrfState>,
    /// The `authorization_code` (or OIDC's `code`), if present and non-empty.
    pub code: Option<AuthorizationCode>,
    /// `error_code` (or OIDC's `error`) when present: Freedom ID's code if it is plain (digits, letters, `-`,
    /// `_`, `.`, at most 32), `"unrecognised"` otherwise, so nothing odd is ever echoed.
    pub error_code: Option<String>,
}

/// Why a callback URL could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallbackUrlError;

impl core::fmt::Display for CallbackUrlError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(
            "must be the absolute URL Freedom ID sent the user back to (or its path and query)",
        )
    }
}

impl std::error::Error for CallbackUrlError {}

impl CallbackParams {
    /// Reads an absolute callback URL, or a path with its query (`/callback?...`, as
    /// `req.originalUrl` gives it).
    pub fn from_url(text: &str) -> Result<CallbackParams, CallbackUrlError> {
        let query = if text.starts_with('/') && !text.starts_with("//") {
            let plain = text.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
            if !plain {
                return Err(CallbackUrlError);
            }
            let without_fragment = text.split('#').next().unwrap_or("");
            without_fragment
                .split_once('?')
                .map(|(_, query)| query.to_owned())
        } else {
            let url = AbsoluteUrl::parse(text).map_err(|_| CallbackUrlError)?;
            url.query().map(str::to_owned)
        };
        Ok(CallbackParams::from_query(query.as_deref()))
    }

    /// Reads a query string (without the `?`). Each parameter's first occurrence counts.
    pub fn from_query(query: Option<&str>) -> CallbackParams {
        let Some(query) = query else {
            return CallbackParams::default();
        };
        // The OAuth2 flavour's names first, then the standard OpenID Connect ones (`code`,
        // `error`), which Freedom ID's OIDC page does not spell out.
        let error_name = ["error_code", "error"]
            .into_iter()
            .find(|name| query_string_has(query, name));
        let error_code = error_name.map(|name| {
            query_string_param(query, name)
                .filter(|code| plain_code(code))
                .unwrap_or_else(|| "unrecognised".to_owned())
        });
        let code = ["authorization_code", "code"]
            .into_iter()
            .find_map(|name| query_string_param(query, name).filter(|code| !code.is_empty()));
        CallbackParams {
            state: query_string_param(query, STATE_PARAM).map(CsrfState::new),
            code: code.map(AuthorizationCode::new),
            error_code,
        }
    }
}

/// The state a callback must carry.
#[derive(Clone, Copy, Debug)]
pub enum ExpectedState<'a> {
    /// The state kept when the sign-in began.
    Value(&'a CsrfState),
    /// No state binding (the link was made without one).
    Off,
}

/// Decides a callback: [`Error::StateMismatch`] when the state is missing or differs (checked
/// first, in constant time), then [`Error::SignInDeclined`] for an `error_code`, then the
/// code to exchange, or [`Error::CallbackWithoutCode`].
pub fn check_callback(
    params: &CallbackParams,
    expected: ExpectedState<'_>,
) -> Result<AuthorizationCode, Error> {
    if let ExpectedState::Value(expected) = expected {
        let matches = params.state.as_ref().is_some_and(|state| {
            !expected.secret().is_empty() && constant_time_eq(state.secret(), expected.secret())
        });
        if !matches {
            return Err(Error::StateMismatch);
        }
    }
    if let Some(error_code) = &params.error_code {
        return Err(Error::SignInDeclined {
            error_code: error_code.clone(),
        });
    }
    params.code.clone().ok_or(Error::CallbackWithoutCode)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(url: &str, expected: Option<&str>) -> Result<String, Error> {
        let params = CallbackParams::from_url(url).unwrap();
        let kept = expected.map(CsrfState::new);
        let expected = kept
            .as_ref()
            .map_or(ExpectedState::Off, ExpectedState::Value);
        check_callback(&params, expected).map(|code| code.secret().to_owned())
    }

    #[test]
    fn a_matching_state_releases_the_code() {
        let url = "https://app.kz/callback?lang=kk&authorization_code=c0de&state=s1";
        assert_eq!(decide(url, Some("s1")), Ok("c0de".into()));
        assert_eq!(
            decide("/callback?state=s1&authorization_code=c0de", Some("s1")),
            Ok("c0de".into())
        );
        assert_eq!(
            decide("https://app.kz/cb?authorization_code=c0de", None),
            Ok("c0de".into())
        );
    }

    #[test]
    fn the_state_is_checked_before_anything_else() {
        for url in [
            "https://app.kz/cb?authorization_code=c0de&state=other",
            "https://app.kz/cb?authorization_code=c0de",
            "https://app.kz/cb?authorization_code=c0de&state=",
            "https://app.kz/cb?error_code=100102&state=other",
            "https://app.kz/cb?state=%FF&state=s1&authorization_code=c0de",
            "https://app.kz/cb?state=s1x&authorization_code=c0de",
            "https://app.kz/cb",
        ] {
            assert_eq!(decide(url, Some("s1")), Err(Error::StateMismatch), "{url}");
        }
        assert_eq!(
            decide("https://app.kz/cb?state=&authorization_code=c", Some("")),
            Err(Error::StateMismatch),
            "an empty expected state never matches"
        );
    }

    #[test]
    fn declines_and_missing_codes() {
        assert_eq!(
            decide("https://app.kz/cb?error_code=100102&state=s", Some("s")),
            Err(Error::SignInDeclined {
                error_code: "100102".into()
            })
        );
        assert_eq!(
            decide(
                "https://app.kz/cb?error_code=%3Cb%3E&authorization_code=c&state=s",
                Some("s")
            ),
            Err(Error::SignInDeclined {
                error_code: "unrecognised".into()
            })
        );
        assert_eq!(
            decide("https://app.kz/cb?state=s", Some("s")),
            Err(Error::CallbackWithoutCode)
        );
        assert_eq!(
            decide("https://app.kz/cb?state=s&authorization_code=", Some("s")),
            Err(Error::CallbackWithoutCode)
        );
    }

    #[test]
    fn unreadable_callback_urls_are_refused() {
        for url in [
            "",
            "callback?x",
            "//evil.com/cb?state=s",
            "/cb?a b",
            "/cb\\x",
            "ftp://x.kz/cb",
        ] {
            assert!(CallbackParams::from_url(url).is_err(), "{url:?}");
        }
        let shown = format!(
            "{:?}",
            CallbackParams::from_url("/cb?authorization_code=c0de&state=st4te").unwrap()
        );
        assert!(
            !shown.contains("c0de") && !shown.contains("st4te"),
            "{shown}"
        );
    }

    #[test]
    fn the_openid_connect_names_are_accepted_too() {
        assert_eq!(
            decide("/callback?code=c0de&state=s1", Some("s1")),
            Ok("c0de".into())
        );
        assert_eq!(
            decide(
                "/callback?authorization_code=first&code=second&state=s1",
                Some("s1")
            ),
            Ok("first".into())
        );
        assert_eq!(
            decide("/callback?error=access_denied&state=s1", Some("s1")),
            Err(Error::SignInDeclined {
                error_code: "access_denied".into()
            })
        );
        // The state is still checked first.
        assert_eq!(
            decide("/callback?error=access_denied&state=other", Some("s1")),
            Err(Error::StateMismatch)
        );
    }
}
