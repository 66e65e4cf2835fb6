//! Freedom ID's OpenID Connect flavour as plain data: the authorization URL built locally (no
//! server call), the token exchange request and the rules for reading its answer.
//!
//! ```text
//! GET  {oidc_authorize_url}?scope=openid+...&state=...&response_type=code&client_id=...&redirect_uri=...&nonce=...
//! POST {oidc_token_url}  Authorization: Basic base64(client_id:client_secret)
//!                        {"code": "...", "redirect_uri": "...", "grant_type": "authorization_code"}
//!
//! 200 {"access_token": "...", "expires_in": 604800, "refresh_token": "...",
//!      "token_type": "Bearer", "id_token": "<JWT>"}
//! ```
//! Freedom ID documents no refresh for this flavour: a session ends with its access token.

use serde::{Deserialize, Serialize};

use crate::base::json::{self, JsonEngine, JsonError, Member};
use crate::base::secret::{
    AccessToken, AuthorizationCode, AuthorizationHeader, ClientId, ClientSecret, RefreshToken,
};
use crate::base::url::{append_query_param, AbsoluteUrl};
use crate::config::settings::Settings;
use crate::error::{Error, Malformed};
use crate::freedom_id::authorize::AuthorizationLink;
use crate::freedom_id::id_token::MAX_ID_TOKEN_LEN;
use crate::freedom_id::token::{is_token_text, refusal_for, ErrorMember, TokenCall, Tokens};
use crate::freedom_id::upstream::{BodyRule, Method, Reply, UpstreamRequest};

/// The most `expires_in` accepted (a year): anything longer is no access token's life.
pub const MAX_EXPIRES_IN_SECS: u64 = 366 * 24 * 3600;

/// Whether `text` can be a compact JWT: at most [`MAX_ID_TOKEN_LEN`] base64url characters
/// and dots (the parts are checked by `id_token.rs`).
fn is_jwt_text(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_ID_TOKEN_LEN
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The authorization URL: `oidc_authorize_url` with the six parameters Freedom ID requires,
/// `scope` being the grants separated by spaces.
pub fn authorization_url(
    oidc_authorize_url: &AbsoluteUrl,
    grants: &[&str],
    state: &str,
    client_id: &ClientId,
    redirect_uri: &AbsoluteUrl,
    nonce: &str,
) -> String {
    let scope = grants.join(" ");
    let mut url = oidc_authorize_url.as_str().to_owned();
    for (name, value) in [
        ("scope", scope.as_str()),
        ("state", state),
        ("response_type", "code"),
        ("client_id", client_id.as_str()),
        ("redirect_uri", redirect_uri.as_str()),
        ("nonce", nonce),
    ] {
        url = append_query_param(&url, name, value);
    }
    url
}

/// The sign-in link for `settings` with `state` and `nonce`: [`authorization_url`] from the
/// settings' OIDC authorize URL, grants, client id and redirect URI. Built from valid settings
/// it always parses; it is still refused ([`Error::UntrustedLink`]) rather than trusted
/// blindly.
pub fn authorization_link(
    settings: &Settings,
    state: &str,
    nonce: &str,
) -> Result<AuthorizationLink, Error> {
    let grants: Vec<&str> = settings.grants.iter().map(|grant| grant.as_str()).collect();
    let url = authorization_url(
        &settings.oidc_authorize_url,
        &grants,
        state,
        &settings.client_id,
        &settings.redirect_uri,
        nonce,
    );
    Ok(AuthorizationLink {
        url: AbsoluteUrl::parse(&url).map_err(|_| Error::UntrustedLink)?,
        track_id: None,
        expire_at: None,
    })
}

/// The token call's body.
#[derive(Serialize)]
struct TokenBody<'a> {
    code: &'a str,
    redirect_uri: &'a str,
    grant_type: &'static str,
}

/// The exchange request: `POST` with the Basic header and the JSON body; 2xx and 4xx bodies
/// are read.
pub fn exchange_request(
    token_url: &AbsoluteUrl,
    client_id: &ClientId,
    client_secret: &ClientSecret,
    code: &AuthorizationCode,
    redirect_uri: &AbsoluteUrl,
) -> UpstreamRequest {
    UpstreamRequest {
        method: Method::Post,
        url: token_url.as_str().to_owned(),
        authorization: Some(AuthorizationHeader::basic(client_id, client_secret)),
        body: Some(json::to_string(&TokenBody {
            code: code.secret(),
            redirect_uri: redirect_uri.as_str(),
            grant_type: "authorization_code",
        })),
        body_rule: BodyRule::SuccessAndClientError,
    }
}

