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
when a page needs it) or when the Python package that made the output is installed
where the book builds, at the version the output names (BokehJS from `bokeh`,
plotly.js from `plotly`: the book that executes such outputs has them); a Google
Fonts `@import` in the site's CSS gets the self-hosted copy of the fonts coursekit
ships (`loaders/fonts/`, from @fontsource) when it ships every family the import
names. The others are listed by the build's offline report, with what would ship
them. It imports nothing from Sphinx but its logger: it only connects to Sphinx events.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

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
# Libraries notebook outputs load from CDNs at the exact version of the Python package
# that made them (BokehJS, plotly.js): served from that package when it is installed where
# the book builds at that version, never swapped for another one. An ES module `import`
# names the file without `.js`, as RequireJS paths do (which add it themselves).
PACKAGED_CDN = re.compile(
    r"(?P<imp>\bimport\s*[\"'])?(?:https?:)?//(?:"
    r"cdn\.(?:bokeh\.org|pydata\.org)/bokeh/release/(?P<bokeh>bokeh(?:-api|-gl|-widgets|-tables|-mathjax)?)"
    r"-(?P<bokeh_version>\d+\.\d+\.\d+)"
    r"|cdn\.plot\.ly/(?P<plotly>plotly)-(?P<plotly_version>\d+\.\d+\.\d+)"
    r")\.min(?P<js>\.js)?(?=[\"'\s>?#])"
)
# Google Fonts in a style sheet of the site, self-hosted from loaders/fonts/ (@fontsource).
FONT_IMPORT = re.compile(
    r"""@import\s+(?:url\(\s*(?P<q1>["']?)(?P<u1>(?:https?:)?//fonts\.googleapis\.com/[^)"'\s]+)"""
    r"""(?P=q1)\s*\)|(?P<q2>["'])(?P<u2>(?:https?:)?//fonts\.googleapis\.com/[^"']+)(?P=q2))[^;]*;"""
)
FONTS = {"PT Serif": "pt-serif", "Source Sans Pro": "source-sans-pro"}  # family -> folder
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
    if found and "//" not in found:
        # A local script given as MathJax (TU Delft's jupyterbook_patches: a loader that
        # fetches MathJax from a CDN) may also be added to every page: it goes too.
        replaced: set[str] = getattr(app, "_coursekit_mathjax_loaders", set())
        app._coursekit_mathjax_loaders = replaced | {_static_name(found)}
    if found and not _is_sphinx_default(found) and not getattr(app, "_coursekit_mathjax", None):
        app._coursekit_mathjax = found  # said once per build
        from sphinx.util import logging

        logging.getLogger(__name__).info(
            "coursekit: mathjax_path %r (set by the book or an extension) is replaced by "
            "the bundled MathJax 3, so that maths renders offline in the site and packages",
            found,
        )
    config.mathjax_path = MATHJAX


def _static_name(path: str) -> str:
    """A script's path as `add_js_file` and `mathjax_path` give it, relative to _static/."""
    return path.split("?", 1)[0].removeprefix("/").removeprefix("_static/")


def _is_sphinx_default(path: str) -> bool:
    return path.startswith("https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js")


