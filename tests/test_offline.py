"""Offline means offline: maths typesets with no network, and what still leaves is listed.

The fixture books under tests/fixtures/books/ are built by the real CLI and their
pages opened in Debian's Chromium with every request leaving localhost blocked.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from browser import serve, settle, watch
from conftest import run_cli

BOOKS = Path(__file__).parent / "fixtures" / "books"


def _built(tmp_path: Path, name: str, *args: str) -> Path:
    book = Path(shutil.copytree(BOOKS / name, tmp_path / name))
    result = run_cli("build", *args, book, cwd=book)
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return book


@pytest.mark.browser
def test_maths_with_tex_extensions_typesets_offline_despite_a_cdn_mathjax_path(
    tmp_path: Path, page
) -> None:
    # The book sets `mathjax_path` to a CDN and its own extension sets it again later.
    book = _built(tmp_path, "maths-offline", "--only", "html")
    html = (book / "_build/html/colours.html").read_text(encoding="utf-8")
    assert "cdn.jsdelivr" not in html and "cdnjs" not in html
    seen = watch(page)  # every request leaving 127.0.0.1 is aborted (and recorded)
    with serve(book / "_build/html") as base:
        page.goto(f"{base}/colours.html", wait_until="load")
        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("MathJax.startup.promise")
        page.wait_for_load_state("networkidle")
        formulas = page.locator("mjx-container")
        # 3 inline formulas and 1 display formula, none of them an error box
        assert formulas.count() == 4, page.content()[:3000]
        assert page.locator("mjx-merror").count() == 0
        assert page.locator("mjx-container mjx-mi").count() > 0
    assert not seen.external_requests and not seen.page_errors, seen.problems()


@pytest.mark.browser
def test_maths_typesets_when_the_book_asks_for_lazy_mathjax(tmp_path: Path, page) -> None:
    """A book (or an extension: TU Delft's jupyterbook_patches) may load MathJax's
    `ui/lazy`; offline, MathJax then still starts in the site, and the PDF, printed
    with every formula typeset, shows no TeX."""
    book = Path(shutil.copytree(BOOKS / "maths-offline", tmp_path / "lazy"))
    config = book / "_config.yml"
    config.write_text(
        config.read_text(encoding="utf-8") + '    mathjax3_config: {loader: {load: ["ui/lazy"]}}\n',
        encoding="utf-8",
    )
    result = run_cli("build", "--only", "pdf", book, cwd=book)
    assert result.returncode == 0, result.stderr[-3000:]
    printed = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(book / "_build/pdf/maths-offline.pdf"), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "Coloured maths" in printed
    assert not re.search(r"\\(color|boldsymbol|cancel|frac)", printed), printed
    site = run_cli("build", "--only", "html", book, cwd=book)
    assert site.returncode == 0, site.stderr[-3000:]
    html = (book / "_build/html/colours.html").read_text(encoding="utf-8")
    assert "ui/lazy" in html  # the site keeps the book's choice
    seen = watch(page)
    with serve(book / "_build/html") as base:
        page.goto(f"{base}/colours.html", wait_until="load")
        page.wait_for_function(
            "document.querySelectorAll('mjx-container').length === 4", timeout=30_000
        )
        assert page.locator("mjx-merror").count() == 0
    assert not seen.external_requests and not seen.page_errors, seen.problems()


@pytest.mark.browser
def test_a_local_mathjax_loader_that_fetches_from_a_cdn_is_left_out(tmp_path: Path, page) -> None:
    """An extension gives MathJax as a local script that loads MathJax from a CDN and adds
    it to every page too: the pages keep the bundled MathJax only, typeset offline."""
    book = _built(tmp_path, "mathjax-loader", "--only", "html")
    html = (book / "_build/html/index.html").read_text(encoding="utf-8")
    assert "mathjax_loader.js" not in html and "_static/mathjax/tex-chtml.js" in html
    seen = watch(page)
    with serve(book / "_build/html") as base:
        page.goto(f"{base}/index.html", wait_until="load")
        page.wait_for_function(
            "document.querySelectorAll('mjx-container').length === 1", timeout=30_000
        )
    assert not seen.external_requests and not seen.page_errors, seen.problems()


def _report(book: Path) -> str:
    return (book / "_build/outside-requests.txt").read_text(encoding="utf-8")


def _css(book: Path) -> str:
    return (book / "_build/html/_static/custom.css").read_text(encoding="utf-8")


# Whether a face of the family was loaded (from a file of the site: the rest is blocked).
_LOADED_FONT = """async (family) => {
    await document.fonts.ready;
    return [...document.fonts].some(f => f.family.replace(/"/g, "") === family
                                         && f.status === "loaded");
}"""


@pytest.mark.browser
def test_packages_fetch_from_outside_only_what_the_build_report_lists(tmp_path: Path, page) -> None:
    import zipfile

    book = Path(shutil.copytree(BOOKS / "outside-requests", tmp_path / "outside-requests"))
    result = run_cli("build", book, cwd=book)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    # the remote image is a warning naming its page and URL
    assert re.search(
        r"warning: chart\.html: a remote image.*https://images\.example\.org/charts/rainfall\.png",
        result.stderr,
    ), result.stderr[-2000:]
    report = _report(book)
    listed, _, fixes = report.partition("\n\nWhat would ship them with the site:\n")
    lines = {tuple(line.split("\t")[:3]) for line in listed.splitlines()[1:]}
    assert ("chart.html", "image", "https://images.example.org/charts/rainfall.png") in lines
    assert ("chart.html", "script", "https://cdn.example.org/libs/charts-1.0.min.js") in lines
    font = "https://fonts.googleapis.com/css2?family=Roboto+Slab"
    assert ("index.html", "font", font) in lines  # the @import of _static/custom.css
    # quantecon-book-theme's Google Fonts (PT Serif, Source Sans Pro) are served from the site
    assert "PT+Serif" not in report and "fonts/pt-serif/pt-serif.css" in _css(book)
    # what would ship the rest: the very version of the package, the font's npm package
    assert re.search(r"bokeh-3\.4\.1\.min\.js -> .*install bokeh==3\.4\.1", fixes), fixes
    assert re.search(r"Roboto\+Slab -> .*npm @fontsource/roboto-slab", fixes), fixes
    assert "googletagmanager" not in report
    # An Altair chart's loader gets the shipped Vega; BokehJS and plotly.js at the installed
    # bokeh's and plotly's versions come from the site; a BokehJS of another version is listed.
    bokeh = "https://cdn.bokeh.org/bokeh/release/bokeh-3.4.1.min.js"
    assert ("charts.html", "script", bokeh) in lines
    charts = (book / "_build/html/charts.html").read_text(encoding="utf-8")
    assert "bokeh-3.9.2" not in charts and "cdn.plot.ly" not in charts
    assert "coursekit-loaders/bokeh/3.9.2/bokeh.min.js" in charts
    assert "coursekit-loaders/plotly/4.1.1/plotly.min.js" in charts
    assert "cdn.jsdelivr" not in charts and "jsdelivr" not in report
    # RequireJS from cdnjs (html_js_files) is served from the site: the chart loads through it
    assert "require.min.js" not in report and "coursekit-loaders/requirejs/require.js" in charts
    assert '"_static/coursekit-loaders/vega/vega-embed.min.js?noext"' in charts

    zips = sorted((book / "_build/scorm").glob("*.zip")) + sorted(
        (book / "_build/cmi5").glob("*.zip")
    )
    assert zips
    requested: set[str] = set()
    charts_seen = charts_packed = fonts_seen = 0
    for number, package in enumerate(zips):
        folder = tmp_path / f"package-{number}"
        with zipfile.ZipFile(package) as zipped:
            zipped.extractall(folder)
        pages = sorted(folder.rglob("*.html"))
        charts_packed += any(html.name == "charts.html" for html in pages)
        for html in pages:  # analytics never reach a package
            text = html.read_text(encoding="utf-8", errors="replace")
            assert "googletagmanager" not in text and "gtag(" not in text, html
        seen = watch(page)
        with serve(folder) as base:
            for html in pages:
                if html.name in ("genindex.html", "search.html"):
                    continue
                page.goto(f"{base}/{html.relative_to(folder).as_posix()}", wait_until="load")
                settle(page)
                if html.name == "charts.html":  # the charts are drawn, from the package's
                    chart = page.locator("#altair-viz-7c0f3b1e")  # Vega,
                    chart.locator("canvas, svg").first.wait_for(timeout=20_000)
                    assert chart.locator(".error").count() == 0, chart.inner_html()[:500]
                    page.locator(".bk-Canvas canvas").first.wait_for(timeout=20_000)  # BokehJS
                    bars = page.locator(".js-plotly-plot .bars path")  # and plotly.js
                    bars.first.wait_for(timeout=20_000)
                    assert bars.count() == 3
                    charts_seen += 1
                elif html.name == "index.html":  # the heading's PT Serif, from the package
                    fonts_seen += page.evaluate(_LOADED_FONT, "PT Serif")
        requested |= set(seen.external_requests)
    reported = {line[2] for line in lines}
    # the CDN script and the remote image were asked for (and blocked): the scan is not idle
    assert "https://images.example.org/charts/rainfall.png" in requested
    assert "https://cdn.example.org/libs/charts-1.0.min.js" in requested
    assert bokeh in requested and charts_seen == charts_packed > 0
    assert fonts_seen > 0
    assert requested <= reported, requested - reported


@pytest.mark.browser
def test_an_ipywidgets_slider_renders_offline_in_the_site_and_the_packages(
    tmp_path: Path, page
) -> None:
    import zipfile

    pytest.importorskip("ipywidgets")
    book = Path(shutil.copytree(BOOKS / "widgets", tmp_path / "widgets"))
    result = run_cli("build", book, cwd=book)
    assert result.returncode == 0, result.stderr[-3000:]
    html = (book / "_build/html/slider.html").read_text(encoding="utf-8")
    assert "application/vnd.jupyter.widget-state+json" in html  # the state survived execution
    package = sorted((book / "_build/scorm").glob("*.zip"))[0]
    with zipfile.ZipFile(package) as zipped:
        zipped.extractall(tmp_path / "package")
    sliders = [
        book / "_build/html",
        *(p.parent for p in (tmp_path / "package").rglob("slider.html")),
    ]
    assert len(sliders) == 2
    for site in sliders:
        seen = watch(page)
        with serve(site) as base:
            page.goto(f"{base}/slider.html", wait_until="load")
            slider = page.locator(".widget-slider, .jupyter-widgets.widget-hslider").first
            slider.wait_for(timeout=20_000)
            assert "Rate" in slider.inner_text()
            assert page.locator(".widget-readout").first.inner_text().strip() == "7"
        assert not seen.external_requests and not seen.page_errors, seen.problems()


def test_no_execute_runs_no_page_even_one_whose_front_matter_forces_execution(
    tmp_path: Path,
) -> None:
    # `mystnb: execution_mode: force` in a page's front matter overrides the global mode
    # in myst-nb: `--no-execute` used to start a kernel in the book stage for it.
    book = _built(tmp_path, "page-execution-mode", "--no-execute", "--only", "html")
    html = (book / "_build/html/forced.html").read_text(encoding="utf-8")
    assert "ran-at-build-" in html  # the code is shown
    assert "ran-at-build-42" not in html  # but it never ran
