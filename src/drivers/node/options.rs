//! Reads a JavaScript options object for the core (`flow::npm`'s options): **own**
//! properties only, each as an [`OptionValue`]. Which options exist and what they must be is
//! the core's business; this file only knows how to look at a JS value without being fooled
//! by a polluted `Object.prototype` (an inherited `authorizeUrl` must never redirect the
//! client secret) or a throwing getter.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::flow::npm::{OptionValue, OptionsSource};

/// An options object: any object but an array.
pub(super) struct JsOptions<'a>(&'a JsValue);

impl<'a> JsOptions<'a> {
    /// `value` as an options object; `None` for anything else (`undefined`, a string, an
    /// array, a function).
    pub(super) fn of(value: &'a JsValue) -> Option<JsOptions<'a>> {
        (value.is_object() && !Array::is_array(value)).then_some(JsOptions(value))
    }
}

impl OptionsSource for JsOptions<'_> {
    fn own(&self, name: &str) -> OptionValue {
        let key = JsValue::from_str(name);
        // An object that is no `instanceof Object` (`Object.create(null)`) has no property
        // read: as before the core moved out of this file.
        let Some(object) = self.0.dyn_ref::<Object>() else {
            return OptionValue::Absent;
        };
        // A throwing Proxy trap reads as unreadable, like a throwing getter.
        match Reflect::get_own_property_descriptor(object, &key) {
            Ok(descriptor) if descriptor.is_undefined() => OptionValue::Absent,
            Ok(_) => match Reflect::get(self.0, &key) {
                Ok(value) if value.is_undefined() || value.is_null() => OptionValue::Absent,
                Ok(value) => classify(&value),
                Err(_) => OptionValue::Unreadable,
            },
            Err(_) => OptionValue::Unreadable,
        }
    }
}

/// What kind of value `value` is, with its content where the core may want it.
fn classify(value: &JsValue) -> OptionValue {
    if let Some(text) = value.as_string() {
        OptionValue::String(text)
    } else if let Some(number) = value.as_f64() {
        OptionValue::Number(number)
    } else if let Some(flag) = value.as_bool() {
        OptionValue::Bool(flag)
    } else if let Some(items) = strings(value) {
        OptionValue::Strings(items)
    } else {
        OptionValue::Other
    }
}

/// A JS array whose every item is a string, as strings; `None` for anything else, an item
/// that cannot be read included. Read by hand: serde-wasm-bindgen for this one array cost
/// the npm wasm about 11 kB gzip.
fn strings(value: &JsValue) -> Option<Vec<String>> {
    if !Array::is_array(value) {
        return None;
    }
    let array: &Array = value.unchecked_ref();
    let mut items = Vec::new();
    for index in 0..array.length() {
        items.push(Reflect::get_u32(array, index).ok()?.as_string()?);
    }
    Some(items)
}
