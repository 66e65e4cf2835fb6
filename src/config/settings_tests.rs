//! The settings table's tests: defaults, each bad value naming its setting, JavaScript
//! inputs under the same rules, and nothing secret in a message.

use super::*;
use crate::base::url::UrlError;
use crate::config::grants::GrantError;
use crate::config::values::{DEFAULT_AUTHORIZE_URL, DEFAULT_TIMEOUT_MS, MIN_SESSION_SECRET_LEN};

use std::collections::HashMap;

const SECRET: &str = "s3cr3t-value-never-printed";
const SESSION_KEY: &str = "session-key-of-at-least-thirty-two-chars";

fn env(overrides: &[(&str, Option<&str>)]) -> Result<Settings, SettingsError> {
    let mut vars: HashMap<&str, &str> = HashMap::from([
        ("FREEDOM_ID_CLIENT_ID", "demo-client"),
        ("FREEDOM_ID_CLIENT_SECRET", SECRET),
        (
            "FREEDOM_ID_REDIRECT_URI",
            "https://app.example.com/callback",
        ),
        ("FREEDOM_ID_GRANTS", "openid read.email"),
        ("FREEDOM_ID_SESSION_SECRET", SESSION_KEY),
    ]);
    for (name, value) in overrides {
        match value {
            Some(value) => vars.insert(name, value),
            None => vars.remove(name),
        };
    }
    Settings::from_env(|name| vars.get(name).map(|v| v.to_string()))
}

fn bad_settings(result: Result<Settings, SettingsError>) -> Vec<(Setting, ProblemReason)> {
    result
        .expect_err("settings should be refused")
        .problems()
        .iter()
        .map(|p| (p.setting, p.reason.clone()))
        .collect()
}

#[test]
fn npm_values_are_the_absent_values() {
    let rows = npm_values();
    assert_eq!(rows.len(), 12);
    for (setting, parsed, npm) in rows {
        assert_eq!(parsed, npm, "{setting:?}");
    }
}

#[test]
fn the_worker_only_settings_are_the_npm_rows() {
    let marked: Vec<Setting> = npm_values()
        .into_iter()
        .map(|(setting, ..)| setting)
        .collect();
    for setting in Setting::ALL {
        assert_eq!(
            setting.worker_only(),
            marked.contains(setting),
            "{setting:?}"
        );
    }
    assert!(Setting::Allow.worker_only());
    assert!(!Setting::ClientId.worker_only());
}

#[test]
fn minimal_environment_uses_the_documented_defaults() {
    let settings = env(&[]).unwrap();
    assert_eq!(settings.authorize_url.as_str(), DEFAULT_AUTHORIZE_URL);
    assert_eq!(settings.timeout_ms, DEFAULT_TIMEOUT_MS);
    assert_eq!(settings.client_id.as_str(), "demo-client");
    assert_eq!(
        settings.redirect_uri.as_str(),
        "https://app.example.com/callback"
    );
}

#[test]
fn state_binding_is_on_unless_switched_off() {
    assert_eq!(env(&[]).unwrap().state, StateMode::Bind);
    assert_eq!(
        env(&[("FREEDOM_ID_STATE", Some("on"))]).unwrap().state,
        StateMode::Bind
    );
    assert_eq!(
        env(&[("FREEDOM_ID_STATE", Some("off"))]).unwrap().state,
        StateMode::Off
    );
}

