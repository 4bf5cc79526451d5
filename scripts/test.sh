#!/usr/bin/env bash
# Quick start 2: install what is needed, then run the whole test suite (format, lints, unit and
# end-to-end tests against a real broker and a real S3 API server). `.ci/run` runs this.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/cache/billstream/target}
echo "[test] cargo fmt --check" >&2
cargo fmt --all -- --check
echo "[test] cargo clippy -D warnings" >&2
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "[test] cargo test" >&2
cargo test --workspace -- --test-threads 2
