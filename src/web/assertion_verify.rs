//! The site's side of the gate's assertion (`X-Freedom-ID-Assertion`), as data: the compact
//! JWS split and read, and the checks that need no key. The npm package's
//! `verifyGateAssertion` (`flow::npm`) runs them in this order: [`parse`] (its form, then
//! `alg` is `ES256`, then a `kid`), the key looked up by `kid`, the signature (WebCrypto, by
//! the driver), then [`check_claims`] (`iss`, `aud`, `exp`, `iat`). Each refusal is one
//! [`AssertionProblem`], which never holds the token or a claim's value.

use core::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;

use crate::base::json::{JsonEngine, Member, Object};
use crate::freedom_id::id_token::Audience;
use crate::freedom_id::user::{User, UserInfoAnswer};

/// The longest assertion read: a header, the claims with a whole profile, a signature.
pub const MAX_ASSERTION_LEN: usize = 16 * 1024;
/// The most `clockToleranceSec` may be.
pub const MAX_CLOCK_TOLERANCE_SECS: u64 = 300;
/// `clockToleranceSec` when not given.
pub const DEFAULT_CLOCK_TOLERANCE_SECS: u64 = 5;

/// Why an assertion was refused (`error.details.problem` in npm). Never holds a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AssertionProblem {
    /// Missing, not a string, too long, not three base64url parts, or a part that is not
    /// the JSON it must be.
    Malformed,
    /// The header's `alg` is not exactly `ES256`.
    Algorithm,
    /// No `kid`, or none the key set has.
    KeyId,
    /// The signature does not verify with the key for `kid`.
    Signature,
    /// `iss` is not the expected issuer.
    Issuer,
    /// `aud` is not (and does not hold) the expected audience.
    Audience,
    /// `exp` missing, or past beyond the tolerance.
    Expired,
    /// `iat` missing, or in the future beyond the tolerance.
    IssuedInFuture,
}

impl AssertionProblem {
    /// The problem's name, as `details.problem` shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            AssertionProblem::Malformed => "malformed",
            AssertionProblem::Algorithm => "alg",
            AssertionProblem::KeyId => "kid",
            AssertionProblem::Signature => "signature",
            AssertionProblem::Issuer => "iss",
            AssertionProblem::Audience => "aud",
            AssertionProblem::Expired => "exp",
            AssertionProblem::IssuedInFuture => "iat",
        }
    }
}

impl fmt::Display for AssertionProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The JOSE header's members read.
#[derive(Default, Deserialize)]
#[serde(default)]
struct Header {
    alg: Member<String>,
    kid: Member<String>,
    typ: Member<String>,
}

/// The claims read: each checked one leniently (the checks judge it), `user` an object read
/// as a profile is (the user-info answer's rules, which the gate's `User` passed) or `null`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct Claims {
    iss: Member<String>,
    aud: Member<Audience>,
    sub: Member<String>,
    sid: Member<String>,
    iat: Member<u64>,
    exp: Member<u64>,
    user: Option<Object<UserInfoAnswer>>,
}

/// An assertion split and read, its signature not yet checked. No `Debug`: it holds the
/// user's profile.
pub struct ParsedAssertion {
    /// The header's `kid`.
    pub kid: String,
    /// `header.payload`, the bytes the signature covers.
    pub signing_input: String,
    /// The signature's bytes (`r || s`).
    pub signature: Vec<u8>,
    claims: Claims,
    user: Option<User>,
}

/// What the claims are compared with.
#[derive(Clone, Copy, Debug)]
pub struct Expected<'a> {
    /// The `iss` wanted: the gate's origin.
    pub issuer: &'a str,
    /// The `aud` wanted: this site.
    pub audience: &'a str,
    /// Now, unix seconds.
    pub now: u64,
    /// How far `exp` and `iat` may be off the clock, in seconds.
    pub tolerance_secs: u64,
}

/// What a valid assertion says: who passed the gate, and when.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    /// The user's id when known, else the token pair's id.
    pub sub: Option<String>,
    /// The token pair's id.
    pub sid: Option<String>,
    /// The user's profile, as `/session` shows it.
    pub user: Option<User>,
    /// Issued at, unix seconds.
    pub iat: u64,
    /// Expiry, unix seconds.
    pub exp: u64,
}

impl fmt::Debug for VerifiedAssertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedAssertion")
            .field("sub", &self.sub.as_ref().map(|_| "<id>"))
            .field("sid", &self.sid.as_ref().map(|_| "<id>"))
            .field("user", &self.user.as_ref().map(|_| "<personal data>"))
            .field("iat", &self.iat)
            .field("exp", &self.exp)
            .finish()
    }
}

