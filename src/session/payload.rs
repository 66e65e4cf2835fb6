//! What the Worker keeps in its sealed cookies, and the rules over time: the flow cookie
//! that carries a sign-in from `/login` to `/callback`, the session cookie that carries the
//! token pair and when the sign-in happened, when to refresh it, and how long each cookie
//! lives. Pure data and decisions; `flow.rs` runs them.

use crate::base::json::{self, write_string, Field};
use crate::base::secret::{AccessToken, CsrfState, RefreshToken};
use crate::freedom_id::token::{is_token_text, Tokens};

/// The session cookie: the sealed token pair.
pub const SESSION_COOKIE: &str = "__Host-freedom_id_session";
/// Flow cookies are named this plus the first [`FLOW_NAME_CHARS`] of their state, so two
/// tabs signing in at once each keep their own.
pub const FLOW_COOKIE_PREFIX: &str = "__Host-freedom_id_flow_";
/// How much of the state names a flow cookie (96 of its 256 bits).
pub const FLOW_NAME_CHARS: usize = 16;
/// A flow cookie lives 15 minutes, whatever the link's own `expire_at`.
pub const FLOW_MAX_AGE: u64 = 15 * 60;
/// The most flow cookies a browser keeps: a new sign-in expires the oldest beyond it.
pub const MAX_FLOW_COOKIES: usize = 3;
/// Marks a session whose refresh Freedom ID refused, by the sealed cookie's id, so that it
/// costs no further upstream call (see [`crate::flow`]).
pub const DEAD_COOKIE: &str = "__Host-freedom_id_dead";
/// Refresh when the access token expires within this many seconds.
pub const REFRESH_LEEWAY: u64 = 60;

/// The flow cookie's name for `state`.
pub fn flow_cookie_name(state: &CsrfState) -> String {
    let head: String = state.secret().chars().take(FLOW_NAME_CHARS).collect();
    format!("{FLOW_COOKIE_PREFIX}{head}")
}

/// Of the flow cookies a browser sent (oldest first), those to expire so that, with the one
/// about to be set, at most [`MAX_FLOW_COOKIES`] remain.
pub fn flows_to_expire<'a>(existing: &[&'a str]) -> Vec<&'a str> {
    let keep = MAX_FLOW_COOKIES - 1;
    let excess = existing.len().saturating_sub(keep);
    existing.iter().take(excess).copied().collect()
}

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

    /// Whether the flow is past its 15 minutes at `now` (the cookie's `Max-Age` says the same
    /// to the browser; this holds even if a browser keeps it longer).
    pub fn expired(&self, now: u64) -> bool {
        now >= self.created_at.saturating_add(FLOW_MAX_AGE) || now + 60 < self.created_at
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

/// What a session needs at `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// The access token is good for more than [`REFRESH_LEEWAY`].
    Fresh,
    /// The access token has expired or is about to, and the refresh token still works.
    Refresh,
    /// The refresh token has expired, or the session is past its whole life: it is over.
    Over,
}

/// When a session that began at `began_at` ends whatever its tokens say
/// (`FREEDOM_ID_SESSION_MAX_AGE` = `max_age` seconds later).
fn life_ends(began_at: u64, max_age: u64) -> u64 {
    began_at.saturating_add(max_age)
}

/// Decides whether `session` can be used as it is, must be refreshed, or is over, at `now`
/// with sessions living at most `max_age` seconds. A sign-in time in the future (beyond a
/// minute of clock skew) cannot be trusted: over.
pub fn freshness(session: &Session, now: u64, max_age: u64) -> Freshness {
    let tokens = &session.tokens;
    if tokens.refresh_expires_at <= now
        || life_ends(session.began_at, max_age) <= now
        || session.began_at > now.saturating_add(60)
    {
        Freshness::Over
    } else if tokens.access_expires_at <= now.saturating_add(REFRESH_LEEWAY) {
        Freshness::Refresh
    } else {
        Freshness::Fresh
    }
}

