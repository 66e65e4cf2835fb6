//! The authorize exchange as plain data: the request to send, and the rules for reading
//! the answer. No I/O here; the adapters move the bytes (see `fetch.rs`).
//!
//! ```text
//! POST {authorize_url}
//! Authorization: Basic base64(client_id:client_secret)
//! Content-Type: application/json
//! {"redirect_uri": "...", "grants": ["openid", ...]}
//!
//! 200 {"redirect_uri": "https://passport.freedompay.kz/login?track_id=...&expire_at=..."}
//! ```

use serde::{Deserialize, Serialize};

use crate::base::json::{self, JsonEngine, JsonError, Member, Present, SerdeJson};
use crate::base::secret::AuthorizationHeader;
use crate::base::url::AbsoluteUrl;
use crate::config::settings::Settings;
use crate::error::{Error, Malformed};
use crate::freedom_id::state::redirect_uri_with_state;
use crate::freedom_id::upstream::{BodyRule, Method, Reply, UpstreamRequest};

pub use crate::freedom_id::upstream::{body_text, MAX_BODY_BYTES};

/// The request to send. Its `Debug` shows the Basic header as `[redacted]`.
#[derive(Clone, Debug)]
pub struct AuthorizeRequest {
    /// Where to POST.
    pub url: String,
    /// The `Authorization` header value.
    pub authorization: AuthorizationHeader,
    /// The JSON body.
    pub body: String,
}

impl AuthorizeRequest {
    /// Builds the request for `settings`. With a login-CSRF `state`, the redirect URI sent is
    /// the configured one with `state=<state>` appended; without, it is sent as configured.
    pub fn new(settings: &Settings, state: Option<&str>) -> AuthorizeRequest {
        let redirect_uri = match state {
            Some(state) => redirect_uri_with_state(settings.redirect_uri.as_str(), state),
            None => settings.redirect_uri.as_str().to_owned(),
        };
        let grants: Vec<&str> = settings.grants.iter().map(|grant| grant.as_str()).collect();
        let body = json::to_string(&AuthorizeBody {
            redirect_uri: &redirect_uri,
            grants: &grants,
        });
        AuthorizeRequest {
            url: settings.authorize_url.as_str().to_owned(),
            authorization: AuthorizationHeader::basic(&settings.client_id, &settings.client_secret),
            body,
        }
    }

    /// The call to make: `POST`, only a 2xx answer's body read.
    pub fn to_upstream(&self) -> UpstreamRequest {
        UpstreamRequest {
            method: Method::Post,
            url: self.url.clone(),
            authorization: Some(self.authorization.clone()),
            body: Some(self.body.clone()),
            body_rule: BodyRule::Success,
        }
    }
}

/// The authorize call's body: `{"redirect_uri": "...", "grants": [...]}`.
#[derive(Serialize)]
struct AuthorizeBody<'a> {
    redirect_uri: &'a str,
    grants: &'a [&'a str],
}

/// The authorize answer's members we read, each leniently: the core's rules judge them.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AuthorizeAnswer {
    /// The sign-in link.
    pub redirect_uri: Member<String>,
    /// Any value but `null` is an error, even under HTTP 200.
    pub error: Member<Present>,
}

/// A sign-in link that passed the trust rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationLink {
    /// The link to send the user to.
    pub url: AbsoluteUrl,
    /// Its `track_id` query parameter, if any.
    pub track_id: Option<String>,
    /// Its `expire_at` query parameter (unix seconds), if present and a whole number.
    pub expire_at: Option<u64>,
}

/// First look at the answer: anything but 2xx is [`Error::UpstreamStatus`], its body unread.
/// Redirects are never followed, so a 3xx lands here too.
pub fn check_status(status: u16) -> Result<(), Error> {
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(Error::UpstreamStatus { status })
    }
}

/// Reads what the authorize call brought back: a failure as it is, a non-2xx status as
/// [`Error::UpstreamStatus`], else the body, decoded by `json`, by [`check_answer`].
pub fn read_reply(
    reply: &Reply,
    authorize_url: &AbsoluteUrl,
    json: &impl JsonEngine,
) -> Result<AuthorizationLink, Error> {
    let body = reply.body.as_ref().map_err(Clone::clone)?;
    let status = reply.status.unwrap_or(0);
    check_status(status)?;
    check_answer(status, json.decode(body), authorize_url)
}

/// Reads a 2xx answer's body into a trusted link, with `serde_json`.
pub fn parse_body(
    status: u16,
    body: &str,
    authorize_url: &AbsoluteUrl,
) -> Result<AuthorizationLink, Error> {
    check_answer(status, SerdeJson.decode(body), authorize_url)
}

