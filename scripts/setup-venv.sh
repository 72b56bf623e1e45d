#!/usr/bin/env bash
# Create .venv and install Trove into it (editable).
#
#   scripts/setup-venv.sh [test|runtime]     (default: test)
#
#   test     pip install -e '.[test,ai]'  (the AI extra too, so its tests run)
#   runtime  pip install -e .
#
# Skipped when .venv/.stamp-<group> is newer than pyproject.toml.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

group="${1:-test}"
case "$group" in
  test) target='.[test,ai]' ;;
  runtime) target='.' ;;
  *) echo "usage: $0 [test|runtime]" >&2; exit 2 ;;
esac

VENV=.venv
stamp="$VENV/.stamp-$group"

fresh() { [ -f "$1" ] && [ "$1" -nt pyproject.toml ]; }

# Trove's own bytecode, written once here: where PYTHONDONTWRITEBYTECODE is set (as on these
# machines) every `trove` process would otherwise compile src/ again (~0.5 s of CPU each).
compile_sources() { "$VENV/bin/python" -m compileall -q -j 0 src >/dev/null; }

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c '' >/dev/null 2>&1; then
  # The test install is a superset of the runtime one.
  if fresh "$stamp" || { [ "$group" = runtime ] && fresh "$VENV/.stamp-test"; }; then
    compile_sources
    exit 0
  fi
fi

find_python() {
  local py
  for py in python3.11 python3; do
    if command -v "$py" >/dev/null 2>&1 \
      && "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
      echo "$py"
      return 0
    fi
  done
  return 1
}

# A venv whose interpreter no longer runs (e.g. its base Python went away) is rebuilt.
if [ -e "$VENV" ] && ! "$VENV/bin/python" -c '' >/dev/null 2>&1; then
  echo "setup-venv.sh: $VENV is broken, recreating it" >&2
  rm -rf "$VENV"
fi

if [ ! -x "$VENV/bin/python" ]; then
  py="$(find_python)" || {
    echo "setup-venv.sh: no Python >= 3.11 on PATH (run scripts/install-system.sh)" >&2
    exit 1
  }
  echo "setup-venv.sh: creating $VENV with $(command -v "$py") ($("$py" --version 2>&1))" >&2
  "$py" -m venv "$VENV"
fi

rm -f "$stamp"
export PIP_DISABLE_PIP_VERSION_CHECK=1
echo "setup-venv.sh: pip install -e '$target'" >&2
"$VENV/bin/pip" install -q -e "$target"
touch "$stamp"
compile_sources
