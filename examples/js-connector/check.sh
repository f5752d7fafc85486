#!/usr/bin/env bash
# Builds the JavaScript connector and checks it with Guichet as a vendor
# would: `guichet connector check` (the component loads, its description is
# valid, no wasi:http import), then `connector call lookup` on the data
# source served from memory. Exits non-zero when a step fails.
#   GUICHET=/path/to/guichet ./check.sh   (default: `guichet` on the PATH,
#   else `cargo run -p guichet-host --bin guichet` in this repository)
set -euo pipefail
cd "$(dirname "$0")"
./build.sh
if [[ -n "${GUICHET:-}" ]]; then
  guichet=("$GUICHET")
elif command -v guichet >/dev/null; then
  guichet=(guichet)
else
  guichet=(cargo run -q -p guichet-host --bin guichet --)
fi
"${guichet[@]}" connector check js_demo.wasm > /dev/null
config=$(mktemp)
trap 'rm -f "$config"' EXIT
echo '{"settings":{"base_url":"http://127.0.0.1:9"},"allowed_hosts":["http://127.0.0.1:9"]}' > "$config"
answer=$("${guichet[@]}" connector call js_demo.wasm --config "$config" lookup '{"source":"couleurs","q":"VÉR"}')
grep -q '"id": "vert"' <<<"$answer" || { echo "lookup inattendu : $answer" >&2; exit 1; }
echo "js_demo.wasm : connector check et lookup réussis."
