#!/usr/bin/env bash
# Quick start 1: install what is needed, then bring the whole stack up with demo data.
# Extra arguments go to `billstream up` (e.g. --listen 0.0.0.0:8080).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec "${CARGO_TARGET_DIR:-/var/cache/billstream/target}/debug/billstream" up "$@"
