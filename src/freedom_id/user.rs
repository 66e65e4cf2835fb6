//! Who signed in: the user's id and the profile fields Freedom ID shares, from the user-info
//! answer and (in the OpenID Connect flavour) the id_token's claims. Personal data: it goes
//! only into the sealed session, `/session`, the gate's signed assertion and the npm result,
//! never into a log line or an error message.

use serde::{Deserialize, Serialize};

use crate::base::json::{Leaf, Member, Number};
use crate::freedom_id::id_token::{with_profile, Claims};

/// The longest profile value kept; a longer one is left out.
pub const MAX_CLAIM_LEN: usize = 256;

/// The user-info answer's `id`: a string, or a whole number written in decimal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserId(pub String);

impl Leaf for UserId {
    fn from_str(text: &str) -> Option<UserId> {
        Some(UserId(text.to_owned()))
    }
    fn from_number(number: Number) -> Option<UserId> {
        match number {
            Number::Unsigned(value) => Some(UserId(value.to_string())),
            _ => None,
        }
    }
}

with_profile! {
    /// The user-info answer's members we read, each leniently.
    pub struct UserInfoAnswer {
        /// Freedom ID's id of the user.
        pub id: Member<UserId>,
        /// The OpenID Connect subject, if the answer carries one.
        pub sub: Member<String>,
    }
}

/// The user: an id, and each profile field Freedom ID shared as a string of at most
/// [`MAX_CLAIM_LEN`] characters. Serialized as `/session` and the npm package show it
/// (`{"id": "...", "firstname": "...", ...}`, unknown fields left out).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The user's id (the id_token's `sub`, or the user-info `id`).
    pub id: String,
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firstname: Option<String>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lastname: Option<String>,
    /// Patronymic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patronymic: Option<String>,
    /// Primary email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Primary phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Date of birth, as Freedom ID writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    /// Gender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    /// Citizenship.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Nationality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nationality: Option<String>,
    /// National identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
}

/// Why the user could not be known. Never holds a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserProblem {
    /// The user-info answer has no usable `id` (and there is no id_token `sub`).
    NoId,
    /// The user-info `sub` is not the id_token's.
    SubjectMismatch,
}

/// A profile value worth keeping: a string of at most [`MAX_CLAIM_LEN`] characters.
fn kept(member: &Member<String>) -> Option<String> {
    member
        .value()
        .filter(|text| text.chars().count() <= MAX_CLAIM_LEN)
        .cloned()
}

/// Whether `id` can be a user's id: 1 to 255 header-safe characters (it is sent as
/// `X-Freedom-ID-User-Id`).
pub fn is_user_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 255
        && id
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\\'))
}

macro_rules! merged {
    ($first:expr, $second:expr, $($field:ident),*) => {
        User {
            id: String::new(),
            $($field: $first.and_then(|one| kept(&one.$field)).or_else(|| $second.and_then(|two| kept(&two.$field))),)*
        }
    };
}

impl User {
    /// The user from a user-info answer and/or an id_token's checked claims. With claims, the
    /// id is their `sub`, and a user-info `sub` must equal it; without, it is the user-info
    /// `id`. A profile field comes from the user-info answer, else from the claims.
    pub fn from_sources(
        info: Option<&UserInfoAnswer>,
        claims: Option<(&str, &Claims)>,
    ) -> Result<User, UserProblem> {
        let id = match claims {
            Some((sub, _)) => {
                if let Some(info_sub) = info.and_then(|info| info.sub.value()) {
                    if info_sub != sub {
                        return Err(UserProblem::SubjectMismatch);
                    }
                }
                sub.to_owned()
            }
            None => info
                .and_then(|info| info.id.value())
                .map(|id| id.0.clone())
                .ok_or(UserProblem::NoId)?,
        };
        if !is_user_id(&id) {
            return Err(UserProblem::NoId);
        }
        let claims = claims.map(|(_, claims)| claims);
        let mut user = merged!(
            info,
            claims,
            firstname,
            lastname,
            patronymic,
            email,
            phone,
            date_of_birth,
            gender,
            country,
            nationality,
            identifier
        );
        user.id = id;
        Ok(user)
    }

