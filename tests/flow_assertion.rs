//! The gate's word, natively (issue 22): what a forwarded request carries (the signed
//! assertion with its claims, the access token only on request), the key set at
//! `/.well-known/jwks.json`, and `FREEDOM_ID_ALLOW` letting the right users through. The fake
//! driver "signs" with a checksum; workerd signs with real ES256 (`tests/assertion.test.mjs`).

#[path = "support/fake_edge.rs"]
mod fake_edge;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use fake_edge::*;
use serde_json::{json, Value};

const HTML: Option<&str> = Some("text/html,*/*;q=0.8");
const USERINFO: &str = "https://passport.freedompay.kz/api/v1/user";
const AIDA: &str = r#"{"id":"41790bb3-5d6e-4c1a-9f7e-2b8a3c0d9e41","firstname":"Aida","lastname":"Seitkali","email":"Aida@Example.com","phone":"+7 701 123 45 67"}"#;
const AIDA_ID: &str = "41790bb3-5d6e-4c1a-9f7e-2b8a3c0d9e41";
const X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
const D: &str = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";

fn jwk(kid: &str) -> String {
    format!(r#"{{"kty":"EC","crv":"P-256","x":"{X}","y":"{Y}","d":"{D}","kid":"{kid}"}}"#)
}

fn gated(extra: &[(&'static str, &str)]) -> Result<Settings, SettingsError> {
    let mut all: Vec<(&str, &str)> = vec![
        ("FREEDOM_ID_PROTECT", "/app"),
        ("FREEDOM_ID_APP_ORIGIN", "http://127.0.0.1:9999"),
        ("FREEDOM_ID_USERINFO_URL", USERINFO),
    ];
    all.extend_from_slice(extra);
    settings(&all)
}

/// A browser signed in (token pair `tok-1`) as the user of `userinfo` (a user-info answer;
/// `None`: no user-info call).
fn signed_in_as(settings: &Result<Settings, SettingsError>, userinfo: Option<&str>) -> (Fake, Jar) {
    let fx = Fake::new(&[KEY]);
    let mut jar = Jar::default();
    fx.reply(200, &token_answer("ACCESS1", "REFRESH1", 3600, 86_400));
    if let Some(answer) = userinfo {
        fx.reply(200, answer);
    }
    let callback = sign_in(&fx, settings, &mut jar, "", "c");
    assert_eq!(callback.status, 303, "{callback:?}");
    (fx, jar)
}

fn header<'a>(forward: &'a Forward, name: &str) -> Option<&'a str> {
    forward
        .identity
        .iter()
        .find(|(have, _)| *have == name)
        .map(|(_, value)| value.as_str())
}

fn part(token: &str, index: usize) -> Value {
    let text = URL_SAFE_NO_PAD
        .decode(token.split('.').nth(index).unwrap())
        .unwrap();
    serde_json::from_slice(&text).unwrap()
}

fn forwarded(outcome: Outcome) -> Forward {
    match outcome {
        Outcome::Forward(forward) => forward,
        Outcome::Answer(answer) => panic!("answered, not forwarded: {answer:?}"),
    }
}

fn answered(outcome: Outcome) -> Answer {
    match outcome {
        Outcome::Answer(answer) => answer,
        Outcome::Forward(forward) => panic!("forwarded: {forward:?}"),
    }
}

#[test]
fn a_forwarded_request_carries_a_signed_assertion_and_the_token_only_on_request() {
    let key = jwk("k-new");
    let settings = gated(&[("FREEDOM_ID_ASSERTION_KEY", &key)]);
    let (fx, jar) = signed_in_as(&settings, Some(AIDA));
    let forward = forwarded(outcome(&fx, &settings, "GET", "/app/x", &jar, None, None));
    assert_eq!(header(&forward, "X-Freedom-ID-Access-Token"), None);
    let token = header(&forward, "X-Freedom-ID-Assertion").expect("an assertion");
    assert_eq!(
        part(token, 0),
        json!({"alg": "ES256", "typ": "JWT", "kid": "k-new"})
    );
    let now = (NOW / 1000.0) as u64;
    assert_eq!(
        part(token, 1),
        json!({
            "iss": "https://app.example.com",
            "aud": "http://127.0.0.1:9999",
            "sub": AIDA_ID,
            "sid": "tok-1",
            "iat": now,
            "exp": now + 60,
            "user": serde_json::from_str::<Value>(AIDA).unwrap(),
        })
    );
    let (input, signature) = token.rsplit_once('.').unwrap();
    assert_eq!(
        URL_SAFE_NO_PAD.decode(signature).unwrap(),
        fake_signature("k-new", input.as_bytes()),
        "signed over header.claims with the first key"
    );

    // The audience can be set; the access token comes with the opt-in; the first key signs.
    let rotated = format!("[{}, {}]", jwk("k-2"), jwk("k-1"));
    let settings = fake_edge::settings(&[
        ("FREEDOM_ID_PROTECT", "/app"),
        ("FREEDOM_ID_ASSERTION_KEY", &rotated),
        ("FREEDOM_ID_ASSERTION_AUDIENCE", "urn:my-site"),
        ("FREEDOM_ID_FORWARD_ACCESS_TOKEN", "on"),
    ]);
    let (fx, jar) = signed_in_as(&settings, None);
    let forward = forwarded(outcome(&fx, &settings, "GET", "/app", &jar, None, None));
    assert_eq!(
        header(&forward, "X-Freedom-ID-Access-Token"),
        Some("ACCESS1")
    );
    let token = header(&forward, "X-Freedom-ID-Assertion").unwrap();
    assert_eq!(part(token, 0)["kid"], "k-2");
    let claims = part(token, 1);
    assert_eq!(claims["aud"], "urn:my-site");
    assert_eq!(
        (&claims["sub"], &claims["user"]),
        (&json!("tok-1"), &Value::Null),
        "no user known: the subject is the token pair"
    );
}

#[test]
fn the_key_set_lists_public_halves_and_is_missing_without_a_key() {
    let rotated = format!("[{}, {}]", jwk("k-2"), jwk("k-1"));
    // Reachable when the gate guards everything.
    let settings = gated(&[
        ("FREEDOM_ID_ASSERTION_KEY", &rotated),
        ("FREEDOM_ID_PROTECT", "/"),
    ]);
    let fx = Fake::new(&[KEY]);
    let answer = call(
        &fx,
        &settings,
        "GET",
        "/.well-known/jwks.json",
        &Jar::default(),
        None,
    );
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("Cache-Control"), Some("public, max-age=300"));
    assert!(!answer.body.contains(D) && !answer.body.contains("\"d\""));
    let keys: Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(
        keys["keys"][1],
        json!({"kty": "EC", "crv": "P-256", "x": X, "y": Y, "kid": "k-1", "alg": "ES256", "use": "sig"})
    );
    assert_eq!(keys["keys"][0]["kid"], "k-2");

    let keyless = gated(&[]);
    let answer = call(
        &fx,
        &keyless,
        "GET",
        "/.well-known/jwks.json",
        &Jar::default(),
        None,
    );
    assert_eq!(answer.status, 404);

    // A bad key is MISCONFIGURED naming it, never echoing it, here and on the gate.
    let broken = jwk("k-1").replace("P-256", "P-384");
    let bad = gated(&[("FREEDOM_ID_ASSERTION_KEY", &broken)]);
    let answer = call(
        &fx,
        &bad,
        "GET",
        "/.well-known/jwks.json",
        &Jar::default(),
        None,
    );
    assert_eq!(answer.status, 500);
    assert!(answer.body.contains("FREEDOM_ID_ASSERTION_KEY") && !answer.body.contains(D));
    assert!(!fx.logs.borrow().iter().any(|line| line.contains(D)));
}

