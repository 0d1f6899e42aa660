"""The launch page of each SCO: a bar with prev/next above a frame showing the module's pages.

The page carries no script of its own (an LMS's Content-Security-Policy may forbid
inline scripts and handlers): it loads `coursekit-scorm.js` and passes what the
runtime needs as `data-` attributes and as the list of page links. Without
JavaScript the links still open each page in the frame.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coursekit.packages.scorm.manifest import href
from coursekit.packages.words import words

RUNTIME_DIR = "scorm"  # zip folder of the launch pages and the runtime files
RUNTIME_FILES = ("coursekit-unit.js", "coursekit-scorm.js", "coursekit-scorm.css")
_TITLE = re.compile(r"<title>(.*?)</title>", re.S | re.I)


@dataclass(frozen=True, slots=True)
class LaunchPage:
    """What one launch page shows: the module and its pages (zip paths, titles)."""

    module_id: str
    title: str
    pages: tuple[tuple[str, str], ...]  # (zip path "modules/01-x/overview.html", title)
    has_quiz: bool = False
    mastery_score: int = 80  # percent to pass its quiz (the unit's own, else the course's)
    # When the unit is complete: "pages" (every page seen), "quiz" (quiz passed), "both",
    # or "share" (`completion_share` of its pages seen); module.yml `completion`.
    completion: str = "pages"
    completion_share: float = 1.0
    objectives: tuple[str, ...] = ()  # the unit's learning objectives, in order
    # Each question of its quiz → the 1-based objectives it assesses (quiz.yml `objectives`).
    assesses: tuple[tuple[str, tuple[int, ...]], ...] = ()
    quiz_title: str = ""
    # The pages of the other units (zip path → the unit's title): shown as references.
    elsewhere: tuple[tuple[str, str], ...] = ()


def unit_details(course: Any, unit: Any) -> dict[str, Any]:
    """The LaunchPage fields a unit and its quiz give (completion, objectives, questions)."""
    quiz = course.quiz(unit.quiz) if getattr(unit, "quiz", None) else None
    return {
        "completion": getattr(unit, "completion", "pages") or "pages",
        "completion_share": float(getattr(unit, "completion_share", 1.0) or 1.0),
        "objectives": tuple(getattr(unit, "objectives", ())),
        "assesses": tuple((q.id, tuple(q.objectives)) for q in quiz.questions) if quiz else (),
        "quiz_title": quiz.title if quiz else "",
        "elsewhere": tuple(
            (f"{page.docname}.html", _unit_title(other))
            for other in getattr(course, "units", ())
            if other.id != unit.id
            for page in other.pages
        ),
    }


def _unit_title(unit: Any) -> str:
    return f"Module {unit.number} · {unit.title}" if getattr(unit, "folder", None) else unit.title


def config_json(page: LaunchPage, language: str) -> str:
    """What the runtime reads from the launch page (`#ck-config`): rules, objectives, words.

    A JSON data block, not a script: Content-Security-Policies allow it."""
    data = {
        "completion": page.completion,
        "completionShare": page.completion_share,
        "objectives": list(page.objectives),
        "assesses": {qid: list(numbers) for qid, numbers in page.assesses},
        "quizTitle": page.quiz_title,
        "elsewhere": dict(page.elsewhere),
        "words": words(language),
    }
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def launch_path(module_id: str) -> str:
    """The zip path of a module's launch page."""
    return f"{RUNTIME_DIR}/launch-{module_id}.html"


def page_title(html_file: Path, site_title: str, fallback: str) -> str:
    """The page's own title from the built HTML, without the site title Sphinx appends."""
    match = _TITLE.search(html_file.read_text(encoding="utf-8", errors="replace")[:20000])
    if not match:
        return fallback
    title = html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()
    for sep in (" \u2014 ", " - ", " | "):
        suffix = sep + site_title
        if title.endswith(suffix):
            title = title[: -len(suffix)]
    return title or fallback


def render(
    page: LaunchPage, version: str, mastery_score: int, language: str, course_id: str
) -> str:
    """The launch page's HTML (for `version` "1.2" or "2004").

    The course and module ids key what the runtime saves in the LMS, so SCOs that
    share one store (as some LMSs keep per package) never read each other's data.
    """
    e = html.escape
    scripts = ("coursekit-unit.js", "coursekit-scorm.js")
    return f"""{head(page.title, language, "coursekit-scorm.css", scripts)}
<body data-ck-scorm="{e(version)}" data-ck-course="{e(course_id)}"
      data-ck-module="{e(page.module_id)}" data-ck-mastery="{mastery_score}">
{navigation(page, language=language)}
</body>
</html>
"""


def head(title: str, language: str, stylesheet: str, scripts: tuple[str, ...]) -> str:
    """A launch page (SCORM's or cmi5's) up to its body: its stylesheet and its scripts,
    deferred and in order (files only, no inline code)."""
    e = html.escape
    tags = "".join(f'\n  <script src="{e(name)}" defer></script>' for name in scripts)
    return f"""<!DOCTYPE html>
<html lang="{e(language)}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{e(title)}</title>
  <link rel="stylesheet" href="{e(stylesheet)}">{tags}
</head>"""


def navigation(page: LaunchPage, exit_button: bool = False, language: str = "en") -> str:
    """The bar (previous, position, next, the page list) and the frame pages open in.

    The SCORM and cmi5 launch pages share it, and their runtimes find it by these ids.
    `exit_button` adds an Exit button, hidden until the runtime shows it (cmi5's).
    """
    e = html.escape
    w = words(language)
    items = "\n".join(
        f'        <li><a href="../{href(path)}" target="ck-frame" data-ck-page="{e(path)}">'
        f"{e(title)}</a></li>"
        for path, title in page.pages
    )
    exit_html = (
        f'\n    <button type="button" id="ck-exit" hidden>{e(w["exit"])}</button>'
        if exit_button
        else ""
    )
    config = config_json(page, language)
    return f"""  <script type="application/json" id="ck-config">{config}</script>
  <header class="ck-bar">
    <h1>{e(page.title)}</h1>
    <span class="ck-controls">
    <button type="button" id="ck-prev">{e(w["previous"])}</button>
    <span id="ck-position" aria-live="polite"></span>
    <button type="button" id="ck-next">{e(w["next"])}</button>
    <details>
      <summary>{e(w["pages"])}</summary>
      <ol id="ck-pages">
{items}
      </ol>
    </details>
    </span>
    <span id="ck-tracking" role="status"></span>{exit_html}
  </header>
  <iframe id="ck-frame" name="ck-frame" title="{e(page.title)}"></iframe>"""
