//! People's pages in Kazakh, Russian and English: which language a request gets, and the
//! texts. One table per language (`kk.rs`, `ru.rs`, `en.rs`), the same keys in each (a test
//! checks). Machines read codes, so problem+json stays English unless `Accept-Language` asks
//! otherwise, and then only its `detail` changes.

mod en;
mod kk;
mod ru;

/// A language the pages are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lang {
    /// English, the fallback.
    En,
    /// Kazakh.
    Kk,
    /// Russian.
    Ru,
}

/// The `lang` cookie that keeps a choice made with `?lang=`.
pub const LANG_COOKIE: &str = "lang";

impl Lang {
    /// Every language, in the order the switcher shows them.
    pub const ALL: [Lang; 3] = [Lang::Kk, Lang::Ru, Lang::En];

    /// The BCP 47 tag: `kk`, `ru`, `en`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Kk => "kk",
            Lang::Ru => "ru",
        }
    }

    /// The language's own name, for the switcher.
    pub fn own_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Kk => "Қазақша",
            Lang::Ru => "Русский",
        }
    }

    /// `kk`, `ru` or `en` (any case); anything else is `None`.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        Lang::ALL
            .into_iter()
            .find(|lang| lang.tag().eq_ignore_ascii_case(tag))
    }

    fn table(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Lang::En => en::TEXTS,
            Lang::Kk => kk::TEXTS,
            Lang::Ru => ru::TEXTS,
        }
    }

    /// The text for `key`; English if this language lacks it (a test makes sure none does),
    /// the key itself if English does too.
    pub fn text(self, key: &'static str) -> &'static str {
        lookup(self.table(), key)
            .or_else(|| lookup(en::TEXTS, key))
            .unwrap_or(key)
    }
}

