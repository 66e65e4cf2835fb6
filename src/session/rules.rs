//! The sealed cookies' names and lifetimes: how a flow cookie is named and how many a browser
//! keeps, when a session must be refreshed or is over, and how long its cookie lives. Pure
//! decisions; the flows run them.

use super::payload::{Flow, Session};
use crate::base::secret::CsrfState;

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

/// What a session needs at `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
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
    if !session.refreshable {
        // Nothing to renew it with: over when its access token is.
        let over = tokens.access_expires_at <= now
            || life_ends(session.began_at, max_age) <= now
            || session.began_at > now.saturating_add(60);
        return if over {
            Freshness::Over
        } else {
            Freshness::Fresh
        };
    }
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

impl Flow {
    /// Whether the flow is past its 15 minutes at `now` (the cookie's `Max-Age` says the same
    /// to the browser; this holds even if a browser keeps it longer).
    pub fn expired(&self, now: u64) -> bool {
        now >= self.created_at.saturating_add(FLOW_MAX_AGE) || now + 60 < self.created_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::payload::sample::sample as tokens;

    /// The longest session life, as the default setting gives it.
    const MAX_AGE: u64 = 30 * 24 * 60 * 60;

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

    #[test]
    fn flows_live_fifteen_minutes() {
        let flow = Flow {
            nonce: None,
            state: CsrfState::new("s"),
            return_to: None,
            created_at: 1000,
        };
        assert!(!flow.expired(1000));
        assert!(!flow.expired(1000 + FLOW_MAX_AGE - 1));
        assert!(flow.expired(1000 + FLOW_MAX_AGE));
        assert!(flow.expired(900), "made in the future (beyond clock skew)");
    }
}
