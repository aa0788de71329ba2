#!/usr/bin/env bash
# HTTP load with wrk (apt-get install wrk) on loopback: /healthz, then /api/chat, same server.
# Usage: bash bench/load-wrk.sh [connections] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
connections=${1:-64}; seconds=${2:-20}
medquad=../shared/bench/medquad
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
.venv/bin/python -c '
import json, sys
for line in open(sys.argv[1]).read().splitlines()[:2000]:
    print(json.dumps({"message": json.loads(line)["question"]}))' "$medquad/questions-test.jsonl" > "$work/bodies.jsonl"
IVIG_BOT_INDEX_CACHE="$work/cache" IVIG_BOT_LOG_LEVEL=WARNING .venv/bin/ivig-bot serve \
  --corpus "$medquad/corpus" --synonyms corpus/synonyms.txt --port "$port" --workers 2 >/dev/null 2>&1 &
server=$!
for _ in $(seq 240); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.5; done
wrk -t1 -c8 -d2s "http://127.0.0.1:$port/healthz" >/dev/null  # warm-up
echo "== GET /healthz"; wrk -t2 -c"$connections" -d"${seconds}s" --latency "http://127.0.0.1:$port/healthz"
echo "== POST /api/chat"; BODIES="$work/bodies.jsonl" wrk -t2 -c"$connections" -d"${seconds}s" --latency -s bench/chat.lua "http://127.0.0.1:$port/"
