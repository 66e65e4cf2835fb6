//! Grants: the access permissions asked of the user, such as `read.email` or `openid`.

use core::fmt;

/// One grant: `openid`, or `level.code` where both parts are lowercase ASCII letters,
/// digits and `_` (`read.email`, `read.date_of_birth`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant(String);

impl Grant {
    /// Checks one grant's syntax.
    pub fn parse(text: &str) -> Result<Grant, GrantError> {
        let valid_part = |part: &str| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_'))
        };
        let valid = text == "openid"
            || matches!(text.split_once('.'), Some((level, code)) if valid_part(level) && valid_part(code));
        if valid {
            Ok(Grant(text.to_owned()))
        } else {
            Err(GrantError::Invalid(text.to_owned()))
        }
    }

    /// The grant as sent to Freedom ID.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The grants of one sign-in, in the configured order, without duplicates, never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grants(Vec<Grant>);

impl Grants {
    /// Reads a settings value: grants separated by spaces and/or commas, such as
    /// `"openid read.email, read.phone"`.
    pub fn parse_list(text: &str) -> Result<Grants, GrantError> {
        Grants::from_items(text.split([' ', ',']).filter(|item| !item.is_empty()))
    }

    /// Checks each item as one grant. A repeated grant is kept once, at its first place.
    pub fn from_items<I, S>(items: I) -> Result<Grants, GrantError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut grants: Vec<Grant> = Vec::new();
        for item in items {
            let grant = Grant::parse(item.as_ref())?;
            if !grants.contains(&grant) {
                grants.push(grant);
            }
        }
        if grants.is_empty() {
            return Err(GrantError::Empty);
        }
        Ok(Grants(grants))
    }

    /// The grants in order.
    pub fn iter(&self) -> impl Iterator<Item = &Grant> {
        self.0.iter()
    }
}

/// Why a list of grants was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GrantError {
    /// No grant at all.
    Empty,
    /// This item is not `openid` nor `level.code` in lowercase letters, digits and `_`.
    Invalid(String),
}

impl fmt::Display for GrantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GrantError::Empty => f.write_str("names no grant"),
            GrantError::Invalid(item) => write!(
                f,
                "has {item:?}, which is not a grant (expected `openid` or `level.code` in lowercase letters, digits and `_`)"
            ),
        }
    }
}

impl std::error::Error for GrantError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(grants: &Grants) -> Vec<&str> {
        grants.iter().map(Grant::as_str).collect()
    }

    #[test]
    fn parses_lists_with_spaces_and_commas_in_order() {
        let cases: [(&str, &[&str]); 5] = [
            ("openid", &["openid"]),
            ("read.email read.phone", &["read.email", "read.phone"]),
            ("read.phone,read.email", &["read.phone", "read.email"]),
            (
                " openid ,, read.date_of_birth ,read.cards ",
                &["openid", "read.date_of_birth", "read.cards"],
            ),
            ("read.email openid read.email", &["read.email", "openid"]),
        ];
        for (text, expected) in cases {
            assert_eq!(
                names(&Grants::parse_list(text).unwrap()),
                expected,
                "{text:?}"
            );
        }
    }

    #[test]
    fn every_grant_on_the_providers_page_is_accepted() {
        let seed =
            "read.email read.emails read.phone read.phones read.date_of_birth read.firstname \
                    read.lastname read.patronymic read.gender read.country read.nationality \
                    read.identifier read.profile read.cards openid";
        assert_eq!(Grants::parse_list(seed).unwrap().iter().count(), 15);
    }

    #[test]
    fn refuses_empty_lists_and_malformed_grants() {
        for text in ["", "  ", " , ,"] {
            assert_eq!(Grants::parse_list(text), Err(GrantError::Empty), "{text:?}");
        }
        let bad = [
            "read.Email",
            "read",
            ".email",
            "read.",
            "read.email.x",
            "read-email",
            "OPENID",
            "openid2x.",
            "read.e mail",
            "read;email",
            "чтение.email",
        ];
        for item in bad {
            assert!(
                matches!(Grant::parse(item), Err(GrantError::Invalid(got)) if got == item),
                "{item:?}"
            );
        }
        assert_eq!(
            Grants::from_items(["openid", "read.Email"]),
            Err(GrantError::Invalid("read.Email".into()))
        );
        assert_eq!(
            Grants::from_items(Vec::<String>::new()),
            Err(GrantError::Empty)
        );
    }
}