#[test]
fn a_key_the_runtime_refuses_forwards_nothing() {
    let key = jwk("refused-by-runtime");
    let settings = gated(&[("FREEDOM_ID_ASSERTION_KEY", &key)]);
    let (fx, jar) = signed_in_as(&settings, Some(AIDA));
    let answer = answered(outcome(&fx, &settings, "GET", "/app", &jar, None, None));
    assert_eq!(answer.status, 500);
    assert!(
        answer.body.contains("FREEDOM_ID_ASSERTION_KEY"),
        "{}",
        answer.body
    );
}

#[test]
fn the_allow_list_lets_the_right_users_through_and_denies_the_rest() {
    for (rules, admitted) in [
        ("41790BB3-5D6E-4C1A-9F7E-2B8A3C0D9E41", true),
        ("00000000-0000-4000-8000-000000000000", false),
        ("aida@example.COM", true),
        ("bek@example.com", false),
        ("@example.com", true),
        ("@sub.example.com", false),
        ("+77011234567", true),
        ("+77011234568", false),
        ("bek@example.com +77011234567", true),
    ] {
        let settings = gated(&[("FREEDOM_ID_ALLOW", rules), ("FREEDOM_ID_LOG", "all")]);
        let (fx, jar) = signed_in_as(&settings, Some(AIDA));
        let sent_before = fx.sent.borrow().len();
        match outcome(&fx, &settings, "GET", "/app/x?y=1", &jar, None, HTML) {
            Outcome::Forward(_) => assert!(admitted, "{rules}: forwarded"),
            Outcome::Answer(page) => {
                assert!(!admitted, "{rules}: {page:?}");
                assert_eq!(page.status, 403);
                assert!(page.body.contains("ACCESS_DENIED"));
                assert!(page.body.contains(r#"id="sign-out""#));
                // The second form's redirects end at Freedom ID: its CSP lets them.
                assert!(page
                    .header("Content-Security-Policy")
                    .unwrap()
                    .contains("form-action 'self' https://id.example;"));
                assert!(page
                    .body
                    .contains(r#"action="/logout?then=login&amp;return_to=%2Fapp%2Fx%3Fy%3D1""#));
                assert_eq!(fx.sent.borrow().len(), sent_before, "no upstream call");
                let api = answered(outcome(&fx, &settings, "GET", "/app", &jar, None, None));
                assert_eq!(api.header("Content-Type"), Some("application/problem+json"));
                assert!(api.body.contains(r#""code":"ACCESS_DENIED""#));
                // No claim of the user in the log line.
                let logs = fx.logs.borrow();
                let line = logs.last().unwrap();
                assert!(line.contains(r#""code":"ACCESS_DENIED""#), "{line}");
                for personal in ["Aida", "aida", "41790bb3", "7011234567", "tok-1"] {
                    assert!(!line.contains(personal), "{line}");
                }
            }
        }
    }
    // What the rules need is not known (oauth2 without the user-info call): denied.
    let blind = settings(&[
        ("FREEDOM_ID_PROTECT", "/app"),
        ("FREEDOM_ID_ALLOW", "@example.com"),
    ]);
    let (fx, jar) = signed_in_as(&blind, None);
    let denied = answered(outcome(&fx, &blind, "GET", "/app", &jar, None, None));
    assert_eq!(denied.status, 403);
    let health = call(&fx, &blind, "GET", "/healthz", &Jar::default(), None);
    assert_eq!(health.status, 200, "a warning, not a failure");
    let health: Value = serde_json::from_str(&health.body).unwrap();
    assert!(health["warnings"][0]
        .as_str()
        .unwrap()
        .contains("FREEDOM_ID_USERINFO_URL"));
    let told = call(
        &fx,
        &gated(&[("FREEDOM_ID_ALLOW", "@example.com")]),
        "GET",
        "/healthz",
        &Jar::default(),
        None,
    );
    assert_eq!(told.body, r#"{"status":"ok"}"#);
    // An unparseable rule: MISCONFIGURED naming the setting, not the rule.
    let broken = gated(&[("FREEDOM_ID_ALLOW", "aida@example.com secret-person")]);
    let answer = call(&fx, &broken, "GET", "/healthz", &Jar::default(), None);
    assert_eq!(answer.status, 503);
    assert!(answer.body.contains("FREEDOM_ID_ALLOW") && !answer.body.contains("secret-person"));
}

#[test]
fn sign_in_with_another_account_signs_out_then_starts_a_sign_in() {
    let settings = gated(&[("FREEDOM_ID_ALLOW", "@partner.kz")]);
    let (fx, jar) = signed_in_as(&settings, Some(AIDA));
    let out = call(
        &fx,
        &settings,
        "POST",
        "/logout?then=login&return_to=%2Fapp%2Fx%3Fy%3D1",
        &jar,
        Some("https://app.example.com"),
    );
    assert_eq!(out.status, 303);
    assert_eq!(
        out.header("Location"),
        Some("/login?return_to=%2Fapp%2Fx%3Fy%3D1")
    );
    assert!(out
        .headers
        .iter()
        .any(|(name, value)| *name == "Set-Cookie"
            && value.starts_with("__Host-freedom_id_session=;")));
    // Only a path on this site is kept.
    let out = call(
        &fx,
        &settings,
        "POST",
        "/logout?then=login&return_to=https%3A%2F%2Fevil.example",
        &jar,
        Some("https://app.example.com"),
    );
    assert_eq!(out.header("Location"), Some("/login"));
    let plain = call(
        &fx,
        &settings,
        "POST",
        "/logout",
        &jar,
        Some("https://app.example.com"),
    );
    assert_eq!(plain.header("Location"), Some("/"));
}

#[test]
fn what_the_gate_signs_the_site_side_checks_accept() {
    use freedom_id_edge::base::json::SerdeJson;
    use freedom_id_edge::web::assertion_verify::{check_claims, parse, AssertionProblem, Expected};
    let key = jwk("k-new");
    let settings = gated(&[("FREEDOM_ID_ASSERTION_KEY", &key)]);
    let (fx, jar) = signed_in_as(&settings, Some(AIDA));
    let forward = forwarded(outcome(&fx, &settings, "GET", "/app/x", &jar, None, None));
    let token = header(&forward, "X-Freedom-ID-Assertion").unwrap();
    let now = (NOW / 1000.0) as u64;
    let expected = |now| Expected {
        issuer: "https://app.example.com",
        audience: "http://127.0.0.1:9999",
        now,
        tolerance_secs: 5,
    };
    let parsed = parse(token, &SerdeJson).unwrap();
    assert_eq!(parsed.kid, "k-new");
    assert_eq!(
        parsed.signature,
        fake_signature("k-new", parsed.signing_input.as_bytes())
    );
    let verified = check_claims(parsed, &expected(now)).unwrap();
    assert_eq!(verified.sub.as_deref(), Some(AIDA_ID));
    assert_eq!(verified.sid.as_deref(), Some("tok-1"));
    let user = verified.user.unwrap();
    assert_eq!(
        (user.firstname.as_deref(), user.email.as_deref()),
        (Some("Aida"), Some("Aida@Example.com"))
    );
    // A minute and the tolerance later it has expired.
    let late = check_claims(parse(token, &SerdeJson).unwrap(), &expected(now + 65));
    assert_eq!(late.map(|_| ()), Err(AssertionProblem::Expired));
}
