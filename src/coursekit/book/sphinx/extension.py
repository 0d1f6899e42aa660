"""The Sphinx glue of coursekit: the `{quiz}` directive and student-only exercise pages.

Listed in `_config.yml` under `sphinx: extra_extensions`, so a plain
`jupyter-book build .` behaves like `coursekit build`:

- ```` ```{quiz} quiz.yml ```` renders the quiz file as an interactive form and adds
  the quiz's static script and style sheet (no inline code: LMS CSPs forbid it);
- every notebook under `exercises/` is turned into its student edition when Sphinx
  reads it, and the `_sources/` copy behind the download button is rewritten to
  the student edition too, so no solution reaches the site;
- every page passes axe-core (`coursekit.book.sphinx.a11y`, loaded from here).
"""

from __future__ import annotations

import logging as pylogging
import posixpath
from pathlib import Path, PurePath, PurePosixPath
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.writers.html5 import HTML5Translator

from coursekit import __version__
from coursekit.book.sphinx import bibcache, keptpages, matchers, printedition
from coursekit.exercises.editions import cell_label, student_edition
from coursekit.exercises.files import dumps_notebook
from coursekit.findings import Severity
from coursekit.loading import load_course
from coursekit.model import EXERCISES_DIR, Course, is_exercise
from coursekit.quiz.render import render_quiz

logger = logging.getLogger(__name__)
STATIC = Path(__file__).parents[2] / "quiz" / "static"
COURSE_ATTR = "_coursekit_course"  # where the application keeps the model


class quiz_node(nodes.General, nodes.Element):  # noqa: N801 (docutils naming)
    """Placeholder for a quiz; the HTML writer renders it from the quiz file."""


class QuizDirective(SphinxDirective):
    """```` ```{quiz} quiz.yml ````: the path is relative to the page."""

    required_arguments = 0
    optional_arguments = 1
    option_spec = {"class": directives.class_option}

    def run(self) -> list[nodes.Node]:
        arg = self.arguments[0] if self.arguments else "quiz.yml"
        docdir = posixpath.dirname(self.env.docname)
        rel = posixpath.normpath(posixpath.join(docdir, arg))
        root = Path(self.env.srcdir)
        self.env.note_dependency(str(root / rel))
        course = course_of(self.env.app)
        quiz = course.quiz(rel)
        found = [f for f in course.quiz_problems if f.path == rel]
        if quiz is None and not found:
            logger.warning("quiz file %s not found", rel, location=self.get_location())
            return []
        for f in found:
            logger.warning(
                "%s:%d:%d: %s %s",
                f.path,
                f.line,
                f.col,
                f.code,
                f.message,
                location=self.get_location(),
                type="coursekit",
                subtype=f.code,
            )
        if quiz is None or any(f.severity is Severity.ERROR for f in found):
            return []
        page = str(self.env.doc2path(self.env.docname, False))
        unit = course.unit_of(page) or course.unit_of(rel)
        fallback = course.config.course_id if course.config else "course"
        node = quiz_node(quiz_path=rel, module_id=unit.id if unit else fallback)
        self.set_source_info(node)
        return [node]


def course_of(app: Sphinx) -> Course:
    """The course model the book is built from.

    `coursekit build` hands in the model it loaded and checked (`hand_course`), so
    the book and the checks agree on what a quiz says and which unit it scores; a
    plain `jupyter-book build` loads it here, once per Sphinx run.
    """
    course: Course | None = getattr(app, COURSE_ATTR, None)
    if course is None:
        course = load_course(Path(app.srcdir)).course
        setattr(app, COURSE_ATTR, course)
    return course


def hand_course(app: Sphinx, course: Course | None) -> None:
    """Build from `course` (None: load it at the first use).

    An application kept for another build (`coursekit serve`) must not show the
    quizzes as they were: each build hands in the model it loaded.
    """
    if course is None:
        app.__dict__.pop(COURSE_ATTR, None)
    else:
        setattr(app, COURSE_ATTR, course)


def visit_quiz_html(self: HTML5Translator, node: quiz_node) -> None:
    course = course_of(self.builder.app)
    quiz = course.quiz(node["quiz_path"])
    if quiz is not None:
        here = self.builder.current_docname
        base = posixpath.dirname(node["quiz_path"])

        def resolve(target: str) -> tuple[str, str] | None:
            return _resolve(self.builder, here, base, target)

        if printedition.is_print(self.builder):
            unit = course.unit(node["module_id"])
            where = printedition.unit_title(unit) if unit else ""
            self.body.append(printedition.print_quiz(self.builder, quiz, where, resolve))
        else:
            self.body.append(render_quiz(quiz, node["module_id"], resolve))
    raise nodes.SkipNode


