"""A real LMS for the SCORM tests: the Open edX SCORM XBlock in the XBlock SDK workbench.

The workbench (Django 4.2) runs in its own venv, `tests/openedx/.venv`, made by `make test`
from the pinned `tests/openedx/requirements.txt` (its boto3 needs python-dateutil < 3,
the course tools pin 4.0). `Workbench` starts it on 127.0.0.1 with a temporary
database and storage; `cksite/` holds its settings and scenarios (`ck-0` … one
SCORM block each). The tests upload packages as the XBlock's studio form does,
drive the block's student view in Chromium and read what the XBlock stored
straight from the workbench's database.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pytest

HERE = Path(__file__).resolve().parent
PYTHON = HERE / ".venv" / "bin" / "python"
SCENARIOS = 12  # blocks the workbench offers, ck-0 … ck-11


def require_openedx() -> None:
    """Skip (or fail, under COURSEKIT_REQUIRE_BROWSER) when the workbench venv is missing."""
    if PYTHON.is_file():
        return
    message = f"{PYTHON} is missing: run `make test` (it creates tests/openedx/.venv)"
    if os.environ.get("COURSEKIT_REQUIRE_BROWSER"):
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stored:
    """What the SCORM XBlock keeps for one learner in one block."""

    lesson_status: str  # the XBlock's completion: "not attempted", "incomplete", "completed"
    success_status: str  # "unknown", "passed", "failed"
    lesson_score: float  # 0–1
    data: dict  # scorm_data: every cmi element the SCO set, as the XBlock hands it back


class Workbench:
    """The workbench server, started for the test session and stopped at its end."""

    def __init__(self, var: Path) -> None:
        self.var = var
        self.env = {
            **os.environ,
            "CK_OPENEDX_VAR": str(var),
            "CK_OPENEDX_SCENARIOS": str(SCENARIOS),
            "DJANGO_SETTINGS_MODULE": "cksite.settings",
            "PYTHONPATH": str(HERE),
        }
        self.base = ""
        self.process: subprocess.Popen[bytes] | None = None
        self._log: BinaryIO | None = None

    def start(self) -> None:
        subprocess.run(
            [str(PYTHON), "-m", "django", "migrate", "--run-syncdb", "--skip-checks", "-v0"],
            env=self.env,
            check=True,
            capture_output=True,
            timeout=300,
        )
        port = _free_port()
        self._log = (self.var / "server.log").open("wb")
        # One request at a time: the workbench keeps all of a learner's fields in one
        # JSON row, rewritten by every request, so two at once can lose an update
        # (seen once while writing these tests: a status written meanwhile vanished).
        command = ["runserver", "--noreload", "--nothreading", f"127.0.0.1:{port}"]
        self.process = subprocess.Popen(
            [str(PYTHON), "-m", "django", *command],
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the workbench stopped:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.base}/scenario/ck-0/", timeout=10):
                    return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"the workbench did not answer within 120 s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)
        if self._log is not None:
            self._log.close()

    def log(self) -> str:
        path = self.var / "server.log"
        return path.read_text(errors="replace")[-5000:] if path.exists() else ""

    def url(self, scenario: str, student: str) -> str:
        """The block's student view, as the learner `student` sees it."""
        return f"{self.base}/scenario/{scenario}/?student={student}"

    def upload(self, page, scenario: str, zip_path: Path) -> None:  # type: ignore[no-untyped-def]
        """Import `zip_path` into the block, as the XBlock's studio form posts it."""
        page.goto(self.url(scenario, "author"))
        usage = page.get_attribute("[data-usage]", "data-usage")
        token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
        response = page.request.post(
            f"{self.base}/handler/{usage}/studio_submit/?student=author",
            headers={"X-CSRFToken": token},
            multipart={
                "display_name": zip_path.stem,
                "width": "",
                "height": "700",
                "has_score": "1",
                "enable_navigation_menu": "1",
                "enable_fullscreen_button": "0",
                "navigation_menu_width": "",
                "weight": "1",
                "popup_on_launch": "0",
                "file": {
                    "name": zip_path.name,
                    "mimeType": "application/zip",
                    "buffer": zip_path.read_bytes(),
                },
            },
            timeout=180_000,
        )
        result = response.json() if response.ok else {"errors": [response.status]}
        assert result.get("errors") == [], f"upload of {zip_path.name}: {result}\n{self.log()}"

    def stored(self, scenario: str, student: str) -> Stored:
        """The XBlock's user_state for `student` in the block of `scenario`."""
        with sqlite3.connect(self.var / "workbench.db") as db:
            rows = db.execute(
                "SELECT state FROM workbench_xblockstate WHERE scope = 'usage'"
                " AND user_id = ? AND scenario = ?",
                (student, _slug(scenario)),
            ).fetchall()
        state: dict = {}
        for (text,) in rows:
            state.update(json.loads(text))
        return Stored(
            state.get("lesson_status", "not attempted"),
            state.get("success_status", "unknown"),
            float(state.get("lesson_score", 0)),
            state.get("scorm_data", {}),
        )


def _slug(scenario: str) -> str:
    """The workbench's scenario slug: its description, slugified (see cksite/urls.py)."""
    return f"coursekit-scorm-{scenario.removeprefix('ck-')}"
