//! `FREEDOM_ID_ASSERTION_KEY`: the P-256 private keys that sign the
//! gate's identity assertion. One JWK (`{"kty":"EC","crv":"P-256","x","y","d","kid"}`) or a
//! JSON array of them for rotation: the first signs, all are published (public halves only).
//! A refusal never echoes the value.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::base::json::{JsonEngine, Member, Object, SerdeJson};

/// The longest `kid` accepted.
pub const MAX_KID_LEN: usize = 64;

/// One signing key, valid. `d` is the private scalar: its `Debug` is redacted.
#[derive(Clone)]
pub struct AssertionKey {
    /// The key's id, named in each assertion's header and in the key set.
    pub kid: String,
    /// The public x coordinate (base64url, 32 bytes).
    pub x: String,
    /// The public y coordinate (base64url, 32 bytes).
    pub y: String,
    /// The private scalar (base64url, 32 bytes): only WebCrypto's `importKey` sees it.
    pub d: String,
}

impl core::fmt::Debug for AssertionKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AssertionKey")
            .field("kid", &self.kid)
            .field("d", &"[redacted]")
            .finish()
    }
}

/// What the key set publishes of a key: never `d`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PublicJwk<'a> {
    /// `EC`.
    pub kty: &'static str,
    /// `P-256`.
    pub crv: &'static str,
    /// The x coordinate.
    pub x: &'a str,
    /// The y coordinate.
    pub y: &'a str,
    /// The key's id.
    pub kid: &'a str,
    /// `ES256`.
    pub alg: &'static str,
    /// `sig`.
    #[serde(rename = "use")]
    pub usage: &'static str,
}

impl AssertionKey {
    /// The public half, as `GET /.well-known/jwks.json` lists it.
    pub fn public(&self) -> PublicJwk<'_> {
        PublicJwk {
            kty: "EC",
            crv: "P-256",
            x: &self.x,
            y: &self.y,
            kid: &self.kid,
            alg: "ES256",
            usage: "sig",
        }
    }
}

/// Why the setting was refused (never its value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AssertionKeyError;

#[derive(Default, Deserialize)]
#[serde(default)]
struct KeyInput {
    kty: Member<String>,
    crv: Member<String>,
    x: Member<String>,
    y: Member<String>,
    d: Member<String>,
    kid: Member<String>,
}

/// Reads the setting: one JWK or a non-empty array of them, each a P-256 private key with a
/// plain `kid`, no two with the same `kid`.
pub fn parse_assertion_keys(text: &str) -> Result<Vec<AssertionKey>, AssertionKeyError> {
    let text = text.trim();
    let inputs: Vec<KeyInput> = if text.starts_with('[') {
        // An array of keys; each item must be an object (a derived struct alone would also
        // take an array of its fields in order).
        serde_json::from_str::<Vec<Object<KeyInput>>>(text)
            .map_err(|_| AssertionKeyError)?
            .into_iter()
            .map(|object| object.0)
            .collect()
    } else {
        vec![SerdeJson.decode(text).map_err(|_| AssertionKeyError)?]
    };
    if inputs.is_empty() {
        return Err(AssertionKeyError);
    }
    let mut keys: Vec<AssertionKey> = Vec::with_capacity(inputs.len());
    for input in inputs {
        let key = key_from(input).ok_or(AssertionKeyError)?;
        if keys.iter().any(|known| known.kid == key.kid) {
            return Err(AssertionKeyError);
        }
        keys.push(key);
    }
    Ok(keys)
}

fn key_from(input: KeyInput) -> Option<AssertionKey> {
    let text = |member: Member<String>| member.into_value();
    if text(input.kty)? != "EC" || text(input.crv)? != "P-256" {
        return None;
    }
    let coordinate =
        |value: String| (URL_SAFE_NO_PAD.decode(&value).ok()?.len() == 32).then_some(value);
    let kid = text(input.kid)?;
    let plain_kid = !kid.is_empty()
        && kid.len() <= MAX_KID_LEN
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !plain_kid {
        return None;
    }
    Some(AssertionKey {
        kid,
        x: coordinate(text(input.x)?)?,
        y: coordinate(text(input.y)?)?,
        d: coordinate(text(input.d)?)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
    const Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
    const D: &str = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";

    fn jwk(kid: &str) -> String {
        format!(r#"{{"kty":"EC","crv":"P-256","x":"{X}","y":"{Y}","d":"{D}","kid":"{kid}"}}"#)
    }

    #[test]
    fn one_key_or_an_array_for_rotation_and_only_public_halves_published() {
        let one = parse_assertion_keys(&jwk("k1")).unwrap();
        assert_eq!(one.len(), 1);
        let two = parse_assertion_keys(&format!("[{}, {}]", jwk("new"), jwk("old"))).unwrap();
        assert_eq!(two[0].kid, "new", "the first signs");
        let published = crate::base::json::to_string(&two[1].public());
        assert!(
            !published.contains(D) && !published.contains("\"d\""),
            "{published}"
        );
        assert!(published.contains(r#""alg":"ES256""#) && published.contains(r#""use":"sig""#));
        assert!(!format!("{:?}", two[0]).contains(D));
    }

    #[test]
    fn anything_else_is_refused_without_echoing_it() {
        for bad in [
            String::new(),
            "[]".to_owned(),
            "not json".to_owned(),
            jwk("k1").replace("P-256", "P-384"),
            jwk("k1").replace(r#""kty":"EC""#, r#""kty":"RSA""#),
            jwk("k1").replace(&format!(r#","d":"{D}""#), ""),
            jwk("k1").replace(D, "short"),
            jwk("has space"),
            jwk(""),
            format!("[{}, {}]", jwk("same"), jwk("same")),
        ] {
            assert_eq!(
                parse_assertion_keys(&bad).map(|_| ()),
                Err(AssertionKeyError),
                "{bad}"
            );
        }
    }
}
