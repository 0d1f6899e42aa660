"""Jupyter Book 2 (`myst.yml`) courses: loaded, checked, built by the real mystmd, packaged.

The fixture `tests/fixtures/jb2/book` is a small JB2 course of our own: two parts
(units), Markdown pages, a notebook with stored outputs (text, stream, HTML, PNG),
maths, numbered cross-references, an admonition, a figure, a table, a citation and a
footnote. mystmd (`pip install mystmd`) runs offline on the system's Node.js.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from conftest import run_cli
from coursebuilder import copy_course
from coursekit.book import engine_for
from coursekit.book.mystmd.render import PageContext, render_page
from coursekit.formats.mystnb import is_myst_notebook
from coursekit.loading import load_course
from coursekit.model import Course, PageKind
from coursekit.packages.scorm.manifest import SCHEMES
from coursekit.packages.scorm.validate import check_rules, validate_manifest

BOOK = Path(__file__).parent / "fixtures" / "jb2" / "book"
MYST = Path(sys.executable).parent / "myst"
needs_myst = pytest.mark.skipif(
    not MYST.is_file() or shutil.which("node") is None, reason="mystmd or Node.js missing"
)

# The same book as Jupyter Book 1.x writes it: the twin of myst.yml.
JB1_CONFIG = """\
title: A JB2 course
author: Ada Lovelace
bibtex_bibfiles: [references.bib]
parse:
  myst_enable_extensions: [colon_fence, dollarmath, amsmath]
sphinx:
  extra_extensions: [coursekit.sphinxext]
coursekit:
  id: jb2-fixture
  scorm:
    mastery_score: 70
"""
JB1_TOC = """\
format: jb-book
root: intro
parts:
  - caption: First steps
    chapters:
      - file: unit1/overview
      - file: unit1/numbers
      - file: exercises/first-steps/doubling
  - caption: Going further
    chapters:
      - file: unit2/overview
"""


def _copy(tmp_path: Path, name: str = "book") -> Path:
    dest = tmp_path / name
    shutil.copytree(BOOK, dest, ignore=shutil.ignore_patterns("_build"))
    return dest


def _jb1_twin(tmp_path: Path) -> Path:
    twin = _copy(tmp_path, "twin")
    (twin / "myst.yml").unlink()
    (twin / "_config.yml").write_text(JB1_CONFIG, encoding="utf-8")
    (twin / "_toc.yml").write_text(JB1_TOC, encoding="utf-8")
    return twin


def myst_init(folder: Path, option: str, answer: str) -> subprocess.CompletedProcess[str]:
    """`myst init OPTION` in `folder`, its one question answered."""
    return subprocess.run(
        [str(MYST), "init", option],
        cwd=folder,
        input=f"{answer}\n",
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_UPDATE_NOTIFIER": "1"},
    )


def convert_bundled_course(book: Path) -> Path:
    """The bundled course as mystmd's own upgrade makes it a JB2 project (`myst init`,
    answered yes), coursekit's section of `_config.yml` moved into `myst.yml`."""
    repo = Path(__file__).resolve().parent.parent
    book.mkdir(parents=True)
    copy_course(book)
    done = myst_init(book, "--project", answer="Y")
    assert done.returncode == 0 and (book / "myst.yml").is_file(), done.stdout + done.stderr
    assert not (book / "_config.yml").exists()  # kept by mystmd as ._config.yml.bak
    shutil.rmtree(book / "_build", ignore_errors=True)  # myst init's temp files
    ours = yaml.safe_load((repo / "_config.yml").read_text(encoding="utf-8"))["coursekit"]
    with (book / "myst.yml").open("a", encoding="utf-8") as f:
        f.write(yaml.safe_dump({"coursekit": ours}, allow_unicode=True))
    return book


def _findings(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if re.match(r"^\S+:\d+:\d+: CK\d+", line)]


# ------------------------------------------------------------------------ loading


