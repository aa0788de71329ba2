#!/usr/bin/env bash
# Requests per second on MedQuAD: one replica alone, then replicas behind nginx sharing a real
# redis-server for rate limits (as deploy/ runs them). wrk drives /api/chat over 2,000 MedQuAD
# test questions. Everything runs on this machine: load generator, nginx, Redis and replicas
# share its cores, which is the point of the last rows (see BENCHMARKS.md).
# Needs: wrk, nginx, redis-server (apt-get install wrk nginx redis-server).
# Usage: bash bench/replicas.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}; connections=${2:-64}
medquad=../shared/bench/medquad
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 600); do curl -sf "$1" >/dev/null && return 0; sleep 0.2; done; echo "not ready: $1" >&2; exit 1; }

.venv/bin/python -c '
import json, sys
for line in open(sys.argv[1]).read().splitlines()[:2000]:
    print(json.dumps({"message": json.loads(line)["question"]}))' "$medquad/questions-test.jsonl" > "$work/bodies.jsonl"
export IVIG_BOT_INDEX_CACHE="$work/cache" IVIG_BOT_LOG_LEVEL=WARNING IVIG_BOT_SECRET_KEY=bench-only-shared-key
.venv/bin/ivig-bot check --corpus "$medquad/corpus" >/dev/null  # fills the cache once

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >/dev/null 2>&1 &
pids+=($!)

# These start background processes, so they set $port instead of printing it: a command
# substitution would wait for the background process to close the output it inherited.
replica() {  # replica NAME WORKERS RATE_LIMIT
  port=$(free_port)
  IVIG_BOT_STATE_DIR="$work/state-$1" IVIG_BOT_RATE_LIMIT="$3" \
    IVIG_BOT_RATE_LIMIT_STORAGE="redis://127.0.0.1:$redis_port" \
    .venv/bin/ivig-bot serve --corpus "$medquad/corpus" --port "$port" --workers "$2" >"$work/$1.log" 2>&1 &
  pids+=($!)
}

proxy() {  # proxy PORT... : nginx in front of them (the deploy/ site's proxy settings, plain HTTP)
  port=$(free_port)
  mkdir -p "$work/nginx-$port"
  {
    [ "$(id -u)" = 0 ] && echo "user root;"
    echo "worker_processes 1; pid $work/nginx-$port/pid; error_log $work/nginx-$port/error.log;"
    echo "events { worker_connections 4096; }"
    echo "http { access_log off; client_body_temp_path $work/nginx-$port; proxy_temp_path $work/nginx-$port;"
    echo "  upstream replicas {"; for p in "$@"; do echo "    server 127.0.0.1:$p;"; done
    echo "    keepalive 64; keepalive_timeout 4s; }"
    echo "  server { listen 127.0.0.1:$port; client_max_body_size 40k; client_body_buffer_size 48k;"
    echo "    proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_set_header X-Forwarded-For \$remote_addr;"
    echo "    proxy_next_upstream error timeout http_502 http_503 non_idempotent; proxy_next_upstream_tries 2;"
    echo "    location / { proxy_pass http://replicas; } } }"
  } > "$work/nginx-$port.conf"
  "$nginx_bin" -p "$work/nginx-$port" -c "$work/nginx-$port.conf" -g "daemon off;" >/dev/null 2>&1 &
  pids+=($!)
}

measure() {  # measure LABEL PORT
  wait_for "http://127.0.0.1:$2/healthz"
  BODIES="$work/bodies.jsonl" wrk -t2 -c8 -d2s -s bench/chat.lua "http://127.0.0.1:$2/" >/dev/null 2>&1  # warm-up
  local out; out=$(BODIES="$work/bodies.jsonl" wrk -t2 -c"$connections" -d"${seconds}s" --latency -s bench/chat.lua "http://127.0.0.1:$2/" 2>&1)
  printf '| %s | %s | %s | %s | %s |\n' "$1" "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '$1 == "50%" {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")" \
    "$( (grep '^status' <<<"$out" || true) | sort | uniq -c | awk '{printf "%s x %s ", $1, $3}')"
}

stop_all_but_redis() { for pid in "${pids[@]:1}"; do kill "$pid" 2>/dev/null || true; done; sleep 2; pids=("${pids[0]}"); }

echo "| setup ($connections connections, ${seconds} s) | req/s | p50 | p99 | non-200 replies |"
echo "|---|---|---|---|---|"
replica a 2 off; measure "1 replica, 2 workers, direct, no rate limit" "$port"; stop_all_but_redis
replica a 2 "1000000/minute"; a=$port; proxy "$a"; wait_for "http://127.0.0.1:$a/healthz"
measure "1 replica, 2 workers, behind nginx, limits in Redis" "$port"; stop_all_but_redis
replica a 1 "1000000/minute"; a=$port; replica b 1 "1000000/minute"; b=$port; proxy "$a" "$b"
wait_for "http://127.0.0.1:$a/healthz"; wait_for "http://127.0.0.1:$b/healthz"
measure "2 replicas x 1 worker, behind nginx, limits in Redis" "$port"; stop_all_but_redis
replica a 2 "1000000/minute"; a=$port; replica b 2 "1000000/minute"; b=$port; proxy "$a" "$b"
wait_for "http://127.0.0.1:$a/healthz"; wait_for "http://127.0.0.1:$b/healthz"
measure "2 replicas x 2 workers, behind nginx, limits in Redis" "$port"
