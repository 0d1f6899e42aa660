"""The sandboxed back-end of grading: one job per submission, two processes, limits,
and everything it started killed afterwards.

A job is two processes that talk over a pair of pipes:

- the **harness** (`coursekit.exercises.harness`) runs the submission's code, in a
  fresh private folder, shut in by bubblewrap;
- the **tester** (`coursekit.exercises.tester`) runs the course's tests, outside the
  sandbox, undumpable, started first; it asks the harness for the values the tests
  use and gets data back (`coursekit.exercises.wire`). Verdicts come only from the
  tester: no code of the submission runs in it, and the harness holds no secret.

The harness is shut in by **bwrap** (bubblewrap, Debian package `bubblewrap`): its
own mount, pid, network, IPC and user namespaces, no capabilities, the Python
installation read-only, an empty /tmp and its own folder as the only writable
place: no course, no teacher edition, no other submission, no grader command line in
/proc, no network. When the job ends, the kernel kills every process left in its
pid namespace. Without bubblewrap the grader refuses to run submissions unless the
teacher passes `--no-sandbox` (then the harness runs as the teacher, with only the
limits below: it can read and write what the teacher can).

Always: a clean environment, one wall-clock deadline and one CPU-time limit per
submission (set from outside, by the grader: no cell can catch or extend them),
limits on memory, file size and processes, a cap on output, and every process of
the job killed afterwards (its session, a pids cgroup where the machine lets us
make one, orphans that come back to the grader as child subreaper), also when the
teacher presses Ctrl-C (`STOP`).
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from coursekit.execute.executor import Outcome, RunRequest, Status
from coursekit.execute.processes import become_subreaper, end_tree, kill_orphans

__all__ = [
    "STOP",
    "Limits",
    "SandboxExecutor",
    "become_subreaper",
    "kill_orphans",
    "require_sandbox",
    "sandbox_warning",
]

HERE = Path(__file__).parent
SANDBOX_HOME = "/home/student"
PIDS_CGROUP = Path("/sys/fs/cgroup/pids")
PR_SET_PDEATHSIG = 1
BWRAP_ENV = "COURSEKIT_BWRAP"  # the bubblewrap to use; "none": behave as if it were missing
STOP = threading.Event()  # set on Ctrl-C: every running job is ended within a second


@dataclass(frozen=True, slots=True)
class Limits:
    """What one submission may use besides time."""

    memory_bytes: int = 2 * 1024**3  # address space
    output_bytes: int = 8 * 1024**2  # stdout and stderr together
    file_bytes: int = 64 * 1024**2  # largest file it may write
    processes: int = 64

    @staticmethod
    def notebook_seconds(cell_seconds: int, cells: int) -> int:
        """The wall-clock and CPU limit of one submission: `cells` is the count of the
        COURSE's notebook (code cells and tests), never the submission's own."""
        return cell_seconds * max(1, cells) + 30


@dataclass
class JobResult:
    """What came back from one job: each test's (status, why) and why a job stopped."""

    verdicts: dict[int, tuple[str, str]] = field(default_factory=dict)
    stopped: str = ""  # "" when the job ran to its end
    notes: list[str] = field(default_factory=list)  # what the submission's cells raised
    output_bytes: int = 0


class SandboxMissing(RuntimeError):
    """Bubblewrap cannot shut submissions in here and the teacher did not say --no-sandbox."""


# ----------------------------------------------------------------- sandbox kind


def _bwrap() -> str | None:
    chosen = os.environ.get(BWRAP_ENV)
    if chosen is not None:
        return None if chosen in ("", "none") else chosen
    return shutil.which("bwrap")


@cache
def sandbox_kind() -> str:
    """`bwrap` when bubblewrap works on this machine, else `none`."""
    if _bwrap() and _works(_bwrap_prefix(Path(tempfile.gettempdir()))):
        return "bwrap"
    return "none"


NO_SANDBOX_RISK = (
    "submissions run as you, NOT sandboxed: they can read and change any file you can "
    "(other submissions, your home folder), use the network, and leave processes the "
    "grader may not find"
)


