"""The wheel a clinic's IT team installs: it carries the built-in corpus and the widget, and the
installed `ivig-bot serve` works from any directory.

The wheel is built from a copy of the source (no build isolation: nothing is downloaded) and
installed without dependencies into a fresh venv that borrows this venv's installed libraries,
so the test stays offline.
"""
from __future__ import annotations

import gzip
import json
import shutil
import site
import subprocess
import sys
import urllib.request
import venv
from pathlib import Path

import pytest

from processes import ROOT, answers_health, free_port, server_env, stop, wait_until

LEFT_OUT = shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
                                  "test-artifacts", ".index-cache", "tests", "bench")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin directory of a fresh venv with only the wheel installed."""
    work = tmp_path_factory.mktemp("package")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=LEFT_OUT)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(work / "dist"), str(source)], capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (work / "dist").glob("ivig_bot-*.whl")
    env_dir = work / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # The libraries come from this venv; `bot` itself only from the wheel (this venv's editable
    # install is a .pth file, which a path listed in another .pth does not run).
    Path(purelib, "borrowed.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    install = subprocess.run([python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
                             capture_output=True, text=True)
    assert install.returncode == 0, install.stdout + install.stderr
    return env_dir / "bin"


def test_the_wheel_carries_the_corpus_and_the_web_files(installed):
    where = subprocess.run([installed / "python", "-c", "import bot.config as c; print(c.DEFAULT_CORPUS); print(c.DEFAULT_WEB_DIR)"],
                           capture_output=True, text=True, check=True, cwd="/").stdout.split()
    assert all("site-packages" in path for path in where), where
    corpus, web = map(Path, where)
    assert sorted(p.name for p in corpus.glob("*.md")) == sorted(p.name for p in (ROOT / "corpus").glob("*.md"))
    assert (web / "widget.js").read_bytes() == (ROOT / "web" / "widget.js").read_bytes()


def test_version_from_the_installed_command(installed):
    result = subprocess.run([installed / "ivig-bot", "--version"], capture_output=True, text=True, cwd="/")
    assert result.returncode == 0 and result.stdout.startswith("ivig-bot ")


def test_the_installed_server_works_from_another_directory(installed, tmp_path):
    port = free_port()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    log = tmp_path / "serve.log"
    env = server_env({"IVIG_BOT_STATE_DIR": str(tmp_path / "state"), "IVIG_BOT_RATE_LIMIT": "off"})
    with log.open("wb") as out:
        process = subprocess.Popen([installed / "ivig-bot", "serve", "--port", str(port), "--workers", "1"], cwd=elsewhere,
                                   env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: answers_health(url), process, 240, "the installed ivig-bot serve", log)
        with urllib.request.urlopen(url + "/widget.js", timeout=10) as response:
            assert response.read() == (ROOT / "web" / "widget.js").read_bytes()
        request = urllib.request.Request(url + "/api/chat", data=json.dumps({"message": "how long does an infusion take"}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.loads(response.read())
        assert body["kind"] == "answer" and "Infusions may last" in " ".join(p["text"] for p in body["passages"])
    finally:
        stop(process, group=True)


def test_the_widget_stays_within_its_size_budget():
    """Issue 13: widget.js and widget.css together at most 8 KB (8,192 bytes) gzipped, as `gzip`
    compresses by default (level 6), so clinic pages stay light on phones."""
    web = Path(__file__).resolve().parent.parent / "web"
    size = sum(len(gzip.compress((web / name).read_bytes(), compresslevel=6)) for name in ("widget.js", "widget.css"))
    assert size <= 8192, size
