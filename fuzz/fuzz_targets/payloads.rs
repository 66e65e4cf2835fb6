//! Whatever text a sealed cookie opens to, reading it as the session or the flow payload
//! never panics, and whatever reads writes back to a payload that reads the same; any value
//! written reads back as itself. A document of lenient `Member`s reads each member as
//! serde_json's own `Value` sees it, refuses exactly the documents that repeat a member it
//! reads, and writes back to itself. The upstream answer types get the same text.
//!
//! Input: the text (UTF-8 only; other bytes are skipped), and its first 8 bytes as a number
//! for the payloads written from scratch.
#![no_main]

mod serde_reference;

use std::collections::BTreeMap;
use std::fmt;

use freedom_id_edge::base::json::{JsonEngine, JsonError, Member, Present, SerdeJson, MAX_DEPTH};
use freedom_id_edge::base::return_to::local_path;
use freedom_id_edge::base::secret::{AccessToken, CsrfState, RefreshToken};
use freedom_id_edge::freedom_id::authorize::AuthorizeAnswer;
use freedom_id_edge::freedom_id::token::{is_token_text, ErrorAnswer, TokenAnswer, Tokens};
use freedom_id_edge::freedom_id::user::User;
use freedom_id_edge::session::{decode_session, encode_session, Flow, Session};
use libfuzzer_sys::fuzz_target;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_reference::reference;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let number = data
        .get(..8)
        .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
        .map_or(0, u64::from_be_bytes);

    // What reads writes back to what reads the same.
    if let Some(session) = decode_session(text, &SerdeJson) {
        let written = encode_session(&session);
        let again = decode_session(&written, &SerdeJson).expect("a written session reads");
        assert_eq!(session_fields(&again), session_fields(&session));
        assert_eq!(encode_session(&again), written);
        check_session_against_serde(text, &session);
    }
    if let Some(flow) = Flow::decode(text, &SerdeJson) {
        let again = Flow::decode(&flow.encode(), &SerdeJson).expect("a written flow reads");
        assert_eq!(flow_fields(&again), flow_fields(&flow));
        if let Some(path) = &flow.return_to {
            assert_eq!(local_path(path), Some(path.as_str()), "{path:?}");
        }
    }

    // Any value written reads back as itself: the text as the state, the id and (when it
    // can be) a path and the tokens.
    let flow = Flow {
        state: CsrfState::new(text),
        nonce: (number % 2 == 0).then(|| CsrfState::new(text)),
        return_to: local_path(text).map(str::to_owned),
        created_at: number,
    };
    let read = Flow::decode(&flow.encode(), &SerdeJson).expect("any flow written reads");
    assert_eq!(flow_fields(&read), flow_fields(&flow));
    let token = if is_token_text(text) { text } else { "t" };
    let session = Session {
        tokens: Tokens {
            id: Some(text.to_owned()),
            access_token: AccessToken::new(token),
            refresh_token: RefreshToken::new(token),
            access_expires_at: number,
            refresh_expires_at: number.rotate_left(7),
        },
        began_at: number.wrapping_add(1),
        user: (number % 3 == 0).then(|| User {
            id: text.to_owned(),
            firstname: Some(text.to_owned()),
            ..User::default()
        }),
        refreshable: number % 5 != 0,
    };
    let read =
        decode_session(&encode_session(&session), &SerdeJson).expect("any session written reads");
    assert_eq!(session_fields(&read), session_fields(&session));

    check_members(text);

    // The upstream answers' types, on the same text: no panic.
    let _ = SerdeJson.decode::<AuthorizeAnswer>(text);
    let _ = SerdeJson.decode::<TokenAnswer>(text);
    let _ = SerdeJson.decode::<ErrorAnswer>(text);
});

type SessionFields = (Option<String>, String, String, u64, u64, u64, Option<User>, bool);

fn session_fields(session: &Session) -> SessionFields {
    let tokens = &session.tokens;
    (
        tokens.id.clone(),
        tokens.access_token.secret().to_owned(),
        tokens.refresh_token.secret().to_owned(),
        tokens.access_expires_at,
        tokens.refresh_expires_at,
        session.began_at,
        session.user.clone(),
        session.refreshable,
    )
}

fn flow_fields(flow: &Flow) -> (String, Option<String>, Option<String>, u64) {
    (
        flow.state.secret().to_owned(),
        flow.nonce.as_ref().map(|nonce| nonce.secret().to_owned()),
        flow.return_to.clone(),
        flow.created_at,
    )
}

/// A session read from `text` has what serde_json's `Value` sees there.
fn check_session_against_serde(text: &str, session: &Session) {
    let Some(value) = reference(text) else {
        return;
    };
    let fields = session_fields(session);
    assert_eq!(value["a"], fields.1);
    assert_eq!(value["r"], fields.2);
    assert!(is_token_text(&fields.1) && is_token_text(&fields.2));
    assert_eq!(value["i"].as_str(), fields.0.as_deref());
    assert_eq!(value["ae"].as_u64(), Some(fields.3));
    assert_eq!(value["re"].as_u64(), Some(fields.4));
    assert_eq!(value["b"].as_u64(), Some(fields.5));
}