def require_sandbox(no_sandbox: bool) -> None:
    """Raise SandboxMissing unless submissions can be sandboxed or the teacher said not to."""
    if sandbox_kind() == "bwrap" or no_sandbox:
        return
    raise SandboxMissing(
        "bubblewrap is not available here, so submissions cannot be shut in; install it "
        "(apt-get install bubblewrap), grade in a container, or pass --no-sandbox if you "
        f"trust every submission ({NO_SANDBOX_RISK})"
    )


def sandbox_warning() -> str:
    """A loud sentence when submissions are not shut in, else ""."""
    if sandbox_kind() == "bwrap":
        return ""
    return (
        NO_SANDBOX_RISK
        + "; install bubblewrap (apt-get install bubblewrap) or grade in a container"
    )


@cache
def programs() -> tuple[str, str]:
    """The harness's and the tester's program text, read once: a job cannot change
    what a later job runs."""
    wire = (HERE / "wire.py").read_text(encoding="utf-8")

    def program(name: str) -> str:
        lines = (HERE / name).read_text(encoding="utf-8").splitlines()
        kept = [ln for ln in lines if not ln.startswith("from coursekit.exercises.wire import")]
        return wire + "\n" + "\n".join(kept) + "\n"

    return program("harness.py"), program("tester.py")


def _works(prefix: list[str]) -> bool:
    try:
        done = subprocess.run(
            [*prefix, sys.executable, "-c", "pass"],
            capture_output=True,
            timeout=30,
            env=_clean_env(),
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def _python_roots() -> list[Path]:
    """The folders the sandboxed Python needs: the venv and the installation it comes from."""
    roots = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    roots.add(Path(os.path.realpath(sys.executable)).parent.parent)
    return sorted(roots)


def _bwrap_prefix(workdir: Path) -> list[str]:
    argv = [
        _bwrap() or "bwrap",
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
    ]
    argv += ["--unshare-user", "--uid", "65534", "--gid", "65534"]
    for top in ("/usr", "/lib", "/lib64", "/bin", "/sbin"):
        path = Path(top)
        if path.is_symlink():
            argv += ["--symlink", os.readlink(path), top]
        elif path.is_dir():
            argv += ["--ro-bind", top, top]
    if Path("/etc/ld.so.cache").exists():
        argv += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    # The empty /tmp first: a Python installed under /tmp (a venv in a clone there)
    # is then bound on top of it instead of hidden by it.
    argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for root in _python_roots():
        if not root.is_relative_to("/usr"):
            argv += ["--ro-bind", str(root), str(root)]
    argv += ["--bind", str(workdir), SANDBOX_HOME, "--chdir", SANDBOX_HOME]
    return argv


def _clean_env(home: str = "/nonexistent") -> dict[str, str]:
    """Nothing of the teacher's environment: just what Python and its libraries need."""
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
        # Math libraries start a thread per core; a stray thread fails a test.
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


# ----------------------------------------------------------------- processes


@contextmanager
def _pids_cgroup(limit: int) -> Iterator[Path | None]:
    """A pids cgroup of our own (cgroup v1, root only), or None where we cannot make one."""
    group = PIDS_CGROUP / f"coursekit-grade-{secrets.token_hex(6)}"
    try:
        group.mkdir()
        (group / "pids.max").write_text(str(limit))
    except OSError:
        yield None
        return
    try:
        yield group
    finally:
        for _ in range(50):
            try:
                pids = [int(p) for p in (group / "cgroup.procs").read_text().split()]
            except OSError:
                break
            if not pids:
                break
            for pid in pids:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)
        with suppress(OSError):
            group.rmdir()


def _preexec(limits: Limits, cpu_seconds: int, cgroup: Path | None) -> Any:
    def setup() -> None:
        os.setsid()
        with suppress(OSError, AttributeError):  # killed with the grader, even by SIGKILL
            ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if cgroup is not None:
            (cgroup / "cgroup.procs").write_text(str(os.getpid()))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if os.getuid() != 0:  # root's count is the whole machine's; the cgroup covers it
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))

    return setup


# ----------------------------------------------------------------- one job