/// A string-or-null member: `Ok(None)` absent or `null`, `Err` for another type.
fn optional_text(member: Member<String>) -> Result<Option<String>, AssertionProblem> {
    match member {
        Member::Absent | Member::Null => Ok(None),
        Member::Value(text) => Ok(Some(text)),
        Member::Other => Err(AssertionProblem::Malformed),
    }
}

/// Splits and reads `token`: at most [`MAX_ASSERTION_LEN`], three base64url parts, a
/// header and claims that are JSON objects (`typ`, when given, `JWT`; `sub`, `sid` strings
/// or `null`; `user` a profile or `null`); then `alg` must be exactly `ES256`, then a `kid`
/// must be there.
pub fn parse(token: &str, json: &impl JsonEngine) -> Result<ParsedAssertion, AssertionProblem> {
    use AssertionProblem::Malformed;
    if token.is_empty() || token.len() > MAX_ASSERTION_LEN {
        return Err(Malformed);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Malformed);
    };
    let text = |part: &str| {
        let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| Malformed)?;
        String::from_utf8(bytes).map_err(|_| Malformed)
    };
    let head: Header = json.decode(&text(header)?).map_err(|_| Malformed)?;
    let claims: Claims = json.decode(&text(payload)?).map_err(|_| Malformed)?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| Malformed)?;
    match head.typ {
        Member::Absent => {}
        Member::Value(typ) if typ.eq_ignore_ascii_case("JWT") => {}
        _ => return Err(Malformed),
    }
    if matches!(claims.sub, Member::Other) || matches!(claims.sid, Member::Other) {
        return Err(Malformed);
    }
    let user = match &claims.user {
        None => None,
        Some(Object(profile)) => {
            Some(User::from_sources(Some(profile), None).map_err(|_| Malformed)?)
        }
    };
    if head.alg.value().map(String::as_str) != Some("ES256") {
        return Err(AssertionProblem::Algorithm);
    }
    let kid = head
        .kid
        .into_value()
        .filter(|kid| !kid.is_empty())
        .ok_or(AssertionProblem::KeyId)?;
    Ok(ParsedAssertion {
        kid,
        signing_input: format!("{header}.{payload}"),
        signature,
        claims,
        user,
    })
}

