//! The npm functions' options, natively: every rule `flow::npm`'s options module holds, with
//! the exact message each problem gets (what `INVALID_OPTIONS` says in JavaScript, after
//! `freedom-id-edge: `), in the order they are listed, and no secret in any of them.

#[path = "support/fake_edge.rs"]
#[allow(unused_imports)] // the Worker flows' part of it
mod fake_edge;
#[path = "support/fake_npm.rs"]
mod fake_npm;

use fake_npm::*;

/// What each function's options are refused with (the message after the prefix).
fn link_problem(changes: &[(&'static str, OptionValue)]) -> String {
    let error = LinkOptions::read(Some(&link_options(changes))).unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidOptions);
    message(&error).to_owned()
}

fn sign_in_problem(changes: &[(&'static str, OptionValue)]) -> String {
    let base = [
        (
            "callbackUrl",
            text(&format!(
                "{REDIRECT_URI}?state=s1-kept-state&authorization_code=c0de"
            )),
        ),
        ("expectedState", text("s1-kept-state")),
    ];
    let error =
        CompleteSignInOptions::read(Some(&sign_in_options(&base).with(changes))).unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidOptions);
    message(&error).to_owned()
}

#[test]
fn link_options_name_every_problem_in_setting_order() {
    use OptionValue::{Absent, Bool, Number, Other, Strings, Unreadable};
    let cases: Vec<(Vec<(&'static str, OptionValue)>, &str)> = vec![
        (vec![("clientSecret", Absent)], "clientSecret is missing"),
        (vec![("clientId", Number(42.0))], "clientId must be a string"),
        (vec![("clientSecret", Unreadable)], "clientSecret could not be read"),
        (vec![("clientSecret", text(&format!(" {SECRET}")))], "clientSecret starts or ends with whitespace"),
        (vec![("grants", text("openid read.email"))], "grants must be an array of strings"),
        (vec![("grants", Other)], "grants must be an array of strings"),
        (vec![("grants", Strings(vec![]))], "grants names no grant"),
        (vec![("redirectUri", text("/callback"))], "redirectUri is not an absolute http:// or https:// URL"),
        (vec![("timeoutMs", text("500"))], "timeoutMs must be a number"),
        (vec![("timeoutMs", Number(1.5))], "timeoutMs must be a whole number of milliseconds from 1 to 60000"),
        (vec![("state", Number(42.0))], "state must be a string or false"),
        (vec![("state", Bool(true))], "state must be a string or false"),
        (vec![("state", text(""))], "state must be a non-empty string of at most 512 bytes without control characters"),
        (
            vec![("redirectUri", text(&format!("{REDIRECT_URI}?state=x")))],
            "redirectUri already has a `state` query parameter, which the state binding adds itself",
        ),
        (
            vec![("timeoutMs", Other), ("clientId", Absent), ("grants", Unreadable), ("state", Other)],
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
    let none: Option<&Options> = None;
    assert_eq!(
        LinkOptions::read(none).unwrap_err().message,
        "freedom-id-edge: createAuthorizationLink expects an options object"
    );
}

#[test]
fn complete_sign_in_options_and_the_state_check_rules() {
    use OptionValue::{Absent, Bool, Number, Other, Unreadable};
    const MISSING: &str = "expectedState is missing (pass the state kept from createAuthorizationLink; skipStateCheck: true instead only for a link made with state: false)";
    const NOT_A_STATE: &str = "expectedState must be the state kept from createAuthorizationLink (a non-empty string); only skipStateCheck: true skips the state check";
    let cases: Vec<(Vec<(&'static str, OptionValue)>, &str)> = vec![
        (vec![("expectedState", Absent)], MISSING),
        (vec![("expectedState", Absent), ("skipStateCheck", Bool(false))], MISSING),
        (vec![("expectedState", Bool(false))], NOT_A_STATE),
        (vec![("expectedState", text(""))], NOT_A_STATE),
        (vec![("expectedState", Number(0.0))], NOT_A_STATE),
        (vec![("expectedState", Unreadable)], "expectedState could not be read"),
        (vec![("skipStateCheck", text("yes"))], "skipStateCheck must be true or false"),
        (vec![("skipStateCheck", Unreadable)], "skipStateCheck could not be read"),
        (vec![("skipStateCheck", Bool(true))], "skipStateCheck cannot be combined with expectedState"),
        (vec![("callbackUrl", Absent)], "callbackUrl is missing"),
        (vec![("callbackUrl", Number(1.0))], "callbackUrl must be a string"),
        (
            vec![("callbackUrl", text("callback?authorization_code=x"))],
            "callbackUrl must be the absolute URL Freedom ID sent the user back to (or its path and query)",
        ),
        (
            vec![("tokenUrl", text("http://evil.example/token"))],
            "tokenUrl uses http://, which is only allowed for localhost and 127.0.0.1",
        ),
        (vec![("timeoutMs", Number(0.0))], "timeoutMs must be a whole number of milliseconds from 1 to 60000"),
        (vec![("timeoutMs", Unreadable)], "timeoutMs could not be read"),
        (vec![("clientSecret", text(&format!("{SECRET}\n")))], "clientSecret contains a control character"),
        // A wrong type is reported, then the credential as missing.
        (vec![("clientId", Number(42.0))], "clientId must be a string; clientId is missing"),
        (vec![("clientSecret", Unreadable)], "clientSecret could not be read; clientSecret is missing"),
        (
            vec![("clientId", Other), ("callbackUrl", Absent), ("skipStateCheck", Number(1.0)), ("tokenUrl", text("passport"))],
            "clientId must be a string; clientId is missing; callbackUrl is missing; skipStateCheck must be true or false; tokenUrl is not an absolute http:// or https:// URL",
        ),
    ];
    for (changes, expected) in cases {
        assert_eq!(
            sign_in_problem(&changes),
            format!("invalid options: {expected}"),
            "{changes:?}"
        );
    }
    let none: Option<&Options> = None;
    assert_eq!(
        CompleteSignInOptions::read(none).unwrap_err().message,
        "freedom-id-edge: completeSignIn expects an options object"
    );
}

#[test]
fn exchange_and_refresh_options() {
    use OptionValue::{Absent, Number};
    let exchange = |changes: &[(&'static str, OptionValue)]| {
        let options = sign_in_options(&[("code", text("c0de"))]).with(changes);
        message(&ExchangeOptions::read(Some(&options)).unwrap_err()).to_owned()
    };
    assert_eq!(
        exchange(&[("code", Absent)]),
        "invalid options: code is missing"
    );
    assert_eq!(
        exchange(&[("code", Number(42.0))]),
        "invalid options: code must be a string"
    );
    assert_eq!(
        exchange(&[("timeoutMs", text("5"))]),
        "invalid options: timeoutMs must be a number"
    );
    let refresh = |options: Vec<(&'static str, OptionValue)>| {
        message(&RefreshOptions::read(Some(&Options(options))).unwrap_err()).to_owned()
    };
    assert_eq!(refresh(vec![]), "invalid options: refreshToken is missing");
    assert_eq!(
        refresh(vec![("refreshToken", Number(7.0)), ("tokenUrl", text("passport"))]),
        "invalid options: refreshToken must be a string; tokenUrl is not an absolute http:// or https:// URL"
    );
    let none: Option<&Options> = None;
    assert_eq!(
        RefreshOptions::read(none).unwrap_err().message,
        "freedom-id-edge: refreshTokens expects an options object"
    );
    // The defaults: Freedom ID's token URL, 5000 ms.
    let options = RefreshOptions::read(Some(&Options(vec![("refreshToken", text("r"))]))).unwrap();
    assert_eq!(
        (options.endpoint.url.as_str(), options.endpoint.timeout_ms),
        ("https://passport.freedompay.kz/api/v1/oauth/token", 5000)
    );
}

#[test]
fn option_values_never_show_in_debug() {
    let shown = format!("{:?}", link_options(&[]).0);
    assert!(!shown.contains(SECRET), "{shown}");
    let options = CompleteSignInOptions::read(Some(&sign_in_options(&[
        (
            "callbackUrl",
            text(&format!(
                "{REDIRECT_URI}?state=s1-kept-state&authorization_code=c0de"
            )),
        ),
        ("expectedState", text("s1-kept-state")),
    ])))
    .unwrap();
    let shown = format!("{options:?}");
    for secret in [SECRET, "c0de", "s1-kept-state"] {
        assert!(!shown.contains(secret), "{shown}");
    }
}
