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

// The OpenID Connect flavour and the user's profile (issue #21, section 3).

mod oidc {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use fake_edge::fake_signature;

    const ISSUER: &str = "https://passport.freedompay.kz";
    const OIDC_TOKEN_URL: &str = "https://passport.freedompay.kz/api/v1/oidc/token";
    const JWKS_URL: &str = "https://id.example/oidc/jwks.json";
    const USERINFO_URL: &str = "https://id.example/api/v1/user/info";
    const SUB: &str = "41790bb3-5b2c-4a3e-9c1f-0a6e0d6f7a11";
    const NOW_SECS: u64 = (NOW / 1000.0) as u64;

    fn jwt(header: &str, claims: &str) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let signature = fake_signature("k1", input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    fn claims(nonce: &str) -> String {
        format!(
            r#"{{"iss":"{ISSUER}","sub":"{SUB}","aud":"demo-client","exp":{},"iat":{NOW_SECS},"nonce":"{nonce}","firstname":"Aida","acr":"1"}}"#,
            NOW_SECS + 604_800
        )
    }

    fn answer(id_token: &str) -> String {
        format!(
            r#"{{"access_token":"tok-access","expires_in":3600,"refresh_token":"tok-refresh","token_type":"Bearer","id_token":"{id_token}"}}"#
        )
    }

    fn oidc_options(changes: &[(&str, Value)]) -> Value {
        json!({
            "protocol": "oidc",
            "clientId": "demo-client",
            "clientSecret": SECRET,
            "redirectUri": REDIRECT_URI,
            "callbackUrl": format!("{REDIRECT_URI}?code=c0de&state=s1-kept-state"),
            "expectedState": "s1-kept-state",
            "expectedNonce": "n0nce-kept",
        })
        .with(changes)
    }

    #[test]
    fn an_oidc_link_is_built_here_with_a_fresh_state_and_nonce_and_no_secret() {
        let fx = Fake::default();
        let options = json!({
            "protocol": "oidc",
            "clientId": "demo-client",
            "redirectUri": REDIRECT_URI,
            "grants": ["openid", "read.profile"],
        });
        let made = link(&fx, &options).unwrap();
        assert_eq!(fx.sent(), 0, "no call to Freedom ID");
        assert_eq!(
            fx.counter.get(),
            64,
            "256 bits each for the state and the nonce"
        );
        let state = made.state.as_ref().unwrap().secret().to_owned();
        let nonce = made.nonce.as_ref().unwrap().secret().to_owned();
        assert_ne!(state, nonce);
        let url = &made.link.url;
        assert_eq!(url.origin(), "https://passport.freedompay.kz");
        assert_eq!(
            url.query_param("scope").as_deref(),
            Some("openid read.profile")
        );
        assert_eq!(url.query_param("state").as_deref(), Some(state.as_str()));
        assert_eq!(url.query_param("nonce").as_deref(), Some(nonce.as_str()));
        assert_eq!(url.query_param("response_type").as_deref(), Some("code"));
        assert_eq!(url.query_param("client_id").as_deref(), Some("demo-client"));
        assert_eq!(
            url.query_param("redirect_uri").as_deref(),
            Some(REDIRECT_URI),
            "sent as given, no state appended"
        );
        let shown = serde_json::to_value(made.result()).unwrap();
        assert_eq!(
            shown,
            json!({ "url": url.as_str(), "trackId": null, "expireAt": null, "state": state, "nonce": nonce })
        );
        // Given values are used as they are, and draw no random bytes; a secret is fine too.
        let fx = Fake::default();
        let given = options.with(&[
            ("state", text("my-state")),
            ("nonce", text("my-nonce")),
            ("clientSecret", text(SECRET)),
            ("oidcAuthorizeUrl", text("https://id.example/openid")),
        ]);
        let made = link(&fx, &given).unwrap();
        assert_eq!(fx.counter.get(), 0);
        assert_eq!(
            made.link.url.as_str(),
            "https://id.example/openid?scope=openid%20read.profile&state=my-state&response_type=code&client_id=demo-client&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback&nonce=my-nonce"
        );
    }

    #[test]
    fn an_oidc_sign_in_checks_the_id_token_and_resolves_the_user_and_claims() {
        let fx = Fake::default();
        let id_token = jwt(r#"{"alg":"ES256","kid":"k1"}"#, &claims("n0nce-kept"));
        fx.reply(200, &answer(&id_token));
        let signed_in = complete(&fx, &oidc_options(&[])).unwrap();
        assert_eq!(fx.sent(), 1, "no key set, no profile: the exchange only");
        assert_eq!(
            fx.last(),
            (
                Method::Post,
                OIDC_TOKEN_URL.to_owned(),
                client_post_headers(),
                Some(format!(
                    r#"{{"code":"c0de","redirect_uri":"{REDIRECT_URI}","grant_type":"authorization_code"}}"#
                )),
                BodyRule::SuccessAndClientError,
                5000,
            )
        );
        let shown = js_result(&signed_in);
        assert_eq!(
            shown,
            json!({
                "id": null,
                "accessToken": "tok-access",
                "refreshToken": "tok-refresh",
                "accessExpiresAt": (NOW_SECS + 3600) as f64,
                "refreshExpiresAt": (NOW_SECS + 3600) as f64,
                "user": { "id": SUB, "firstname": "Aida" },
                "idToken": id_token,
                "idTokenClaims": serde_json::from_str::<Value>(&claims("n0nce-kept")).unwrap(),
            })
        );
        let debug = format!("{signed_in:?}");
        assert!(
            !debug.contains("Aida") && !debug.contains(SUB) && !debug.contains(&id_token),
            "{debug}"
        );
    }

    #[test]
    fn with_a_key_set_and_a_profile_both_are_fetched_and_the_keys_kept() {
        let fx = Fake::default();
        let id_token = jwt(r#"{"alg":"ES256","kid":"k1"}"#, &claims("n0nce-kept"));
        let keys = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","x":"x","y":"y","alg":"ES256","use":"sig"}]}"#;
        let profile =
            format!(r#"{{"id":"other","sub":"{SUB}","lastname":"Seitkali","firstname":"Аида"}}"#);
        fx.reply(200, &answer(&id_token))
            .reply(200, keys)
            .reply(200, &profile);
        let options = oidc_options(&[
            ("jwksUrl", text(JWKS_URL)),
            ("userInfoUrl", text(USERINFO_URL)),
            ("timeoutMs", json!(900)),
        ]);
        let signed_in = complete(&fx, &options).unwrap();
        let sent: Vec<String> = fx
            .sent
            .borrow()
            .iter()
            .map(|(r, _)| r.url.clone())
            .collect();
        assert_eq!(sent, [OIDC_TOKEN_URL, JWKS_URL, USERINFO_URL]);
        assert_eq!(
            fx.last().2,
            vec![
                ("Authorization", "Bearer tok-access".to_owned()),
                ("Accept", "application/json".to_owned()),
                ("Accept-Encoding", "identity".to_owned()),
            ]
        );
        assert_eq!(fx.last().5, 900);
        assert_eq!(
            js_result(&signed_in)["user"],
            json!({ "id": SUB, "firstname": "Аида", "lastname": "Seitkali" })
        );
        // The next sign-in in this process uses the kept keys: no second fetch.
        fx.reply(200, &answer(&id_token)).reply(200, &profile);
        complete(&fx, &options).unwrap();
        assert_eq!(fx.sent(), 5);
        // A forged signature is ID_TOKEN_INVALID.
        let forged = format!(
            "{}.{}",
            id_token.rsplit_once('.').unwrap().0,
            URL_SAFE_NO_PAD.encode("k1:0")
        );
        fx.reply(200, &answer(&forged));
        let error = complete(&fx, &options).unwrap_err();
        assert_eq!(error.code, ErrorCode::IdTokenInvalid);
        assert_eq!(fx.sent(), 6, "neither the keys again nor the profile");
    }

    #[test]
    fn each_id_token_fault_is_id_token_invalid_and_the_profile_is_not_fetched() {
        let good = claims("n0nce-kept");
        for bad in [
            good.replace(ISSUER, "https://evil.example"),
            good.replace("\"demo-client\"", "\"other-client\""),
            good.replace("n0nce-kept", "another"),
            good.replace(",\"nonce\":\"n0nce-kept\"", ""),
            good.replace(&format!("\"sub\":\"{SUB}\","), ""),
            good.replace(
                &(NOW_SECS + 604_800).to_string(),
                &(NOW_SECS - 61).to_string(),
            ),
        ] {
            let fx = Fake::default();
            fx.reply(200, &answer(&jwt(r#"{"alg":"ES256","kid":"k1"}"#, &bad)));
            let options = oidc_options(&[("userInfoUrl", text(USERINFO_URL))]);
            let error = complete(&fx, &options).unwrap_err();
            assert_eq!(error.code, ErrorCode::IdTokenInvalid, "{bad}");
            assert_eq!(details(&error), vec![], "{bad}");
            assert!(!message(&error).contains("n0nce-kept"), "{bad}");
            assert_eq!(fx.sent(), 1, "{bad}");
        }
        let fx = Fake::default();
        fx.reply(200, &answer(&jwt(r#"{"alg":"none"}"#, &good)));
        assert_eq!(
            complete(&fx, &oidc_options(&[])).unwrap_err().code,
            ErrorCode::IdTokenInvalid
        );
        // The state is still checked first: a forged callback spends nothing.
        let fx = Fake::default();
        let forged = oidc_options(&[("expectedState", text("other"))]);
        assert_eq!(
            complete(&fx, &forged).unwrap_err().code,
            ErrorCode::StateMismatch
        );
        assert_eq!(fx.sent(), 0);
        // `error` (OIDC's name) is SIGN_IN_DECLINED.
        let declined = oidc_options(&[(
            "callbackUrl",
            text(&format!(
                "{REDIRECT_URI}?error=access_denied&state=s1-kept-state"
            )),
        )]);
        let error = complete(&fx, &declined).unwrap_err();
        assert_eq!(error.code, ErrorCode::SignInDeclined);
        assert_eq!(
            details(&error),
            vec![("freedomIdErrorCode", "access_denied".to_owned())]
        );
    }

    #[test]
    fn the_profile_in_oauth2_and_alone_and_its_refusals() {
        let fx = Fake::default();
        fx.reply(200, &tokens())
            .reply(200, r#"{"id":"u-1","firstname":"Aida","cards":["x"]}"#);
        let options = sign_in_options(&[
            (
                "callbackUrl",
                text("/callback?authorization_code=c0de&state=s1-kept-state"),
            ),
            ("expectedState", text("s1-kept-state")),
            ("userInfoUrl", text(USERINFO_URL)),
        ]);
        let signed_in = complete(&fx, &options).unwrap();
        let shown = js_result(&signed_in);
        assert_eq!(shown["user"], json!({ "id": "u-1", "firstname": "Aida" }));
        assert_eq!(
            (&shown["idToken"], &shown["idTokenClaims"]),
            (&Value::Null, &Value::Null)
        );
        assert_eq!(
            shown["refreshExpiresAt"],
            json!(((NOW / 1000.0) as u64 + 7200) as f64)
        );

        let alone =
            json!({ "accessToken": "tok-access", "userInfoUrl": USERINFO_URL, "timeoutMs": 700 });
        fx.reply(200, r#"{"id":42,"email":"aida@example.com"}"#);
        let user = user_info(&fx, &alone).unwrap();
        assert_eq!(
            serde_json::to_value(&user).unwrap(),
            json!({ "id": "42", "email": "aida@example.com" })
        );
        assert_eq!(
            (fx.last().0, fx.last().1, fx.last().5),
            (Method::Get, USERINFO_URL.to_owned(), 700)
        );
        for (status, body, code, shown) in [
            (
                401,
                "",
                ErrorCode::UserinfoRejected,
                vec![("status", "401".to_owned())],
            ),
            (
                403,
                "",
                ErrorCode::UserinfoRejected,
                vec![("status", "403".to_owned())],
            ),
            (
                500,
                "",
                ErrorCode::UpstreamStatus,
                vec![("status", "500".to_owned())],
            ),
            (200, "[]", ErrorCode::UpstreamMalformed, vec![]),
            (
                200,
                r#"{"firstname":"Aida"}"#,
                ErrorCode::UpstreamMalformed,
                vec![],
            ),
        ] {
            fx.reply(status, body);
            let error = user_info(&fx, &alone).unwrap_err();
            assert_eq!(
                (error.code, details(&error)),
                (code, shown),
                "{status} {body}"
            );
            assert!(!message(&error).contains("Aida"));
        }
        // In oauth2 a failed profile fails the sign-in.
        fx.reply(200, &tokens()).reply(401, "");
        assert_eq!(
            complete(&fx, &options).unwrap_err().code,
            ErrorCode::UserinfoRejected
        );
        // In oidc a user-info `sub` that is not the id_token's is ID_TOKEN_INVALID.
        let id_token = jwt(r#"{"alg":"ES256","kid":"k1"}"#, &claims("n0nce-kept"));
        fx.reply(200, &answer(&id_token))
            .reply(200, r#"{"sub":"someone-else"}"#);
        let options = oidc_options(&[("userInfoUrl", text(USERINFO_URL))]);
        assert_eq!(
            complete(&fx, &options).unwrap_err().code,
            ErrorCode::IdTokenInvalid
        );
    }
}
