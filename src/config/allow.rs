//! `FREEDOM_ID_ALLOW`: who may pass the gate. Space-separated
//! rules; a signed-in user passes if any rule matches: a user id (a UUID), an email address
//! (compared case-insensitively), an email domain (`@example.com`), or a phone number in
//! international form (`+77011234567`, compared by digits). No rules: everyone signed in.

/// One rule of `FREEDOM_ID_ALLOW`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowRule {
    /// A user id (a UUID), compared case-insensitively.
    UserId(String),
    /// An email address, kept in lowercase.
    Email(String),
    /// An email domain (`@example.com`), kept in lowercase without the `@`.
    Domain(String),
    /// A phone number's digits (from `+77011234567`).
    Phone(String),
}

/// The rules; empty lets every signed-in user through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowRules(Vec<AllowRule>);

/// What the rules say of a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// A rule matches (or there are none).
    Pass,
    /// No rule matches what is known of the user.
    Denied,
}

/// Why `FREEDOM_ID_ALLOW` was refused: the position of the first rule that is none of the
/// four kinds (never its text, which may be personal data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllowError {
    /// The rule's position, from 1.
    pub rule: usize,
}

impl AllowRules {
    /// Reads the setting's text.
    pub fn parse(text: &str) -> Result<AllowRules, AllowError> {
        text.split_ascii_whitespace()
            .enumerate()
            .map(|(index, rule)| parse_rule(rule).ok_or(AllowError { rule: index + 1 }))
            .collect::<Result<Vec<_>, _>>()
            .map(AllowRules)
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether any rule needs the user's email or phone, which only the user-info call (or
    /// the id_token's claims) can tell.
    pub fn needs_profile(&self) -> bool {
        self.0
            .iter()
            .any(|rule| !matches!(rule, AllowRule::UserId(_)))
    }

    /// What the rules say of a user with `id`, `email` and `phone` (each when known). A rule
    /// whose field is unknown does not match.
    pub fn admit(&self, id: Option<&str>, email: Option<&str>, phone: Option<&str>) -> Admission {
        if self.0.is_empty() {
            return Admission::Pass;
        }
        let email = email.map(str::to_ascii_lowercase);
        let phone = phone.map(digits).filter(|digits| !digits.is_empty());
        let matches = |rule: &AllowRule| match rule {
            AllowRule::UserId(wanted) => id.is_some_and(|id| wanted.eq_ignore_ascii_case(id)),
            AllowRule::Email(wanted) => email.as_deref() == Some(wanted.as_str()),
            AllowRule::Domain(wanted) => email
                .as_deref()
                .and_then(|email| email.rsplit_once('@'))
                .is_some_and(|(_, domain)| domain == wanted),
            AllowRule::Phone(wanted) => phone.as_deref() == Some(wanted.as_str()),
        };
        if self.0.iter().any(matches) {
            Admission::Pass
        } else {
            Admission::Denied
        }
    }
}

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

fn parse_rule(rule: &str) -> Option<AllowRule> {
    if let Some(domain) = rule.strip_prefix('@') {
        return is_domain(domain).then(|| AllowRule::Domain(domain.to_ascii_lowercase()));
    }
    if let Some(number) = rule.strip_prefix('+') {
        let valid = (7..=15).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_digit());
        return valid.then(|| AllowRule::Phone(number.to_owned()));
    }
    if let Some((local, domain)) = rule.rsplit_once('@') {
        let valid = !local.is_empty()
            && local.len() <= 64
            && local.bytes().all(|b| b.is_ascii_graphic() && b != b'@')
            && is_domain(domain);
        return valid.then(|| AllowRule::Email(rule.to_ascii_lowercase()));
    }
    is_uuid(rule).then(|| AllowRule::UserId(rule.to_ascii_lowercase()))
}

/// A DNS name of at least two labels: letters, digits and `-`, no label empty or over 63.
fn is_domain(text: &str) -> bool {
    let labels: Vec<&str> = text.split('.').collect();
    text.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// `8-4-4-4-12` hexadecimal digits.
fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "41790bb3-5d6e-4c1a-9f7e-2b8a3c0d9e41";

    #[test]
    fn each_rule_kind_lets_its_user_through_and_stops_the_others() {
        let rules = AllowRules::parse(&format!(
            "{} Aida@Example.com @partner.kz +7 701 123 45 67",
            ID.to_uppercase()
        ));
        // The phone rule must be one word: spaces split rules.
        assert_eq!(rules, Err(AllowError { rule: 4 }));
        let rules = AllowRules::parse(&format!(
            "{} Aida@Example.com @partner.kz +77011234567",
            ID.to_uppercase()
        ))
        .unwrap();
        assert!(rules.needs_profile());
        let other = "00000000-0000-4000-8000-000000000000";
        for (id, email, phone, admitted) in [
            (ID, None, None, Admission::Pass),
            (other, Some("aida@example.COM"), None, Admission::Pass),
            (other, Some("bek@partner.kz"), None, Admission::Pass),
            (other, Some("bek@sub.partner.kz"), None, Admission::Denied),
            (
                other,
                Some("bek@partner.kz.evil.com"),
                None,
                Admission::Denied,
            ),
            (other, None, Some("+7 (701) 123-45-67"), Admission::Pass),
            (other, None, Some("87011234567"), Admission::Denied),
            (
                other,
                Some("someone@else.com"),
                Some("+1555"),
                Admission::Denied,
            ),
            // What the rules need is not known: no match.
            (other, None, None, Admission::Denied),
        ] {
            assert_eq!(
                rules.admit(Some(id), email, phone),
                admitted,
                "{id} {email:?} {phone:?}"
            );
        }
        assert_eq!(
            AllowRules::parse("").unwrap().admit(None, None, None),
            Admission::Pass
        );
        assert!(!AllowRules::parse(ID).unwrap().needs_profile());
        // No user known at all (oauth2 without the user-info call): only "no rules" passes.
        assert_eq!(
            AllowRules::parse(ID).unwrap().admit(None, None, None),
            Admission::Denied
        );
    }

    #[test]
    fn a_rule_of_no_kind_is_refused_by_position() {
        for (text, rule) in [
            ("aida", 1),
            ("41790bb3-5d6e-4c1a-9f7e-2b8a3c0d9e41 not-a-uuid", 2),
            ("@localhost", 1),
            ("+12", 1),
            ("+7701abc", 1),
            ("a@b", 1),
            ("@-bad.kz", 1),
            ("@@x.kz", 1),
        ] {
            assert_eq!(AllowRules::parse(text), Err(AllowError { rule }), "{text}");
        }
    }
}