/// Judges a decoded 2xx answer: an `error` member is the status's error, a missing or
/// non-string `redirect_uri` is [`Malformed::NoRedirectUri`], and the link must pass
/// [`trust_link`].
pub fn check_answer(
    status: u16,
    answer: Result<AuthorizeAnswer, JsonError>,
    authorize_url: &AbsoluteUrl,
) -> Result<AuthorizationLink, Error> {
    let answer = answer.map_err(|error| {
        Error::UpstreamMalformed(match error {
            JsonError::Duplicate => Malformed::RepeatedMember,
            _ => Malformed::NotJson,
        })
    })?;
    // One documented Freedom ID answer carries its error under HTTP 200.
    if answer.error.is_present() {
        return Err(Error::UpstreamStatus { status });
    }
    let link = answer
        .redirect_uri
        .into_value()
        .ok_or(Error::UpstreamMalformed(Malformed::NoRedirectUri))?;
    trust_link(&link, authorize_url)
}

/// The trust rule, so that our redirect can never be turned into an open redirect: the link
/// must be an absolute URL by the strict rules of [`AbsoluteUrl::parse`] (no userinfo, no
/// control characters, spaces, backslashes or non-ASCII), on the same scheme, host and port
/// as the authorize endpoint. An `http` link is thus only trusted when the authorize URL is
/// itself `http` on localhost (a local mock); settings refuse any other `http` endpoint.
pub fn trust_link(link: &str, authorize_url: &AbsoluteUrl) -> Result<AuthorizationLink, Error> {
    let url = AbsoluteUrl::parse(link).map_err(|_| Error::UntrustedLink)?;
    if !url.same_origin(authorize_url) {
        return Err(Error::UntrustedLink);
    }
    let track_id = url.query_param("track_id");
    let expire_at = url
        .query_param("expire_at")
        .and_then(|value| value.parse().ok());
    Ok(AuthorizationLink {
        url,
        track_id,
        expire_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::settings::Settings;

    const SECRET: &str = "top-secret-value";

    fn settings(authorize_url: &str) -> Settings {
        Settings::from_env(|name| {
            let value = match name {
                "FREEDOM_ID_CLIENT_ID" => "demo-client",
                "FREEDOM_ID_CLIENT_SECRET" => SECRET,
                "FREEDOM_ID_REDIRECT_URI" => "https://app.example.com/callback?from=\"x\"",
                "FREEDOM_ID_GRANTS" => "read.phone, openid read.email",
                "FREEDOM_ID_AUTHORIZE_URL" => authorize_url,
                "FREEDOM_ID_SESSION_SECRET" => "session-key-of-at-least-thirty-two-chars",
                _ => return None,
            };
            Some(value.to_string())
        })
        .unwrap()
    }

    fn passport() -> AbsoluteUrl {
        AbsoluteUrl::parse("https://passport.freedompay.kz/api/v1/oauth/authorize").unwrap()
    }

    #[test]
    fn builds_the_exact_documented_request() {
        let settings = settings("https://passport.freedompay.kz/api/v1/oauth/authorize");
        let request = AuthorizeRequest::new(&settings, None);
        assert_eq!(
            request.url,
            "https://passport.freedompay.kz/api/v1/oauth/authorize"
        );
        let upstream = request.to_upstream();
        assert_eq!(upstream.method, Method::Post);
        assert_eq!(
            upstream.headers(),
            [
                (
                    "Authorization",
                    "Basic ZGVtby1jbGllbnQ6dG9wLXNlY3JldC12YWx1ZQ=="
                ),
                ("Accept", "application/json"),
                ("Accept-Encoding", "identity"),
                ("Content-Type", "application/json"),
            ]
        );
        assert_eq!(upstream.body.as_deref(), Some(request.body.as_str()));
        assert_eq!(
            request.body,
            r#"{"redirect_uri":"https://app.example.com/callback?from=\"x\"","grants":["read.phone","openid","read.email"]}"#
        );
        let with_state = AuthorizeRequest::new(&settings, Some("s+1"));
        assert_eq!(
            with_state.body,
            r#"{"redirect_uri":"https://app.example.com/callback?from=\"x\"&state=s%2B1","grants":["read.phone","openid","read.email"]}"#
        );
        let body: serde_json::Value = serde_json::from_str(&request.body).unwrap();
        assert_eq!(body["grants"][1], "openid");
        let shown = format!("{request:?}");
        assert!(
            !shown.contains(SECRET) && !shown.contains("ZGVtby1jbGllbnQ6"),
            "{shown}"
        );
    }

    #[test]
    fn only_2xx_statuses_are_read() {
        for status in [200, 201, 204, 299] {
            assert_eq!(check_status(status), Ok(()));
        }
        for status in [100, 199, 301, 302, 304, 400, 401, 404, 429, 500, 503] {
            assert_eq!(check_status(status), Err(Error::UpstreamStatus { status }));
        }
    }

    #[test]
    fn reads_the_providers_sample_answer() {
        let body = r#"{"redirect_uri": "https://passport.freedompay.kz/login?track_id=ac22c50c-22c7-4aeb-9160-e59b735f9c44&expire_at=1727246098"}"#;
        let link = parse_body(200, body, &passport()).unwrap();
        assert_eq!(
            link.url.as_str(),
            "https://passport.freedompay.kz/login?track_id=ac22c50c-22c7-4aeb-9160-e59b735f9c44&expire_at=1727246098"
        );
        assert_eq!(
            link.track_id.as_deref(),
            Some("ac22c50c-22c7-4aeb-9160-e59b735f9c44")
        );
        assert_eq!(link.expire_at, Some(1_727_246_098));
    }

    #[test]
    fn each_unusable_answer_has_its_error() {
        let cases = [
            (
                "<html>oops</html>",
                Error::UpstreamMalformed(Malformed::NotJson),
            ),
            ("[]", Error::UpstreamMalformed(Malformed::NotJson)),
            ("", Error::UpstreamMalformed(Malformed::NotJson)),
            (
                r#"{"link":"https://passport.freedompay.kz/login"}"#,
                Error::UpstreamMalformed(Malformed::NoRedirectUri),
            ),
            (
                r#"{"redirect_uri":42}"#,
                Error::UpstreamMalformed(Malformed::NoRedirectUri),
            ),
            (
                r#"{"redirect_uri":"https://passport.freedompay.kz/a","redirect_uri":"https://evil.com/"}"#,
                Error::UpstreamMalformed(Malformed::RepeatedMember),
            ),
            (
                r#"{"error":{"message":"Something went wrong.","code":100102}}"#,
                Error::UpstreamStatus { status: 200 },
            ),
            (
                r#"{"redirect_uri":"https://passport.freedompay.kz/login","error":{}}"#,
                Error::UpstreamStatus { status: 200 },
            ),
            (
                r#"{"redirect_uri":"https://evil.example/login"}"#,
                Error::UntrustedLink,
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(parse_body(200, body, &passport()), Err(expected), "{body}");
        }
    }

    #[test]
    fn trust_rule_table() {
        let trusted = [
            "https://passport.freedompay.kz/login?track_id=x",
            "https://PASSPORT.freedompay.kz:443/login",
            "HTTPS://passport.freedompay.kz",
        ];
        for link in trusted {
            assert!(trust_link(link, &passport()).is_ok(), "{link}");
        }
        let untrusted = [
            "http://passport.freedompay.kz/login",
            "https://passport.freedompay.kz:8443/login",
            "https://passport.freedompay.kz.evil.com/login",
            "https://evil.com/https://passport.freedompay.kz/",
            "https://evil.com#@passport.freedompay.kz",
            "https://passport.freedompay.kz@evil.com/",
            "https://user:pw@passport.freedompay.kz/login",
            "https://passport.freedompay.kz\\@evil.com/",
            "https://evil.com\\passport.freedompay.kz",
            "https://passport.freedompay.kz/lo\ngin",
            "https://passport.freedompay.kz/lo\tgin",
            " https://passport.freedompay.kz/login",
            "//passport.freedompay.kz/login",
            "/login",
            "javascript:alert(1)//passport.freedompay.kz",
            "data:text/html,https://passport.freedompay.kz",
            "https://passport.freedompay.kz%2eevil.com/",
            "https://passpört.freedompay.kz/",
            "",
        ];
        for link in untrusted {
            assert_eq!(
                trust_link(link, &passport()),
                Err(Error::UntrustedLink),
                "{link:?}"
            );
        }
    }

    #[test]
    fn a_local_http_endpoint_trusts_only_its_own_origin() {
        let local = AbsoluteUrl::parse("http://127.0.0.1:8788/api/v1/oauth/authorize").unwrap();
        assert!(trust_link("http://127.0.0.1:8788/login?track_id=a", &local).is_ok());
        for link in [
            "http://127.0.0.1:8789/login",
            "http://localhost:8788/login",
            "https://127.0.0.1:8788/login",
        ] {
            assert_eq!(
                trust_link(link, &local),
                Err(Error::UntrustedLink),
                "{link}"
            );
        }
    }

    #[test]
    fn odd_expire_at_values_are_left_out() {
        for (link, expire_at) in [
            ("https://passport.freedompay.kz/login?expire_at=soon", None),
            ("https://passport.freedompay.kz/login?expire_at=-5", None),
            ("https://passport.freedompay.kz/login", None),
            (
                "https://passport.freedompay.kz/login?expire_at=17",
                Some(17),
            ),
        ] {
            assert_eq!(
                trust_link(link, &passport()).unwrap().expire_at,
                expire_at,
                "{link}"
            );
        }
    }
}
