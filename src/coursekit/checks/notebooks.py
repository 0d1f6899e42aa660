"""Checks on notebook files (CK201–CK206): JSON, schema, version, kernel, outputs.

Each notebook was read, parsed and validated once by `coursekit.loading`; these
checks only look at the result. A notebook the schema rejects gets CK202 and no
page checks, since its cells cannot be trusted. Where the book does not execute a
notebook (`execute_notebooks: off`, or its own exclude patterns), its committed
outputs are content: error outputs are then not reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from coursekit.findings import Finding, Severity, make
from coursekit.formats.positions import key_position
from coursekit.loading.nbschema import version_of
from coursekit.model import Course, Page, PageKind

# One output larger than this many characters of JSON is a warning (CK206): it bloats
# the repository and the pages. 500 kB is far above a chart PNG and far below a
# dataset printed by mistake.
OUTPUT_SIZE_LIMIT = 500_000
MIN_VERSION = (4, 5)  # cell ids arrived in nbformat 4.5


def notebook_pages(course: Course) -> Iterator[Page]:
    """Notebook pages that parsed as JSON objects."""
    return (page for page in course.pages if page.notebook is not None)


def unreadable(course: Course) -> Iterator[Finding]:
    """CK105/CK201: a notebook that is not UTF-8 text or not JSON."""
    for page in course.pages:
        if page.kind is PageKind.NOTEBOOK:
            yield from page.problems


def schema_errors(course: Course) -> Iterator[Finding]:
    """CK202: a notebook that nbformat (and so Jupyter Book) would reject."""
    for page in notebook_pages(course):
        nb = page.notebook
        assert nb is not None
        if nb.invalid is not None:
            cell, message = nb.invalid
            line, col = nb.cell_start(cell) if cell is not None else (1, 1)
            where = f"cell {cell + 1}: " if cell is not None else ""
            yield make("CK202", page.path, line, col, where + message)
        yield from _duplicate_ids(page)


def old_format(course: Course) -> Iterator[Finding]:
    """CK203: nbformat older than 4.5 has no cell ids, which myst-nb and our tools use."""
    for page in notebook_pages(course):
        assert page.notebook is not None
        version = version_of(page.notebook.data)
        if version is not None and version < MIN_VERSION:
            line, col = key_position(page.notebook.text, "nbformat_minor")
            yield make(
                "CK203",
                page.path,
                line,
                col,
                f"the notebook is nbformat {version[0]}.{version[1]}; upgrade it to 4.5 "
                "(cell ids): `jupyter nbconvert --to notebook --inplace` or save it "
                "with a recent Jupyter",
            )


def no_kernelspec(course: Course) -> Iterator[Finding]:
    """CK204: a notebook without a kernelspec. The execute stage (as nbclient, hence
    Jupyter Book) runs it in the default Python 3 kernel: an error only when its
    `language_info` names another language, whose code would then fail."""
    for page in notebook_pages(course):
        assert page.notebook is not None
        meta = page.notebook.data.get("metadata")
        spec = meta.get("kernelspec") if isinstance(meta, dict) else None
        if isinstance(spec, dict) and isinstance(spec.get("name"), str) and spec["name"]:
            continue
        line, col = key_position(page.notebook.text, "kernelspec" if spec else "metadata")
        language = _language(meta)
        python = language in (None, "python")
        severity = Severity.WARNING
        if not _ever_run(course, page):  # nothing breaks
            why = "the book does not execute it"
        elif python:  # nbclient's default kernel is the right one
            why = "until then it runs in the default Python 3 kernel, as Jupyter Book runs it"
        else:
            severity = Severity.ERROR
            why = f"its code is {language}, but without one it would run in Python 3"
        advice = (
            '"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}'
            if python
            else f'a "kernelspec" naming its {language} kernel (`jupyter kernelspec list`)'
        )
        message = f"the notebook has no kernelspec with a name; add {advice} to its metadata"
        yield replace(make("CK204", page.path, line, col, f"{message} ({why})"), severity=severity)


def _language(meta: object) -> str | None:
    """The notebook's language, from `language_info` (lower case), if it says one."""
    info = meta.get("language_info") if isinstance(meta, dict) else None
    name = info.get("name") if isinstance(info, dict) else None
    return name.lower() if isinstance(name, str) and name else None


