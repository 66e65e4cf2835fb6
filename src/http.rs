//! The Worker's HTTP answers, decided as plain data so `cargo test` can check them natively.
//! `worker.rs` only copies an [`Answer`] into a `worker::Response`.

use crate::authorize::AuthorizationLink;
use crate::error::{Error, ErrorCode};
use crate::json::write_string;
use crate::settings::{Settings, SettingsError};

/// The routes the Worker handles itself. Static files in `www/` are served before the
/// Worker runs, so a [`Route::NotFound`] here means no file matched either.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Route {
    /// `GET`/`HEAD /login`: redirect to Freedom ID.
    Login,
    /// `GET /callback`: check the state, exchange the code, keep the session.
    Callback,
    /// `GET`/`HEAD /session`: is this browser signed in?
    Session,
    /// `POST /logout`: end the session.
    Logout,
    /// `POST /revoke`: Freedom ID's back-channel sign-out.
    Revoke,
    /// `GET`/`HEAD /healthz`: are the settings valid?
    Healthz,
    /// A known path with another method: answer 405 with this `Allow`.
    MethodNotAllowed(&'static str),
    /// Anything else.
    NotFound,
}

/// The Content-Security-Policy of every HTML page: own files only, never framed, no `<base>`
/// rewriting, forms posting only to this site, no plugins. `www/_headers` carries the same.
pub const HTML_CSP: &str = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

/// Maps a request's method and path to a [`Route`]. `/callback` answers `GET` only: a
/// `HEAD` must not spend a code.
pub fn route(method: &str, path: &str) -> Route {
    let (route, allowed) = match path {
        "/login" => (Route::Login, "GET, HEAD"),
        "/callback" => (Route::Callback, "GET"),
        "/session" => (Route::Session, "GET, HEAD"),
        "/logout" => (Route::Logout, "POST"),
        "/revoke" => (Route::Revoke, "POST"),
        "/healthz" => (Route::Healthz, "GET, HEAD"),
        _ => return Route::NotFound,
    };
    if allowed.split(", ").any(|allowed| allowed == method) {
        route
    } else {
        Route::MethodNotAllowed(allowed)
    }
}

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
    fn new(status: u16, content_type: &str, body: String) -> Answer {
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

/// `GET /session`: `{"signedIn": true, "accessExpiresAt": n, "refreshExpiresAt": n}` or
/// `{"signedIn": false}`. Never a token.
pub fn session_status(expiry: Option<(u64, u64)>) -> Answer {
    let body = match expiry {
        Some((access, refresh)) => format!(
            "{{\"signedIn\":true,\"accessExpiresAt\":{access},\"refreshExpiresAt\":{refresh}}}"
        ),
        None => "{\"signedIn\":false}".to_owned(),
    };
    Answer::new(200, "application/json", body)
}

/// `first`, then the headers every Worker answer has: never cached, no MIME sniffing.
fn common_headers(first: (&'static str, String)) -> Vec<(&'static str, String)> {
    vec![
        first,
        ("Cache-Control", "no-store".to_owned()),
        ("X-Content-Type-Options", "nosniff".to_owned()),
    ]
}

/// Whether an `Accept` header prefers `text/html` over JSON: true for browsers' navigation
/// requests, false for `*/*` (curl, fetch) and API clients. Ties go to JSON.
pub fn prefers_html(accept: Option<&str>) -> bool {
    let Some(accept) = accept else { return false };
    let (mut html, mut json) = (0_u16, 0_u16);
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|param| {
                let (key, value) = param.split_once('=')?;
                (key.trim() == "q").then(|| parse_qvalue(value.trim()))?
            })
            .next()
            .unwrap_or(1000);
        match media.as_str() {
            "text/html" | "application/xhtml+xml" => html = html.max(quality),
            "application/json" | "application/problem+json" | "*/*" => json = json.max(quality),
            _ => {}
        }
    }
    html > json
}

