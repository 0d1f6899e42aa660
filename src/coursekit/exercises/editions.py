"""Student and teacher editions of an exercise notebook (plain dicts, nbformat 4 shape).

The student edition is what a learner may see: each solution region becomes
nbgrader's placeholder, each mark scheme becomes `YOUR ANSWER HERE`, each hidden
test region is removed (it runs at grading only), outputs and
execution counts are cleared, and metadata and attachments that could carry an
answer are dropped. Test cells and nbgrader metadata are kept, so nbgrader and
`coursekit exercises grade` still find them. The teacher edition is the source
itself (it gets its outputs when the self-check executes it).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from coursekit.exercises.markers import HIDDEN_TESTS, SOLUTION, MarkerProblem, scan, source_of

CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"
# Cell metadata a student edition keeps: what Jupyter, nbgrader and myst-nb need to
# show and grade the cell. Anything else (comments, plugin state) might hold an answer.
KEEP_CELL_META = ("tags", "nbgrader", "editable", "deletable", "jupyter", "mystnb")
KEEP_NB_META = ("kernelspec", "language_info", "nbgrader", "mystnb")
ATTACHMENT_REF = re.compile(r"attachment:([^\s)\"'>]+)")


@dataclass(frozen=True, slots=True)
class CellProblem:
    """A marker problem located in one cell; such a cell is blanked in the student edition."""

    index: int
    cell_id: str
    problem: MarkerProblem


def cell_label(nb: dict[str, Any], index: int) -> str:
    """How messages name a cell: its position and its id."""
    cell_id = nb["cells"][index].get("id")
    return f"cell {index + 1}" + (f" (id {cell_id})" if cell_id else "")


def _stub(cell_type: str, indent: str = "") -> list[str]:
    text = CODE_STUB if cell_type == "code" else TEXT_STUB
    return [indent + line for line in text.split("\n")]


def _strip_cell(cell: dict[str, Any]) -> tuple[dict[str, Any], list[MarkerProblem]]:
    regions, problems = scan(cell)
    out = copy.deepcopy(cell)
    cell_type = cell.get("cell_type", "")
    if problems:
        # Markers we cannot pair: the whole cell may be answer text, so none of it stays.
        out["source"] = "\n".join(_stub(cell_type))
    elif regions:
        lines = source_of(cell).split("\n")
        for region in sorted(regions, key=lambda r: r.begin, reverse=True):
            # Hidden tests leave nothing behind, as in nbgrader; answers leave a stub.
            stub = [] if region.kind is HIDDEN_TESTS else _stub(cell_type, region.indent)
            lines[region.begin : region.end + 1] = stub
        out["source"] = "\n".join(lines)
    touched = bool(regions or problems)
    meta = {k: v for k, v in (cell.get("metadata") or {}).items() if k in KEEP_CELL_META}
    if touched:
        meta.pop("mystnb", None)  # e.g. the alt text of a chart the solution draws
    out["metadata"] = meta
    if cell_type == "code":
        out["outputs"] = []
        out["execution_count"] = None
    if "attachments" in out:
        used = set(ATTACHMENT_REF.findall(source_of(out)))
        out["attachments"] = {k: v for k, v in out["attachments"].items() if k in used}
        if not out["attachments"]:
            del out["attachments"]
    return out, problems


def student_edition(nb: dict[str, Any], exercise: str) -> tuple[dict[str, Any], list[CellProblem]]:
    """The student edition of `nb`, and the marker problems met (their cells are blanked)."""
    cells = []
    found: list[CellProblem] = []
    for index, cell in enumerate(nb.get("cells", [])):
        clean, problems = _strip_cell(cell)
        cells.append(clean)
        found += [CellProblem(index, str(cell.get("id", "")), p) for p in problems]
    meta = {k: v for k, v in (nb.get("metadata") or {}).items() if k in KEEP_NB_META}
    meta["coursekit"] = {"exercise": exercise, "edition": "student"}
    out = {k: v for k, v in nb.items() if k not in ("cells", "metadata")}
    out.update(cells=cells, metadata=meta)
    return out, found


def teacher_edition(nb: dict[str, Any], exercise: str) -> dict[str, Any]:
    """The teacher edition before execution: the source, labelled, with stale outputs cleared."""
    out = copy.deepcopy(nb)
    for cell in out.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    out.setdefault("metadata", {})["coursekit"] = {"exercise": exercise, "edition": "teacher"}
    return out


def solution_lines(nb: dict[str, Any]) -> list[str]:
    """The non-blank lines inside solution, mark-scheme and hidden-test regions (what
    must never leak)."""
    out: list[str] = []
    for cell in nb.get("cells", []):
        regions, _ = scan(cell)
        lines = source_of(cell).split("\n")
        for region in regions:
            out += [ln.strip() for ln in lines[region.begin + 1 : region.end] if ln.strip()]
    return out


def has_solution(nb: dict[str, Any]) -> bool:
    """Whether the notebook has at least one code solution region."""
    return any(r.kind is SOLUTION for cell in nb.get("cells", []) for r in scan(cell)[0])