/// The claim checks, after the signature: `iss` equal, `aud` equal (or an array holding
/// it), `exp` not past (`exp <= now - tolerance` is expired), `iat` not in the future
/// (`iat > now + tolerance`). What the assertion says when all pass.
pub fn check_claims(
    token: ParsedAssertion,
    expected: &Expected<'_>,
) -> Result<VerifiedAssertion, AssertionProblem> {
    let claims = token.claims;
    if claims.iss.value().map(String::as_str) != Some(expected.issuer) {
        return Err(AssertionProblem::Issuer);
    }
    let ours = claims
        .aud
        .value()
        .is_some_and(|aud| aud.0.iter().any(|one| one == expected.audience));
    if !ours {
        return Err(AssertionProblem::Audience);
    }
    let exp = claims
        .exp
        .value()
        .copied()
        .ok_or(AssertionProblem::Expired)?;
    if exp.saturating_add(expected.tolerance_secs) <= expected.now {
        return Err(AssertionProblem::Expired);
    }
    let iat = claims
        .iat
        .value()
        .copied()
        .ok_or(AssertionProblem::IssuedInFuture)?;
    if iat > expected.now.saturating_add(expected.tolerance_secs) {
        return Err(AssertionProblem::IssuedInFuture);
    }
    Ok(VerifiedAssertion {
        sub: optional_text(claims.sub)?,
        sid: optional_text(claims.sid)?,
        user: token.user,
        iat,
        exp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::json::SerdeJson;

    const NOW: u64 = 1_740_472_605;

    fn encode(text: &str) -> String {
        URL_SAFE_NO_PAD.encode(text)
    }

    fn token(header: &str, claims: &str) -> String {
        format!("{}.{}.{}", encode(header), encode(claims), encode("sig"))
    }

    const HEADER: &str = r#"{"alg":"ES256","typ":"JWT","kid":"k1"}"#;

    fn claims(change: &str) -> String {
        format!(
            r#"{{"iss":"https://app.example.com","aud":"https://origin.example.com","sub":"u-1","sid":"s-1","iat":{NOW},"exp":{},"user":{{"id":"u-1","firstname":"Aida"}}{change}}}"#,
            NOW + 60
        )
    }

    fn expected() -> Expected<'static> {
        Expected {
            issuer: "https://app.example.com",
            audience: "https://origin.example.com",
            now: NOW,
            tolerance_secs: 5,
        }
    }

    fn verify(header: &str, claims: &str) -> Result<VerifiedAssertion, AssertionProblem> {
        check_claims(parse(&token(header, claims), &SerdeJson)?, &expected())
    }

    #[test]
    fn a_good_assertion_says_who_and_when() {
        let parsed = parse(&token(HEADER, &claims("")), &SerdeJson).unwrap();
        assert_eq!(parsed.kid, "k1");
        assert_eq!(parsed.signature, b"sig");
        let verified = check_claims(parsed, &expected()).unwrap();
        assert_eq!(verified.sub.as_deref(), Some("u-1"));
        assert_eq!(verified.sid.as_deref(), Some("s-1"));
        assert_eq!(
            verified.user.as_ref().unwrap().firstname.as_deref(),
            Some("Aida")
        );
        assert_eq!((verified.iat, verified.exp), (NOW, NOW + 60));
        assert!(!format!("{verified:?}").contains("Aida"));
    }

    #[test]
    fn each_rule_has_its_problem() {
        use AssertionProblem::*;
        let cases = [
            (HEADER, r#","iss":"https://evil.example""#, Issuer),
            (HEADER, r#","aud":"https://other.example""#, Audience),
            (HEADER, r#","exp":1"#, Expired),
            (HEADER, r#","iat":1999999999"#, IssuedInFuture),
            (HEADER, r#","sub":7"#, Malformed),
            (HEADER, r#","user":"aida""#, Malformed),
            (HEADER, r#","user":{"firstname":"Aida"}"#, Malformed),
            (HEADER, r#","user":["u-1"]"#, Malformed),
            (r#"{"alg":"none","kid":"k1"}"#, "", Algorithm),
            (r#"{"alg":"HS256","kid":"k1"}"#, "", Algorithm),
            (r#"{"alg":"es256","kid":"k1"}"#, "", Algorithm),
            (r#"{"alg":"ES256"}"#, "", KeyId),
            (r#"{"alg":"ES256","kid":""}"#, "", KeyId),
            (
                r#"{"alg":"ES256","kid":"k1","typ":"at+jwt"}"#,
                "",
                Malformed,
            ),
        ];
        for (header, change, problem) in cases {
            // A member given twice is refused, so the change replaces by removing first.
            let name = change
                .split(':')
                .next()
                .unwrap_or("")
                .trim_start_matches(',');
            let base = claims("");
            let claims = if name.is_empty() {
                base
            } else {
                let start = base.find(&format!("{name}:")).unwrap();
                let end = base[start..]
                    .find(",\"")
                    .map_or(base.len() - 1, |e| start + e);
                format!("{}{}{}", &base[..start], &change[1..], &base[end..])
            };
            assert_eq!(
                verify(header, &claims).map(|_| ()),
                Err(problem),
                "{header} {claims}"
            );
        }
        // An array audience holding ours; null sub and sid; a user of null.
        let loose = format!(
            r#"{{"iss":"https://app.example.com","aud":["x","https://origin.example.com"],"sub":null,"iat":{NOW},"exp":{},"user":null}}"#,
            NOW + 60
        );
        let verified = verify(HEADER, &loose).unwrap();
        assert_eq!(
            (verified.sub, verified.sid, verified.user),
            (None, None, None)
        );
    }

    #[test]
    fn the_tolerance_bounds_both_ends() {
        let at = |iat: u64, exp: u64| {
            format!(
                r#"{{"iss":"https://app.example.com","aud":"https://origin.example.com","iat":{iat},"exp":{exp}}}"#
            )
        };
        assert!(verify(HEADER, &at(NOW, NOW - 4)).is_ok());
        assert_eq!(
            verify(HEADER, &at(NOW, NOW - 5)).map(|_| ()),
            Err(AssertionProblem::Expired)
        );
        assert!(verify(HEADER, &at(NOW + 5, NOW + 60)).is_ok());
        assert_eq!(
            verify(HEADER, &at(NOW + 6, NOW + 60)).map(|_| ()),
            Err(AssertionProblem::IssuedInFuture)
        );
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let good = claims("");
        for bad in [
            String::new(),
            "a.b".to_owned(),
            "a.b.c.d".to_owned(),
            format!("{}.{}.", encode("[]"), encode(&good)),
            format!("{}.!!.{}", encode(HEADER), encode("s")),
            format!("{}.{}.{}", encode(HEADER), encode("null"), encode("s")),
            format!("{}=.{}.{}", encode(HEADER), encode(&good), encode("s")),
            format!(
                "{}.{}.{}",
                encode(HEADER),
                encode(&claims(r#","iss":"x""#)),
                encode("s")
            ),
            "x".repeat(MAX_ASSERTION_LEN + 1),
        ] {
            assert_eq!(
                parse(&bad, &SerdeJson).map(|_| ()),
                Err(AssertionProblem::Malformed),
                "{bad}"
            );
        }
    }
}
