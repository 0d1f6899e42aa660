"""Running one notebook in a fresh kernel that talks over Unix sockets.

Kernels started side by side over TCP race for ports: jupyter_client picks free
ports, then the kernel binds them, and a neighbour can take one in between
("Address already in use", then "Kernel died before replying to kernel_info").
IPC sockets in a private temporary folder cannot collide, and nothing is written
next to the notebook.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError


class KernelStartError(RuntimeError):
    """The kernel died or hung before it could run the first cell."""


def run_notebook(
    nb: Any,
    cwd: Path,
    timeout: int,
    kernel_name: str = "python3",
    *,
    allow_errors: bool = False,
    on_cell_start: Callable[..., Any] | None = None,
) -> None:
    """Execute `nb` (a NotebookNode, changed in place) with `cwd` as working folder.

    Raises nbclient's CellExecutionError / CellTimeoutError / DeadKernelError as
    nbclient does, and KernelStartError when the kernel never came up.
    """
    asyncio.run(_run(nb, cwd, timeout, kernel_name, allow_errors, on_cell_start))


async def _run(
    nb: Any,
    cwd: Path,
    timeout: int,
    kernel_name: str,
    allow_errors: bool,
    on_cell_start: Callable[..., Any] | None,
) -> None:
    started = False

    def cell_started(*args: Any, **kwargs: Any) -> None:
        nonlocal started
        started = True
        if on_cell_start is not None:
            on_cell_start(*args, **kwargs)

    with tempfile.TemporaryDirectory(prefix="coursekit-kernel-") as tmp:
        km = AsyncKernelManager(
            kernel_name=kernel_name, transport="ipc", connection_file=str(Path(tmp) / "kernel.json")
        )
        client = NotebookClient(
            nb,
            km=km,
            timeout=timeout,
            kernel_name=kernel_name,
            allow_errors=allow_errors,
            record_timing=False,
            on_cell_start=cell_started,
            # The kernel's start-up chatter would drown the build's own messages.
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
            resources={"metadata": {"path": str(cwd)}},
        )
        try:
            # nbclient cleans up only what it created unless told to.
            await client.async_execute(cleanup_kc=True)
        except RuntimeError as exc:
            # With a kernel manager of ours, nbclient reports a dead kernel as a bare
            # RuntimeError("Kernel died ..."): before the first cell it never started.
            if "kernel died" not in str(exc).lower():
                raise
            if not started:
                raise KernelStartError(str(exc)) from exc
            raise DeadKernelError(str(exc)) from exc
        finally:
            if km.has_kernel:  # a start that failed half-way
                await km.shutdown_kernel(now=True)
