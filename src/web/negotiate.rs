//! Who an answer is for: `Accept` (HTML or JSON) and the language.

use crate::base::text::parse_qvalue;
use crate::web::i18n::{self, Lang};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
