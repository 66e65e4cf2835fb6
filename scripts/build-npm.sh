#!/usr/bin/env bash
# Builds the npm package into pkg/ with wasm-pack (--target nodejs, feature `node` only, no
# Worker code), using the installed wasm-bindgen and npm's wasm-opt so nothing is downloaded,
# then finishes package.json and README from committed sources in npm/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$root/node_modules/.bin:$HOME/.cargo/bin:$PATH"
wasm-pack build --target nodejs --release --mode no-install \
  --out-dir pkg --out-name freedom_id_edge -- --features node
node scripts/finish-npm-package.mjs
