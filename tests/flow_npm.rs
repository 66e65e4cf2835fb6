//! The npm package's core (`flow::npm`) driven natively: `createAuthorizationLink` and
//! `completeSignIn` sequences, the token calls and every error's code, message and details,
//! through a fake that records each request and plays scripted answers. The options' rules
//! are `tests/flow_npm_options.rs`; the same code runs in the wasm the package ships, and
//! `tests/npm/` checks the JS side (own properties, getters, the real `fetch`).

#[path = "support/fake_edge.rs"]
#[allow(unused_imports)] // the Worker flows' part of it
mod fake_edge;
#[path = "support/fake_npm.rs"]
mod fake_npm;

use fake_edge::{run, token_answer, NOW};
use fake_npm::*;
use freedom_id_edge::freedom_id::state::{encode_state, STATE_BYTES};

#[test]
fn a_link_gets_a_fresh_state_by_default_and_sends_the_documented_request() {
    let fx = Fake::default();
    fx.reply(200, LINK);
    let made = link(&fx, &link_options(&[])).unwrap();
    let mut random = [0_u8; STATE_BYTES];
    for (index, byte) in random.iter_mut().enumerate() {
        *byte = index as u8 + 1;
    }
    let state = encode_state(&random);
    assert_eq!(
        made.state.as_ref().map(|s| s.secret()),
        Some(state.as_str())
    );
    assert_eq!(fx.counter.get(), 32, "256 random bits");
    assert_eq!(
        made.link.url.as_str(),
        "https://id.example/login?track_id=t-1&expire_at=1727246098"
    );
    assert_eq!(made.link.track_id.as_deref(), Some("t-1"));
    assert_eq!(made.link.expire_at, Some(1_727_246_098));
    assert_eq!(
        fx.last(),
        (
            Method::Post,
            AUTHORIZE_URL.to_owned(),
            client_post_headers(),
            Some(format!(
                r#"{{"redirect_uri":"{REDIRECT_URI}?state={state}","grants":["openid","read.email"]}}"#
            )),
            BodyRule::Success,
            5000,
        )
    );
    // What JavaScript gets: a plain object, every key there.
    assert_eq!(
        serde_json::to_value(made.result()).unwrap(),
        json!({
            "url": "https://id.example/login?track_id=t-1&expire_at=1727246098",
            "trackId": "t-1",
            "expireAt": 1_727_246_098.0,
            "state": state,
            "nonce": null,
        })
    );
    // A second link, a second state.
    fx.reply(200, LINK);
    let again = link(&fx, &link_options(&[])).unwrap();
    assert_ne!(
        again.state.as_ref().map(|s| s.secret()),
        Some(state.as_str())
    );
}

#[test]
fn a_given_state_is_sent_as_it_is_and_draws_no_random_bytes() {
    let fx = Fake::default();
    fx.reply(200, LINK);
    let options = link_options(&[
        ("redirectUri", text(&format!("{REDIRECT_URI}?lang=kk"))),
        ("state", text("a b/c")),
        ("timeoutMs", json!(1500)),
    ]);
    let made = link(&fx, &options).unwrap();
    assert_eq!(made.state.as_ref().map(|s| s.secret()), Some("a b/c"));
    assert_eq!(fx.counter.get(), 0);
    let (_, _, _, body, _, timeout_ms) = fx.last();
    assert_eq!(
        body.as_deref(),
        Some(
            r#"{"redirect_uri":"https://app.example.com/callback?lang=kk&state=a%20b%2Fc","grants":["openid","read.email"]}"#
        )
    );
    assert_eq!(timeout_ms, 1500);
}

