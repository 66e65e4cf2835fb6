//! The npm functions' options, natively: every rule `flow::npm`'s options module holds, with
//! the exact message each problem gets (what `INVALID_OPTIONS` says in JavaScript, after
//! `freedom-id-edge: `), in the order they are listed, and no secret in any of them. The
//! options objects are JSON, read by `serde_json` into the same serde types the wasm reads
//! with serde-wasm-bindgen (`tests/npm/` checks that side: own properties, getters).

#[path = "support/fake_edge.rs"]
#[allow(unused_imports)] // the Worker flows' part of it
mod fake_edge;
#[path = "support/fake_npm.rs"]
mod fake_npm;

use fake_npm::*;

/// What each function's options are refused with (the message after the prefix).
fn link_problem(changes: &[(&str, Value)]) -> String {
    let options = link_options(changes);
    let error = LinkOptions::read(|| &options).unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidOptions);
    message(&error).to_owned()
}

fn sign_in_problem(changes: &[(&str, Value)]) -> String {
    let base = [
        (
            "callbackUrl",
            text(&format!(
                "{REDIRECT_URI}?state=s1-kept-state&authorization_code=c0de"
            )),
        ),
        ("expectedState", text("s1-kept-state")),
    ];
    let error = CompleteSignInOptions::read(sign_in_options(&base).with(changes)).unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidOptions);
    message(&error).to_owned()
}

#[test]
fn link_options_name_every_problem_in_setting_order() {
    let absent = Value::Null;
    let cases: Vec<(Vec<(&str, Value)>, &str)> = vec![
        (vec![("clientSecret", absent.clone())], "clientSecret is missing"),
        (vec![("clientId", json!(42))], "clientId must be a string"),
        (vec![("clientSecret", unreadable())], "clientSecret could not be read"),
        (vec![("clientSecret", text(&format!(" {SECRET}")))], "clientSecret starts or ends with whitespace"),
        (vec![("grants", text("openid read.email"))], "grants must be an array of strings"),
        (vec![("grants", other())], "grants must be an array of strings"),
        (vec![("grants", json!(["openid", 7]))], "grants must be an array of strings"),
        (vec![("grants", json!(["openid", null]))], "grants must be an array of strings"),
        (vec![("grants", json!(["openid", {}]))], "grants must be an array of strings"),
        (vec![("grants", json!([]))], "grants names no grant"),
        (vec![("redirectUri", text("/callback"))], "redirectUri is not an absolute http:// or https:// URL"),
        (vec![("timeoutMs", text("500"))], "timeoutMs must be a number"),
        (vec![("timeoutMs", json!(1.5))], "timeoutMs must be a whole number of milliseconds from 1 to 60000"),
        (vec![("timeoutMs", json!(-5))], "timeoutMs must be a whole number of milliseconds from 1 to 60000"),
        (vec![("state", json!(42))], "state must be a string or false"),
        (vec![("state", json!(true))], "state must be a string or false"),
        (vec![("state", other())], "state must be a string or false"),
        (vec![("state", text(""))], "state must be a non-empty string of at most 512 bytes without control characters"),
        (
            vec![("redirectUri", text(&format!("{REDIRECT_URI}?state=x")))],
            "redirectUri already has a `state` query parameter, which the state binding adds itself",
        ),
        (
            vec![("timeoutMs", other()), ("clientId", absent), ("grants", unreadable()), ("state", other())],
            "clientId is missing; grants could not be read; timeoutMs must be a number; state must be a string or false",
        ),
    ];
    for (changes, expected) in cases {
        assert_eq!(
            link_problem(&changes),
            format!("invalid options: {expected}"),
            "{changes:?}"
        );
    }
    for none in [
        Value::Null,
        text("clientId"),
        json!([]),
        json!(["clientId"]),
    ] {
        assert_eq!(
            LinkOptions::read(|| &none).unwrap_err().message,
            "freedom-id-edge: createAuthorizationLink expects an options object",
            "{none}"
        );
    }
}

#[test]
fn link_options_read_only_what_create_authorization_link_takes() {
    // The Worker's settings and the token URL are no options of its: never read, whatever
    // they hold; an unknown name is ignored too.
    let options = link_options(&[
        ("tokenUrl", json!(42)),
        ("protect", text("/app")),
        ("sessionSecret", unreadable()),
        ("log", other()),
        ("unknown", json!(true)),
    ]);
    let options = LinkOptions::read(|| &options).unwrap();
    assert_eq!(
        options.settings.token_url.as_str(),
        "https://passport.freedompay.kz/api/v1/oauth/token"
    );
    assert!(options.settings.protect.is_empty());
    // `null` is absent: a fresh state, the default timeout.
    let given = link_options(&[("state", Value::Null), ("timeoutMs", Value::Null)]);
    let options = LinkOptions::read(|| &given).unwrap();
    assert_eq!(
        (options.settings.state, options.settings.timeout_ms),
        (freedom_id_edge::config::values::StateMode::Bind, 5000)
    );
}

