//! The runtime's `JSON.parse` as the [`JsonEngine`]: engine (b) of the comparison in
//! `BENCHMARKS.md` ("JSON engine"), built only with the bench-only `json-engine-js` feature.
//! It is not the default: it saves some wasm but no measurable CPU, and it reads a repeated
//! key that `serde_json` refuses (below).
//!
//! The text crosses into JavaScript once; `JSON.parse` builds the value there, with a reviver
//! that takes every object's prototype away as it is built, and `serde_wasm_bindgen` then
//! reads the value into the same [`Object`]-wrapped serde types [`SerdeJson`] reads. A
//! prototype-free object matters because serde-wasm-bindgen reads a struct's fields with a
//! plain property get and looks `Symbol.iterator` up before `Object.entries`: both follow the
//! prototype chain, so with `Object.prototype.access_token` polluted by another package a
//! member the answer lacks would be read from the attacker. `JSON.parse` makes only own data
//! properties, so an object without a prototype has nothing else to read.
//!
//! What differs from [`SerdeJson`], and cannot be taken away here:
//! - a repeated key: `JSON.parse` keeps the last one, so the value serde sees has each key
//!   once and [`JsonError::Duplicate`] is never returned (a repeated `redirect_uri` is read,
//!   not refused);
//! - numbers are JavaScript's `f64`: a whole number above 2^53 arrives rounded;
//! - a lone surrogate escape (`"\ud800"`) is accepted, and arrives as U+FFFD.
//!
//! [`SerdeJson`]: crate::base::json::SerdeJson

use wasm_bindgen::prelude::*;

use crate::base::json::{classify, nesting_within, JsonEngine, JsonError, Object, MAX_DEPTH};

#[wasm_bindgen(inline_js = r#"
const parse = JSON.parse, setPrototypeOf = Object.setPrototypeOf, isArray = Array.isArray;
function bare(key, value) {
  if (typeof value === 'object' && value !== null && !isArray(value)) setPrototypeOf(value, null);
  return value;
}
export function parse_prototype_free(text) { return parse(text, bare); }
"#)]
extern "C" {
    /// `JSON.parse(text)` with every object's prototype `null`; throws what it throws.
    #[wasm_bindgen(catch)]
    fn parse_prototype_free(text: &str) -> Result<JsValue, JsValue>;
}

/// `JSON.parse`, then `serde_wasm_bindgen::from_value`.
#[derive(Clone, Copy, Debug, Default)]
pub struct JsParse;

impl JsonEngine for JsParse {
    fn decode<T: serde::de::DeserializeOwned>(&self, text: &str) -> Result<T, JsonError> {
        // The same guard as serde_json's engine, so that both refuse the same depths.
        if !nesting_within(text, MAX_DEPTH) {
            return Err(JsonError::Malformed);
        }
        let value = parse_prototype_free(text).map_err(|_| JsonError::Malformed)?;
        serde_wasm_bindgen::from_value::<Object<T>>(value)
            .map(|object| object.0)
            .map_err(|error| classify(&error.to_string()))
    }
}
