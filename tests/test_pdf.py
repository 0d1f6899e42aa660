"""The PDF edition, read back with pdftotext (poppler-utils) as a reader would see it.

Most tests read the demo book's PDF (tests/demobook.py: two units, a quiz, an
exercise with solutions and a mark scheme, a DataFrame, a very long code line);
tiny courses check the settings and a missing Chromium; one slow test reads the
bundled course's PDF.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from browser import CHROMIUM, require_chromium
from conftest import EXERCISE_SECRETS, BuiltCourse, run_cli
from coursebuilder import make_course
from coursekit.loading import load_course
from demobook import LONG_FIRST, LONG_LAST, READING_TITLE, UNIT_TITLES

pytestmark = pytest.mark.browser
APPENDIX = re.compile(r"^Answers to the quizzes$", re.MULTILINE)
QUESTIONS = (
    "Five cents a minute is how much an hour?",
    "Which of these lower the effective hourly rate?",
    "How many dollars is 18 hours at 2.5 dollars an hour?",
)
# Feedback and explanations of the demo quiz: answers, for the appendix only.
ANSWERS = (
    "Right: 5 × 60 = 300 cents.",
    "Only time that is worked but not paid lowers it.",
    "18 × 2.5 = 45.",
    "The right answer",
)


def pages_of(pdf: Path) -> list[str]:
    """The text of each page of `pdf`, in reading order."""
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: apt-get install poppler-utils")
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return text.split("\f")


def flat(text: str) -> str:
    """On one line, with typographic quotes as typed (MyST's smartquotes make them)."""
    plain = text.translate(str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"}))
    return " ".join(plain.split())


@pytest.fixture(scope="module")
def demo_pages(demo_book: BuiltCourse) -> list[str]:
    require_chromium()
    pdf = demo_book.out / "pdf" / "demo.pdf"
    assert pdf.is_file(), demo_book.result.stderr
    return pages_of(pdf)


def test_every_unit_and_page_title_is_in_the_pdf(demo_book: BuiltCourse, demo_pages) -> None:
    text = flat("\n".join(demo_pages))
    course = load_course(demo_book.root).course
    titles = [p.title for p in course.pages]
    assert len(titles) == 7 and all(titles)
    missing = [t for t in [*UNIT_TITLES, *titles] if t and flat(t) not in text]
    assert missing == []


def test_the_pdf_has_a_bookmark_for_each_heading_on_its_page(
    demo_book: BuiltCourse, demo_pages
) -> None:
    """A reader jumps by the outline: each page title (and each heading below it) is a
    bookmark, named as the heading reads, leading to the page that shows it."""
    import pikepdf

    bookmarks = []
    with pikepdf.open(demo_book.out / "pdf" / "demo.pdf") as pdf:
        pages = {page.objgen: i for i, page in enumerate(pdf.pages)}
        with pdf.open_outline() as outline:
            stack = list(reversed(outline.root))
            while stack:
                item = stack.pop()
                bookmarks.append((item.title, pages[item.destination[0].objgen]))
                stack.extend(reversed(item.children))
    course = load_course(demo_book.root).course
    titles = [p.title for p in course.pages]
    assert len(titles) == 7 and "From cents per minute to dollars per hour" in dict(bookmarks)
    assert [t for t in titles if t not in dict(bookmarks)] == []
    assert [(t, i) for t, i in bookmarks if flat(t) not in flat(demo_pages[i])] == []


def test_a_book_printed_in_parts_reads_as_one(demo_book: BuiltCourse, demo_pages) -> None:
    """The demo book is printed one part per unit (`part_kb: 0`) and joined: its pages
    are numbered across the whole book, module 2's link to a page of module 1 leads to
    that page, and one structure tree (the tagged PDF) covers every page and link."""
    import pikepdf

    assert "PDF parts printed: 3 of 3" in demo_book.result.stderr  # the root page, 2 units
    total = len(demo_pages) - 1  # pdftotext ends the last page with a form feed too
    footers = [page.strip().splitlines()[-1].replace(" ", "") for page in demo_pages[:total]]
    assert footers == [f"{n}/{total}" for n in range(1, total + 1)]
    with pikepdf.open(demo_book.out / "pdf" / "demo.pdf") as pdf:
        index = {page.objgen: i for i, page in enumerate(pdf.pages)}
        overview = next(i for i, p in enumerate(demo_pages) if "It builds on" in p)
        targets = [
            index[annot.Dest[0].objgen]
            for annot in pdf.pages[overview].obj.get("/Annots", [])
            if isinstance(annot.get("/Dest"), pikepdf.Array)
        ]
        assert [i for i in targets if READING_TITLE in demo_pages[i]] != []
        assert all(i < overview for i in targets)  # module 1's pages come first
        uris = [
            str(annot.A.get("/URI", ""))
            for page in pdf.pages
            for annot in page.obj.get("/Annots", [])
            if "/A" in annot
        ]
        # No link left to the parts' stand-in address, or to the server they were printed from
        assert [u for u in uris if "coursekit.invalid" in u or "127.0.0.1" in u] == []
        tree = pdf.Root.StructTreeRoot
        assert str(tree.K.S) == "/Document"
        nums = tree.ParentTree.Nums
        keys = {int(nums[i]) for i in range(0, len(nums), 2)}
        used = [int(p.obj.StructParents) for p in pdf.pages if "/StructParents" in p.obj]
        assert len(used) >= total - 1  # every sheet with content (one may be blank)
        used += [
            int(annot.StructParent)
            for page in pdf.pages
            for annot in page.obj.get("/Annots", [])
            if "/StructParent" in annot
        ]
        assert sorted(used) == sorted(keys) and len(used) == len(set(used))
        assert int(tree.ParentTreeNextKey) == max(keys) + 1


def test_an_edit_to_one_unit_prints_only_its_part_again_as_a_fresh_build_would(
    demo_book: BuiltCourse, tmp_path: Path
) -> None:
    book = Path(shutil.copytree(demo_book.root, tmp_path / "course", symlinks=True))
    overview = book / "modules/02-tables/overview.md"
    overview.write_text(overview.read_text() + NAMED_TABLE)  # a numbered table
    again = run_cli("build", "--only", "pdf", book, cwd=book)  # the copy's own paths
    assert again.returncode == 0, again.stderr[-3000:]
    added = "\nA sentence added later. See {numref}`demo-rates`.\n"
    overview.write_text(overview.read_text() + added)
    edited = run_cli("build", "--only", "pdf", book, cwd=book)
    assert edited.returncode == 0, edited.stderr[-3000:]
    assert "PDF parts printed: 1 of 3" in edited.stderr
    pages = pages_of(book / "_build/pdf/demo.pdf")
    assert re.search(r"A sentence added later\. See Table \d+\.", "\n".join(pages))
    last = pages[-2].strip().splitlines()[-1].replace(" ", "")
    assert last == f"{len(pages) - 1}/{len(pages) - 1}"  # numbered across the joined parts
    # Only the edited unit's pages were written again: the rest is the last build's.
    fresh = Path(shutil.copytree(book, tmp_path / "fresh", symlinks=True))
    shutil.rmtree(fresh / "_build")
    built = run_cli("build", "--only", "pdf", fresh, cwd=fresh)
    assert built.returncode == 0, built.stderr[-3000:]
    assert pages_of(fresh / "_build/pdf/demo.pdf") == pages


def test_a_unit_taken_out_of_the_toc_leaves_nothing_kept_for_it(
    demo_book: BuiltCourse, tmp_path: Path
) -> None:
    book = Path(shutil.copytree(demo_book.root, tmp_path / "course", symlinks=True))
    kept = book / "_build/.cache/book/print-chapters"
    units = len(list(kept.glob("*.json")))
    assert units == 2, sorted(kept.iterdir())  # a chapter per unit: its first page and the rest
    toc = book / "_toc.yml"
    text = toc.read_text()
    module_2 = text.index('  - caption: "Module 2')
    toc.write_text(text[:module_2])
    again = run_cli("build", "--only", "pdf", book, cwd=book)
    assert again.returncode == 0, again.stderr[-3000:]
    assert len(list(kept.glob("*.json"))) == units - 1
    assert not any("Workers by country" in p for p in pages_of(book / "_build/pdf/demo.pdf"))


NAMED_TABLE = """
```{list-table} Rates of pay by task
:name: demo-rates

* - Task
  - Pay
* - Tagging an image
  - 2 cents
```
"""


def test_each_unit_starts_a_new_page_with_its_title(demo_pages) -> None:
    for title in UNIT_TITLES:
        starts = [p for p in demo_pages if p.strip().startswith(title)]
        assert len(starts) == 1, f"no page starts with {title!r}"


def test_exercises_are_the_student_edition(demo_pages) -> None:
    text = "\n".join(demo_pages)
    assert "YOUR CODE HERE" in text and "YOUR ANSWER HERE" in text
    leaked = [s for s in [*EXERCISE_SECRETS, "BEGIN SOLUTION", "MARK SCHEME"] if s in text]
    assert leaked == []


def test_quiz_questions_come_first_and_answers_only_in_the_appendix(demo_pages) -> None:
    text = "\n".join(demo_pages)
    headings = list(APPENDIX.finditer(text))
    assert len(headings) == 1, "one appendix heading"
    before, after = flat(text[: headings[0].start()]), flat(text[headings[0].end() :])
    assert [q for q in QUESTIONS if q not in before] == []
    assert [a for a in ANSWERS if a in before] == [], "an answer printed before the appendix"
    assert [a for a in ANSWERS if a not in after] == []


def test_long_code_lines_wrap_instead_of_being_cut(demo_pages) -> None:
    lines = "\n".join(demo_pages).splitlines()
    first = [i for i, line in enumerate(lines) if LONG_FIRST in line]
    last = [i for i, line in enumerate(lines) if LONG_LAST in line]
    assert first and last, "the whole code line is printed"
    assert last[0] > first[0], "it goes on on the next lines"


def test_no_navigation_chrome_is_printed(demo_pages) -> None:
    text = "\n".join(demo_pages)
    chrome = ["Ctrl", "Skip to main content", "Search", "Color mode", "Course navigation"]
    assert [c for c in chrome if c in text] == []
    assert "repository" not in text.lower() and "binder" not in text.lower()


def test_the_dataframe_is_printed(demo_pages) -> None:
    text = flat("\n".join(demo_pages))
    assert "country" in text and "Kenya" in text and "45" in text


def _tiny(tmp_path: Path, coursekit_yaml: str = "") -> Path:
    root = make_course(tmp_path / "course", {})
    if coursekit_yaml:
        config = root / "_config.yml"
        config.write_text(config.read_text(encoding="utf-8") + coursekit_yaml, encoding="utf-8")
    return root


def test_only_pdf_builds_the_pdf_alone(tmp_path: Path) -> None:
    require_chromium()
    root = _tiny(tmp_path)
    result = run_cli("build", root, "--only", "pdf")
    assert result.returncode == 0, result.stderr
    out = root / "_build"
    assert [p.name for p in (out / "pdf").iterdir()] == ["tiny-course.pdf"]
    assert not (out / "html").exists() and not (out / "scorm").exists()
    assert "Tiny course" in "".join(pages_of(out / "pdf" / "tiny-course.pdf"))
    again = run_cli("build", root, "--only", "pdf")
    assert again.returncode == 0 and "up to date" in again.stderr + again.stdout


def test_an_edit_only_the_pdf_build_read_still_reaches_the_site(tmp_path: Path) -> None:
    """The PDF's page and the site share one reading of the sources: the site's build
    writes what the print page's build read, even when that was an earlier command; a
    page renamed there is renamed in every page's navigation."""
    require_chromium()
    root = _tiny(tmp_path)
    assert run_cli("build", root).returncode == 0
    page = root / "modules" / "01-demo" / "overview.md"
    page.write_text("# Demo, renamed\n\nThe demo module.\n", encoding="utf-8")
    assert run_cli("build", root, "--only", "pdf").returncode == 0
    result = run_cli("build", root)
    assert result.returncode == 0, result.stderr
    intro = (root / "_build" / "html" / "intro.html").read_text(encoding="utf-8")
    assert "Demo, renamed" in intro  # the other page's navigation
    assert "Demo, renamed" in "".join(pages_of(root / "_build/pdf/tiny-course.pdf"))


def test_a_missing_chromium_says_what_to_do_and_the_rest_is_built(tmp_path: Path) -> None:
    root = _tiny(tmp_path, "coursekit:\n  pdf:\n    chromium: /nowhere/chromium\n")
    result = run_cli("build", root)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "apt-get install chromium" in result.stderr
    assert "coursekit: pdf: false" in result.stderr
    out = root / "_build"
    assert (out / "html" / "intro.html").is_file() and (out / "scorm").is_dir()
    assert not (out / "pdf").exists()
    alone = run_cli("build", root, "--only", "pdf")
    assert alone.returncode == 1 and "Traceback" not in alone.stderr
    assert "apt-get install chromium" in alone.stderr


def test_the_pdf_can_be_turned_off(tmp_path: Path) -> None:
    root = _tiny(tmp_path, "coursekit:\n  pdf: false\n")
    result = run_cli("build", root)
    assert result.returncode == 0, result.stderr
    assert not (root / "_build" / "pdf").exists() and "chromium" not in result.stderr.lower()
    alone = run_cli("build", root, "--only", "pdf")
    assert alone.returncode == 1 and "turned off" in alone.stderr


def test_pdf_settings_are_checked(tmp_path: Path) -> None:
    root = _tiny(
        tmp_path, "coursekit:\n  pdf:\n    enabled: maybe\n    colour: red\n    part_kb: -5\n"
    )
    result = run_cli("check", root)
    assert "_config.yml:11:14: CK102 'enabled' must be true or false" in result.stdout
    assert "_config.yml:12:5: CK103 unknown key 'colour' in coursekit.pdf" in result.stdout
    assert "_config.yml:13:14: CK102 coursekit.pdf.part_kb must be 0 or more" in result.stdout


def _page_text(path: Path) -> str:
    """A page's text: a notebook's cell sources, any other page as it is."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".ipynb":
        return text
    return "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"])


def _solution_lines(root: Path) -> list[str]:
    """Lines inside the exercises' solution and mark-scheme markers (what students lack)."""
    found = []
    for path in sorted((root / "exercises").rglob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"])
            for block in re.findall(
                r"### BEGIN SOLUTION(.*?)### END SOLUTION|=== BEGIN MARK SCHEME ===(.*?)"
                r"=== END MARK SCHEME ===",
                source,
                re.DOTALL,
            ):
                lines = "".join(block).splitlines()
                found += [flat(line) for line in lines if len(line.strip()) > 12]
    return found


@pytest.mark.slow
def test_the_bundled_course_pdf(built_course: BuiltCourse) -> None:
    require_chromium()
    pdf = built_course.out / "pdf" / "digital-labor.pdf"
    assert pdf.is_file(), built_course.result.stderr
    pages = pages_of(pdf)
    text = flat("\n".join(pages))
    course = load_course(built_course.root).course
    titles = [f"Module {u.number} · {u.title}" for u in course.units]
    titles += [p.title.replace("*", "").replace("`", "") for p in course.pages if p.title]
    assert [t for t in titles if flat(t) not in text] == []
    # A line the readings show too (`if keep_gender:`) is no secret of the exercises.
    readings = flat(
        "\n".join(
            _page_text(built_course.root / p.path)
            for p in course.pages
            if not p.path.startswith("exercises/")
        )
    )
    solutions = [s for s in _solution_lines(built_course.root) if s not in readings]
    assert len(solutions) > 10, "the bundled exercises have solutions"
    assert [s for s in solutions if s in text] == []
    assert len(APPENDIX.findall("\n".join(pages))) == 1


def _never_ready_site(tmp_path: Path) -> Path:
    """A site whose page never gets ready to print: its MathJax never finishes starting."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(
        "<html><body><script>window.MathJax = {startup: {promise: new Promise(() => {})}};"
        "</script><p>Waiting</p></body></html>"
    )
    return site


def test_a_stopped_print_ends_its_browser(tmp_path: Path) -> None:
    """The build prints while it builds the site; stopping it (Ctrl-C, a failed stage)
    stops Chromium within a second or so, and leaves none of its processes running."""
    import threading

    from coursekit.packages.pdf.chromium import PrintError, print_pdf
    from coursekit.packages.pdf.stage import _served

    require_chromium()
    site = _never_ready_site(tmp_path)
    profile, cancel, errors = tmp_path / "profile", threading.Event(), []

    def run() -> None:
        with _served(site) as base:
            try:
                print_pdf(
                    Path(CHROMIUM), f"{base}/index.html", tmp_path / "x.pdf", profile, 60, cancel
                )
            except PrintError as exc:
                errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=4)
    assert thread.is_alive(), "the page should still be waiting to print"
    cancel.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert errors and "the build stopped" in str(errors[0])
    assert not (tmp_path / "x.pdf").exists()
    left = [p for p in Path("/proc").glob("[0-9]*") if _runs_with(p, str(profile))]
    assert left == []


def _runs_with(proc: Path, text: str) -> bool:
    try:
        return text in (proc / "cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False


def test_a_bigger_book_may_take_longer_to_print(tmp_path: Path) -> None:
    """Chromium's print of a large book takes minutes (not a hang): the limit grows
    with the single page, from 30 minutes, by 5 minutes per MB (as the README says)."""
    from coursekit.packages.pdf.stage import print_time_limit

    small, large = tmp_path / "small.html", tmp_path / "large.html"
    small.write_text("<p>A page.</p>", encoding="utf-8")
    large.write_bytes(b"<p>" + b"x" * 8_500_000 + b"</p>")
    assert 1800 <= print_time_limit(small) < 1801
    assert print_time_limit(large) > 1800 + 8 * 300


def test_a_page_that_never_gets_ready_fails_once_chromium_sits_idle(tmp_path: Path) -> None:
    """A page waiting on what never loads fails when Chromium stops working, long before
    the time limit a large book may need, and says so; no Chromium process is left."""
    from coursekit.packages.pdf.chromium import PrintError, print_pdf
    from coursekit.packages.pdf.stage import _served

    require_chromium()
    site = _never_ready_site(tmp_path)
    profile = tmp_path / "profile"
    with _served(site) as base, pytest.raises(PrintError) as failed:
        print_pdf(Path(CHROMIUM), f"{base}/index.html", tmp_path / "x.pdf", profile, 600, stall=5)
    assert "waited 5 s without working" in str(failed.value)
    assert not (tmp_path / "x.pdf").exists()
    assert [p for p in Path("/proc").glob("[0-9]*") if _runs_with(p, str(profile))] == []
