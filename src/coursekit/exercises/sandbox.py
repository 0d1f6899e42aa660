"""Running one grading job in a sandbox, with limits, and killing all it started.

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
`setsid` daemon leaves, which come back to the grader as child subreaper).
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
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

HARNESS = Path(__file__).with_name("harness.py")
SANDBOX_HOME = "/home/student"
PIDS_CGROUP = Path("/sys/fs/cgroup/pids")
PR_SET_CHILD_SUBREAPER = 36


@dataclass(frozen=True, slots=True)
class Limits:
    """What one submission may use."""

    cell_seconds: int = 120  # wall and CPU time per cell
    memory_bytes: int = 2 * 1024**3  # address space
    output_bytes: int = 8 * 1024**2  # stdout and stderr together
    file_bytes: int = 64 * 1024**2  # largest file it may write
    processes: int = 64

    def notebook_seconds(self, cells: int) -> int:
        """Wall-clock limit of a whole notebook: every cell at its limit, plus start-up."""
        return self.cell_seconds * max(1, cells) + 30


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


def become_subreaper() -> bool:
    """Make orphans of our jobs (a `setsid` daemon) our children, so we can kill them."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(b")", 1)[-1].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(entry))
    return found


def kill_orphans(keep: frozenset[int] = frozenset()) -> int:
    """Kill and reap every process that came back to us as subreaper; returns how many.

    `keep` are our own live jobs (their Popen reaps them). Loops until none is left,
    since a process may fork while we kill its parent.
    """
    killed = 0
    for _ in range(50):
        found = [p for p in _children_of(os.getpid()) if p not in keep]
        if not found:
            break
        for pid in found:
            _kill_tree(pid)
            with suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            killed += 1
        time.sleep(0.05)
    return killed


def _kill_tree(pid: int) -> None:
    for child in _children_of(pid):
        _kill_tree(child)
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


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


def run_job(cells: list[dict[str, Any]], limits: Limits) -> JobResult:
    """Run `cells` (harness job cells) in a fresh sandboxed folder; returns the verdicts."""
    kind = sandbox_kind()
    nonce = secrets.token_hex(16)
    job = {
        "nonce": nonce,
        "cells": cells,
        "timeout": limits.cell_seconds,
        "own_pid_namespace": kind in ("bwrap", "unshare"),
    }
    seconds = limits.notebook_seconds(len(cells))
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
    """Kill the job's process group and wait for it, so nothing of it runs on."""
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
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
