"""The sandboxed back-end of the executor: one grading job, with limits, and all it
started killed afterwards.

The job runs `coursekit.exercises.harness` in a fresh private folder that holds
nothing else. How well it is shut in depends on the machine:

- **bwrap** (bubblewrap, Debian package `bubblewrap`): its own mount, pid, network,
  IPC and user namespaces, no capabilities. The file system it sees is the Python
  installation (read-only), an empty /tmp and its own folder: no course, no teacher
  edition, no other submission, no grader command line in /proc, no network. When
  the job ends, the kernel kills every process left in its pid namespace.
- **unshare** (util-linux, needs root): no network and its own pid namespace, but
  the whole file system is visible. Said loudly.
- **none**: only the limits below and the process clean-up. Said loudly.

Always: a clean environment (nothing of the teacher's), limits on CPU time,
memory, file size and processes (a pids cgroup when the machine lets us make one),
a wall-clock limit, a cap on output (the grader reads and drops it, so a
submission printing 1 GB costs a few kB of memory), and every process the job
started killed afterwards (its cgroup, its process group, and orphans that a
`setsid` daemon leaves, which come back to the grader as child subreaper), by
the executor's one clean-up (`coursekit.execute.processes`).

`SandboxExecutor.run` takes the executor's `RunRequest`: code cells, each a course
test when its metadata says `coursekit.test` (the test's number), else the
submission's own code; `timeout` is seconds per cell, as everywhere.
"""

from __future__ import annotations

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
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from coursekit.execute.executor import Outcome, RunRequest, Status
from coursekit.execute.processes import become_subreaper, end_tree, kill_orphans

__all__ = ["Limits", "SandboxExecutor", "become_subreaper", "kill_orphans", "sandbox_warning"]

HARNESS = Path(__file__).with_name("harness.py")
SANDBOX_HOME = "/home/student"
PIDS_CGROUP = Path("/sys/fs/cgroup/pids")


@dataclass(frozen=True, slots=True)
class Limits:
    """What one submission may use besides time (the request's timeout, per cell)."""

    memory_bytes: int = 2 * 1024**3  # address space
    output_bytes: int = 8 * 1024**2  # stdout and stderr together
    file_bytes: int = 64 * 1024**2  # largest file it may write
    processes: int = 64

    @staticmethod
    def notebook_seconds(cell_seconds: int, cells: int) -> int:
        """Wall-clock (and CPU) limit of a notebook: every cell at its limit, plus start-up."""
        return cell_seconds * max(1, cells) + 30


@dataclass
class JobResult:
    """What came back from one job: the verdict of each test and why a job stopped."""

    verdicts: dict[int, tuple[bool, str]] = field(default_factory=dict)
    stopped: str = ""  # "" when the harness ran to its end
    notes: list[str] = field(default_factory=list)  # from the harness: a cell timed out
    output_bytes: int = 0


# ----------------------------------------------------------------- sandbox kind


@cache
def sandbox_kind() -> str:
    """The strongest shutting-in this machine allows: `bwrap`, `unshare` or `none`."""
    if shutil.which("bwrap") and _works(_bwrap_prefix(Path(tempfile.gettempdir()))):
        return "bwrap"
    if shutil.which("unshare") and _works(_unshare_prefix()):
        return "unshare"
    return "none"


def sandbox_warning() -> str:
    """A loud sentence when submissions are not fully shut in, else ""."""
    kind = sandbox_kind()
    if kind == "bwrap":
        return ""
    if kind == "unshare":
        return (
            "submissions are only partly sandboxed (unshare: no network, own processes, "
            "but they can read any file this user can): install bubblewrap (apt-get "
            "install bubblewrap) or grade in a container"
        )
    return (
        "submissions are NOT sandboxed: they run as you, can read your files and use "
        "the network; install bubblewrap (apt-get install bubblewrap) or grade in a container"
    )


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
    argv = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
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


def _unshare_prefix() -> list[str]:
    return ["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount-proc", "--ipc"]


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


class SandboxExecutor:
    """Runs a request through the grading harness, shut in as well as the machine allows."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()

    def run(self, request: RunRequest) -> Outcome:
        """Run the request's cells in a fresh private folder (its `cwd` and `env` are not
        used: nothing of the teacher's reaches a submission); the tests' verdicts."""
        cells = [_job_cell(c) for c in request.notebook.get("cells", [])]
        result = run_job(cells, self.limits, request.timeout)
        return Outcome(
            _status(result.stopped),
            request.name,
            request.timeout,
            detail=result.stopped,
            kernel=request.kernel,
            tests=result.verdicts,
            notes=tuple(result.notes),
        )


def _job_cell(cell: dict[str, Any]) -> dict[str, Any]:
    """The harness's form of a request cell: a course test, or the submission's code."""
    meta = (cell.get("metadata") or {}).get("coursekit") or {}
    if isinstance(meta, dict) and isinstance(meta.get("test"), int):
        return {"kind": "test", "test": meta["test"], "source": cell["source"]}
    return {"kind": "code", "source": cell["source"]}


def _status(stopped: str) -> Status:
    """How a job ended, in the executor's words, from the note it got."""
    if not stopped:
        return Status.SUCCEEDED
    if "wall-clock" in stopped:
        return Status.TIMEOUT
    if stopped.startswith("stopped"):
        return Status.KILLED  # CPU, memory or output limit
    return Status.KERNEL_DIED  # the harness ended on its own, or never started