def _resolve(builder: Any, here: str, base: str, target: str) -> tuple[str, str] | None:
    """A page link written relative to the quiz file → (href from `here`, page title)."""
    path, _, anchor = target.partition("#")
    if not path:
        return None
    docname = posixpath.normpath(posixpath.join(base, path))
    docname = docname.removesuffix(".md").removesuffix(".ipynb")
    env = builder.env
    if docname not in env.all_docs:
        return None
    href = builder.get_relative_uri(here, docname)
    if anchor:  # the single-page builder's page links are anchors already
        href = f"{href.partition('#')[0]}#{anchor}"
    title = env.titles[docname].astext() if docname in env.titles else docname
    return href, title


def skip_node(self: Any, node: nodes.Element) -> None:
    raise nodes.SkipNode


def exercise_page(app: Sphinx, docname: str) -> bool:
    """Whether page `docname` is an exercise notebook (`coursekit.model.is_exercise`)."""
    return is_exercise(PurePath(app.env.doc2path(docname, False)).as_posix())


def student_source(docname: str, text: str, location: Any = None) -> str:
    """The student edition of an exercise notebook's JSON text (warnings logged)."""
    from coursekit.loading.notebooks import read_notebook

    read, problems = read_notebook(docname, text)
    if read is not None:
        nb = read.data
    else:
        # Never pass an unreadable exercise through as it is: it may hold solutions.
        logger.warning(
            "the exercise is not a notebook (%s); the page shows nothing of it",
            problems[0].message if problems else "unreadable",
            location=location,
            type="coursekit",
            subtype="CK400",
        )
        nb = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    student, marker_problems = student_edition(nb, docname.removeprefix(f"{EXERCISES_DIR}/"))
    for p in marker_problems:
        logger.warning(
            "%s: %s (the cell is left out of the student edition)",
            cell_label(nb, p.index),
            p.problem.message,
            location=location,
            type="coursekit",
            subtype=p.problem.code,
        )
    return dumps_notebook(student)


def student_markdown(docname: str, text: str, location: Any = None) -> str:
    """The student edition of a MyST Markdown exercise (converted as jupytext reads it,
    the editions made on the notebook, written back as MyST Markdown)."""
    import jupytext

    try:
        nb = jupytext.reads(text, fmt="md:myst")
    except Exception as exc:  # never pass an unreadable exercise through: it may hold solutions
        logger.warning(
            "the exercise is not a MyST Markdown notebook (%s); the page shows nothing of it",
            exc,
            location=location,
            type="coursekit",
            subtype="CK400",
        )
        return "# (exercise)\n"
    student = student_source(docname, jupytext.writes(nb, fmt="ipynb"), location)
    out: str = jupytext.writes(jupytext.reads(student, fmt="ipynb"), fmt="md:myst")
    return out


def student_text(app: Sphinx, docname: str, text: str, location: Any = None) -> str:
    """The student edition of exercise `docname`'s source, in the source's own format."""
    if str(app.env.doc2path(docname, False)).endswith(".md"):
        return student_markdown(docname, text, location)
    return student_source(docname, text, location)


def on_source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    """Replace each exercise notebook by its student edition before it is parsed."""
    if exercise_page(app, docname):
        source[0] = student_text(app, docname, source[0], location=docname)


def on_build_finished(app: Sphinx, exception: Exception | None) -> None:
    """Rewrite the `_sources/` copies of the exercises (the download button) as student editions."""
    if exception is not None or app.builder.format != "html":
        return
    sources = Path(app.outdir) / "_sources"
    suffix = app.config.html_sourcelink_suffix
    for docname in sorted(app.env.found_docs):
        if not exercise_page(app, docname):
            continue
        src = Path(app.env.doc2path(docname))
        name = docname + src.suffix + (suffix if suffix != src.suffix else "")
        copy = sources / PurePosixPath(name)
        if copy.is_file():
            text = student_text(app, docname, src.read_text(encoding="utf-8"))
            copy.write_text(text, encoding="utf-8")


