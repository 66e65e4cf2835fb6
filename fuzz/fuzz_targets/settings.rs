//! Whatever the Worker's environment holds, reading the settings never panics; valid
//! settings build a well-formed request; and nothing shown (`Debug`, errors, `/healthz`)
//! ever depends on the client secret.
//!
//! Input: one value per setting, in `Setting::ALL` order, separated by 0xFF bytes (never
//! found in UTF-8); a value that is exactly 0xFE is "not set", missing values are not set,
//! and other invalid UTF-8 is read lossily.
#![no_main]

use freedom_id_edge::base::url::{AbsoluteUrl, Scheme};
use freedom_id_edge::config::grants::Grants;
use freedom_id_edge::config::settings::{ProblemReason, Setting, Settings, SettingsError};
use freedom_id_edge::config::values::StateMode;
use freedom_id_edge::freedom_id::authorize::AuthorizeRequest;
use freedom_id_edge::freedom_id::state::redirect_uri_with_state;
use freedom_id_edge::web as http;
use libfuzzer_sys::fuzz_target;

/// A valid secret that appears nowhere else, to compare against.
const OTHER_SECRET: &str = "fuzz-other-secret-value";

fuzz_target!(|data: &[u8]| {
    let mut values: Vec<Option<String>> = data
        .splitn(Setting::ALL.len(), |b| *b == 0xff)
        .map(|part| (part != [0xfe]).then(|| String::from_utf8_lossy(part).into_owned()))
        .collect();
    values.resize(Setting::ALL.len(), None);
    let value = |setting: Setting| {
        let index = Setting::ALL.iter().position(|s| *s == setting);
        index.and_then(|index| values.get(index).cloned().flatten())
    };

    if let Some(grants) = value(Setting::Grants) {
        check_grants(&grants);
    }

    let secret = value(Setting::ClientSecret);
    let result = read(&values, secret.as_deref());
    match &result {
        // Any text at all as the caller's own `state` value.
        Ok(settings) => check_settings(settings, &String::from_utf8_lossy(data)),
        Err(error) => assert!(!error.problems().is_empty()),
    }

    // Nothing shown may depend on the secret: read the same environment with another
    // secret that has the same fate (valid, or refused for the same reason), and compare.
    let other_secret = match &result {
        Ok(_) => Some(OTHER_SECRET),
        Err(error) => match secret_problem(error) {
            None => Some(OTHER_SECRET),
            Some(ProblemReason::Missing) => secret.as_deref().map(|_| ""),
            Some(ProblemReason::ControlCharacter) => Some("\u{1}"),
            Some(ProblemReason::SurroundingWhitespace) => Some(" x"),
            Some(other) => panic!("the secret refused for {other:?}"),
        },
    };
    let other = read(&values, other_secret);
    let shown = show(&result);
    assert_eq!(shown, show(&other), "what is shown depends on the secret");
    // The plain form of the same check: a long secret found nowhere else is never shown.
    if let Some(secret) = secret.filter(|s| s.len() >= 8) {
        let elsewhere = values.iter().flatten().filter(|v| **v != secret);
        let found_elsewhere = elsewhere
            .chain([&show(&other)])
            .any(|text| text.contains(&secret));
        if !found_elsewhere {
            assert!(!shown.contains(&secret), "the secret is shown");
        }
    }
});

/// `Settings::from_env` over `values`, the client secret replaced by `secret`.
fn read(values: &[Option<String>], secret: Option<&str>) -> Result<Settings, SettingsError> {
    Settings::from_env(|name| {
        let setting = *Setting::ALL.iter().find(|s| s.env_name() == name)?;
        if setting == Setting::ClientSecret {
            return secret.map(str::to_owned);
        }
        let index = Setting::ALL.iter().position(|s| *s == setting)?;
        values.get(index).cloned().flatten()
    })
}

fn secret_problem(error: &SettingsError) -> Option<ProblemReason> {
    error
        .problems()
        .iter()
        .find(|p| p.setting == Setting::ClientSecret)
        .map(|p| p.reason.clone())
}

/// Everything the crate can show about a settings result: `Debug` of the settings and of
/// the request, or the error's `Display`, `Debug` and both descriptions; and `/healthz`.
fn show(result: &Result<Settings, SettingsError>) -> String {
    let health = http::healthz(result);
    let details = match result {
        Ok(settings) => {
            let request = AuthorizeRequest::new(settings, None);
            format!("{settings:?} {request:?}")
        }
        Err(error) => format!(
            "{error} {error:?} {} {}",
            error.describe(Setting::env_name),
            error.describe(Setting::option_name)
        ),
    };
    format!(
        "{details} {} {:?} {}",
        health.status, health.headers, health.body
    )
}

fn check_grants(text: &str) {
    let Ok(grants) = Grants::parse_list(text) else {
        return;
    };
    let names: Vec<&str> = grants.iter().map(|g| g.as_str()).collect();
    assert!(!names.is_empty());
    for (index, name) in names.iter().enumerate() {
        assert!(!names[..index].contains(name), "{name} twice");
        let valid_part = |part: &str| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        };
        let valid = *name == "openid"
            || name
                .split_once('.')
                .is_some_and(|(level, code)| valid_part(level) && valid_part(code));
        assert!(valid, "{name:?}");
    }
    // Reading its own output gives the same grants.
    let again = Grants::parse_list(&names.join(" ")).expect("a valid list reads again");
    assert_eq!(again, grants);
}

fn check_settings(settings: &Settings, state: &str) {
    for url in [&settings.redirect_uri, &settings.authorize_url] {
        assert!(url.scheme() == Scheme::Https || url.is_loopback());
        assert!(!url.has_fragment());
        assert_eq!(AbsoluteUrl::parse(url.as_str()).as_ref(), Ok(url));
    }
    assert!((1..=60_000).contains(&settings.timeout_ms));
    assert!(!settings.client_id.as_str().contains(':'));

    let redirect_uri = settings.redirect_uri.as_str();
    let with_state = redirect_uri_with_state(redirect_uri, state);
    let parsed = AbsoluteUrl::parse(&with_state).expect("a redirect URI with state parses");
    assert!(parsed.same_origin(&settings.redirect_uri), "{with_state}");
    assert!(!parsed.has_fragment());
    assert!(with_state.starts_with(redirect_uri));
    // Whenever a state is added, the configured redirect URI has none of its own (settings
    // refuse one: the bug this target found), so the added state is the one that reads back.
    if settings.state != StateMode::Off {
        assert!(
            !settings.redirect_uri.has_query_param("state"),
            "{redirect_uri}"
        );
    }
    if !settings.redirect_uri.has_query_param("state") {
        assert_eq!(parsed.query_param("state").as_deref(), Some(state));
    }

    for (given, sent) in [(None, redirect_uri), (Some(state), with_state.as_str())] {
        let request = AuthorizeRequest::new(settings, given);
        assert_eq!(request.url, settings.authorize_url.as_str());
        assert!(request.body.starts_with("{\"redirect_uri\":"));
        assert!(request.body.ends_with("]}"));
        let body: serde_json::Value =
            serde_json::from_str(&request.body).expect("the request body is JSON");
        assert_eq!(body["redirect_uri"], sent);
        let grants: Vec<&str> = settings.grants.iter().map(|g| g.as_str()).collect();
        assert_eq!(body["grants"], serde_json::json!(grants));
        assert_eq!(body.as_object().map(|o| o.len()), Some(2));
    }
}