/// An RFC 9110 `qvalue` (`0`, `0.5`, `1.000`) in thousandths. Integer arithmetic on purpose:
/// `str::parse::<f32>` alone costs about 15 kB of the Worker's gzipped wasm.
fn parse_qvalue(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = fraction
        .bytes()
        .chain(core::iter::repeat(b'0'))
        .take(3)
        .fold(0_u16, |acc, digit| acc * 10 + u16::from(digit - b'0'));
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// The error answer for `code`: problem+json (RFC 9457) by default, a small HTML page
/// when the client prefers HTML. `detail` must hold nothing secret; callers pass fixed text.
pub fn problem(code: ErrorCode, detail: &str, wants_html: bool) -> Answer {
    let status = code.http_status();
    if wants_html {
        Answer::new(
            status,
            "text/html; charset=utf-8",
            problem_html(code, detail),
        )
    } else {
        Answer::new(
            status,
            "application/problem+json",
            problem_json(code, detail),
        )
    }
}

/// The `type` URI of a problem: stable and specific to the code.
pub fn problem_type(code: ErrorCode) -> String {
    format!("urn:freedom-id-edge:error:{}", code.as_str())
}

fn problem_json(code: ErrorCode, detail: &str) -> String {
    let mut body = String::from("{\"type\":");
    write_string(&mut body, &problem_type(code));
    body.push_str(",\"title\":");
    write_string(&mut body, code.title());
    body.push_str(&format!(",\"status\":{},\"code\":", code.http_status()));
    write_string(&mut body, code.as_str());
    body.push_str(",\"detail\":");
    write_string(&mut body, detail);
    body.push('}');
    body
}

fn problem_html(code: ErrorCode, detail: &str) -> String {
    let title = html_escape(code.title());
    let try_again = match code {
        ErrorCode::NotFound | ErrorCode::MethodNotAllowed => {
            r#"<a class="button" href="/">Go to the start page</a>"#
        }
        _ => r#"<a class="button" href="/login">Try again</a>"#,
    };
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="/style.css">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
</head>
<body>
<main class="card">
<h1>{title}</h1>
<p>{detail}</p>
<p class="code">Error code: <code>{code}</code> (HTTP {status})</p>
<p>{try_again}</p>
</main>
</body>
</html>
"#,
        detail = html_escape(detail),
        code = code.as_str(),
        status = code.http_status(),
    )
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The public, fixed `detail` for a failed sign-in. It names no value, no upstream body
/// and, for settings, only the names of the bad settings.
pub fn public_detail(error: &Error) -> String {
    match error {
        Error::Settings(settings) => format!(
            "The sign-in service is misconfigured: check {}.",
            setting_names(settings).join(", ")
        ),
        Error::UpstreamStatus { status } => {
            format!("Freedom ID answered with HTTP {status}. Please try again later.")
        }
        Error::UpstreamMalformed(_) => {
            "Freedom ID sent an answer that could not be read. Please try again later.".to_owned()
        }
        Error::UntrustedLink => {
            "Freedom ID sent a sign-in link to an unexpected address, so it was not followed."
                .to_owned()
        }
        Error::UpstreamNetwork => {
            "Freedom ID could not be reached. Please try again later.".to_owned()
        }
        Error::UpstreamTimeout { .. } => {
            "Freedom ID took too long to answer. Please try again.".to_owned()
        }
        Error::CodeRejected { .. } | Error::CallbackWithoutCode => {
            "Freedom ID did not accept this sign-in. It may have been used already or taken too long. Please sign in again.".to_owned()
        }
        Error::RefreshRejected { .. } => "Your session has ended. Please sign in again.".to_owned(),
        Error::StateMismatch => "This sign-in was not started from this browser, or it took too long. Please sign in again.".to_owned(),
        Error::SignInDeclined { .. } => {
            "The sign-in was cancelled or refused at Freedom ID. You can try again.".to_owned()
        }
    }
}

fn setting_names(error: &SettingsError) -> Vec<&'static str> {
    error
        .problems()
        .iter()
        .map(|problem| problem.setting.env_name())
        .collect()
}