def _ever_run(course: Course, page: Page) -> bool:
    """Whether the execute stage may run this notebook (execute_notebooks is not `off`
    and its exclude_patterns do not leave it out)."""
    from coursekit.execute.notebooks import kept_unread

    if course.config is None:
        return True
    settings = course.config.execute
    return settings.mode != "off" and not kept_unread(course.root, page.path, settings)


def error_outputs(course: Course) -> Iterator[Finding]:
    """CK205: a committed traceback shows readers an error the book never had."""
    for page, index, output in _outputs(course, executed_only=True):
        if output.get("output_type") == "error" and not _expects_error(page, index):
            assert page.notebook is not None
            line, col = page.notebook.cell_start(index)
            error = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".strip(": ")
            yield make(
                "CK205",
                page.path,
                line,
                col,
                f"cell {index + 1} has a committed error output ({error}); clear the "
                "outputs before committing (the build executes the notebook)",
            )


def large_outputs(course: Course) -> Iterator[Finding]:
    """CK206 (warning): one output over OUTPUT_SIZE_LIMIT characters."""
    for page, index, output in _outputs(course):
        size = _size(output)
        if size > OUTPUT_SIZE_LIMIT:
            assert page.notebook is not None
            line, col = page.notebook.cell_start(index)
            yield make(
                "CK206",
                page.path,
                line,
                col,
                f"cell {index + 1} has an output of {size // 1000} kB (limit "
                f"{OUTPUT_SIZE_LIMIT // 1000} kB); clear it or make it smaller",
            )


def _outputs(
    course: Course, executed_only: bool = False
) -> Iterator[tuple[Page, int, dict[str, Any]]]:
    for page in notebook_pages(course):
        if executed_only and not executes(course, page):
            continue
        assert page.notebook is not None
        for index, cell in enumerate(page.notebook.cells):
            outputs = cell.get("outputs") if isinstance(cell, dict) else None
            for output in outputs if isinstance(outputs, list) else ():
                if isinstance(output, dict):
                    yield page, index, output


def executes(course: Course, page: Page) -> bool:
    """Whether the build replaces this notebook's committed outputs by running it,
    by the rules the execute stage follows (`coursekit.execute.kept_unread`)."""
    from coursekit.execute.notebooks import kept_unread

    if course.config is None or page.notebook is None:
        return False
    settings = course.config.execute
    if settings.allow_errors or kept_unread(course.root, page.path, settings):
        return False  # errors are then part of the page, by the author's choice
    if settings.mode == "auto":  # myst-nb runs only notebooks with a code cell without outputs
        return any(
            isinstance(c, dict) and c.get("cell_type") == "code" and not c.get("outputs")
            for c in page.notebook.cells
        )
    return True


def _expects_error(page: Page, index: int) -> bool:
    assert page.notebook is not None
    cell = page.notebook.cells[index]
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    tags = meta.get("tags") if isinstance(meta, dict) else None
    return isinstance(tags, list) and "raises-exception" in tags


def _duplicate_ids(page: Page) -> Iterator[Finding]:
    assert page.notebook is not None
    seen: dict[str, int] = {}
    for index, cell in enumerate(page.notebook.cells):
        cid = cell.get("id") if isinstance(cell, dict) else None
        if not isinstance(cid, str):
            continue
        if cid in seen:
            line, col = page.notebook.cell_start(index)
            yield make(
                "CK202",
                page.path,
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


CHECKS = (unreadable, schema_errors, old_format, no_kernelspec, error_outputs, large_outputs)
