//! An HTTP answer as plain data, with the headers every Worker answer has, and the answers
//! that are not errors (redirects, `/session`, `/healthz`, `204`). `drivers/worker.rs` only
//! copies an [`Answer`] into a response.

use serde::Serialize;

use crate::base::json;
use crate::config::settings::{Settings, SettingsError};
use crate::freedom_id::authorize::AuthorizationLink;
use crate::freedom_id::user::User;

/// The Content-Security-Policy of every HTML page: own files only, never framed, no `<base>`
/// rewriting, forms posting only to this site, no plugins. `www/_headers` carries the same.
pub const HTML_CSP: &str = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

/// An HTTP answer as plain data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// Header names and values, in order.
    pub headers: Vec<(&'static str, String)>,
    /// The body (empty for a redirect).
    pub body: String,
}

impl Answer {
    /// An answer with the headers every Worker answer has: no caching, no MIME sniffing,
    /// and for HTML the site's Content-Security-Policy.
    pub(crate) fn new(status: u16, content_type: &str, body: String) -> Answer {
        let mut headers = common_headers(("Content-Type", content_type.to_owned()));
        if content_type.starts_with("text/html") {
            headers.push(("Content-Security-Policy", HTML_CSP.to_owned()));
        }
        Answer {
            status,
            headers,
            body,
        }
    }

    /// The same answer with one more header.
    pub fn with_header(mut self, name: &'static str, value: String) -> Answer {
        self.headers.push((name, value));
        self
    }

    /// The same answer with the header `name` (set by [`Answer::new`]) holding `value`
    /// instead.
    pub(crate) fn with_header_replaced(mut self, name: &str, value: String) -> Answer {
        if let Some((_, kept)) = self.headers.iter_mut().find(|(have, _)| *have == name) {
            *kept = value;
        }
        self
    }

    /// The same answer with a `Set-Cookie` header for each of `cookies`.
    pub fn with_cookies(mut self, cookies: impl IntoIterator<Item = String>) -> Answer {
        for cookie in cookies {
            self.headers.push(("Set-Cookie", cookie));
        }
        self
    }

    /// The value of header `name` (case-insensitive), if set.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// `302` to the trusted link: never cached, and no `Referer` to Freedom ID.
pub fn redirect(link: &AuthorizationLink) -> Answer {
    let mut headers = common_headers(("Location", link.url.as_str().to_owned()));
    headers.push(("Referrer-Policy", "no-referrer".to_owned()));
    Answer {
        status: 302,
        headers,
        body: String::new(),
    }
}

/// `303 See Other` to a path on this site (after a sign-in or a sign-out).
pub fn see_other(location: &str) -> Answer {
    Answer {
        status: 303,
        headers: common_headers(("Location", location.to_owned())),
        body: String::new(),
    }
}

/// `GET /session`: `{"signedIn": true, "accessExpiresAt": n, "refreshExpiresAt": n or null,
/// "user": {...} or null}` or `{"signedIn": false}`. Never a token.
pub fn session_status(status: Option<&SessionStatus<'_>>) -> Answer {
    let body = match status {
        Some(status) => json::to_string(status),
        None => json::to_string(&SignedOut { signed_in: false }),
    };
    Answer::new(200, "application/json", body)
}

/// What `/session` shows of a live session.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionStatus<'a> {
    signed_in: bool,
    access_expires_at: u64,
    refresh_expires_at: Option<u64>,
    user: Option<&'a User>,
}

impl<'a> SessionStatus<'a> {
    /// A live session whose access token expires at `access_expires_at` and refresh token at
    /// `refresh_expires_at` (`None`, shown as `null`, when it cannot be refreshed), signed in
    /// by `user` (`null` when unknown).
    pub fn new(
        access_expires_at: u64,
        refresh_expires_at: Option<u64>,
        user: Option<&'a User>,
    ) -> SessionStatus<'a> {
        SessionStatus {
            signed_in: true,
            access_expires_at,
            refresh_expires_at,
            user,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SignedOut {
    signed_in: bool,
}

/// `/healthz`'s body: `{"status": "ok"}`, or `"misconfigured"` with the settings' names.
#[derive(Serialize)]
struct Health<'a> {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    problems: Option<Vec<&'a str>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    warnings: &'a [&'a str],
}

