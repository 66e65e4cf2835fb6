//! The start page, in the visitor's language, and the `lang` cookie that keeps the choice.

use crate::web::answer::Answer;
use crate::web::i18n::{self, Lang};

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

#[cfg(test)]
mod tests {
    use crate::error::Error;
    use crate::web::*;

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
}
