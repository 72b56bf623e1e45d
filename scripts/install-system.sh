#!/usr/bin/env bash
# Install the Debian 12 packages Trove needs; a fast no-op when they are all present.
#
#   scripts/install-system.sh [runtime|test]     (default: test)
#
#   runtime  what running Trove needs
#   test     runtime + what the test suite needs (PostgreSQL, Redis, jdupes, ...)
#
# Add packages to the lists below; nothing else needs to change.
set -euo pipefail

# chromium: the web scraper's screenshots (driven by Playwright; never `playwright install`).
RUNTIME_PACKAGES="libmagic1 libimage-exiftool-perl ffmpeg tesseract-ocr tesseract-ocr-eng findutils procps chromium"
# libvips-tools, poppler-utils: the standalone tools bench/pipeline.py measures Trove against.
# fuse3: tests/case_blind_fs.py mounts a disk that ignores letter case.
TEST_PACKAGES="$RUNTIME_PACKAGES postgresql redis-server jdupes libvips-tools poppler-utils chromium-driver fuse3"
# Only when no npm is on PATH (scripts/vendor-js.sh fetches the UI's browser libraries with it).
NODE_PACKAGES="nodejs npm"
# Only when no usable python3 (with venv + ensurepip) is on PATH.
PYTHON_PACKAGES="python3 python3-venv python3-dev python3-pip"

group="${1:-test}"
case "$group" in
  runtime) wanted="$RUNTIME_PACKAGES" ;;
  test) wanted="$TEST_PACKAGES" ;;
  *) echo "usage: $0 [runtime|test]" >&2; exit 2 ;;
esac

python_ok() {
  local py
  for py in python3.11 python3; do
    if command -v "$py" >/dev/null 2>&1 \
      && "$py" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 \
      && "$py" -m venv --help >/dev/null 2>&1; then
      return 0
    fi
  done
  return 1
}
if ! python_ok; then
  wanted="$wanted $PYTHON_PACKAGES"
fi

if ! command -v npm >/dev/null 2>&1; then
  wanted="$wanted $NODE_PACKAGES"
fi

missing=()
for pkg in $wanted; do
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  if [ "$status" != "install ok installed" ]; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-system.sh: missing Debian packages: ${missing[*]}" >&2
  echo "install-system.sh: run as root, or install them with:" >&2
  echo "  sudo apt-get install --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

echo "install-system.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
