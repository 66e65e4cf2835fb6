//! The wasm half of the differential test: every file in `fuzz/corpus/*/` through the npm
//! build's readers in Node, with the JSON engine the drivers hand the core
//! (`drivers::Json`), must give exactly the lines the native build gave
//! (`examples/differential.rs`): the same typed result or the same error, input by input.
//!
//! ```sh
//! cargo run --quiet --example differential > target/differential-native.txt
//! cargo test --target wasm32-unknown-unknown --features node --test differential_wasm
//! ```
//! `DIFFERENTIAL_NATIVE` names another native file; a relative path is from the repository
//! root. `make unit` runs both steps.
#![cfg(all(target_arch = "wasm32", feature = "node"))]

#[path = "support/differential.rs"]
mod differential;

use freedom_id_edge::drivers::Json;
use js_sys::{Array, Function, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Every corpus file as `(target, file name, bytes)`, read with Node's `fs`.
fn corpus() -> Vec<(String, String, Vec<u8>)> {
    let read = Function::new_with_args(
        "dir",
        "const fs = process.getBuiltinModule('node:fs');
         const path = process.getBuiltinModule('node:path');
         const out = [];
         for (const target of fs.readdirSync(dir)) {
           for (const file of fs.readdirSync(path.join(dir, target))) {
             out.push([target, file, new Uint8Array(fs.readFileSync(path.join(dir, target, file)))]);
           }
         }
         return out;",
    );
    let dir = format!("{ROOT}/{}", differential::CORPUS_DIR);
    let files: Array = read
        .call1(&JsValue::NULL, &dir.into())
        .expect("the corpus folders can be read")
        .unchecked_into();
    files
        .iter()
        .map(|entry| {
            let entry: Array = entry.unchecked_into();
            let text = |index| entry.get(index).as_string().expect("a UTF-8 file name");
            let bytes: Uint8Array = entry.get(2).unchecked_into();
            (text(0), text(1), bytes.to_vec())
        })
        .collect()
}

/// The native side's file: its path and its text, `None` when it does not exist.
fn native_lines() -> (String, Option<String>) {
    let read = Function::new_with_args(
        "root, fallback",
        "const fs = process.getBuiltinModule('node:fs');
         const path = process.getBuiltinModule('node:path');
         const file = path.resolve(root, process.env.DIFFERENTIAL_NATIVE || fallback);
         return [file, fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null];",
    );
    let found: Array = read
        .call2(
            &JsValue::NULL,
            &ROOT.into(),
            &differential::NATIVE_FILE.into(),
        )
        .expect("the native file can be looked for")
        .unchecked_into();
    let path = found.get(0).as_string().expect("a path");
    (path, found.get(1).as_string())
}

#[wasm_bindgen_test]
fn the_wasm_build_reads_every_corpus_input_as_the_native_build_does() {
    let (path, native) = native_lines();
    let native = native.unwrap_or_else(|| {
        panic!(
            "{path} is missing: write it first with `{}` (make unit does)",
            differential::NATIVE_COMMAND
        )
    });

    let mut inputs: Vec<(String, String, Vec<u8>)> = corpus()
        .into_iter()
        .map(|(target, file, bytes)| (format!("{target}/{file}"), target, bytes))
        .collect();
    inputs.sort();
    let mut wasm = Vec::new();
    for (name, target, bytes) in &inputs {
        let lines = differential::lines(name, target, bytes, &Json::default())
            .unwrap_or_else(|| panic!("{name}: a corpus with no reader in the differential"));
        wasm.extend(lines);
    }

    let native: Vec<&str> = native.lines().collect();
    for (index, ours) in wasm.iter().enumerate() {
        let Some(theirs) = native.get(index) else {
            panic!(
                "{path} ends before {}: write it again with `{}`",
                input_of(ours),
                differential::NATIVE_COMMAND
            );
        };
        assert!(
            ours == theirs,
            "the builds differ on {}:\n  wasm:   {ours}\n  native: {theirs}\n\
             (if the corpus or the readers changed since, write {path} again with `{}`)",
            input_of(ours),
            differential::NATIVE_COMMAND
        );
    }
    assert_eq!(
        wasm.len(),
        native.len(),
        "{path} has lines for inputs the wasm side did not read, from {}: write it again with `{}`",
        native.get(wasm.len()).map_or("", |line| input_of(line)),
        differential::NATIVE_COMMAND
    );
    for target in differential::TARGETS {
        assert!(
            inputs.iter().any(|(_, of, _)| of == target),
            "no corpus input for {target}: the differential would check nothing there"
        );
    }
    // wasm-bindgen-test shows this when the test is run with --nocapture.
    wasm_bindgen_test::console_log!(
        "differential: {} corpus inputs, {} lines, the same in the wasm build",
        inputs.len(),
        wasm.len()
    );
}

/// The corpus input a line is about (its first field).
fn input_of(line: &str) -> &str {
    line.split('\t').next().unwrap_or(line)
}