def run_job(cells: list[dict[str, Any]], limits: Limits, timeout: int) -> JobResult:
    """Run `cells` (harness job cells, `timeout` s each) in a fresh sandboxed folder."""
    kind = sandbox_kind()
    nonce = secrets.token_hex(16)
    job = {
        "nonce": nonce,
        "cells": cells,
        "timeout": timeout,
        "own_pid_namespace": kind in ("bwrap", "unshare"),
    }
    seconds = limits.notebook_seconds(timeout, len(cells))
    with tempfile.TemporaryDirectory(prefix="coursekit-grade-") as tmp:
        workdir = Path(tmp)
        if kind == "bwrap":
            argv = _bwrap_prefix(workdir)
        elif kind == "unshare":
            argv = _unshare_prefix()
        else:
            argv = []
        argv += [sys.executable, "-I", "-c", HARNESS.read_text(encoding="utf-8")]
        env = _clean_env(SANDBOX_HOME if kind == "bwrap" else str(workdir))
        with _pids_cgroup(limits.processes) as cgroup:
            return _supervise(argv, workdir, env, job, nonce, limits, seconds, cgroup)


def _supervise(
    argv: list[str],
    workdir: Path,
    env: dict[str, str],
    job: dict[str, Any],
    nonce: str,
    limits: Limits,
    seconds: int,
    cgroup: Path | None,
) -> JobResult:
    result = JobResult()
    verdict_r, verdict_w = os.pipe()
    job = dict(job, verdict_fd=verdict_w)
    try:
        proc = subprocess.Popen(
            argv,
            cwd=workdir if argv[0] != "bwrap" else None,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(verdict_w,),
            preexec_fn=_preexec(limits, seconds, cgroup),  # noqa: PLW1509 - no threads fork here
        )
    except OSError as exc:
        os.close(verdict_r)
        os.close(verdict_w)
        result.stopped = f"the sandbox could not start ({exc})"
        return result
    os.close(verdict_w)
    try:
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps(job).encode())
            proc.stdin.close()
        except BrokenPipeError:
            pass
        verdicts = _watch(proc, verdict_r, limits, seconds, result)
    finally:
        _end(proc)
    for line in verdicts.splitlines():
        _take_verdict(line, nonce, result)
    return result


def _watch(
    proc: subprocess.Popen[bytes], verdict_r: int, limits: Limits, seconds: int, result: JobResult
) -> bytes:
    """Read the job's output (counting, dropping) and verdicts until it ends or breaks a limit."""
    assert proc.stdout is not None
    deadline = time.monotonic() + seconds
    verdicts = bytearray()
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout.fileno(), selectors.EVENT_READ, "out")
    sel.register(verdict_r, selectors.EVENT_READ, "verdicts")
    open_fds = 2
    try:
        while open_fds:
            left = deadline - time.monotonic()
            if left <= 0:
                result.stopped = f"stopped after {seconds} s (wall-clock limit)"
                break
            for key, _ in sel.select(min(left, 0.5)):
                data = os.read(key.fd, 65536)
                if not data:
                    sel.unregister(key.fd)
                    open_fds -= 1
                elif key.data == "out":
                    result.output_bytes += len(data)
                elif len(verdicts) < 1024**2:
                    verdicts += data
            if result.output_bytes > limits.output_bytes:
                result.stopped = f"stopped: printed more than {limits.output_bytes // 1024**2} MB"
                break
            if proc.poll() is not None and open_fds:
                # The harness is gone; what a leftover process still holds open is not waited for.
                _drain(verdict_r, verdicts)
                break
    finally:
        sel.close()
        os.close(verdict_r)
    if not result.stopped and proc.poll() is not None and proc.returncode not in (0, None):
        result.stopped = _exit_note(proc.returncode)
    return bytes(verdicts)


def _drain(fd: int, into: bytearray) -> None:
    os.set_blocking(fd, False)
    try:
        while len(into) < 1024**2:
            data = os.read(fd, 65536)
            if not data:
                break
            into += data
    except BlockingIOError:
        pass


def _exit_note(code: int) -> str:
    if code == -signal.SIGXCPU or code == 128 + signal.SIGXCPU:
        return "stopped: out of CPU time"
    if code == -signal.SIGKILL or code == 128 + signal.SIGKILL:
        return "stopped: killed (memory or time limit)"
    return f"the notebook's process ended with status {code}"


def _end(proc: subprocess.Popen[bytes]) -> None:
    """Kill the job's session (it leads one) and all it started, and wait for it."""
    end_tree(proc.pid)
    with suppress(ProcessLookupError):
        proc.kill()
    proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def _take_verdict(line: bytes, nonce: str, result: JobResult) -> None:
    """Record one verdict line; lines without the nonce and second verdicts are ignored.

    A line is `<nonce> test <n> <1|0> <hex text>` or `<nonce> note 0 0 <hex text>`.
    """
    parts = line.decode("ascii", "replace").split(" ")
    if len(parts) != 5 or parts[0] != nonce or not parts[2].isdigit():
        return
    try:
        text = bytes.fromhex(parts[4]).decode("utf-8", "replace")[:200]
    except ValueError:
        return
    if parts[1] == "note":
        if text not in result.notes:
            result.notes.append(text)
    elif parts[1] == "test" and parts[3] in ("0", "1"):
        result.verdicts.setdefault(int(parts[2]), (parts[3] == "1", text))
