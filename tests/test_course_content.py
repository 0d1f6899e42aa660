"""The course's own content rules (issue 3), checked over every module under modules/.

What a reader of the course relies on: every number in a data file can be traced to a
source and a year (or is openly synthetic), every page cites the bibliography, every
figure has alt text for screen-reader users, every chart says what it plots, and every
notebook runs from a clean state. The tests walk `modules/*` so that modules added
later are covered without editing this file.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from pybtex.database import parse_file

REPO = Path(__file__).resolve().parent.parent
MODULES = REPO / "modules"
SYNTHETIC = "synthetic"
CELL_TIMEOUT = 120  # seconds, as in _config.yml's execute.timeout

BIB_KEYS = frozenset(key.lower() for key in parse_file(REPO / "references.bib").entries)

CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")
TERM = re.compile(r"\{term\}`([^`]+)`")
MD_IMAGE = re.compile(r"!\[([^\]]*)\]\(")
HTML_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
IMAGE_DIRECTIVE = re.compile(r"^\s*(`{3,}|:{3,})\{(image|figure)\}")
# A code cell draws a chart when it calls one of matplotlib's (or pandas', networkx's)
# plotting entry points.
DRAWS = re.compile(
    r"plt\.(show|subplots|figure|plot|bar|barh|hist|scatter|imshow|pie)\("
    r"|\.(plot|hist|bar|barh|scatter|imshow|boxplot|pie|step|fill_between)\("
    r"|\.plot\.|\bnx\.draw"
)
TITLE = re.compile(r"set_title\(|plt\.title\(|suptitle\(|\btitle=")
XLABEL = re.compile(r"set_xlabel\(|plt\.xlabel\(|\bxlabel=")
YLABEL = re.compile(r"set_ylabel\(|plt\.ylabel\(|\bylabel=")
USES_RANDOMNESS = re.compile(r"\brandom\b|default_rng|\.sample\(")
# A quiz page renders quiz.yml: its questions point to the module's pages, which carry
# the citations, so it is not held to "cites a source" (the quiz checks cover it).
NOT_CONTENT_PAGES = {"quiz.md"}


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def _files(pattern: str) -> list[Path]:
    return sorted(p for p in MODULES.glob(pattern) if ".ipynb_checkpoints" not in p.parts)


DATA_FILES = _files("*/data/*.csv")
MD_PAGES = [p for p in _files("*/**/*.md") if "data" not in p.relative_to(MODULES).parts]
NOTEBOOKS = _files("*/**/*.ipynb")
ROOT_PAGES = [REPO / "intro.md", REPO / "glossary.md", REPO / "bibliography.md"]


def _markdown_of(path: Path) -> str:
    """The Markdown a reader sees: the file itself, or a notebook's Markdown cells."""
    if path.suffix == ".ipynb":
        notebook = nbformat.read(path, as_version=4)
        return "\n\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    return path.read_text(encoding="utf-8")


def _cited_keys(text: str) -> list[str]:
    return [key.strip() for group in CITE.findall(text) for key in group.split(",")]


def _glossary_terms() -> set[str]:
    """Terms defined in glossary.md's {glossary} block (unindented, non-option lines)."""
    text = (REPO / "glossary.md").read_text(encoding="utf-8")
    block = re.search(r"```\{glossary\}\n(.*?)\n```", text, re.DOTALL)
    assert block, "glossary.md has no {glossary} block"
    return {
        line.strip().lower()
        for line in block.group(1).splitlines()
        if line.strip() and not line[0].isspace() and not line.startswith(":")
    }


# ------------------------------------------------------------------------- data


def test_the_course_has_data_pages_and_notebooks():
    # Guard against the globs silently matching nothing (e.g. after a rename).
    assert DATA_FILES and MD_PAGES and NOTEBOOKS