/// The token answer's members we read, each leniently.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OidcTokenAnswer {
    /// An `error` member, as in the OAuth2 flavour.
    pub error: Member<ErrorMember>,
    /// The access token.
    pub access_token: Member<String>,
    /// Its life, in seconds.
    pub expires_in: Member<u64>,
    /// The refresh token (no refresh call is documented for this flavour).
    pub refresh_token: Member<String>,
    /// The id_token, a JWT.
    pub id_token: Member<String>,
}

/// What an OIDC exchange brought: the tokens, the access token's expiry and the raw
/// id_token (checked next, by `id_token.rs`).
#[derive(Clone, Debug)]
pub struct OidcTokens {
    /// The access token.
    pub access_token: AccessToken,
    /// The refresh token (required by Freedom ID's page), kept though no refresh is
    /// documented.
    pub refresh_token: RefreshToken,
    /// When the access token expires, unix seconds.
    pub access_expires_at: u64,
    /// The id_token as received.
    pub id_token: String,
}

impl OidcTokens {
    /// The token pair as both products keep it: no token pair `id` (the answer has none), and
    /// the refresh token's expiry at the access token's, since no refresh is documented for
    /// this flavour: the sign-in ends with the access token.
    pub fn into_tokens(self) -> Tokens {
        Tokens {
            id: None,
            access_token: self.access_token,
            refresh_token: self.refresh_token,
            access_expires_at: self.access_expires_at,
            refresh_expires_at: self.access_expires_at,
        }
    }
}

