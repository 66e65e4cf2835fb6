//! The runtime's WebCrypto (`crypto.subtle`, `crypto.getRandomValues`), present in workerd,
//! Node, Deno and Bun: the session keys (HKDF-SHA256 from a secret to an AES-256-GCM key)
//! and the sealing itself. No crypto crate lands in the wasm.
// The npm package uses only `random` and `verify` (it keeps no sessions and signs nothing);
// the Worker uses all of it.
#![cfg_attr(not(feature = "worker"), allow(dead_code))]

use std::cell::RefCell;

use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::base::json::Member;
use crate::config::assertion_key::AssertionKey;
use crate::freedom_id::id_token::Algorithm;
use crate::freedom_id::jwks::Jwk;

/// What the HKDF step binds the derived key to: this crate's cookies, format version 1.
const HKDF_INFO: &[u8] = b"freedom-id-edge cookie seal v1";

#[wasm_bindgen]
extern "C" {
    /// A WebCrypto key (opaque here).
    #[derive(Clone)]
    pub type CryptoKey;

    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buffer: &mut [u8]);

    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = importKey)]
    fn import_key(
        format: &str,
        key_data: &Uint8Array,
        algorithm: &str,
        extractable: bool,
        usages: &Array,
    ) -> Promise;

    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = importKey, catch)]
    fn import_jwk(
        format: &str,
        key_data: &Object,
        algorithm: &Object,
        extractable: bool,
        usages: &Array,
    ) -> Result<Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = verify, catch)]
    fn subtle_verify(
        algorithm: &Object,
        key: &CryptoKey,
        signature: &Uint8Array,
        data: &Uint8Array,
    ) -> Result<Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = sign, catch)]
    fn subtle_sign(
        algorithm: &Object,
        key: &CryptoKey,
        data: &Uint8Array,
    ) -> Result<Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = deriveKey)]
    fn derive_key(
        algorithm: &Object,
        base: &CryptoKey,
        derived: &Object,
        extractable: bool,
        usages: &Array,
    ) -> Promise;

    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = encrypt)]
    fn subtle_encrypt(algorithm: &Object, key: &CryptoKey, data: &Uint8Array) -> Promise;

    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = decrypt)]
    fn subtle_decrypt(algorithm: &Object, key: &CryptoKey, data: &Uint8Array) -> Promise;
}

/// Fills `out` from the runtime's CSPRNG.
pub fn random(out: &mut [u8]) {
    get_random_values(out);
}

fn object(pairs: &[(&str, &JsValue)]) -> Object {
    let object = Object::new();
    for (key, value) in pairs {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&object, &JsValue::from_str(key), value);
    }
    object
}

fn usages(names: &[&str]) -> Array {
    names.iter().map(|name| JsValue::from_str(name)).collect()
}

/// The AES-256-GCM key for one session secret: HKDF-SHA256 (empty salt, [`HKDF_INFO`]).
/// `None` if the runtime refuses (it never should).
pub async fn session_key(secret: &str) -> Option<CryptoKey> {
    let raw = Uint8Array::from(secret.as_bytes());
    let base = JsFuture::from(import_key(
        "raw",
        &raw,
        "HKDF",
        false,
        &usages(&["deriveKey"]),
    ))
    .await
    .ok()?;
    let hkdf = object(&[
        ("name", &JsValue::from_str("HKDF")),
        ("hash", &JsValue::from_str("SHA-256")),
        ("salt", &Uint8Array::new_with_length(0).into()),
        ("info", &Uint8Array::from(HKDF_INFO).into()),
    ]);
    let aes = object(&[
        ("name", &JsValue::from_str("AES-GCM")),
        ("length", &JsValue::from(256)),
    ]);
    let key = derive_key(
        &hkdf,
        base.unchecked_ref(),
        &aes,
        false,
        &usages(&["encrypt", "decrypt"]),
    );
    JsFuture::from(key).await.ok().map(JsCast::unchecked_into)
}

fn gcm(iv: &[u8], aad: &[u8]) -> Object {
    object(&[
        ("name", &JsValue::from_str("AES-GCM")),
        ("iv", &Uint8Array::from(iv).into()),
        ("additionalData", &Uint8Array::from(aad).into()),
    ])
}

/// AES-GCM encryption: ciphertext with its 16-byte tag.
pub async fn encrypt(key: &CryptoKey, iv: &[u8], aad: &[u8], plaintext: &[u8]) -> Option<Vec<u8>> {
    let sealed = subtle_encrypt(&gcm(iv, aad), key, &Uint8Array::from(plaintext));
    let buffer = JsFuture::from(sealed).await.ok()?;
    Some(Uint8Array::new(&buffer).to_vec())
}