#[test]
fn complete_sign_in_options_and_the_state_check_rules() {
    const MISSING: &str = "expectedState is missing (pass the state kept from createAuthorizationLink; skipStateCheck: true instead only for a link made with state: false)";
    const NOT_A_STATE: &str = "expectedState must be the state kept from createAuthorizationLink (a non-empty string); only skipStateCheck: true skips the state check";
    let absent = Value::Null;
    let cases: Vec<(Vec<(&str, Value)>, &str)> = vec![
        (vec![("expectedState", absent.clone())], MISSING),
        (vec![("expectedState", absent.clone()), ("skipStateCheck", json!(false))], MISSING),
        (vec![("expectedState", json!(false))], NOT_A_STATE),
        (vec![("expectedState", text(""))], NOT_A_STATE),
        (vec![("expectedState", json!(0))], NOT_A_STATE),
        (vec![("expectedState", other())], NOT_A_STATE),
        (vec![("expectedState", unreadable())], "expectedState could not be read"),
        (vec![("skipStateCheck", text("yes"))], "skipStateCheck must be true or false"),
        (vec![("skipStateCheck", unreadable())], "skipStateCheck could not be read"),
        (vec![("skipStateCheck", json!(true))], "skipStateCheck cannot be combined with expectedState"),
        (vec![("callbackUrl", absent.clone())], "callbackUrl is missing"),
        (vec![("callbackUrl", text(""))], "callbackUrl is missing"),
        (vec![("callbackUrl", json!(1))], "callbackUrl must be a string"),
        (vec![("callbackUrl", unreadable())], "callbackUrl could not be read"),
        (
            vec![("callbackUrl", text("callback?authorization_code=x"))],
            "callbackUrl must be the absolute URL Freedom ID sent the user back to (or its path and query)",
        ),
        (
            vec![("tokenUrl", text("http://evil.example/token"))],
            "tokenUrl uses http://, which is only allowed for localhost and 127.0.0.1",
        ),
        (vec![("tokenUrl", json!(["https://id.example/token"]))], "tokenUrl must be a string"),
        (vec![("timeoutMs", json!(0))], "timeoutMs must be a whole number of milliseconds from 1 to 60000"),
        (vec![("timeoutMs", unreadable())], "timeoutMs could not be read"),
        (vec![("clientSecret", text(&format!("{SECRET}\n")))], "clientSecret contains a control character"),
        // A wrong type or a throw is the credential's one problem (it used to be reported,
        // then the credential as missing too).
        (vec![("clientId", json!(42))], "clientId must be a string"),
        (vec![("clientSecret", unreadable())], "clientSecret could not be read"),
        (vec![("clientId", absent)], "clientId is missing"),
        (
            vec![("clientId", other()), ("callbackUrl", Value::Null), ("skipStateCheck", json!(1)), ("tokenUrl", text("passport"))],
            "clientId must be a string; callbackUrl is missing; skipStateCheck must be true or false; tokenUrl is not an absolute http:// or https:// URL",
        ),
    ];
    for (changes, expected) in cases {
        assert_eq!(
            sign_in_problem(&changes),
            format!("invalid options: {expected}"),
            "{changes:?}"
        );
    }
    assert_eq!(
        CompleteSignInOptions::read(Value::Null)
            .unwrap_err()
            .message,
        "freedom-id-edge: completeSignIn expects an options object"
    );
}

#[test]
fn exchange_and_refresh_options() {
    let exchange = |changes: &[(&str, Value)]| {
        let options = sign_in_options(&[("code", text("c0de"))]).with(changes);
        message(&ExchangeOptions::read(options).unwrap_err()).to_owned()
    };
    assert_eq!(
        exchange(&[("code", Value::Null)]),
        "invalid options: code is missing"
    );
    assert_eq!(
        exchange(&[("code", json!(42))]),
        "invalid options: code must be a string"
    );
    assert_eq!(
        exchange(&[("timeoutMs", text("5"))]),
        "invalid options: timeoutMs must be a number"
    );
    assert_eq!(
        exchange(&[("clientSecret", json!(false)), ("code", unreadable())]),
        "invalid options: clientSecret must be a string; code could not be read"
    );
    let refresh = |options: Value| message(&RefreshOptions::read(options).unwrap_err()).to_owned();
    assert_eq!(
        refresh(json!({})),
        "invalid options: refreshToken is missing"
    );
    assert_eq!(
        refresh(json!({ "refreshToken": 7, "tokenUrl": "passport" })),
        "invalid options: refreshToken must be a string; tokenUrl is not an absolute http:// or https:// URL"
    );
    assert_eq!(
        RefreshOptions::read(json!("tok-refresh"))
            .unwrap_err()
            .message,
        "freedom-id-edge: refreshTokens expects an options object"
    );
    // The defaults: Freedom ID's token URL, 5000 ms; only its own options are read.
    let options =
        RefreshOptions::read(json!({ "refreshToken": "r", "clientId": 42, "code": {} })).unwrap();
    assert_eq!(
        (options.endpoint.url.as_str(), options.endpoint.timeout_ms),
        ("https://passport.freedompay.kz/api/v1/oauth/token", 5000)
    );
}

