//! Who signed in, walked through the Worker's flows natively: the OIDC flavour (`/login` with
//! no upstream call, the exchange, every id_token rule, the key set), and the user-info call
//! in both flavours, down to `/session`, the gate's header and what is never logged. The
//! fake's signatures stand in for WebCrypto; workerd checks real ES256 and RS256 ones.

#[path = "support/fake_edge.rs"]
#[allow(unused_imports)] // the gate's `Forward` is matched, not named
mod fake_edge;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use fake_edge::*;

const SUB: &str = "41790bb3-5b2c-4a3e-9c1f-0a6e0d6f7a11";
const ISSUER: &str = "https://passport.freedompay.kz";
const NOW_SECS: u64 = (NOW / 1000.0) as u64;

fn oidc(extra: &[(&'static str, &'static str)]) -> Result<Settings, SettingsError> {
    let mut all = vec![
        ("FREEDOM_ID_PROTOCOL", "oidc"),
        ("FREEDOM_ID_GRANTS", "openid read.firstname"),
    ];
    all.extend_from_slice(extra);
    settings(&all)
}

/// A compact JWT with `claims`, signed by the fake's rule for `kid` (or with `signature`).
fn jwt(header: &str, claims: &str, signature: Option<&[u8]>) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let kid = header
        .split("\"kid\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("");
    let signature = signature.map_or_else(|| fake_signature(kid, input.as_bytes()), <[u8]>::to_vec);
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn claims(nonce: &str, change: &[(&str, &str)]) -> String {
    let mut members = vec![
        ("iss", format!("\"{ISSUER}\"")),
        ("sub", format!("\"{SUB}\"")),
        ("aud", "\"demo-client\"".to_owned()),
        ("exp", (NOW_SECS + 604_800).to_string()),
        ("iat", NOW_SECS.to_string()),
        ("nonce", format!("\"{nonce}\"")),
        ("firstname", "\"Aida\"".to_owned()),
    ];
    for (name, value) in change {
        members.retain(|(key, _)| key != name);
        if !value.is_empty() {
            members.push((name, (*value).to_owned()));
        }
    }
    let body: Vec<String> = members
        .iter()
        .map(|(key, value)| format!("\"{key}\":{value}"))
        .collect();
    format!("{{{}}}", body.join(","))
}

fn token_answer_with(id_token: &str) -> String {
    format!(
        r#"{{"access_token":"ACCESS1","expires_in":3600,"refresh_token":"REFRESH1","token_type":"Bearer","id_token":"{id_token}"}}"#
    )
}

/// `/login` in oidc: the state and nonce from the redirect, and nothing sent upstream.
fn begin(fx: &Fake, settings: &Result<Settings, SettingsError>, jar: &mut Jar) -> (String, String) {
    let login = call(fx, settings, "GET", "/login", jar, None);
    assert_eq!(login.status, 302, "{login:?}");
    assert!(
        fx.sent.borrow().is_empty(),
        "no upstream call for the OIDC link"
    );
    jar.take(&login);
    let location = AbsoluteUrl::parse(login.header("location").unwrap()).unwrap();
    assert_eq!(location.origin(), "https://passport.freedompay.kz");
    for name in [
        "scope",
        "state",
        "response_type",
        "client_id",
        "redirect_uri",
        "nonce",
    ] {
        assert!(
            location.query_param(name).is_some(),
            "{name} in {location:?}"
        );
    }
    assert_eq!(
        location.query_param("scope").as_deref(),
        Some("openid read.firstname")
    );
    assert_eq!(
        location.query_param("response_type").as_deref(),
        Some("code")
    );
    assert_eq!(
        location.query_param("redirect_uri").as_deref(),
        Some("https://app.example.com/callback"),
        "sent exactly as set"
    );
    (
        location.query_param("state").unwrap(),
        location.query_param("nonce").unwrap(),
    )
}

fn complete(
    fx: &Fake,
    settings: &Result<Settings, SettingsError>,
    jar: &mut Jar,
    state: &str,
) -> Answer {
    let callback = call(
        fx,
        settings,
        "GET",
        &format!("/callback?code=c0de&state={state}"),
        jar,
        None,
    );
    jar.take(&callback);
    callback
}

#[test]
fn an_oidc_sign_in_learns_who_signed_in_without_a_refresh() {
    let fx = Fake::new(&[KEY]);
    let settings = oidc(&[]);
    let mut jar = Jar::default();
    let (state, nonce) = begin(&fx, &settings, &mut jar);
    assert_ne!(state, nonce);
    assert_eq!((state.len(), nonce.len()), (43, 43), "256 bits each");
    fx.reply(
        200,
        &token_answer_with(&jwt(
            r#"{"alg":"ES256","kid":"k1"}"#,
            &claims(&nonce, &[]),
            None,
        )),
    );
    let callback = complete(&fx, &settings, &mut jar, &state);
    assert_eq!(callback.status, 303, "{callback:?}");
    let sent = fx.sent.borrow();
    let (method, url, body, _) = &sent[0];
    assert_eq!(
        (*method, url.as_str()),
        (
            Method::Post,
            "https://passport.freedompay.kz/api/v1/oidc/token"
        )
    );
    assert_eq!(
        body.as_deref(),
        Some(
            r#"{"code":"c0de","redirect_uri":"https://app.example.com/callback","grant_type":"authorization_code"}"#
        )
    );
    drop(sent);
    let session = call(&fx, &settings, "GET", "/session", &jar, None);
    assert_eq!(
        status(&session),
        serde_json::json!({"signedIn": true, "accessExpiresAt": NOW_SECS + 3600, "refreshExpiresAt": null,
            "user": {"id": SUB, "firstname": "Aida"}})
    );
    // The gate tells the site who it is; a client's own claim is removed by the driver.
    let gated = settings_with_gate(&[("FREEDOM_ID_PROTOCOL", "oidc")]);
    let forwarded = outcome(&fx, &gated, "GET", "/app/x", &jar, None, None);
    let Outcome::Forward(forward) = forwarded else {
        panic!("not forwarded: {forwarded:?}");
    };
    assert!(forward
        .identity
        .contains(&("X-Freedom-ID-User-Id", SUB.to_owned())));
    // No refresh: once the access token has expired the session is over.
    fx.now_ms.set(NOW + 3_601_000.0);
    let over = call(&fx, &settings, "GET", "/session", &jar, None);
    assert_eq!(status(&over), serde_json::json!({"signedIn": false}));
    assert_eq!(fx.sent.borrow().len(), 1, "no refresh call");
    // Never a claim of the user in a log line.
    for line in fx.logs.borrow().iter() {
        assert!(!line.contains(SUB) && !line.contains("Aida"), "{line}");
    }
}

fn settings_with_gate(extra: &[(&'static str, &'static str)]) -> Result<Settings, SettingsError> {
    let mut all = vec![
        ("FREEDOM_ID_PROTECT", "/app"),
        ("FREEDOM_ID_GRANTS", "openid read.firstname"),
    ];
    all.extend_from_slice(extra);
    settings(&all)
}

#[test]
fn every_id_token_rule_is_id_token_invalid_and_seals_nothing() {
    let nonce_placeholder = "NONCE";
    let cases: Vec<(&str, String)> = vec![
        (
            "wrong iss",
            claims(nonce_placeholder, &[("iss", "\"https://evil.example\"")]),
        ),
        (
            "wrong aud",
            claims(nonce_placeholder, &[("aud", "\"another-client\"")]),
        ),
        (
            "expired",
            claims(nonce_placeholder, &[("exp", &(NOW_SECS - 61).to_string())]),
        ),
        (
            "iat in the future",
            claims(nonce_placeholder, &[("iat", &(NOW_SECS + 61).to_string())]),
        ),
        ("wrong nonce", claims("another-nonce", &[])),
        ("no nonce", claims(nonce_placeholder, &[("nonce", "")])),
        ("no sub", claims(nonce_placeholder, &[("sub", "")])),
    ];
    for (why, claims) in cases {
        let fx = Fake::new(&[KEY]);
        let settings = oidc(&[]);
        let mut jar = Jar::default();
        let (state, nonce) = begin(&fx, &settings, &mut jar);
        let claims = claims.replace(nonce_placeholder, &nonce);
        fx.reply(
            200,
            &token_answer_with(&jwt(r#"{"alg":"RS256"}"#, &claims, None)),
        );
        let callback = complete(&fx, &settings, &mut jar, &state);
        assert_eq!(callback.status, 502, "{why}: {callback:?}");
        assert!(
            callback.body.contains("\"code\":\"ID_TOKEN_INVALID\""),
            "{why}: {}",
            callback.body
        );
        assert!(
            jar.get("__Host-freedom_id_session").is_none(),
            "{why}: nothing sealed"
        );
        assert!(
            jar.0
                .iter()
                .all(|(name, _)| !name.starts_with("__Host-freedom_id_flow_")),
            "{why}: the spent flow is cleared, so Try again starts afresh"
        );
    }
    for (why, token) in [
        (
            "alg none",
            jwt(r#"{"alg":"none"}"#, &claims("n", &[]), None),
        ),
        ("not three parts", "a.b".to_owned()),
    ] {
        let fx = Fake::new(&[KEY]);
        let settings = oidc(&[]);
        let mut jar = Jar::default();
        let (state, _) = begin(&fx, &settings, &mut jar);
        fx.reply(200, &token_answer_with(&token));
        let callback = complete(&fx, &settings, &mut jar, &state);
        assert!(
            callback.body.contains("ID_TOKEN_INVALID"),
            "{why}: {}",
            callback.body
        );
    }
}

#[test]
fn with_a_key_set_signatures_are_checked_and_the_set_is_kept() {
    let jwks = r#"{"keys":[{"kty":"EC","crv":"P-256","x":"x","y":"y","kid":"k1","alg":"ES256","use":"sig"}]}"#;
    let settings = oidc(&[(
        "FREEDOM_ID_JWKS_URL",
        "https://passport.freedompay.kz/jwks.json",
    )]);
    let fx = Fake::new(&[KEY]);
    let sign_in_with = |header: &str, signature: Option<&[u8]>, replies: &[&str]| {
        let mut jar = Jar::default();
        let (state, nonce) = begin_again(&fx, &settings, &mut jar);
        for reply in replies {
            fx.reply(200, reply);
        }
        let token = jwt(header, &claims(&nonce, &[]), signature);
        fx.replies
            .borrow_mut()
            .push_front(Reply::answered(200, token_answer_with(&token)));
        complete(&fx, &settings, &mut jar, &state)
    };
    // First sign-in: the set is fetched (a GET without credentials) and the signature holds.
    let first = sign_in_with(r#"{"alg":"ES256","kid":"k1"}"#, None, &[jwks]);
    assert_eq!(first.status, 303, "{first:?}");
    let fetched = |fx: &Fake| {
        fx.sent
            .borrow()
            .iter()
            .filter(|(_, url, _, _)| url.ends_with("/jwks.json"))
            .count()
    };
    assert_eq!(fetched(&fx), 1);
    // Kept: the next sign-in fetches nothing.
    let second = sign_in_with(r#"{"alg":"ES256","kid":"k1"}"#, None, &[]);
    assert_eq!(second.status, 303, "{second:?}");
    assert_eq!(fetched(&fx), 1);
    // A bad signature, and an unknown kid (one refetch, then none within the minute).
    let forged = sign_in_with(r#"{"alg":"ES256","kid":"k1"}"#, Some(b"forged"), &[]);
    assert!(forged.body.contains("ID_TOKEN_INVALID"), "{}", forged.body);
    fx.now_ms.set(NOW + 61_000.0);
    let unknown = sign_in_with(r#"{"alg":"ES256","kid":"k2"}"#, None, &[jwks]);
    assert!(
        unknown.body.contains("ID_TOKEN_INVALID"),
        "{}",
        unknown.body
    );
    assert_eq!(fetched(&fx), 2, "an unknown kid refetches once");
    let again = sign_in_with(r#"{"alg":"ES256","kid":"k3"}"#, None, &[]);
    assert!(again.body.contains("ID_TOKEN_INVALID"), "{}", again.body);
    assert_eq!(fetched(&fx), 2, "and not again within the minute");
    // Another algorithm than the two WebCrypto verifies here is refused with a key set.
    let hs = sign_in_with(r#"{"alg":"HS256","kid":"k1"}"#, None, &[]);
    assert!(hs.body.contains("ID_TOKEN_INVALID"), "{}", hs.body);
}

/// `begin`, for a fake that has already sent upstream calls.
fn begin_again(
    fx: &Fake,
    settings: &Result<Settings, SettingsError>,
    jar: &mut Jar,
) -> (String, String) {
    let login = call(fx, settings, "GET", "/login", jar, None);
    assert_eq!(login.status, 302, "{login:?}");
    jar.take(&login);
    let location = AbsoluteUrl::parse(login.header("location").unwrap()).unwrap();
    (
        location.query_param("state").unwrap(),
        location.query_param("nonce").unwrap(),
    )
}

#[test]
fn the_user_info_call_names_the_user_in_both_flavours() {
    // oauth2: the user is the user-info answer's.
    let settings = settings(&[(
        "FREEDOM_ID_USERINFO_URL",
        "https://passport.freedompay.kz/api/v1/user",
    )]);
    let fx = Fake::new(&[KEY]);
    let mut jar = Jar::default();
    fx.reply(200, &token_answer("ACCESS1", "REFRESH1", 3600, 86_400));
    fx.reply(200, r#"{"id":"u-42","firstname":"Aida","lastname":"Seitkali","email":"aida@example.com","cards":[1]}"#);
    let callback = sign_in(&fx, &settings, &mut jar, "", "c0de");
    assert_eq!(callback.status, 303, "{callback:?}");
    let sent = fx.sent.borrow();
    let (method, url, body, _) = sent.last().unwrap();
    assert_eq!(
        (*method, url.as_str(), body),
        (
            Method::Get,
            "https://passport.freedompay.kz/api/v1/user",
            &None
        )
    );
    drop(sent);
    let session = status(&call(&fx, &settings, "GET", "/session", &jar, None));
    assert_eq!(
        session["user"],
        serde_json::json!({"id": "u-42", "firstname": "Aida", "lastname": "Seitkali", "email": "aida@example.com"})
    );
    // A refused user-info call fails the sign-in, nothing sealed; an outage keeps its code.
    for (status, body, code) in [
        (401, "", "USERINFO_REJECTED"),
        (403, "", "USERINFO_REJECTED"),
        (500, "", "UPSTREAM_STATUS"),
        (200, "not json", "UPSTREAM_MALFORMED"),
        (200, r#"{"firstname":"no id"}"#, "UPSTREAM_MALFORMED"),
    ] {
        let fx = Fake::new(&[KEY]);
        let mut jar = Jar::default();
        fx.reply(200, &token_answer("ACCESS1", "REFRESH1", 3600, 86_400));
        fx.reply(status, body);
        let callback = sign_in(&fx, &settings, &mut jar, "", "c0de");
        assert!(
            callback.body.contains(&format!("\"code\":\"{code}\"")),
            "{status} {body}: {}",
            callback.body
        );
        assert!(jar.get("__Host-freedom_id_session").is_none());
    }
    // oidc: the id is the id_token's sub, and a user-info sub must agree.
    let settings = oidc(&[(
        "FREEDOM_ID_USERINFO_URL",
        "https://passport.freedompay.kz/api/v1/user",
    )]);
    for (info, outcome) in [
        (
            format!(r#"{{"id":"x","sub":"{SUB}","email":"aida@example.com"}}"#),
            303,
        ),
        (r#"{"id":"x","sub":"someone-else"}"#.to_owned(), 502),
    ] {
        let fx = Fake::new(&[KEY]);
        let mut jar = Jar::default();
        let (state, nonce) = begin(&fx, &settings, &mut jar);
        fx.reply(
            200,
            &token_answer_with(&jwt(r#"{"alg":"ES256"}"#, &claims(&nonce, &[]), None)),
        );
        fx.reply(200, &info);
        let callback = complete(&fx, &settings, &mut jar, &state);
        assert_eq!(callback.status, outcome, "{info}: {callback:?}");
        if outcome == 303 {
            let session = status(&call(&fx, &settings, "GET", "/session", &jar, None));
            assert_eq!(
                session["user"],
                serde_json::json!({"id": SUB, "firstname": "Aida", "email": "aida@example.com"})
            );
        } else {
            assert!(
                callback.body.contains("ID_TOKEN_INVALID"),
                "{}",
                callback.body
            );
        }
    }
}