#[test]
fn state_off_sends_the_redirect_uri_as_it_is_and_skip_state_check_completes_it() {
    let fx = Fake::default();
    fx.reply(200, LINK);
    let options = link_options(&[
        ("redirectUri", text(&format!("{REDIRECT_URI}?state=theirs"))),
        ("state", json!(false)),
    ]);
    let made = link(&fx, &options).unwrap();
    assert!(made.state.is_none());
    assert_eq!(
        serde_json::to_value(made.result()).unwrap()["state"],
        Value::Null
    );
    assert_eq!(fx.counter.get(), 0);
    let (_, _, _, body, _, _) = fx.last();
    assert_eq!(
        body.as_deref(),
        Some(
            r#"{"redirect_uri":"https://app.example.com/callback?state=theirs","grants":["openid","read.email"]}"#
        )
    );

    fx.reply(200, &tokens());
    let callback = text(&format!("{REDIRECT_URI}?authorization_code=c0de"));
    let signed_in = complete(
        &fx,
        &sign_in_options(&[("callbackUrl", callback), ("skipStateCheck", json!(true))]),
    )
    .unwrap();
    assert_eq!(signed_in.tokens.access_token.secret(), "tok-access");
    assert_eq!(fx.last(), exchange_sent("c0de", 5000));
}

#[test]
fn a_whole_sign_in_link_callback_and_refresh() {
    let fx = Fake::default();
    fx.reply(200, LINK).reply(200, &tokens());
    let made = link(&fx, &link_options(&[])).unwrap();
    let state = made.state.unwrap().secret().to_owned();
    // Freedom ID sends the user back with the state and the code; Express gives the path.
    let callback = format!("/callback?state={state}&authorization_code=c0de&lang=kk");
    let signed_in = complete(
        &fx,
        &sign_in_options(&[
            ("callbackUrl", text(&callback)),
            ("expectedState", text(&state)),
            ("timeoutMs", json!(800)),
        ]),
    )
    .unwrap();
    assert_eq!(fx.last(), exchange_sent("c0de", 800));
    let now = (NOW / 1000.0) as u64;
    assert_eq!(signed_in.tokens.id.as_deref(), Some("tok-1"));
    assert_eq!(signed_in.tokens.refresh_token.secret(), "tok-refresh");
    assert_eq!(
        (
            signed_in.tokens.access_expires_at,
            signed_in.tokens.refresh_expires_at
        ),
        (now + 900, now + 7200)
    );
    assert_eq!(
        js_result(&signed_in),
        json!({
            "id": "tok-1",
            "accessToken": "tok-access",
            "refreshToken": "tok-refresh",
            "accessExpiresAt": (now + 900) as f64,
            "refreshExpiresAt": (now + 7200) as f64,
            "user": null,
            "idToken": null,
            "idTokenClaims": null,
        })
    );

    fx.reply(
        200,
        &token_answer("tok-access-2", "tok-refresh-2", 900, 7200),
    );
    let options = RefreshOptions::read(json!({
        "refreshToken": signed_in.tokens.refresh_token.secret(),
        "tokenUrl": TOKEN_URL,
    }))
    .unwrap();
    let renewed = run(refresh_tokens(&fx, &options)).unwrap();
    assert_eq!(renewed.refresh_token.secret(), "tok-refresh-2");
    assert_eq!(
        fx.last(),
        (
            Method::Patch,
            TOKEN_URL.to_owned(),
            vec![
                ("Authorization", "Bearer tok-refresh".to_owned()),
                ("Accept", "application/json".to_owned()),
                ("Accept-Encoding", "identity".to_owned()),
            ],
            None,
            BodyRule::SuccessAndClientError,
            5000,
        )
    );
    assert_eq!(fx.sent(), 3);
}

