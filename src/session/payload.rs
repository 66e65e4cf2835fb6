//! What the Worker keeps in its sealed cookies: the flow cookie that carries a sign-in from
//! `/login` to `/callback`, and the session cookie that carries the token pair and when the
//! sign-in happened. Their names and lifetimes are in `rules.rs`.

use serde::{Deserialize, Serialize};

use crate::base::json::{self, JsonEngine};
use crate::base::secret::{AccessToken, CsrfState, RefreshToken};
use crate::freedom_id::token::{is_token_text, Tokens};
use crate::freedom_id::user::User;
use crate::session::seal::{IV_BYTES, TAG_BYTES};

/// A sign-in under way: the state sent to Freedom ID, where to land afterwards, and when
/// it began (unix seconds).
#[derive(Clone, Debug)]
pub struct Flow {
    /// The login-CSRF state.
    pub state: CsrfState,
    /// The OpenID Connect nonce the id_token must echo (`None` in the OAuth2 flavour).
    pub nonce: Option<CsrfState>,
    /// A path on this site to land on, if one was asked for.
    pub return_to: Option<String>,
    /// When `/login` made it.
    pub created_at: u64,
}

/// The flow cookie's sealed payload: `{"s": state, "r": return_to, "t": created_at}`, and
/// `"n": nonce` in the OIDC flavour. Borrowed (`&str`) to write, owned to read.
#[derive(Serialize, Deserialize)]
struct FlowPayload<S> {
    s: S,
    r: Option<S>,
    t: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    n: Option<S>,
}

impl Flow {
    /// The sealed payload (see `FlowPayload`).
    pub fn encode(&self) -> String {
        json::to_string(&FlowPayload {
            s: self.state.secret(),
            r: self.return_to.as_deref(),
            t: self.created_at,
            n: self.nonce.as_ref().map(CsrfState::secret),
        })
    }

    /// Reads a payload made by [`Flow::encode`], decoded by `json`.
    pub fn decode(text: &str, json: &impl JsonEngine) -> Option<Flow> {
        let payload: FlowPayload<String> = json.decode(text).ok()?;
        let return_to = match payload.r {
            None => None,
            Some(path) => Some(crate::base::return_to::local_path(&path)?.to_owned()),
        };
        Some(Flow {
            state: CsrfState::new(payload.s),
            nonce: payload.n.map(CsrfState::new),
            return_to,
            created_at: payload.t,
        })
    }
}

/// A signed-in session: the token pair, and when its sign-in happened. Refreshes replace the
/// tokens and keep `began_at`, so `FREEDOM_ID_SESSION_MAX_AGE` bounds the whole session.
#[derive(Clone, Debug)]
pub struct Session {
    /// The current token pair.
    pub tokens: Tokens,
    /// When the sign-in completed (unix seconds).
    pub began_at: u64,
    /// Who signed in, when known (the OIDC flavour, or `FREEDOM_ID_USERINFO_URL`).
    pub user: Option<User>,
    /// Whether the tokens can be refreshed. The OIDC flavour documents no refresh: such a
    /// session ends with its access token.
    pub refreshable: bool,
}

