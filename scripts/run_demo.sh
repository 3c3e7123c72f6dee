#!/usr/bin/env bash
# Serve the platform on http://127.0.0.1:8000 with a huey consumer beside it; Ctrl-C stops both.
# Without REDIS_URL the queue is a SQLite file under var/, so no server is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
ADDR=${ADDR:-127.0.0.1:8000}

mkdir -p var
"$PY" manage.py run_huey >>var/huey.log 2>&1 &
consumer=$!
trap 'kill "$consumer" 2>/dev/null; wait "$consumer" 2>/dev/null' EXIT INT TERM
echo "huey consumer started (pid $consumer, log var/huey.log)"
echo "Open http://$ADDR/ and log in with a demo user printed above."
"$PY" manage.py runserver "$ADDR"
