#!/usr/bin/env bash
# Anomaly model: ROC AUC on synthetic labeled anomalies and single-threaded scoring lines/s,
# billstream's extended isolation forest beside scikit-learn's IsolationForest on the same
# feature matrix in the same run. Usage: bench/anomaly.sh [TRAIN] [TEST] [SEED] (see BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
TRAIN=${1:-200000}
TEST=${2:-100000}
SEED=${3:-1}
TARGET=${CARGO_TARGET_DIR:-/var/cache/billstream/target}
WORK=${WORK:-/var/cache/billstream/bench-anomaly}
cargo build --release --bin billstream >&2
BIN="$TARGET/release/billstream"
VENV=/var/cache/billstream/sklearn-venv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sklearn' 2>/dev/null; then
  python3 -m venv "$VENV" >&2 && "$VENV/bin/pip" install -q scikit-learn >&2
fi
mkdir -p "$WORK"
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# $TRAIN training lines, $TEST test lines, seed $SEED; one thread each"
"$BIN" bench anomaly --train "$TRAIN" --test "$TEST" --seed "$SEED" --features-out "$WORK/features.csv" --json
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$VENV/bin/python" bench/anomaly_sklearn.py "$WORK/features.csv" "$SEED"
