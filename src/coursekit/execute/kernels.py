"""Running one notebook in a fresh kernel that talks over Unix sockets.

Kernels started side by side over TCP race for ports: jupyter_client picks free
ports, then the kernel binds them, and a neighbour can take one in between
("Address already in use", then "Kernel died before replying to kernel_info").
IPC sockets in a private temporary folder cannot collide, and nothing is written
next to the notebook.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_output

from coursekit.execute import forkserver
from coursekit.execute.processes import end_tree

# Text a cell may store (images are files of their own): a cell printing 200 MB would
# make a 200 MB page, and Sphinx takes minutes over a few MB of text.
MAX_CELL_OUTPUT = 256 * 1024


class KernelStartError(RuntimeError):
    """The kernel died or hung before it could run the first cell."""


class _KernelManager(AsyncKernelManager):
    """A kernel manager that runs the kernel nicer, adds `extra_env`, and at shutdown
    ends everything the kernel started (`coursekit.execute.processes.end_tree`)."""

    niceness = 0  # added to the kernel's scheduling niceness (its children inherit it)
    extra_env: Mapping[str, str] = {}
    leader = 0  # the kernel's pid: jupyter_client makes it the leader of a session
    preload: list[str] = []  # what the notebook imports that a fork server may load ahead

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        if not await self._launch_forked(kernel_cmd, **kw):
            await super()._async_launch_kernel(kernel_cmd, **kw)
        process = getattr(self.provisioner, "process", None)
        if process is not None:
            self.leader = process.pid
            if self.niceness:
                _lower_priority(process.pid, self.niceness)

    async def _launch_forked(self, kernel_cmd: list[str], **kw: Any) -> bool:
        """Fork the kernel from a fork server (`coursekit.execute.forkserver`) if one fits."""
        provisioner = self.provisioner
        if provisioner is None or not hasattr(provisioner, "pgid"):
            return False  # not jupyter_client's local provisioner
        env = {**(kw.get("env") or os.environ), "JPY_PARENT_PID": str(os.getpid())}
        cwd = str(kw.get("cwd") or Path.cwd())
        loop = asyncio.get_running_loop()
        pid = await loop.run_in_executor(
            None, lambda: forkserver.spawn(kernel_cmd, cwd, env, self.preload, self.niceness)
        )
        if not pid:
            return False
        provisioner.process = forkserver.ForkedKernel(pid)  # type: ignore[attr-defined]
        provisioner.pid = provisioner.pgid = pid  # type: ignore[attr-defined]
        provisioner.cwd = cwd  # type: ignore[attr-defined]
        self._reconcile_connection_info(provisioner.connection_info)
        return True

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        cmd, kw = await super()._async_pre_start_kernel(**kw)
        if self.extra_env:
            kw["env"] = {**(kw.get("env") or os.environ), **self.extra_env}
        return cmd, kw

    async def shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:  # type: ignore[override]
        # Before the kernel goes: once it is gone, what it started has no parent to find
        # it by (a `setsid` daemon is in the kernel's tree, not in its session).
        if self.leader:
            end_tree(self.leader)
        await super().shutdown_kernel(now=now, restart=restart)


def _lower_priority(pid: int, niceness: int) -> None:
    """Run the process `pid` (and what it starts) `niceness` steps nicer.

    jupyter_client starts each kernel in a session of its own, and Linux, with
    autogroups on, shares the CPU between sessions first: a nice value alone only
    ranks the processes of one session. A session leader's `/proc/<pid>/autogroup`
    ranks its whole session (it exists only where autogroups do).
    """
    with contextlib.suppress(OSError):  # it may have died already: nbclient says so
        os.setpriority(os.PRIO_PROCESS, pid, niceness)
        if os.getsid(pid) == pid:  # never the build's own session
            Path(f"/proc/{pid}/autogroup").write_text(f"{niceness}\n")


class _CappedClient(NotebookClient):
    """Stores at most MAX_CELL_OUTPUT characters of output per cell, then says it stopped."""

    def output(
        self, outs: list[NotebookNode], msg: dict[str, Any], display_id: str | None, cell_index: int
    ) -> NotebookNode | None:
        sizes: dict[int, int] = self.__dict__.setdefault("_ck_sizes", {})
        used = sizes.get(cell_index, 0)
        if used > MAX_CELL_OUTPUT:
            return None
        content = msg.get("content", {})
        data = content.get("data") or {}
        size = len(str(content.get("text", ""))) + sum(
            len(str(v)) for k, v in data.items() if str(k).startswith("text/")
        )
        sizes[cell_index] = used + size
        if used + size <= MAX_CELL_OUTPUT:
            return super().output(outs, msg, display_id, cell_index)
        if msg.get("msg_type") == "stream":  # keep what fits of the text
            text = str(content.get("text", ""))[: MAX_CELL_OUTPUT - used]
            super().output(outs, {**msg, "content": {**content, "text": text}}, None, cell_index)
        notice = new_output(
            "stream",
            name="stderr",
            text=f"\n[coursekit: this cell printed more than {MAX_CELL_OUTPUT // 1024} kB of "
            "text; the rest of its output is not kept]\n",
        )
        outs.append(notice)
        return notice


def _start_failure(kernel_name: str, exc: BaseException) -> str:
    """Why the kernel `kernel_name` never ran a cell, in words."""
    detail = str(exc).strip() or type(exc).__name__
    return (
        f"{detail}; check that it is installed (`jupyter kernelspec list`) and starts "
        f"on its own (`jupyter console --kernel {kernel_name}`)"
    )


def run_notebook(
    nb: Any,
    cwd: Path,
    timeout: int,
    kernel_name: str = "python3",
    *,
    allow_errors: bool = False,
    tracebacks: bool = True,
    on_cell_start: Callable[..., Any] | None = None,
    niceness: int = 0,
    env: Mapping[str, str] | None = None,
) -> None:
    """Execute `nb` (a NotebookNode, changed in place) with `cwd` as working folder.

    `niceness` > 0 runs the kernel at a lower priority: work that may wait for the
    cores (the build's self-checks) leaves them to the work others wait for. `env`
    is added to the kernel's environment. `timeout` is seconds per cell. Without
    `tracebacks` an error's output is its name and message, no traceback.
    Callers use `coursekit.execute.executor.KernelExecutor`, which says how it ended.

    Raises nbclient's CellExecutionError / CellTimeoutError / DeadKernelError as
    nbclient does, and KernelStartError when the kernel never came up.
    """
    asyncio.run(
        _run(
            nb,
            cwd,
            timeout,
            kernel_name,
            allow_errors,
            tracebacks,
            on_cell_start,
            niceness,
            env or {},
        )
    )


async def _run(
    nb: Any,
    cwd: Path,
    timeout: int,
    kernel_name: str,
    allow_errors: bool,
    tracebacks: bool,
    on_cell_start: Callable[..., Any] | None,
    niceness: int,
    env: Mapping[str, str],
) -> None:
    started = False

    def cell_started(*args: Any, **kwargs: Any) -> None:
        nonlocal started
        started = True
        if on_cell_start is not None:
            on_cell_start(*args, **kwargs)

    with tempfile.TemporaryDirectory(prefix="coursekit-kernel-") as tmp:
        km = _KernelManager(
            kernel_name=kernel_name, transport="ipc", connection_file=str(Path(tmp) / "kernel.json")
        )
        km.niceness, km.extra_env = niceness, env
        km.preload = forkserver.imports_of(nb)
        client = _CappedClient(
            nb,
            km=km,
            timeout=timeout,
            kernel_name=kernel_name,
            allow_errors=allow_errors,
            record_timing=False,
            on_cell_start=cell_started,
            # The kernel's start-up chatter would drown the build's own messages.
            extra_arguments=[
                "--IPKernelApp.log_level=ERROR",
                *([] if tracebacks else ["--InteractiveShell.xmode=Minimal"]),
            ],
            resources={"metadata": {"path": str(cwd)}},
        )
        try:
            # nbclient cleans up only what it created unless told to.
            await client.async_execute(cleanup_kc=True)
        except (RuntimeError, AssertionError, TimeoutError, OSError) as exc:
            # With a kernel manager of ours, nbclient reports a dead kernel as a bare
            # RuntimeError("Kernel died ..."), a kernel that never answers as
            # RuntimeError("Kernel didn't respond…"), and a start that failed half-way
            # as an AssertionError from its clean-up: before the first cell, the kernel
            # never started.
            if not started:
                raise KernelStartError(_start_failure(kernel_name, exc)) from exc
            if isinstance(exc, RuntimeError) and "kernel died" in str(exc).lower():
                raise DeadKernelError(str(exc)) from exc
            raise
        finally:
            # nbclient registers its clean-up to run at exit; it is done here, and at
            # exit it would fail (AssertionError) on a kernel that never started.
            atexit.unregister(client._cleanup_kernel)
            if km.has_kernel:  # a start that failed half-way
                await km.shutdown_kernel(now=True)
            if km.leader:  # nbclient shut it down: what the cells started ended with it
                end_tree(km.leader)
