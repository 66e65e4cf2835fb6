//! The runtime's WebCrypto (`crypto.subtle`, `crypto.getRandomValues`), present in workerd,
//! Node, Deno and Bun: the session keys (HKDF-SHA256 from a secret to an AES-256-GCM key),
//! the sealing itself, the assertion's ES256 signature and the id_token/assertion checks.
//! Each operation is one call of `io.js`/`worker_io.js`. No crypto crate lands in the wasm.
// The npm package uses only `random` and `verify` (it keeps no sessions and signs nothing);
// the Worker uses all of it.

use std::cell::RefCell;

use wasm_bindgen::prelude::*;

use crate::base::json::Member;
use crate::drivers::io;
pub use crate::drivers::io::CryptoKey;
use crate::freedom_id::id_token::Algorithm;
use crate::freedom_id::jwks::Jwk;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buffer: &mut [u8]);
}

/// Fills `out` from the runtime's CSPRNG.
pub fn random(out: &mut [u8]) {
    get_random_values(out);
}

/// What the HKDF step binds the derived key to: this crate's cookies, format version 1.
#[cfg(feature = "worker")]
const HKDF_INFO: &[u8] = b"freedom-id-edge cookie seal v1";

/// The bytes a helper resolved, `None` when it resolved null (refused) or rejected.
#[cfg(feature = "worker")]
async fn bytes(promise: js_sys::Promise) -> Option<Vec<u8>> {
    let value = io::settled(promise).await?;
    Some(value.unchecked_into::<js_sys::Uint8Array>().to_vec())
}

/// The AES-256-GCM key for one session secret: HKDF-SHA256 (empty salt, [`HKDF_INFO`]).
/// `None` if the runtime refuses (it never should).
#[cfg(feature = "worker")]
pub async fn session_key(secret: &str) -> Option<CryptoKey> {
    let key = io::settled(io::session_key(secret.as_bytes(), HKDF_INFO)).await?;
    Some(key.unchecked_into())
}

/// AES-GCM encryption: ciphertext with its 16-byte tag.
#[cfg(feature = "worker")]
pub async fn encrypt(key: &CryptoKey, iv: &[u8], aad: &[u8], plaintext: &[u8]) -> Option<Vec<u8>> {
    bytes(io::aes_gcm(false, key, iv, aad, plaintext)).await
}

/// AES-GCM decryption; `None` when the tag does not verify (tampered, another key or name).
#[cfg(feature = "worker")]
pub async fn decrypt(key: &CryptoKey, iv: &[u8], aad: &[u8], ciphertext: &[u8]) -> Option<Vec<u8>> {
    bytes(io::aes_gcm(true, key, iv, aad, ciphertext)).await
}

/// Whether `signature` over `data` verifies with the public JWK `key` for `algorithm`
/// (`RS256`: RSASSA-PKCS1-v1_5; `ES256`: ECDSA P-256, the signature as `r || s`, as JWS
/// writes it and WebCrypto reads it). Only the public members are handed over; a key the
/// runtime refuses to import verifies nothing.
pub async fn verify(algorithm: Algorithm, key: &Jwk, data: &[u8], signature: &[u8]) -> bool {
    let (name, a, b) = match algorithm {
        Algorithm::Rs256 => ("RS256", text_of(&key.n), text_of(&key.e)),
        Algorithm::Es256 => ("ES256", text_of(&key.x), text_of(&key.y)),
        _ => return false,
    };
    // An imported key is kept per isolate or process by its public members: importing costs
    // more than the check itself, and a site verifies every request with the same few keys.
    let id = format!("{name} {a} {b}");
    let kept = IMPORTED.with(|cell| {
        cell.borrow()
            .iter()
            .find(|(known, _)| *known == id)
            .map(|(_, key)| key.clone())
    });
    let public = match kept {
        Some(public) => public,
        None => {
            let Some(public) = io::settled(io::verify_key(name, a, b)).await else {
                return false;
            };
            let public: CryptoKey = public.unchecked_into();
            IMPORTED.with(|cell| {
                let mut kept = cell.borrow_mut();
                if kept.len() >= MAX_IMPORTED {
                    kept.remove(0);
                }
                kept.push((id, public.clone()));
            });
            public
        }
    };
    io::settled(io::verify(name, &public, signature, data))
        .await
        .is_some_and(|verified| verified.is_truthy())
}

/// The most imported public keys kept at once (a key set rarely holds more than a few).
const MAX_IMPORTED: usize = 16;

thread_local! {
    /// Public keys already imported, by algorithm and public members.
    static IMPORTED: RefCell<Vec<(String, CryptoKey)>> = const { RefCell::new(Vec::new()) };
}

fn text_of(member: &Member<String>) -> &str {
    member.value().map_or("", String::as_str)
}

/// The assertion's signing key: the private JWK imported for ECDSA P-256 (not extractable).
/// `None` if the runtime refuses it (the settings checked its shape, not the curve point).
#[cfg(feature = "worker")]
pub async fn assertion_signing_key(
    key: &crate::config::assertion_key::AssertionKey,
) -> Option<CryptoKey> {
    let imported = io::settled(io::signing_key(&key.x, &key.y, key.d.as_str())).await?;
    Some(imported.unchecked_into())
}

/// ES256: ECDSA P-256 with SHA-256 over `data`, the signature as `r || s` (64 bytes), as a
/// JWS carries it.
#[cfg(feature = "worker")]
pub async fn sign_es256(key: &CryptoKey, data: &[u8]) -> Option<Vec<u8>> {
    bytes(io::sign_es256(key, data)).await
}
