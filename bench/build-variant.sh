#!/usr/bin/env bash
# Builds an experimental variant of the Worker outside the checkout, for
# `BENCH_ARTIFACTS=OUT_DIR node_modules/.bin/node bench/run.mjs` (or bench/profile.mjs).
#
#   bash bench/build-variant.sh OUT_DIR [--no-panic-recovery] [--keep-names] [--run-worker-first]
#                                       [--custom-shim FILE] [--from DIR] [--npm] [--features F]
#
# Copies the sources (src/, Cargo.*, wrangler.toml, www/, scripts/; from this checkout's working
# tree, or from DIR, e.g. a `git archive` of a commit) into OUT_DIR and builds there exactly as
# scripts/build-worker.sh does, with one change per flag:
#   --no-panic-recovery  worker-build's legacy shim (no Proxy per call, no reset-state/abort
#                        handler in the wasm-bindgen glue; a panic leaves the instance as it is)
#   --custom-shim FILE   worker-build's legacy path with FILE as the shim (CUSTOM_SHIM)
#   --keep-names         keeps the wasm name section (function names in a CPU profile)
#   --run-worker-first   adds `run_worker_first` for the Worker's own routes (and the bench's
#                        guarded prefix /members) to [assets] in OUT_DIR/wrangler.toml
#   --npm                also builds pkg/ there with the copied scripts/build-npm.sh (else pkg/
#                        is copied from the checkout as it is: the Worker experiments do not
#                        change it)
#   --features F         also enables cargo feature(s) F (comma-separated) in the Worker build
#                        and, with --npm, in the npm build (e.g. `json-engine-js`: BENCHMARKS.md,
#                        "JSON engine")
# Cargo's target dir is shared by every variant (BENCH_VARIANT_TARGET, default
# /tmp/freedom-id-edge-variant-target), never the checkout's own target/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: bench/build-variant.sh OUT_DIR [flags]}"
shift
from="$root"
no_panic_recovery=0 keep_names=0 run_worker_first=0 custom_shim="" npm=0 extra_features=""
while (($#)); do
  case "$1" in
    --no-panic-recovery) no_panic_recovery=1 ;;
    --keep-names) keep_names=1 ;;
    --run-worker-first) run_worker_first=1 ;;
    --custom-shim) custom_shim="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; shift ;;
    --from) from="$(cd "$2" && pwd)"; shift ;;
    --npm) npm=1 ;;
    --features) extra_features="${2:?--features needs a value}"; shift ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$out"
out="$(cd "$out" && pwd)"
rm -rf "$out/src" "$out/build" "$out/scripts" "$out/www" "$out/.cargo" "$out/npm" "$out/pkg" "$out/pkg.built-here"
for item in src scripts www .cargo Cargo.toml Cargo.lock rust-toolchain.toml wrangler.toml LICENSE README.md npm; do
  if [ -e "$from/$item" ]; then cp -r "$from/$item" "$out/$item"; fi
done
[ -e "$out/node_modules" ] || ln -s "$root/node_modules" "$out/node_modules"
if ((npm == 0)); then cp -r "$root/pkg" "$out/pkg"; fi

export PATH="$root/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${BENCH_VARIANT_TARGET:-/tmp/freedom-id-edge-variant-target}"
export WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
export WASM_OPT_BIN="$root/node_modules/.bin/wasm-opt"
export ESBUILD_BIN="$root/node_modules/@esbuild/linux-x64/bin/esbuild"
cd "$out"
worker_features="worker${extra_features:+,$extra_features}"
args=(--release --features "$worker_features")
if ((no_panic_recovery)); then args=(--release --no-panic-recovery --features "$worker_features"); fi
if [ -n "$custom_shim" ]; then
  CUSTOM_SHIM="$custom_shim" worker-build "${args[@]}"
else
  worker-build "${args[@]}"
fi
wasm="build/index_bg.wasm"
[ -f "$wasm" ] || wasm="build/worker/index.wasm" # the legacy shim's layout
if ((keep_names)); then
  echo "build-variant: name section kept in $wasm"
else
  # As scripts/build-worker.sh: drop the name section, -Oz until it stops shrinking.
  features=(mutable-globals sign-ext nontrapping-float-to-int bulk-memory multivalue reference-types exception-handling)
  "$WASM_OPT_BIN" "${features[@]/#/--enable-}" -Oz --converge --strip-debug --strip-producers "$wasm" -o "$wasm"
fi
if ((run_worker_first)); then
  node -e '
    const fs = require("fs");
    const file = process.argv[1];
    const rules = ["/login", "/callback", "/session", "/logout", "/revoke", "/healthz", "/members", "/members/*"];
    const toml = fs.readFileSync(file, "utf8").replace(/^\[assets\]\n(directory = .*\n)/m, (all) => `${all}run_worker_first = ${JSON.stringify(rules)}\n`);
    if (!toml.includes("run_worker_first")) throw new Error("no [assets] block to extend");
    fs.writeFileSync(file, toml);
  ' "$out/wrangler.toml"
fi
if ((npm)); then
  if [ -n "$extra_features" ]; then
    # The copy's build-npm.sh names its one feature; add ours to it (the checkout's is untouched).
    grep -q -- '--features node$' scripts/build-npm.sh || { echo "build-variant: no '--features node' line in scripts/build-npm.sh" >&2; exit 1; }
    sed -i "s/--features node\$/--features node,$extra_features/" scripts/build-npm.sh
  fi
  bash scripts/build-npm.sh
  touch "$out/pkg.built-here" # bench/run.mjs measures this pkg/ as an npm variant
fi
ls -l "$out/build" "$(dirname "$out/$wasm")" "$out/pkg"
echo "build-variant: built $out (source: $from${extra_features:+, features: $extra_features})"
