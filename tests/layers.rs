//! The import rule of `src/`: its folders are layers, and a file may name (`crate::...`) only
//! its own folder or a layer above it, so no import runs back up and there is no circle
//! between layers. Only `drivers/` may know wasm-bindgen, js-sys, web-sys or the `worker`
//! crate. This test reads the source as text, so the rule outlives any one change.

use std::fs;
use std::path::{Path, PathBuf};

/// The layers from the top of the stack (imported by everything below) down.
const LAYERS: [&str; 9] = [
    "base",
    "config",
    "error",
    "log",
    "freedom_id",
    "session",
    "web",
    "flow",
    "drivers",
];

/// The crates only a driver may name.
const JS_CRATES: [&str; 5] = [
    "wasm_bindgen",
    "wasm_bindgen_futures",
    "js_sys",
    "web_sys",
    "worker::",
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// The layer a file is in: its first folder under `src/`, or its own name (`error.rs`).
fn layer_of(relative: &Path) -> Option<usize> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    LAYERS.iter().position(|layer| *layer == name)
}

/// The code of a file without its comments (doc links to other layers are no imports).
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter_map(|(index, line)| {
        let code = line.split("//").next().unwrap_or("");
        (!code.trim().is_empty()).then_some((index + 1, code))
    })
}

/// Every layer a line names through `crate::<layer>`.
fn named_layers(line: &str) -> Vec<usize> {
    line.match_indices("crate::")
        .filter_map(|(at, _)| {
            let rest = &line[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            LAYERS.iter().position(|layer| *layer == name)
        })
        .collect()
}

#[test]
fn no_import_runs_back_up_and_only_drivers_know_javascript() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut broken = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        if relative == Path::new("lib.rs") {
            continue; // declares the layers and re-exports the main types
        }
        let own = layer_of(relative)
            .unwrap_or_else(|| panic!("{} is in no layer: add it to one", relative.display()));
        let text = fs::read_to_string(file).unwrap();
        for (number, line) in code_lines(&text) {
            for named in named_layers(line) {
                if named > own {
                    broken.push(format!(
                        "{}:{number}: {} names {}, a layer below it: {}",
                        relative.display(),
                        LAYERS[own],
                        LAYERS[named],
                        line.trim()
                    ));
                }
            }
            if LAYERS[own] != "drivers" {
                for js in JS_CRATES {
                    let outside_path = line
                        .match_indices(js)
                        .any(|(at, _)| at == 0 || !line[..at].ends_with("::"));
                    if outside_path && line.contains(js) && is_crate_use(line, js) {
                        broken.push(format!(
                            "{}:{number}: only drivers/ may know {js}: {}",
                            relative.display(),
                            line.trim()
                        ));
                    }
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "imports against the layer order {LAYERS:?}:\n{}",
        broken.join("\n")
    );
}

/// Whether `line` uses the crate `js` as a path (not a word in a string).
fn is_crate_use(line: &str, js: &str) -> bool {
    let code = line.split('"').step_by(2).collect::<Vec<_>>().join(" ");
    code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .any(|word| {
            word == js.trim_end_matches("::")
                || word.starts_with(&format!("{}::", js.trim_end_matches("::")))
        })
}

#[test]
fn the_layer_rule_sees_a_violation() {
    // The check itself: a `crate::flow` in a base file is reported, a `crate::base` in flow
    // is not, and a comment is not code.
    assert_eq!(named_layers("use crate::flow::respond;"), [7]);
    assert_eq!(named_layers("let x = crate::base::url::parse(y);"), [0]);
    assert_eq!(code_lines("// crate::flow\n").count(), 0);
    assert_eq!(layer_of(Path::new("base/url.rs")), Some(0));
    assert_eq!(layer_of(Path::new("error.rs")), Some(2));
    assert!(is_crate_use(
        "use wasm_bindgen::prelude::*;",
        "wasm_bindgen"
    ));
    assert!(is_crate_use("    worker::Env", "worker::"));
    assert!(!is_crate_use(r#"let s = "worker::Env";"#, "worker::"));
    assert!(!is_crate_use("use crate::drivers::worker;", "worker::"));
}

#[test]
fn wrangler_runs_the_worker_first_on_every_route() {
    // Each route the Worker answers must skip the asset layer (`[assets] run_worker_first`):
    // a route missing there would be looked up in www/ first, and cost every request on it.
    let toml =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("wrangler.toml")).unwrap();
    let line = toml
        .lines()
        .find(|line| line.trim_start().starts_with("run_worker_first"))
        .expect("wrangler.toml has [assets] run_worker_first");
    let listed: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
    for route in freedom_id_edge::web::Route::ALL {
        assert!(
            listed.contains(&route.path()),
            "run_worker_first lacks {} ({route:?}): {listed:?}",
            route.path()
        );
    }
}
