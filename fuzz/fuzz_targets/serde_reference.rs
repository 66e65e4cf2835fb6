//! serde_json's own `Value` as the reference reading of a document, for the targets that
//! check the crate's typed readers against it.

/// serde_json's `Value` of `text`; `None` when `Value` refuses it only for what the crate's
/// readers accept in a member they skip unread: a lone surrogate escape (`"\ud800"`) or a
/// number beyond f64 (`1e400`). Any other refusal panics: the caller only asks about text the
/// crate has read.
pub fn reference(text: &str) -> Option<serde_json::Value> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value) => Some(value),
        Err(error) => {
            let message = error.to_string();
            let skipped_only = [
                "number out of range",
                "lone leading surrogate",
                "unexpected end of hex escape",
                "invalid unicode code point",
            ]
            .iter()
            .any(|known| message.starts_with(known));
            assert!(
                skipped_only,
                "the crate read what serde_json refuses ({message}): {text:?}"
            );
            None
        }
    }
}
