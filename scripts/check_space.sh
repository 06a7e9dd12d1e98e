#!/usr/bin/env bash
# Check the Hugging Face Space locally: build it, install it in a fresh virtual environment
# with the Space's own install command, start app.py, and fetch /health, / and /docs.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${1:-$(mktemp -d)}"
PY="${PYTHON:-python3.11}"
SPACE="$("$PY" "$ROOT/scripts/build_space.py" "$WORK/space")"
"$PY" -m venv "$WORK/venv"
cd "$SPACE"
"$WORK/venv/bin/pip" install -q --upgrade pip
"$WORK/venv/bin/pip" install -q "gradio==$(sed -n 's/^sdk_version: //p' README.md)"  # the SDK
"$WORK/venv/bin/pip" install -q -r requirements.txt                                 # the Space
PORT=7861
EARFUL_PORT=$PORT EARFUL_HOST=127.0.0.1 "$WORK/venv/bin/python" app.py > "$WORK/app.log" 2>&1 &
APP=$!
trap 'kill $APP 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  sleep 1
done
curl -fs "http://127.0.0.1:$PORT/health"; echo
curl -fs -o /dev/null -w "GET / -> %{http_code}\n" "http://127.0.0.1:$PORT/"
curl -fs -o /dev/null -w "GET /docs -> %{http_code}\n" "http://127.0.0.1:$PORT/docs"
curl -fs -F file=@"$ROOT/tests/data/yes.wav" "http://127.0.0.1:$PORT/classify" | head -c 200; echo
curl -fs -X POST -H 'content-type: application/json' -d '{"text": "Hello from the Space."}' \
  -o "$WORK/hello.wav" -w "POST /synthesize -> %{http_code}, %{size_download} bytes\n" \
  "http://127.0.0.1:$PORT/synthesize"
echo "space check passed ($WORK)"
