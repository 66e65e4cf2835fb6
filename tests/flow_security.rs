//! Security round 3, natively through the Worker's flows: an expired token never reaches the
//! site during an outage, sign-out ends the session for every copy of its cookie, sessions
//! have a bounded life, `/callback` is rate-limited and spends its flow, the gate refuses
//! cross-site writes, and `/revoke` needs its key. One file for that round's walks, on the
//! fake driver the whole-flow tests share (support/fake_edge.rs).

#[path = "support/fake_edge.rs"]
mod fake_edge;

use fake_edge::*;

const HTML: Option<&str> = Some("text/html,*/*;q=0.8");
const SESSION: &str = "__Host-freedom_id_session";

fn gated(extra: &[(&'static str, &'static str)]) -> Result<Settings, SettingsError> {
    let mut all = vec![
        ("FREEDOM_ID_PROTECT", "/app"),
        ("FREEDOM_ID_APP_ORIGIN", "http://127.0.0.1:9999"),
        // These tests follow which access token reaches the site: the opt-in shows it.
        ("FREEDOM_ID_FORWARD_ACCESS_TOKEN", "on"),
    ];
    all.extend_from_slice(extra);
    settings(&all)
}

fn answer_of(outcome: Outcome) -> Answer {
    match outcome {
        Outcome::Answer(answer) => answer,
        Outcome::Forward(forward) => panic!("forwarded: {forward:?}"),
    }
}

fn forward_of(outcome: Outcome) -> Forward {
    match outcome {
        Outcome::Forward(forward) => forward,
        Outcome::Answer(answer) => panic!("answered, not forwarded: {answer:?}"),
    }
}

fn set_cookies(answer: &Answer) -> Vec<&str> {
    answer
        .headers
        .iter()
        .filter(|(name, _)| *name == "Set-Cookie")
        .map(|(_, value)| value.as_str())
        .collect()
}

fn max_age(cookie: &str) -> u64 {
    cookie.rsplit("Max-Age=").next().unwrap().parse().unwrap()
}

