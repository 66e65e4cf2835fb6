//! The native half of the differential test: every file in `fuzz/corpus/*/`, sorted by path,
//! through the native build's readers (`tests/support/differential.rs`), one line per
//! reader, to stdout. `make unit` writes them to `target/differential-native.txt` right
//! before `tests/differential_wasm.rs` computes the same lines in the wasm build in Node and
//! compares:
//!
//! ```sh
//! cargo run --quiet --example differential > target/differential-native.txt
//! cargo test --target wasm32-unknown-unknown --features node --test differential_wasm
//! ```

#[path = "../tests/support/differential.rs"]
mod differential;

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use freedom_id_edge::base::json::SerdeJson;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("differential: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(differential::CORPUS_DIR);
    let mut inputs = Vec::new();
    let folders = std::fs::read_dir(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    for folder in folders {
        let folder = folder.map_err(|e| e.to_string())?.path();
        let target = file_name(&folder)?;
        if !differential::TARGETS.contains(&target.as_str()) {
            return Err(format!(
                "{}: a corpus with no reader in tests/support/differential.rs",
                folder.display()
            ));
        }
        let files = std::fs::read_dir(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
        for file in files {
            let file = file.map_err(|e| e.to_string())?.path();
            let name = format!("{target}/{}", file_name(&file)?);
            inputs.push((name, target.clone(), file));
        }
    }
    inputs.sort();

    let mut out = std::io::stdout().lock();
    for (name, target, path) in &inputs {
        let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let lines = differential::lines(name, target, &data, &SerdeJson)
            .ok_or_else(|| format!("{name}: no reader"))?;
        for line in lines {
            writeln!(out, "{line}").map_err(|e| e.to_string())?;
        }
    }
    eprintln!("differential: {} corpus inputs, native", inputs.len());
    Ok(())
}

fn file_name(path: &Path) -> Result<String, String> {
    path.file_name()
        .and_then(|name| name.to_str())
        .map(str::to_owned)
        .ok_or_else(|| format!("{}: not a UTF-8 file name", path.display()))
}