@dataclass(frozen=True, slots=True)
class Job:
    """One submission's grading: its code cells (`{"source": ...}`) with `{"test": n}`
    where test n sits, the course's tests (n -> source), seconds per test, and the
    one wall-clock and CPU budget of the whole submission."""

    cells: list[dict[str, Any]]
    tests: dict[int, str]
    timeout: int
    budget: int
    modules: tuple[str, ...] = ()  # what the course's notebook imports: the tests may use them


class SandboxExecutor:
    """Runs jobs: the submission's code in the sandbox, the course's tests beside it."""

    def __init__(self, limits: Limits | None = None, sandboxed: bool = True) -> None:
        self.limits = limits or Limits()
        self.sandboxed = sandboxed and sandbox_kind() == "bwrap"

    def grade(self, job: Job) -> JobResult:
        return run_job(job, self.limits, self.sandboxed)

    def run(self, request: RunRequest) -> Outcome:
        """The executor interface: cells with `coursekit.test` metadata are tests."""
        cells: list[dict[str, Any]] = []
        tests: dict[int, str] = {}
        for cell in request.notebook.get("cells", []):
            meta = (cell.get("metadata") or {}).get("coursekit") or {}
            if isinstance(meta, dict) and isinstance(meta.get("test"), int):
                tests[meta["test"]] = cell["source"]
                cells.append({"test": meta["test"]})
            else:
                cells.append({"source": cell["source"]})
        budget = Limits.notebook_seconds(request.timeout, len(cells))
        result = self.grade(Job(cells, tests, request.timeout, budget))
        return Outcome(
            _status(result.stopped),
            request.name,
            request.timeout,
            detail=result.stopped,
            kernel=request.kernel,
            tests={n: (status == "passed", why) for n, (status, why) in result.verdicts.items()},
            notes=tuple(result.notes),
        )


def _status(stopped: str) -> Status:
    if not stopped:
        return Status.SUCCEEDED
    if "wall-clock" in stopped or "interrupted" in stopped:
        return Status.TIMEOUT
    if stopped.startswith("stopped"):
        return Status.KILLED
    return Status.KERNEL_DIED


def run_job(job: Job, limits: Limits, sandboxed: bool) -> JobResult:
    """Run one job: the tester first, then the harness in a fresh (sandboxed) folder."""
    harness, tester = programs()
    result = JobResult()
    deadline = time.monotonic() + job.budget
    procs: list[subprocess.Popen[bytes]] = []
    fds: list[int] = []
    with (
        tempfile.TemporaryDirectory(prefix="coursekit-grade-") as tmp,
        tempfile.TemporaryDirectory(prefix="coursekit-tests-") as tests_dir,
        _pids_cgroup(limits.processes) as cgroup,
    ):
        workdir = Path(tmp)
        try:
            to_sub_r, to_sub_w = os.pipe()  # tester -> harness
            to_test_r, to_test_w = os.pipe()  # harness -> tester
            fds += [to_sub_r, to_sub_w, to_test_r, to_test_w]
            tester_proc = subprocess.Popen(
                [sys.executable, "-I", "-c", tester],
                cwd=tests_dir,
                env=_clean_env(tests_dir),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                pass_fds=(to_test_r, to_sub_w),
                preexec_fn=_preexec(limits, job.budget, None),  # noqa: PLW1509
            )
            procs.append(tester_proc)
            _write_job(
                tester_proc,
                {
                    "tests": [{"n": n, "source": src} for n, src in job.tests.items()],
                    "modules": list(job.modules),
                    "timeout": job.timeout,
                    "from_submission": to_test_r,
                    "to_submission": to_sub_w,
                },
            )
            if not _ready(tester_proc, deadline):
                result.stopped = "the tests' process could not start"
            else:
                prefix = _bwrap_prefix(workdir) if sandboxed else []
                harness_proc = subprocess.Popen(
                    [*prefix, sys.executable, "-I", "-c", harness],
                    cwd=None if sandboxed else workdir,
                    env=_clean_env(SANDBOX_HOME if sandboxed else str(workdir)),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    pass_fds=(to_sub_r, to_test_w),
                    preexec_fn=_preexec(limits, job.budget, cgroup),  # noqa: PLW1509
                )
                procs.append(harness_proc)
                for fd in fds:  # each end now lives only in the process that uses it
                    os.close(fd)
                fds.clear()
                _write_job(
                    harness_proc,
                    {
                        "cells": job.cells,
                        "timeout": job.timeout,
                        "from_tester": to_sub_r,
                        "to_tester": to_test_w,
                    },
                )
                _watch(tester_proc, harness_proc, limits, deadline, job.budget, result)
        except OSError as exc:
            result.stopped = f"the sandbox could not start ({exc})"
        finally:
            for fd in fds:
                with suppress(OSError):
                    os.close(fd)
            for proc in procs:
                _end(proc)
    why = result.stopped or "the job ended before this test"
    for n in job.tests:
        result.verdicts.setdefault(n, ("not run", why))
    return result


