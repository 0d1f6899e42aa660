"""Student editions of `sphinx-exercise` books: `coursekit: solutions: hide`.

With that setting in `_config.yml`, every `{solution}` of sphinx-exercise (and
its gated form, `{solution-start}` ... `{solution-end}`, which sphinx-exercise
merges into one solution while reading) is removed from each page as Sphinx
reads it -- so from the site, its search index, the packages and the PDF -- and
from the page's `_sources/` copy behind the download button. (sphinx-exercise's
own `hide_solutions` leaves the body of a gated solution on the page.)

The teacher edition keeps them: a plain `jupyter-book build` run with
`COURSEKIT_SOLUTIONS=show` in its environment (coursekit's own builds ignore it,
so what `coursekit build` publishes never holds a solution).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path, PurePosixPath
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)
SOLUTION_NODES = {"solution_node", "solution_start_node", "solution_end_node"}
TEACHER_ENV = "COURSEKIT_SOLUTIONS"
# A MyST fence opening a solution: ```{solution} / :::{solution-start} (3 or more marks).
OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|:{3,})\{solution(?P<kind>-start|-end)?\}")
RST = re.compile(r"^(?P<indent>[ \t]*)\.\.[ \t]+solution(?P<kind>-start|-end)?::")


def setting(app: Sphinx) -> str:
    """`hide` or `show` (the default), from `coursekit: solutions:` in `_config.yml`."""
    from coursekit.book.sphinx.extension import course_of

    config = course_of(app).config
    raw: Any = config.raw if config is not None else {}
    section: Any = raw.get("coursekit") if hasattr(raw, "get") else None
    value = section.get("solutions") if hasattr(section, "get") else None
    if value not in (None, "hide", "show"):
        logger.warning(
            '_config.yml: coursekit: solutions: must be "hide" or "show", got %r; '
            "solutions are hidden",
            value,
            type="coursekit",
            subtype="CK103",
        )
        return "hide"
    return str(value or "show")


def hidden(app: Sphinx) -> bool:
    """Whether this build is a student edition (solutions removed)."""
    from coursekit.book.sphinx.extension import COURSE_ATTR

    found = getattr(app, "_coursekit_solutions", None)
    if found is None:
        # `coursekit build` hands its course in before Sphinx reads: then no teacher edition.
        handed = getattr(app, COURSE_ATTR, None) is not None
        found = setting(app) == "hide"
        teacher = os.environ.get(TEACHER_ENV, "").lower() == "show"
        if found and teacher and not handed:
            logger.info("coursekit: %s=show: the teacher edition, with the solutions", TEACHER_ENV)
            found = False
        app._coursekit_solutions = found  # type: ignore[attr-defined]
    return bool(found)


def on_before_read(app: Sphinx, env: Any, docnames: list[str]) -> None:
    app.__dict__.pop("_coursekit_solutions", None)  # decided again for each build
    hidden(app)


def on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    """Remove every solution of the page (after sphinx-exercise merged the gated ones)."""
    if not hidden(app):
        return
    for node in list(doctree.findall(nodes.Element)):
        if type(node).__name__ in SOLUTION_NODES and node.parent is not None:
            node.parent.remove(node)


def without_solutions(text: str) -> str:
    """MyST Markdown or reStructuredText `text` without its solution directives (and
    without what a `{solution-start}` ... `{solution-end}` pair holds)."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    index = 0
    gated = False
    while index < len(lines):
        line = lines[index]
        myst, rst = OPEN.match(line), RST.match(line)
        found = myst or rst
        if found is None:
            if not gated:
                out.append(line)
            index += 1
            continue
        kind = found.group("kind")
        index = _skip_directive(lines, index, myst, rst)
        if kind == "-start":
            gated = True
        elif kind == "-end":
            gated = False
    return "".join(out)


def _skip_directive(lines: list[str], index: int, myst: Any, rst: Any) -> int:
    """The index of the line after the directive opening at `index`."""
    if myst is not None:
        fence = myst.group("fence")
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        for end in range(index + 1, len(lines)):
            if closing.match(lines[end]):
                return end + 1
        return len(lines)
    indent = len(rst.group("indent"))
    end = index + 1
    while end < len(lines):
        line = lines[end]
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        end += 1
    return end


def student_copy(path: Path, text: str) -> str:
    """A page's source without its solutions: Markdown/rST as text, a notebook cell by cell."""
    if path.suffix != ".ipynb":
        return without_solutions(text)
    notebook = json.loads(text)
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "markdown":
            source = cell.get("source", "")
            joined = "".join(source) if isinstance(source, list) else str(source)
            cell["source"] = without_solutions(joined)
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def on_build_finished(app: Sphinx, exception: Exception | None) -> None:
    """The `_sources/` copies (the download button) of pages with solutions, without them."""
    if exception is not None or app.builder.format != "html" or not hidden(app):
        return
    sources = Path(app.outdir) / "_sources"
    suffix = app.config.html_sourcelink_suffix
    for docname in sorted(app.env.found_docs):
        src = Path(app.env.doc2path(docname))
        name = docname + src.suffix + (suffix if suffix != src.suffix else "")
        copy = sources / PurePosixPath(name)
        if not copy.is_file():
            continue
        text = copy.read_text(encoding="utf-8")
        if "solution" not in text:
            continue
        try:
            student = student_copy(src, text)
        except ValueError:  # not the notebook it claims to be: publish no source at all
            student = ""
        if student != text:
            copy.write_text(student, encoding="utf-8")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("env-before-read-docs", on_before_read)
    app.connect("doctree-read", on_doctree_read, priority=400)
    app.connect("build-finished", on_build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
