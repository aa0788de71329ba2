"""Start-up time and memory at library scale: `ivig-bot serve` on MedQuAD's 5,483 documents.

    .venv/bin/python bench/startup.py [--workers 2] [--starts 3]

First start fills an empty index cache (the cold build); then the server is started `--starts`
times on the warm cache. For each start it reports the load time the server logs (the English
dictionary and embedding, then the corpus: index, embeddings, spelling dictionaries, learned
nets; what the cache speeds up), the time from
launching the process to the first answered /healthz (Python's imports included), and, after
500 questions, each process's RSS and PSS. PSS (proportional set size) charges a page shared
by n processes 1/n to each, so it shows what the copy-on-write sharing of the preloaded index
saves; RSS counts shared pages in full in every process.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from evaluate import MEDQUAD, medquad_questions  # noqa: E402

MODELS = re.compile(r"loaded the English dictionary and the embedding in ([\d.]+) s")
LOADED = re.compile(r"loaded (\d+) documents, (\d+) passages in ([\d.]+) s \(index (from the cache|built)\)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in kB, from the kernel's summary of the process's mappings."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0])
    return fields["Rss"], fields["Pss"]


def children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(p) for p in found]


def start(cache: str, workers: int, log: Path) -> dict:
    port = free_port()
    env = {**os.environ, "IVIG_BOT_INDEX_CACHE": cache, "IVIG_BOT_RATE_LIMIT": "off", "IVIG_BOT_INSIGHTS": "off",
           "IVIG_BOT_STATE_DIR": str(Path(cache).parent / "state")}
    launched = time.perf_counter()
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--corpus", str(MEDQUAD / "corpus"), "--port",
                                   str(port), "--workers", str(workers)], cwd=ROOT, env=env, stdout=out,
                                  stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2):
                    break
            except OSError:
                if server.poll() is not None:
                    sys.exit(f"server exited: {log.read_text()[-2000:]}")
                time.sleep(0.05)
        ready = time.perf_counter() - launched
        for case in medquad_questions("test")[:500]:
            request = urllib.request.Request(url + "/api/chat", data=json.dumps({"message": case["question"]}).encode(),
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
        master = memory_kb(server.pid)
        workers_memory = [memory_kb(pid) for pid in children(server.pid)]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    match, models = LOADED.search(log.read_text()), MODELS.search(log.read_text())
    return {"load_s": float(match.group(3)) + float(models.group(1)), "how": match.group(4), "ready_s": ready, "master": master,
            "workers": workers_memory}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--starts", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        cache, log = str(Path(work) / "cache"), Path(work) / "serve.log"
        runs = [("cold", start(cache, args.workers, log))]
        runs += [(f"warm {n}", start(cache, args.workers, log)) for n in range(1, args.starts + 1)]
    print("| start | corpus load (logged) | launch to first /healthz | master RSS / PSS | each worker RSS / PSS |")
    print("|---|---|---|---|---|")
    for name, r in runs:
        mb = lambda kb: f"{kb / 1024:.0f}"  # noqa: E731
        workers = "; ".join(f"{mb(rss)} / {mb(pss)} MB" for rss, pss in r["workers"])
        print(f"| {name} ({r['how']}) | {r['load_s']:.2f} s | {r['ready_s']:.2f} s | "
              f"{mb(r['master'][0])} / {mb(r['master'][1])} MB | {workers} |")


if __name__ == "__main__":
    main()