/// The session cookie's `Max-Age` at `now`: until the refresh token expires or the session's
/// life (`max_age` from its sign-in) ends, whichever comes first; `None` when one already has.
pub fn session_max_age(session: &Session, now: u64, max_age: u64) -> Option<u64> {
    let ends = session
        .tokens
        .refresh_expires_at
        .min(life_ends(session.began_at, max_age));
    ends.checked_sub(now).filter(|s| *s > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The longest session life, as the default setting gives it.
    const MAX_AGE: u64 = 30 * 24 * 60 * 60;

    fn tokens(access_expires_at: u64, refresh_expires_at: u64) -> Session {
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

    #[test]
    fn flows_live_fifteen_minutes() {
        let flow = Flow {
            state: CsrfState::new("s"),
            return_to: None,
            created_at: 1000,
        };
        assert!(!flow.expired(1000));
        assert!(!flow.expired(1000 + FLOW_MAX_AGE - 1));
        assert!(flow.expired(1000 + FLOW_MAX_AGE));
        assert!(flow.expired(900), "made in the future (beyond clock skew)");
    }

    #[test]
    fn flow_cookie_names_and_the_cap() {
        assert_eq!(
            flow_cookie_name(&CsrfState::new("abcdefghijklmnopqrstuvwxyz")),
            "__Host-freedom_id_flow_abcdefghijklmnop"
        );
        assert!(flows_to_expire(&[]).is_empty());
        assert!(flows_to_expire(&["a", "b"]).is_empty());
        assert_eq!(flows_to_expire(&["a", "b", "c"]), ["a"]);
        assert_eq!(flows_to_expire(&["a", "b", "c", "d", "e"]), ["a", "b", "c"]);
    }

    #[test]
    fn when_to_refresh() {
        let now = 10_000_000;
        assert_eq!(
            freshness(&tokens(now + 61, now + 100), now, MAX_AGE),
            Freshness::Fresh
        );
        assert_eq!(
            freshness(&tokens(now + 60, now + 100), now, MAX_AGE),
            Freshness::Refresh
        );
        assert_eq!(
            freshness(&tokens(now - 5, now + 100), now, MAX_AGE),
            Freshness::Refresh
        );
        assert_eq!(
            freshness(&tokens(now - 5, now), now, MAX_AGE),
            Freshness::Over
        );
        assert_eq!(
            session_max_age(&tokens(now, now + 100), now, MAX_AGE),
            Some(100)
        );
        // The session's life bounds the cookie, however long the refresh token lives.
        let long = tokens(now, now + MAX_AGE * 2);
        assert_eq!(session_max_age(&long, now, MAX_AGE), Some(MAX_AGE - 3600));
        assert_eq!(session_max_age(&long, now, 600), None, "began an hour ago");
        assert_eq!(session_max_age(&tokens(now, now), now, MAX_AGE), None);
    }

    #[test]
    fn a_session_ends_at_its_max_age_whatever_the_refresh_token_says() {
        let now = 10_000_000;
        let mut session = tokens(now + 3600, now + 86_400);
        session.began_at = now - 1000;
        assert_eq!(freshness(&session, now, 1001), Freshness::Fresh);
        assert_eq!(freshness(&session, now, 1000), Freshness::Over);
        assert_eq!(session_max_age(&session, now, 1001), Some(1));
        // A refresh is due but the life is over: over, no refresh.
        session.tokens.access_expires_at = now - 1;
        assert_eq!(freshness(&session, now, 1000), Freshness::Over);
        // A sign-in time in the future is not trusted.
        session.began_at = now + 61;
        assert_eq!(freshness(&session, now, MAX_AGE), Freshness::Over);
        session.began_at = now + 60;
        assert_eq!(freshness(&session, now, MAX_AGE), Freshness::Refresh);
    }
}
