//! `verifyGateAssertion`'s core (`flow::npm`) driven natively: its options, every refusal in
//! its order, and the per-URL key sets (fresh 5 minutes, an unknown `kid` refetching at most
//! once a minute) on a scripted clock. The fake "signs" with `fake_signature` (no ECDSA
//! natively); `tests/npm/` checks real ES256 assertions in every runtime.

#[path = "support/fake_edge.rs"]
#[allow(unused_imports)] // the Worker flows' part of it
mod fake_edge;
#[path = "support/fake_npm.rs"]
mod fake_npm;

use fake_edge::NOW;
use fake_npm::*;

const ISSUER: &str = "https://app.example.com";
const AUDIENCE: &str = "https://origin.example.com";
const JWKS_URL: &str = "https://app.example.com/.well-known/jwks.json";
const HEADER: &str = r#"{"alg":"ES256","typ":"JWT","kid":"k1"}"#;
const MINUTE: f64 = 60_000.0;

fn now_secs() -> u64 {
    (NOW / 1000.0) as u64
}

fn key(kid: &str) -> Value {
    json!({"kty": "EC", "crv": "P-256", "x": "x-of-key", "y": "y-of-key", "kid": kid, "alg": "ES256", "use": "sig"})
}

fn jwks(kids: &[&str]) -> Value {
    json!({ "keys": kids.iter().map(|kid| key(kid)).collect::<Vec<_>>() })
}

/// A key set as the npm driver hands it over: JSON text.
fn as_given(set: Value) -> Value {
    Value::String(set.to_string())
}

fn given(changes: &[(&str, Value)]) -> Value {
    json!({ "jwks": as_given(jwks(&["k1", "k2"])), "issuer": ISSUER, "audience": AUDIENCE })
        .with(changes)
}

fn by_url(changes: &[(&str, Value)]) -> Value {
    json!({ "jwksUrl": JWKS_URL, "issuer": ISSUER, "audience": AUDIENCE }).with(changes)
}

fn claims_at(iat: u64, change: &[(&str, Value)]) -> String {
    json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "u-1", "sid": "s-1", "iat": iat, "exp": iat + 60,
        "user": { "id": "u-1", "firstname": "Aida", "email": "aida@example.com" },
    })
    .with(change)
    .to_string()
}

fn claims(change: &[(&str, Value)]) -> String {
    claims_at(now_secs(), change)
}

fn good() -> String {
    fake_jws(HEADER, &claims(&[]), "k1")
}

/// The error's problem, after checking its code and that it shows no part of `token`.
fn problem(result: Result<Value, NpmError>, token: &str) -> &'static str {
    let error = result.expect_err("refused");
    assert_eq!(error.code, ErrorCode::AssertionInvalid, "{error}");
    let shown = format!("{error} {error:?}");
    for part in token.split('.').filter(|part| part.len() > 8) {
        assert!(!shown.contains(part), "{shown}");
    }
    assert!(
        !shown.contains("Aida") && !shown.contains("aida@"),
        "{shown}"
    );
    error.problem.expect("a problem")
}

#[test]
fn a_good_assertion_resolves_who_passed_the_gate() {
    let fx = Fake::default();
    let result = verify_assertion(&fx, Some(&good()), &given(&[])).unwrap();
    assert_eq!(
        result,
        json!({
            "sub": "u-1", "sid": "s-1",
            "user": { "id": "u-1", "firstname": "Aida", "email": "aida@example.com" },
            "iat": now_secs() as f64, "exp": (now_secs() + 60) as f64,
        })
    );
    // sub and sid null, no user: all null; an array aud holding ours.
    let loose = claims(&[
        ("sub", Value::Null),
        ("sid", Value::Null),
        ("user", Value::Null),
        ("aud", json!(["x", AUDIENCE])),
    ]);
    let result = verify_assertion(&fx, Some(&fake_jws(HEADER, &loose, "k1")), &given(&[]));
    let result = result.unwrap();
    assert_eq!(
        (&result["sub"], &result["sid"], &result["user"]),
        (&Value::Null, &Value::Null, &Value::Null)
    );
    assert_eq!(fx.sent(), 0, "a given key set makes no call");
}