def _write_job(proc: subprocess.Popen[bytes], job: dict[str, Any]) -> None:
    assert proc.stdin is not None
    try:
        proc.stdin.write(json.dumps(job).encode())
        proc.stdin.close()
    except BrokenPipeError:
        pass


def _ready(proc: subprocess.Popen[bytes], deadline: float) -> bool:
    """Wait for the tester's first line (it is undumpable by then)."""
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout.fileno(), selectors.EVENT_READ)
    line = b""
    try:
        while not line.endswith(b"\n"):
            left = min(deadline - time.monotonic(), 60.0)
            if left <= 0 or STOP.is_set() or not sel.select(left):
                return False
            chunk = os.read(proc.stdout.fileno(), 1)
            if not chunk:
                return False
            line += chunk
    finally:
        sel.close()
    return b'"ready"' in line


def _watch(
    tester: subprocess.Popen[bytes],
    harness: subprocess.Popen[bytes],
    limits: Limits,
    deadline: float,
    budget: int,
    result: JobResult,
) -> None:
    """Take the verdicts, count and drop the submission's output, until the tester ends
    or a limit is broken."""
    assert tester.stdout is not None and harness.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(tester.stdout.fileno(), selectors.EVENT_READ, "verdicts")
    sel.register(harness.stdout.fileno(), selectors.EVENT_READ, "out")
    buffer = b""
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                result.stopped = f"stopped after {budget} s (the submission's wall-clock limit)"
                break
            if STOP.is_set():
                result.stopped = "grading interrupted"
                break
            ended = False
            for key, _ in sel.select(min(left, 0.5)):
                data = os.read(key.fd, 65536)
                if key.data == "out":
                    result.output_bytes += len(data)
                    if not data:
                        sel.unregister(key.fd)
                elif not data:
                    ended = True
                elif len(buffer) < 16 * 1024**2:
                    buffer += data
            if ended:
                break
            if result.output_bytes > limits.output_bytes:
                result.stopped = f"stopped: printed more than {limits.output_bytes // 1024**2} MB"
                break
    finally:
        sel.close()
    code = harness.poll()
    if not result.stopped and code not in (0, None):
        result.stopped = _exit_note(code)
    for line in buffer.splitlines():
        _take(line, result)


def _take(line: bytes, result: JobResult) -> None:
    try:
        message = json.loads(line)
    except ValueError:
        return
    if not isinstance(message, dict):
        return
    if "note" in message and len(result.notes) < 10:
        result.notes.append(str(message["note"]))
    elif isinstance(message.get("test"), int):
        result.verdicts.setdefault(message["test"], (str(message["status"]), str(message["why"])))


def _exit_note(code: int) -> str:
    if code in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
        return "stopped: out of CPU time"
    if code in (-signal.SIGKILL, 128 + signal.SIGKILL):
        return "stopped: killed (memory or time limit)"
    return f"the submission's process ended with status {code}"


def _end(proc: subprocess.Popen[bytes]) -> None:
    """Kill the process's session (it leads one) and all it started, and wait for it."""
    end_tree(proc.pid)
    with suppress(ProcessLookupError):
        proc.kill()
    proc.wait()
    for stream in (proc.stdout, proc.stdin):
        if stream is not None:
            with suppress(OSError):
                stream.close()
