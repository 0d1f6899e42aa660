"""One way to run a notebook: a request, an executor, one outcome.

The execute stage, the exercises' self-checks and the grader all run notebooks
through an `Executor`. The back-ends differ only in how they shut the code in:

- plain: a fresh kernel (`KernelExecutor()`), for the book's notebooks (the execute
  stage runs it in its pool of worker processes, into the jupyter-cache);
- niced: the same at a lower priority (`KernelExecutor(niceness=...)`), for the
  self-checks, which nothing waits for but the end of the build;
- sandboxed: the grading harness under bubblewrap, with limits
  (`coursekit.exercises.sandbox.SandboxExecutor`), for submissions.

Everywhere `timeout` means seconds per cell, and when a run ends everything it
started is killed the same way (`coursekit.execute.processes.end_tree`). What
happened is one `Outcome`: succeeded, cell error, timeout, kernel died or killed,
with the notebook and the cell; `Outcome.message` says it in one vocabulary.
"""

from __future__ import annotations

import contextlib
import copy
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

from coursekit.execute.settings import DEFAULT_TIMEOUT


class Status(Enum):
    """How a run ended."""

    SUCCEEDED = "succeeded"
    CELL_ERROR = "cell error"  # a cell raised and the run stopped there
    TIMEOUT = "timeout"  # a cell ran longer than the timeout
    KERNEL_DIED = "kernel died"  # the kernel (or harness) ended, or never started
    KILLED = "killed"  # stopped for breaking a limit (CPU, memory, output)


@dataclass(frozen=True, slots=True)
class CellFailure:
    """The cell a run failed in: its index, and the error's type and value (if it raised)."""

    index: int
    ename: str = ""
    evalue: str = ""

    def first_line(self) -> str:
        """The first line of the error's value ("" when it has none)."""
        value = self.evalue.strip()
        return value.splitlines()[0] if value else ""

    def short(self) -> str:
        """`ename: first line of evalue`, or the bare `ename`."""
        line = self.first_line()
        return f"{self.ename}: {line}" if line else self.ename


@dataclass(frozen=True, slots=True)
class RunRequest:
    """What to run and how: `timeout` is seconds per cell; `cwd` None is a fresh empty folder.

    `env` is added to the back-end's environment (the build's own for kernels, a
    clean one in the sandbox). With `allow_errors` a cell that raises is recorded in
    its outputs and the run goes on (read them with `cell_errors`). Without
    `tracebacks` an error is recorded as its name and message only (IPython's
    "Minimal" mode): for runs whose errors are expected and never shown, since
    IPython's traceback costs the kernel about half a second of CPU per error.
    """

    notebook: Mapping[str, Any]  # nbformat 4 shape; never changed
    name: str  # how messages name the notebook
    cwd: Path | None = None
    timeout: int = DEFAULT_TIMEOUT
    kernel: str = "python3"
    env: Mapping[str, str] = field(default_factory=dict)
    allow_errors: bool = False
    tracebacks: bool = True


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one run did. `executed` is the notebook with its outputs (kernel back-ends);
    `tests` the verdict of each course test and `notes` what the harness said (sandbox);
    `detail` the back-end's own words (nbclient's message, the limit a job broke)."""

    status: Status
    notebook: str
    timeout: int
    cell: CellFailure | None = None
    executed: dict[str, Any] | None = None
    detail: str = ""
    kernel: str = "python3"
    tests: Mapping[int, tuple[bool, str]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status is Status.SUCCEEDED

    def message(self, cell: str | None = None) -> str:
        """What went wrong, in words ("" when it succeeded); `cell` names the cell if given."""
        where = cell or (f"cell {self.cell.index + 1}" if self.cell else "a cell")
        if self.status is Status.TIMEOUT:
            return f"{where} did not finish within the {self.timeout} s timeout"
        if self.status is Status.KERNEL_DIED and self.cell is None:
            return f"the {self.kernel!r} kernel could not start ({self.detail})"
        if self.status is Status.KERNEL_DIED:
            return f"the kernel died while running {where}"
        if self.status is Status.CELL_ERROR and self.cell is not None:
            error = f"{self.cell.ename}: {self.cell.evalue}".strip().rstrip(":")
            return f"{where} failed: {error}"
        return self.detail


class Executor(Protocol):
    """Runs one notebook request to its outcome; never raises for what the notebook did."""

    def run(self, request: RunRequest) -> Outcome: ...


class KernelExecutor:
    """Runs a request in a fresh Jupyter kernel, `niceness` steps nicer (0: plain)."""

    def __init__(self, niceness: int = 0) -> None:
        self.niceness = niceness

    def run(self, request: RunRequest) -> Outcome:
        """Execute the request's notebook (a copy) and say how it ended."""
        import nbformat
        from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

        from coursekit.execute.kernels import KernelStartError, run_notebook

        nb = nbformat.from_dict(copy.deepcopy(dict(request.notebook)))
        current = {"index": 0}

        def on_cell_start(cell: Any, cell_index: int) -> None:
            current["index"] = cell_index

        def ended(status: Status, cell: CellFailure | None = None, detail: str = "") -> Outcome:
            return Outcome(status, request.name, request.timeout, cell, nb, detail, request.kernel)

        with contextlib.ExitStack() as stack:
            cwd = request.cwd or Path(stack.enter_context(tempfile.TemporaryDirectory()))
            try:
                run_notebook(
                    nb,
                    cwd,
                    request.timeout,
                    request.kernel,
                    allow_errors=request.allow_errors,
                    tracebacks=request.tracebacks,
                    on_cell_start=on_cell_start,
                    niceness=self.niceness,
                    env=request.env,
                )
            except KernelStartError as exc:
                return ended(Status.KERNEL_DIED, None, str(exc))
            except CellTimeoutError as exc:
                return ended(Status.TIMEOUT, CellFailure(current["index"]), str(exc))
            except DeadKernelError as exc:
                return ended(Status.KERNEL_DIED, CellFailure(current["index"]), str(exc))
            except CellExecutionError as exc:
                failure = CellFailure(current["index"], exc.ename, exc.evalue)
                return ended(Status.CELL_ERROR, failure, str(exc))
        return ended(Status.SUCCEEDED)


def cell_errors(nb: Mapping[str, Any]) -> dict[int, CellFailure]:
    """The error output of each code cell that raised (a run with `allow_errors`), by index."""
    out: dict[int, CellFailure] = {}
    for index, cell in enumerate(nb.get("cells", [])):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if output.get("output_type") == "error":
                out[index] = CellFailure(
                    index, output.get("ename", "Error"), output.get("evalue", "")
                )
                break
    return out
