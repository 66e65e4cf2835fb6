//! The independent reading of "this link has that origin" that both the trust-rule property
//! tests (`tests/trust_properties.rs`) and the `authorize_answer` fuzz target check the crate
//! against. Included by path, so it is one piece of code for both.

/// Every byte printable ASCII (`!` to `~`) and none a backslash.
pub fn plain_ascii(text: &str) -> bool {
    text.bytes()
        .all(|b| (b'!'..=b'~').contains(&b) && b != b'\\')
}

/// Whether `link` certainly has the origin `scheme://host:port`, read independently of the
/// crate: every byte printable ASCII (`!` to `~`) and none a `\` (browsers strip tabs and
/// newlines, trim spaces and controls, and read `\` as `/`); the text before the first `:`
/// is `scheme` in any case and is followed by exactly `//`; the authority (up to the first
/// `/`, `?` or `#`) has no `@` (userinfo) and is `host` in any case, with no port or a port
/// of one to five decimal digits whose value is `port` (a written default port is the
/// default).
pub fn reference_same_origin(link: &str, scheme: &str, host: &str, port: u16) -> bool {
    if !plain_ascii(link) {
        return false;
    }
    let Some((link_scheme, rest)) = link.split_once(':') else {
        return false;
    };
    let Some(rest) = rest.strip_prefix("//") else {
        return false;
    };
    if !link_scheme.eq_ignore_ascii_case(scheme) {
        return false;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return false;
    }
    let (link_host, written_port) = match authority.split_once(':') {
        Some((link_host, digits)) => (link_host, Some(digits)),
        None => (authority, None),
    };
    let default_port = match scheme {
        "https" => 443,
        "http" => 80,
        _ => return false,
    };
    let link_port = match written_port {
        None => default_port,
        Some(digits) => {
            let well_formed =
                (1..=5).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
            match digits.parse::<u32>() {
                Ok(value) if well_formed => value,
                _ => return false,
            }
        }
    };
    link_host.eq_ignore_ascii_case(host) && link_port == u32::from(port)
}
