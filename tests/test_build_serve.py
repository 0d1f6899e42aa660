"""`coursekit serve`: the book on localhost, rebuilt after an edit."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from coursebuilder import make_course


def _read_until(process: subprocess.Popen[str], pattern: str, timeout: float = 90) -> str:
    assert process.stderr is not None
    deadline, seen = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line and process.poll() is not None:
            break
        seen += line
        match = re.search(pattern, line)
        if match:
            return match.group(0)
    process.kill()
    raise AssertionError(f"serve never printed {pattern!r}:\n{seen}")


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode("utf-8")


def test_serve_shows_the_book_and_rebuilds_after_an_edit(tmp_path: Path) -> None:
    root = make_course(tmp_path, {"alpha": ("print('hello')",)})
    serve = subprocess.Popen(
        [sys.executable, "-m", "coursekit", "serve", str(root), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = _read_until(serve, r"http://127\.0\.0\.1:\d+/")
        assert "The demo module." in _get(url + "modules/01-demo/overview.html")
        overview = root / "modules/01-demo/overview.md"
        overview.write_text("# Demo\n\nEdited while serving.\n", encoding="utf-8")
        _read_until(serve, r"rebuilt; reload the page")
        assert "Edited while serving." in _get(url + "modules/01-demo/overview.html")
    finally:
        serve.send_signal(signal.SIGINT)
        serve.communicate(timeout=30)
    assert serve.returncode == 130
