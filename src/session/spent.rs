//! The flows this isolate has seen spent: a flow cookie whose code had a definite answer,
//! remembered for as long as a flow cookie lives, so that a replay of the cookie costs no
//! token-endpoint call. Kept by the Worker's driver per isolate; the rule is here.

use std::collections::VecDeque;

use crate::session::FLOW_MAX_AGE;

/// How long a spent flow is remembered: as long as a flow cookie lives.
const REMEMBERED_MS: f64 = FLOW_MAX_AGE as f64 * 1000.0;
/// The most spent flows remembered at once (beyond it the oldest are forgotten).
pub const MAX_SPENT_FLOWS: usize = 4096;

/// Spent flows, oldest first, each by a 64-bit fingerprint of its sealed-cookie id and when
/// (ms). A fingerprint, not the id: a look-up compares numbers, not up to
/// [`MAX_SPENT_FLOWS`] strings. Two ids that collide would make a fresh flow look spent (the
/// user signs in again); ids are random, so that is a 1 in 2^64 event per pair.
#[derive(Debug, Default)]
pub struct SpentFlows {
    spent: VecDeque<(u64, f64)>,
}

impl SpentFlows {
    /// Whether the flow `id` was spent within the last [`FLOW_MAX_AGE`] at `now_ms`.
    pub fn contains(&self, id: &str, now_ms: f64) -> bool {
        let wanted = fingerprint(id);
        self.spent
            .iter()
            .rev()
            .take_while(|(_, at)| now_ms - at < REMEMBERED_MS)
            .any(|(known, _)| *known == wanted)
    }

    /// Remembers `id` as spent at `now_ms`, forgetting what is too old or too many.
    pub fn insert(&mut self, id: &str, now_ms: f64) {
        while self
            .spent
            .front()
            .is_some_and(|(_, at)| now_ms - at >= REMEMBERED_MS)
        {
            self.spent.pop_front();
        }
        if self.spent.len() >= MAX_SPENT_FLOWS {
            self.spent.pop_front();
        }
        self.spent.push_back((fingerprint(id), now_ms));
    }

    /// How many are remembered (for the tests: nothing else needs to know).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.spent.len()
    }
}

/// FNV-1a, 64 bits.
fn fingerprint(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spent_flow_is_remembered_as_long_as_a_flow_cookie_lives() {
        let mut spent = SpentFlows::default();
        spent.insert("flow-a", 1_000.0);
        assert!(spent.contains("flow-a", 1_000.0));
        assert!(!spent.contains("flow-b", 1_000.0));
        assert!(spent.contains("flow-a", 1_000.0 + REMEMBERED_MS - 1.0));
        assert!(!spent.contains("flow-a", 1_000.0 + REMEMBERED_MS));
        spent.insert("flow-b", 1_000.0 + REMEMBERED_MS);
        assert_eq!(spent.len(), 1, "the expired one is forgotten");
    }

    #[test]
    fn beyond_the_most_the_oldest_are_forgotten() {
        let mut spent = SpentFlows::default();
        for n in 0..=MAX_SPENT_FLOWS {
            spent.insert(&format!("flow-{n}"), 1_000.0);
        }
        assert_eq!(spent.len(), MAX_SPENT_FLOWS);
        assert!(!spent.contains("flow-0", 1_000.0));
        assert!(spent.contains("flow-1", 1_000.0));
        assert!(spent.contains(&format!("flow-{MAX_SPENT_FLOWS}"), 1_000.0));
    }
}