/// The answer to a sign-in attempt: the redirect, or the error page for it.
pub fn login_answer(result: &Result<AuthorizationLink, Error>, accept: Option<&str>) -> Answer {
    match result {
        Ok(link) => redirect(link),
        Err(error) => problem(error.code(), &public_detail(error), prefers_html(accept)),
    }
}

/// `302` to sign in, for a browser that asked for a guarded page without a session.
pub fn sign_in_redirect(location: String) -> Answer {
    Answer {
        status: 302,
        headers: common_headers(("Location", location)),
        body: String::new(),
    }
}

/// `401 SIGN_IN_REQUIRED` with `WWW-Authenticate: FreedomID`, for API callers.
pub fn sign_in_required(wants_html: bool) -> Answer {
    problem(
        ErrorCode::SignInRequired,
        "Sign in with Freedom ID first.",
        wants_html,
    )
    .with_header("WWW-Authenticate", "FreedomID".to_owned())
}

/// `502 APP_UNREACHABLE`: the site behind the gate did not answer.
pub fn app_unreachable(wants_html: bool) -> Answer {
    problem(
        ErrorCode::AppUnreachable,
        "The site could not be reached. Please try again later.",
        wants_html,
    )
}

/// `204` for `POST /revoke`, whatever the id: the route never says whether it was known.
pub fn no_content() -> Answer {
    Answer {
        status: 204,
        headers: common_headers(("Content-Length", "0".to_owned())),
        body: String::new(),
    }
}

/// `405` naming the methods `allowed`.
pub fn method_not_allowed(allowed: &'static str, wants_html: bool) -> Answer {
    let detail = if allowed == "POST" {
        "This address only answers POST requests."
    } else if allowed == "GET" {
        "This address only answers GET requests."
    } else {
        "This address only answers GET and HEAD requests."
    };
    problem(ErrorCode::MethodNotAllowed, detail, wants_html)
        .with_header("Allow", allowed.to_owned())
}

/// `429` for a client over the rate limit; `Retry-After` in seconds.
pub fn rate_limited(wants_html: bool, retry_after_secs: u32) -> Answer {
    problem(
        ErrorCode::RateLimited,
        "Too many sign-in attempts from your address. Please wait a minute and try again.",
        wants_html,
    )
    .with_header("Retry-After", retry_after_secs.to_string())
}

/// `GET /healthz`: 200 when every setting is valid, else 503 naming (never showing) the bad ones.
pub fn healthz(settings: &Result<Settings, SettingsError>) -> Answer {
    match settings {
        Ok(_) => Answer::new(200, "application/json", "{\"status\":\"ok\"}".to_owned()),
        Err(error) => {
            let mut body = String::from("{\"status\":\"misconfigured\",\"problems\":[");
            for (index, name) in setting_names(error).into_iter().enumerate() {
                if index > 0 {
                    body.push(',');
                }
                write_string(&mut body, name);
            }
            body.push_str("]}");
            Answer::new(503, "application/json", body)
        }
    }
}