#[test]
fn session_token_and_landing_settings() {
    let settings = env(&[]).unwrap();
    assert_eq!(
        settings.token_url.as_str(),
        crate::config::values::DEFAULT_TOKEN_URL
    );
    assert_eq!(settings.after_sign_in, "/");
    assert_eq!(settings.session_keys.len(), 1);
    let two = format!("{SESSION_KEY}-new {SESSION_KEY}");
    let rotated = env(&[
        ("FREEDOM_ID_SESSION_SECRET", Some(two.as_str())),
        ("FREEDOM_ID_TOKEN_URL", Some("http://127.0.0.1:9/token")),
        ("FREEDOM_ID_AFTER_SIGN_IN", Some("/app?welcome=1")),
    ])
    .unwrap();
    assert_eq!(rotated.session_keys.len(), 2);
    assert!(
        rotated.session_keys[0].secret().ends_with("-new"),
        "the first key seals"
    );
    assert_eq!(rotated.token_url.as_str(), "http://127.0.0.1:9/token");
    assert_eq!(rotated.after_sign_in, "/app?welcome=1");
    let short = "x".repeat(MIN_SESSION_SECRET_LEN - 1);
    let three = format!("{SESSION_KEY} {SESSION_KEY} {SESSION_KEY}");
    let double_space = format!("{SESSION_KEY}  {SESSION_KEY}");
    for (name, value, reason) in [
        ("FREEDOM_ID_SESSION_SECRET", None, ProblemReason::Missing),
        (
            "FREEDOM_ID_SESSION_SECRET",
            Some(short.as_str()),
            ProblemReason::SessionSecret,
        ),
        (
            "FREEDOM_ID_SESSION_SECRET",
            Some(three.as_str()),
            ProblemReason::SessionSecret,
        ),
        (
            "FREEDOM_ID_SESSION_SECRET",
            Some(double_space.as_str()),
            ProblemReason::SessionSecret,
        ),
        (
            "FREEDOM_ID_AFTER_SIGN_IN",
            Some("//evil.com"),
            ProblemReason::LocalPath,
        ),
        (
            "FREEDOM_ID_AFTER_SIGN_IN",
            Some("https://evil.com/"),
            ProblemReason::LocalPath,
        ),
        (
            "FREEDOM_ID_TOKEN_URL",
            Some("http://evil.com/token"),
            ProblemReason::HttpNotLoopback,
        ),
    ] {
        let setting = *Setting::ALL.iter().find(|s| s.env_name() == name).unwrap();
        assert_eq!(
            bad_settings(env(&[(name, value)])),
            vec![(setting, reason)],
            "{name}={value:?}"
        );
    }
    let off = env(&[
        ("FREEDOM_ID_STATE", Some("off")),
        ("FREEDOM_ID_SESSION_SECRET", None),
    ])
    .unwrap();
    assert!(
        off.session_keys.is_empty(),
        "link-only mode keeps no session"
    );
    let shown = format!("{rotated:?}");
    assert!(!shown.contains(SESSION_KEY), "{shown}");
}

#[test]
fn a_redirect_uri_with_its_own_state_is_refused_while_state_is_added() {
    // Found by the settings fuzz target: two `state` parameters made every return a mismatch.
    for uri in [
        "https://app.example.com/cb?state=x",
        "https://app.example.com/cb?a=1&st%61te=x",
        // Issue 9: an undecodable own state used to pass as "no state".
        "https://app.example.com/cb?state=%FF",
        "https://app.example.com/cb?state=%FF&state=%FF",
    ] {
        assert_eq!(
            bad_settings(env(&[("FREEDOM_ID_REDIRECT_URI", Some(uri))])),
            vec![(Setting::RedirectUri, ProblemReason::StateInRedirectUri)],
            "{uri}"
        );
        let off = env(&[
            ("FREEDOM_ID_REDIRECT_URI", Some(uri)),
            ("FREEDOM_ID_STATE", Some("off")),
        ]);
        assert!(
            off.is_ok(),
            "{uri}: with the binding off the URI is sent as configured"
        );
    }
    assert!(env(&[(
        "FREEDOM_ID_REDIRECT_URI",
        Some("https://app.example.com/cb?statex=1")
    )])
    .is_ok());
}

#[test]
fn optional_settings_are_read() {
    let settings = env(&[
        (
            "FREEDOM_ID_AUTHORIZE_URL",
            Some("http://127.0.0.1:9999/api/v1/oauth/authorize"),
        ),
        ("FREEDOM_ID_TIMEOUT_MS", Some("250")),
        (
            "FREEDOM_ID_REDIRECT_URI",
            Some("http://localhost:8787/callback?lang=kk"),
        ),
    ])
    .unwrap();
    assert_eq!(settings.authorize_url.port_or_default(), 9999);
    assert_eq!(settings.timeout_ms, 250);
    assert_eq!(settings.redirect_uri.query(), Some("lang=kk"));
}