/// The session cookie's sealed payload: `{"i": id, "a": access, "r": refresh, "ae": n,
/// "re": n, "b": n}`, with `"u": user` when known and `"o": true` for a session that cannot
/// be refreshed. Borrowed (`&str`) to write, owned to read; a payload without `b` (sealed
/// before sessions had a bounded life) does not read: its sign-in time cannot be known.
#[derive(Serialize, Deserialize)]
struct SessionPayload<S, U> {
    i: Option<S>,
    a: S,
    r: S,
    ae: u64,
    re: u64,
    b: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    u: Option<U>,
    #[serde(default, skip_serializing_if = "is_false")]
    o: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// The sealed session payload (see `SessionPayload`).
pub fn encode_session(session: &Session) -> String {
    let tokens = &session.tokens;
    json::to_string(&SessionPayload {
        i: tokens.id.as_deref(),
        a: tokens.access_token.secret(),
        r: tokens.refresh_token.secret(),
        ae: tokens.access_expires_at,
        re: tokens.refresh_expires_at,
        b: session.began_at,
        u: session.user.as_ref(),
        o: !session.refreshable,
    })
}

/// Reads a payload made by [`encode_session`], decoded by `json`.
pub fn decode_session(text: &str, json: &impl JsonEngine) -> Option<Session> {
    let payload: SessionPayload<String, User> = json.decode(text).ok()?;
    let token = |text: String| is_token_text(&text).then_some(text);
    let tokens = Tokens {
        id: payload.i,
        access_token: AccessToken::new(token(payload.a)?),
        refresh_token: RefreshToken::new(token(payload.r)?),
        access_expires_at: payload.ae,
        refresh_expires_at: payload.re,
    };
    Some(Session {
        tokens,
        began_at: payload.b,
        user: payload.u,
        refreshable: !payload.o,
    })
}

/// The longest sealed cookie a browser keeps, name and `=` included.
pub const MAX_COOKIE_BYTES: usize = 4096;

/// How long the cookie `name` is once `plaintext_len` bytes are sealed into it: `name=` and
/// the base64url of version, IV, ciphertext and tag.
pub fn sealed_cookie_len(name: &str, plaintext_len: usize) -> usize {
    let bytes = 1 + IV_BYTES + plaintext_len + TAG_BYTES;
    name.len() + 1 + (bytes * 4).div_ceil(3)
}

/// The session payload for the cookie `name`, dropping the user's optional fields (largest
/// first, the id kept) until the sealed cookie fits [`MAX_COOKIE_BYTES`].
pub fn encode_session_fitting(session: &mut Session, name: &str) -> String {
    loop {
        let text = encode_session(session);
        let fits = sealed_cookie_len(name, text.len()) <= MAX_COOKIE_BYTES;
        let dropped = !fits
            && session
                .user
                .as_mut()
                .is_some_and(User::drop_largest_optional);
        if !dropped {
            return text;
        }
    }
}

#[cfg(test)]
pub(crate) mod sample {
    use super::*;

