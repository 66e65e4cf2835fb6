//! The Worker's HTTP answers, decided as plain data so `cargo test` can check them natively.
//! `worker.rs` only copies an [`Answer`] into a `worker::Response`.

use crate::base::json::write_string;
use crate::base::text::{html_escape, parse_qvalue};
use crate::config::settings::{Settings, SettingsError};
use crate::error::{Error, ErrorCode};
use crate::freedom_id::authorize::AuthorizationLink;
use crate::web::i18n::{self, Lang};

/// The routes the Worker handles itself. Static files in `www/` are served before the
/// Worker runs, so a [`Route::NotFound`] here means no file matched either.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Route {
    /// `GET`/`HEAD /`: the start page, in the visitor's language.
    Home,
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
        "/" => (Route::Home, "GET, HEAD"),
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

/// Who an answer is for: a browser (HTML) or a program (JSON), and in which language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Client {
    /// Whether `Accept` prefers HTML.
    pub html: bool,
    /// The language of HTML pages (`lang` cookie, then `Accept-Language`, then English).
    pub lang: Lang,
    /// The language of a problem+json `detail`: only what `Accept-Language` asks for.
    pub json_lang: Lang,
}

impl Client {
    /// Reads `Accept`, `Accept-Language` and the `lang` cookie.
    pub fn new(
        accept: Option<&str>,
        accept_language: Option<&str>,
        lang_cookie: Option<&str>,
    ) -> Client {
        Client {
            html: prefers_html(accept),
            lang: i18n::choose(None, lang_cookie, accept_language),
            json_lang: i18n::from_accept_language(accept_language).unwrap_or(Lang::En),
        }
    }

    /// An English client, HTML or not.
    pub fn english(html: bool) -> Client {
        Client {
            html,
            lang: Lang::En,
            json_lang: Lang::En,
        }
    }
}

/// A text for a person: its key in the language tables and the values it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The key (`detail.*`).
    pub key: &'static str,
    /// `{name}` values (never a secret: setting names, statuses).
    pub values: Vec<(&'static str, String)>,
}

impl Message {
    /// A message without values.
    pub fn new(key: &'static str) -> Message {
        Message {
            key,
            values: Vec::new(),
        }
    }

    /// The message in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        let values: Vec<(&str, &str)> = self
            .values
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        i18n::fill(lang.text(self.key), &values)
    }
}

