//! The OpenID Connect flavour's `id_token` as data: its three parts split and decoded, its
//! header and claims read with serde, and the checks of OpenID Connect Core 3.1.3.7 that do
//! not need a key. The signature, when a key set is configured, is checked by the driver with
//! WebCrypto over [`IdToken::signing_input`]; without one, the token is trusted as it came
//! straight from the token endpoint over TLS (3.1.3.7, step 6).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;

use crate::base::json::{JsonEngine, Leaf, Member};

/// The most an `id_token` may hold: far more than Freedom ID's, small enough to seal.
pub const MAX_ID_TOKEN_LEN: usize = 8 * 1024;
/// How far `exp` and `iat` may be off the clock, in seconds.
pub const CLOCK_LEEWAY_SECS: u64 = 60;
/// The longest `sub` accepted.
pub const MAX_SUB_LEN: usize = 255;

/// Why an `id_token` was refused. Never holds the token or a claim's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdTokenProblem {
    /// Not three base64url parts, or a part that is not a JSON object.
    Malformed,
    /// `alg` missing, `none`, or one this crate cannot verify.
    Algorithm,
    /// `iss` is not the configured issuer.
    Issuer,
    /// `aud` does not hold the client id.
    Audience,
    /// `exp` missing or past (beyond the leeway).
    Expired,
    /// `iat` missing or in the future (beyond the leeway).
    IssuedInFuture,
    /// `nonce` missing or not the flow's.
    Nonce,
    /// `sub` missing, empty or over [`MAX_SUB_LEN`] characters.
    Subject,
    /// The signature does not verify with the key set's key for `kid`.
    Signature,
    /// No key in the key set for the token's `kid`.
    UnknownKey,
}

impl IdTokenProblem {
    /// What is wrong, for logs and error details (never a value).
    pub fn as_str(self) -> &'static str {
        match self {
            IdTokenProblem::Malformed => "malformed",
            IdTokenProblem::Algorithm => "alg",
            IdTokenProblem::Issuer => "iss",
            IdTokenProblem::Audience => "aud",
            IdTokenProblem::Expired => "exp",
            IdTokenProblem::IssuedInFuture => "iat",
            IdTokenProblem::Nonce => "nonce",
            IdTokenProblem::Subject => "sub",
            IdTokenProblem::Signature => "signature",
            IdTokenProblem::UnknownKey => "kid",
        }
    }
}

/// The signature algorithms a key set may verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// Another algorithm, not `none`: accepted only when no key set is configured.
    Other,
}

/// The JOSE header's members we read.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Header {
    alg: Member<String>,
    kid: Member<String>,
}

/// `aud`: one string, or an array of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Audience(pub Vec<String>);

impl Leaf for Audience {
    fn from_str(text: &str) -> Option<Audience> {
        Some(Audience(vec![text.to_owned()]))
    }
    fn from_seq<'de, A: serde::de::SeqAccess<'de>>(
        mut seq: A,
    ) -> Result<Option<Audience>, A::Error> {
        let mut all = Vec::new();
        while let Some(item) = seq.next_element::<Member<String>>()? {
            // A non-string item names no client; it cannot make the audience ours.
            all.extend(item.into_value());
        }
        Ok(Some(Audience(all)))
    }
}

/// Declares a struct of lenient members: the fields given, then the profile fields an
/// id_token or a user-info answer may carry (no `#[serde(flatten)]`, which would buffer the
/// whole document).
macro_rules! with_profile {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$doc:meta])* pub $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, Deserialize)]
        #[serde(default)]
        pub struct $name {
            $($(#[$doc])* pub $field: $ty,)*
            /// First name.
            pub firstname: Member<String>,
            /// Last name.
            pub lastname: Member<String>,
            /// Patronymic.
            pub patronymic: Member<String>,
            /// Primary email.
            pub email: Member<String>,
            /// Primary phone.
            pub phone: Member<String>,
            /// Date of birth.
            pub date_of_birth: Member<String>,
            /// Gender.
            pub gender: Member<String>,
            /// Citizenship.
            pub country: Member<String>,
            /// Nationality.
            pub nationality: Member<String>,
            /// National identifier.
            pub identifier: Member<String>,
        }
    };
}
pub(crate) use with_profile;

with_profile! {
    /// The claims we read, each leniently: the checks judge them.
    pub struct Claims {
        /// The issuer.
        pub iss: Member<String>,
        /// The user's id (a UUID at Freedom ID).
        pub sub: Member<String>,
        /// Who the token is for: the client id.
        pub aud: Member<Audience>,
        /// Expiry, unix seconds.
        pub exp: Member<u64>,
        /// Issued at, unix seconds.
        pub iat: Member<u64>,
        /// The flow's nonce, echoed.
        pub nonce: Member<String>,
    }
}

