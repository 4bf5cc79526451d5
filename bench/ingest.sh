#!/usr/bin/env bash
# Feed loaders: hospital MRF ingest in MB/s (generated v3 tall CSV and JSON from CMS's examples),
# the real Stony Brook MRF and the PFS file, and X12 segments/s beside pyx12 (PyPI) on the same
# 837 files. Usage: bench/ingest.sh [MRF_MB] (see BENCHMARKS.md). Needs ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-200}
DATA=${DATA:-../shared/data}
TARGET=${CARGO_TARGET_DIR:-/var/cache/billstream/target}
WORK=${WORK:-/var/cache/billstream/bench-ingest}
cargo build --release --bin billstream >&2
BIN="$TARGET/release/billstream"
VENV=/var/cache/billstream/pyx12-venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV" >&2 && "$VENV/bin/pip" install -q pyx12 >&2
fi
mkdir -p "$WORK"
[ -s "$WORK/mrf_tall_v3.csv" ] && [ "$(stat -c %s "$WORK/mrf_tall_v3.csv")" -ge $((MB * 1000000)) ] \
  || python3 bench/make_mrf.py "$DATA" "$WORK" "$MB" >&2
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# MRF: loader only (parse, validate, build records; --dry-run: nothing produced), 1 thread"
"$BIN" bench ingest prices "$WORK/mrf_tall_v3.csv" --repeat 1 --json
"$BIN" bench ingest prices "$WORK/mrf_v3.json" --repeat 1 --json
"$BIN" bench ingest prices "$DATA/real-hospital-mrf/stony-brook-2022-prev2-wide/"*.csv --repeat 5 --json
"$BIN" bench ingest prices "$DATA/code-sets/pfs-rvu/PPRRVU23_JAN.descriptions-redacted.csv" "$DATA/code-sets/pfs-gpci/GPCI2026.csv" --repeat 1 --json
X12=("$DATA/x12/imsweb-5010/837_5010/x12_many_claims.txt" "$DATA/x12/imsweb-5010/837_5010/x12_multiple_transactions.txt")
echo "# X12 837P: billstream (segments, envelope and loop checks, claim lines), then pyx12 $("$VENV/bin/python" -c 'import pyx12; print(pyx12.__version__)') on the same files"
"$BIN" bench ingest claims "${X12[@]}" --repeat 50 --json
"$VENV/bin/python" bench/x12_pyx12.py 3 "${X12[@]}"