def test_a_myst_yml_project_loads_into_the_same_course_model() -> None:
    result = load_course(BOOK)
    course = result.course
    assert result.findings == ()
    assert course.config is not None and course.config.path == "myst.yml"
    assert (course.config.title, course.config.author) == ("A JB2 course", "Ada Lovelace")
    assert course.config.course_id == "jb2-fixture"  # project.id
    assert course.config.scorm.mastery_score == 70  # the `coursekit:` section of myst.yml
    assert [(u.id, u.title, [p.path for p in u.pages]) for u in course.units] == [
        (
            "first-steps",
            "First steps",
            ["unit1/overview.md", "unit1/numbers.ipynb", "exercises/first-steps/doubling.ipynb"],
        ),
        ("going-further", "Going further", ["unit2/overview.md", "unit2/computed.ipynb"]),
    ]
    assert [e.name for e in course.exercises] == ["first-steps/doubling"]
    assert course.unit("going-further").quiz == "unit2/quiz.yml"
    assert [q.id for q in course.quizzes] == ["further-quiz"]
    assert course.page("unit1/numbers.ipynb").kind is PageKind.NOTEBOOK
    assert course.bibliography is not None and "knuth1984" in course.bibliography.keys
    assert type(engine_for(course)).__name__ == "MystEngine"


def test_a_uuid_project_id_of_myst_init_does_not_name_the_packages(tmp_path: Path) -> None:
    book = _copy(tmp_path)
    text = (book / "myst.yml").read_text(encoding="utf-8")
    uuid = "f2370450-2c39-4325-a5b1-0ff250d0f927"
    (book / "myst.yml").write_text(text.replace("id: jb2-fixture", f"id: {uuid}"), "utf-8")
    config = load_course(book).course.config
    assert config is not None and config.course_id == "a-jb2-course"


def test_without_parts_each_top_level_entry_is_a_unit(tmp_path: Path) -> None:
    book = _copy(tmp_path)
    for folder in ("unit1", "unit2"):
        (book / folder / "module.yml").unlink()
    text = (book / "myst.yml").read_text(encoding="utf-8")
    toc = text[text.index("  toc:") : text.index("coursekit:")]
    flat = (
        "  toc:\n    - file: intro.md\n    - file: unit1/overview.md\n      children:\n"
        "        - file: unit1/numbers.ipynb\n    - file: unit2/overview.md\n"
    )
    (book / "myst.yml").write_text(text.replace(toc, flat), encoding="utf-8")
    course = load_course(book).course
    assert [[p.path for p in u.pages] for u in course.units] == [
        ["unit1/overview.md", "unit1/numbers.ipynb"],
        ["unit2/overview.md"],
    ]


# ----------------------------------------------------------------------- checking


def test_the_jb2_book_checks_clean() -> None:
    result = run_cli("check", "--strict", BOOK)
    assert (result.returncode, _findings(result.stdout)) == (0, []), result.stdout + result.stderr


def test_check_gives_the_same_codes_and_positions_as_the_jb1_twin(tmp_path: Path) -> None:
    jb2, jb1 = _copy(tmp_path), _jb1_twin(tmp_path)
    for book in (jb2, jb1):
        page = book / "unit2" / "overview.md"
        broken = "\nA [gone page](missing.md) and ![](nowhere.png).\n"
        page.write_text(page.read_text(encoding="utf-8") + broken, encoding="utf-8")
    found = [_findings(run_cli("check", book).stdout) for book in (jb2, jb1)]
    assert found[0] == found[1]
    assert [f.split(" ")[0] for f in found[0]] == [
        "unit2/overview.md:26:3:",
        "unit2/overview.md:26:31:",
        "unit2/overview.md:26:31:",
    ]
    assert [f.split(" ")[1] for f in found[0]] == ["CK301", "CK302", "CK303"]


def test_a_missing_toc_file_is_reported_where_myst_yml_names_it(tmp_path: Path) -> None:
    book = _copy(tmp_path)
    (book / "unit2" / "overview.md").unlink()
    result = run_cli("check", book)
    assert result.returncode == 1
    text = (book / "myst.yml").read_text(encoding="utf-8").splitlines()
    line = next(i for i, t in enumerate(text, 1) if "file: unit2/overview.md" in t)
    col = text[line - 1].index("unit2/overview.md") + 1
    assert f"myst.yml:{line}:{col}: CK110" in result.stdout
    assert "Traceback" not in result.stderr


