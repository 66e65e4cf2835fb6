//! Freedom ID's user-info call as plain data (`FREEDOM_ID_USERINFO_URL`: its path is not
//! public): `GET` with the access token as a bearer, and the rules for reading the answer.
//! It runs once per sign-in, right after the exchange, in both flavours.
//!
//! ```text
//! GET {userinfo_url}   Authorization: Bearer <access token>   Accept: application/json
//! 200 {"id": "<uuid>", "firstname": "...", "lastname": "...", "date_of_birth": "...", ...}
//! ```

use crate::base::json::{JsonEngine, JsonError};
use crate::base::secret::{AccessToken, AuthorizationHeader};
use crate::base::url::AbsoluteUrl;
use crate::error::{Error, Malformed};
use crate::freedom_id::upstream::{BodyRule, Method, Reply, UpstreamRequest};
use crate::freedom_id::user::UserInfoAnswer;

/// The request: `GET` with `Bearer <access token>`; only a 2xx body is read.
pub fn userinfo_request(userinfo_url: &AbsoluteUrl, access_token: &AccessToken) -> UpstreamRequest {
    UpstreamRequest {
        method: Method::Get,
        url: userinfo_url.as_str().to_owned(),
        authorization: Some(AuthorizationHeader::bearer_access(access_token)),
        body: None,
        body_rule: BodyRule::Success,
    }
}

/// Reads the reply: a failure as it is; 401 or 403 as [`Error::UserinfoRejected`]; another
/// non-2xx as [`Error::UpstreamStatus`]; a body that is not a JSON object (or repeats a member
/// it reads) as [`Error::UpstreamMalformed`].
pub fn read_userinfo_reply(reply: &Reply, json: &impl JsonEngine) -> Result<UserInfoAnswer, Error> {
    let body = reply.body.as_ref().map_err(Clone::clone)?;
    let status = reply.status.unwrap_or(0);
    match status {
        401 | 403 => return Err(Error::UserinfoRejected { status }),
        200..=299 => {}
        _ => return Err(Error::UpstreamStatus { status }),
    }
    json.decode(body).map_err(|error| {
        Error::UpstreamMalformed(match error {
            JsonError::Duplicate => Malformed::BadProfile,
            _ => Malformed::NotJson,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::json::SerdeJson;

    #[test]
    fn the_request_is_a_bearer_get_for_json() {
        let request = userinfo_request(
            &AbsoluteUrl::parse("https://passport.freedompay.kz/api/v1/user").unwrap(),
            &AccessToken::new("AAAA"),
        );
        assert_eq!(request.method, Method::Get);
        assert_eq!(request.body, None);
        assert!(request
            .headers()
            .contains(&("Authorization", "Bearer AAAA")));
        assert!(request.headers().contains(&("Accept", "application/json")));
        assert!(!format!("{request:?}").contains("AAAA"));
    }

    #[test]
    fn each_answer_has_its_outcome() {
        let read =
            |status, body: &str| read_userinfo_reply(&Reply::answered(status, body), &SerdeJson);
        let answer = read(200, r#"{"id":"u-1","firstname":"Aida"}"#).unwrap();
        assert_eq!(answer.firstname.value().map(String::as_str), Some("Aida"));
        for status in [401, 403] {
            assert_eq!(
                read(status, "").map(|_| ()),
                Err(Error::UserinfoRejected { status })
            );
        }
        assert_eq!(
            read(500, "").map(|_| ()),
            Err(Error::UpstreamStatus { status: 500 })
        );
        assert_eq!(
            read(200, "[1]").map(|_| ()),
            Err(Error::UpstreamMalformed(Malformed::NotJson))
        );
        assert_eq!(
            read(200, r#"{"id":"a","id":"b"}"#).map(|_| ()),
            Err(Error::UpstreamMalformed(Malformed::BadProfile))
        );
        let failed = Reply::failed(None, Error::UpstreamNetwork);
        assert_eq!(
            read_userinfo_reply(&failed, &SerdeJson).map(|_| ()),
            Err(Error::UpstreamNetwork)
        );
    }
}
