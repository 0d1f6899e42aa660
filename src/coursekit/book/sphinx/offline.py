"""Sphinx extension `coursekit.offline`: book pages load nothing from outside the site.

Listed in `_config.yml` (`sphinx: extra_extensions`), so a plain
`jupyter-book build .` gets it too. It serves MathJax 3 (tex-chtml, its fonts
and every TeX extension it loads on demand -- `\\color`, `\\boldsymbol`,
`\\cancel`... -- Apache-2.0, from the `mathjax` 3.2.2 npm package, see
static/mathjax/SOURCE.md) from the book's own `_static/` instead of a CDN,
whatever the book's `mathjax_path` or another extension says: the setting is
put back just before each page's scripts are listed, and the override is
reported once (naming the setting and its value). ipywidgets outputs get the
widget manager from `_static/widgets/` (`@jupyter-widgets/html-manager`, see
static/widgets/SOURCE.md), not RequireJS and embed-amd.js from CDNs. It drops analytics and
tracking scripts (Google Analytics' gtag.js, Plausible, Matomo...: a theme's
`analytics` option, Jupyter Book's `html: google_analytics_id`) from every page,
so that neither the site nor the packages made from it send learners' visits
elsewhere, and it drops scripts a page lists twice (sphinx-thebe adds its
configuration twice, which is a JavaScript error on every page). It imports
nothing from Sphinx but its logger: it only connects to Sphinx events.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

STATIC = Path(__file__).parent / "static"
MATHJAX = "mathjax/tex-chtml.js"  # relative to _static/
WIDGETS = "widgets/embed.js"  # @jupyter-widgets/html-manager, see static/widgets/SOURCE.md
# Analytics and tracking: a script loaded from one of these, or an inline one calling them.
TRACKER_URL = re.compile(
    r"googletagmanager\.com|google-analytics\.com|/gtag/js|plausible\.io|/plausible[.\w]*\.js"
    r"|matomo\.js|piwik\.js|static\.hotjar\.com|cdn\.segment\.com|clarity\.ms"
    r"|cloud\.umami\.is|scripts\.simpleanalyticscdn\.com|stats\.wp\.com",
    re.I,
)
TRACKER_BODY = re.compile(r"\bgtag\(|\bdataLayer\b|\b_paq\b|\bplausible\(|\bga\('create'", re.I)


def setup(app: Any) -> dict[str, Any]:
    """Register the extension with Sphinx."""
    app.connect("config-inited", _bundled_assets)
    # Before sphinx.ext.mathjax (priority 500) adds the script: whatever another
    # extension set `mathjax_path` to since, the bundled MathJax is the one listed.
    app.connect("html-page-context", _bundled_mathjax, priority=400)
    # Late, so that the scripts other extensions add for this page are there already.
    app.connect("html-page-context", _drop_repeated_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def _bundled_assets(app: Any, config: Any) -> None:
    config.html_static_path = [*config.html_static_path, str(STATIC)]
    _use_bundled_mathjax(app, config)
    _use_bundled_widgets(config)


def _use_bundled_widgets(config: Any) -> None:
    """myst-nb's widget manager (RequireJS and embed-amd.js from CDNs) -> the bundled one."""
    found = getattr(config, "nb_ipywidgets_js", None)
    if not isinstance(found, dict):
        return  # not a myst-nb book
    if any("//" in str(path) for path in found) or not found:
        config.nb_ipywidgets_js = {WIDGETS: {}}


def _bundled_mathjax(
    app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    _use_bundled_mathjax(app, app.config)


def _use_bundled_mathjax(app: Any, config: Any) -> None:
    found = str(config.mathjax_path or "")
    if found == MATHJAX:
        return
    if found and not _is_sphinx_default(found) and not getattr(app, "_coursekit_mathjax", None):
        app._coursekit_mathjax = found  # said once per build
        from sphinx.util import logging

        logging.getLogger(__name__).info(
            "coursekit: mathjax_path %r (set by the book or an extension) is replaced by "
            "the bundled MathJax 3, so that maths renders offline in the site and packages",
            found,
        )
    config.mathjax_path = MATHJAX


def _is_sphinx_default(path: str) -> bool:
    return path.startswith("https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js")


def _drop_repeated_scripts(
    app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    seen: set[tuple[str, str]] = set()
    kept = []
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", {}) or {}
        key = (str(getattr(script, "filename", None) or ""), str(attributes.get("body", "")))
        if TRACKER_URL.search(key[0]) or TRACKER_BODY.search(key[1]):
            continue  # analytics: never in the site or the packages
        if key not in seen:
            seen.add(key)
            kept.append(script)
    # In place: the list is the builder's own, which later handlers still append to.
    context["script_files"][:] = kept