def _project_without_toc(root: Path) -> Path:
    """A myst.yml with no `project.toc`, as `myst init` leaves mystmd's quickstart: pages
    whose order needs mystmd's rules (README first, `2` before `10`, files before
    folders), a folder of pages, a hidden one and a folder that is its own project."""
    pages = [
        "README.md",
        "10-tenth.md",
        "01-start.md",
        "2-second/b.md",
        "2-second/a-first.md",
        "03-More_Topics/z.md",
        "03-More_Topics/index.md",
        ".hidden/x.md",
        "nested/n.md",
    ]
    for page in pages:
        (root / page).parent.mkdir(parents=True, exist_ok=True)
        (root / page).write_text(f"# Page {Path(page).stem}\n\nSome text.\n", "utf-8")
    (root / "nested" / "myst.yml").write_text("version: 1\nproject:\n  title: N\n", "utf-8")
    (root / "myst.yml").write_text("version: 1\nproject:\n  title: No TOC\n", "utf-8")
    return root


@needs_myst
def test_a_myst_yml_without_a_toc_gets_the_one_mystmd_makes(tmp_path: Path) -> None:
    ours = _project_without_toc(tmp_path / "ours")
    theirs = shutil.copytree(ours, tmp_path / "theirs")
    # The real mystmd writes out the TOC it makes for the folder.
    done = myst_init(theirs, "--write-toc", answer="n")
    assert done.returncode == 0 and "toc:" in (theirs / "myst.yml").read_text("utf-8"), done.stdout
    loaded = [load_course(book) for book in (ours, theirs)]
    assert [r.findings for r in loaded] == [(), ()]
    shapes = [
        (
            c.toc.root.path if c.toc and c.toc.root else None,
            [[p.path for p in u.pages] for u in c.units],
        )
        for c in (r.course for r in loaded)
    ]
    assert (
        shapes[0]
        == shapes[1]
        == (
            "README.md",
            [
                ["01-start.md", "10-tenth.md"],
                ["2-second/a-first.md", "2-second/b.md"],
                ["03-More_Topics/index.md", "03-More_Topics/z.md"],
            ],
        )
    )
    assert [u.title for u in loaded[0].course.units][1:] == ["Second", "More Topics"]
    result = run_cli("build", ours, "--only", "html")
    assert result.returncode == 0, result.stdout + result.stderr
    built = ours / "_build" / "html"
    assert (built / "2-second" / "a-first.html").is_file()
    assert not (built / "nested").exists() and not (built / ".hidden").exists()
    nav = re.findall(r'<a href="[^"]+"[^>]*>Page ([^<]+)</a>', (built / "README.html").read_text())
    assert nav == ["README", "01-start", "10-tenth", "a-first", "b", "index", "z"]