def _drop_repeated_scripts(
    app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    seen: set[tuple[str, str]] = set()
    kept = []
    loaders: set[str] = getattr(app, "_coursekit_mathjax_loaders", set())
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", {}) or {}
        key = (str(getattr(script, "filename", None) or ""), str(attributes.get("body", "")))
        if TRACKER_URL.search(key[0]) or TRACKER_BODY.search(key[1]):
            continue  # analytics: never in the site or the packages
        if key[0] and _static_name(key[0]) in loaders:
            continue  # a MathJax loader the bundled MathJax replaced
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
    if not isinstance(body, str) or not (CDN_LIBRARY.search(body) or PACKAGED_CDN.search(body)):
        return
    pathto = context["pathto"]
    used: dict[str, str] = {}  # the page's copies -> their <link>'s rel

    def local(match: re.Match[str]) -> str:
        path = pathto(f"{LOADERS_STATIC}/{LOCAL_LIBRARY[match[1]]}", 1) + (match[2] or "")
        used[path] = 'rel="preload" as="script"'
        return path

    def packaged(match: re.Match[str]) -> str:
        library = "bokeh" if match["bokeh"] else "plotly"
        version = match["bokeh_version"] or match["plotly_version"]
        found = packaged_library(library)
        if found is None or found[0] != version:
            return match[0]  # not installed at that version: listed by the offline report
        copy = f"{library}/{version}/{match[library]}.min.js"
        _used_packaged(app, copy, found[1] / f"{match[library]}.min.js")
        path = pathto(f"{LOADERS_STATIC}/{copy}", 1)
        if match["imp"]:  # a module's specifier: relative as "./", and its file's real name
            used[path] = 'rel="modulepreload"'
            return match["imp"] + (path if path.startswith(".") else f"./{path}")
        used[path] = 'rel="preload" as="script"'
        return path if match["js"] else path.removesuffix(".js")

    body = PACKAGED_CDN.sub(packaged, CDN_LIBRARY.sub(local, body))
    # Named in attributes too, so that whatever reads the page's files (a unit's zip
    # takes the files its pages name) finds them; the loader's request reuses these.
    preload = "".join(
        f'<link {rel} href="{path}">\n'
        for path, rel in used.items()
        if f'src="{path}"' not in body  # a <script src> names it already
    )
    context["body"] = preload + body
    for path in used:
        copy = path.rsplit(f"{LOADERS_STATIC}/", 1)[-1]
        if (LOADERS / copy.split("/", 1)[0]).is_dir():
            _used(app, copy)


@cache
def packaged_library(library: str) -> tuple[str, Path] | None:
    """The version of `library` ("bokeh": BokehJS, "plotly": plotly.js) that the Python
    package installed here ships, and the folder of its `.min.js` files; None if absent."""
    import importlib.metadata
    import importlib.util

    try:
        spec = importlib.util.find_spec(library)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    package = Path(next(iter(spec.submodule_search_locations)))
    if library == "bokeh":
        folder = package / "server" / "static" / "js"
        try:
            version = importlib.metadata.version("bokeh")
        except importlib.metadata.PackageNotFoundError:
            return None
        return (version, folder) if (folder / "bokeh.min.js").is_file() else None
    folder = package / "package_data"  # plotly: its header names the plotly.js version
    try:
        with open(folder / "plotly.min.js", encoding="utf-8", errors="replace") as bundle:
            head = bundle.read(300)
    except OSError:
        return None
    found = re.search(r"plotly\.js v(\d+\.\d+\.\d+)", head)
    return (found[1], folder) if found else None


def google_fonts(url: str) -> list[str]:
    """The families a Google Fonts style sheet URL names (css2's `family=A:wght@..`,
    the older css's `family=A:400|B`)."""
    families = []
    for value in parse_qs(urlparse(url).query).get("family", []):
        for family in value.split("|"):
            name = family.split(":", 1)[0].strip()
            if name:
                families.append(name)
    return families


def _local_fonts(app: Any, site: Path) -> None:
    """A Google Fonts `@import` in the site's CSS -> the self-hosted copies, when
    coursekit ships every family it names (else it stays, and the report lists it)."""
    static = site / "_static"
    target = static / LOADERS_STATIC.split("/", 1)[1]
    for css in static.rglob("*.css"):
        if css.is_relative_to(target) or not css.is_file():
            continue
        text = css.read_text(encoding="utf-8", errors="replace")
        if "fonts.googleapis.com" not in text:
            continue

        def local(match: re.Match[str], css: Path = css) -> str:
            families = google_fonts(match["u1"] or match["u2"])
            if not families or any(family not in FONTS for family in families):
                return match[0]
            imports = []
            for family in families:
                folder = f"fonts/{FONTS[family]}"
                _used(app, folder)
                path = Path(os.path.relpath(target / folder, css.parent)).as_posix()
                imports.append(f'@import url("{path}/{FONTS[family]}.css");')
            return "\n".join(imports)

        changed = FONT_IMPORT.sub(local, text)
        if changed != text:
            css.write_text(changed, encoding="utf-8")


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
    top = copy.split("/", 1)[0]
    # A font: its family's folder only (fonts/pt-serif), not every family shipped.
    app._coursekit_loaders.add("/".join(copy.split("/", 2)[:2]) if top == "fonts" else top)


def _used_packaged(app: Any, copy: str, source: Path) -> None:
    """Note that a page of this build loads `copy` (a path under coursekit-loaders/),
    the installed package's file `source`."""
    if not hasattr(app, "_coursekit_packaged"):
        app._coursekit_packaged = {}
    app._coursekit_packaged[copy] = source


def _copy_loaders(app: Any, exception: Exception | None) -> None:
    """The shipped libraries a page of this build used into `_static/` (and those an
    earlier build of this output folder used: its pages may not have been written again)."""
    if exception is not None or getattr(app.builder, "format", "") != "html":
        return
    import shutil

    target = Path(app.outdir) / LOADERS_STATIC
    _local_fonts(app, Path(app.outdir))  # the theme's CSS is in _static/ by now
    used = set(getattr(app, "_coursekit_loaders", ()))
    if target.is_dir():
        used |= {p.name for p in target.iterdir() if p.is_dir() and p.name != "fonts"}
        used |= {f"fonts/{p.name}" for p in target.glob("fonts/*") if p.is_dir()}
    for copy, source in getattr(app, "_coursekit_packaged", {}).items():
        if not (target / copy).is_file():
            (target / copy).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / copy)
    for name in sorted(used):
        if (LOADERS / name).is_dir():
            shutil.copytree(
                LOADERS / name,
                target / name,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns("*.md"),
            )
