#!/usr/bin/env bash
# Fuzz smoke test: runs every cargo-fuzz target in fuzz/ for SECONDS each (default 30) and
# fails on any crash, panic, leak or hang.
#
#   scripts/fuzz-smoke.sh [SECONDS]
#
# Needs rustup; installs the pinned nightly toolchain and cargo-fuzz (pinned) when missing. Each
# target runs on a copy of its seed corpus (fuzz/corpus/<target>/seed-*) in a temporary
# folder, and crash artifacts go there too, so the repository is never dirtied (apart from
# the git-ignored fuzz/target). On a crash the folder is kept and its path printed.
# The first build of the fuzz crate compiles libFuzzer and the crate with ASan: about a
# minute on two cores.
set -euo pipefail

SECONDS_PER_TARGET="${1:-30}"
CARGO_FUZZ_VERSION="0.13.2"
# The one pin of the nightly that cargo-fuzz needs (libFuzzer and ASan flags): a dated
# nightly, so a fuzz run means the same compiler on every machine.
TOOLCHAIN="${FUZZ_TOOLCHAIN:-nightly-2026-05-20}"

if ! [[ "$SECONDS_PER_TARGET" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [SECONDS]   (a whole number of seconds per target, default 30)" >&2
  exit 2
fi

cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

# The repository pins a stable toolchain (rust-toolchain.toml); cargo-fuzz needs nightly,
# asked for explicitly with `cargo +<the pinned nightly>`.
if ! rustup run "$TOOLCHAIN" rustc --version >/dev/null 2>&1; then
  echo "fuzz-smoke: installing the $TOOLCHAIN toolchain"
  rustup toolchain install "$TOOLCHAIN" --profile minimal
fi
if [[ "$(cargo "+$TOOLCHAIN" fuzz --version 2>/dev/null || true)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]]; then
  echo "fuzz-smoke: installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo "+$TOOLCHAIN" install --locked "cargo-fuzz@$CARGO_FUZZ_VERSION"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/fuzz-smoke.XXXXXX")"
keep_work=0
cleanup() {
  if [[ "$keep_work" == 0 ]]; then rm -rf "$work"; fi
}
trap cleanup EXIT

start=$(date +%s)
cargo "+$TOOLCHAIN" fuzz build
echo "fuzz-smoke: built the fuzz targets in $(($(date +%s) - start)) s"

mapfile -t targets < <(cargo "+$TOOLCHAIN" fuzz list)
if [[ "${#targets[@]}" == 0 ]]; then
  echo "fuzz-smoke: no fuzz targets found" >&2
  exit 1
fi

failed=()
for target in "${targets[@]}"; do
  corpus="$work/corpus/$target"
  artifacts="$work/artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  seeds=(fuzz/corpus/"$target"/seed-*)
  if [[ -e "${seeds[0]}" ]]; then
    cp "${seeds[@]}" "$corpus/"
  fi
  echo "fuzz-smoke: $target for ${SECONDS_PER_TARGET} s on ${#seeds[@]} seeds"
  log="$work/$target.log"
  if cargo "+$TOOLCHAIN" fuzz run "$target" "$corpus" -- \
    -max_total_time="$SECONDS_PER_TARGET" \
    -timeout=10 \
    -artifact_prefix="$artifacts/" \
    -print_final_stats=1 >"$log" 2>&1; then
    grep -E '^Done |stat::(number_of_executed_units|average_exec_per_sec|new_units_added)' "$log" |
      sed "s/^/fuzz-smoke: $target: /"
  else
    tail -n 60 "$log" >&2
    echo "fuzz-smoke: $target FAILED; log and artifacts in $work" >&2
    failed+=("$target")
  fi
done

if [[ "${#failed[@]}" != 0 ]]; then
  keep_work=1
  echo "fuzz-smoke: crashes in: ${failed[*]}" >&2
  echo "fuzz-smoke: reproduce with: cargo +$TOOLCHAIN fuzz run <target> $work/artifacts/<target>/<file>" >&2
  exit 1
fi
echo "fuzz-smoke: all ${#targets[@]} targets ran ${SECONDS_PER_TARGET} s each without a crash"