@pytest.mark.parametrize("path", DATA_FILES, ids=_rel)
def test_every_row_of_a_data_file_has_a_source_and_a_year(path):
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert {"source", "year"} <= set(reader.fieldnames or ()), (
            f"{_rel(path)} needs a 'source' and a 'year' column"
        )
        rows = list(reader)
    assert rows, f"{_rel(path)} has no rows"
    for line, row in enumerate(rows, start=2):
        where = f"{_rel(path)}:{line}"
        source = (row["source"] or "").strip()
        assert source == SYNTHETIC or source.lower() in BIB_KEYS, (
            f"{where}: source {source!r} is neither a references.bib key nor 'synthetic'"
        )
        assert re.fullmatch(r"\d{4}", (row["year"] or "").strip()), (
            f"{where}: year {row['year']!r} is not a four-digit year"
        )


@pytest.mark.parametrize("path", DATA_FILES, ids=_rel)
def test_synthetic_data_is_announced_in_its_module(path):
    with path.open(encoding="utf-8", newline="") as handle:
        synthetic = any(
            row.get("source", "").strip() == SYNTHETIC for row in csv.DictReader(handle)
        )
    if not synthetic:
        return
    module = path.parent.parent
    pages = [p for p in [*module.glob("*.md"), *module.glob("*.ipynb")]]
    assert any("synthetic data" in _markdown_of(p).lower() for p in pages), (
        f"{_rel(path)} has synthetic rows but no page of {_rel(module)} says 'synthetic data'"
    )


# ------------------------------------------------------------------ citations


@pytest.mark.parametrize(
    "path", [p for p in MD_PAGES + NOTEBOOKS if p.name not in NOT_CONTENT_PAGES], ids=_rel
)
def test_every_page_cites_a_source_from_the_bibliography(path):
    keys = _cited_keys(_markdown_of(path))
    assert keys, f"{_rel(path)} cites no source; add a {{cite}} role"
    unknown = sorted({k for k in keys if k.lower() not in BIB_KEYS})
    assert not unknown, f"{_rel(path)} cites keys missing from references.bib: {unknown}"


def test_glossary_terms_linked_from_pages_exist():
    terms = _glossary_terms()
    missing = []
    for path in [*ROOT_PAGES, *MD_PAGES, *NOTEBOOKS]:
        for target in TERM.findall(_markdown_of(path)):
            # `{term}`shown text <term>`` may wrap over lines; the target is in <>.
            name = re.sub(r"^.*<([^>]+)>\s*$", r"\1", target, flags=re.DOTALL)
            name = " ".join(name.split()).lower()
            if name not in terms:
                missing.append(f"{_rel(path)}: {target}")
    assert not missing, "terms linked but not defined in glossary.md:\n" + "\n".join(missing)


# ------------------------------------------------------------------- figures


def _images_without_alt(text: str) -> list[str]:
    bad = [m.group(0) for m in MD_IMAGE.finditer(text) if not m.group(1).strip()]
    bad += [
        tag
        for tag in HTML_IMG.findall(text)
        if not re.search(r"\balt\s*=\s*\"[^\"]*\S[^\"]*\"", tag)
    ]
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if IMAGE_DIRECTIVE.match(line):
            options = []
            for following in lines[i + 1 :]:
                if not following.strip().startswith(":"):
                    break
                options.append(following.strip())
            if not any(re.match(r":alt:\s*\S", option) for option in options):
                bad.append(line.strip())
    return bad


@pytest.mark.parametrize("path", MD_PAGES + NOTEBOOKS + ROOT_PAGES, ids=_rel)
def test_every_image_in_markdown_has_alt_text(path):
    bad = _images_without_alt(_markdown_of(path))
    assert not bad, f"{_rel(path)}: images without alt text: {bad}"


def _chart_cells(path: Path):
    notebook = nbformat.read(path, as_version=4)
    return [
        (i, cell)
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and DRAWS.search(cell.source)
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_rel)
def test_every_chart_has_alt_text_a_title_and_labelled_axes(path):
    problems = []
    for i, cell in _chart_cells(path):
        alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt", "")
        if not str(alt).strip():
            problems.append(f"cell {i}: no metadata mystnb.image.alt")
        if not TITLE.search(cell.source):
            problems.append(f"cell {i}: the chart has no title")
        # A network drawing has no meaningful axes; every other chart labels both.
        if "nx.draw" not in cell.source and not (
            XLABEL.search(cell.source) and YLABEL.search(cell.source)
        ):
            problems.append(f"cell {i}: an axis has no label")
    assert not problems, f"{_rel(path)}:\n" + "\n".join(problems)


