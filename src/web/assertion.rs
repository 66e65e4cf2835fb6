//! The gate's signed identity assertion (`X-Freedom-ID-Assertion`): a compact JWS the site
//! behind the gate verifies against `/.well-known/jwks.json`, so a request that reached the
//! site another way (a misrouted path, another zone pointed at the origin) cannot claim a
//! user. Pure: the claims, the bytes to sign, the token once the driver's WebCrypto signed
//! them (ES256), and the key set document. The flow decides when to sign.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Serialize;

use crate::base::json;
use crate::config::assertion_key::{AssertionKey, PublicJwk};
use crate::freedom_id::user::User;

/// The request header that carries the assertion to the site.
pub const ASSERTION_HEADER: &str = "X-Freedom-ID-Assertion";
/// How long an assertion is good for: one forwarded request, with room for a slow origin.
pub const ASSERTION_LIFETIME_SECS: u64 = 60;
/// Where the public keys are published.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
/// The key set's `Cache-Control`: verifiers may keep it 5 minutes, so a rotation keeps the
/// old key listed at least that long.
pub const JWKS_CACHE_CONTROL: &str = "public, max-age=300";

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

/// What the assertion says: who passed the gate, for whom, and when.
#[derive(Clone, Debug, Serialize)]
pub struct AssertionClaims<'a> {
    /// The Worker's origin, as the request reached it.
    pub iss: &'a str,
    /// `FREEDOM_ID_ASSERTION_AUDIENCE`, or the origin the request is forwarded to.
    pub aud: &'a str,
    /// The user's id when known, otherwise the token pair's id; `null` when neither is.
    pub sub: Option<&'a str>,
    /// The token pair's id (`null`: Freedom ID gave none, as in the OIDC flavour).
    pub sid: Option<&'a str>,
    /// Issued at, unix seconds.
    pub iat: u64,
    /// `iat` + [`ASSERTION_LIFETIME_SECS`].
    pub exp: u64,
    /// The user's profile as `/session` shows it, or `null`.
    pub user: Option<&'a User>,
}

impl<'a> AssertionClaims<'a> {
    /// The claims for a session with the token pair `token_id` and `user` (each when known),
    /// issued `now`.
    pub fn new(
        iss: &'a str,
        aud: &'a str,
        token_id: Option<&'a str>,
        user: Option<&'a User>,
        now: u64,
    ) -> AssertionClaims<'a> {
        AssertionClaims {
            iss,
            aud,
            sub: user.map(|user| user.id.as_str()).or(token_id),
            sid: token_id,
            iat: now,
            exp: now.saturating_add(ASSERTION_LIFETIME_SECS),
            user,
        }
    }
}

/// `base64url(header).base64url(claims)`: the bytes ES256 signs, with `key`'s `kid`.
pub fn signing_input(key: &AssertionKey, claims: &AssertionClaims<'_>) -> String {
    let header = json::to_string(&Header {
        alg: "ES256",
        typ: "JWT",
        kid: &key.kid,
    });
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(json::to_string(claims))
    )
}

/// The token: the signing input and its signature (`r || s`, as WebCrypto's ECDSA gives it).
pub fn signed(signing_input: &str, signature: &[u8]) -> String {
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

#[derive(Serialize)]
struct KeySetDocument<'a> {
    keys: Vec<PublicJwk<'a>>,
}

/// `GET /.well-known/jwks.json`'s body: every key's public half, in the setting's order.
pub fn jwks_document(keys: &[AssertionKey]) -> String {
    json::to_string(&KeySetDocument {
        keys: keys.iter().map(AssertionKey::public).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::assertion_key::parse_assertion_keys;

    fn key() -> AssertionKey {
        let jwk = r#"{"kty":"EC","crv":"P-256","kid":"k1",
            "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
            "d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}"#;
        parse_assertion_keys(jwk).unwrap().remove(0)
    }

    fn decoded(part: &str) -> String {
        String::from_utf8(URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn the_token_names_its_key_and_says_who_for_how_long() {
        let user = User {
            id: "41790bb3-5d6e-4c1a-9f7e-2b8a3c0d9e41".into(),
            firstname: Some("Aida".into()),
            ..User::default()
        };
        let claims = AssertionClaims::new(
            "https://app.example.com",
            "https://origin.example.com",
            Some("pair-1"),
            Some(&user),
            1_700_000_000,
        );
        let input = signing_input(&key(), &claims);
        let (header, payload) = input.split_once('.').unwrap();
        assert_eq!(decoded(header), r#"{"alg":"ES256","typ":"JWT","kid":"k1"}"#);
        assert_eq!(
            decoded(payload),
            r#"{"iss":"https://app.example.com","aud":"https://origin.example.com","sub":"41790bb3-5d6e-4c1a-9f7e-2b8a3c0d9e41","sid":"pair-1","iat":1700000000,"exp":1700000060,"user":{"id":"41790bb3-5d6e-4c1a-9f7e-2b8a3c0d9e41","firstname":"Aida"}}"#
        );
        let token = signed(&input, &[0xff; 64]);
        assert_eq!(token.split('.').count(), 3);
        assert!(token.starts_with(&input) && !token.contains('='));
    }

    #[test]
    fn without_a_user_the_subject_is_the_token_pair_and_without_either_it_is_null() {
        let by_pair = AssertionClaims::new("i", "a", Some("pair-1"), None, 5);
        assert_eq!((by_pair.sub, by_pair.sid), (Some("pair-1"), Some("pair-1")));
        let text = json::to_string(&AssertionClaims::new("i", "a", None, None, 5));
        assert!(text.contains(r#""sub":null,"sid":null"#) && text.contains(r#""user":null"#));
    }

    #[test]
    fn the_key_set_publishes_public_halves_only() {
        let document = jwks_document(&[key()]);
        assert!(document.starts_with(r#"{"keys":[{"kty":"EC","crv":"P-256","#));
        assert!(!document.contains(r#""d""#) && !document.contains(&key().d));
    }
}