/// An `id_token` split and read, not yet checked.
#[derive(Clone, Debug)]
pub struct IdToken {
    /// The header's `alg`.
    pub algorithm: Algorithm,
    /// The header's `kid`, if any.
    pub key_id: Option<String>,
    /// The claims.
    pub claims: Claims,
    /// `header.payload`, the bytes the signature covers.
    pub signing_input: String,
    /// The signature's bytes.
    pub signature: Vec<u8>,
}

/// What the checks compare the claims with.
#[derive(Clone, Copy, Debug)]
pub struct Expected<'a> {
    /// `FREEDOM_ID_ISSUER`.
    pub issuer: &'a str,
    /// The client id.
    pub client_id: &'a str,
    /// The nonce kept in the flow.
    pub nonce: &'a str,
    /// Now, unix seconds.
    pub now: u64,
}

/// Splits and reads `token`: three base64url parts, a header with an `alg` that is not
/// `none`, and claims that are a JSON object.
pub fn parse(token: &str, json: &impl JsonEngine) -> Result<IdToken, IdTokenProblem> {
    if token.len() > MAX_ID_TOKEN_LEN {
        return Err(IdTokenProblem::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(IdTokenProblem::Malformed);
    };
    let text = |part: &str| {
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| IdTokenProblem::Malformed)?;
        String::from_utf8(bytes).map_err(|_| IdTokenProblem::Malformed)
    };
    let header_value: Header = json
        .decode(&text(header)?)
        .map_err(|_| IdTokenProblem::Malformed)?;
    let claims: Claims = json
        .decode(&text(payload)?)
        .map_err(|_| IdTokenProblem::Malformed)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| IdTokenProblem::Malformed)?;
    let algorithm = match header_value.alg.value().map(String::as_str) {
        None => return Err(IdTokenProblem::Algorithm),
        Some(alg) if alg.eq_ignore_ascii_case("none") => return Err(IdTokenProblem::Algorithm),
        Some("RS256") => Algorithm::Rs256,
        Some("ES256") => Algorithm::Es256,
        Some(_) => Algorithm::Other,
    };
    Ok(IdToken {
        algorithm,
        key_id: header_value.kid.into_value(),
        claims,
        signing_input: format!("{header}.{payload}"),
        signature,
    })
}