    /// A session whose sign-in was an hour before its access token expires.
    pub(crate) fn sample(access_expires_at: u64, refresh_expires_at: u64) -> Session {
        Session {
            tokens: Tokens {
                id: Some("8a1c-id".into()),
                access_token: AccessToken::new("A".repeat(128)),
                refresh_token: RefreshToken::new("R".repeat(128)),
                access_expires_at,
                refresh_expires_at,
            },
            began_at: access_expires_at.saturating_sub(3600),
            user: None,
            refreshable: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sample::sample as tokens;
    use super::*;
    use crate::base::json::SerdeJson;

    #[test]
    fn session_payload_round_trips_and_stays_small() {
        let original = tokens(1_700_000_000, 1_702_000_000);
        let text = encode_session(&original);
        let read = decode_session(&text, &SerdeJson).unwrap();
        assert_eq!(read.began_at, 1_699_996_400);
        let (read, original) = (read.tokens, original.tokens);
        assert_eq!(read.id.as_deref(), Some("8a1c-id"));
        assert_eq!(read.access_token.secret(), original.access_token.secret());
        assert_eq!(read.refresh_token.secret(), original.refresh_token.secret());
        assert_eq!(
            (read.access_expires_at, read.refresh_expires_at),
            (1_700_000_000, 1_702_000_000)
        );
        // Sealed: + 1 version + 12 IV + 16 tag bytes, then base64 (4/3): well under 4 KB.
        assert!((text.len() + 29) * 4 / 3 < 1024, "{}", text.len());
        let no_id = Session {
            tokens: Tokens {
                id: None,
                ..original
            },
            began_at: 1,
            user: None,
            refreshable: true,
        };
        assert_eq!(
            decode_session(&encode_session(&no_id), &SerdeJson)
                .unwrap()
                .tokens
                .id,
            None
        );
        for bad in [
            "",
            "{}",
            r#"{"i":null,"a":"","r":"r","ae":1,"re":2,"b":1}"#,
            r#"{"i":1,"a":"a","r":"r","ae":1,"re":2,"b":1}"#,
            r#"{"i":null,"a":"a","r":"r","ae":-1,"re":2,"b":1}"#,
            // Sealed before sessions had a bounded life: no sign-in time.
            r#"{"i":null,"a":"a","r":"r","ae":1,"re":2}"#,
        ] {
            assert!(decode_session(bad, &SerdeJson).is_none(), "{bad}");
        }
    }

    #[test]
    fn flow_payload_round_trips() {
        let flow = Flow {
            state: CsrfState::new("st4te-_"),
            nonce: None,
            return_to: Some("/app?x=\"1\"".into()),
            created_at: 1_700_000_000,
        };
        let read = Flow::decode(&flow.encode(), &SerdeJson).unwrap();
        assert_eq!(read.state.secret(), "st4te-_");
        assert_eq!(read.return_to.as_deref(), Some("/app?x=\"1\""));
        assert_eq!(read.created_at, 1_700_000_000);
        let none = Flow {
            return_to: None,
            ..flow
        };
        assert_eq!(
            Flow::decode(&none.encode(), &SerdeJson).unwrap().return_to,
            None
        );
        assert!(Flow::decode(r#"{"s":"x","r":"//evil.com","t":1}"#, &SerdeJson).is_none());
    }

    #[test]
    fn the_nonce_user_and_flavour_round_trip_and_old_payloads_still_read() {
        let flow = Flow {
            state: CsrfState::new("st4te"),
            nonce: Some(CsrfState::new("n0nce")),
            return_to: None,
            created_at: 5,
        };
        let read = Flow::decode(&flow.encode(), &SerdeJson).unwrap();
        assert_eq!(
            read.nonce.map(|n| n.secret().to_owned()).as_deref(),
            Some("n0nce")
        );
        assert!(Flow::decode(r#"{"s":"x","r":null,"t":1}"#, &SerdeJson)
            .unwrap()
            .nonce
            .is_none());

        let mut session = tokens(1_700_000_000, 1_700_000_000);
        session.refreshable = false;
        session.user = Some(User {
            id: "41790bb3".into(),
            firstname: Some("Аида".into()),
            ..User::default()
        });
        let read = decode_session(&encode_session(&session), &SerdeJson).unwrap();
        assert_eq!(read.user, session.user);
        assert!(!read.refreshable);
        // Sealed before users were known: no user, refreshable.
        let old = r#"{"i":null,"a":"a","r":"r","ae":1,"re":2,"b":1}"#;
        let read = decode_session(old, &SerdeJson).unwrap();
        assert_eq!((read.user, read.refreshable), (None, true));
    }

    #[test]
    fn a_large_profile_is_trimmed_until_the_cookie_fits_and_the_id_stays() {
        let mut session = tokens(1_700_000_000, 1_702_000_000);
        session.user = Some(User {
            id: "u-1".into(),
            firstname: Some("F".repeat(256)),
            lastname: Some("L".repeat(256)),
            email: Some("e".repeat(250)),
            phone: Some("+77011234567".into()),
            ..User::default()
        });
        let name = crate::session::SESSION_COOKIE;
        let small = encode_session_fitting(&mut session.clone(), name);
        assert!(
            small.contains("+77011234567"),
            "fits as it is: nothing dropped"
        );
        // A user too large for one cookie loses its largest fields first.
        let user = session.user.as_mut().unwrap();
        user.patronymic = Some("P".repeat(256));
        user.identifier = Some("I".repeat(256));
        user.country = Some("C".repeat(256));
        user.nationality = Some("N".repeat(256));
        user.gender = Some("G".repeat(256));
        user.date_of_birth = Some("D".repeat(256));
        session.tokens.access_token = AccessToken::new("A".repeat(1200));
        let text = encode_session_fitting(&mut session, name);
        assert!(sealed_cookie_len(name, text.len()) <= MAX_COOKIE_BYTES);
        let user = session.user.unwrap();
        assert_eq!(user.id, "u-1");
        assert_eq!(
            user.phone.as_deref(),
            Some("+77011234567"),
            "the smallest stays"
        );
        // Largest first: the 250-byte email outlives the 256-byte fields that had to go.
        assert!(user.email.is_some(), "{user:?}");
        let kept_256 = [
            &user.firstname,
            &user.lastname,
            &user.patronymic,
            &user.identifier,
            &user.country,
            &user.nationality,
            &user.gender,
            &user.date_of_birth,
        ]
        .into_iter()
        .filter(|field| field.is_some())
        .count();
        assert!(kept_256 < 8, "some were dropped");
    }
}
