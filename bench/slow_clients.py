"""Bounded slow-client test on loopback: do patients still get answers while the server is
held open by slow and idle connections?

Starts `python -m bot serve` on the built-in corpus (2 gevent workers, IVIG_BOT_RATE_LIMIT=off,
a temporary state directory), measures normal /api/chat clients alone for a few seconds, then
opens 200 slow-header connections (a partial request, one more byte a second), 200 slow-body
connections (full headers, Content-Length 1000, one body byte a second) and 1,000 idle
connections, reconnecting each one the server drops, and meanwhile runs the normal clients
again. Prints, for each phase, the normal clients' request count, p50/p99 latency and errors,
and how often the server dropped the slow and idle connections. Only 127.0.0.1 is contacted.

Usage: .venv/bin/python bench/slow_clients.py [--seconds 20] [--baseline-seconds 10] [--patients 4]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
QUESTIONS = ["what are IVIG headaches like", "how much does IVIG cost", "how long does an infusion take",
             "can I drive after my infusion", "what are the side effects of IVIG", "hello"]
SLOW_HEADER = b"GET /healthz HTTP/1.1\r\nHost: bench\r\nX-Slow: "
SLOW_BODY = b"POST /api/chat HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(port: int, tmp: Path) -> subprocess.Popen:
    env = {**os.environ, "PORT": str(port), "IVIG_BOT_WORKERS": "2", "IVIG_BOT_RATE_LIMIT": "off",
           "IVIG_BOT_STATE_DIR": str(tmp / "state"), "HOME": str(tmp), "XDG_RUNTIME_DIR": str(tmp)}
    log = (tmp / "server.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=env, cwd=ROOT, stdout=log,
                               stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=1)
            return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                sys.exit("server did not start:\n" + (tmp / "server.log").read_text(errors="replace"))
            time.sleep(0.3)


async def hold(port: int, kind: str, prefix: bytes | None, stop: asyncio.Event, stats: Counter) -> None:
    """Keep one connection of this kind open until `stop`, reconnecting whenever the server drops it."""
    while not stop.is_set():
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), 10)
        except (OSError, asyncio.TimeoutError):
            stats[f"{kind} connect errors"] += 1
            await asyncio.sleep(0.5)
            continue
        stats[f"{kind} connections opened"] += 1
        closed = asyncio.ensure_future(reader.read())  # done when the server answers or closes
        try:
            if prefix is not None:
                writer.write(prefix)
            while not stop.is_set():
                done, _ = await asyncio.wait({closed}, timeout=1.0)
                if done:
                    stats[f"{kind} dropped by the server"] += 1
                    break
                if prefix is not None:
                    writer.write(b"a")
                    await writer.drain()
        except OSError:
            stats[f"{kind} dropped by the server"] += 1
        finally:
            closed.cancel()
            writer.close()


async def patient(port: int, number: int, stop: asyncio.Event, latencies: list[float], errors: Counter) -> None:
    """A normal client: one question per connection, as a browser behind a proxy might send it."""
    i = number
    while not stop.is_set():
        body = json.dumps({"message": QUESTIONS[i % len(QUESTIONS)]}).encode()
        i += 1
        request = (b"POST /api/chat HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nConnection: close\r\n"
                   b"Content-Length: %d\r\n\r\n" % len(body)) + body
        started = time.perf_counter()
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), 10)
            writer.write(request)
            reply = await asyncio.wait_for(reader.read(), 30)
            writer.close()
            status = int(reply.split(b" ", 2)[1])
            if status != 200:
                errors[f"HTTP {status}"] += 1
        except (OSError, asyncio.TimeoutError, ValueError, IndexError) as error:
            errors[type(error).__name__] += 1
        latencies.append((time.perf_counter() - started) * 1000)


async def phase(port: int, seconds: float, patients: int, attackers: dict[str, tuple[int, bytes | None]]) -> dict:
    stop = asyncio.Event()
    stats: Counter = Counter()
    holders = []
    for kind, (count, prefix) in attackers.items():
        for _ in range(count):
            holders.append(asyncio.ensure_future(hold(port, kind, prefix, stop, stats)))
            await asyncio.sleep(0.002)  # no connect storm: the backlog is not what is measured
    if attackers:
        await asyncio.sleep(2)
    latencies: list[float] = []
    errors: Counter = Counter()
    clients = [asyncio.ensure_future(patient(port, n, stop, latencies, errors)) for n in range(patients)]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*clients, *holders)
    latencies.sort()
    pick = (lambda q: latencies[min(len(latencies) - 1, int(len(latencies) * q))]) if latencies else (lambda q: float("nan"))
    return {"requests": len(latencies), "p50": pick(0.5), "p99": pick(0.99), "errors": dict(errors), "stats": dict(stats)}


def report(name: str, result: dict, seconds: float) -> None:
    print(f"{name}: {result['requests']} normal /api/chat requests in {seconds:.0f} s "
          f"({result['requests'] / seconds:.1f}/s), p50 {result['p50']:.0f} ms, p99 {result['p99']:.0f} ms, "
          f"errors {sum(result['errors'].values())} {result['errors'] or ''}".rstrip())
    for key, value in sorted(result["stats"].items()):
        print(f"    {key}: {value}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--baseline-seconds", type=float, default=10)
    parser.add_argument("--patients", type=int, default=4, help="concurrent normal clients")
    parser.add_argument("--slow-headers", type=int, default=200)
    parser.add_argument("--slow-bodies", type=int, default=200)
    parser.add_argument("--idle", type=int, default=1000)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # 1,400 sockets on this side too
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(port, Path(tmp))
        try:
            print(f"server: python -m bot serve, 2 gevent workers, port {port}; {args.patients} normal clients")
            baseline = asyncio.run(phase(port, args.baseline_seconds, args.patients, {}))
            report("alone", baseline, args.baseline_seconds)
            attackers = {"slow-header": (args.slow_headers, SLOW_HEADER), "slow-body": (args.slow_bodies, SLOW_BODY),
                         "idle": (args.idle, None)}
            loaded = asyncio.run(phase(port, args.seconds, args.patients, attackers))
            report(f"with {args.slow_headers} slow-header, {args.slow_bodies} slow-body and {args.idle} idle connections",
                   loaded, args.seconds)
            rejected = sum(1 for line in (Path(tmp) / "server.log").read_text(errors="replace").splitlines()
                           if "rejected a request" in line)
            print(f"server log: {rejected} 'rejected a request' lines (slow bodies answered 408)")
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


if __name__ == "__main__":
    main()