#[test]
fn an_expired_access_token_is_never_forwarded_while_its_refresh_fails() {
    let settings = gated(&[]);
    let (fx, jar) = signed_in(&settings, 3600, 86_400 * 20);

    // Due within the minute but not expired, and the refresh fails: the token still works.
    fx.now_ms.set(NOW + 3_590_000.0);
    fx.reply(500, "");
    let due = forward_of(outcome(&fx, &settings, "GET", "/app", &jar, None, None));
    assert!(due
        .identity
        .contains(&("X-Freedom-ID-Access-Token", "ACCESS1".to_owned())));

    // Ten days past its expiry, with Freedom ID answering 500, then timing out, then
    // unreachable, then garbage: each time the failure's own code, Retry-After: 5, nothing
    // forwarded and nothing cleared.
    fx.now_ms.set(NOW + 86_400_000.0 * 10.0);
    let cases = [
        ("UPSTREAM_STATUS", 502, Reply::answered(500, "")),
        (
            "UPSTREAM_TIMEOUT",
            504,
            Reply::failed(
                None,
                freedom_id_edge::Error::UpstreamTimeout { timeout_ms: 5000 },
            ),
        ),
        (
            "UPSTREAM_NETWORK",
            502,
            Reply::failed(None, freedom_id_edge::Error::UpstreamNetwork),
        ),
        ("UPSTREAM_MALFORMED", 502, Reply::answered(200, "not json")),
    ];
    for (code, status_code, reply) in cases {
        fx.replies.borrow_mut().push_back(reply);
        let api = answer_of(outcome(
            &fx,
            &settings,
            "GET",
            "/app/data",
            &jar,
            None,
            None,
        ));
        assert_eq!(
            (api.status, status(&api)["code"].as_str()),
            (status_code, Some(code))
        );
        assert_eq!(api.header("retry-after"), Some("5"), "{code}");
        assert!(set_cookies(&api).is_empty(), "the session stays: {code}");
        assert!(!api.body.contains("ACCESS1"));
    }
    // A browser gets the HTML page, with the same code and status.
    fx.reply(503, "");
    let page = answer_of(outcome(&fx, &settings, "GET", "/app", &jar, None, HTML));
    assert_eq!(page.status, 502);
    assert!(page
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/html")));
    assert!(page.body.contains("UPSTREAM_STATUS"));
    assert_eq!(page.header("retry-after"), Some("5"));

    // /session: still signed in, with the past expiry (the page can say "reconnecting").
    fx.reply(500, "");
    let session = call(&fx, &settings, "GET", "/session", &jar, None);
    assert_eq!(
        status(&session),
        serde_json::json!({"signedIn": true, "accessExpiresAt": 1_700_003_600u64, "refreshExpiresAt": 1_700_000_000u64 + 86_400 * 20, "user": null})
    );
    assert!(!session.body.contains("ACCESS1") && !session.body.contains("REFRESH1"));

    // Freedom ID answers again: the next request refreshes and is forwarded with the new token.
    fx.reply(
        200,
        &token_answer("ACCESS2", "REFRESH2", 86_400 * 11, 86_400 * 20),
    );
    let back = forward_of(outcome(&fx, &settings, "GET", "/app", &jar, None, None));
    assert!(back
        .identity
        .contains(&("X-Freedom-ID-Access-Token", "ACCESS2".to_owned())));
}

#[test]
fn logout_signs_out_every_copy_of_the_cookie_when_revocations_are_bound() {
    let settings = settings(&[("FREEDOM_ID_SESSION_MAX_AGE", "86400")]);
    let (fx, jar) = signed_in(&settings, 3600, 86_400 * 20);
    let copy = Jar(jar.0.clone());
    let out = logout(&fx, &settings, &jar, "https://app.example.com");
    assert_eq!(out.status, 303);
    assert_eq!(*fx.revoked.borrow(), ["tok-1"]);
    assert_eq!(
        *fx.revoke_ttls.borrow(),
        [86_400],
        "the entry outlives every session it names"
    );
    let stolen = call(&fx, &settings, "GET", "/session", &copy, None);
    assert_eq!(status(&stolen), serde_json::json!({"signedIn": false}));
    assert!(set_cookies(&stolen)[0].starts_with(&format!("{SESSION}=;")));

    // Without the binding, sign-out is per browser: the copy lives on.
    let unbound = Fake {
        revocations_bound: false,
        ..Fake::new(&[KEY])
    };
    let mut jar = Jar::default();
    unbound.reply(200, &token_answer("ACCESS1", "REFRESH1", 3600, 86_400 * 20));
    sign_in(&unbound, &settings, &mut jar, "", "c");
    let copy = Jar(jar.0.clone());
    let out = logout(&unbound, &settings, &jar, "https://app.example.com");
    assert_eq!(out.status, 303);
    assert_eq!(
        status(&call(&unbound, &settings, "GET", "/session", &copy, None))["signedIn"],
        true
    );
    // A refused logout records nothing.
    let (fx, jar) = signed_in(&settings, 3600, 86_400 * 20);
    let forged = logout(&fx, &settings, &jar, "https://evil.example");
    assert_eq!(forged.status, 403);
    assert!(fx.revoked.borrow().is_empty());
}

#[test]
fn a_session_ends_at_its_max_age_and_refreshes_never_extend_it() {
    let fx = Fake::new(&[KEY]);
    let settings = settings(&[("FREEDOM_ID_SESSION_MAX_AGE", "3600")]);
    let mut jar = Jar::default();
    fx.reply(200, &token_answer("ACCESS1", "REFRESH1", 1800, 86_400 * 28));
    let callback = sign_in(&fx, &settings, &mut jar, "", "c");
    let cookie = set_cookies(&callback)
        .into_iter()
        .find(|c| c.starts_with(SESSION))
        .unwrap();
    assert_eq!(
        max_age(cookie),
        3600,
        "the cookie lives as long as the session may"
    );

    // At 50 minutes a refresh renews the tokens, but the cookie keeps the session's end.
    fx.now_ms.set(NOW + 3_000_000.0);
    fx.reply(
        200,
        &token_answer("ACCESS2", "REFRESH2", 3000 + 1800, 86_400 * 28),
    );
    let refreshed = call(&fx, &settings, "GET", "/session", &jar, None);
    assert_eq!(status(&refreshed)["signedIn"], true);
    assert_eq!(max_age(set_cookies(&refreshed)[0]), 600);
    jar.take(&refreshed);

    // Past the hour: signed out and cleared, whatever the refresh token says, no call.
    let calls = fx.sent.borrow().len();
    fx.now_ms.set(NOW + 3_600_000.0);
    let over = call(&fx, &settings, "GET", "/session", &jar, None);
    assert_eq!(status(&over), serde_json::json!({"signedIn": false}));
    assert!(set_cookies(&over)[0].starts_with(&format!("{SESSION}=;")));
    assert_eq!(fx.sent.borrow().len(), calls);

    // The setting's bounds.
    for bad in ["299", "2592001", "1h", "-1", "3600.5"] {
        let error = settings_error(&[("FREEDOM_ID_SESSION_MAX_AGE", bad)]);
        assert_eq!(error, "FREEDOM_ID_SESSION_MAX_AGE", "{bad}");
    }
    for good in ["300", "2592000"] {
        assert!(fake_edge::settings(&[("FREEDOM_ID_SESSION_MAX_AGE", good)]).is_ok());
    }
    // A refused refresh's marker and the revocations live the session's whole life.
    let (fx, jar) = signed_in(&settings, 30, 86_400);
    fx.reply(401, r#"{"error":{"message":"no","code":1}}"#);
    let refused = call(&fx, &settings, "GET", "/session", &jar, None);
    assert_eq!(max_age(set_cookies(&refused)[0]), 3600);
}

fn settings_error(extra: &[(&str, &str)]) -> &'static str {
    fake_edge::settings(extra).unwrap_err().problems()[0]
        .setting
        .env_name()
}

#[test]
fn callback_is_rate_limited_before_any_upstream_call() {
    let fx = Fake::new(&[KEY]);
    let settings = settings(&[]);
    let mut jar = Jar::default();
    fx.reply(
        200,
        r#"{"redirect_uri":"https://id.example/login?track_id=t"}"#,
    );
    jar.take(&call(&fx, &settings, "GET", "/login", &jar, None));
    let limited = Fake {
        limited: true,
        ..Fake::new(&[KEY])
    };
    let answer = call(
        &limited,
        &settings,
        "GET",
        "/callback?state=x&authorization_code=c",
        &jar,
        None,
    );
    assert_eq!(
        (answer.status, status(&answer)["code"].as_str()),
        (429, Some("RATE_LIMITED"))
    );
    assert_eq!(answer.header("retry-after"), Some("60"));
    assert!(limited.sent.borrow().is_empty());
}

#[test]
fn a_flow_is_spent_by_its_first_code_and_kept_through_outages() {
    let fx = Fake::new(&[KEY]);
    let settings = settings(&[]);
    let mut jar = Jar::default();
    let state = begin_sign_in(&fx, &settings, &mut jar, "");
    // The attacker keeps the flow cookie (the callback's clearing never reaches them).
    let kept = Jar(jar.0.clone());
    let callback = |code: &str| format!("/callback?state={state}&authorization_code={code}");
    fx.reply(400, r#"{"error":{"message":"Invalid.","code":100101}}"#);
    let rejected = call(&fx, &settings, "GET", &callback("guess1"), &kept, None);
    assert_eq!(status(&rejected)["code"], "CODE_REJECTED");
    let calls = fx.sent.borrow().len();
    for code in ["guess2", "guess1"] {
        let again = call(&fx, &settings, "GET", &callback(code), &kept, None);
        assert_eq!(
            (again.status, status(&again)["code"].as_str()),
            (403, Some("STATE_MISMATCH")),
            "{code}"
        );
    }
    assert_eq!(fx.sent.borrow().len(), calls, "no further token call");

    // An outage keeps the flow usable: a reload may retry, and the retry signs in.
    let fx = Fake::new(&[KEY]);
    let mut jar = Jar::default();
    let state = begin_sign_in(&fx, &settings, &mut jar, "");
    let kept = Jar(jar.0.clone());
    let callback = |code: &str| format!("/callback?state={state}&authorization_code={code}");
    fx.reply(503, "");
    let outage = call(&fx, &settings, "GET", &callback("c"), &kept, None);
    assert_eq!(status(&outage)["code"], "UPSTREAM_STATUS");
    fx.reply(200, &token_answer("ACCESS1", "REFRESH1", 3600, 86_400));
    assert_eq!(
        call(&fx, &settings, "GET", &callback("c"), &kept, None).status,
        303
    );
    // A success spends the flow too.
    let calls = fx.sent.borrow().len();
    let replay = call(&fx, &settings, "GET", &callback("other"), &kept, None);
    assert_eq!(status(&replay)["code"], "STATE_MISMATCH");
    assert_eq!(fx.sent.borrow().len(), calls);
}

#[test]
fn the_gate_forwards_a_write_only_from_this_site() {
    let settings = gated(&[]);
    let (fx, jar) = signed_in(&settings, 3600, 86_400);
    let this = "https://app.example.com";
    let refused = [
        (Some("https://evil.example"), None),
        (Some("https://sub.app.example.com"), None),
        (Some("http://app.example.com"), None),
        (Some("null"), None),
        (Some("null"), Some("same-site")),
        (None, Some("cross-site")),
        (None, Some("same-site")),
        (Some(this), Some("same-site")),
        (Some(this), Some("cross-site")),
    ];
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        for (origin, site) in refused {
            let headers = Headers {
                origin,
                sec_fetch_site: site,
                ..Headers::default()
            };
            let answer = answer_of(outcome_with(
                &fx, &settings, method, "/app/x", &jar, &headers,
            ));
            assert_eq!(
                (answer.status, status(&answer)["code"].as_str()),
                (403, Some("CROSS_SITE_REQUEST")),
                "{method} {origin:?} {site:?}"
            );
        }
    }
    let browser = Headers {
        origin: Some("https://evil.example"),
        accept: HTML,
        ..Headers::default()
    };
    let page = answer_of(outcome_with(
        &fx, &settings, "POST", "/app/x", &jar, &browser,
    ));
    assert!(page.status == 403 && page.body.contains("CROSS_SITE_REQUEST"));

    let allowed = [
        (Some(this), None),
        (Some(this), Some("same-origin")),
        (None, None),
        (None, Some("same-origin")),
        (None, Some("none")),
        (Some("null"), Some("same-origin")),
    ];
    for (origin, site) in allowed {
        let headers = Headers {
            origin,
            sec_fetch_site: site,
            ..Headers::default()
        };
        forward_of(outcome_with(
            &fx, &settings, "POST", "/app/x", &jar, &headers,
        ));
    }
    // Reads go through from anywhere (links from other sites must work).
    for method in ["GET", "HEAD", "OPTIONS"] {
        let headers = Headers {
            origin: Some("https://evil.example"),
            sec_fetch_site: Some("cross-site"),
            ..Headers::default()
        };
        forward_of(outcome_with(
            &fx, &settings, method, "/app/x", &jar, &headers,
        ));
    }
    // FREEDOM_ID_GATE_CSRF=off leaves the check to the site.
    let off = gated(&[("FREEDOM_ID_GATE_CSRF", "off")]);
    let headers = Headers {
        origin: Some("https://evil.example"),
        sec_fetch_site: Some("cross-site"),
        ..Headers::default()
    };
    forward_of(outcome_with(&fx, &off, "POST", "/app/x", &jar, &headers));
    assert_eq!(
        settings_error(&[("FREEDOM_ID_GATE_CSRF", "yes")]),
        "FREEDOM_ID_GATE_CSRF"
    );
}

#[test]
fn a_refreshed_session_forwarded_to_the_site_is_never_cached_by_a_shared_cache() {
    let settings = gated(&[]);
    let (fx, mut jar) = signed_in(&settings, 30, 86_400);
    fx.reply(200, &token_answer("ACCESS2", "REFRESH2", 3600, 86_400));
    let renewed = forward_of(outcome(&fx, &settings, "GET", "/app", &jar, None, None));
    assert_eq!(renewed.set_cookies.len(), 1);
    assert_eq!(renewed.cache_control, Some("private, no-store"));
    jar.take(&Answer {
        status: 200,
        headers: vec![("Set-Cookie", renewed.set_cookies[0].clone())],
        body: String::new(),
    });
    let plain = forward_of(outcome(&fx, &settings, "GET", "/app", &jar, None, None));
    assert!(plain.set_cookies.is_empty());
    assert_eq!(plain.cache_control, None, "the site's own caching stands");
}

#[test]
fn revoke_accepts_freedom_id_s_call_only_with_its_key() {
    let settings = settings(&[]);
    let revoking =
        |target: &str, fx: &Fake| call(fx, &settings, "POST", target, &Jar::default(), None);
    let body = || Fake {
        body: Some(r#"{"id":"tok-1"}"#.into()),
        ..Fake::new(&[KEY])
    };
    for target in [
        "/revoke".to_owned(),
        "/revoke?key=".to_owned(),
        "/revoke?key=wrong-key-of-at-least-32-characters!".to_owned(),
        format!("/revoke?key={REVOKE_KEY}x"),
        format!("/revoke?key={}", &REVOKE_KEY[1..]),
        format!("/revoke?other={REVOKE_KEY}"),
    ] {
        let fx = body();
        let answer = revoking(&target, &fx);
        assert_eq!(
            (answer.status, status(&answer)["code"].as_str()),
            (403, Some("REVOCATION_FORBIDDEN")),
            "{target}"
        );
        assert!(fx.revoked.borrow().is_empty(), "no KV write: {target}");
        assert!(!answer.body.contains(REVOKE_KEY));
    }
    let fx = body();
    let accepted = revoking(&format!("/revoke?key={REVOKE_KEY}"), &fx);
    assert_eq!(accepted.status, 204);
    assert_eq!(*fx.revoked.borrow(), ["tok-1"]);
    assert_eq!(*fx.revoke_ttls.borrow(), [2_592_000]);

    // Rate-limited like the sign-in routes, before the key is even looked at.
    let limited = Fake {
        limited: true,
        ..body()
    };
    let answer = revoking(&format!("/revoke?key={REVOKE_KEY}"), &limited);
    assert_eq!(answer.status, 429);
    assert!(limited.revoked.borrow().is_empty());

    // With the KV binding and no key: 501, and /healthz names the missing setting.
    let keyless = fake_edge::settings(&[("FREEDOM_ID_REVOKE_KEY", "")]);
    let fx = body();
    let answer = call(&fx, &keyless, "POST", "/revoke", &Jar::default(), None);
    assert_eq!(
        (answer.status, status(&answer)["code"].as_str()),
        (501, Some("REVOCATION_UNAVAILABLE"))
    );
    assert!(fx.revoked.borrow().is_empty());
    let health = call(&fx, &keyless, "GET", "/healthz", &Jar::default(), None);
    assert_eq!(
        (health.status, status(&health)),
        (
            503,
            serde_json::json!({"status": "misconfigured", "problems": ["FREEDOM_ID_REVOKE_KEY"]})
        )
    );
    let unbound = Fake {
        revocations_bound: false,
        ..body()
    };
    let health = call(&unbound, &keyless, "GET", "/healthz", &Jar::default(), None);
    assert_eq!(health.status, 200, "no binding, no key needed");
    // A short key, or one with whitespace, is refused at start.
    for bad in ["short", "a key with spaces of at least 32 chars"] {
        assert_eq!(
            settings_error(&[("FREEDOM_ID_REVOKE_KEY", bad)]),
            "FREEDOM_ID_REVOKE_KEY"
        );
    }
    let shown = format!("{:?}", fake_edge::settings(&[]).unwrap());
    assert!(!shown.contains(REVOKE_KEY), "the key is redacted");
}
