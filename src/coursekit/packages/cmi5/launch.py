"""The launch page of each AU: the SCORM launch page's bar and frame, with the cmi5 runtime.

Like the SCORM one it holds no script of its own (an LMS's Content-Security-Policy
may forbid inline code): it loads the vendored cmi5 client (`xapi-cmi5.js`) and
`coursekit-cmi5.js`, and passes what the runtime needs as `data-` attributes and
the list of page links. Without JavaScript the links still open each page.
"""

from __future__ import annotations

import html

from coursekit.packages.scorm.launch import LaunchPage, head, navigation

RUNTIME_DIR = "cmi5"  # zip folder of the launch pages and the runtime files
RUNTIME_FILES = ("xapi-cmi5.js", "coursekit-cmi5.js", "LICENSE-xapi-cmi5.md")
READER = "coursekit-unit.js"  # the SCORM launch pages' unit reader, shared
STYLE = "coursekit-cmi5.css"  # the SCORM launch pages' stylesheet, under this name


def launch_path(unit_id: str) -> str:
    """The zip path of a unit's AU launch page."""
    return f"{RUNTIME_DIR}/launch-{unit_id}.html"


def render(page: LaunchPage, move_on: str, language: str, course_id: str) -> str:
    """The AU launch page's HTML."""
    e = html.escape
    mastery = page.mastery_score if page.has_quiz else ""
    scripts = ("xapi-cmi5.js", READER, "coursekit-cmi5.js")
    return f"""{head(page.title, language, STYLE, scripts)}
<body data-ck-cmi5="1" data-ck-course="{e(course_id)}" data-ck-module="{e(page.module_id)}"
      data-ck-mastery="{mastery}" data-ck-move-on="{e(move_on)}">
{navigation(page, exit_button=True, language=language)}
</body>
</html>
"""
