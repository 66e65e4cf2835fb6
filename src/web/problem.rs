//! Error answers: problem+json (RFC 9457) for programs, a small HTML page for browsers, and
//! the public text of each failure (never a value, an upstream body or a secret).

use serde::Serialize;

use crate::base::json;
use crate::base::text::html_escape;
use crate::error::{Error, ErrorCode};
use crate::freedom_id::authorize::AuthorizationLink;
use crate::web::answer::redirect;
use crate::web::answer::{Answer, HTML_CSP};
use crate::web::i18n::{self, Lang};
use crate::web::negotiate::Client;
use crate::web::route::Allow;

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

/// A problem+json body (RFC 9457), with our stable `code` beside the standard members.
#[derive(Serialize)]
struct ProblemJson<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'static str,
    status: u16,
    code: &'static str,
    detail: &'a str,
}

fn problem_json(code: ErrorCode, detail: &str) -> String {
    json::to_string(&ProblemJson {
        kind: problem_type(code),
        title: code.title(),
        status: code.http_status(),
        code: code.as_str(),
        detail,
    })
}

/// The HTML error page, with a way on: back to sign in, or to the start page.
const PROBLEM_PAGE: &str = include_str!("pages/problem.html");

fn problem_html(code: ErrorCode, message: &Message, lang: Lang) -> String {
    let (href, label) = match code {
        ErrorCode::NotFound | ErrorCode::MethodNotAllowed => ("/", "page.start_page"),
        _ => ("/login", "page.try_again"),
    };
    let action = format!(
        "<p><a class=\"button\" href=\"{href}\">{}</a></p>",
        html_escape(lang.text(label))
    );
    page_html(code, message, lang, &action)
}

/// `403 ACCESS_DENIED` for a signed-in user `FREEDOM_ID_ALLOW` does not let through: for a
/// browser a page with "Sign out" and "Sign in with another account" (which signs out, then
/// starts a sign-in that comes back to `return_to`, a local path); problem+json otherwise.
/// `sign_in_origin` is where `/login` sends the browser (Freedom ID's origin): the page's
/// `form-action` must allow it too, since browsers hold every redirect after a form post to
/// that rule.
pub fn access_denied(return_to: &str, sign_in_origin: &str, client: &Client) -> Answer {
    let code = ErrorCode::AccessDenied;
    let message = Message::new("detail.access_denied");
    if !client.html {
        return problem(code, &message, client);
    }
    let lang = client.lang;
    let again = crate::base::url::append_query_param("/logout?then=login", "return_to", return_to);
    let actions = format!(
        "<div class=\"actions\">\
<form method=\"post\" action=\"/logout\"><button type=\"submit\" class=\"button button-secondary\" id=\"sign-out\">{sign_out}</button></form>\
<form method=\"post\" action=\"{again}\"><button type=\"submit\" class=\"button\" id=\"sign-in-again\">{sign_in_again}</button></form>\
</div>",
        sign_out = html_escape(lang.text("start.sign_out")),
        again = html_escape(&again),
        sign_in_again = html_escape(lang.text("page.sign_in_again")),
    );
    let csp = HTML_CSP.replace(
        "form-action 'self'",
        &format!("form-action 'self' {sign_in_origin}"),
    );
    Answer::new(
        code.http_status(),
        "text/html; charset=utf-8",
        page_html(code, &message, lang, &actions),
    )
    .with_header_replaced("Content-Security-Policy", csp)
    .with_header("Content-Language", lang.tag().to_owned())
    .with_header("Vary", "Accept, Accept-Language, Cookie".to_owned())
}

/// The HTML error page with `actions_html` (trusted markup) as its way on.
fn page_html(code: ErrorCode, message: &Message, lang: Lang, actions_html: &str) -> String {
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
        .replace("{actions_html}", actions_html)
}

/// The public message for a failed step. It names no value, no upstream body and, for
/// settings, only the names of the bad settings.
pub fn public_detail(error: &Error) -> Message {
    match error {
        Error::Settings(settings) => Message {
            key: "detail.misconfigured",
            values: vec![("settings", settings.setting_names().join(", "))],
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
        Error::IdTokenInvalid { .. } => Message::new("detail.id_token_invalid"),
        Error::UserinfoRejected { .. } => Message::new("detail.userinfo_rejected"),
    }
}

/// The answer to a sign-in attempt: the redirect, or the error page for it.
pub fn login_answer(result: &Result<AuthorizationLink, Error>, client: &Client) -> Answer {
    match result {
        Ok(link) => redirect(link),
        Err(error) => problem(error.code(), &public_detail(error), client),
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

/// `405` naming the methods `allowed`.
pub fn method_not_allowed(allowed: Allow, client: &Client) -> Answer {
    problem(
        ErrorCode::MethodNotAllowed,
        &Message::new(allowed.message_key()),
        client,
    )
    .with_header("Allow", allowed.header().to_owned())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::settings::Settings;
    use crate::error::Malformed;
    use crate::web::*;

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
    fn method_not_allowed_names_the_allowed_methods() {
        let answer = method_not_allowed(Allow::Post, &Client::english(false));
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