#[test]
fn each_bad_value_names_its_setting() {
    use ProblemReason as R;
    use Setting as S;
    let cases: Vec<(&str, &str, Setting, ProblemReason)> = vec![
        ("FREEDOM_ID_CLIENT_ID", "", S::ClientId, R::Missing),
        (
            "FREEDOM_ID_CLIENT_ID",
            "a:b",
            S::ClientId,
            R::ColonInClientId,
        ),
        (
            "FREEDOM_ID_CLIENT_ID",
            " demo",
            S::ClientId,
            R::SurroundingWhitespace,
        ),
        (
            "FREEDOM_ID_CLIENT_SECRET",
            "abc\n",
            S::ClientSecret,
            R::ControlCharacter,
        ),
        (
            "FREEDOM_ID_CLIENT_SECRET",
            "abc ",
            S::ClientSecret,
            R::SurroundingWhitespace,
        ),
        (
            "FREEDOM_ID_REDIRECT_URI",
            "/callback",
            S::RedirectUri,
            R::Url(UrlError::NotHttp),
        ),
        (
            "FREEDOM_ID_REDIRECT_URI",
            "http://app.example.com/cb",
            S::RedirectUri,
            R::HttpNotLoopback,
        ),
        (
            "FREEDOM_ID_REDIRECT_URI",
            "https://app.example.com/cb#x",
            S::RedirectUri,
            R::Fragment,
        ),
        (
            "FREEDOM_ID_REDIRECT_URI",
            "https://u@app.example.com/",
            S::RedirectUri,
            R::Url(UrlError::UserInfo),
        ),
        (
            "FREEDOM_ID_GRANTS",
            " , ",
            S::Grants,
            R::Grants(GrantError::Empty),
        ),
        (
            "FREEDOM_ID_GRANTS",
            "openid read.Email",
            S::Grants,
            R::Grants(GrantError::Invalid("read.Email".into())),
        ),
        (
            "FREEDOM_ID_AUTHORIZE_URL",
            "http://passport.freedompay.kz/x",
            S::AuthorizeUrl,
            R::HttpNotLoopback,
        ),
        (
            "FREEDOM_ID_AUTHORIZE_URL",
            "passport.freedompay.kz",
            S::AuthorizeUrl,
            R::Url(UrlError::NotHttp),
        ),
        ("FREEDOM_ID_TIMEOUT_MS", "0", S::TimeoutMs, R::Timeout),
        ("FREEDOM_ID_TIMEOUT_MS", "60001", S::TimeoutMs, R::Timeout),
        ("FREEDOM_ID_TIMEOUT_MS", "1.5", S::TimeoutMs, R::Timeout),
        ("FREEDOM_ID_TIMEOUT_MS", "-1", S::TimeoutMs, R::Timeout),
        ("FREEDOM_ID_TIMEOUT_MS", "5s", S::TimeoutMs, R::Timeout),
        ("FREEDOM_ID_STATE", "yes", S::State, R::StateSwitch),
        ("FREEDOM_ID_STATE", "OFF", S::State, R::StateSwitch),
    ];
    for (name, value, setting, reason) in cases {
        assert_eq!(
            bad_settings(env(&[(name, Some(value))])),
            vec![(setting, reason)],
            "{name}={value:?}"
        );
    }
}

#[test]
fn all_problems_are_reported_together_in_order() {
    let problems = bad_settings(env(&[
        ("FREEDOM_ID_GRANTS", None),
        ("FREEDOM_ID_CLIENT_SECRET", None),
        ("FREEDOM_ID_CLIENT_ID", None),
        ("FREEDOM_ID_REDIRECT_URI", None),
    ]));
    let names: Vec<Setting> = problems.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        names,
        [
            Setting::ClientId,
            Setting::ClientSecret,
            Setting::RedirectUri,
            Setting::Grants
        ]
    );
    assert!(problems
        .iter()
        .all(|(_, reason)| *reason == ProblemReason::Missing));
}

#[test]
fn errors_and_debug_output_never_show_the_secret() {
    let error = env(&[(
        "FREEDOM_ID_CLIENT_SECRET",
        Some(" s3cr3t-value-never-printed"),
    )])
    .unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(
        shown.contains("FREEDOM_ID_CLIENT_SECRET starts or ends with whitespace"),
        "{shown}"
    );
    assert!(!shown.contains("s3cr3t"), "{shown}");
    let settings = env(&[]).unwrap();
    assert!(!format!("{settings:?}").contains("s3cr3t"));
}