/// Reads the exchange's reply at `now` (unix seconds): a failure as it is; a 4xx or an
/// `error` member as [`Error::CodeRejected`]; any other non-2xx as
/// [`Error::UpstreamStatus`]; else the tokens, which must be token text with an
/// `expires_in` from 1 to [`MAX_EXPIRES_IN_SECS`] and an id_token.
pub fn read_exchange_reply(
    reply: &Reply,
    now: u64,
    json: &impl JsonEngine,
) -> Result<OidcTokens, Error> {
    let body = reply.body.as_ref().map_err(Clone::clone)?;
    let status = reply.status.unwrap_or(0);
    if (400..500).contains(&status) {
        let answer: Option<OidcTokenAnswer> = json.decode(body).ok();
        let error = answer.and_then(|answer| answer.error.into_value());
        return Err(refusal_for(TokenCall::Exchange, status, error));
    }
    if !(200..300).contains(&status) {
        return Err(Error::UpstreamStatus { status });
    }
    let answer: OidcTokenAnswer = json.decode(body).map_err(|error| {
        Error::UpstreamMalformed(match error {
            JsonError::Duplicate => Malformed::BadTokens,
            _ => Malformed::NotJson,
        })
    })?;
    if answer.error.is_present() {
        return Err(refusal_for(
            TokenCall::Exchange,
            status,
            answer.error.into_value(),
        ));
    }
    let access = answer
        .access_token
        .into_value()
        .filter(|text| is_token_text(text))
        .ok_or(Error::UpstreamMalformed(Malformed::BadTokens))?;
    let refresh_token = answer
        .refresh_token
        .into_value()
        .filter(|text| is_token_text(text))
        .map(RefreshToken::new)
        .ok_or(Error::UpstreamMalformed(Malformed::BadTokens))?;
    let id_token = answer
        .id_token
        .into_value()
        .filter(|text| is_jwt_text(text))
        .ok_or(Error::UpstreamMalformed(Malformed::BadTokens))?;
    let expires_in = answer
        .expires_in
        .value()
        .copied()
        .filter(|secs| (1..=MAX_EXPIRES_IN_SECS).contains(secs))
        .ok_or(Error::UpstreamMalformed(Malformed::BadExpiry))?;
    Ok(OidcTokens {
        access_token: AccessToken::new(access),
        refresh_token,
        access_expires_at: now.saturating_add(expires_in),
        id_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::json::SerdeJson;

    fn url(text: &str) -> AbsoluteUrl {
        AbsoluteUrl::parse(text).unwrap()
    }

    #[test]
    fn the_authorization_url_carries_the_six_parameters() {
        let built = authorization_url(
            &url("https://passport.freedompay.kz/openid"),
            &["openid", "read.profile"],
            "st&te",
            &ClientId::new("b4b93cc5-client"),
            &url("https://app.example.com/callback"),
            "n0nce",
        );
        assert_eq!(
            built,
            "https://passport.freedompay.kz/openid?scope=openid%20read.profile&state=st%26te&response_type=code&client_id=b4b93cc5-client&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback&nonce=n0nce"
        );
        let parsed = url(&built);
        assert_eq!(
            parsed.query_param("scope").as_deref(),
            Some("openid read.profile")
        );
        assert_eq!(
            parsed.query_param("redirect_uri").as_deref(),
            Some("https://app.example.com/callback")
        );
    }

    #[test]
    fn the_exchange_request_is_the_documented_one() {
        let request = exchange_request(
            &url("https://passport.freedompay.kz/api/v1/oidc/token"),
            &ClientId::new("demo-client"),
            &ClientSecret::new("top-secret-value"),
            &AuthorizationCode::new("c0de\"x"),
            &url("https://app.example.com/callback"),
        );
        assert_eq!(request.method, Method::Post);
        assert_eq!(
            request.body.as_deref(),
            Some(
                r#"{"code":"c0de\"x","redirect_uri":"https://app.example.com/callback","grant_type":"authorization_code"}"#
            )
        );
        let shown = format!("{request:?}");
        assert!(
            !shown.contains("c0de") && !shown.contains("top-secret"),
            "{shown}"
        );
    }

    const ANSWER: &str = r#"{"access_token":"AAAA","expires_in":604800,"refresh_token":"RRRR","token_type":"Bearer","id_token":"h.p.s"}"#;

    fn read(status: u16, body: &str) -> Result<OidcTokens, Error> {
        read_exchange_reply(&Reply::answered(status, body), 1_000, &SerdeJson)
    }

    #[test]
    fn a_token_answer_gives_the_tokens_and_the_expiry() {
        let tokens = read(200, ANSWER).unwrap();
        assert_eq!(tokens.access_token.secret(), "AAAA");
        assert_eq!(tokens.access_expires_at, 605_800);
        assert_eq!(tokens.id_token, "h.p.s");
        assert_eq!(tokens.refresh_token.secret(), "RRRR");
    }

    #[test]
    fn each_unusable_answer_has_its_error() {
        let bad_tokens = Error::UpstreamMalformed(Malformed::BadTokens);
        let bad_expiry = Error::UpstreamMalformed(Malformed::BadExpiry);
        for (body, expected) in [
            (ANSWER.replace(r#""AAAA""#, "1"), bad_tokens.clone()),
            (
                ANSWER.replace(r#","id_token":"h.p.s""#, ""),
                bad_tokens.clone(),
            ),
            (
                ANSWER.replace(r#","refresh_token":"RRRR""#, ""),
                bad_tokens.clone(),
            ),
            (ANSWER.replace(r#""h.p.s""#, r#""h p""#), bad_tokens.clone()),
            (ANSWER.replace("604800", "0"), bad_expiry.clone()),
            (ANSWER.replace("604800", "\"604800\""), bad_expiry.clone()),
            (ANSWER.replace("604800", "1.5"), bad_expiry),
            (
                "[]".to_owned(),
                Error::UpstreamMalformed(Malformed::NotJson),
            ),
            (
                format!("{},\"access_token\":\"B\"}}", &ANSWER[..ANSWER.len() - 1]),
                bad_tokens,
            ),
        ] {
            assert_eq!(read(200, &body).map(|_| ()), Err(expected), "{body}");
        }
        assert_eq!(
            read(400, r#"{"error":{"code":100102}}"#).map(|_| ()),
            Err(Error::CodeRejected {
                status: 400,
                upstream_code: Some("100102".into())
            })
        );
        assert_eq!(
            read(200, r#"{"error":{"code":"x1"}}"#).map(|_| ()),
            Err(Error::CodeRejected {
                status: 200,
                upstream_code: Some("x1".into())
            })
        );
        assert_eq!(
            read(503, ANSWER).map(|_| ()),
            Err(Error::UpstreamStatus { status: 503 })
        );
    }
}