/// The error answer for `code`: problem+json (RFC 9457) by default, with an English
/// `title` and a `detail` in the language `Accept-Language` asks for; a small HTML page in
/// the client's language when it prefers HTML. A message holds nothing secret.
pub fn problem(code: ErrorCode, message: &Message, client: &Client) -> Answer {
    let status = code.http_status();
    let (answer, lang) = if client.html {
        let page = problem_html(code, message, client.lang);
        (
            Answer::new(status, "text/html; charset=utf-8", page),
            client.lang,
        )
    } else {
        let detail = message.text(client.json_lang);
        let body = problem_json(code, &detail);
        (
            Answer::new(status, "application/problem+json", body),
            client.json_lang,
        )
    };
    answer
        .with_header("Content-Language", lang.tag().to_owned())
        .with_header("Vary", "Accept, Accept-Language, Cookie".to_owned())
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

/// The HTML error page, with a way on: back to sign in, or to the start page.
const PROBLEM_PAGE: &str = include_str!("pages/problem.html");

fn problem_html(code: ErrorCode, message: &Message, lang: Lang) -> String {
    let (href, label) = match code {
        ErrorCode::NotFound | ErrorCode::MethodNotAllowed => ("/", "page.start_page"),
        _ => ("/login", "page.try_again"),
    };
    let title = html_escape(lang.text(code.title_key()));
    PROBLEM_PAGE
        .replace("{lang}", lang.tag())
        .replace("{title}", &title)
        .replace("{detail}", &html_escape(&message.text(lang)))
        .replace(
            "{error_code_label}",
            &html_escape(lang.text("page.error_code")),
        )
        .replace("{code}", code.as_str())
        .replace("{status}", &code.http_status().to_string())
        .replace("{href}", href)
        .replace("{action}", &html_escape(lang.text(label)))
}

/// The public message for a failed step. It names no value, no upstream body and, for
/// settings, only the names of the bad settings.
pub fn public_detail(error: &Error) -> Message {
    match error {
        Error::Settings(settings) => Message {
            key: "detail.misconfigured",
            values: vec![("settings", setting_names(settings).join(", "))],
        },
        Error::UpstreamStatus { status } => Message {
            key: "detail.upstream_status",
            values: vec![("status", status.to_string())],
        },
        Error::UpstreamMalformed(_) => Message::new("detail.upstream_malformed"),
        Error::UntrustedLink => Message::new("detail.untrusted_link"),
        Error::UpstreamNetwork => Message::new("detail.upstream_network"),
        Error::UpstreamTimeout { .. } => Message::new("detail.upstream_timeout"),
        Error::CodeRejected { .. } | Error::CallbackWithoutCode => {
            Message::new("detail.code_rejected")
        }
        Error::RefreshRejected { .. } => Message::new("detail.refresh_rejected"),
        Error::StateMismatch => Message::new("detail.state_mismatch"),
        Error::SignInDeclined { .. } => Message::new("detail.sign_in_declined"),
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
pub fn login_answer(result: &Result<AuthorizationLink, Error>, client: &Client) -> Answer {
    match result {
        Ok(link) => redirect(link),
        Err(error) => problem(error.code(), &public_detail(error), client),
    }
}

/// The start page (`src/pages/start.html`).
const START_PAGE: &str = include_str!("pages/start.html");

/// `GET /` in `lang`: the demo's start page, with its language switcher. It reads the
/// session itself (`/session`, from `app.js`), so it holds no per-user data.
pub fn start_page(lang: Lang) -> Answer {
    let mut switcher = String::new();
    for other in Lang::ALL {
        let current = if other == lang {
            " aria-current=\"true\""
        } else {
            ""
        };
        switcher.push_str(&format!(
            "<a href=\"/?lang={tag}\" hreflang=\"{tag}\" lang=\"{tag}\"{current}>{name}</a> ",
            tag = other.tag(),
            name = other.own_name(),
        ));
    }
    let page = i18n::render(
        &START_PAGE.replace("{{languages_html}}", switcher.trim_end()),
        lang,
    );
    Answer::new(200, "text/html; charset=utf-8", page)
        .with_header("Content-Language", lang.tag().to_owned())
        .with_header("Vary", "Accept-Language, Cookie".to_owned())
        .with_header("Referrer-Policy", "no-referrer".to_owned())
}

/// `Set-Cookie` keeping a language chosen with `?lang=` for a year (not secret, not `__Host-`:
/// any page of the site may read it).
pub fn lang_cookie(lang: Lang) -> String {
    format!(
        "{}={}; Path=/; Secure; SameSite=Lax; Max-Age=31536000",
        i18n::LANG_COOKIE,
        lang.tag()
    )
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
pub fn sign_in_required(client: &Client) -> Answer {
    problem(
        ErrorCode::SignInRequired,
        &Message::new("detail.sign_in_required"),
        client,
    )
    .with_header("WWW-Authenticate", "FreedomID".to_owned())
}

/// `502 APP_UNREACHABLE`: the site behind the gate did not answer.
pub fn app_unreachable(client: &Client) -> Answer {
    problem(
        ErrorCode::AppUnreachable,
        &Message::new("detail.app_unreachable"),
        client,
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
pub fn method_not_allowed(allowed: &'static str, client: &Client) -> Answer {
    let key = match allowed {
        "POST" => "detail.only_post",
        "GET" => "detail.only_get",
        _ => "detail.only_get_head",
    };
    problem(ErrorCode::MethodNotAllowed, &Message::new(key), client)
        .with_header("Allow", allowed.to_owned())
}

/// `429` for a client over the rate limit; `Retry-After` in seconds.
pub fn rate_limited(client: &Client, retry_after_secs: u32) -> Answer {
    problem(
        ErrorCode::RateLimited,
        &Message::new("detail.rate_limited"),
        client,
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

/// The names (never the values) of the settings at fault.
pub fn problem_names(error: &SettingsError) -> Vec<&'static str> {
    setting_names(error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::url::AbsoluteUrl;
    use crate::error::Malformed;
    use crate::freedom_id::authorize::trust_link;

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
            let answer = login_answer(&Err(error.clone()), &Client::english(false));
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
        let answer = login_answer(&Err(Error::UpstreamNetwork), &Client::english(true));
        assert_eq!(answer.status, 502);
        assert_eq!(
            answer.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert!(answer
            .body
            .contains("<a class=\"button\" href=\"/login\">Try again</a>"));
        assert!(answer.body.contains("UPSTREAM_NETWORK"));
        let escaped = Message {
            key: "detail.misconfigured",
            values: vec![("settings", "<SUCH>".to_owned())],
        };
        let page = problem(ErrorCode::Misconfigured, &escaped, &Client::english(true));
        assert!(page.body.contains("check &lt;SUCH&gt;."), "{}", page.body);
        let not_found = problem(
            ErrorCode::NotFound,
            &Message::new("detail.not_found"),
            &Client::english(true),
        );
        assert!(not_found
            .body
            .contains("<a class=\"button\" href=\"/\">Go to the start page</a>"));
    }

    #[test]
    fn pages_speak_the_client_s_language_and_json_stays_english_unless_asked() {
        let kazakh = Client::new(Some("text/html"), Some("kk-KZ,kk;q=0.9,ru;q=0.8"), None);
        let page = login_answer(&Err(Error::UpstreamTimeout { timeout_ms: 5 }), &kazakh);
        assert!(
            page.body.starts_with("<!doctype html>\n<html lang=\"kk\">"),
            "{}",
            page.body
        );
        assert!(page.body.contains("Freedom ID уақытында жауап бермеді"));
        assert!(page.body.contains("Қайталап көру"));
        assert_eq!(page.header("content-language"), Some("kk"));
        assert!(page
            .header("vary")
            .is_some_and(|v| v.contains("Accept-Language")));
        let cookie_wins = Client::new(Some("text/html"), Some("kk"), Some("ru"));
        assert!(login_answer(&Err(Error::UpstreamNetwork), &cookie_wins)
            .body
            .contains("lang=\"ru\""));

        let russian_api = Client::new(Some("application/json"), Some("ru"), None);
        let json = login_answer(&Err(Error::UpstreamStatus { status: 503 }), &russian_api);
        let body: serde_json::Value = serde_json::from_str(&json.body).unwrap();
        assert_eq!(
            body["title"], "Freedom ID answered with an error",
            "titles stay English"
        );
        assert_eq!(
            body["detail"],
            "Freedom ID ответил с кодом HTTP 503. Попробуйте позже."
        );
        assert_eq!(json.header("content-language"), Some("ru"));
        // The lang cookie is for pages: an API caller without Accept-Language gets English.
        let cookie_only = Client::new(Some("application/json"), None, Some("kk"));
        let json = login_answer(&Err(Error::UpstreamNetwork), &cookie_only);
        let body: serde_json::Value = serde_json::from_str(&json.body).unwrap();
        assert_eq!(
            body["detail"],
            "Freedom ID could not be reached. Please try again later."
        );
        assert_eq!(json.header("content-language"), Some("en"));
    }

    #[test]
    fn method_not_allowed_names_the_allowed_methods() {
        let answer = method_not_allowed("POST", &Client::english(false));
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
        let answer = login_answer(&Err(error.clone()), &Client::english(false));
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
        for shown in [&answer.body, &health.body] {
            assert!(!shown.contains("hunter2"), "{shown}");
        }
    }
}