def on_page_context(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Drop the launch buttons (Binder, Colab…) from exercise pages.

    They open the notebook from the repository, which is the teacher edition.
    """
    buttons = context.get("header_buttons")
    if isinstance(buttons, list) and pagename.startswith(f"{EXERCISES_DIR}/"):
        buttons[:] = [b for b in buttons if b.get("label") != "launch-buttons"]


def on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    """A page title shown in other pages (navigation, previous/next, search) is text:
    raw HTML in a heading (`# Intro <script>…`) stays markup in its own page, the
    author's, but is shown as its text wherever the title is repeated (the titles and
    the page's table of contents the navigation is made of)."""
    env = app.env
    for titles in (env.titles, env.longtitles, env.tocs):
        title = titles.get(env.docname)
        if title is None:
            continue
        for raw in list(title.findall(nodes.raw)):
            raw.replace_self(nodes.Text(raw.astext()))


def on_html_context(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """The book's title (`_config.yml` title: Sphinx's html_title) is text wherever a
    theme prints it, escaped or not (pydata's search page and logo print it raw)."""
    from markupsafe import Markup, escape

    for key in ("docstitle", "shorttitle", "project"):
        value = context.get(key)
        if isinstance(value, str) and not isinstance(value, Markup):
            context[key] = escape(value)


def on_doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """The print edition's one page: each unit starts with its title (and a new sheet)."""
    if printedition.is_print(app.builder) and docname == app.config.root_doc:
        printedition.mark_units(app, doctree, course_of(app))


class ReferenceFindings(pylogging.Filter):
    """Sphinx is the judge of cross-references at build time: its own and MyST's
    warnings about a reference it cannot resolve ("undefined label", "unknown
    document", "term not in glossary", MyST's "cross-reference target not found")
    carry coursekit's code, so the build log reads `page.md:12: WARNING: CK305 …` as
    `coursekit check` would (CK305 for a role, CK301 for a link or document). What
    `check` cannot know offline (a `key:target` of the book's intersphinx_mapping,
    whose inventory is not fetched) is not touched."""

    def __init__(self, intersphinx: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.intersphinx = tuple(f"'{key}:" for key in intersphinx)

    def filter(self, record: pylogging.LogRecord) -> bool:
        code = reference_code(getattr(record, "type", None), getattr(record, "subtype", None))
        msg = record.msg
        if code and isinstance(msg, str) and not msg.startswith("CK"):
            text = msg % record.args if record.args else msg
            if not any(key in text for key in self.intersphinx):
                record.msg, record.args = f"{code} {text} (Sphinx cannot resolve it)", ()
        return True


def reference_code(kind: str | None, subtype: str | None) -> str | None:
    """The coursekit code of a Sphinx warning about a reference, or None."""
    if kind == "ref":
        return "CK301" if subtype == "doc" else "CK305"
    if kind == "myst" and subtype == "xref_missing":
        return "CK301"
    return None


def _reference_findings(app: Sphinx, config: Any) -> None:
    """Sphinx set its log handlers up before loading extensions (each application has
    its own): from here on, reference warnings carry coursekit's codes."""
    mapping = getattr(config, "intersphinx_mapping", None) or {}
    keys = tuple(str(k) for k in mapping) if isinstance(mapping, dict) else ()
    for handler in pylogging.getLogger(logging.NAMESPACE).handlers:
        if not any(isinstance(f, ReferenceFindings) for f in handler.filters):
            handler.addFilter(ReferenceFindings(keys))


def on_config_inited(app: Sphinx, config: Any) -> None:
    config.html_static_path.append(str(STATIC))


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the quiz directive, its assets and the exercise rewriting."""
    app.setup_extension("coursekit.book.sphinx.a11y")
    app.setup_extension("coursekit.book.sphinx.solutions")  # `coursekit: solutions: hide`
    app.setup_extension("coursekit.book.sphinx.printpage")  # the PDF's page, chapter by chapter
    app.add_node(
        quiz_node,
        html=(visit_quiz_html, None),
        latex=(skip_node, None),
        text=(skip_node, None),
        man=(skip_node, None),
        texinfo=(skip_node, None),
    )
    app.add_directive("quiz", QuizDirective)
    app.add_js_file("coursekit-quiz.js", loading_method="defer")
    app.add_css_file("coursekit-quiz.css")
    app.connect("config-inited", on_config_inited)
    app.connect("config-inited", _reference_findings)
    app.connect("config-inited", bibcache.on_config_inited)  # pybtex formats an entry once
    app.connect("config-inited", matchers.on_config_inited)  # patterns compiled once per list
    keptpages.setup_events(app)  # pages whose HTML cannot have changed are not rewritten
    app.connect("source-read", on_source_read)
    app.connect("doctree-read", on_doctree_read, priority=900)  # after the title collector
    app.connect("html-page-context", on_html_context, priority=100)
    app.connect("build-finished", on_build_finished)
    # After sphinx-book-theme adds its launch buttons (priority 501).
    app.connect("html-page-context", on_page_context, priority=900)
    # The PDF edition (singlehtml builder only): see coursekit.book.sphinx.printedition.
    app.connect("builder-inited", printedition.on_builder_inited)
    app.connect("doctree-resolved", on_doctree_resolved)
    app.connect("html-page-context", printedition.on_page_context, priority=900)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