#[test]
fn a_missing_or_different_state_is_state_mismatch_and_sends_nothing() {
    let fx = Fake::default();
    let kept = text("s1-kept-state");
    for callback in [
        "https://app.example.com/callback?state=forged&authorization_code=c0de",
        "https://app.example.com/callback?authorization_code=c0de",
        "https://app.example.com/callback?state=&authorization_code=c0de",
        "https://app.example.com/callback?state=s1-kept-statex&authorization_code=c0de",
        // A decline or a bare callback with another state is a mismatch first.
        "https://app.example.com/callback?state=forged&error_code=100102",
        "https://app.example.com/callback?state=forged",
        "/callback",
    ] {
        let options = sign_in_options(&[
            ("callbackUrl", text(callback)),
            ("expectedState", kept.clone()),
        ]);
        let error = complete(&fx, &options).unwrap_err();
        assert_eq!(error.code, ErrorCode::StateMismatch, "{callback}");
        assert_eq!(
            message(&error),
            "the callback's state is missing or differs from the expected state; nothing was sent to Freedom ID"
        );
        assert!(details(&error).is_empty());
    }
    assert_eq!(fx.sent(), 0, "the code is never spent");
}

#[test]
fn a_declined_sign_in_is_sign_in_declined_with_freedom_ids_code() {
    let fx = Fake::default();
    for (query, code) in [
        ("error_code=100102", "100102"),
        ("error_code=%3Cb%3E&authorization_code=c0de", "unrecognised"),
    ] {
        let callback = format!("{REDIRECT_URI}?state=s1-kept-state&{query}");
        let options = sign_in_options(&[
            ("callbackUrl", text(&callback)),
            ("expectedState", text("s1-kept-state")),
        ]);
        let error = complete(&fx, &options).unwrap_err();
        assert_eq!(error.code, ErrorCode::SignInDeclined);
        assert_eq!(
            message(&error),
            format!("the sign-in was declined or refused by Freedom ID (error_code {code})")
        );
        assert_eq!(details(&error), [("freedomIdErrorCode", code.to_owned())]);
    }
    assert_eq!(fx.sent(), 0);
}

#[test]
fn a_callback_with_no_code_is_invalid_options_after_the_state_check() {
    let fx = Fake::default();
    let options = sign_in_options(&[
        (
            "callbackUrl",
            text(&format!("{REDIRECT_URI}?state=s1-kept-state")),
        ),
        ("expectedState", text("s1-kept-state")),
    ]);
    let error = complete(&fx, &options).unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidOptions);
    assert_eq!(
        message(&error),
        "invalid options: callbackUrl has neither authorization_code nor error_code"
    );
    assert_eq!(fx.sent(), 0);
}

