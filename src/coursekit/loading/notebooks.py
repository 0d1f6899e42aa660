"""Notebook JSON → `NotebookSource`, validated once against nbformat's schema.

The JSON is parsed with the C `json` module; validation is `nbschema`'s (nbformat's
fastjsonschema backend gives the verdict, and only an invalid notebook pays for the
jsonschema pass that names the cell). Reading problems become findings (CK201).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from coursekit.findings import Finding, make
from coursekit.formats.frozen import TooDeep, freeze_json
from coursekit.loading.nbschema import schema_problem
from coursekit.model import Label, Markup, NotebookSource, Pos


def read_notebook(path: str, text: str) -> tuple[NotebookSource | None, list[Finding]]:
    """The notebook in `text` (the file `path`), or None with a CK201 finding."""
    problems: list[Finding] = []
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"the notebook is not JSON: {exc.msg}"
        problems.append(make("CK201", path, exc.lineno, exc.colno, msg))
        return None, problems
    except RecursionError:
        problems.append(make("CK201", path, 1, 1, "the notebook is nested too deeply"))
        return None, problems
    if not isinstance(data, dict):
        msg = f"the notebook must be a JSON object, not a {type(data).__name__}"
        problems.append(make("CK201", path, 1, 1, msg))
        return None, problems
    # The schema's validators do not descend into free-form values (metadata, outputs'
    # data), however deep: the depth is checked by the walk that freezes the JSON.
    invalid = schema_problem(data)
    try:
        frozen = freeze_json(data, max_depth=MAX_DEPTH)
    except TooDeep:
        msg = (
            f"the notebook nests values more than {MAX_DEPTH} levels deep; the book and "
            "the executor cannot read it (remove the deeply nested metadata or output)"
        )
        problems.append(make("CK201", path, 1, 1, msg))
        return None, problems
    return NotebookSource(text, frozen, invalid=invalid), problems


MAX_DEPTH = 100  # nesting the build's readers (nbformat, deepcopy, pickle) all follow


def markdown_cells(nb: dict[str, Any]) -> Iterator[tuple[int, str]]:
    """(index, source) of every markdown cell."""
    cells = nb.get("cells")
    for i, cell in enumerate(cells if isinstance(cells, list) else ()):
        if isinstance(cell, dict) and cell.get("cell_type") == "markdown":
            yield i, cell_source(cell)


def cell_source(cell: dict[str, Any]) -> str:
    """A cell's source as one string (on disk it may be a list of lines)."""
    source = cell.get("source")
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return "".join(source)
    return source if isinstance(source, str) else ""


def with_figure_names(markup: Markup, nb: dict[str, Any]) -> Markup:
    """Add the labels myst-nb gives code-cell figures: metadata `mystnb: {figure: {name: …}}`."""
    names = []
    for i, cell in enumerate(nb.get("cells") or ()):
        meta = cell.get("metadata") if cell.get("cell_type") == "code" else None
        mystnb = meta.get("mystnb") if isinstance(meta, dict) else None  # free-form metadata
        figure = mystnb.get("figure") if isinstance(mystnb, dict) else None
        if isinstance(figure, dict) and isinstance(figure.get("name"), str):
            names.append(Label(Pos(i, 1, 1), figure["name"]))
    return replace(markup, labels=(*markup.labels, *names)) if names else markup
