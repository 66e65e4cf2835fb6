#!/usr/bin/env bash
# Where the wasm bytes go, for the size diet: builds un-optimised copies of both wasm files
# (same release profile, no wasm-opt, name section kept) in a private target dir, with a
# wasm-ld link map, then runs twiggy and groups the bytes by crate (bench/size-by-crate.mjs).
#
#   bash bench/size-profile.sh [OUT_DIR]     # default OUT_DIR: a new temp dir; prints where
#
# Needs: cargo + the wasm32 target, wasm-bindgen 0.2.130 (`make setup`), twiggy
# (`cargo install --locked twiggy@0.8.0`). Touches nothing in the checkout: the build goes to
# OUT_DIR/target (about a minute per feature the first time).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$(mktemp -d -t freedom-id-edge-size-XXXXXX)}"
mkdir -p "$out"
export PATH="$root/node_modules/.bin:$HOME/.cargo/bin:$PATH"
command -v twiggy >/dev/null || { echo "size-profile: no twiggy; cargo install --locked twiggy@0.8.0" >&2; exit 1; }
command -v wasm-bindgen >/dev/null || { echo "size-profile: no wasm-bindgen; make setup" >&2; exit 1; }
node=/usr/bin/node
[ -x "$node" ] || node="$(command -v node)"

cd "$root"
for feature in worker node; do
  target="$out/target-$feature"
  echo "size-profile: building --features $feature (un-optimised, with link map)" >&2
  CARGO_TARGET_DIR="$target" RUSTFLAGS="-C link-arg=--Map=$out/$feature.map" \
    cargo build --quiet --lib --release --target wasm32-unknown-unknown --features "$feature"
  # wasm-bindgen keeps the name section unless told otherwise; no wasm-opt afterwards.
  wasm-bindgen --target web --out-dir "$out/$feature" --out-name "$feature" \
    "$target/wasm32-unknown-unknown/release/freedom_id_edge.wasm"
  wasm="$out/$feature/${feature}_bg.wasm"
  twiggy top -n 25 "$wasm" >"$out/$feature-top.txt"
  twiggy dominators -d 3 -r 60 "$wasm" >"$out/$feature-dominators.txt"
  twiggy top -n 1000000 -f csv "$wasm" >"$out/$feature-top.csv"
  "$node" "$root/bench/size-by-crate.mjs" --twiggy "$out/$feature-top.csv" --map "$out/$feature.map" >"$out/$feature-by-crate.md"
done

# The shipped Worker wasm keeps its names (worker-build runs wasm-opt with --debuginfo), so
# twiggy reads it as built too.
if [ -f "$root/build/index_bg.wasm" ]; then
  twiggy top -n 25 "$root/build/index_bg.wasm" >"$out/shipped-worker-top.txt" 2>&1 || true
fi

echo "size-profile: results in $out:" >&2
ls -1 "$out"/*.txt "$out"/*.md >&2
