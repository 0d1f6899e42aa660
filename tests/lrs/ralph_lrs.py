"""Ralph, a real LRS, on 127.0.0.1 with its file-system backend, for the cmi5 tests.

It runs from its own venv, `tests/lrs/.venv` (made by `make test` from
`tests/lrs/requirements.txt`). `ralph auth` writes one Basic-auth user; uvicorn
serves `ralph_app:app` (Ralph's app with the fs backend appending, see there)
directly: `ralph runserver` would reload on file changes. Port 0: uvicorn picks a
free port and says which in its log.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
USER, PASSWORD = "coursekit-lms", "not-a-secret"
RUNNING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


@dataclass(frozen=True)
class Ralph:
    url: str  # http://127.0.0.1:PORT (its xAPI is under /xAPI/)

    @property
    def auth_token(self) -> str:
        """The Basic credentials, base64 as a cmi5 fetch URL hands them to the AU."""
        return base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    def statements(self, registration: str) -> list[dict]:
        """Every statement stored for `registration`, in the order Ralph stored them."""
        found: list[dict] = []
        more = f"/xAPI/statements?registration={registration}&limit=500"
        while more:
            request = urllib.request.Request(
                self.url + more,
                headers={
                    "Authorization": f"Basic {self.auth_token}",
                    "X-Experience-API-Version": "1.0.3",
                },
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                page = json.load(response)
            found += page["statements"]
            more = page.get("more") or ""
        return sorted(found, key=lambda s: s["stored"])


def require_ralph() -> None:
    """Skip (or fail, under COURSEKIT_REQUIRE_BROWSER) when tests/lrs/.venv is missing."""
    if (VENV / ".installed").is_file():
        return
    message = f"{VENV} is missing: run `make tests/lrs/.venv/.installed` (or `make test`)"
    if os.environ.get("COURSEKIT_REQUIRE_BROWSER"):
        pytest.fail(message)
    pytest.skip(message)


def _env(home: Path) -> dict[str, str]:
    data = home / "statements"
    data.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "RALPH_APP_DIR": str(home / "app"),
        "RALPH_AUTH_FILE": str(home / "auth.json"),
        # The backend setting is read by `ralph auth` too: without it, it wants Elasticsearch.
        "RALPH_RUNSERVER_BACKEND": "fs",
        "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(data),
    }


@contextmanager
def run_ralph(home: Path) -> Iterator[Ralph]:
    """Ralph on 127.0.0.1 (a free port) storing into `home`, for the block."""
    require_ralph()
    env = _env(home)
    subprocess.run(
        [str(VENV / "bin" / "ralph"), "auth", "-u", USER, "-p", PASSWORD, "-s", "all"]
        + ["-M", "mailto:lms@example.org", "-w"],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    log = (home / "uvicorn.log").open("w+b")
    server = subprocess.Popen(
        [str(VENV / "bin" / "python"), "-m", "uvicorn", "ralph_app:app"]
        + ["--host", "127.0.0.1", "--port", "0", "--app-dir", str(HERE)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield Ralph(_wait_running(server, home / "uvicorn.log"))
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _wait_running(server: subprocess.Popen[bytes], log: Path) -> str:
    """The URL once Ralph answers its heartbeat (uvicorn logs the port it bound)."""
    deadline = time.monotonic() + 60
    url = ""
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"Ralph exited ({server.returncode}):\n{log.read_text()[-3000:]}")
        found = RUNNING.search(log.read_text(errors="replace"))
        if found and not url:
            url = f"http://127.0.0.1:{found.group(1)}"
        if url:
            try:
                with urllib.request.urlopen(url + "/__heartbeat__", timeout=5):
                    return url
            except (urllib.error.URLError, ConnectionError):
                pass
        time.sleep(0.2)
    pytest.fail(f"Ralph did not start within 60 s:\n{log.read_text()[-3000:]}")