    /// Drops the longest optional field still there; `false` when only the id is left. The
    /// session drops fields this way until its sealed cookie fits.
    pub fn drop_largest_optional(&mut self) -> bool {
        let fields = [
            &mut self.firstname,
            &mut self.lastname,
            &mut self.patronymic,
            &mut self.email,
            &mut self.phone,
            &mut self.date_of_birth,
            &mut self.gender,
            &mut self.country,
            &mut self.nationality,
            &mut self.identifier,
        ];
        let largest = fields
            .into_iter()
            .filter(|field| field.is_some())
            .max_by_key(|field| field.as_ref().map_or(0, String::len));
        match largest {
            Some(field) => {
                *field = None;
                true
            }
            None => false,
        }
    }

    /// "First Last" when either is known, else the id: how the demo greets the user.
    pub fn display_name(&self) -> String {
        let name: Vec<&str> = [self.firstname.as_deref(), self.lastname.as_deref()]
            .into_iter()
            .flatten()
            .filter(|part| !part.trim().is_empty())
            .collect();
        if name.is_empty() {
            self.id.clone()
        } else {
            name.join(" ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::json::{JsonEngine, SerdeJson};

    fn info(json: &str) -> UserInfoAnswer {
        SerdeJson.decode(json).unwrap()
    }

    #[test]
    fn a_user_info_answer_makes_the_user_with_only_usable_fields() {
        let answer = info(&format!(
            r#"{{"id":"u-1","firstname":"Aida","lastname":"Seitkali","email":7,"phone":"+77011234567","gender":null,"patronymic":"{}","cards":["x"]}}"#,
            "p".repeat(MAX_CLAIM_LEN + 1)
        ));
        let user = User::from_sources(Some(&answer), None).unwrap();
        assert_eq!(user.id, "u-1");
        assert_eq!(user.firstname.as_deref(), Some("Aida"));
        assert_eq!(user.phone.as_deref(), Some("+77011234567"));
        assert_eq!(
            (user.email, user.gender, user.patronymic),
            (None, None, None)
        );
        assert_eq!(
            User::from_sources(Some(&info(r#"{"id":42}"#)), None)
                .unwrap()
                .id,
            "42"
        );
        for no_id in [r#"{}"#, r#"{"id":""}"#, r#"{"id":null}"#, r#"{"id":"a b"}"#] {
            assert_eq!(
                User::from_sources(Some(&info(no_id)), None),
                Err(UserProblem::NoId),
                "{no_id}"
            );
        }
        assert_eq!(User::from_sources(None, None), Err(UserProblem::NoId));
    }

    #[test]
    fn with_claims_the_id_is_sub_and_user_info_must_agree() {
        let claims: Claims = SerdeJson
            .decode(r#"{"sub":"s-1","firstname":"Aida","email":"aida@example.com"}"#)
            .unwrap();
        let user = User::from_sources(None, Some(("s-1", &claims))).unwrap();
        assert_eq!(user.id, "s-1");
        assert_eq!(user.email.as_deref(), Some("aida@example.com"));
        let fresher = info(r#"{"id":"other-id","sub":"s-1","firstname":"Аида"}"#);
        let user = User::from_sources(Some(&fresher), Some(("s-1", &claims))).unwrap();
        assert_eq!(
            (user.id.as_str(), user.firstname.as_deref()),
            ("s-1", Some("Аида"))
        );
        assert_eq!(user.email.as_deref(), Some("aida@example.com"));
        assert_eq!(
            User::from_sources(Some(&info(r#"{"sub":"s-2"}"#)), Some(("s-1", &claims))),
            Err(UserProblem::SubjectMismatch)
        );
    }

    #[test]
    fn fields_are_dropped_largest_first_and_the_id_stays() {
        let mut user = User {
            id: "u".into(),
            firstname: Some("Ai".into()),
            email: Some("aida@example.com".into()),
            phone: Some("+7701".into()),
            ..User::default()
        };
        assert!(user.drop_largest_optional());
        assert_eq!(user.email, None);
        assert!(user.drop_largest_optional());
        assert_eq!(user.phone, None);
        assert!(user.drop_largest_optional());
        assert!(!user.drop_largest_optional());
        assert_eq!(user.id, "u");
        assert_eq!(
            crate::base::json::to_string(&user),
            r#"{"id":"u"}"#,
            "unknown fields are left out"
        );
    }

    #[test]
    fn the_greeting_uses_the_name_or_the_id() {
        let mut user = User {
            id: "u-1".into(),
            ..User::default()
        };
        assert_eq!(user.display_name(), "u-1");
        user.lastname = Some("Seitkali".into());
        assert_eq!(user.display_name(), "Seitkali");
        user.firstname = Some("Aida".into());
        assert_eq!(user.display_name(), "Aida Seitkali");
    }
}
