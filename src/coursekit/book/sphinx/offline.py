"""Sphinx extension `coursekit.offline`: book pages load nothing from outside the site.

Listed in `_config.yml` (`sphinx: extra_extensions`), so a plain
`jupyter-book build .` gets it too. It serves MathJax 3 (tex-chtml and its
fonts, Apache-2.0, from the `mathjax` npm package) from the book's own
`_static/` instead of a CDN, and drops scripts a page lists twice (sphinx-thebe
adds its configuration twice, which is a JavaScript error on every page).
It imports nothing from Sphinx: it only connects to Sphinx events.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

STATIC = Path(__file__).parent / "static"
MATHJAX = "mathjax/tex-chtml.js"  # relative to _static/


def setup(app: Any) -> dict[str, Any]:
    """Register the extension with Sphinx."""
    app.connect("config-inited", _bundled_assets)
    # Late, so that the scripts other extensions add for this page are there already.
    app.connect("html-page-context", _drop_repeated_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def _bundled_assets(app: Any, config: Any) -> None:
    config.html_static_path = [*config.html_static_path, str(STATIC)]
    config.mathjax_path = MATHJAX


def _drop_repeated_scripts(
    app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    seen: set[tuple[str, str]] = set()
    kept = []
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", {}) or {}
        key = (str(getattr(script, "filename", None) or ""), str(attributes.get("body", "")))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    # In place: the list is the builder's own, which later handlers still append to.
    context["script_files"][:] = kept
