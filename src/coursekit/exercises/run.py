"""Executing a notebook with a real kernel and reading which cells failed."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from coursekit.errors import BuildError
from coursekit.execute.kernels import KernelStartError, run_notebook


@dataclass(frozen=True, slots=True)
class CellError:
    index: int
    ename: str
    evalue: str

    def short(self) -> str:
        value = self.evalue.strip().splitlines()[0] if self.evalue.strip() else ""
        return f"{self.ename}: {value}" if value else self.ename


def execute(
    nb: dict[str, Any], cwd: Path, timeout: int, shown: str, niceness: int = 0
) -> dict[str, Any]:
    """Run every cell of `nb` in `cwd`, going on after errors; returns the executed copy.

    An error inside a cell is recorded in its outputs (read them with `cell_errors`);
    a kernel that dies or a cell that times out raises BuildError naming `shown`.
    """
    node = nbformat.from_dict(copy.deepcopy(nb))
    try:
        run_notebook(node, cwd, timeout, allow_errors=True, niceness=niceness)
    except KernelStartError as exc:
        raise BuildError(f"{shown}: the python3 kernel could not start ({exc})") from exc
    except CellTimeoutError as exc:
        raise BuildError(f"{shown}: a cell ran longer than {timeout} s ({exc})") from exc
    except DeadKernelError as exc:
        raise BuildError(f"{shown}: the kernel died while running ({exc})") from exc
    result: dict[str, Any] = nbformat.from_dict(node)
    return result


def cell_errors(nb: dict[str, Any]) -> dict[int, CellError]:
    """The error output of each code cell that raised, by cell index."""
    out: dict[int, CellError] = {}
    for index, cell in enumerate(nb.get("cells", [])):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if output.get("output_type") == "error":
                out[index] = CellError(
                    index, output.get("ename", "Error"), output.get("evalue", "")
                )
                break
    return out