/// `first`, then the headers every Worker answer has: never cached, no MIME sniffing.
fn common_headers(first: (&'static str, String)) -> Vec<(&'static str, String)> {
    vec![
        first,
        ("Cache-Control", "no-store".to_owned()),
        ("X-Content-Type-Options", "nosniff".to_owned()),
    ]
}

/// `302` to sign in, for a browser that asked for a guarded page without a session.
pub fn sign_in_redirect(location: String) -> Answer {
    Answer {
        status: 302,
        headers: common_headers(("Location", location)),
        body: String::new(),
    }
}

/// `204` for `POST /revoke`, whatever the id: the route never says whether it was known.
pub fn no_content() -> Answer {
    Answer {
        status: 204,
        headers: common_headers(("Content-Length", "0".to_owned())),
        body: String::new(),
    }
}

/// `GET /healthz`: 200 when every setting is valid, else 503 naming (never showing) the bad ones.
pub fn healthz(settings: &Result<Settings, SettingsError>) -> Answer {
    match settings {
        Ok(_) => Answer::new(
            200,
            "application/json",
            json::to_string(&Health {
                status: "ok",
                problems: None,
                warnings: &[],
            }),
        ),
        Err(error) => Answer::new(
            503,
            "application/json",
            json::to_string(&Health {
                status: "misconfigured",
                problems: Some(error.setting_names()),
                warnings: &[],
            }),
        ),
    }
}

/// `GET /healthz` with valid settings: 200, listing `warnings` (what works but likely not
/// as meant) when there are any.
pub fn healthz_with_warnings(warnings: &[&str]) -> Answer {
    Answer::new(
        200,
        "application/json",
        json::to_string(&Health {
            status: "ok",
            problems: None,
            warnings,
        }),
    )
}

/// `GET /.well-known/jwks.json`: a public key set any site may fetch and keep 5 minutes
/// (`public, max-age=300` in place of the usual `no-store`).
pub fn public_key_set(body: String, cache_control: &'static str) -> Answer {
    Answer::new(200, "application/json", body)
        .with_header_replaced("Cache-Control", cache_control.to_owned())
        .with_header("Access-Control-Allow-Origin", "*".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::url::AbsoluteUrl;
    use crate::error::{Error, ErrorCode};
    use crate::freedom_id::authorize::trust_link;
    use crate::web::*;

    fn link() -> AuthorizationLink {
        let authorize =
            AbsoluteUrl::parse("https://passport.freedompay.kz/api/v1/oauth/authorize").unwrap();
        trust_link(
            "https://passport.freedompay.kz/login?track_id=t&expire_at=1",
            &authorize,
        )
        .unwrap()
    }

    #[test]
    fn redirect_is_a_302_that_is_never_cached() {
        let answer = login_answer(&Ok(link()), &Client::english(false));
        assert_eq!(answer.status, 302);
        assert_eq!(
            answer.header("location"),
            Some("https://passport.freedompay.kz/login?track_id=t&expire_at=1")
        );
        assert_eq!(answer.header("cache-control"), Some("no-store"));
        assert_eq!(answer.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
        assert!(answer.body.is_empty());
    }

    #[test]
    fn every_answer_has_the_security_headers() {
        let answers = [
            login_answer(&Err(Error::UpstreamNetwork), &Client::english(false)),
            login_answer(&Err(Error::UpstreamNetwork), &Client::english(true)),
            healthz(&Settings::from_env(|_| None)),
            rate_limited(&Client::english(false), 60),
            problem(
                ErrorCode::StateMismatch,
                &Message::new("detail.state_mismatch"),
                &Client::english(true),
            ),
            session_status(None),
            see_other("/"),
        ];
        for answer in answers {
            assert_eq!(
                answer.header("x-content-type-options"),
                Some("nosniff"),
                "{answer:?}"
            );
            assert_eq!(
                answer.header("cache-control"),
                Some("no-store"),
                "{answer:?}"
            );
            let html = answer
                .header("content-type")
                .is_some_and(|t| t.starts_with("text/html"));
            let csp = answer.header("content-security-policy");
            assert_eq!(
                csp,
                html.then_some(
                    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
                ),
                "{answer:?}"
            );
        }
    }

    #[test]
    fn rate_limited_session_and_see_other_answers() {
        let limited = rate_limited(&Client::english(false), 60);
        assert_eq!(
            (limited.status, limited.header("retry-after")),
            (429, Some("60"))
        );
        assert!(limited.body.contains("\"code\":\"RATE_LIMITED\""));
        let signed_in = session_status(Some(&SessionStatus::new(10, Some(20), None)));
        let body: serde_json::Value = serde_json::from_str(&signed_in.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"signedIn": true, "accessExpiresAt": 10, "refreshExpiresAt": 20, "user": null})
        );
        let user = User {
            id: "u-1".into(),
            firstname: Some("Aida".into()),
            ..User::default()
        };
        let known = session_status(Some(&SessionStatus::new(10, None, Some(&user))));
        let body: serde_json::Value = serde_json::from_str(&known.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"signedIn": true, "accessExpiresAt": 10, "refreshExpiresAt": null, "user": {"id": "u-1", "firstname": "Aida"}})
        );
        assert_eq!(session_status(None).body, r#"{"signedIn":false}"#);
        let away = see_other("/app").with_cookies(["a=; Max-Age=0".to_owned(), "b=1".to_owned()]);
        assert_eq!((away.status, away.header("location")), (303, Some("/app")));
        let cookies: Vec<&str> = away
            .headers
            .iter()
            .filter(|(n, _)| *n == "Set-Cookie")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(cookies, ["a=; Max-Age=0", "b=1"]);
    }
}
