"""Running an exercise edition for the self-checks (niced kernel back-end)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from coursekit.errors import BuildError
from coursekit.execute.executor import CellFailure, KernelExecutor, RunRequest, cell_errors

__all__ = ["CellError", "cell_errors", "execute"]

CellError = CellFailure  # the name the self-checks knew it by


def execute(
    nb: dict[str, Any],
    cwd: Path,
    timeout: int,
    shown: str,
    niceness: int = 0,
    tracebacks: bool = True,
) -> dict[str, Any]:
    """Run every cell of `nb` in `cwd`, going on after errors; returns the executed copy.

    An error inside a cell is recorded in its outputs (read them with `cell_errors`),
    without its traceback unless `tracebacks`; a kernel that dies or a cell that times
    out raises BuildError naming `shown`.
    """
    request = RunRequest(nb, shown, cwd, timeout, allow_errors=True, tracebacks=tracebacks)
    outcome = KernelExecutor(niceness).run(request)
    if not outcome.ok or outcome.executed is None:
        raise BuildError(f"{shown}: {outcome.message()}")
    return outcome.executed
