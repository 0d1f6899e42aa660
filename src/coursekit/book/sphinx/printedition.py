"""Sphinx side of the PDF edition: the single-page book (`singlehtml` builder) made for print.

Loaded by `coursekit.sphinxext`; it changes nothing under any other builder.
Under `singlehtml` (which `coursekit build` runs for the PDF, `coursekit.packages.pdf`):

- the page gets the print style sheet, `_static/coursekit-print.css` (no
  navigation chrome, code that wraps, a page break before each unit), and the
  math assets (as `jupyter-book build --builder singlehtml` does);
- each unit's first page is preceded by the unit's title, where a page break falls;
- a quiz shows its questions only (`coursekit.quiz.printed`); their answers are
  gathered into an appendix, "Answers to the quizzes", at the end of the page;
- the page header loses its buttons (downloads, launch buttons, full screen).

Exercise pages are the student edition there too: `coursekit.sphinxext` rewrites
exercises when Sphinx reads them, whatever the builder.
"""

from __future__ import annotations

from html import escape
from typing import Any

from docutils import nodes
from sphinx import addnodes

from coursekit.model import Course, Unit
from coursekit.quiz.model import Quiz
from coursekit.quiz.printed import appendix, printed_answers, printed_questions
from coursekit.quiz.render import Resolver

PRINT_BUILDER = "singlehtml"
STYLE_SHEET = "coursekit-print.css"  # in book/sphinx/static/, which coursekit.offline adds
ANSWERS = "_coursekit_printed_answers"  # on the builder: the appendix's sections, in order


def is_print(builder: Any) -> bool:
    return getattr(builder, "name", None) == PRINT_BUILDER


def unit_title(unit: Unit) -> str:
    """A unit as the packages name it: "Module 2 · Title" in coursekit's layout."""
    return f"Module {unit.number} · {unit.title}" if unit.folder else unit.title


def on_builder_inited(app: Any) -> None:
    if is_print(app.builder):
        app.add_css_file(STYLE_SHEET)
        app.set_html_assets_policy("always")  # the one page needs MathJax if any page does
        setattr(app.builder, ANSWERS, [])
        _html_handlers_for_one_page(app)
        _typeset_every_formula(app.config)


def _typeset_every_formula(config: Any) -> None:
    """No lazy MathJax on the printed page: `ui/lazy` typesets a formula only once it is
    scrolled into view, so the PDF would show the rest as TeX. A copy is changed: the
    site's configuration keeps it."""
    settings = getattr(config, "mathjax3_config", None)
    if not isinstance(settings, dict):
        return
    loader = settings.get("loader")
    load = loader.get("load") if isinstance(loader, dict) else None
    if isinstance(loader, dict) and isinstance(load, list) and "ui/lazy" in load:
        kept = [name for name in load if name != "ui/lazy"]
        config.mathjax3_config = {**settings, "loader": {**loader, "load": kept}}


def _html_handlers_for_one_page(app: Any) -> None:
    """Give `singlehtml` the HTML visitors of every extension's nodes.

    Sphinx looks a node's visitor up under the builder's name and falls back on its
    format (`html`) only when no extension registered any visitor for that name. One
    that does (sphinx-exercise registers `singlehtml=`) leaves every other extension's
    nodes (cells hidden by tags, sphinx-design's, coursekit's quiz) without a visitor,
    and the one page could not be written.
    """
    handlers = app.registry.translation_handlers
    own = handlers.get(app.builder.name)
    if own is not None:
        for node, visitors in handlers.get(app.builder.format, {}).items():
            own.setdefault(node, visitors)


def mark_units(app: Any, doctree: nodes.document, course: Course) -> None:
    """Before each unit's first page (inlined in the one page), the unit's title."""
    firsts = {u.pages[0].docname: u for u in course.units if u.pages}
    for start in list(doctree.findall(addnodes.start_of_file)):
        unit = firsts.get(start["docname"])
        if unit is None or start.parent is None:
            continue
        heading = (
            f'<div class="ck-unit-start" id="ck-unit-{escape(unit.id)}">'
            f'<p class="ck-unit-title">{escape(unit_title(unit))}</p></div>'
        )
        start.parent.insert(start.parent.index(start), nodes.raw("", heading, format="html"))


def print_quiz(builder: Any, quiz: Quiz, where: str, resolve: Resolver) -> str:
    """The printed questions of `quiz`; its answers are kept for the appendix."""
    getattr(builder, ANSWERS).append(printed_answers(quiz, where, resolve))
    return printed_questions(quiz, resolve)


def on_page_context(
    app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """The one page: no header buttons, and the answers appendix at its end."""
    if not is_print(app.builder) or pagename != app.config.root_doc:
        return
    buttons = context.get("header_buttons")
    if isinstance(buttons, list):
        buttons.clear()
    sections = getattr(app.builder, ANSWERS, [])
    if "body" in context and sections:
        context["body"] += appendix(sections)
