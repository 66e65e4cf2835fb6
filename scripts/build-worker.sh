#!/usr/bin/env bash
# Builds the Worker into build/ with worker-build, pointing it at the locally installed
# wasm-bindgen, npm's wasm-opt and wrangler's esbuild, so that it downloads nothing.
# wrangler runs this as its [build] command; `make build-worker` runs it directly.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
export WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
export WASM_OPT_BIN="$root/node_modules/.bin/wasm-opt"
export ESBUILD_BIN="$root/node_modules/@esbuild/linux-x64/bin/esbuild"
worker-build --release --features worker
# worker-build keeps the wasm name section (--debuginfo) for symbolised stack traces: 70 kB
# raw, 18 kB gzipped, loaded by every isolate. Our panic hook logs the panic's file and line
# instead, so drop it (with worker-build's own feature set, so nothing newer is emitted), and
# run -Oz again until it stops shrinking (--converge: about 2 kB gzip, 8 s).
features=(mutable-globals sign-ext nontrapping-float-to-int bulk-memory multivalue reference-types exception-handling)
"$WASM_OPT_BIN" "${features[@]/#/--enable-}" -Oz --converge --strip-debug --strip-producers \
  build/index_bg.wasm -o build/index_bg.wasm
