"""Checks on notebook files (CK201–CK206): JSON, schema, version, kernel, outputs.

Each notebook is read, parsed and validated once per run by `sources.page_source`
(validation in `nbschema`: nbformat's fastjsonschema backend gives the verdict,
and only an invalid notebook pays for the jsonschema pass that names the cell);
these checks only look at the result. A notebook the schema rejects gets CK202
and no page checks, since its cells cannot be trusted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from coursekit.checks.nbschema import version_of
from coursekit.checks.sources import PageSource, page_sources
from coursekit.findings import Finding, make
from coursekit.model import Course, PageKind

# One output larger than this many characters of JSON is a warning (CK206): it bloats
# the repository and the pages. 500 kB is far above a chart PNG and far below a
# dataset printed by mistake.
OUTPUT_SIZE_LIMIT = 500_000
MIN_VERSION = (4, 5)  # cell ids arrived in nbformat 4.5


def notebook_sources(course: Course) -> Iterator[PageSource]:
    """Notebook pages that parsed as JSON objects."""
    for source in page_sources(course):
        if source.page.kind is PageKind.NOTEBOOK and source.notebook is not None:
            yield source


def unreadable(course: Course) -> Iterator[Finding]:
    """CK105/CK201: a notebook that is not UTF-8 text or not JSON."""
    for source in page_sources(course):
        if source.page.kind is PageKind.NOTEBOOK:
            yield from source.problems


def schema_errors(course: Course) -> Iterator[Finding]:
    """CK202: a notebook that nbformat (and so Jupyter Book) would reject."""
    for source in notebook_sources(course):
        path = source.page.path
        if source.invalid is not None:
            cell, message = source.invalid
            line, col = source.cell_start(cell) if cell is not None else (1, 1)
            where = f"cell {cell + 1}: " if cell is not None else ""
            yield make("CK202", path, line, col, where + message)
        yield from _duplicate_ids(source)


def old_format(course: Course) -> Iterator[Finding]:
    """CK203: nbformat older than 4.5 has no cell ids, which myst-nb and our tools use."""
    for source in notebook_sources(course):
        version = version_of(source.notebook or {})
        if version is not None and version < MIN_VERSION:
            line, col = _key_position(source.text or "", "nbformat_minor")
            yield make(
                "CK203",
                source.page.path,
                line,
                col,
                f"the notebook is nbformat {version[0]}.{version[1]}; upgrade it to 4.5 "
                "(cell ids): `jupyter nbconvert --to notebook --inplace` or save it "
                "with a recent Jupyter",
            )


def no_kernelspec(course: Course) -> Iterator[Finding]:
    """CK204: without a kernelspec the execute stage does not know which kernel to run."""
    for source in notebook_sources(course):
        meta = (source.notebook or {}).get("metadata")
        spec = meta.get("kernelspec") if isinstance(meta, dict) else None
        if isinstance(spec, dict) and isinstance(spec.get("name"), str) and spec["name"]:
            continue
        line, col = _key_position(source.text or "", "kernelspec" if spec else "metadata")
        yield make(
            "CK204",
            source.page.path,
            line,
            col,
            "the notebook has no kernelspec with a name; add "
            '"kernelspec": {"name": "python3", "display_name": "Python 3", '
            '"language": "python"} to its metadata',
        )


def error_outputs(course: Course) -> Iterator[Finding]:
    """CK205: a committed traceback shows readers an error the book never had."""
    for source, index, output in _outputs(course):
        if output.get("output_type") == "error":
            line, col = source.cell_start(index)
            error = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".strip(": ")
            yield make(
                "CK205",
                source.page.path,
                line,
                col,
                f"cell {index + 1} has a committed error output ({error}); clear the "
                "outputs before committing (the build executes the notebook)",
            )


def large_outputs(course: Course) -> Iterator[Finding]:
    """CK206 (warning): one output over OUTPUT_SIZE_LIMIT characters."""
    for source, index, output in _outputs(course):
        size = _size(output)
        if size > OUTPUT_SIZE_LIMIT:
            line, col = source.cell_start(index)
            yield make(
                "CK206",
                source.page.path,
                line,
                col,
                f"cell {index + 1} has an output of {size // 1000} kB (limit "
                f"{OUTPUT_SIZE_LIMIT // 1000} kB); clear it or make it smaller",
            )


def _outputs(course: Course) -> Iterator[tuple[PageSource, int, dict[str, Any]]]:
    for source in notebook_sources(course):
        cells = (source.notebook or {}).get("cells")
        for index, cell in enumerate(cells if isinstance(cells, list) else ()):
            outputs = cell.get("outputs") if isinstance(cell, dict) else None
            for output in outputs if isinstance(outputs, list) else ():
                if isinstance(output, dict):
                    yield source, index, output


def _duplicate_ids(source: PageSource) -> Iterator[Finding]:
    cells = (source.notebook or {}).get("cells")
    seen: dict[str, int] = {}
    for index, cell in enumerate(cells if isinstance(cells, list) else ()):
        cid = cell.get("id") if isinstance(cell, dict) else None
        if not isinstance(cid, str):
            continue
        if cid in seen:
            line, col = source.cell_start(index)
            yield make(
                "CK202",
                source.page.path,
                line,
                col,
                f"cell {index + 1} has the id {cid!r} of cell {seen[cid] + 1}; "
                "cell ids must be unique",
            )
        else:
            seen[cid] = index


def _size(value: Any) -> int:
    """Roughly the characters an output takes in the file (its strings)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list):
        return sum(_size(v) for v in value)
    if isinstance(value, dict):
        return sum(_size(v) for v in value.values())
    return 8


def _key_position(text: str, key: str) -> tuple[int, int]:
    """Where the last top-level-looking `"key":` is written (nbformat puts it near the end)."""
    matches = list(re.finditer(rf'"{re.escape(key)}"\s*:', text))
    if not matches:
        return 1, 1
    offset = matches[-1].start()
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


CHECKS = (unreadable, schema_errors, old_format, no_kernelspec, error_outputs, large_outputs)
