#!/usr/bin/env bash
# Builds python_demo.wasm, a component of the world `plugin` of
# guichet:connector@0.1.0, with componentize-py 0.25.1.
#   python3 -m venv /tmp/pyconn-venv && /tmp/pyconn-venv/bin/pip install componentize-py==0.25.1
# STUB_WASI=1 replaces every WASI import with a trapping stub (see README.md).
set -euo pipefail
cd "$(dirname "$0")"
COMPONENTIZE_PY="${COMPONENTIZE_PY:-$(command -v componentize-py || echo /tmp/pyconn-venv/bin/componentize-py)}"
extra=()
out=python_demo.wasm
if [[ "${STUB_WASI:-0}" == 1 ]]; then
  extra=(--stub-wasi)
  out=python_demo_stub.wasm
fi
"$COMPONENTIZE_PY" -d ../../wit/connector@0.1.0 -w plugin componentize app -p . "${extra[@]}" -o "$out"
ls -l "$out"
