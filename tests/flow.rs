//! Whole sign-ins walked through the Worker's flows natively, with scripted upstream
//! answers: `/login` -> `/callback` -> `/session` (refresh, refusal, outage) -> `/logout`.
//! The fake driver's "AEAD" is a keyed checksum, enough to tell a tampered cookie, another
//! key or another cookie name; the real AES-GCM runs in workerd (tests/worker.test.mjs).
//! One file: each test walks a whole sign-in through every route, on the one fake driver
//! (support/fake_edge.rs); the security round's walks are tests/flow_security.rs.

#[path = "support/fake_edge.rs"]
mod fake_edge;

use fake_edge::*;

#[test]
fn a_whole_sign_in_lands_signed_in_and_signs_out() {
    let fx = Fake::new(&[KEY]);
    let settings = settings(&[]);
    let mut jar = Jar::default();
    fx.reply(200, &token_answer("ACCESS1", "REFRESH1", 3600, 86_400));
    let callback = sign_in(&fx, &settings, &mut jar, "?return_to=/app%3Fx%3D1", "c0de");
    assert_eq!(callback.status, 303);
    assert_eq!(callback.header("location"), Some("/app?x=1"));
    assert!(jar.get("__Host-freedom_id_session").is_some());
    assert!(
        jar.0
            .iter()
            .all(|(name, _)| !name.starts_with("__Host-freedom_id_flow_")),
        "the flow cookie is cleared"
    );
    let session_cookie = callback
        .headers
        .iter()
        .find(|(n, v)| *n == "Set-Cookie" && v.starts_with("__Host-freedom_id_session="))
        .unwrap();
    assert!(
        session_cookie
            .1
            .ends_with("; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=86400"),
        "{}",
        session_cookie.1
    );
    // The exchange: POST with Basic and the code.
    let sent = fx.sent.borrow();
    let (method, url, body, _) = &sent[1];
    assert_eq!(
        (*method, url.as_str()),
        (Method::Post, "https://id.example/api/v1/oauth/token")
    );
    assert_eq!(body.as_deref(), Some(r#"{"authorization_code":"c0de"}"#));
    drop(sent);
    // Nothing secret reaches the browser.
    for (_, value) in &callback.headers {
        assert!(
            !value.contains("ACCESS1") && !value.contains("REFRESH1") && !value.contains("c0de"),
            "{value}"
        );
    }
    let session = call(&fx, &settings, "GET", "/session", &jar, None);
    assert_eq!(
        status(&session),
        serde_json::json!({"signedIn": true, "accessExpiresAt": 1_700_003_600u64, "refreshExpiresAt": 1_700_086_400u64, "user": null})
    );
    assert!(!session.body.contains("ACCESS1"));
    assert_eq!(
        fx.sent.borrow().len(),
        2,
        "a fresh session costs no upstream call"
    );

    let forged = logout(&fx, &settings, &jar, "https://evil.example");
    assert_eq!(forged.status, 403);
    assert!(status(&forged)["code"] == "CROSS_SITE_REQUEST");
    let out = logout(&fx, &settings, &jar, "https://app.example.com");
    assert_eq!((out.status, out.header("location")), (303, Some("/")));
    jar.take(&out);
    assert_eq!(
        status(&call(&fx, &settings, "GET", "/session", &jar, None)),
        serde_json::json!({"signedIn": false})
    );
}

#[test]
fn the_state_is_checked_before_the_code_is_spent() {
    let fx = Fake::new(&[KEY]);
    let settings = settings(&[]);
    let mut jar = Jar::default();
    begin_sign_in(&fx, &settings, &mut jar, "");
    for forged in [
        "/callback?state=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&authorization_code=c",
        "/callback?authorization_code=c",
    ] {
        let answer = call(&fx, &settings, "GET", forged, &jar, None);
        assert_eq!(answer.status, 403, "{forged}");
        assert_eq!(status(&answer)["code"], "STATE_MISMATCH");
    }
    assert_eq!(
        fx.sent.borrow().len(),
        1,
        "only /login's call: no code was sent"
    );
    let logs = fx.logs.borrow();
    let line: serde_json::Value = serde_json::from_str(logs.last().unwrap()).unwrap();
    assert_eq!(line["event"], "sign_in_failed");
    assert_eq!(line["code"], "STATE_MISMATCH");
    assert_eq!(line["request_id"], "req-1");
}

#[test]
fn declines_refused_codes_and_outages() {
    let fx = Fake::new(&[KEY]);
    let settings = settings(&[]);
    // Decline.
    let mut jar = Jar::default();
    let state = begin_sign_in(&fx, &settings, &mut jar, "");
    let declined = call(
        &fx,
        &settings,
        "GET",
        &format!("/callback?state={state}&error_code=100102"),
        &jar,
        None,
    );
    assert_eq!(
        (declined.status, status(&declined)["code"].as_str()),
        (403, Some("SIGN_IN_DECLINED"))
    );
    assert!(declined.headers.iter().any(|(n, v)| *n == "Set-Cookie"
        && v.starts_with("__Host-freedom_id_flow_")
        && v.ends_with("Max-Age=0")));
    // A refused code: 400 CODE_REJECTED, the flow is over.
    let mut jar = Jar::default();
    fx.reply(
        400,
        r#"{"error":{"message":"Invalid authorization_code.","code":100101}}"#,
    );
    let rejected = sign_in(&fx, &settings, &mut jar, "", "used");
    assert_eq!(
        (rejected.status, status(&rejected)["code"].as_str()),
        (400, Some("CODE_REJECTED"))
    );
    assert!(jar.0.is_empty(), "flow cleared, no session");
    // An outage: 502, and the flow cookie stays for a retry.
    let mut jar = Jar::default();
    fx.reply(503, "");
    let outage = sign_in(&fx, &settings, &mut jar, "", "c");
    assert_eq!(
        (outage.status, status(&outage)["code"].as_str()),
        (502, Some("UPSTREAM_STATUS"))
    );
    assert!(jar
        .0
        .iter()
        .any(|(name, _)| name.starts_with("__Host-freedom_id_flow_")));
}

#[test]
fn refresh_rotation_refusal_and_outage() {
    let fx = Fake::new(&[KEY]);
    let settings = settings(&[]);
    let mut jar = Jar::default();
    // An access token that expires within the minute.
    fx.reply(200, &token_answer("ACCESS1", "REFRESH1", 30, 86_400));
    assert_eq!(sign_in(&fx, &settings, &mut jar, "", "c").status, 303);
    // Refresh: PATCH with the refresh token, shared by the sealed cookie's id.
    fx.reply(200, &token_answer("ACCESS2", "REFRESH2", 3600, 86_400));
    let refreshed = call(&fx, &settings, "GET", "/session", &jar, None);
    assert_eq!(status(&refreshed)["accessExpiresAt"], 1_700_003_600u64);
    let (method, _, body, share) = fx.sent.borrow().last().cloned().unwrap();
    assert_eq!(
        (method, body, share.as_deref()),
        (Method::Patch, None, Some("Bearer REFRESH1"))
    );
    let old_cookie = jar.get("__Host-freedom_id_session").unwrap().to_owned();
    jar.take(&refreshed);
    assert_ne!(
        jar.get("__Host-freedom_id_session").unwrap(),
        old_cookie,
        "a renewed cookie"
    );

    // An outage at refresh time: still signed in, nothing cleared.
    fx.now_ms.set(NOW + 3_590_000.0);
    fx.replies
        .borrow_mut()
        .push_back(Reply::failed(None, freedom_id_edge::Error::UpstreamNetwork));
    let outage = call(&fx, &settings, "GET", "/session", &jar, None);
    assert_eq!(status(&outage)["signedIn"], true);
    assert!(outage.header("set-cookie").is_none());

    // Refused: signed out, the session cookie kept (a sibling may have renewed it), a marker
    // set, and the next request costs no upstream call.
    fx.reply(
        401,
        r#"{"error":{"message":"Invalid refresh token.","code":100103}}"#,
    );
    let refused = call(&fx, &settings, "GET", "/session", &jar, None);
    assert_eq!(status(&refused), serde_json::json!({"signedIn": false}));
    let cookies: Vec<&str> = refused
        .headers
        .iter()
        .filter(|(n, _)| *n == "Set-Cookie")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(cookies.len(), 1);
    assert!(
        cookies[0].starts_with("__Host-freedom_id_dead="),
        "{cookies:?}"
    );
    jar.take(&refused);
    let calls = fx.sent.borrow().len();
    assert_eq!(
        status(&call(&fx, &settings, "GET", "/session", &jar, None))["signedIn"],
        false
    );
    assert_eq!(
        fx.sent.borrow().len(),
        calls,
        "a dead session costs no further call"
    );

    // Past the refresh token's expiry: signed out and cleared, no call.
    fx.now_ms.set(NOW + 86_400_000.0);
    let over = call(
        &fx,
        &settings,
        "GET",
        "/session",
        &Jar(vec![("__Host-freedom_id_session".into(), old_cookie)]),
        None,
    );
    assert_eq!(status(&over)["signedIn"], false);
    assert!(over
        .header("set-cookie")
        .is_some_and(|c| c.ends_with("Max-Age=0")));
    assert_eq!(fx.sent.borrow().len(), calls);
}

#[test]
fn tampered_cookies_read_as_signed_out_and_rotation_keeps_old_sessions() {
    let fx = Fake::new(&[KEY]);
    let old_settings = settings(&[]);
    let mut jar = Jar::default();
    fx.reply(200, &token_answer("A", "R", 3600, 86_400));
    sign_in(&fx, &old_settings, &mut jar, "", "c");
    let sealed = jar.get("__Host-freedom_id_session").unwrap().to_owned();

    // Rotation: the new key seals, the old one still opens.
    let rotated_fx = Fake::new(&[NEW_KEY, KEY]);
    let both = format!("{NEW_KEY} {KEY}");
    let rotated = settings(&[("FREEDOM_ID_SESSION_SECRET", both.as_str())]);
    assert_eq!(
        status(&call(&rotated_fx, &rotated, "GET", "/session", &jar, None))["signedIn"],
        true
    );
    // Only the new key: the old session no longer opens, and is cleared.
    let new_only_fx = Fake::new(&[NEW_KEY]);
    let new_only = settings(&[("FREEDOM_ID_SESSION_SECRET", NEW_KEY)]);
    let gone = call(&new_only_fx, &new_only, "GET", "/session", &jar, None);
    assert_eq!(status(&gone)["signedIn"], false);
    assert!(gone
        .header("set-cookie")
        .is_some_and(|c| c.ends_with("Max-Age=0")));

    for tampered in [
        format!("{}A", &sealed[..sealed.len() - 1]),
        sealed[..sealed.len() / 2].to_owned(),
        "garbage".to_owned(),
        String::new(),
    ] {
        let jar = Jar(vec![("__Host-freedom_id_session".into(), tampered.clone())]);
        let answer = call(&fx, &old_settings, "GET", "/session", &jar, None);
        assert_eq!(answer.status, 200, "{tampered}");
        assert_eq!(status(&answer)["signedIn"], false, "{tampered}");
    }
    // A flow cookie's value never opens as a session: the cookie name is bound.
    let flow_value = {
        let mut jar = Jar::default();
        fx.reply(
            200,
            r#"{"redirect_uri":"https://id.example/login?track_id=t"}"#,
        );
        jar.take(&call(&fx, &old_settings, "GET", "/login", &jar, None));
        jar.0[0].1.clone()
    };
    let swapped = Jar(vec![("__Host-freedom_id_session".into(), flow_value)]);
    assert_eq!(
        status(&call(&fx, &old_settings, "GET", "/session", &swapped, None))["signedIn"],
        false
    );
}

#[test]
fn login_keeps_at_most_three_flows_and_only_local_return_paths() {
    let fx = Fake::new(&[KEY]);
    let settings = settings(&[]);
    let mut jar = Jar::default();
    for _ in 0..5 {
        fx.reply(
            200,
            r#"{"redirect_uri":"https://id.example/login?track_id=t"}"#,
        );
        jar.take(&call(
            &fx,
            &settings,
            "GET",
            "/login?return_to=//evil.com",
            &jar,
            None,
        ));
    }
    let flows = jar
        .0
        .iter()
        .filter(|(n, _)| n.starts_with("__Host-freedom_id_flow_"))
        .count();
    assert_eq!(flows, 3);
    // The last flow's return_to was refused: a callback lands on FREEDOM_ID_AFTER_SIGN_IN.
    let state = fx
        .sent
        .borrow()
        .last()
        .unwrap()
        .2
        .clone()
        .unwrap()
        .split("state=")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    fx.reply(200, &token_answer("A", "R", 3600, 86_400));
    let landed = call(
        &fx,
        &settings,
        "GET",
        &format!("/callback?state={state}&authorization_code=c"),
        &jar,
        None,
    );
    assert_eq!(landed.header("location"), Some("/"));
}

#[test]
fn a_redirect_uri_on_another_origin_is_misconfigured_and_state_off_has_no_session_routes() {
    let fx = Fake::new(&[KEY]);
    let foreign = settings(&[(
        "FREEDOM_ID_REDIRECT_URI",
        "https://other.example.com/callback",
    )]);
    let login = call(&fx, &foreign, "GET", "/login", &Jar::default(), None);
    assert_eq!(
        (login.status, status(&login)["code"].as_str()),
        (500, Some("MISCONFIGURED"))
    );
    assert!(status(&login)["detail"]
        .as_str()
        .unwrap()
        .contains("FREEDOM_ID_REDIRECT_URI"));
    let health = call(&fx, &foreign, "GET", "/healthz", &Jar::default(), None);
    assert_eq!(
        status(&health),
        serde_json::json!({"status": "misconfigured", "problems": ["FREEDOM_ID_REDIRECT_URI"]})
    );
    assert!(fx.sent.borrow().is_empty());

    let off = settings(&[
        ("FREEDOM_ID_STATE", "off"),
        ("FREEDOM_ID_SESSION_SECRET", ""),
    ]);
    assert!(off.is_ok());
    for (method, path) in [
        ("GET", "/callback?authorization_code=c"),
        ("GET", "/session"),
        ("POST", "/logout"),
    ] {
        assert_eq!(
            call(
                &fx,
                &off,
                method,
                path,
                &Jar::default(),
                Some("https://app.example.com")
            )
            .status,
            404,
            "{path}"
        );
    }
}

#[test]
fn the_gate_forwards_live_sessions_and_sends_others_to_sign_in() {
    let fx = Fake::new(&[KEY]);
    let settings = settings(&[
        ("FREEDOM_ID_PROTECT", "/app /api/private"),
        ("FREEDOM_ID_APP_ORIGIN", "http://127.0.0.1:9999"),
    ]);
    let revoke = &format!("/revoke?key={REVOKE_KEY}");
    let html = Some("text/html,*/*;q=0.8");
    // Signed out: a browser goes to sign in and back; an API caller gets 401.
    let Outcome::Answer(browser) = outcome(
        &fx,
        &settings,
        "GET",
        "/app/x?y=1",
        &Jar::default(),
        None,
        html,
    ) else {
        panic!("a signed-out request is never forwarded");
    };
    assert_eq!(
        (browser.status, browser.header("location")),
        (302, Some("/login?return_to=%2Fapp%2Fx%3Fy%3D1"))
    );
    let api = call(
        &fx,
        &settings,
        "GET",
        "/api/private/data",
        &Jar::default(),
        None,
    );
    assert_eq!(
        (api.status, api.header("www-authenticate")),
        (401, Some("FreedomID"))
    );
    assert_eq!(status(&api)["code"], "SIGN_IN_REQUIRED");
    // Unguarded paths are not the gate's.
    assert_eq!(
        call(&fx, &settings, "GET", "/application", &Jar::default(), None).status,
        404
    );

    let mut jar = Jar::default();
    fx.reply(200, &token_answer("ACCESS1", "REFRESH1", 3600, 86_400));
    sign_in(&fx, &settings, &mut jar, "?return_to=/app", "c");
    jar.0.push(("theme".into(), "dark".into()));
    let Outcome::Forward(Forward {
        url,
        cookie,
        identity,
        set_cookies,
        unreachable,
        ..
    }) = outcome(&fx, &settings, "POST", "/app/save?z=1", &jar, None, None)
    else {
        panic!("a live session is forwarded");
    };
    assert_eq!(url, "http://127.0.0.1:9999/app/save?z=1");
    assert_eq!(
        cookie.as_deref(),
        Some("theme=dark"),
        "the Worker's cookies stay home"
    );
    assert_eq!(
        identity,
        [
            ("X-Freedom-ID-Token-Id", "tok-1".to_owned()),
            ("X-Freedom-ID-Access-Expires-At", "1700003600".to_owned()),
        ],
        "no access token without FREEDOM_ID_FORWARD_ACCESS_TOKEN=on, no assertion without a key"
    );
    assert!(set_cookies.is_empty());
    let unreachable: serde_json::Value =
        serde_json::from_str(&unreachable.unwrap().line("req-1")).unwrap();
    assert_eq!(
        (unreachable["event"].as_str(), unreachable["code"].as_str()),
        (Some("gate_failed"), Some("APP_UNREACHABLE"))
    );
    assert_eq!(unreachable["token_id"], "tok-1");

    // Freedom ID's back channel signs the token pair out: the next guarded request is not
    // forwarded, and the session cookie is cleared.
    let revoking = Fake {
        body: Some(r#"{"id":"tok-1"}"#.into()),
        ..Fake::new(&[KEY])
    };
    assert_eq!(
        call(&revoking, &settings, "POST", revoke, &Jar::default(), None).status,
        204
    );
    let unknown = Fake {
        body: Some(r#"{"id":"never-issued"}"#.into()),
        ..Fake::new(&[KEY])
    };
    assert_eq!(
        call(&unknown, &settings, "POST", revoke, &Jar::default(), None).status,
        204,
        "an unknown id answers the same"
    );
    fx.revoked.borrow_mut().push("tok-1".into());
    let after = call(&fx, &settings, "GET", "/api/private/data", &jar, None);
    assert_eq!(after.status, 401);
    assert!(after
        .header("set-cookie")
        .is_some_and(|c| c.starts_with("__Host-freedom_id_session=;")));
    assert_eq!(
        status(&call(&fx, &settings, "GET", "/session", &jar, None))["signedIn"],
        false
    );

    for body in [
        None,
        Some("not json"),
        Some(r#"{"id":""}"#),
        Some(r#"{"id":42}"#),
        Some(r#"{"id":"a b"}"#),
    ] {
        let bad = Fake {
            body: body.map(str::to_owned),
            ..Fake::new(&[KEY])
        };
        let answer = call(&bad, &settings, "POST", revoke, &Jar::default(), None);
        assert_eq!(
            (answer.status, status(&answer)["code"].as_str()),
            (400, Some("INVALID_REQUEST")),
            "{body:?}"
        );
    }
    let unbound = Fake {
        body: Some(r#"{"id":"tok-1"}"#.into()),
        revocations_bound: false,
        ..Fake::new(&[KEY])
    };
    let answer = call(&unbound, &settings, "POST", revoke, &Jar::default(), None);
    assert_eq!(
        (answer.status, status(&answer)["code"].as_str()),
        (501, Some("REVOCATION_UNAVAILABLE"))
    );
}

#[test]
fn gate_settings_are_checked() {
    for (name, value) in [
        ("FREEDOM_ID_PROTECT", "app"),
        ("FREEDOM_ID_PROTECT", "//evil"),
        ("FREEDOM_ID_APP_ORIGIN", "http://origin.example.com"),
        ("FREEDOM_ID_APP_ORIGIN", "https://origin.example.com/path"),
    ] {
        let error = settings(&[(name, value)]).unwrap_err();
        assert_eq!(
            error.problems()[0].setting.env_name(),
            name,
            "{name}={value}"
        );
    }
    let off = settings(&[("FREEDOM_ID_STATE", "off"), ("FREEDOM_ID_PROTECT", "/app")]);
    assert_eq!(
        off.unwrap_err().problems()[0].setting.env_name(),
        "FREEDOM_ID_PROTECT"
    );
    assert!(settings(&[("FREEDOM_ID_APP_ORIGIN", "https://origin.example.com/")]).is_ok());
}