fn lookup(table: &'static [(&'static str, &'static str)], key: &str) -> Option<&'static str> {
    table
        .iter()
        .find_map(|(name, text)| (*name == key).then_some(*text))
}

/// The language `Accept-Language` asks for among ours, quality values honoured (`kk-KZ`
/// counts as `kk`; `*` as English); `None` when it names none of them, or is absent.
pub fn from_accept_language(header: Option<&str>) -> Option<Lang> {
    let mut best: Option<(u16, Lang)> = None;
    for item in header?.split(',') {
        let mut parts = item.split(';');
        let range = parts.next().unwrap_or("").trim();
        let quality = parts
            .filter_map(|param| {
                let (key, value) = param.split_once('=')?;
                (key.trim() == "q").then(|| crate::base::text::parse_qvalue(value.trim()))?
            })
            .next()
            .unwrap_or(1000);
        let primary = range.split('-').next().unwrap_or("");
        let lang = if primary == "*" {
            Some(Lang::En)
        } else {
            Lang::from_tag(primary)
        };
        if let Some(lang) = lang {
            // Ties keep the first listed.
            if quality > 0 && best.is_none_or(|(q, _)| quality > q) {
                best = Some((quality, lang));
            }
        }
    }
    best.map(|(_, lang)| lang)
}

/// The language of a page: `?lang=` (demo pages), then the `lang` cookie, then
/// `Accept-Language`, then English.
pub fn choose(query: Option<&str>, cookie: Option<&str>, accept_language: Option<&str>) -> Lang {
    query
        .and_then(Lang::from_tag)
        .or_else(|| cookie.and_then(Lang::from_tag))
        .or_else(|| from_accept_language(accept_language))
        .unwrap_or(Lang::En)
}

/// `text` with each `{name}` replaced by its value.
pub fn fill(text: &str, values: &[(&str, &str)]) -> String {
    let mut out = text.to_owned();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// A page template with `{{key}}` placeholders filled from `lang`'s table: `_html` texts as
/// markup, the others HTML-escaped. `{{lang}}` is the language tag.
pub fn render(template: &str, lang: Lang) -> String {
    let mut out = String::with_capacity(template.len() + template.len() / 2);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let (before, after) = rest.split_at(start);
        out.push_str(before);
        let Some(end) = after.find("}}") else {
            out.push_str(after);
            return out;
        };
        let key = after.get(2..end).unwrap_or("");
        if key == "lang" {
            out.push_str(lang.tag());
        } else if let Some(text) = lookup(lang.table(), key).or_else(|| lookup(en::TEXTS, key)) {
            if key.ends_with("_html") {
                out.push_str(text);
            } else {
                out.push_str(&crate::base::text::html_escape(text));
            }
        }
        rest = after.get(end + 2..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(lang: Lang) -> Vec<&'static str> {
        let mut keys: Vec<&str> = lang.table().iter().map(|(key, _)| *key).collect();
        keys.sort_unstable();
        keys
    }

    fn placeholders(text: &str) -> Vec<&str> {
        text.split('{')
            .skip(1)
            .filter_map(|part| part.split_once('}').map(|(name, _)| name))
            .collect()
    }

    #[test]
    fn every_key_exists_in_all_three_languages_with_the_same_placeholders() {
        let english = keys(Lang::En);
        let mut unique = english.clone();
        unique.dedup();
        assert_eq!(
            unique.len(),
            english.len(),
            "a key is listed twice in English"
        );
        for lang in [Lang::Kk, Lang::Ru] {
            assert_eq!(keys(lang), english, "{lang:?} has other keys than English");
            for (key, text) in lang.table() {
                assert!(!text.trim().is_empty(), "{lang:?} {key} is empty");
                assert_eq!(
                    placeholders(text),
                    placeholders(Lang::En.text(key)),
                    "{lang:?} {key}"
                );
                assert_eq!(
                    text.matches('<').count(),
                    Lang::En.text(key).matches('<').count(),
                    "{lang:?} {key} markup"
                );
            }
        }
        for code in crate::error::ErrorCode::ALL {
            let key = format!("title.{}", code.as_str());
            assert!(lookup(en::TEXTS, &key).is_some(), "no {key}");
        }
    }

    #[test]
    fn accept_language_table() {
        let cases = [
            (None, None),
            (Some(""), None),
            (Some("kk"), Some(Lang::Kk)),
            (Some("kk-KZ,kk;q=0.9,ru;q=0.8"), Some(Lang::Kk)),
            (Some("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7"), Some(Lang::Ru)),
            (Some("de-DE,de;q=0.9"), None),
            (Some("de, ru;q=0.5, kk;q=0.7"), Some(Lang::Kk)),
            (Some("en;q=0.3, ru;q=0.3"), Some(Lang::En)),
            (Some("ru;q=0, kk;q=0.1"), Some(Lang::Kk)),
            (Some("fr, *;q=0.1"), Some(Lang::En)),
            (Some("RU"), Some(Lang::Ru)),
            // A malformed q counts as the default 1, as for `Accept`.
            (Some("ru;q=abc"), Some(Lang::Ru)),
        ];
        for (header, lang) in cases {
            assert_eq!(from_accept_language(header), lang, "{header:?}");
        }
    }

    #[test]
    fn query_then_cookie_then_header_then_english() {
        assert_eq!(choose(Some("kk"), Some("ru"), Some("en")), Lang::Kk);
        assert_eq!(choose(Some("xx"), Some("ru"), Some("en")), Lang::Ru);
        assert_eq!(choose(None, None, Some("ru")), Lang::Ru);
        assert_eq!(choose(None, Some("nope"), Some("de")), Lang::En);
    }

    #[test]
    fn templates_are_filled_and_escaped() {
        let page = render(
            "<html lang=\"{{lang}}\"><h1>{{start.title}}</h1>{{start.how_5_html}}{{nope}}",
            Lang::Ru,
        );
        assert!(
            page.starts_with("<html lang=\"ru\"><h1>Демо входа через Freedom ID</h1>"),
            "{page}"
        );
        assert!(page.contains("<strong>Выйти</strong>"));
        assert!(!page.contains("{{"));
        let escaped = render("{{start.signed_out}}", Lang::En);
        assert_eq!(escaped, "You\u{2019}re not signed in.");
        assert_eq!(fill("HTTP {status}.", &[("status", "503")]), "HTTP 503.");
    }
}
