#!/usr/bin/env bash
# Bill intake: line-item F1 on the generated corpus per document class, and OCR pages/s beside
# the tesseract CLI on the same pages. Usage: bench/intake.sh [PER_LAYOUT] [SEED] [PAGES]
# (see BENCHMARKS.md). PROFILE=release builds and uses the release binary.
set -euo pipefail
cd "$(dirname "$0")/.."
PER_LAYOUT=${1:-5}
SEED=${2:-11}
PAGES=${3:-20}
TARGET=${CARGO_TARGET_DIR:-/var/cache/billstream/target}
if [ "${PROFILE:-dev}" = release ]; then
  cargo build --release --bin billstream >&2
  BIN="$TARGET/release/billstream"
else
  cargo build --bin billstream >&2
  BIN="$TARGET/debug/billstream"
fi
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(tesseract --version 2>&1 | head -1)"
echo "# extraction: $PER_LAYOUT documents per layout, seed $SEED, every class"
"$BIN" bench extract --per-layout "$PER_LAYOUT" --seed "$SEED" --threads 2
echo "# OCR: $PAGES scanned pages, tesseract CLI (--psm 6, one process at a time and two at once) vs billstream with 1 and 2 workers"
OMP_THREAD_LIMIT=1 "$BIN" bench ocr --pages "$PAGES" --workers 2
