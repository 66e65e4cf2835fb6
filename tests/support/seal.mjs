// The Worker's sealed cookies opened and made in JS, with the same HKDF-SHA256 -> AES-256-GCM,
// fresh IV and cookie name as associated data (src/session/seal.rs, src/drivers/webcrypto.rs), so the workerd
// tests can see what a cookie holds and which key sealed it, and forge or tamper with one.
import { webcrypto } from 'node:crypto';

const { subtle } = webcrypto;

const keys = new Map();
async function keyFor(secret) {
  if (!keys.has(secret)) {
    const base = await subtle.importKey('raw', new TextEncoder().encode(secret), 'HKDF', false, ['deriveKey']);
    const info = new TextEncoder().encode('freedom-id-edge cookie seal v1');
    keys.set(
      secret,
      await subtle.deriveKey(
        { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info },
        base,
        { name: 'AES-GCM', length: 256 },
        false,
        ['encrypt', 'decrypt'],
      ),
    );
  }
  return keys.get(secret);
}

/** The JSON a sealed cookie `name` holds when `secret` opens it, else null. */
export async function unseal(secret, name, value) {
  const bytes = Buffer.from(value, 'base64url');
  if (bytes[0] !== 1 || bytes.length < 1 + 12 + 16) return null;
  try {
    const plain = await subtle.decrypt(
      { name: 'AES-GCM', iv: bytes.subarray(1, 13), additionalData: new TextEncoder().encode(name) },
      await keyFor(secret),
      bytes.subarray(13),
    );
    return JSON.parse(Buffer.from(plain).toString('utf8'));
  } catch {
    return null;
  }
}

/** `plaintext` sealed for cookie `name` with `secret`, in the Worker's format. */
export async function seal(secret, name, plaintext, version = 1) {
  const iv = webcrypto.getRandomValues(new Uint8Array(12));
  const ciphertext = await subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(name) },
    await keyFor(secret),
    new TextEncoder().encode(plaintext),
  );
  return Buffer.concat([Buffer.from([version]), iv, Buffer.from(ciphertext)]).toString('base64url');
}

/** The public id of a sealed value: its IV, base64url (what the dead marker names). */
export const sealId = (value) => Buffer.from(value, 'base64url').subarray(1, 13).toString('base64url');

