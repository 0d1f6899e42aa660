"""Text from the course never runs as markup in a page (issue 24): the book's title, the
page headings repeated in the navigation and the TOC captions are text wherever they
reach HTML; a TOC `url:` is http(s) or a clear error at its line; a backslash path in
`_toc.yml` is refused."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import run_cli
from coursebuilder import make_course

TITLE = "Tiny </title><script>window.T1=1</script><img src=x onerror=window.T2=1> course"
HEADING = 'Demo <span onmouseover="window.H1=1">x</span> <script>window.H2=1</script>'
CAPTION = "Part <script>window.P1=1</script>"
MARKERS = ("T1", "T2", "H1", "H2", "P1")


class _Live(HTMLParser):
    """The scripts and event handlers a browser would run, as text."""

    def __init__(self) -> None:
        super().__init__()
        self.live: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        self.live += [f"{k}={v}" for k, v in attrs if k.startswith("on") and v]

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.live.append(data)


def _live_markers(page: Path) -> set[str]:
    parser = _Live()
    parser.feed(page.read_text(encoding="utf-8"))
    return {m for m in MARKERS for code in parser.live if f"window.{m}=" in code}


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_course(tmp_path_factory.mktemp("markup") / "course", {})
    config = root / "_config.yml"
    config.write_text(
        config.read_text(encoding="utf-8").replace('"Tiny course"', repr(TITLE).replace("'", '"')),
        encoding="utf-8",
    )
    (root / "modules/01-demo/overview.md").write_text(
        f"# {HEADING}\n\nThe demo module.\n", encoding="utf-8"
    )
    (root / "modules/01-demo/second.md").write_text("# Second\n\nMore.\n", encoding="utf-8")
    toc = root / "_toc.yml"
    text = toc.read_text(encoding="utf-8").replace("caption: Demo", f'caption: "{CAPTION}"')
    toc.write_text(
        text + "        sections:\n          - file: modules/01-demo/second\n", encoding="utf-8"
    )
    result = run_cli("build", root, "--only", "html", "--no-execute")
    assert result.returncode == 0, result.stderr
    return root / "_build" / "html"


def test_no_course_text_runs_as_script_in_any_other_page(hostile_site: Path) -> None:
    pages = sorted(hostile_site.rglob("*.html"))
    assert len(pages) >= 4
    own = hostile_site / "modules/01-demo/overview.html"
    running = {
        p.relative_to(hostile_site).as_posix(): found
        for p in pages
        if p != own and (found := _live_markers(p))
    }
    assert running == {}
    # The heading's own page keeps the author's markup in its body, but not the book title.
    assert not _live_markers(own) & {"T1", "T2", "P1"}


def test_the_texts_are_shown_as_text(hostile_site: Path) -> None:
    second = (hostile_site / "modules/01-demo/second.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;window.T1=1&lt;/script&gt;" in second  # the title, as text
    assert "&lt;script&gt;window.P1=1&lt;/script&gt;" in second  # the caption
    assert "window.H2=1" in second  # the heading's text, in the navigation


@pytest.mark.parametrize(
    "url",
    [
        "javascript://%0aalert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "mailto:teacher@example.com",
        "vbscript:msgbox(1)",
        "other/page.html",
        "//evil.example/x",
    ],
)
def test_a_toc_url_that_is_not_http_is_a_clear_error_at_its_line(tmp_path: Path, url: str) -> None:
    root = make_course(tmp_path / "course", {})
    toc = root / "_toc.yml"
    toc.write_text(
        toc.read_text(encoding="utf-8") + f'      - url: "{url}"\n        title: Link\n',
        encoding="utf-8",
    )
    result = run_cli("build", root, "--only", "html", "--no-execute")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr
    assert "_toc.yml:7:14: CK117" in result.stdout + result.stderr


def test_an_https_toc_url_is_accepted(tmp_path: Path) -> None:
    root = make_course(tmp_path / "course", {})
    toc = root / "_toc.yml"
    toc.write_text(
        toc.read_text(encoding="utf-8") + '      - url: "https://example.org/a?b=c#d"\n'
        "        title: Link\n",
        encoding="utf-8",
    )
    assert run_cli("check", root).returncode == 0


@pytest.mark.parametrize("entry", ["file: modules\\01-demo\\overview", "glob: modules\\*"])
def test_a_backslash_toc_path_is_refused(tmp_path: Path, entry: str) -> None:
    root = make_course(tmp_path / "course", {})
    toc = root / "_toc.yml"
    text = toc.read_text(encoding="utf-8")
    toc.write_text(text.replace("file: modules/01-demo/overview", entry), encoding="utf-8")
    result = run_cli("check", root)
    assert result.returncode == 1
    assert "CK118" in result.stdout and "backslash" in result.stdout
