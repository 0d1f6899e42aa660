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
configuration twice, which is a JavaScript error on every page). Notebook outputs
whose script loads a library from a CDN get the local copy when coursekit ships one
(Altair's Vega, Vega-Lite and vega-embed, from `loaders/`, written into the site only
when a page needs it); the others are listed by the build's offline report. It
imports nothing from Sphinx but its logger: it only connects to Sphinx events.
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
# Libraries notebook outputs load from CDNs, shipped in loaders/ (see its SOURCE.md files):
# the URL (any version, `?noext` for RequireJS kept) -> the copy under _static/.
LOADERS = Path(__file__).parent / "loaders"
LOADERS_STATIC = "_static/coursekit-loaders"
CDN_LIBRARY = re.compile(
    r"(?:https?:)?//cdn\.jsdelivr\.net/npm/+(vega-lite|vega-embed|vega-lib|vega)"
    r"(?:@[\w.\-]*)?(?:/build/[\w.\-]+\.js)?(\?noext)?(?=[\"'\s>])"
)
# A page's `<script src>` from a CDN (a theme's template, `html_js_files`) -> the copy.
CDN_SCRIPTS = (
    (
        re.compile(
            r"https?://cdnjs\.cloudflare\.com/ajax/libs/require\.js/2\.[\d.]+/require(?:\.min)?\.js"
        ),
        "requirejs/require.js",
    ),
    (
        re.compile(r"https?://unpkg\.com/tippy\.js@6[\w.\-]*/dist/tippy-bundle\.umd(?:\.min)?\.js"),
        "tippy/tippy-bundle.umd.min.js",
    ),
    (
        re.compile(r"https?://unpkg\.com/@popperjs/core@2[\w.\-]*/dist/umd/popper(?:\.min)?\.js"),
        "popper/popper.min.js",
    ),
    (
        re.compile(
            r"https?://cdn\.jsdelivr\.net/npm/feather-icons(?:@4[\w.\-]*)?/dist/feather(?:\.min)?\.js"
        ),
        "feather/feather.min.js",
    ),
)
SCRIPT_SRC = re.compile(r"""(<script\b[^>]*?\bsrc=)(["'])([^"']+)\2""", re.I)
LOCAL_LIBRARY = {
    "vega": "vega/vega.min.js",
    "vega-lib": "vega/vega.min.js",  # the name of Vega's bundle before Vega 5
    "vega-lite": "vega/vega-lite.min.js",
    "vega-embed": "vega/vega-embed.min.js",
}


def setup(app: Any) -> dict[str, Any]:
    """Register the extension with Sphinx."""
    app.connect("config-inited", _bundled_assets)
    # Before sphinx.ext.mathjax (priority 500) adds the script: whatever another
    # extension set `mathjax_path` to since, the bundled MathJax is the one listed.
    app.connect("html-page-context", _bundled_mathjax, priority=400)
    # Late, so that the scripts other extensions add for this page are there already.
    app.connect("html-page-context", _drop_repeated_scripts, priority=900)
    app.connect("html-page-context", _local_loaders, priority=900)
    app.connect("build-finished", _copy_loaders)
    app.connect("builder-inited", _local_scripts)
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


def _local_loaders(
    app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """A notebook output's CDN URL of a shipped library -> the site's copy, relative to
    the page (a loader script resolves it against the page, as a `src` would be)."""
    body = context.get("body")
    if not isinstance(body, str) or not CDN_LIBRARY.search(body):
        return
    pathto = context["pathto"]
    used: dict[str, None] = {}

    def local(match: re.Match[str]) -> str:
        path = pathto(f"{LOADERS_STATIC}/{LOCAL_LIBRARY[match[1]]}", 1) + (match[2] or "")
        used[path] = None
        return path

    body = CDN_LIBRARY.sub(local, body)
    # Named in attributes too, so that whatever reads the page's files (a unit's zip
    # takes the files its pages name) finds them; the loader's request reuses these.
    preload = "".join(f'<link rel="preload" as="script" href="{path}">\n' for path in used)
    context["body"] = preload + body
    for path in used:
        _used(app, path.rsplit(f"{LOADERS_STATIC}/", 1)[-1])


def _local_scripts(app: Any) -> None:
    """Every page as the builder renders it (its template's `<script src>` included):
    a CDN script coursekit ships is loaded from the site's copy instead."""
    templates = getattr(app.builder, "templates", None)
    if templates is None or getattr(templates, "_coursekit_local", False):
        return
    render = templates.render

    def render_local(template: str, context: dict[str, Any]) -> str:
        html = render(template, context)
        pathto = context.get("pathto")
        if not callable(pathto) or "<script" not in html:
            return str(html)

        def local(match: re.Match[str]) -> str:
            for cdn, copy in CDN_SCRIPTS:
                if cdn.fullmatch(match[3]):
                    _used(app, copy)
                    path = pathto(f"{LOADERS_STATIC}/{copy}", 1)
                    return f"{match[1]}{match[2]}{path}{match[2]}"
            return match[0]

        return SCRIPT_SRC.sub(local, str(html))

    templates.render = render_local
    templates._coursekit_local = True


def _used(app: Any, copy: str) -> None:
    """Note that a page of this build loads `copy` (a path under loaders/)."""
    if not hasattr(app, "_coursekit_loaders"):
        app._coursekit_loaders = set()
    app._coursekit_loaders.add(copy.split("/", 1)[0])


def _copy_loaders(app: Any, exception: Exception | None) -> None:
    """The shipped libraries a page of this build used into `_static/` (and those an
    earlier build of this output folder used: its pages may not have been written again)."""
    if exception is not None or getattr(app.builder, "format", "") != "html":
        return
    import shutil

    target = Path(app.outdir) / LOADERS_STATIC
    used = set(getattr(app, "_coursekit_loaders", ()))
    if target.is_dir():
        used |= {p.name for p in target.iterdir() if p.is_dir()}
    for name in sorted(used):
        if (LOADERS / name).is_dir():
            shutil.copytree(
                LOADERS / name,
                target / name,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns("*.md"),
            )
