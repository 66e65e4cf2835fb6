#!/usr/bin/env bash
# Builds the npm package into pkg/: ONE .wasm shared by small per-runtime entries (Node require
# and import, Cloudflare Workers, Deno; Bun uses the Node ones).
#
#   1. cargo builds the `node` feature once (no Worker code) for wasm32-unknown-unknown;
#   2. wasm-bindgen (the installed CLI, which must equal Cargo.lock's wasm-bindgen) makes the
#      glue for each target the entries use from that one build: `nodejs` (CommonJS) and
#      `web` (an ES module with initSync);
#   3. since wasm-bindgen 0.2.107 every target emits the same wasm: the build FAILS if the
#      targets' _bg.wasm bytes differ, since the entries could not share one file then;
#   4. npm's wasm-opt (binaryen, never Debian's) runs once on the shared wasm: flattened and
#      re-relooped, then -Oz until it stops shrinking (about 3 kB raw, 1.4 kB gzip less than
#      one -Oz; the Worker's wasm cannot take --flatten, which fails on its exception handling);
#   5. scripts/finish-npm-package.mjs assembles pkg/ (entries from npm/entries/, npm/types.d.ts
#      as their types, package.json with the exports map, README, LICENSE).
# Nothing is downloaded. wasm-pack is not used here (it cannot emit several targets at once);
# Cargo.toml's [package.metadata.wasm-pack] stays for worker-build.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$root/node_modules/.bin:$HOME/.cargo/bin:$PATH"
name=freedom_id_edge
targets=(nodejs web)
target_dir="${CARGO_TARGET_DIR:-$root/target}"
work="$target_dir/npm-package"
wasm_opt="$root/node_modules/.bin/wasm-opt"

locked="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
installed="$(wasm-bindgen --version | awk '{ print $2 }')"
if [[ "$installed" != "$locked" ]]; then
  echo "build-npm: wasm-bindgen CLI is $installed but Cargo.lock has $locked (make setup)" >&2
  exit 1
fi
[[ -x "$wasm_opt" ]] || { echo "build-npm: $wasm_opt is missing (npm ci)" >&2; exit 1; }

sha256() { node -e 'const c = require("node:crypto"), fs = require("node:fs");
  process.stdout.write(c.createHash("sha256").update(fs.readFileSync(process.argv[1])).digest("hex"))' "$1"; }
size() { wc -c <"$1" | tr -d ' '; }

cargo build --release --target wasm32-unknown-unknown --features node
raw="$target_dir/wasm32-unknown-unknown/release/$name.wasm"

rm -rf "$work"
mkdir -p "$work"
for target in "${targets[@]}"; do
  wasm-bindgen --target "$target" --out-dir "$work/$target" --out-name "$name" "$raw"
done

echo "wasm hash check (wasm-bindgen $installed, one cargo build, the _bg.wasm of each target):"
first=""
for target in "${targets[@]}"; do
  hash="$(sha256 "$work/$target/${name}_bg.wasm")"
  printf '  %-8s %s  %s bytes\n' "$target" "$hash" "$(size "$work/$target/${name}_bg.wasm")"
  if [[ -z "$first" ]]; then
    first="$hash"
  elif [[ "$hash" != "$first" ]]; then
    echo "build-npm: the $target wasm differs from the ${targets[0]} one: the entries cannot share one .wasm" >&2
    exit 1
  fi
done
echo "  identical: one wasm for every entry"

"$wasm_opt" --flatten --rereloop -Oz -Oz --converge \
  "$work/${targets[0]}/${name}_bg.wasm" -o "$work/${name}_bg.wasm"
printf '  after %s (flatten, rereloop, -Oz): %s  %s bytes\n' "$("$wasm_opt" --version | awk '{ print $1, $3 }')" \
  "$(sha256 "$work/${name}_bg.wasm")" "$(size "$work/${name}_bg.wasm")"

cargo metadata --no-deps --format-version 1 >"$work/metadata.json"
node scripts/finish-npm-package.mjs "$work" "$work/${name}_bg.wasm" "$work/metadata.json"
echo "pkg/: $(cd pkg && ls | tr '\n' ' ')"
