//! Reading the `Cookie` request header and writing `Set-Cookie` values for the Worker's own
//! cookies. Every cookie it sets is `__Host-` (Secure, `Path=/`, no `Domain`: no sibling
//! subdomain can plant or read it), `HttpOnly` and `SameSite=Lax`.

/// The value of the first cookie called `name` in a `Cookie` header.
pub fn cookie_value<'a>(cookie_header: Option<&'a str>, name: &str) -> Option<&'a str> {
    pairs(cookie_header).find_map(|(key, value)| (key == name).then_some(value))
}

/// The names of the cookies starting with `prefix`, in header order (browsers send older
/// cookies first), each once.
pub fn names_with_prefix<'a>(cookie_header: Option<&'a str>, prefix: &str) -> Vec<&'a str> {
    let mut names: Vec<&str> = Vec::new();
    for (key, _) in pairs(cookie_header) {
        if key.starts_with(prefix) && !names.contains(&key) {
            names.push(key);
        }
    }
    names
}

/// Every `name=value` pair of a `Cookie` header, trimmed.
pub fn pairs(cookie_header: Option<&str>) -> impl Iterator<Item = (&str, &str)> {
    cookie_header
        .unwrap_or("")
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (key.trim(), value.trim()))
}

/// `Set-Cookie` for one of our cookies, kept `max_age` seconds.
pub fn set_cookie(name: &str, value: &str, max_age: u64) -> String {
    format!("{name}={value}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age={max_age}")
}

/// `Set-Cookie` that removes one of our cookies.
pub fn clear_cookie(name: &str) -> String {
    set_cookie(name, "", 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cookies_among_others() {
        let header =
            Some("theme=dark; __Host-a=1 ;__Host-flow_x=2; __Host-flow_y=3; __Host-flow_x=4");
        assert_eq!(cookie_value(header, "__Host-a"), Some("1"));
        assert_eq!(cookie_value(header, "__Host-flow_x"), Some("2"));
        assert_eq!(cookie_value(header, "a"), None);
        assert_eq!(cookie_value(None, "a"), None);
        assert_eq!(
            names_with_prefix(header, "__Host-flow_"),
            ["__Host-flow_x", "__Host-flow_y"]
        );
    }

    #[test]
    fn our_cookies_are_host_only_http_only_and_lax() {
        assert_eq!(
            set_cookie("__Host-n", "v", 60),
            "__Host-n=v; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=60"
        );
        assert_eq!(
            clear_cookie("__Host-n"),
            "__Host-n=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0"
        );
    }
}