@needs_myst
def test_real_mystmd_accepts_the_coursekit_section_of_myst_yml(tmp_path: Path) -> None:
    book = _copy(tmp_path)
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "template.yml").write_text("jtex: v1\ntitle: t\n", encoding="utf-8")
    with (book / "myst.yml").open("a", encoding="utf-8") as f:
        f.write(f"site:\n  template: {tmp_path / 'tpl'}\n")
    done = subprocess.run(
        [str(MYST), "build", "--site"], cwd=book, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "extra key ignored: coursekit" in done.stdout + done.stderr
    assert (book / "_build" / "site" / "content" / "index.json").is_file()


# ---------------------------------------------------------------------- the build


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _parse(path: Path) -> tuple[str, list[tuple[str, dict[str, str | None]]]]:
    text = path.read_text(encoding="utf-8")
    parser = _Page()
    parser.feed(text)
    return text, parser.tags


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture book built by `coursekit build --only scorm` (which builds the site first)."""
    if not MYST.is_file() or shutil.which("node") is None:
        pytest.skip("mystmd or Node.js missing")
    book = _copy(tmp_path_factory.mktemp("jb2"))
    result = run_cli("build", book, "--only", "scorm")
    assert run_cli("build", book, "--only", "exercises").returncode == 0
    assert result.returncode == 0, result.stdout + result.stderr
    return book


def test_every_page_is_built_accessible_and_offline(built: Path) -> None:
    html_dir = built / "_build" / "html"
    for doc in ("intro", "unit1/overview", "unit1/numbers", "unit2/overview", "unit2/computed"):
        text, tags = _parse(html_dir / f"{doc}.html")
        names = [t for t, _ in tags]
        assert names.count("h1") == 1 and names.count("main") == 1 and "nav" in names, doc
        assert tags[0] == ("html", {"lang": "en"})
        assert ("a", {"class": "skip-link", "href": "#main-content"}) in tags
        for tag, attrs in tags:
            for key in ("src", "href"):
                value = attrs.get(key) or ""
                if tag in ("script", "link", "img"):
                    assert not value.startswith(("http:", "https:", "//")), (doc, value)
                    if value and not value.startswith("data:"):
                        assert (html_dir / doc).parent.joinpath(value).resolve().is_file(), value
    assert (html_dir / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert 'url=intro.html"' in (html_dir / "index.html").read_text(encoding="utf-8")


def test_the_ast_is_rendered_with_numbers_outputs_and_notes(built: Path) -> None:
    html_dir = built / "_build" / "html"
    intro = (html_dir / "intro.html").read_text(encoding="utf-8")
    overview = (html_dir / "unit1" / "overview.html").read_text(encoding="utf-8")
    numbers = (html_dir / "unit1" / "numbers.html").read_text(encoding="utf-8")
    further = (html_dir / "unit2" / "overview.html").read_text(encoding="utf-8")
    # Cross-references: numbered, to the page and anchor that hold the target.
    assert '<a class="xref" href="unit1/overview.html#euler">(1)</a>' in intro
    assert '<a class="xref" href="#fig-chart">Figure\u00a01</a>' in overview
    assert '<a class="xref" href="#sec-formula">A formula</a>' in overview
    assert '<h2 id="sec-formula">A formula</h2>' in overview
    # Maths for MathJax, with its equation number.
    assert '\\[e^{i\\pi} + 1 = 0\\]<span class="eqno">(1)</span>' in overview
    assert "\\(a^2 + b^2 = c^2\\)" in overview
    # The admonition, the figure with its caption, the table with its header.
    assert '<div class="admonition note' in overview and "<code>inline code</code>" in overview
    assert re.search(r'<figure class="figure" id="fig-chart"><img src="../_media/chart-', overview)
    assert "Table\u00a01:" in further and '<th scope="col">Name</th>' in further
    assert '<a href="overview.html">the overview</a>' not in further  # another page
    assert '<a href="../unit1/overview.html">the overview</a>' in further
    # The citation and its reference, the footnote.
    assert 'href="#cite-knuth1984">Knuth (1984)</a>' in intro
    assert '<li id="cite-knuth1984">Knuth, D. E. (1984)' in intro
    assert '<li id="fn-history"><p>Euler published it in 1748.</p></li>' in intro
    # Notebook outputs: a result, a stream, HTML and an image.
    assert '<pre class="output text">45</pre>' in numbers
    assert '<pre class="output stream stdout">hello\n</pre>' in numbers
    assert "<td>html-output</td>" in numbers
    # A notebook without stored outputs is run by coursekit's execute stage.
    computed = (html_dir / "unit2" / "computed.html").read_text(encoding="utf-8")
    assert '<pre class="output stream stdout">answer 42\n</pre>' in computed
    img = re.search(
        r'<img class="output" src="\.\./(_media/[0-9a-f]+\.png)" alt="&lt;Figure&gt;">', numbers
    )
    assert img and (html_dir / img.group(1)).is_file()


def test_an_unknown_node_type_is_shown_with_a_warning() -> None:
    tree = {
        "type": "root",
        "children": [
            {"type": "sparkle", "children": [{"type": "text", "value": "still here"}]},
            {"type": "glitter", "value": "raw words"},
        ],
    }
    ctx = PageContext("page", {}, {}, where="page.md")
    out = render_page(tree, ctx)
    assert "still here" in out and "raw words" in out
    assert ctx.warnings == [
        "page.md: coursekit cannot render MyST node type sparkle; shown as is",
        "page.md: coursekit cannot render MyST node type glitter; shown as is",
    ]


NODES_PAGE = """\
# Nodes

:::{dropdown} Open me
Hidden text
:::

::::{tab-set}
:::{tab-item} One
Tab one
:::
::::

::::{grid} 2
:::{card} Card title
Card body
:::
::::

```{exercise} Add
:label: ex1
Add 1 and 1.
```

```{solution} ex1
It is 2.
```

```{prf:theorem} Pythagoras
:label: thm1
$a^2+b^2=c^2$
```

See [](#thm1), <kbd>Ctrl</kbd> and {abbr}`HTML (HyperText Markup Language)`.

```{quiz} quiz.yml
```
"""


@needs_myst
def test_dropdowns_tabs_cards_exercises_and_proofs_render(tmp_path: Path) -> None:
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "template.yml").write_text("jtex: v1\ntitle: t\n", encoding="utf-8")
    (tmp_path / "index.md").write_text(NODES_PAGE, encoding="utf-8")
    (tmp_path / "myst.yml").write_text(
        f"version: 1\nproject:\n  toc:\n    - file: index.md\nsite:\n  template: {tmp_path}/tpl\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [str(MYST), "build", "--site"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads((tmp_path / "_build/site/content/index.json").read_text(encoding="utf-8"))
    ctx = PageContext("index", {"index": "index"}, {}, where="index.md")
    out = render_page(data["mdast"], ctx)
    assert "<details><summary>Open me</summary><p>Hidden text</p></details>" in out
    assert '<p class="tab-title">One</p><p>Tab one</p>' in out
    assert '<div class="card"><p class="card-title">Card title</p><p>Card body</p></div>' in out
    assert '<p class="admonition-title">Exercise 1 (Add)</p>' in out
    assert 'Solution to <a class="xref" href="#ex1">Exercise\u00a01</a>' in out
    assert '<div class="admonition proof theorem" id="thm1" role="note">' in out
    assert "<kbd>Ctrl</kbd>" in out and '<abbr title="HyperText Markup Language">HTML</abbr>' in out
    # The quiz directive is not rendered yet: shown, and said.
    assert "quiz quiz.yml" in out
    assert ctx.warnings == [
        "index.md: coursekit cannot render MyST node type mystDirective 'quiz'; shown as is"
    ]
    assert "It is 2." in out
    # `coursekit: solutions: hide`: the solution is left out, the exercise stays.
    hidden = render_page(data["mdast"], PageContext("index", {}, {}, hide_solutions=True))
    assert "It is 2." not in hidden and "Add 1 and 1." in hidden


@needs_myst
def test_the_bundled_course_converted_by_myst_init_has_the_same_units_and_checks_clean(
    tmp_path: Path,
) -> None:
    """mystmd's own upgrade of a Jupyter Book 1.x book (`myst init`, answered yes) turns
    the bundled course into a JB2 project; with coursekit's section moved into
    myst.yml, it checks clean and has the same units, pages and quizzes."""
    repo = Path(__file__).resolve().parent.parent
    book = convert_bundled_course(tmp_path / "course")
    jb2, jb1 = load_course(book).course, load_course(repo).course
    assert jb2.config is not None and jb2.config.path == "myst.yml"

    def shape(course: Course) -> list[tuple[str, str, list[str], str | None]]:
        return [(u.id, u.title, [p.path for p in u.pages], u.quiz) for u in course.units]

    assert shape(jb2) == shape(jb1) and len(jb2.units) == 4
    assert [q.id for q in jb2.quizzes] == [q.id for q in jb1.quizzes]
    result = run_cli("check", book)
    assert (result.returncode, _findings(result.stdout)) == (0, []), result.stdout


@pytest.mark.parametrize("version", ["1.2", "2004"])
def test_the_scorm_zips_of_a_jb2_course_pass_the_xsds(built: Path, version: str) -> None:
    suffix = "scorm12" if version == "1.2" else "scorm2004"
    zips = sorted((built / "_build" / "scorm").glob(f"*-{suffix}.zip"))
    assert [z.name for z in zips] == [
        f"jb2-fixture-first-steps-{suffix}.zip",
        f"jb2-fixture-going-further-{suffix}.zip",
        f"jb2-fixture-{suffix}.zip",
    ]
    for z in zips:
        with zipfile.ZipFile(z) as zf:
            manifest, names = zf.read("imsmanifest.xml"), zf.namelist()
        validate_manifest(manifest, SCHEMES[version], z.name)
        check_rules(manifest, names, SCHEMES[version], z.name)
        pages = {n for n in names if n.startswith("unit") and n.endswith(".html")}
        want = {
            "first-steps": {"unit1/overview.html", "unit1/numbers.html"},
            "going-further": {"unit2/overview.html", "unit2/computed.html"},
        }
        unit = next((u for u in want if f"-{u}-" in z.name), None)
        assert (want[unit] if unit else set().union(*want.values())) <= pages, z.name


def test_no_solution_is_published(built: Path) -> None:
    """The exercise page shows the student edition; only the teacher edition has the answer."""
    out = built / "_build"
    page = (out / "html" / "exercises" / "first-steps" / "doubling.html").read_text("utf-8")
    assert "assert double(2) == 4" in page and "def double(x):" in page
    holders = []
    for file in out.rglob("*"):
        rel = file.relative_to(out).as_posix()
        if not file.is_file() or rel.startswith((".cache/", "exercises/teacher/")):
            continue
        data = file.read_bytes()
        if file.suffix == ".zip":
            with zipfile.ZipFile(file) as zf:
                data = b"".join(zf.read(n) for n in zf.namelist())
        if b"the-secret-answer" in data:
            holders.append(rel)
    assert holders == []
    teacher = out / "exercises" / "teacher" / "first-steps" / "doubling.ipynb"
    assert "the-secret-answer" in teacher.read_text(encoding="utf-8")


# ------------------------------------------------------------------ the right door


def test_build_in_a_folder_without_a_book_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("# Notes\n", encoding="utf-8")
    result = run_cli("build", tmp_path)
    assert result.returncode == 2
    assert "holds no book" in result.stderr and "myst.yml" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.md"]


# ------------------------------------------ mystmd's own syntax (public JB2 projects)

SYNTAX = Path(__file__).parent / "fixtures" / "jb2-syntax" / "book"


def test_mystmd_citations_titles_bib_files_and_error_rules_check_without_false_findings() -> None:
    """What public JB2 projects write (`@key`, `[@a; -@b, p. 3]`, {cite}`{see}k{ch. 1}; j`,
    a front-matter title, .bib files found by mystmd itself, `error_rules`, an include
    of a file outside the project listed in `coursekit.read_outside`) gives no
    CK306/CK501/CK301/CK308, and the one entry nobody cites is still a CK503; a page
    whose front matter has only a kernelspec is a notebook, as mystmd reads it (not
    for myst-nb, which needs a jupytext or file_format entry)."""
    result = run_cli("check", SYNTAX)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _findings(result.stdout) == [
        "refs/works.bib:29:1: CK503 entry 'uncited2000' is never cited; "
        "cite it with {cite}`uncited2000` or remove it"
    ]
    course = load_course(SYNTAX).course
    titles = ["Citing in mystmd", "More citations", "A MyST Markdown notebook", "References"]
    assert [p.title for p in course.pages] == titles
    computed = course.pages[2]
    assert computed.kind is PageKind.TEXT_NOTEBOOK
    assert computed.text is not None and not is_myst_notebook(computed.text)  # myst-nb's rule


@needs_myst
def test_mystmd_agrees_and_its_diagnostics_are_build_warnings_at_file_line(
    tmp_path: Path,
) -> None:
    """The real mystmd resolves every citation coursekit counted; what it cannot resolve
    is a build warning at its file:line:col; a myst.yml that `extends` a web address
    (which an offline build cannot fetch) still builds."""
    book = tmp_path / "book"
    shutil.copytree(SYNTAX, book)
    shutil.copy(SYNTAX.parent / "NOTES.md", tmp_path / "NOTES.md")  # coursekit.read_outside
    references_md = book / "references.md"
    text = references_md.read_text("utf-8")
    references_md.write_text(text.replace("{bibliography}\n", "{bibliography}\n:all:\n"), "utf-8")
    config = book / "myst.yml"
    config.write_text(
        "extends:\n  - https://example.org/site.yml\n" + config.read_text("utf-8"), "utf-8"
    )
    with (book / "cited.md").open("a", encoding="utf-8") as f:
        f.write("\nBroken: @nokey and [](#nolabel).\n")
    result = run_cli("build", book, "--only", "html")
    assert result.returncode == 0, result.stdout + result.stderr
    book_lines = [x for x in result.stderr.splitlines() if x.startswith("book: ")]
    assert book_lines == [
        "book: myst.yml: extends https://example.org/site.yml is on the web, "
        "which an offline build cannot fetch; left out",
        'book: cited.md:10:1: CK305 No target for internal reference "#nolabel" was found. '
        "(mystmd cannot resolve it)",
        'book: cited.md:10:9: CK501 Could not link citation with label "nokey". '
        "(mystmd cannot resolve it)",
        "book: cited.md:10:1: Link text is empty for <#nolabel>",
    ]
    html_dir = book / "_build" / "html"
    index = (html_dir / "index.html").read_text(encoding="utf-8")
    cited = (html_dir / "cited.html").read_text(encoding="utf-8")
    for key in ("knuth1984", "lamport1994", "turing1936"):
        assert f'href="#cite-{key}"' in index and f'<li id="cite-{key}">' in index
    assert '<a class="xref" href="index.html#intro">' in cited  # @intro: a section
    assert 'href="#cite-wirth1976">' in cited and "uncited2000" not in index + cited
    assert index.count("<h1>") == 1 and "<h1>Citing in mystmd</h1>" in index
    # A MyST Markdown notebook (a kernelspec in its front matter, no jupytext) is run by
    # the execute stage; its outputs are on its page.
    computed = (html_dir / "computed.html").read_text(encoding="utf-8")
    assert '<pre class="output stream stdout">from a MyST notebook 42\n</pre>' in computed
    assert "<pre class=\"output text\">{'answer': 42}</pre>" in computed
    # myst.yml's maths macros reach MathJax (with their number of arguments).
    assert 'macros:{"RR": "\\\\mathbb{R}", "pair": ["\\\\langle #1, #2 \\\\rangle", 2]}' in index
    # The {bibliography} with :all: lists every work the course cites, then the .bib's
    # others (formatted by mystmd, from a page of its copy that is not published);
    # the glossary's terms; the file outside the project that the page includes.
    references = (html_dir / "references.html").read_text(encoding="utf-8")
    listed = re.findall(r'<li id="cite-(\w+)">', references)
    assert listed == ["knuth1984", "lamport1994", "turing1936", "wirth1976", "uncited2000"]
    assert '<li id="cite-uncited2000">Nobody, A. (2000). <i>A Book Nobody Cites</i>' in references
    assert sorted(p.name for p in html_dir.glob("*.html")) == [
        "cited.html",
        "computed.html",
        "index.html",
        "references.html",
    ]
    assert "Notes kept beside the book, not in it" in references
    assert '<dt id="term-myst">MyST</dt>' in references
    assert '<a class="xref" href="#term-myst">MyST</a>' in references


def test_cards_asides_iframes_embeds_and_myst_examples_render_without_warnings() -> None:
    """Node types of jupyter-book/jupyter-book's and mystmd's docs that were shown as
    unknown, and their web images, which rendered as `/undefined`."""
    par = {"type": "paragraph", "children": [{"type": "text", "value": "words"}]}
    title = {"type": "admonitionTitle", "children": [{"type": "text", "value": "Aside"}]}
    tree = {
        "type": "root",
        "children": [
            {"type": "card", "children": [{"type": "header", "children": [par]}, par]},
            {
                "type": "card",
                "url": "/unit/intro",
                "internal": True,
                "children": [{"type": "cardTitle", "children": [par["children"][0]]}, par],
            },
            {"type": "aside", "children": [title, par]},
            {"type": "iframe", "src": "https://example.org/video", "title": "A video"},
            {"type": "myst", "value": "*emphasis* <here>"},
            {"type": "embed", "children": [par]},
            {"type": "inlineExpression", "value": "1 + 1", "children": []},
        ],
    }
    ctx = PageContext("page", {"unit/intro": "unit/intro"}, {}, where="page.md")
    out = render_page(tree, ctx)
    assert ctx.warnings == []
    # A card's :link: (the theme makes the whole card a link): its title links there.
    assert '<p class="card-title"><a href="unit/intro.html">words</a></p>' in out
    assert '<div class="card"><div class="card-header"><p>words</p></div>' in out
    assert '<aside class="aside "><p class="admonition-title">Aside</p><p>words</p></aside>' in out
    assert '<a href="https://example.org/video">A video</a>' in out and "<iframe" not in out
    assert "*emphasis* &lt;here&gt;</code></pre>" in out and "<code>1 + 1</code>" in out
    # An image on the web that mystmd could not fetch offline: its alt text, no request.
    url = "https://example.org/a.png"
    missing = {"type": "image", "url": "/undefined", "urlSource": url, "alt": "A map"}
    ctx = PageContext("page", {}, {}, where="page.md")
    out = render_page({"type": "root", "children": [missing]}, ctx)
    assert out == '<span class="ck-missing-image">[image: A map]</span>'
    assert ctx.warnings == [f"page.md: image {url} is not in the site; its alt text shown"]


def test_a_reference_to_a_page_in_a_folder_links_to_that_page() -> None:
    """mystmd's URL of `resources/glossary.md` is `/resources/glossary`, its slug
    `resources.glossary`: a term or label there is reached on that page, not as an
    anchor of the page that refers to it (found on jupyter-book/jupyter-book's docs)."""
    term = {
        "type": "crossReference",
        "kind": "definitionTerm",
        "url": "/resources/glossary",
        "html_id": "term-deterministic-ordering",
        "children": [{"type": "text", "value": "order them"}],
    }
    slugs = {"resources.glossary": "resources/glossary", "get-started.init": "get-started/init"}
    ctx = PageContext("get-started/init", slugs, {}, where="get-started/init.md")
    out = render_page({"type": "root", "children": [term]}, ctx)
    assert out == (
        '<a class="xref" href="../resources/glossary.html#term-deterministic-ordering">'
        "order them</a>"
    )
    assert ctx.warnings == []


def test_an_exercise_with_only_a_kernelspec_is_an_exercise_of_a_jb2_course(
    tmp_path: Path,
) -> None:
    """mystmd reads a .md with a kernelspec as a notebook: so does the exercises' loader
    (its editions, self-check and grading), not only the pages' (myst-nb would not)."""
    book = _copy(tmp_path)
    exercise = book / "exercises/first-steps/halving.md"
    exercise.write_text(
        "---\nkernelspec:\n  name: python3\n  display_name: Python 3\n---\n\n# Halving\n\n"
        "```{code-cell} python\ndef half(x):\n    ### BEGIN SOLUTION\n    return x / 2\n"
        "    ### END SOLUTION\n```\n\n"
        "```{code-cell} python\n:tags: [tests]\n\nassert half(4) == 2\n```\n",
        encoding="utf-8",
    )
    course = load_course(book).course
    assert [e.name for e in course.exercises] == ["first-steps/doubling", "first-steps/halving"]
    assert not is_myst_notebook(exercise.read_text(encoding="utf-8"))  # myst-nb's rule: no
    result = run_cli("exercises", "verify", book)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok      exercises/first-steps/halving.md (1 test cell)" in result.stdout.splitlines()


def test_a_read_outside_the_project_says_to_list_it_in_myst_yml(tmp_path: Path) -> None:
    book = _copy(tmp_path)
    (tmp_path / "outside.md").write_text("Read from outside.\n", encoding="utf-8")
    with (book / "intro.md").open("a", encoding="utf-8") as page:
        page.write("\n```{include} ../outside.md\n```\n")
    result = run_cli("check", book)
    assert result.returncode == 1
    [finding] = [f for f in _findings(result.stdout) if " CK308 " in f]
    assert finding.startswith("intro.md:")
    assert finding.endswith("list it under coursekit.read_outside in myst.yml")


def test_an_embed_written_as_an_image_of_a_label_is_not_an_image(tmp_path: Path) -> None:
    # mystmd's `![](#label)` shows the labelled block again: no alt text to ask for.
    book = Path(shutil.copytree(SYNTAX, tmp_path / "book"))
    with (book / "index.md").open("a", encoding="utf-8") as page:
        page.write("\n![](#intro)\n\n![](refs/missing-alt.png)\n")
    (book / "refs" / "missing-alt.png").write_bytes((BOOK / "unit1" / "chart.png").read_bytes())
    found = _findings(run_cli("check", book).stdout)
    [alt] = [f for f in found if " CK303 " in f]  # the picture's, not the embed's
    assert "'refs/missing-alt.png' has no alt text" in alt
