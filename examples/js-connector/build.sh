#!/usr/bin/env bash
# Builds js_demo.wasm, a component of the world `plugin` of
# guichet:connector@0.1.0, with ComponentizeJS 0.23.0 (npm install first).
# `--disable http fetch-event` keeps wasi:http (which Guichet refuses) out of
# the imports: with ComponentizeJS 0.23.0, `--disable http` alone still leaves
# `import wasi:http/types@0.2.10` (pulled in by the `fetch-event` feature).
# The connector reaches the web through the contract's own `http` import.
set -euo pipefail
cd "$(dirname "$0")"
[[ -d node_modules/@bytecodealliance/componentize-js ]] || npm ci --no-audit --no-fund
npx componentize-js connector.js \
  --wit ../../wit/connector@0.1.0 \
  --world-name plugin \
  --disable http fetch-event \
  -o js_demo.wasm
ls -l js_demo.wasm