#[test]
fn javascript_inputs_use_the_same_rules() {
    let grants = vec!["openid".to_string(), "read.phone".to_string()];
    let input = SettingsInput {
        client_id: Field::Value("demo-client".into()),
        client_secret: Field::Value(SECRET.into()),
        redirect_uri: Field::Value("https://app.example.com/cb".into()),
        grants: Field::Value(GrantsInput::Items(grants)),
        timeout_ms: Field::Value(TimeoutInput::Number(1500.0)),
        ..SettingsInput::default()
    };
    let settings = Settings::from_input(input.clone()).unwrap();
    assert_eq!(settings.timeout_ms, 1500);
    for timeout in [0.0, 1.5, -3.0, f64::NAN, f64::INFINITY, 60_001.0] {
        let input = SettingsInput {
            timeout_ms: Field::Value(TimeoutInput::Number(timeout)),
            ..input.clone()
        };
        assert_eq!(
            bad_settings(Settings::from_input(input)),
            vec![(Setting::TimeoutMs, ProblemReason::Timeout)],
            "{timeout}"
        );
    }
    let one_item_with_two = vec!["openid read.phone".to_string()];
    let input = SettingsInput {
        grants: Field::Value(GrantsInput::Items(one_item_with_two)),
        ..input
    };
    let error = Settings::from_input(input).unwrap_err();
    assert_eq!(
            error.describe(Setting::option_name),
            "grants has \"openid read.phone\", which is not a grant (expected `openid` or `level.code` in lowercase letters, digits and `_`)"
        );
}

#[test]
fn the_oidc_flavour_has_its_defaults_and_rules() {
    let oauth2 = env(&[]).unwrap();
    assert_eq!(oauth2.protocol, Protocol::OAuth2);
    assert_eq!((oauth2.jwks_url, oauth2.userinfo_url), (None, None));
    let oidc = env(&[("FREEDOM_ID_PROTOCOL", Some("oidc"))]).unwrap();
    assert_eq!(oidc.protocol, Protocol::Oidc);
    assert_eq!(
        oidc.oidc_authorize_url.as_str(),
        "https://passport.freedompay.kz/openid"
    );
    assert_eq!(
        oidc.oidc_token_url.as_str(),
        "https://passport.freedompay.kz/api/v1/oidc/token"
    );
    assert_eq!(oidc.issuer, "https://passport.freedompay.kz");
    // OIDC carries its own state: a redirect URI with a `state` of its own is no clash.
    assert!(env(&[
        ("FREEDOM_ID_PROTOCOL", Some("oidc")),
        (
            "FREEDOM_ID_REDIRECT_URI",
            Some("https://app.example.com/callback?state=x")
        ),
    ])
    .is_ok());
    let set = env(&[
        ("FREEDOM_ID_PROTOCOL", Some("oidc")),
        (
            "FREEDOM_ID_JWKS_URL",
            Some("https://passport.freedompay.kz/jwks"),
        ),
        (
            "FREEDOM_ID_USERINFO_URL",
            Some("http://127.0.0.1:8788/userinfo"),
        ),
        ("FREEDOM_ID_ISSUER", Some("http://127.0.0.1:8788")),
    ])
    .unwrap();
    assert_eq!(set.issuer, "http://127.0.0.1:8788");
    assert!(set.jwks_url.is_some() && set.userinfo_url.is_some());
    for (overrides, expected) in [
        (
            vec![("FREEDOM_ID_PROTOCOL", Some("OIDC"))],
            vec![(Setting::Protocol, ProblemReason::Protocol)],
        ),
        (
            vec![
                ("FREEDOM_ID_PROTOCOL", Some("oidc")),
                ("FREEDOM_ID_GRANTS", Some("read.email")),
            ],
            vec![(Setting::Grants, ProblemReason::OidcNeedsOpenid)],
        ),
        (
            vec![
                ("FREEDOM_ID_PROTOCOL", Some("oidc")),
                ("FREEDOM_ID_STATE", Some("off")),
            ],
            vec![(Setting::State, ProblemReason::OidcNeedsState)],
        ),
        (
            vec![(
                "FREEDOM_ID_USERINFO_URL",
                Some("http://example.com/userinfo"),
            )],
            vec![(Setting::UserinfoUrl, ProblemReason::HttpNotLoopback)],
        ),
        (
            vec![("FREEDOM_ID_ISSUER", Some("not a url"))],
            vec![(
                Setting::Issuer,
                ProblemReason::Url(UrlError::ForbiddenCharacter),
            )],
        ),
    ] {
        assert_eq!(bad_settings(env(&overrides)), expected, "{overrides:?}");
    }
    // Without oidc, grants need no `openid`.
    assert!(env(&[("FREEDOM_ID_GRANTS", Some("read.email"))]).is_ok());
}
