"""Helpers for tests that start real processes: free ports, redis-server, `ivig-bot serve`, nginx.

Imported by test modules as `from processes import ...`, the way they import conftest: tests/ is
not a package, and pytest puts it on sys.path. A missing program skips the test with the Debian
package that provides it; a program that does not start fails it with the end of its log.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence

import pytest

ROOT = Path(__file__).parent.parent
NGINX = "/usr/sbin/nginx"
REDIS_SERVER = "/usr/bin/redis-server"
# Loading and indexing the corpus takes tens of seconds on a small, busy machine.
SERVE_TIMEOUT = 240


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def installed(name: str, usual_path: str) -> str | None:
    """The program's path: on PATH, or where Debian puts it (/usr/sbin is not on every PATH)."""
    return shutil.which(name) or (usual_path if Path(usual_path).exists() else None)


def program(name: str, usual_path: str, package: str, untested: str) -> str:
    """The program's path, or skip: `untested` says what cannot be tested without it."""
    found = installed(name, usual_path)
    if found is None:
        pytest.skip(f"{name} is not installed (Debian package {package}); {untested} not tested")
    return found


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"({path} was not written)"


def wait_until(ready: Callable[[], bool], process: subprocess.Popen, timeout: float, what: str,
               log: Path | None) -> None:
    """Poll `ready` until it is true; fail if the process exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            exited = process.poll() is not None
            state = f"exited with {process.returncode}" if exited else f"was not ready after {timeout:.0f} s"
            process.kill()
            pytest.fail(f"{what} {state}" + (f"; the end of {log}:\n{tail(log)}" if log else ""))
        time.sleep(0.1)


def stop(process: subprocess.Popen, group: bool = False) -> None:
    """SIGTERM (to the whole process group if asked), then SIGKILL if it does not end."""
    send = (lambda sig: os.killpg(process.pid, sig)) if group else process.send_signal
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        if process.poll() is not None:
            break
        try:
            send(sig)
            process.wait(timeout=wait)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    if group:  # the master may be gone while a worker lingers
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# -- redis-server --------------------------------------------------------------------------------
def redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def redis_server(directory: Path, untested: str) -> Iterator[str]:
    """A throwaway redis-server on loopback, keeping nothing on disk; yields its URL."""
    binary = program("redis-server", REDIS_SERVER, "redis-server", untested)
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                "--dir", str(directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: redis_answers(port), process, 20, "redis-server", None)
        yield f"redis://127.0.0.1:{port}"
    finally:
        stop(process)


# -- ivig-bot serve ------------------------------------------------------------------------------
@dataclass
class Replica:
    """A running `ivig-bot serve`: gunicorn's master and its workers, in a process group of their own."""
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def address(self) -> str:
        """As nginx names it in $upstream_addr."""
        return f"127.0.0.1:{self.port}"

    def kill(self) -> None:
        """SIGKILL to master and workers at once: a crash, with no graceful shutdown."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def healthy(self) -> bool:
        return answers_health(self.url)


def answers_health(url: str) -> bool:
    """Whether an ivig-bot server at `url` answers GET /healthz with 200."""
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def server_env(overrides: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any ivig-bot setting of the developer's, plus `overrides`."""
    inherited = {k: v for k, v in os.environ.items()
                 if not k.startswith("IVIG_BOT_") and k not in ("PORT", "FORWARDED_ALLOW_IPS")}
    return {**inherited, **overrides}


def start_replica(port: int, env: Mapping[str, str], log: Path, workers: int = 1) -> Replica:
    with log.open("wb") as out:
        # A session of its own, so the test can kill master and workers together.
        command = [sys.executable, "-m", "bot", "serve", "--port", str(port), "--workers", str(workers)]
        process = subprocess.Popen(command, env=server_env(env), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    return Replica(port, process, log)


@contextmanager
def ivig_bot_replicas(envs: Sequence[Mapping[str, str]], directory: Path, workers: int = 1) -> Iterator[list[Replica]]:
    """Start one `ivig-bot serve` per environment, all at once (each builds its index meanwhile),
    and yield them once every one answers GET /healthz with 200. Logs: directory/replica-N.log."""
    with ExitStack() as stack:
        replicas = []
        for number, env in enumerate(envs, start=1):
            replica = start_replica(free_port(), env, directory / f"replica-{number}.log", workers)
            stack.callback(stop, replica.process, group=True)
            replicas.append(replica)
        for replica in replicas:
            wait_until(replica.healthy, replica.process, SERVE_TIMEOUT, f"ivig-bot serve on port {replica.port}",
                       replica.log)
        yield replicas


# -- nginx ---------------------------------------------------------------------------------------
def nginx_binary(untested: str) -> str:
    return program("nginx", NGINX, "nginx", untested)


def main_conf(prefix: Path, http_body: str) -> str:
    """A whole nginx.conf around `http_body`, keeping every file nginx writes inside `prefix`.

    As root, nginx's workers would drop to `nobody`, who cannot enter pytest's 0700 temporary
    directories: there they stay root (which is only a test's wrapper, never the shipped site).
    """
    temp_paths = "".join(f"    {kind}_temp_path {prefix / kind};\n"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (f"{user}worker_processes 1;\ndaemon off;\npid {prefix / 'nginx.pid'};\n"
            f"error_log {prefix / 'error.log'} warn;\nevents {{ worker_connections 512; }}\n"
            f"http {{\n{temp_paths}{http_body}}}\n")


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def nginx(binary: str, conf: Path, prefix: Path, port: int) -> Iterator[subprocess.Popen]:
    """nginx in the foreground with `conf`, ready once `port` accepts connections."""
    log = prefix / "error.log"
    with log.open("ab") as errors:
        process = subprocess.Popen([binary, "-p", str(prefix), "-e", str(log), "-c", str(conf)],
                                   stdout=subprocess.DEVNULL, stderr=errors)
    try:
        wait_until(lambda: accepts(port), process, 20, "nginx", log)
        yield process
    finally:
        stop(process)
