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
exec worker-build --release --features worker
