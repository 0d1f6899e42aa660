"""What a command and every process it starts used: CPU time and the largest peak RSS.

`resource.getrusage(RUSAGE_CHILDREN)` counts only the processes that were waited for,
each by its parent. A process whose parent dies first is lost to it: Chromium's
renderer (forked by its zygote) ends with the browser when the print is done, and
without the reaping below a build's figures left out the renderer's whole CPU time
(about 70 s of the 300-page book's print) and its memory. So the command runs under
a fresh wrapper that is a child subreaper (Linux `prctl`): such orphans come back to
it, it reaps them, and then reads its RUSAGE_CHILDREN.

    code, cpu, max_rss = run_wrapped(command, cwd)  # or WRAPPER in a Popen of your own
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

WRAPPER = """
import ctypes, json, os, resource, subprocess, sys, time
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
code = subprocess.run(sys.argv[2:]).returncode
deadline = time.monotonic() + 30  # the orphans still ending (Chromium's helpers)
while True:
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        break
    if pid == 0:
        if time.monotonic() > deadline:
            print("usage: processes left running; their use is not counted", file=sys.stderr)
            break
        time.sleep(0.05)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as f:
    json.dump([code, u.ru_utime + u.ru_stime, u.ru_maxrss * 1024], f)
sys.exit(code)
"""


def wrapped(report: Path, command: list[str]) -> list[str]:
    """The command line that runs `command` under the wrapper, which writes
    `[exit code, CPU seconds, largest peak RSS in bytes]` as JSON to `report`."""
    return [sys.executable, "-c", WRAPPER, str(report), *command]


def read_report(report: Path) -> tuple[int, float, int]:
    code, cpu, max_rss = json.loads(report.read_text())
    report.unlink()
    return int(code), float(cpu), int(max_rss)


def report_file() -> Path:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        return Path(handle.name)


def run_wrapped(
    command: list[str], cwd: Path
) -> tuple[subprocess.CompletedProcess[str], float, int]:
    """Run `command` in `cwd` (output captured); the result, its CPU seconds and peak RSS."""
    report = report_file()
    result = subprocess.run(wrapped(report, command), cwd=cwd, capture_output=True, text=True)
    _code, cpu, max_rss = read_report(report)
    return result, cpu, max_rss