# ----------------------------------------------------------------- notebooks


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_rel)
def test_notebook_is_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    dirty = [
        i
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{_rel(path)}: cells {dirty} have outputs or execution counts"


def _uses_randomness(notebook) -> bool:
    return any(USES_RANDOMNESS.search(c.source) for c in notebook.cells if c.cell_type == "code")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_rel)
def test_generated_data_is_announced_as_synthetic(path):
    if _uses_randomness(nbformat.read(path, as_version=4)):
        assert "synthetic data" in _markdown_of(path).lower(), (
            f"{_rel(path)} generates data but never tells the reader it is 'synthetic data'"
        )


def _run(path: Path, tmp_path: Path):
    """Execute a copy of `path` inside a copy of its module folder; return the notebook.

    Copying the module keeps `data/x.csv` resolving as in the book, and nothing is
    written into the repository.
    """
    module = MODULES / path.relative_to(MODULES).parts[0]
    copy = tmp_path / module.name
    shutil.copytree(module, copy)
    notebook_path = copy / path.relative_to(module)
    notebook = nbformat.read(notebook_path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(notebook_path.parent)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    return notebook


def _text_outputs(notebook) -> list[str]:
    return [
        o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
        for c in notebook.cells
        for o in c.get("outputs", [])
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_rel)
def test_notebook_runs_clean_and_reproducibly(path, tmp_path):
    first = _run(path, tmp_path / "first")
    errors = [
        o for c in first.cells for o in c.get("outputs", []) if o.get("output_type") == "error"
    ]
    assert not errors
    if _uses_randomness(first):
        # A fixed seed means a second run prints exactly the same numbers.
        second = _run(path, tmp_path / "second")
        assert _text_outputs(first) == _text_outputs(second), (
            f"{_rel(path)} gives different results on each run; fix its random seed"
        )


# --------------------------------------------------------------- module shape

MODULE_DIRS = sorted(p.parent for p in MODULES.glob("*/module.yml"))
NOT_READINGS = {"overview.md", "key-points.md", *NOT_CONTENT_PAGES}
READING_WORDS = (700, 1700)  # "roughly 800-1,500 words" per reading page


def _prose_words(text: str) -> int:
    """Words a reader reads: no code fences, citation keys, link targets or table rules."""
    text = re.sub(r"```.*?```", " ", text, flags=re.DOTALL)
    text = CITE.sub(" ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"^[\s|:-]+$", " ", text, flags=re.MULTILINE)
    return len(re.findall(r"\w[\w'’-]*", text))


def _module_yml(module: Path) -> dict:
    import yaml

    return yaml.safe_load((module / "module.yml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("module", MODULE_DIRS, ids=_rel)
def test_module_has_objectives_readings_a_notebook_and_key_points(module):
    spec = _module_yml(module)
    assert 3 <= len(spec.get("objectives") or []) <= 5, f"{_rel(module)}: 3-5 objectives"
    assert isinstance(spec.get("duration"), int) and spec["duration"] > 0
    readings = [p for p in module.glob("*.md") if p.name not in NOT_READINGS]
    assert len(readings) >= 2, f"{_rel(module)} has fewer than two reading pages"
    low, high = READING_WORDS
    for page in readings:
        words = _prose_words(page.read_text(encoding="utf-8"))
        assert low <= words <= high, f"{_rel(page)}: {words} words, expected {low}-{high}"
    assert list(module.glob("*.ipynb")), f"{_rel(module)} has no notebook"
    assert (module / "key-points.md").is_file(), f"{_rel(module)} has no key-points.md"


def _words(text: str) -> set[str]:
    """Lower-case words of rendered text: `{term}`shown <target>`` counts as "shown"."""
    text = re.sub(r"\{term\}`([^`<]*)(?:<[^>]*>)?`", r"\1", text)
    return set(re.findall(r"[a-zà-ÿ0-9][a-zà-ÿ0-9'’-]*", text.lower()))


@pytest.mark.parametrize("module", MODULE_DIRS, ids=_rel)
def test_overview_states_the_objectives_and_links_every_page(module):
    overview = (module / "overview.md").read_text(encoding="utf-8")
    said = _words(overview)
    for objective in _module_yml(module)["objectives"]:
        # The overview may format an objective (bold verb, glossary links), not reword it.
        words = _words(str(objective))
        unsaid = words - said
        assert len(unsaid) <= len(words) // 10, (
            f"{_rel(module)}/overview.md does not state the objective {objective!r} "
            f"(missing {sorted(unsaid)})"
        )
    pages = [
        p.name
        for p in [*module.glob("*.md"), *module.glob("*.ipynb")]
        if p.name not in {"overview.md", *NOT_CONTENT_PAGES}
    ]
    linked = re.findall(r"\]\(([^)#\s]+)", overview)
    missing = sorted(set(pages) - set(linked))
    assert not missing, f"{_rel(module)}/overview.md does not link {missing}"


READS = re.compile(r"""read_(?:csv|json|excel|parquet)\(\s*(?:f?["']([^"']+)["'])""")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_rel)
def test_notebook_reads_its_data_by_relative_path_from_its_module(path):
    notebook = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    for target in READS.findall(code):
        assert not Path(target).is_absolute(), f"{_rel(path)} reads {target} by absolute path"
        assert (path.parent / target).is_file(), f"{_rel(path)} reads {target}, which is missing"


# ------------------------------------------------------- citations everywhere (issue 12)

EXERCISES = sorted((REPO / "exercises").glob("*/*.ipynb"))
QUIZZES = sorted(MODULES.glob("*/quiz.yml"))


@pytest.mark.parametrize("path", [*ROOT_PAGES, *EXERCISES], ids=_rel)
def test_root_pages_and_exercises_cite_only_bibliography_keys(path):
    """intro, glossary, bibliography and the exercises: every cited key is an entry."""
    unknown = sorted({k for k in _cited_keys(_markdown_of(path)) if k.lower() not in BIB_KEYS})
    assert not unknown, f"{_rel(path)} cites keys missing from references.bib: {unknown}"


def _quiz(path: Path) -> dict:
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _quiz_texts(quiz: dict) -> list[str]:
    texts = []
    for q in quiz.get("questions") or []:
        texts += [str(q.get(k, "")) for k in ("prompt", "feedback")]
        for c in q.get("choices") or []:
            texts += (
                [str(c.get(k, "")) for k in ("text", "feedback")]
                if isinstance(c, dict)
                else [str(c)]
            )
    return texts


@pytest.mark.parametrize("path", QUIZZES, ids=_rel)
def test_quizzes_name_sources_in_words_never_by_key(path):
    """A quiz does not render {cite} roles, so a key there would reach the learner raw;
    and a key written bare (e.g. "casilli2016trump") is no citation a reader can follow."""
    text = "\n".join(_quiz_texts(_quiz(path)))
    assert not CITE.search(text), f"{_rel(path)} uses a {{cite}} role, which quizzes do not render"
    bare = sorted(k for k in BIB_KEYS if re.search(rf"\b{re.escape(k)}\b", text, re.IGNORECASE))
    assert not bare, f"{_rel(path)} names sources by BibTeX key: {bare}"


# ------------------------------------------------------------ assessment (issue 12)


@pytest.mark.parametrize("module", MODULE_DIRS, ids=_rel)
def test_every_objective_is_assessed_by_a_quiz_question(module):
    objectives = _module_yml(module)["objectives"]
    quiz = _quiz(module / "quiz.yml")
    named: dict[int, list[str]] = {}
    for q in quiz["questions"]:
        for number in q.get("objectives") or []:
            assert isinstance(number, int) and 1 <= number <= len(objectives), (
                f"{_rel(module)}/quiz.yml: question {q['id']!r} names objective {number!r}, "
                f"but module.yml lists {len(objectives)}"
            )
            named.setdefault(number, []).append(q["id"])
    unassessed = [f"{n}. {o}" for n, o in enumerate(objectives, 1) if n not in named]
    assert not unassessed, f"{_rel(module)}: objectives no question assesses: {unassessed}"
    assert 8 <= len(quiz["questions"]) <= 10, f"{_rel(module)}: 8-10 questions"


def _choice_questions(quiz: dict) -> list[tuple[str, list[dict]]]:
    return [
        (q["type"], [c if isinstance(c, dict) else {"text": c} for c in q["choices"]])
        for q in quiz["questions"]
        if q.get("choices")
    ]


@pytest.mark.parametrize("path", QUIZZES, ids=_rel)
def test_the_right_answer_is_neither_usually_first_nor_usually_longest(path):
    """The page shuffles choices per attempt, but without JavaScript, in print or in an
    LMS preview, the choices appear in the order of quiz.yml: a learner must not be
    able to score by always picking the first or the longest choice."""
    questions = _choice_questions(_quiz(path))
    first = sum(bool(choices[0].get("correct")) for _, choices in questions)
    assert first <= len(questions) // 2, (
        f"{_rel(path)}: the right answer is listed first in {first} of {len(questions)} questions"
    )
    singles = [choices for kind, choices in questions if kind == "single"]
    longest = 0
    for choices in singles:
        lengths = [len(str(c["text"])) for c in choices]
        right = next(i for i, c in enumerate(choices) if c.get("correct"))
        longest += lengths[right] == max(lengths) and lengths.count(max(lengths)) == 1
    assert longest <= len(singles) // 2, (
        f"{_rel(path)}: the right answer is the longest choice in {longest} of "
        f"{len(singles)} single-choice questions"
    )


