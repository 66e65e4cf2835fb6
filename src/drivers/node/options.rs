//! Hands a JavaScript options object to the core as a serde `Deserializer`, without being
//! fooled by a polluted `Object.prototype` (an inherited `authorizeUrl` must never redirect
//! the client secret) or a throwing getter. serde-wasm-bindgen reads a field with a plain
//! property get, which follows the prototype chain, so it never sees the caller's object:
//! one JS helper first copies it into a null-prototype object. Which options exist and what
//! they must be is the core's business (`flow::npm`'s options).

use wasm_bindgen::prelude::*;

use crate::config::input::UNREADABLE;

#[wasm_bindgen(inline_js = r#"
// Captured at load: a caller's code may replace these later, never before.
const { create } = Object;
const { hasOwn } = Object;
const { from, isArray } = Array;
const { get, getOwnPropertyDescriptor, ownKeys } = Reflect;
const { stringify } = JSON;
const primitive = (value) => typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

// The value of an own property, read once: a data property's value as it is, an accessor
// through its getter. `undefined` when there is none (not own, or a hole).
function own(target, key) {
  const descriptor = getOwnPropertyDescriptor(target, key);
  if (descriptor === undefined) return undefined;
  return hasOwn(descriptor, 'value') ? descriptor.value : get(target, key);
}

// A fresh array of the items, while each is a string, number or boolean (no option takes
// another array); anything else, a hole or an item that throws included, makes the whole
// value `{}`, of the wrong type (as it always was: "grants must be an array of strings").
function copyArray(array) {
  try {
    const length = array.length;
    const items = create(null);
    for (let index = 0; index < length; index += 1) {
      const item = own(array, index);
      if (!primitive(item)) return create(null);
      items[index] = item;
    }
    items.length = length;
    return from(items);
  } catch {
    return create(null);
  }
}

// The options object's own enumerable string-keyed properties in a null-prototype object:
// `undefined` and `null` left out (absent), strings, numbers and booleans as they are,
// arrays copied, any other value `{}` (of the wrong type), and a property whose reading
// threw `{ [unreadable]: true }`, what it threw never looked at. `null` for a value that is
// no options object (missing, a string, an array, a function) or whose keys cannot be listed.
// The option named `keySet`, if any, is copied as a key set (copyKeySet).
export function ownOptions(value, unreadable, keySet) {
  try {
    if (typeof value !== 'object' || value === null || isArray(value)) return null;
    const copy = create(null);
    for (const key of ownKeys(value)) {
      if (typeof key !== 'string') continue;
      try {
        const descriptor = getOwnPropertyDescriptor(value, key);
        if (descriptor === undefined || !descriptor.enumerable) continue;
        const item = hasOwn(descriptor, 'value') ? descriptor.value : get(value, key);
        if (item === undefined || item === null) continue;
        copy[key] = key === keySet ? copyKeySet(item)
          : primitive(item) ? item : isArray(item) ? copyArray(item) : create(null);
      } catch {
        const mark = create(null);
        mark[unreadable] = true;
        copy[key] = mark;
      }
    }
    return copy;
  } catch {
    return null;
  }
}

// The public members of a JWK, the only ones a key set's copy keeps (strings only).
const JWK_MEMBERS = ['kty', 'kid', 'alg', 'use', 'crv', 'x', 'y', 'n', 'e'];

// A key set (verifyGateAssertion's `jwks`) copied by the same own-property rule, as JSON text
// for the core to read: `{"keys":[{"kty":...,"kid":...},...]}`, each key's own string members
// of JWK_MEMBERS only. `{}` (of the wrong type) for a value that is no object, whose `keys` is
// no array, or with a key that is no object. JSON.stringify is only ever given a string: an
// object would have it call an inherited `toJSON`. A throw is the caller's to mark.
function copyKeySet(set) {
  if (typeof set !== 'object' || isArray(set)) return create(null);
  const keys = own(set, 'keys');
  if (!isArray(keys)) return create(null);
  const length = keys.length;
  let text = '{"keys":[';
  for (let index = 0; index < length; index += 1) {
    const key = own(keys, index);
    if (typeof key !== 'object' || key === null || isArray(key)) return create(null);
    let members = '';
    for (let at = 0; at < JWK_MEMBERS.length; at += 1) {
      const member = own(key, JWK_MEMBERS[at]);
      if (typeof member === 'string') members += `${members ? ',' : ''}"${JWK_MEMBERS[at]}":${stringify(member)}`;
    }
    text += `${index ? ',' : ''}{${members}}`;
  }
  return `${text}]}`;
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = ownOptions)]
    fn own_options(value: &JsValue, unreadable: &str) -> JsValue;

    #[wasm_bindgen(js_name = ownOptions)]
    fn own_options_with_key_set(value: &JsValue, unreadable: &str, key_set: &str) -> JsValue;
}

/// `value` as the core reads an options object: its own properties only, in a copy with no
/// prototype; `null` for a value that is no options object.
pub(super) fn prototype_free(value: &JsValue) -> serde_wasm_bindgen::Deserializer {
    serde_wasm_bindgen::Deserializer::from(own_copy(value))
}

/// `verifyGateAssertion`'s options as the core reads them: [`prototype_free`]'s copy with
/// `jwks` copied one level deeper by the same rules.
pub(super) fn assertion_copy(value: &JsValue) -> serde_wasm_bindgen::Deserializer {
    serde_wasm_bindgen::Deserializer::from(own_options_with_key_set(value, UNREADABLE, "jwks"))
}

/// The prototype-free copy itself, for options the core reads more than once (each getter
/// still runs once: the copy holds plain values).
pub(super) fn own_copy(value: &JsValue) -> JsValue {
    own_options(value, UNREADABLE)
}
