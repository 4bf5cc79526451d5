#!/usr/bin/env bash
# Benchmarks dataflow throughput, measured beside pandas on the same data in one run.
# Usage: bench/run.sh [LINES]   (see BENCHMARKS.md)
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${1:-1000000}
TARGET=${CARGO_TARGET_DIR:-/var/cache/billstream/target}
cargo build --release --bin billstream >&2
BIN="$TARGET/release/billstream"
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
python3 -c "import pandas" 2>/dev/null || python3 -m pip install --quiet pandas >&2

echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# dataflow alone (in-process generator, no broker)"
for w in 1 2; do "$BIN" bench dataflow --lines "$LINES" --workers "$w" --json; done
echo "# 1,000 replacements and voids on top of the loaded lines (changes_seconds: that round alone)"
"$BIN" bench dataflow --lines "$LINES" --changes 1000 --workers 1 --json

echo "# pandas on the same lines"
"$BIN" generate claims --lines "$LINES" --seed 42 --csv "$WORK/claims.csv" 2>/dev/null
python3 bench/pandas_benchmarks.py "$WORK/claims.csv"
"$BIN" generate claims --lines "$LINES" --seed 42 --changes 1000 --csv "$WORK/claims-changes.csv" 2>/dev/null
python3 bench/pandas_benchmarks.py "$WORK/claims-changes.csv"

echo "# through the broker on loopback (tansu, sqlite storage)"
TOOLS=${BILLSTREAM_TOOLS:-/var/cache/billstream/tools}
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$WORK" && "$TOOLS/bin/tansu" broker --listener-url "tcp://127.0.0.1:$PORT" --advertised-listener-url "tcp://127.0.0.1:$PORT" --storage-engine sqlite://broker.db >"$WORK/broker.log" 2>&1 &)
sleep 1
BILLSTREAM__STORE__URL="$WORK/store" "$BIN" --brokers "127.0.0.1:$PORT" bench broker --lines "$LINES" --threads 1 --json
pkill -f "listener-url tcp://127.0.0.1:$PORT" || true