def test_the_quiz_script_shuffles_choices_per_attempt():
    """The other half of the rule above: the rendered quiz does not show quiz.yml's order."""
    script = (REPO / "src/coursekit/quiz/static/coursekit-quiz.js").read_text(encoding="utf-8")
    assert "sessionStorage" in script and "function shuffle(" in script
    assert re.search(r"onReset[\s\S]*shuffle\(form, attemptSeed\(form, true\)\)", script), (
        "Start again must draw a new order"
    )


# ------------------------------------------------------------- pages and charts (issue 12)

READINGS = [p for m in MODULE_DIRS for p in sorted(m.glob("*.md")) if p.name not in NOT_READINGS]


@pytest.mark.parametrize("path", READINGS, ids=_rel)
def test_each_reading_opens_with_its_questions_and_objectives(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    body = [line for line in lines[1:] if line.strip()]
    opening = " ".join(body[:12]).lower()
    assert "question" in opening and "objective" in opening, (
        f"{_rel(path)} does not open with its questions and objectives"
    )


LOG_SCALE = re.compile(r"""set_[xy]scale\(\s*["']log|[xy]scale\s*=\s*["']log|log[xy]?\s*=\s*True""")
BARS = re.compile(r"\.(bar|barh)\(|kind\s*=\s*[\"']barh?[\"']|\.plot\.barh?\(")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_rel)
def test_no_bar_chart_on_a_log_scale(path):
    """A bar's length is what a reader compares; on a log axis it means nothing."""
    bad = [
        i
        for i, cell in _chart_cells(path)
        if BARS.search(cell.source) and LOG_SCALE.search(cell.source)
    ]
    assert not bad, f"{_rel(path)}: cells {bad} draw bars on a log scale; use dots or a table"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_rel)
def test_chart_labels_do_not_show_bibtex_keys(path):
    """Sources on a chart read author-year: a chart cell neither writes a key of
    references.bib nor puts the data's `source` column on the figure without mapping it
    to an author-year label (a `CITED_AS`-style table)."""
    leaked = []
    for i, cell in _chart_cells(path):
        if any(re.search(rf"['\"]{re.escape(k)}['\"]", cell.source) for k in BIB_KEYS):
            leaked.append(f"cell {i}: a BibTeX key is written into the chart cell")
        if re.search(r"""\[\s*["']source["']\s*\]""", cell.source) and not re.search(
            r"CITED_AS|cited_as|author_year", cell.source
        ):
            leaked.append(f"cell {i}: the `source` column goes onto the chart unmapped")
    assert not leaked, f"{_rel(path)}:\n" + "\n".join(leaked)
