//! What the Worker keeps in its sealed cookies: the flow cookie that carries a sign-in from
//! `/login` to `/callback`, and the session cookie that carries the token pair and when the
//! sign-in happened. Their names and lifetimes are in `rules.rs`.

use crate::base::json::{self, write_string, Field};
use crate::base::secret::{AccessToken, CsrfState, RefreshToken};
use crate::freedom_id::token::{is_token_text, Tokens};

/// A sign-in under way: the state sent to Freedom ID, where to land afterwards, and when
/// it began (unix seconds).
#[derive(Clone, Debug)]
pub struct Flow {
    /// The login-CSRF state.
    pub state: CsrfState,
    /// A path on this site to land on, if one was asked for.
    pub return_to: Option<String>,
    /// When `/login` made it.
    pub created_at: u64,
}

impl Flow {
    /// The sealed payload: `{"s": state, "r": return_to, "t": created_at}`.
    pub fn encode(&self) -> String {
        let mut out = String::from("{\"s\":");
        write_string(&mut out, self.state.secret());
        out.push_str(",\"r\":");
        match &self.return_to {
            Some(path) => write_string(&mut out, path),
            None => out.push_str("null"),
        }
        out.push_str(&format!(",\"t\":{}}}", self.created_at));
        out
    }

    /// Reads a payload made by [`Flow::encode`].
    pub fn decode(text: &str) -> Option<Flow> {
        let [state, return_to, created_at] = json::read_fields(text, ["s", "r", "t"]).ok()?;
        Some(Flow {
            state: CsrfState::new(state.as_str()?),
            return_to: match return_to {
                Field::Null => None,
                Field::String(path) => Some(crate::base::return_to::local_path(&path)?.to_owned()),
                _ => return None,
            },
            created_at: whole_number(&created_at)?,
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
}

/// The sealed session payload: `{"i": id, "a": access, "r": refresh, "ae": n, "re": n,
/// "b": n}`.
pub fn encode_session(session: &Session) -> String {
    let tokens = &session.tokens;
    let mut out = String::from("{\"i\":");
    match &tokens.id {
        Some(id) => write_string(&mut out, id),
        None => out.push_str("null"),
    }
    out.push_str(",\"a\":");
    write_string(&mut out, tokens.access_token.secret());
    out.push_str(",\"r\":");
    write_string(&mut out, tokens.refresh_token.secret());
    out.push_str(&format!(
        ",\"ae\":{},\"re\":{},\"b\":{}}}",
        tokens.access_expires_at, tokens.refresh_expires_at, session.began_at
    ));
    out
}

/// Reads a payload made by [`encode_session`]. A payload without `b` (sealed before
/// sessions had a bounded life) is refused: its sign-in time cannot be known.
pub fn decode_session(text: &str) -> Option<Session> {
    let [id, access, refresh, access_at, refresh_at, began_at] =
        json::read_fields(text, ["i", "a", "r", "ae", "re", "b"]).ok()?;
    let token = |field: &Field| {
        field
            .as_str()
            .filter(|t| is_token_text(t))
            .map(str::to_owned)
    };
    let tokens = Tokens {
        id: match id {
            Field::Null => None,
            Field::String(id) => Some(id),
            _ => return None,
        },
        access_token: AccessToken::new(token(&access)?),
        refresh_token: RefreshToken::new(token(&refresh)?),
        access_expires_at: whole_number(&access_at)?,
        refresh_expires_at: whole_number(&refresh_at)?,
    };
    Some(Session {
        tokens,
        began_at: whole_number(&began_at)?,
    })
}

fn whole_number(field: &Field) -> Option<u64> {
    match field {
        Field::Number(digits) => digits.parse().ok(),
        _ => None,
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sample::sample as tokens;
    use super::*;

    #[test]
    fn session_payload_round_trips_and_stays_small() {
        let original = tokens(1_700_000_000, 1_702_000_000);
        let text = encode_session(&original);
        let read = decode_session(&text).unwrap();
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
        };
        assert_eq!(
            decode_session(&encode_session(&no_id)).unwrap().tokens.id,
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
            assert!(decode_session(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn flow_payload_round_trips() {
        let flow = Flow {
            state: CsrfState::new("st4te-_"),
            return_to: Some("/app?x=\"1\"".into()),
            created_at: 1_700_000_000,
        };
        let read = Flow::decode(&flow.encode()).unwrap();
        assert_eq!(read.state.secret(), "st4te-_");
        assert_eq!(read.return_to.as_deref(), Some("/app?x=\"1\""));
        assert_eq!(read.created_at, 1_700_000_000);
        let none = Flow {
            return_to: None,
            ..flow
        };
        assert_eq!(Flow::decode(&none.encode()).unwrap().return_to, None);
        assert!(Flow::decode(r#"{"s":"x","r":"//evil.com","t":1}"#).is_none());
    }
}