#[test]
fn a_refused_code_is_code_rejected_with_its_status_and_upstream_code() {
    let cases = [
        (
            400,
            r#"{"error":{"message":"Invalid authorization_code.","code":100101}}"#,
            Some("100101"),
        ),
        (
            200,
            r#"{"error":{"message":"Invalid authorization_code.","code":"100101"}}"#,
            Some("100101"),
        ),
        (422, r#"{"message":"Error validating","errors":{}}"#, None),
        (401, "not json", None),
    ];
    for (status, body, upstream_code) in cases {
        let fx = Fake::default();
        fx.reply(status, body);
        let options = sign_in_options(&[
            (
                "callbackUrl",
                text(&format!(
                    "{REDIRECT_URI}?state=s1-kept-state&authorization_code=c0de"
                )),
            ),
            ("expectedState", text("s1-kept-state")),
        ]);
        let error = complete(&fx, &options).unwrap_err();
        assert_eq!(error.code, ErrorCode::CodeRejected, "{status} {body}");
        assert_eq!(
            message(&error),
            format!(
                "Freedom ID refused the authorization code (HTTP {status}); sign the user in again"
            )
        );
        assert!(!error.message.contains("Invalid authorization_code"));
        let mut expected = vec![("status", status.to_string())];
        expected.extend(upstream_code.map(|code| ("upstreamCode", code.to_owned())));
        assert_eq!(details(&error), expected);
        assert_eq!(fx.sent(), 1, "never retried");
    }
}

#[test]
fn an_outage_rejects_with_its_own_code_on_every_call() {
    // How the upstream fails, and the code, message and details every call rejects with.
    type Outage = (
        fn(&Fake),
        ErrorCode,
        &'static str,
        Vec<(&'static str, String)>,
    );
    let outages: [Outage; 5] = [
        (
            |fx| {
                fx.reply(503, "");
            },
            ErrorCode::UpstreamStatus,
            "Freedom ID answered with HTTP 503",
            vec![("status", "503".to_owned())],
        ),
        (
            |fx| {
                fx.fail(Error::UpstreamTimeout { timeout_ms: 5000 });
            },
            ErrorCode::UpstreamTimeout,
            "Freedom ID did not answer within 5000 ms",
            vec![],
        ),
        (
            |fx| {
                fx.fail(Error::UpstreamNetwork);
            },
            ErrorCode::UpstreamNetwork,
            "could not connect to Freedom ID",
            vec![],
        ),
        (
            |fx| {
                fx.fail(Error::UpstreamMalformed(Malformed::TooLarge));
            },
            ErrorCode::UpstreamMalformed,
            "Freedom ID's answer is unusable: the answer is larger than 64 KiB",
            vec![],
        ),
        (
            |fx| {
                fx.reply(302, "");
            },
            ErrorCode::UpstreamStatus,
            "Freedom ID answered with HTTP 302",
            vec![("status", "302".to_owned())],
        ),
    ];
    for (play, code, text_of, expected) in outages {
        let fx = Fake::default();
        play(&fx);
        let error = link(&fx, &link_options(&[])).unwrap_err();
        assert_eq!((error.code, message(&error)), (code, text_of), "link");
        assert_eq!(details(&error), expected, "link");

        play(&fx);
        let options = ExchangeOptions::read(sign_in_options(&[("code", text("c0de"))])).unwrap();
        let error = run(exchange_authorization_code(&fx, &options)).unwrap_err();
        assert_eq!((error.code, message(&error)), (code, text_of), "exchange");
        assert_eq!(details(&error), expected, "exchange");

        play(&fx);
        let options = RefreshOptions::read(json!({ "refreshToken": "tok-refresh" })).unwrap();
        let error = run(refresh_tokens(&fx, &options)).unwrap_err();
        assert_eq!((error.code, message(&error)), (code, text_of), "refresh");
        assert_eq!(fx.sent(), 3);
    }
}

#[test]
fn an_untrusted_link_and_a_refused_refresh() {
    let fx = Fake::default();
    fx.reply(
        200,
        r#"{"redirect_uri":"https://evil.example/login?track_id=t"}"#,
    );
    let error = link(&fx, &link_options(&[])).unwrap_err();
    assert_eq!(error.code, ErrorCode::UntrustedLink);
    assert!(details(&error).is_empty());

    fx.reply(401, r#"{"error":{"code":100103}}"#);
    let options = RefreshOptions::read(json!({ "refreshToken": "tok-refresh" })).unwrap();
    let error = run(refresh_tokens(&fx, &options)).unwrap_err();
    assert_eq!(error.code, ErrorCode::RefreshRejected);
    assert_eq!(
        message(&error),
        "Freedom ID refused the refresh token (HTTP 401); sign the user in again"
    );
    assert_eq!(
        details(&error),
        [
            ("status", "401".to_owned()),
            ("upstreamCode", "100103".to_owned())
        ]
    );
}

#[test]
fn a_token_pair_without_an_id_has_id_null_in_javascript() {
    let fx = Fake::default();
    fx.reply(200, &tokens().replacen(r#""id":"tok-1","#, "", 1));
    let options = RefreshOptions::read(json!({ "refreshToken": "tok-refresh" })).unwrap();
    let renewed = run(refresh_tokens(&fx, &options)).unwrap();
    let shown = serde_json::to_value(TokensResult::of(&renewed)).unwrap();
    assert_eq!(shown["id"], Value::Null);
    assert_eq!(shown["accessToken"], "tok-access");
}
