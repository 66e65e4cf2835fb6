//! The sealed-cookie format. The sealing itself is AES-256-GCM done by the runtime's
//! WebCrypto (the drivers); this module only lays out the bytes:
//!
//! ```text
//! base64url( version (1 byte) || IV (12 bytes) || ciphertext with its 16-byte tag )
//! ```
//! The cookie's name is the associated data, so a value sealed for one cookie (a flow) never
//! opens as another (a session). The version byte lets the format change later: a cookie
//! of another version does not open (it reads as signed out).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// The format version written today.
pub const SEAL_VERSION: u8 = 1;
/// AES-GCM's 96-bit IV, fresh for every seal.
pub const IV_BYTES: usize = 12;
/// AES-GCM's tag.
pub const TAG_BYTES: usize = 16;
/// The longest cookie value read; a browser keeps 4096 bytes per cookie, name included.
pub const MAX_SEALED_LEN: usize = 4096;

/// The cookie value for a seal made with `iv`.
pub fn encode_sealed(iv: &[u8; IV_BYTES], ciphertext: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(1 + IV_BYTES + ciphertext.len());
    bytes.push(SEAL_VERSION);
    bytes.extend_from_slice(iv);
    bytes.extend_from_slice(ciphertext);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The IV and ciphertext of a cookie value of the current version, or `None` for anything
/// else (another version, too short to hold a tag, too long, not base64url).
pub fn decode_sealed(value: &str) -> Option<([u8; IV_BYTES], Vec<u8>)> {
    if value.len() > MAX_SEALED_LEN {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(value).ok()?;
    let (version, rest) = bytes.split_first()?;
    if *version != SEAL_VERSION || rest.len() < IV_BYTES + TAG_BYTES {
        return None;
    }
    let (iv, ciphertext) = rest.split_at(IV_BYTES);
    Some((iv.try_into().ok()?, ciphertext.to_vec()))
}

/// A short public name for one sealed value: its IV, base64url. Every seal has a fresh IV,
/// so this names one issued cookie (the refresh a cookie triggers is shared by it).
pub fn seal_id(iv: &[u8; IV_BYTES]) -> String {
    URL_SAFE_NO_PAD.encode(iv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_other_shapes() {
        let iv = [7_u8; IV_BYTES];
        let value = encode_sealed(&iv, &[1_u8; 40]);
        assert_eq!(decode_sealed(&value), Some((iv, vec![1_u8; 40])));
        let short = encode_sealed(&iv, &[1_u8; TAG_BYTES - 1]);
        let mut other_version = URL_SAFE_NO_PAD.decode(&value).unwrap();
        other_version[0] = 2;
        let other_version = URL_SAFE_NO_PAD.encode(other_version);
        for bad in [
            "",
            "!!!",
            short.as_str(),
            other_version.as_str(),
            &"A".repeat(MAX_SEALED_LEN + 4),
        ] {
            assert_eq!(decode_sealed(bad), None, "{bad:?}");
        }
        assert_eq!(seal_id(&iv).len(), 16);
    }
}
