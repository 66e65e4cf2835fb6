//! Whatever comes back from the authorize endpoint, the adapters' steps never panic, and a
//! link is only ever trusted on the authorize URL's own origin, unchanged and plain ASCII.
//!
//! The answer is read by the serde types (`AuthorizeAnswer` through `SerdeJson`), checked
//! against serde_json's own `Value`.
//!
//! Input: the first two bytes are the HTTP status (big-endian), the rest is the body.
#![no_main]

#[path = "../../tests/support/reference_origin.rs"]
mod reference_origin;
mod serde_reference;
use freedom_id_edge::base::json::MAX_DEPTH;
use freedom_id_edge::base::url::{AbsoluteUrl, Scheme};
use freedom_id_edge::error::{Error, Malformed};
use freedom_id_edge::freedom_id::authorize::{
    body_text, check_status, parse_body, trust_link, AuthorizationLink, MAX_BODY_BYTES,
};
use freedom_id_edge::web as http;
use libfuzzer_sys::fuzz_target;
use reference_origin::{plain_ascii, reference_same_origin};

const AUTHORIZE: &str = "https://passport.freedompay.kz/api/v1/oauth/authorize";
const LOCAL: &str = "http://127.0.0.1:8788/api/v1/oauth/authorize";

fuzz_target!(|data: &[u8]| {
    let (status, body) = match data {
        [high, low, body @ ..] => (u16::from_be_bytes([*high, *low]), body),
        _ => (0, data),
    };
    let authorize = AbsoluteUrl::parse(AUTHORIZE).expect("the default authorize URL parses");
    let local = AbsoluteUrl::parse(LOCAL).expect("the local authorize URL parses");

    // The adapters' steps: the status first, then the body as the driver hands it over, then
    // the rules.
    let collected = check_status(status).and_then(|()| collect(body));
    let result = collected
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|text| parse_body(status, text, &authorize));
    if let Ok(link) = &result {
        check_link(link, &authorize);
    }
    let answer = http::login_answer(&result, &http::Client::english(true));
    match &result {
        Ok(link) => assert_eq!(answer.header("Location"), Some(link.url.as_str())),
        Err(_) => assert_eq!(answer.header("Location"), None, "an error never redirects"),
    }

    // The same body under any status, and against a local mock's endpoint.
    let Ok(text) = std::str::from_utf8(body) else {
        return;
    };
    let any_status = parse_body(status, text, &authorize);
    if let Ok(link) = &any_status {
        check_link(link, &authorize);
    }
    if let Ok(link) = parse_body(status, text, &local) {
        check_link(&link, &local);
    }
    compare_with_serde_json(text, &any_status);

    // The body text itself as a link.
    if let Ok(url) = AbsoluteUrl::parse(text) {
        assert_eq!(url.as_str(), text, "parsing never rewrites");
        assert!(plain_ascii(text), "{text:?}");
        assert!(!url.host().is_empty());
        assert_eq!(url.host(), url.host().to_ascii_lowercase());
        let _ = (url.query(), url.has_fragment(), url.query_param("track_id"));
    }
    for authorize in [&authorize, &local] {
        let trusted = trust_link(text, authorize);
        let (scheme, port) = match authorize.scheme() {
            Scheme::Https => ("https", authorize.port_or_default()),
            Scheme::Http => ("http", authorize.port_or_default()),
        };
        assert_eq!(
            trusted.is_ok(),
            reference_same_origin(text, scheme, authorize.host(), port),
            "trust_link and the reference disagree on {text:?}"
        );
        match trusted {
            Ok(link) => check_link(&link, authorize),
            Err(error) => assert_eq!(error, Error::UntrustedLink),
        }
    }
});

/// The body as the fetch driver hands it to the core (`body_text`: the bytes its streamed read
/// kept), checked against the rule it states: over the cap is too large, else UTF-8 or refused.
fn collect(body: &[u8]) -> Result<String, Error> {
    let result = body_text(body.to_vec());
    let expected = if body.len() > MAX_BODY_BYTES {
        Err(Error::UpstreamMalformed(Malformed::TooLarge))
    } else {
        String::from_utf8(body.to_vec()).map_err(|_| Error::UpstreamMalformed(Malformed::NotUtf8))
    };
    assert_eq!(result, expected);
    result
}

/// Every trusted link: the authorize URL's origin, by the crate and by the reference;
/// printable ASCII without `\`; its own parts read back.
fn check_link(link: &AuthorizationLink, authorize: &AbsoluteUrl) {
    let text = link.url.as_str();
    assert!(link.url.same_origin(authorize), "{text:?}");
    assert!(plain_ascii(text), "{text:?}");
    let scheme = authorize.scheme().as_str();
    assert!(
        reference_same_origin(text, scheme, authorize.host(), authorize.port_or_default()),
        "{text:?}"
    );
    assert_eq!(link.track_id, link.url.query_param("track_id"));
    assert_eq!(
        http::redirect(link).header("Location"),
        Some(text),
        "the redirect goes to the link as received"
    );
}

/// The serde-backed reader against serde_json's `Value`: a body read as an object is one
/// for `Value` too (unless `Value` refuses only what a skipped member may hold), with the same
/// `redirect_uri` and no `error`; and one `Value` reads as an object, not nested past
/// [`MAX_DEPTH`], is never "not JSON" to the crate. (A repeated member is
/// `RepeatedMember`, which `Value`, keeping the last, cannot see.)
fn compare_with_serde_json(text: &str, ours: &Result<AuthorizationLink, Error>) {
    match ours {
        Ok(link) => {
            let Some(theirs) = serde_reference::reference(text) else {
                return;
            };
            let object = theirs
                .as_object()
                .expect("a body read is an object for serde_json");
            assert_eq!(
                object.get("redirect_uri").and_then(|v| v.as_str()),
                Some(link.url.as_str())
            );
            assert!(object.get("error").is_none_or(|e| e.is_null()));
        }
        Err(Error::UpstreamMalformed(Malformed::NotJson)) => {
            if let Ok(value @ serde_json::Value::Object(_)) =
                serde_json::from_str::<serde_json::Value>(text)
            {
                assert!(
                    depth(&value) > MAX_DEPTH,
                    "serde_json reads an object we call not JSON: {text:?}"
                );
            }
        }
        Err(_) => {}
    }
}

/// Containers nested in `value`, itself included.
fn depth(value: &serde_json::Value) -> usize {
    match value {
        serde_json::Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        serde_json::Value::Object(members) => 1 + members.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}
