#!/usr/bin/env bash
# Installs every tool the build and tests need, at pinned versions, skipping what is already there.
# Safe to run again: each step checks first. Nothing is downloaded from outside crates.io, npm and Debian.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130
WORKER_BUILD_VERSION=0.8.7

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

have_version() { # have_version BIN VERSION: BIN is on PATH and prints VERSION
  command -v "$1" >/dev/null 2>&1 && "$1" --version 2>/dev/null | grep -qF "$2"
}

# rust-toolchain.toml names the toolchain, its components and the wasm32 target; rustup installs them on first use.
rustup show active-toolchain >/dev/null
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

if ! have_version wasm-bindgen "$WASM_BINDGEN_VERSION"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes)"
  # Not --locked: its lock file pins a yanked webpki-roots.
  cargo install --force wasm-bindgen-cli@"$WASM_BINDGEN_VERSION"
fi
if ! have_version worker-build "$WORKER_BUILD_VERSION"; then
  say "installing worker-build $WORKER_BUILD_VERSION (several minutes)"
  cargo install --force --locked worker-build@"$WORKER_BUILD_VERSION"
fi

# The browser tests drive Debian's Chromium (never a browser downloaded by a test tool).
if ! command -v chromium >/dev/null 2>&1; then
  say "installing Debian's chromium for the browser tests"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi
