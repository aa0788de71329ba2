"""Bounded HTTP load test on loopback: /api/chat round trips against /healthz on one gunicorn server.

Starts `ivig-bot serve` on the MedQuAD library (2 workers), then for each endpoint runs
CONNECTIONS client threads, each with its own keep-alive connection, for SECONDS seconds,
and reports requests/s, p50/p95 latency and errors. Only 127.0.0.1 is ever contacted.
Usage: .venv/bin/python bench/load.py [--connections 64] [--seconds 20] [--corpus DIR]
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from evaluate import MEDQUAD, medquad_questions  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(port: int, path: str, bodies: list[bytes] | None, connections: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = n
        mine, bad = [], 0
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                if bodies is None:
                    conn.request("GET", path)
                else:
                    conn.request("POST", path, body=bodies[i % len(bodies)], headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    bad += 1
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append((time.perf_counter() - started) * 1000)
            i += connections
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=client, args=(n,)) for n in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    return {"requests": len(latencies), "rps": len(latencies) / seconds, "errors": errors[0],
            "p50": latencies[len(latencies) // 2], "p95": latencies[int(len(latencies) * 0.95)]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--corpus", type=Path, default=MEDQUAD / "corpus")
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "IVIG_BOT_INDEX_CACHE": cache, "IVIG_BOT_LOG_LEVEL": "WARNING"}
        server = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--corpus", str(args.corpus), "--synonyms",
                                   str(ROOT / "corpus" / "synonyms.txt"), "--port", str(port), "--workers", "2"],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        sys.exit("server did not start")
                    time.sleep(0.5)
            bodies = [json.dumps({"message": c["question"]}).encode() for c in medquad_questions("test")[:2000]]
            run(port, "/healthz", None, 8, 2)  # warm-up
            health = run(port, "/healthz", None, args.connections, args.seconds)
            chat = run(port, "/api/chat", bodies, args.connections, args.seconds)
        finally:
            server.terminate()
            server.wait(timeout=30)
    for name, r in [("/healthz", health), ("/api/chat", chat)]:
        print(f"{name:10} {r['requests']:6d} requests  {r['rps']:7.1f} req/s  p50 {r['p50']:6.1f} ms  "
              f"p95 {r['p95']:6.1f} ms  errors {r['errors']}")
    print(f"/api/chat p50 / /healthz p50 = {chat['p50'] / health['p50']:.2f}x; "
          f"throughput ratio {health['rps'] / chat['rps']:.2f}x")


if __name__ == "__main__":
    main()
