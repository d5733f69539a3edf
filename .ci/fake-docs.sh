#!/usr/bin/env bash
# Runs the Python and curl examples of docs/fake-http-api.md, exactly as
# written there, against a `sendivent fake` started on a free port, so that
# they cannot go stale. Each example is the fenced block after its
# "<!-- ci: python" or "<!-- ci: curl" marker.
set -euo pipefail
cd "$(dirname "$0")/.."
doc=docs/fake-http-api.md
tmp=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# block MARKER: the fenced block that follows the line starting with MARKER.
block() {
  awk -v marker="$1" '
    index($0, marker) == 1 { found = 1; next }
    found && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }
  ' "$doc"
}
block '<!-- ci: python' >"$tmp/example.py"
block '<!-- ci: curl' >"$tmp/example.sh"
for f in example.py example.sh; do
  if [ ! -s "$tmp/$f" ]; then echo "$doc: no $f block after its marker"; exit 1; fi
done

go -C cmd/sendivent build -o "$tmp/sendivent" .
"$tmp/sendivent" fake --addr 127.0.0.1:0 --json >"$tmp/start.json" &
pid=$!
for _ in $(seq 600); do   # its first line: {"url": ..., "api_key": ...}
  [ -s "$tmp/start.json" ] && break
  sleep 0.1
done
start=$(head -n 1 "$tmp/start.json")
url=$(printf '%s' "$start" | python3 -c 'import json, sys; print(json.load(sys.stdin)["url"])')
key=$(printf '%s' "$start" | python3 -c 'import json, sys; print(json.load(sys.stdin)["api_key"])')
for _ in $(seq 100); do
  curl -fsS "$url/_fake/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$url/_fake/health"; echo

export SENDIVENT_API_URL="$url" SENDIVENT_API_KEY="$key"
echo "-- python example"
timeout 60 python3 "$tmp/example.py"
curl -fsS -X POST "$url/_fake/reset" >/dev/null
echo "-- curl example"
timeout 60 bash -euo pipefail "$tmp/example.sh"

kill -INT "$pid"
wait "$pid"
pid=
echo "fake-docs: both examples ran against sendivent fake"