#[test]
fn read_options_never_show_their_secrets_in_debug() {
    let given = link_options(&[]);
    let shown = format!("{:?}", LinkOptions::read(|| &given).unwrap());
    assert!(!shown.contains(SECRET), "{shown}");
    let options = CompleteSignInOptions::read(sign_in_options(&[
        (
            "callbackUrl",
            text(&format!(
                "{REDIRECT_URI}?state=s1-kept-state&authorization_code=c0de"
            )),
        ),
        ("expectedState", text("s1-kept-state")),
    ]))
    .unwrap();
    let shown = format!("{options:?}");
    for secret in [SECRET, "c0de", "s1-kept-state"] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

#[test]
fn the_oidc_options_and_their_rules() {
    let oidc_link = [("protocol", text("oidc")), ("clientSecret", Value::Null)];
    // No secret needed for the OIDC link; `state: false`, grants without openid, a bad nonce
    // and an unknown protocol are named.
    let options = link_options(&oidc_link);
    assert!(LinkOptions::read(|| &options).is_ok());
    let mut problems = oidc_link.to_vec();
    problems.extend([
        ("grants", json!(["read.email"])),
        ("state", json!(false)),
        ("nonce", json!(7)),
    ]);
    let problem = link_problem(&problems);
    assert!(problem.starts_with("invalid options: grants "), "{problem}");
    assert!(problem.contains("; state "), "{problem}");
    assert!(problem.ends_with("; nonce must be a string"), "{problem}");
    assert_eq!(
        link_problem(&[("protocol", text("saml"))]),
        "invalid options: protocol must be `oauth2` or `oidc`"
    );
    assert_eq!(
        link_problem(&[("nonce", text("n"))]),
        "invalid options: nonce is only for protocol: 'oidc'"
    );
    assert_eq!(
        link_problem(&[("protocol", text("oidc")), ("nonce", text(""))]),
        "invalid options: nonce must be a non-empty string of at most 512 bytes without control characters"
    );

    // completeSignIn in oidc needs the redirect URI and the nonce; URLs follow the usual rules.
    let sign_in = |changes: &[(&str, Value)]| {
        let base = [
            ("protocol", text("oidc")),
            (
                "callbackUrl",
                text("/callback?code=c0de&state=s1-kept-state"),
            ),
            ("expectedState", text("s1-kept-state")),
        ];
        let error = CompleteSignInOptions::read(sign_in_options(&base).with(changes)).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidOptions);
        message(&error).to_owned()
    };
    assert_eq!(
        sign_in(&[]),
        "invalid options: redirectUri is missing; expectedNonce is missing (pass the nonce kept from createAuthorizationLink)"
    );
    let problem = sign_in(&[
        ("redirectUri", text(REDIRECT_URI)),
        ("expectedNonce", text("n0nce")),
        ("oidcTokenUrl", text("http://id.example/token")),
        ("issuer", text("not a url")),
        ("jwksUrl", json!(1)),
        ("userInfoUrl", text("https://id.example/info#x")),
    ]);
    for name in [
        "oidcTokenUrl ",
        "; issuer ",
        "; jwksUrl must be a string",
        "; userInfoUrl ",
    ] {
        assert!(problem.contains(name), "{name} in {problem}");
    }
    // In oauth2, a nonce cannot be checked: refused rather than silently skipped.
    let error = CompleteSignInOptions::read(sign_in_options(&[
        (
            "callbackUrl",
            text("/callback?authorization_code=c0de&state=s1"),
        ),
        ("expectedState", text("s1")),
        ("expectedNonce", text("n0nce")),
    ]))
    .unwrap_err();
    assert_eq!(
        message(&error),
        "invalid options: expectedNonce is only for protocol: 'oidc'"
    );
    // fetchUserInfo.
    let problem = |options: Value| message(&UserInfoOptions::read(options).unwrap_err()).to_owned();
    assert_eq!(
        problem(json!({})),
        "invalid options: accessToken is missing; userInfoUrl is missing"
    );
    assert_eq!(
        problem(json!({ "accessToken": "tok-access", "userInfoUrl": "", "timeoutMs": 0 })),
        "invalid options: userInfoUrl is missing; timeoutMs must be a whole number of milliseconds from 1 to 60000"
    );
    assert_eq!(
        UserInfoOptions::read(Value::Null).unwrap_err().message,
        "freedom-id-edge: fetchUserInfo expects an options object"
    );
}