/// One member of each kind a `Member` can want.
#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
struct Members {
    text: Member<String>,
    count: Member<u64>,
    flag: Member<bool>,
    seen: Member<Present>,
}

const READ: [&str; 4] = ["text", "count", "flag", "seen"];

fn check_members(text: &str) {
    let members = SerdeJson.decode::<Members>(text);
    // The top-level keys, each with how often it appears, for a well-formed object.
    let keys = serde_json::from_str::<TopKeys>(text).ok();
    let within = freedom_id_edge::base::json::nesting_within(text, MAX_DEPTH);
    if let (Some(TopKeys(keys)), true) = (&keys, within) {
        let repeated = READ
            .iter()
            .any(|key| keys.get(*key).is_some_and(|n| *n > 1));
        assert_eq!(
            members.as_ref().err() == Some(&JsonError::Duplicate),
            repeated,
            "a repeated member is refused exactly when it is read: {text:?} {members:?}"
        );
        // Refused otherwise only for what `Value` refuses too: a lone surrogate or a number
        // beyond f64, which the key count skipped unread but the member read.
        if !repeated && members.is_err() {
            assert!(
                serde_json::from_str::<serde_json::Value>(text).is_err(),
                "a well-formed object refused: {text:?} {members:?}"
            );
        }
    }
    let Ok(members) = members else {
        return;
    };
    assert!(within, "read past the depth limit: {text:?}");
    assert!(keys.is_some(), "read what is not one object: {text:?}");

    // Each member is what serde_json's Value says it is.
    if let Some(value) = reference(text) {
        let object = value.as_object().expect("an object at the top");
        assert_eq!(
            members.text,
            expected(object.get("text"), |v| v.as_str().map(str::to_owned))
        );
        assert_eq!(members.count, expected(object.get("count"), whole_number));
        assert_eq!(
            members.flag,
            expected(object.get("flag"), serde_json::Value::as_bool)
        );
        assert_eq!(
            members.seen,
            expected(object.get("seen"), |_| Some(Present))
        );
    }

    // Written back (`Other` as a value of another kind), it reads as itself.
    let mut written = serde_json::Map::new();
    let mut put = |key: &str, value: Option<serde_json::Value>| {
        if let Some(value) = value {
            written.insert(key.to_owned(), value);
        }
    };
    put(
        "text",
        write(&members.text, |t| t.as_str().into(), 0.into()),
    );
    put("count", write(&members.count, |n| (*n).into(), "x".into()));
    put("flag", write(&members.flag, |b| (*b).into(), "x".into()));
    assert_ne!(members.seen, Member::Other, "any value but null is present");
    put(
        "seen",
        write(&members.seen, |_| serde_json::json!([{}]), 0.into()),
    );
    let again = serde_json::Value::Object(written).to_string();
    assert_eq!(
        SerdeJson.decode::<Members>(&again).as_ref(),
        Ok(&members),
        "{again}"
    );
}

fn expected<T>(
    value: Option<&serde_json::Value>,
    kind: impl Fn(&serde_json::Value) -> Option<T>,
) -> Member<T> {
    match value {
        None => Member::Absent,
        Some(serde_json::Value::Null) => Member::Null,
        Some(value) => kind(value).map_or(Member::Other, Member::Value),
    }
}

/// A whole number from 0 to `u64::MAX`, written as an integer or not (`1.0`, `1e3`): the
/// same value in JavaScript's numbers.
fn whole_number(value: &serde_json::Value) -> Option<u64> {
    let number = value.as_number()?;
    if let Some(whole) = number.as_u64() {
        return Some(whole);
    }
    let float = number.as_f64()?;
    let in_range = float.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&float);
    // `-0.0` is zero too.
    in_range.then_some(float as u64)
}

fn write<T>(
    member: &Member<T>,
    value: impl Fn(&T) -> serde_json::Value,
    other: serde_json::Value,
) -> Option<serde_json::Value> {
    match member {
        Member::Absent => None,
        Member::Null => Some(serde_json::Value::Null),
        Member::Value(inner) => Some(value(inner)),
        Member::Other => Some(other),
    }
}

/// An object's top-level keys and how often each appears (values skipped unread, as the
/// crate's reader skips unknown members).
struct TopKeys(BTreeMap<String, usize>);

impl<'de> Deserialize<'de> for TopKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TopKeys, D::Error> {
        struct Keys;
        impl<'de> Visitor<'de> for Keys {
            type Value = TopKeys;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopKeys, A::Error> {
                let mut keys = BTreeMap::new();
                while let Some((key, IgnoredAny)) = map.next_entry::<String, IgnoredAny>()? {
                    *keys.entry(key).or_insert(0) += 1;
                }
                Ok(TopKeys(keys))
            }
        }
        deserializer.deserialize_map(Keys)
    }
}
