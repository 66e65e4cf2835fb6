//! Where a completed sign-in may land: only a path on this site, so `/login?return_to=`
//! can never be turned into an open redirect.

/// The longest `return_to` kept.
pub const MAX_RETURN_TO_LEN: usize = 1024;

/// `path` when it is a path on this site: it starts with exactly one `/` (not `//` or `/\`,
/// which browsers read as another host), has only visible ASCII (no whitespace, control
/// characters or backslashes), no percent-encoded whitespace or control character, and is
/// at most [`MAX_RETURN_TO_LEN`] bytes. Anything else is `None` (ignored, never an error).
pub fn local_path(path: &str) -> Option<&str> {
    let bytes = path.as_bytes();
    let shape = bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/' | b'\\'))
        && path.len() <= MAX_RETURN_TO_LEN
        && bytes.iter().all(|b| b.is_ascii_graphic() && *b != b'\\');
    if !shape {
        return None;
    }
    // `%09`, `%0A`, `%20`...: a control character or whitespace once decoded.
    let encoded_space = bytes.windows(3).any(|window| {
        window.first() == Some(&b'%')
            && matches!(window.get(1), Some(b'0' | b'1' | b'2' | b'7' | b'8' | b'9'))
            && window
                .get(1..3)
                .and_then(|hex| core::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .is_some_and(|byte| byte <= 0x20 || byte == 0x7f)
    });
    (!encoded_space).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_kept() {
        for good in ["/", "/app", "/app/page?x=1&y=%2F#top", "/a%41b", "/%7e"] {
            assert_eq!(local_path(good), Some(good), "{good:?}");
        }
        let long = format!("/{}", "a".repeat(MAX_RETURN_TO_LEN));
        for bad in [
            "",
            "app",
            "//evil.com",
            "/\\evil.com",
            "https://evil.com/",
            "/a b",
            "/a\tb",
            "/\u{e9}",
            "/a\\b",
            "/%09/evil.com",
            "/%0a",
            "/%20x",
            "/%7f",
            "/%1F",
            long.as_str(),
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
        assert!(local_path(&long[..MAX_RETURN_TO_LEN]).is_some());
    }
}
