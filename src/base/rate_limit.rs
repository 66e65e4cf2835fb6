//! Who a sign-in attempt counts against, for the optional rate limiter.
//!
//! - IPv4: the address. One carrier NAT address can stand for thousands of people, which is
//!   why the shipped limit (`wrangler.toml`) is generous: it stops scripted floods, each of
//!   which would cost a Freedom ID call, not people.
//! - IPv6: the /64. One client controls its whole /64, so keying by the full address would
//!   give it 2^64 buckets.
//! - No `CF-Connecting-IP` (a service binding, a local tool): not limited, rather than one
//!   shared "unknown" bucket that any such caller could exhaust for all the others.

/// The rate-limit key for a request whose `CF-Connecting-IP` is `client_ip`, or `None` when
/// the request is not limited.
pub fn rate_limit_key(client_ip: Option<&str>) -> Option<String> {
    let ip = client_ip?.trim();
    if ip.is_empty() {
        return None;
    }
    if !ip.contains(':') {
        return Some(ip.to_owned());
    }
    Some(match ipv6_prefix(ip) {
        Some(prefix) => prefix,
        // Not an address we can read: its own bucket, as sent (still never shared).
        None => ip.to_ascii_lowercase(),
    })
}

/// `a:b:c:d::/64` for an IPv6 address, from its first four groups (`::` expanded); an
/// IPv4-mapped address (`::ffff:1.2.3.4`) counts as its IPv4 address.
fn ipv6_prefix(ip: &str) -> Option<String> {
    let lower = ip.to_ascii_lowercase();
    if let Some(v4) = lower.strip_prefix("::ffff:") {
        if v4.contains('.') {
            return Some(v4.to_owned());
        }
    }
    let groups = expand(&lower)?;
    let head: Vec<String> = groups
        .iter()
        .take(4)
        .map(|group| format!("{group:x}"))
        .collect();
    Some(format!("{}::/64", head.join(":")))
}

/// The eight 16-bit groups of an IPv6 address written with hex groups and at most one `::`.
fn expand(ip: &str) -> Option<[u16; 8]> {
    let parse = |part: &str| -> Option<Vec<u16>> {
        if part.is_empty() {
            return Some(Vec::new());
        }
        part.split(':')
            .map(|group| {
                let valid =
                    (1..=4).contains(&group.len()) && group.bytes().all(|b| b.is_ascii_hexdigit());
                valid.then(|| u16::from_str_radix(group, 16).ok()).flatten()
            })
            .collect()
    };
    let groups = match ip.split_once("::") {
        Some((head, tail)) => {
            let (head, tail) = (parse(head)?, parse(tail)?);
            if head.len() + tail.len() > 7 {
                return None;
            }
            let mut all = head;
            all.resize(8 - tail.len(), 0);
            all.extend(tail);
            all
        }
        None => parse(ip)?,
    };
    groups.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_table() {
        let cases = [
            (None, None),
            (Some(""), None),
            (Some("203.0.113.7"), Some("203.0.113.7")),
            (Some("2001:db8:1:2:3:4:5:6"), Some("2001:db8:1:2::/64")),
            (Some("2001:DB8:1:2:ffff::1"), Some("2001:db8:1:2::/64")),
            (Some("2001:db8::1"), Some("2001:db8:0:0::/64")),
            (Some("::1"), Some("0:0:0:0::/64")),
            (Some("::ffff:198.51.100.1"), Some("198.51.100.1")),
            (Some("not:an:address"), Some("not:an:address")),
        ];
        for (ip, key) in cases {
            assert_eq!(rate_limit_key(ip).as_deref(), key, "{ip:?}");
        }
    }

    #[test]
    fn one_client_s_whole_64_shares_a_bucket() {
        let a = rate_limit_key(Some("2a02:1234:5678:9abc:1::1"));
        let b = rate_limit_key(Some("2a02:1234:5678:9abc:ffff:ffff:ffff:ffff"));
        let other = rate_limit_key(Some("2a02:1234:5678:9abd::1"));
        assert_eq!(a, b);
        assert_ne!(a, other);
    }
}