#[test]
fn every_refusal_has_its_problem_in_the_documented_order() {
    let fx = Fake::default();
    let options = given(&[]);
    let check = |token: &str| problem(verify_assertion(&fx, Some(token), &options), token);
    assert_eq!(
        problem(verify_assertion(&fx, None, &options), ""),
        "malformed"
    );
    let good = good();
    let (head, rest) = good.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let b64 = |text: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    };
    for malformed in [
        String::new(),
        "not a jwt".to_owned(),
        format!("{head}.{payload}"),
        format!("{good}.x"),
        format!("{head}.{payload}=.{signature}"),
        format!("{}.{payload}.{signature}", b64("[1]")),
        format!("{head}.{}.{signature}", b64("not json")),
        "a".repeat(16 * 1024 + 1),
    ] {
        assert_eq!(check(&malformed), "malformed", "{malformed}");
    }
    let sign = |header: &str, claims: &str, kid: &str| fake_jws(header, claims, kid);
    let claims_now = claims(&[]);
    let cases = [
        // alg before kid, kid before the signature.
        (
            sign(r#"{"alg":"none","kid":"zz"}"#, &claims_now, "k1"),
            "alg",
        ),
        (
            sign(r#"{"alg":"HS256","kid":"k1"}"#, &claims_now, "k1"),
            "alg",
        ),
        (
            sign(r#"{"alg":"RS256","kid":"k1"}"#, &claims_now, "k1"),
            "alg",
        ),
        (sign(r#"{"alg":"ES256"}"#, &claims_now, "k1"), "kid"),
        (
            sign(r#"{"alg":"ES256","kid":"k9"}"#, &claims_now, "k9"),
            "kid",
        ),
        // Signed by another key (k2's signature under k1's kid); a changed payload.
        (sign(HEADER, &claims_now, "k2"), "signature"),
        (
            format!(
                "{head}.{}.{signature}",
                b64(&claims(&[("sub", text("someone-else"))]))
            ),
            "signature",
        ),
        // The claims, signed well, after the signature.
        (
            sign(
                HEADER,
                &claims(&[("iss", text("https://evil.example"))]),
                "k1",
            ),
            "iss",
        ),
        (sign(HEADER, &claims(&[("iss", Value::Null)]), "k1"), "iss"),
        (
            sign(
                HEADER,
                &claims(&[("aud", text("https://other.example"))]),
                "k1",
            ),
            "aud",
        ),
        (sign(HEADER, &claims(&[("aud", json!(["x"]))]), "k1"), "aud"),
        (sign(HEADER, &claims_at(now_secs() - 65, &[]), "k1"), "exp"),
        (sign(HEADER, &claims(&[("exp", Value::Null)]), "k1"), "exp"),
        (sign(HEADER, &claims_at(now_secs() + 6, &[]), "k1"), "iat"),
        (sign(HEADER, &claims(&[("iat", text("now"))]), "k1"), "iat"),
        // The wrong types are malformed, before anything else.
        (
            sign(HEADER, &claims(&[("sub", json!(7))]), "k9"),
            "malformed",
        ),
        (
            sign(HEADER, &claims(&[("user", text("Aida"))]), "k9"),
            "malformed",
        ),
    ];
    for (token, expected) in cases {
        assert_eq!(check(&token), expected, "{token}");
    }
    // The error as JavaScript gets it: the code, the message naming the check.
    let error = verify_assertion(
        &fx,
        Some(&sign(HEADER, &claims(&[("aud", text("x"))]), "k1")),
        &options,
    )
    .unwrap_err();
    assert_eq!(
        error.message,
        "freedom-id-edge: the gate's assertion failed its `aud` check"
    );
    assert_eq!(details(&error), []);
}

#[test]
fn the_clock_tolerance_is_an_option_and_bounds_exp_and_iat() {
    let fx = Fake::default();
    let at = |iat: u64, exp: u64| {
        fake_jws(
            HEADER,
            &claims(&[("iat", json!(iat)), ("exp", json!(exp))]),
            "k1",
        )
    };
    let now = now_secs();
    // Default 5 s: exp <= now - 5 is expired, iat > now + 5 is in the future.
    assert!(verify_assertion(&fx, Some(&at(now - 60, now - 4)), &given(&[])).is_ok());
    assert_eq!(
        problem(
            verify_assertion(&fx, Some(&at(now - 60, now - 5)), &given(&[])),
            ""
        ),
        "exp"
    );
    assert!(verify_assertion(&fx, Some(&at(now + 5, now + 65)), &given(&[])).is_ok());
    assert_eq!(
        problem(
            verify_assertion(&fx, Some(&at(now + 6, now + 66)), &given(&[])),
            ""
        ),
        "iat"
    );
    let none = given(&[("clockToleranceSec", json!(0))]);
    assert_eq!(
        problem(verify_assertion(&fx, Some(&at(now - 60, now)), &none), ""),
        "exp"
    );
    assert_eq!(
        problem(
            verify_assertion(&fx, Some(&at(now + 1, now + 61)), &none),
            ""
        ),
        "iat"
    );
    let wide = given(&[("clockToleranceSec", json!(300))]);
    assert!(verify_assertion(&fx, Some(&at(now - 299 - 60, now - 299)), &wide).is_ok());
    assert!(verify_assertion(&fx, Some(&at(now + 300, now + 360)), &wide).is_ok());
}

/// The options' message after the prefix, for a refusal that must be `INVALID_OPTIONS`.
fn invalid(options: &Value) -> String {
    let fx = Fake::default();
    let error = verify_assertion(&fx, Some(&good()), options).unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidOptions, "{error}");
    assert_eq!(fx.sent(), 0);
    message(&error).to_owned()
}

#[test]
fn bad_options_are_invalid_options_naming_each() {
    for (options, expected) in [
        (json!(null), "verifyGateAssertion expects an options object"),
        (json!("x"), "verifyGateAssertion expects an options object"),
        (
            json!({}),
            "invalid options: jwksUrl is missing (pass jwksUrl or jwks); issuer is missing; audience is missing",
        ),
        (
            given(&[("jwksUrl", text(JWKS_URL))]),
            "invalid options: jwksUrl cannot be combined with jwks (pass one of them)",
        ),
        (
            by_url(&[("jwksUrl", text("http://app.example.com/jwks.json"))]),
            "invalid options: jwksUrl uses http://, which is only allowed for localhost and 127.0.0.1",
        ),
        (
            by_url(&[("jwksUrl", json!(5))]),
            "invalid options: jwksUrl must be a string",
        ),
        (
            given(&[("jwks", other())]),
            "invalid options: jwks must be a key set with at least one key ({ keys: [...] })",
        ),
        (
            given(&[("jwks", as_given(json!({"keys": []})))]),
            "invalid options: jwks must be a key set with at least one key ({ keys: [...] })",
        ),
        (
            given(&[("jwks", as_given(json!({"keys": 5})))]),
            "invalid options: jwks must be a key set with at least one key ({ keys: [...] })",
        ),
        (
            given(&[("jwks", unreadable())]),
            "invalid options: jwks could not be read",
        ),
        (
            given(&[("issuer", text("")), ("audience", json!(1))]),
            "invalid options: issuer is missing; audience must be a string",
        ),
        (
            given(&[("clockToleranceSec", json!(301))]),
            "invalid options: clockToleranceSec must be a whole number of seconds from 0 to 300",
        ),
        (
            given(&[("clockToleranceSec", json!(1.5))]),
            "invalid options: clockToleranceSec must be a whole number of seconds from 0 to 300",
        ),
        (
            given(&[("clockToleranceSec", json!(-1))]),
            "invalid options: clockToleranceSec must be a whole number of seconds from 0 to 300",
        ),
        (
            given(&[("clockToleranceSec", text("5"))]),
            "invalid options: clockToleranceSec must be a number",
        ),
        (
            given(&[("timeoutMs", json!(0))]),
            "invalid options: timeoutMs must be a whole number of milliseconds from 1 to 60000",
        ),
    ] {
        assert_eq!(invalid(&options), expected, "{options}");
    }
    // Options are checked before the assertion: a missing one with bad options is
    // INVALID_OPTIONS.
    let fx = Fake::default();
    let error = verify_assertion(&fx, None, &json!({})).unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidOptions);
}

fn set_body(kids: &[&str]) -> String {
    jwks(kids).to_string()
}

#[test]
fn a_key_set_from_jwks_url_is_kept_five_minutes() {
    let fx = Fake::default();
    fx.reply(200, &set_body(&["k1"]));
    let options = by_url(&[("timeoutMs", json!(1500))]);
    assert!(verify_assertion(&fx, Some(&good()), &options).is_ok());
    assert_eq!(fx.sent(), 1);
    assert_eq!(
        fx.last(),
        (
            Method::Get,
            JWKS_URL.to_owned(),
            vec![
                ("Accept", "application/json".to_owned()),
                ("Accept-Encoding", "identity".to_owned())
            ],
            None,
            BodyRule::Success,
            1500,
        )
    );
    // Kept: no call for 5 minutes.
    for minutes in [1.0, 4.9] {
        fx.now_ms.set(NOW + minutes * MINUTE);
        let token = fake_jws(
            HEADER,
            &claims_at((fx.now_ms.get() / 1000.0) as u64, &[]),
            "k1",
        );
        assert!(verify_assertion(&fx, Some(&token), &options).is_ok());
    }
    assert_eq!(fx.sent(), 1);
    // Stale at 5 minutes: fetched again.
    fx.now_ms.set(NOW + 5.0 * MINUTE);
    fx.reply(200, &set_body(&["k1"]));
    let token = fake_jws(
        HEADER,
        &claims_at((fx.now_ms.get() / 1000.0) as u64, &[]),
        "k1",
    );
    assert!(verify_assertion(&fx, Some(&token), &options).is_ok());
    assert_eq!(fx.sent(), 2);
    // The OIDC key cache is not touched.
    assert!(matches!(
        fx.key_cache
            .borrow()
            .plan(Some("k1"), Algorithm::Es256, NOW),
        freedom_id_edge::freedom_id::jwks::KeyPlan::Fetch
    ));
}

#[test]
fn an_unknown_kid_refetches_at_most_once_a_minute_and_rotation_works() {
    let fx = Fake::default();
    let options = by_url(&[]);
    fx.reply(200, &set_body(&["k1"]));
    assert!(verify_assertion(&fx, Some(&good()), &options).is_ok());
    // A new key (rotation) less than a minute later: no refetch, `kid`.
    fx.now_ms.set(NOW + 0.5 * MINUTE);
    let at = |fx: &Fake, kid: &str| {
        let header = format!(r#"{{"alg":"ES256","typ":"JWT","kid":"{kid}"}}"#);
        fake_jws(
            &header,
            &claims_at((fx.now_ms.get() / 1000.0) as u64, &[]),
            kid,
        )
    };
    assert_eq!(
        problem(verify_assertion(&fx, Some(&at(&fx, "k2")), &options), ""),
        "kid"
    );
    assert_eq!(fx.sent(), 1);
    // A minute after the fetch: one refetch, which has the new key; the old one still works.
    fx.now_ms.set(NOW + MINUTE);
    fx.reply(200, &set_body(&["k2", "k1"]));
    assert!(verify_assertion(&fx, Some(&at(&fx, "k2")), &options).is_ok());
    assert!(verify_assertion(&fx, Some(&at(&fx, "k1")), &options).is_ok());
    assert_eq!(fx.sent(), 2);
    // A flood of made-up kids: at most one fetch a minute, each refetch a single call.
    for second in 0..59 {
        fx.now_ms
            .set(NOW + MINUTE + 1000.0 + f64::from(second) * 1000.0);
        let kid = format!("forged-{second}");
        assert_eq!(
            problem(verify_assertion(&fx, Some(&at(&fx, &kid)), &options), ""),
            "kid"
        );
    }
    assert_eq!(fx.sent(), 2);
    fx.now_ms.set(NOW + 2.0 * MINUTE);
    fx.reply(200, &set_body(&["k2", "k1"]));
    assert_eq!(
        problem(
            verify_assertion(&fx, Some(&at(&fx, "forged")), &options),
            ""
        ),
        "kid"
    );
    assert_eq!(
        fx.sent(),
        3,
        "one refetch, still without the key: no second one"
    );
}

#[test]
fn key_sets_are_kept_per_url_and_bounded() {
    let fx = Fake::default();
    let other = "https://other.example.com/.well-known/jwks.json";
    fx.reply(200, &set_body(&["k1"]));
    fx.reply(200, &set_body(&["k1"]));
    assert!(verify_assertion(&fx, Some(&good()), &by_url(&[])).is_ok());
    assert!(verify_assertion(&fx, Some(&good()), &by_url(&[("jwksUrl", text(other))])).is_ok());
    assert!(verify_assertion(&fx, Some(&good()), &by_url(&[])).is_ok());
    assert_eq!(fx.sent(), 2, "one fetch per URL");
    let mut sets = KeySets::default();
    for index in 0..20 {
        sets.with(&format!("https://site-{index}.example/jwks.json"), |_| ());
    }
    assert_eq!(sets.len(), freedom_id_edge::flow::npm::MAX_KEY_SETS);
}

#[test]
fn fetching_the_key_set_fails_as_the_other_calls_do() {
    let token = good();
    let cases = [
        (
            Reply::failed(None, Error::UpstreamNetwork),
            ErrorCode::UpstreamNetwork,
        ),
        (
            Reply::failed(None, Error::UpstreamTimeout { timeout_ms: 5000 }),
            ErrorCode::UpstreamTimeout,
        ),
        (Reply::answered(503, "down"), ErrorCode::UpstreamStatus),
        (Reply::answered(200, "[]"), ErrorCode::UpstreamMalformed),
    ];
    for (reply, code) in cases {
        let fx = Fake::default();
        fx.replies.borrow_mut().push_back(reply);
        let error = verify_assertion(&fx, Some(&token), &by_url(&[])).unwrap_err();
        assert_eq!(error.code, code, "{error}");
        assert!(!error.message.contains(&token[..20]));
    }
}
