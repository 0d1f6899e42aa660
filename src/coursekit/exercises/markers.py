"""The exercise markers: nbgrader's solution and mark-scheme delimiters, and test cells.

Code cells hold solution regions between `### BEGIN SOLUTION` and `### END SOLUTION`
(nbgrader's own delimiters, so the notebooks stay nbgrader-usable). Markdown cells
hold the model answers of written questions between `=== BEGIN MARK SCHEME ===` and
`=== END MARK SCHEME ===` (nbgrader's mark-scheme delimiters). Test cells may hold
hidden tests between `### BEGIN HIDDEN TESTS` and `### END HIDDEN TESTS`: run at
grading, absent from the student edition. As in nbgrader, a marker is any line that
CONTAINS the words (`### BEGIN SOLUTION ###`, `# BEGIN SOLUTION` and
`#### BEGIN SOLUTION` all open a solution). A test cell is a code
cell tagged `tests`, or one nbgrader marks as graded (`grade: true`, `solution: false`).

This module only reads: it finds regions and reports marker problems; it imports
no Jupyter machinery, so `coursekit check` stays fast.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

TEST_TAG = "tests"


@dataclass(frozen=True, slots=True)
class MarkerKind:
    name: str  # "solution" | "mark scheme" | "hidden tests"
    begin: re.Pattern[str]
    end: re.Pattern[str]
    cell_type: str  # the only cell type the region may live in
    begin_text: str
    end_text: str


SOLUTION = MarkerKind(
    "solution",
    re.compile(r".*BEGIN SOLUTION"),
    re.compile(r".*END SOLUTION"),
    "code",
    "### BEGIN SOLUTION",
    "### END SOLUTION",
)
MARK_SCHEME = MarkerKind(
    "mark scheme",
    re.compile(r".*BEGIN MARK SCHEME"),
    re.compile(r".*END MARK SCHEME"),
    "markdown",
    "=== BEGIN MARK SCHEME ===",
    "=== END MARK SCHEME ===",
)
HIDDEN_TESTS = MarkerKind(
    "hidden tests",
    re.compile(r".*BEGIN HIDDEN TESTS"),
    re.compile(r".*END HIDDEN TESTS"),
    "code",
    "### BEGIN HIDDEN TESTS",
    "### END HIDDEN TESTS",
)
KINDS = (SOLUTION, MARK_SCHEME, HIDDEN_TESTS)


@dataclass(frozen=True, slots=True)
class Region:
    """Lines `begin`..`end` (0-based, both marker lines included) of one cell."""

    kind: MarkerKind
    begin: int
    end: int
    indent: str  # the BEGIN line's indentation, kept by the placeholder


@dataclass(frozen=True, slots=True)
class MarkerProblem:
    """A marker that cannot be paired or sits in the wrong cell type."""

    code: str  # CK401 unbalanced, CK402 nested, CK403 wrong cell type
    line: int  # 1-based line within the cell
    message: str


def source_of(cell: Mapping[str, Any]) -> str:
    """A cell's source as one string (nbformat allows a list of lines on disk)."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def is_test_cell(cell: Mapping[str, Any]) -> bool:
    """A code cell tagged `tests`, or an nbgrader graded cell that is not a solution."""
    if cell.get("cell_type") != "code":
        return False
    meta = cell.get("metadata") or {}
    if TEST_TAG in (meta.get("tags") or []):
        return True
    nbg = meta.get("nbgrader") or {}
    return bool(nbg.get("grade")) and not nbg.get("solution")


def scan(cell: Mapping[str, Any]) -> tuple[list[Region], list[MarkerProblem]]:
    """The regions of `cell` and the problems of its markers (any cell type)."""
    lines = source_of(cell).split("\n")
    regions: list[Region] = []
    problems: list[MarkerProblem] = []
    open_: tuple[MarkerKind, int] | None = None
    for i, line in enumerate(lines):
        for kind in KINDS:
            if kind.begin.match(line):
                if open_ is not None:
                    problems.append(
                        MarkerProblem(
                            "CK402",
                            i + 1,
                            f"{kind.begin_text!r} inside the {open_[0].name} region opened on "
                            f"line {open_[1] + 1}; regions cannot nest: close the first one with "
                            f"{open_[0].end_text!r}",
                        )
                    )
                else:
                    open_ = (kind, i)
            elif kind.end.match(line):
                if open_ is None or open_[0] is not kind:
                    problems.append(
                        MarkerProblem(
                            "CK401",
                            i + 1,
                            f"{kind.end_text!r} without a matching {kind.begin_text!r} before it",
                        )
                    )
                else:
                    indent = lines[open_[1]][: len(lines[open_[1]]) - len(lines[open_[1]].lstrip())]
                    regions.append(Region(kind, open_[1], i, indent))
                    open_ = None
    if open_ is not None:
        kind, at = open_
        problems.append(
            MarkerProblem(
                "CK401", at + 1, f"{kind.begin_text!r} is never closed; add {kind.end_text!r}"
            )
        )
    cell_type = cell.get("cell_type")
    for region in regions:
        if region.kind.cell_type != cell_type:
            problems.append(
                MarkerProblem(
                    "CK403",
                    region.begin + 1,
                    f"a {region.kind.name} region in a {cell_type} cell; "
                    f"{region.kind.name} regions belong in {region.kind.cell_type} cells",
                )
            )
    return regions, problems


def iter_regions(nb: Mapping[str, Any]) -> Iterator[tuple[int, Region]]:
    """Every well-formed region of the notebook, with its cell index."""
    for index, cell in enumerate(nb.get("cells", [])):
        regions, _ = scan(cell)
        for region in regions:
            yield index, region