/// The one log line for a failed step on `route` (`/login`, `/callback`, ...): code, upstream
/// status, elapsed time, and for settings the reasons (which never hold a secret's value).
pub fn failure_log_line(
    route: &str,
    error: &Error,
    upstream_status: Option<u16>,
    elapsed_ms: f64,
) -> String {
    let status = upstream_status.map_or_else(|| "none".to_owned(), |s| s.to_string());
    // Whole milliseconds through integer formatting: float formatting costs 18 kB of wasm.
    let elapsed = elapsed_ms.max(0.0).round() as u64;
    let mut line = format!(
        "freedom-id-edge: {route} failed code={} upstream_status={status} elapsed_ms={elapsed}",
        error.code()
    );
    if let Error::Settings(settings) = error {
        line.push_str(&format!(" problems=\"{settings}\""));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authorize::trust_link;
    use crate::error::Malformed;
    use crate::url::AbsoluteUrl;

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
    fn routes_table() {
        let cases = [
            ("GET", "/login", Route::Login),
            ("HEAD", "/login", Route::Login),
            ("POST", "/login", Route::MethodNotAllowed("GET, HEAD")),
            ("PUT", "/login", Route::MethodNotAllowed("GET, HEAD")),
            ("GET", "/healthz", Route::Healthz),
            ("DELETE", "/healthz", Route::MethodNotAllowed("GET, HEAD")),
            ("GET", "/callback", Route::Callback),
            ("HEAD", "/callback", Route::MethodNotAllowed("GET")),
            ("POST", "/callback", Route::MethodNotAllowed("GET")),
            ("GET", "/session", Route::Session),
            ("HEAD", "/session", Route::Session),
            ("POST", "/logout", Route::Logout),
            ("GET", "/logout", Route::MethodNotAllowed("POST")),
            ("GET", "/login/", Route::NotFound),
            ("GET", "/LOGIN", Route::NotFound),
            ("GET", "/nope", Route::NotFound),
            ("POST", "/nope", Route::NotFound),
        ];
        for (method, path, expected) in cases {
            assert_eq!(route(method, path), expected, "{method} {path}");
        }
    }

    #[test]
    fn redirect_is_a_302_that_is_never_cached() {
        let answer = login_answer(&Ok(link()), None);
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
            login_answer(&Err(Error::UpstreamNetwork), None),
            login_answer(&Err(Error::UpstreamNetwork), Some("text/html")),
            healthz(&Settings::from_env(|_| None)),
            rate_limited(false, 60),
            problem(ErrorCode::StateMismatch, "x", true),
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
        let limited = rate_limited(false, 60);
        assert_eq!(
            (limited.status, limited.header("retry-after")),
            (429, Some("60"))
        );
        assert!(limited.body.contains("\"code\":\"RATE_LIMITED\""));
        let signed_in = session_status(Some((10, 20)));
        let body: serde_json::Value = serde_json::from_str(&signed_in.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"signedIn": true, "accessExpiresAt": 10, "refreshExpiresAt": 20})
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

    #[test]
    fn accept_negotiation_table() {
        let cases = [
            (None, false),
            (Some("*/*"), false),
            (Some("application/json"), false),
            (Some("text/html"), true),
            (
                Some("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
                true,
            ),
            (Some("application/json, text/html;q=0.5"), false),
            (
                Some("text/html;q=0.4, application/problem+json;q=0.5"),
                false,
            ),
            (Some("TEXT/HTML; q=1"), true),
            (Some("text/html, */*"), false),
            (Some("garbage;;;q=x,,"), false),
            (Some("text/html;q=0.001, */*;q=0"), true),
            (Some("text/html;q=0.9, application/json;q=0.899"), true),
            (Some("text/html;q=1.5, application/json;q=0.9"), true),
            (Some("text/html;q=0.5, application/json;q=abc"), false),
        ];
        for (accept, html) in cases {
            assert_eq!(prefers_html(accept), html, "{accept:?}");
        }
    }

    #[test]
    fn errors_are_problem_json_with_their_status_and_no_location() {
        let errors = [
            Error::UpstreamStatus { status: 401 },
            Error::UpstreamMalformed(Malformed::TooLarge),
            Error::UntrustedLink,
            Error::UpstreamNetwork,
            Error::UpstreamTimeout { timeout_ms: 5 },
        ];
        for error in errors {
            let answer = login_answer(&Err(error.clone()), Some("*/*"));
            assert_eq!(answer.status, error.code().http_status());
            assert_eq!(
                answer.header("content-type"),
                Some("application/problem+json")
            );
            assert_eq!(answer.header("location"), None);
            let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
            assert_eq!(body["code"], error.code().as_str());
            assert_eq!(body["status"], error.code().http_status());
            assert_eq!(body["title"], error.code().title());
            assert_eq!(
                body["type"],
                format!("urn:freedom-id-edge:error:{}", error.code())
            );
            assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
        }
    }

    #[test]
    fn qvalues_are_read_as_thousandths() {
        let cases = [
            ("0", Some(0)),
            ("0.5", Some(500)),
            ("0.25", Some(250)),
            ("0.125", Some(125)),
            ("1", Some(1000)),
            ("1.0", Some(1000)),
            ("1.000", Some(1000)),
            ("0.", Some(0)),
            ("1.5", None),
            ("2", None),
            ("0.1234", None),
            ("-0", None),
            ("0.x", None),
            ("", None),
            (".5", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_qvalue(text), expected, "{text:?}");
        }
    }

    #[test]
    fn browsers_get_an_html_page_with_a_way_back() {
        let answer = login_answer(&Err(Error::UpstreamNetwork), Some("text/html,*/*;q=0.8"));
        assert_eq!(answer.status, 502);
        assert_eq!(
            answer.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert!(answer
            .body
            .contains("<a class=\"button\" href=\"/login\">Try again</a>"));
        assert!(answer.body.contains("UPSTREAM_NETWORK"));
        let not_found = problem(ErrorCode::NotFound, "No <such> page.", true);
        assert!(not_found.body.contains("No &lt;such&gt; page."));
    }

    #[test]
    fn method_not_allowed_names_the_allowed_methods() {
        let answer = method_not_allowed("POST", false);
        assert_eq!(answer.status, 405);
        assert_eq!(answer.header("allow"), Some("POST"));
    }

    #[test]
    fn misconfiguration_names_settings_but_never_values() {
        let secret = "hunter2-secret";
        let settings = Settings::from_env(|name| match name {
            "FREEDOM_ID_CLIENT_SECRET" => Some(format!(" {secret}")),
            "FREEDOM_ID_GRANTS" => Some("Read.Email".to_owned()),
            _ => None,
        });
        let error = Error::Settings(settings.clone().unwrap_err());
        let answer = login_answer(&Err(error.clone()), None);
        assert_eq!(answer.status, 500);
        let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
        assert_eq!(body["code"], "MISCONFIGURED");
        assert_eq!(
            body["detail"],
            "The sign-in service is misconfigured: check FREEDOM_ID_CLIENT_ID, FREEDOM_ID_CLIENT_SECRET, FREEDOM_ID_REDIRECT_URI, FREEDOM_ID_GRANTS, FREEDOM_ID_SESSION_SECRET."
        );
        let health = healthz(&settings);
        assert_eq!(health.status, 503);
        assert_eq!(
            health.body,
            r#"{"status":"misconfigured","problems":["FREEDOM_ID_CLIENT_ID","FREEDOM_ID_CLIENT_SECRET","FREEDOM_ID_REDIRECT_URI","FREEDOM_ID_GRANTS","FREEDOM_ID_SESSION_SECRET"]}"#
        );
        let log = failure_log_line("/login", &error, None, 1.4);
        assert!(log.starts_with("freedom-id-edge: /login failed code=MISCONFIGURED upstream_status=none elapsed_ms=1 "), "{log}");
        for shown in [&answer.body, &health.body, &log] {
            assert!(!shown.contains("hunter2"), "{shown}");
        }
    }

    #[test]
    fn failure_log_line_has_code_status_and_time() {
        let line = failure_log_line(
            "/login",
            &Error::UpstreamStatus { status: 503 },
            Some(503),
            12.6,
        );
        assert_eq!(
            line,
            "freedom-id-edge: /login failed code=UPSTREAM_STATUS upstream_status=503 elapsed_ms=13"
        );
    }
}