/// Whether `signature` over `data` verifies with the public JWK `key` for `algorithm`
/// (`RS256`: RSASSA-PKCS1-v1_5; `ES256`: ECDSA P-256, the signature as `r || s`, as JWS
/// writes it and WebCrypto reads it). Only the public members are handed over; a key the
/// runtime refuses to import verifies nothing.
pub async fn verify(algorithm: Algorithm, key: &Jwk, data: &[u8], signature: &[u8]) -> bool {
    let text = |member: &Member<String>| JsValue::from_str(member.value().map_or("", |v| v));
    let (jwk, import, verify) = match algorithm {
        Algorithm::Rs256 => (
            object(&[
                ("kty", &JsValue::from_str("RSA")),
                ("n", &text(&key.n)),
                ("e", &text(&key.e)),
            ]),
            object(&[
                ("name", &JsValue::from_str("RSASSA-PKCS1-v1_5")),
                ("hash", &JsValue::from_str("SHA-256")),
            ]),
            object(&[("name", &JsValue::from_str("RSASSA-PKCS1-v1_5"))]),
        ),
        Algorithm::Es256 => (
            object(&[
                ("kty", &JsValue::from_str("EC")),
                ("crv", &JsValue::from_str("P-256")),
                ("x", &text(&key.x)),
                ("y", &text(&key.y)),
            ]),
            object(&[
                ("name", &JsValue::from_str("ECDSA")),
                ("namedCurve", &JsValue::from_str("P-256")),
            ]),
            object(&[
                ("name", &JsValue::from_str("ECDSA")),
                ("hash", &JsValue::from_str("SHA-256")),
            ]),
        ),
        _ => return false,
    };
    // An imported key is kept per isolate or process by its public members: importing costs
    // more than the check itself, and a site verifies every request with the same few keys.
    let id = match algorithm {
        Algorithm::Rs256 => format!("RS256 {} {}", text_of(&key.n), text_of(&key.e)),
        _ => format!("ES256 {} {}", text_of(&key.x), text_of(&key.y)),
    };
    let kept = IMPORTED.with(|cell| {
        cell.borrow()
            .iter()
            .find(|(known, _)| *known == id)
            .map(|(_, key)| key.clone())
    });
    let public = match kept {
        Some(public) => public,
        None => {
            let Ok(imported) = import_jwk("jwk", &jwk, &import, false, &usages(&["verify"])) else {
                return false;
            };
            let Ok(public) = JsFuture::from(imported).await else {
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
    let Ok(checked) = subtle_verify(
        &verify,
        &public,
        &Uint8Array::from(signature),
        &Uint8Array::from(data),
    ) else {
        return false;
    };
    JsFuture::from(checked)
        .await
        .is_ok_and(|verified| verified.is_truthy())
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

/// AES-GCM decryption; `None` when the tag does not verify (tampered, another key or name).
pub async fn decrypt(key: &CryptoKey, iv: &[u8], aad: &[u8], ciphertext: &[u8]) -> Option<Vec<u8>> {
    let opened = subtle_decrypt(&gcm(iv, aad), key, &Uint8Array::from(ciphertext));
    let buffer = JsFuture::from(opened).await.ok()?;
    Some(Uint8Array::new(&buffer).to_vec())
}

/// The assertion's signing key: the private JWK imported for ECDSA P-256 (not extractable).
/// `None` if the runtime refuses it (the settings checked its shape, not the curve point).
pub async fn assertion_signing_key(key: &AssertionKey) -> Option<CryptoKey> {
    let jwk = object(&[
        ("kty", &JsValue::from_str("EC")),
        ("crv", &JsValue::from_str("P-256")),
        ("x", &JsValue::from_str(&key.x)),
        ("y", &JsValue::from_str(&key.y)),
        ("d", &JsValue::from_str(key.d.as_str())),
    ]);
    let ecdsa = object(&[
        ("name", &JsValue::from_str("ECDSA")),
        ("namedCurve", &JsValue::from_str("P-256")),
    ]);
    let imported = import_jwk("jwk", &jwk, &ecdsa, false, &usages(&["sign"])).ok()?;
    JsFuture::from(imported)
        .await
        .ok()
        .map(JsCast::unchecked_into)
}

/// ES256: ECDSA P-256 with SHA-256 over `data`, the signature as `r || s` (64 bytes), as a
/// JWS carries it.
pub async fn sign_es256(key: &CryptoKey, data: &[u8]) -> Option<Vec<u8>> {
    let algorithm = object(&[
        ("name", &JsValue::from_str("ECDSA")),
        ("hash", &JsValue::from_str("SHA-256")),
    ]);
    let signing = subtle_sign(&algorithm, key, &Uint8Array::from(data)).ok()?;
    let signature = JsFuture::from(signing).await.ok()?;
    Some(Uint8Array::new(&signature).to_vec())
}
