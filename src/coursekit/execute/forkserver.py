"""Warm kernels: each notebook in a fresh kernel, without paying the kernel's imports each time.

A Python kernel spends about a second of CPU before its first cell: importing ipykernel
and IPython, then pandas, numpy or matplotlib again in every notebook. A fork server, a
*template* process (`forkserver_main.py`, run in the kernel's own Python), imports them
once and forks a child for each run. The child is a fresh process, like a kernel started
from scratch: nothing one notebook does reaches another, since each starts from the
template as it was before any notebook ran.

Only a few libraries, known to change nothing visible when imported, are loaded ahead
(`PRELOADABLE`), and only those the notebooks themselves import. A kernelspec that is
not `python -m ipykernel_launcher`, a folder with its own `matplotlibrc`, or a template
that fails falls back to the usual start.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

from coursekit.execute.processes import stat_fields

# Libraries whose import has no effect a notebook could see (beyond `sys.modules`).
PRELOADABLE = frozenset(
    {
        "numpy",
        "pandas",
        "matplotlib",
        "matplotlib.pyplot",
        "scipy",
        "scipy.stats",
        "scipy.optimize",
        "networkx",
        "sympy",
    }
)
LAUNCHERS = ("ipykernel_launcher", "ipykernel")
_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+([\w.]+)[ \t]+import[ \t]+([\w \t,()]+)|import[ \t]+([\w., \t]+))", re.M
)
_SCRIPT = Path(__file__).with_name("forkserver_main.py")


def imports_of(nb: Mapping[str, Any]) -> list[str]:
    """The modules of `PRELOADABLE` that the code cells of `nb` import, parents first."""
    found: set[str] = set()
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        for module, names, plain in _IMPORT.findall(source):
            if module:
                found.add(module)
                imported = [n.split()[0] for n in re.split(r"[,()]", names) if n.strip()]
                found.update(f"{module}.{n}" for n in imported)
            found.update(n.split()[0] for n in plain.split(",") if n.strip())
    with_parents = {".".join(m.split(".")[:i]) for m in found for i in range(1, m.count(".") + 2)}
    return sorted(with_parents & PRELOADABLE, key=lambda m: (m.count("."), m))


class ForkedKernel:
    """A kernel forked by a template: what jupyter_client asks of its `Popen`."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._born = _start_time(pid)

    def poll(self) -> int | None:
        if self.returncode is None and _start_time(self.pid) != self._born:
            self.returncode = 0  # gone (the template reaped it), or a new process with its pid
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.02)
        return self.returncode or 0

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            with suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


def _start_time(pid: int) -> bytes | None:
    """When `pid` started (None once it is gone or a zombie): tells a reused pid apart."""
    fields = stat_fields(pid)
    return None if len(fields) < 20 or fields[0] in (b"Z", b"X") else fields[19]


class ForkServer:
    """One fork server (a template kernel process), for one Python and one environment."""

    def __init__(self, python: str, env: Mapping[str, str]) -> None:
        self.lock = threading.Lock()
        self.process = subprocess.Popen(
            [python, "-c", _SCRIPT.read_text(encoding="utf-8")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # ipykernel reads JPY_PARENT_PID when imported: the kernels' parent is this process.
            env={**env, "JPY_PARENT_PID": str(os.getpid())},
            cwd="/",
            text=True,
        )

    def spawn(
        self, argv: list[str], cwd: str, env: Mapping[str, str], preload: list[str], niceness: int
    ) -> int:
        """A kernel started as `python -m ipykernel_launcher ARGV` in `cwd`; its pid, 0 if none."""
        request = {
            "argv": argv,
            "cwd": cwd,
            "env": dict(env),
            "preload": preload,
            "niceness": niceness,
        }
        with self.lock:
            stdin, stdout = self.process.stdin, self.process.stdout
            assert stdin is not None and stdout is not None
            try:
                stdin.write(json.dumps(request) + "\n")
                stdin.flush()
                answer = json.loads(stdout.readline() or "{}")
            except (OSError, ValueError):
                return 0
        return int(answer.get("pid") or 0)

    def close(self) -> None:
        """Let the template end (its stdin closes) and reap it, so its CPU time is counted;
        then close our end of its replies (left open, it is an unclosed-file warning)."""
        stdin: IO[str] | None = self.process.stdin
        with suppress(OSError):
            if stdin is not None:
                stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


_TEMPLATES: dict[tuple[str, tuple[tuple[str, str], ...]], ForkServer | None] = {}
_LOCK = threading.Lock()


def usable(cmd: list[str]) -> bool:
    """Whether `cmd` starts a kernel the usual way: `python -m ipykernel_launcher ...`."""
    return len(cmd) > 3 and cmd[1] == "-m" and cmd[2] in LAUNCHERS and os.path.isabs(cmd[0])


def spawn(
    cmd: list[str], cwd: str, env: Mapping[str, str], preload: Iterable[str], niceness: int = 0
) -> int:
    """Fork the kernel `cmd` from a template for its Python and `env`, `niceness` steps nicer
    (in its own session's autogroup too); 0: start it as usual."""
    if not usable(cmd) or os.environ.get("COURSEKIT_WARM_KERNELS") == "0":
        return 0
    preload = list(preload)
    if any(m.startswith("matplotlib") for m in preload) and Path(cwd, "matplotlibrc").exists():
        return 0  # matplotlib reads a matplotlibrc in the working folder when imported
    # JPY_* names the process that started the kernel: each run has its own.
    key = (cmd[0], tuple(sorted((k, v) for k, v in env.items() if not k.startswith("JPY_"))))
    with _LOCK:
        if key not in _TEMPLATES:
            try:
                _TEMPLATES[key] = ForkServer(cmd[0], dict(key[1]))
            except OSError:
                _TEMPLATES[key] = None
        template = _TEMPLATES[key]
    return template.spawn(cmd[3:], cwd, env, preload, niceness) if template else 0


def pids() -> frozenset[int]:
    """The templates' pids: children of ours that are not orphans of a notebook."""
    with _LOCK:
        return frozenset(t.process.pid for t in _TEMPLATES.values() if t is not None)


def close_all() -> None:
    """End every template (at exit, or when a stage has run its notebooks)."""
    with _LOCK:
        templates = [t for t in _TEMPLATES.values() if t is not None]
        _TEMPLATES.clear()
    for template in templates:
        template.close()


atexit.register(close_all)