/// The claim checks, in the order OpenID Connect Core 3.1.3.7 lists them; the user's id
/// (`sub`) when all pass.
pub fn check_claims(claims: &Claims, expected: &Expected<'_>) -> Result<String, IdTokenProblem> {
    if claims.iss.value().map(String::as_str) != Some(expected.issuer) {
        return Err(IdTokenProblem::Issuer);
    }
    let ours = claims
        .aud
        .value()
        .is_some_and(|aud| aud.0.iter().any(|one| one == expected.client_id));
    if !ours {
        return Err(IdTokenProblem::Audience);
    }
    let exp = claims.exp.value().copied().ok_or(IdTokenProblem::Expired)?;
    if exp.saturating_add(CLOCK_LEEWAY_SECS) <= expected.now {
        return Err(IdTokenProblem::Expired);
    }
    let iat = claims
        .iat
        .value()
        .copied()
        .ok_or(IdTokenProblem::IssuedInFuture)?;
    if iat > expected.now.saturating_add(CLOCK_LEEWAY_SECS) {
        return Err(IdTokenProblem::IssuedInFuture);
    }
    let nonce_matches = claims
        .nonce
        .value()
        .is_some_and(|nonce| crate::base::secret::constant_time_eq(nonce, expected.nonce));
    if !nonce_matches {
        return Err(IdTokenProblem::Nonce);
    }
    match claims.sub.value() {
        Some(sub) if !sub.is_empty() && sub.chars().count() <= MAX_SUB_LEN => Ok(sub.clone()),
        _ => Err(IdTokenProblem::Subject),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::json::SerdeJson;

    fn encode(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    fn token(header: &str, claims: &str) -> String {
        format!("{}.{}.{}", encode(header), encode(claims), encode("sig"))
    }

    const NOW: u64 = 1_740_472_605;

    fn claims_json(change: &str) -> String {
        let base = r#""iss":"https://passport.freedompay.kz","sub":"41790bb3-5b2c-4a3e-9c1f-0a6e0d6f7a11","aud":"b4b93cc5-client","exp":1741077405,"iat":1740472605,"nonce":"n0nce""#;
        format!("{{{base}{change}}}")
    }

    fn expected() -> Expected<'static> {
        Expected {
            issuer: "https://passport.freedompay.kz",
            client_id: "b4b93cc5-client",
            nonce: "n0nce",
            now: NOW,
        }
    }

    fn check(claims: &str) -> Result<String, IdTokenProblem> {
        let parsed = parse(&token(r#"{"alg":"RS256","kid":"k1"}"#, claims), &SerdeJson)?;
        check_claims(&parsed.claims, &expected())
    }

    #[test]
    fn the_documented_example_passes_and_names_the_user() {
        let parsed = parse(
            &token(
                r#"{"alg":"ES256","typ":"JWT","kid":"k1"}"#,
                &claims_json(""),
            ),
            &SerdeJson,
        )
        .unwrap();
        assert_eq!(parsed.algorithm, Algorithm::Es256);
        assert_eq!(parsed.key_id.as_deref(), Some("k1"));
        assert_eq!(parsed.signature, b"sig");
        assert!(parsed.signing_input.ends_with(&encode(&claims_json(""))));
        assert_eq!(
            check_claims(&parsed.claims, &expected()).unwrap(),
            "41790bb3-5b2c-4a3e-9c1f-0a6e0d6f7a11"
        );
    }

    #[test]
    fn each_claim_rule_has_its_problem() {
        let cases = [
            (r#""iss":"https://evil.example""#, IdTokenProblem::Issuer),
            (r#""aud":"other""#, IdTokenProblem::Audience),
            (r#""aud":["other",1]"#, IdTokenProblem::Audience),
            (r#""exp":1740472500"#, IdTokenProblem::Expired),
            (r#""exp":"1741077405""#, IdTokenProblem::Expired),
            (r#""iat":1740472700"#, IdTokenProblem::IssuedInFuture),
            (r#""nonce":"other""#, IdTokenProblem::Nonce),
            (r#""nonce":null"#, IdTokenProblem::Nonce),
            (r#""sub":"""#, IdTokenProblem::Subject),
            (r#""sub":7"#, IdTokenProblem::Subject),
        ];
        for (claim, problem) in cases {
            let name = &claim[..claim.find(':').unwrap()];
            let claims = replace_claim(name, claim);
            assert_eq!(check(&claims), Err(problem), "{claims}");
        }
        let array_audience = replace_claim("\"aud\"", r#""aud":["x",1,"b4b93cc5-client"]"#);
        assert!(check(&array_audience).is_ok(), "{array_audience}");
        let long_sub = replace_claim(
            "\"sub\"",
            &format!("\"sub\":\"{}\"", "u".repeat(MAX_SUB_LEN + 1)),
        );
        assert_eq!(check(&long_sub), Err(IdTokenProblem::Subject));
        // Within the leeway either way.
        let edge = claims_json("")
            .replace("1741077405", &(NOW - CLOCK_LEEWAY_SECS + 1).to_string())
            .replace("1740472605", &(NOW + CLOCK_LEEWAY_SECS).to_string());
        assert!(check(&edge).is_ok(), "{edge}");
    }

    /// The example claims with the member `name` (quoted) replaced by `member`.
    fn replace_claim(name: &str, member: &str) -> String {
        let claims = claims_json("");
        let start = claims.find(&format!("{name}:")).unwrap();
        let end = claims[start..]
            .find(",\"")
            .map_or(claims.len() - 1, |end| start + end);
        format!("{}{member}{}", &claims[..start], &claims[end..])
    }

    #[test]
    fn malformed_tokens_and_alg_none_are_refused() {
        let good_claims = claims_json("");
        for bad in [
            String::new(),
            "a.b".to_owned(),
            "a.b.c.d".to_owned(),
            format!("{}.{}.", encode("[]"), encode(&good_claims)),
            format!("{}.!!.{}", encode(r#"{"alg":"RS256"}"#), encode("s")),
            format!(
                "{}.{}.{}",
                encode(r#"{"alg":"RS256"}"#),
                encode("not json"),
                encode("s")
            ),
            format!(
                "{}=.{}.{}",
                encode(r#"{"alg":"RS256"}"#),
                encode(&good_claims),
                encode("s")
            ),
            "x".repeat(MAX_ID_TOKEN_LEN + 1),
        ] {
            assert_eq!(
                parse(&bad, &SerdeJson).map(|_| ()),
                Err(IdTokenProblem::Malformed),
                "{bad}"
            );
        }
        for header in [
            r#"{"alg":"none"}"#,
            r#"{"alg":"NONE"}"#,
            r#"{}"#,
            r#"{"alg":5}"#,
        ] {
            assert_eq!(
                parse(&token(header, &good_claims), &SerdeJson).map(|_| ()),
                Err(IdTokenProblem::Algorithm),
                "{header}"
            );
        }
        assert_eq!(
            parse(&token(r#"{"alg":"HS256"}"#, &good_claims), &SerdeJson)
                .unwrap()
                .algorithm,
            Algorithm::Other
        );
        let repeated = claims_json(r#","sub":"someone-else""#);
        assert_eq!(check(&repeated), Err(IdTokenProblem::Malformed));
    }
}
