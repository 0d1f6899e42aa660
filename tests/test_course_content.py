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


# ------------------------------------------------------------------ issue 25: cues

# Words that tell a test-wise learner an option is wrong (absolute or legal claims).
GIVEAWAY = re.compile(
    r"\b(always|never|only|all|none|every|must|entirely|solely|impossible|guaranteed)\b"
    r"|\bthe law requires\b",
    re.IGNORECASE,
)
CUE_LIMITS = {"longest": 0.25, "two longest": 0.50, "position": 0.40, "giveaway margin": 0.10}


def _normalised(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9à-ÿ]+", str(text).lower()))


def _cue_figures(quizzes: list[Path]) -> dict:
    """What a learner who answers by form rather than content would score on."""
    singles = longest = two_longest = 0
    positions: dict[int, int] = {}
    right_total = 0
    right_giveaway = wrong_giveaway = wrong_total = 0
    right_texts: list[tuple[str, str]] = []
    for path in quizzes:
        for q in _quiz(path)["questions"]:
            if q.get("type") not in ("single", "multiple") or not q.get("choices"):
                continue
            choices = [c if isinstance(c, dict) else {"text": c} for c in q["choices"]]
            where = f"{path.parent.name}:{q['id']}"
            for i, c in enumerate(choices):
                text = str(c.get("text", ""))
                if c.get("correct"):
                    right_total += 1
                    positions[i + 1] = positions.get(i + 1, 0) + 1
                    right_giveaway += bool(GIVEAWAY.search(text))
                    right_texts.append((where, text))
                else:
                    wrong_total += 1
                    wrong_giveaway += bool(GIVEAWAY.search(text))
            if q["type"] == "single":
                singles += 1
                lengths = [len(str(c.get("text", ""))) for c in choices]
                right = next(i for i, c in enumerate(choices) if c.get("correct"))
                longer = sum(n > lengths[right] for n in lengths)
                longest += longer == 0
                two_longest += longer <= 1
    return {
        "singles": singles,
        "longest": longest,
        "two_longest": two_longest,
        "positions": dict(sorted(positions.items())),
        "right_total": right_total,
        "right_giveaway": right_giveaway,
        "wrong_giveaway": wrong_giveaway,
        "wrong_total": wrong_total,
        "right_texts": right_texts,
    }


def _cue_report(figures: dict) -> str:
    s, r, w = figures["singles"], figures["right_total"], figures["wrong_total"]
    return (
        f"right option the longest in {figures['longest']}/{s} single-choice questions "
        f"(limit {CUE_LIMITS['longest']:.0%}), among the two longest in "
        f"{figures['two_longest']}/{s} (limit {CUE_LIMITS['two longest']:.0%}); "
        f"right answers by position in quiz.yml {figures['positions']} of {r} "
        f"(limit {CUE_LIMITS['position']:.0%} per position); giveaway words in "
        f"{figures['wrong_giveaway']}/{w} wrong and {figures['right_giveaway']}/{r} right options"
    )


def test_quizzes_give_no_cue_of_length_position_or_wording():
    """Over every quiz of the course: a learner who picks the longest option, the same
    position, or the option without "always"/"only" must not score (issue 25)."""
    figures = _cue_figures(QUIZZES)
    per_quiz = "\n".join(f"  {p.parent.name}: {_cue_report(_cue_figures([p]))}" for p in QUIZZES)
    report = f"whole course: {_cue_report(figures)}\nper quiz:\n{per_quiz}"
    problems = []
    singles = figures["singles"]
    if figures["longest"] > CUE_LIMITS["longest"] * singles:
        problems.append("the right option is too often the longest")
    if figures["two_longest"] > CUE_LIMITS["two longest"] * singles:
        problems.append("the right option is too often among the two longest")
    crowded = {
        pos: n
        for pos, n in figures["positions"].items()
        if n > CUE_LIMITS["position"] * figures["right_total"]
    }
    if crowded:
        problems.append(f"positions holding more than 40 % of the right answers: {crowded}")
    wrong_share = figures["wrong_giveaway"] / max(figures["wrong_total"], 1)
    right_share = figures["right_giveaway"] / max(figures["right_total"], 1)
    if wrong_share > right_share + CUE_LIMITS["giveaway margin"]:
        problems.append(
            f"absolute or legal words mark wrong options: {wrong_share:.0%} of wrong "
            f"options against {right_share:.0%} of right ones"
        )
    assert figures["singles"] and not problems, "; ".join(problems) + "\n" + report


def test_no_right_answer_is_repeated_across_questions():
    """A right answer that comes back ("quote both, with source and year") teaches the
    pattern, not the content."""
    from difflib import SequenceMatcher

    texts = _cue_figures(QUIZZES)["right_texts"]
    repeats = []
    for i, (where_a, a) in enumerate(texts):
        for where_b, b in texts[i + 1 :]:
            if where_b == where_a:  # two right answers of one multiple-choice question
                continue
            na, nb = _normalised(a), _normalised(b)
            if na and (na == nb or SequenceMatcher(None, na, nb).ratio() >= 0.85):
                repeats.append(f"{where_a} {a!r} ~ {where_b} {b!r}")
    assert not repeats, "right answers repeated across questions:\n" + "\n".join(repeats)


# ------------------------------------------------------------- issue 25: data folders

DATA_DIRS = sorted(p for p in MODULES.glob("*/data") if p.is_dir())


@pytest.mark.parametrize("folder", DATA_DIRS, ids=_rel)
def test_each_data_folder_has_a_readme_naming_every_file(folder):
    readme = folder / "README.md"
    assert readme.is_file(), f"{_rel(folder)} has no README.md saying what each file is"
    text = readme.read_text(encoding="utf-8")
    files = sorted(
        p.name
        for p in folder.iterdir()
        if p.is_file() and p.name != "README.md" and not p.name.startswith(".")
    )
    unnamed = [name for name in files if name not in text]
    assert files and not unnamed, f"{_rel(readme)} does not name {unnamed or 'any file'}"


# ---------------------------------------------------- issue 25: learner-facing wording

SEED = re.compile(r"\bseed(s|ed|'s|’s)?\b", re.IGNORECASE)
# "seed" in a sentence about random numbers is the random seed, which is fine.
RANDOM_CONTEXT = re.compile(
    r"random|rng|draw|generat|simulat|synthetic|reproduc|pseudo|same numbers|re-run|rerun",
    re.IGNORECASE,
)
PRODUCTION_NOTE = re.compile(
    r"\b(earlier|previous|older|prior|first|last|old) (version|edition|draft|release)s? "
    r"of (this|the) (course|module|notebook|page|reading)"
    r"|\b(this|the) course (used to|once|previously|formerly) "
    r"|\b(earlier|previous|older|prior) (version|draft|edition)s? of (this|our)\b",
    re.IGNORECASE,
)


def _prose(text: str) -> str:
    """Text a learner reads as prose: no code blocks, inline code or citation roles."""
    text = re.sub(r"^(`{3,}|~{3,}).*?^\1\s*$", " ", text, flags=re.DOTALL | re.MULTILINE)
    text = CITE.sub(" ", text)
    return re.sub(r"`[^`\n]*`", " ", text)


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?:;])\s+|\n\s*\n", " ".join(text.split(" "))) if s]


def _learner_text(path: Path) -> str:
    if path.name == "quiz.yml":
        quiz = _quiz(path)
        return "\n\n".join([str(quiz.get("title", "")), *_quiz_texts(quiz)])
    if path.name == "module.yml":
        spec = _module_yml(path.parent)
        return "\n\n".join(
            [str(spec.get("title", "")), str(spec.get("summary", ""))]
            + [str(o) for o in spec.get("objectives") or []]
        )
    if path.suffix == ".bib":
        from pybtex.database import parse_file as parse_bib

        entries = parse_bib(path).entries.values()
        return "\n\n".join(
            str(e.fields.get(f, "")) for e in entries for f in ("title", "note", "howpublished")
        )
    return _markdown_of(path)


LEARNER_FILES = [
    *[p for p in MD_PAGES + NOTEBOOKS],
    *QUIZZES,
    *sorted(MODULES.glob("*/module.yml")),
    *EXERCISES,
    REPO / "intro.md",
    REPO / "glossary.md",
    REPO / "bibliography.md",
    REPO / "references.bib",  # its notes are printed in the bibliography
]


@pytest.mark.parametrize("path", LEARNER_FILES, ids=_rel)
def test_learner_text_has_no_production_words(path):
    """The learner reads about "the posts" or "Casilli's blog", not about our "seed"
    file, and not about what an earlier version of the course said (issue 25)."""
    found = []
    sentences = _sentences(_prose(_learner_text(path)))
    for i, sentence in enumerate(sentences):
        # The random seed may be named a sentence after the randomness it fixes.
        context = " ".join(sentences[max(i - 1, 0) : i + 1])
        if SEED.search(sentence) and not RANDOM_CONTEXT.search(context):
            found.append(f"'seed': {sentence.strip()[:160]!r}")
        if PRODUCTION_NOTE.search(sentence):
            found.append(f"production note: {sentence.strip()[:160]!r}")
    assert not found, f"{_rel(path)}:\n" + "\n".join(found)


# ------------------------------------------------------- issue 25: one page template

OPENING = re.compile(r"^(:{3,})\{admonition\} Questions and objectives\s*$")
OBJECTIVE_REF = re.compile(r"\(module objectives? ([\d ,and–-]+)\)")


def _headings(lines: list[str]) -> list[tuple[int, str]]:
    """`## ` headings outside code fences, with their line index."""
    found, fence = [], None
    for i, line in enumerate(lines):
        marker = re.match(r"^(`{3,}|~{3,})", line)
        if marker:
            if fence is None:
                fence = marker.group(1)
            elif line.startswith(fence):
                fence = None
            continue
        if fence is None and line.startswith("## "):
            found.append((i, line[3:].strip()))
    return found


@pytest.mark.parametrize("path", READINGS, ids=_rel)
def test_each_reading_follows_the_page_template(path):
    """Title; the "Questions and objectives" tip naming the questions and the module
    objectives; sections; "To remember" with its bullets; optionally "Check your
    understanding" last (COMMON page template, issue 25)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    problems = []
    if not lines or not lines[0].startswith("# "):
        problems.append("line 1 is not the page's `# Title`")
    body = [i for i, line in enumerate(lines[1:], start=1) if line.strip()]
    start = body[0] if body else None
    opening = OPENING.match(lines[start]) if start is not None else None
    if not opening:
        problems.append("the title is not followed by `:::{admonition} Questions and objectives`")
    else:
        fence = opening.group(1)
        end = next((i for i in range(start + 1, len(lines)) if lines[i].strip() == fence), None)
        if start + 1 >= len(lines) or lines[start + 1].strip() != ":class: tip":
            problems.append("the opening admonition's first option is not `:class: tip`")
        if end is None:
            problems.append(f"the opening admonition is never closed with {fence}")
        else:
            box = "\n".join(lines[start:end])
            for part in (
                "**Questions this reading answers.**",
                "**After it you should be able to**",
            ):
                if part not in box:
                    problems.append(f"the opening admonition lacks {part}")
            ref = OBJECTIVE_REF.search(" ".join(box.split()))
            count = len(_module_yml(path.parent)["objectives"])
            numbers = [int(n) for n in re.findall(r"\d+", ref.group(1))] if ref else []
            if not numbers:
                problems.append("the opening admonition names no '(module objective N)'")
            elif not all(1 <= n <= count for n in numbers):
                problems.append(f"objectives {numbers}: module.yml has {count}")
    headings = _headings(lines)
    names = [name for _, name in headings]
    if names.count("To remember") != 1:
        problems.append(f"expected one '## To remember', found {names.count('To remember')}")
    else:
        after = names[names.index("To remember") + 1 :]
        if after not in ([], ["Check your understanding"]):
            problems.append(
                f"after 'To remember' only 'Check your understanding' may follow: {after}"
            )
        at = headings[names.index("To remember")][0]
        stop = next((i for i, _ in headings if i > at), len(lines))
        if not any(line.lstrip().startswith(("- ", "* ")) for line in lines[at:stop]):
            problems.append("'To remember' has no bullet points")
    banned = [
        n for n in names if n.lower() in {"summary", "key points"} or n.startswith("What to take")
    ]
    if banned:
        problems.append(f"summary headings other than 'To remember': {banned}")
    assert not problems, f"{_rel(path)}:\n" + "\n".join(problems)


# ------------------------------------------- issue 25: feedback on written work

MODEL_ANSWER = re.compile(
    r"^(?P<fence>:{3,})\{admonition\} Model answer and rubric[^\n]*\n"
    r":class: dropdown\s*\n(?P<body>.*?)^(?P=fence)\s*$",
    re.DOTALL | re.MULTILINE,
)
MODEL_WORDS = (80, 150)


def _written_tasks(nb: dict) -> list[int]:
    """Markdown cells a learner writes in: nbgrader task or manually graded answer cells,
    or cells holding a mark scheme."""
    from coursekit.exercises.markers import MARK_SCHEME, scan

    tasks = []
    for i, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") != "markdown":
            continue
        nbg = (cell.get("metadata") or {}).get("nbgrader") or {}
        schemes = [r for r in scan(cell)[0] if r.kind is MARK_SCHEME]
        if nbg.get("task") or nbg.get("solution") or schemes:
            tasks.append(i)
    return tasks


def _model_answer_problems(body: str) -> list[str]:
    """What a "Model answer and rubric" dropdown's body lacks (COMMON's form)."""
    answer = re.search(r"\*\*A model answer\.\*\*(.*?)\*\*Rubric\.\*\*", body, re.DOTALL)
    if not answer:
        return ["the dropdown needs '**A model answer.**' then '**Rubric.**'"]
    problems = []
    words = _prose_words(answer.group(1))
    if not MODEL_WORDS[0] <= words <= MODEL_WORDS[1]:
        problems.append(f"the model answer has {words} words, expected 80-150")
    levels = r"\b(\d+|zero|one|two|three|four|five)\s+points?\b|\b0\s*(:|for\b)"
    if len(re.findall(levels, body[answer.end() :], re.IGNORECASE)) < 2:
        problems.append("the rubric gives fewer than two point levels")
    return problems


@pytest.mark.parametrize("path", EXERCISES, ids=_rel)
def test_every_written_task_has_a_model_answer_the_learner_sees(path):
    """After each written task, in the student edition (so the book and the packages show
    it, folded): a "Model answer and rubric" dropdown with an 80-150 word answer and a
    rubric of point levels (issue 25). The teacher's mark scheme stays hidden."""
    from coursekit.exercises.editions import student_edition
    from coursekit.exercises.files import read_notebook

    source = read_notebook(path)
    tasks = _written_tasks(source)
    assert tasks, f"{_rel(path)} has no written task (nbgrader task cell or mark scheme)"
    student, _ = student_edition(source, path.stem)
    cells = student["cells"]
    problems = []
    for i in tasks:
        label = f"cell {i + 1} (id {cells[i].get('id', '?')})"
        # The dropdown closes the task's own cell, or is the cell right after it.
        candidates = [str(cells[i]["source"])]
        if i + 1 < len(cells) and cells[i + 1]["cell_type"] == "markdown":
            candidates.append(str(cells[i + 1]["source"]))
        found = next((m for text in candidates for m in MODEL_ANSWER.finditer(text)), None)
        if found is None:
            problems.append(f"{label}: no 'Model answer and rubric' dropdown right after it")
            continue
        problems += [f"{label}: {p}" for p in _model_answer_problems(found["body"])]
    assert not problems, f"{_rel(path)}:\n" + "\n".join(problems)


ASSESSES = re.compile(r"assesses objectives? (\d+)", re.IGNORECASE)
DROPDOWN_TITLE = re.compile(r"^:{3,}\{admonition\} Model answer and rubric", re.MULTILINE)


def _blocks(path: Path) -> list[str]:
    """A reading's `## ` sections, or a notebook's Markdown cells: where a written task
    and the model answer that follows it must sit together."""
    if path.suffix == ".ipynb":
        cells = nbformat.read(path, as_version=4).cells
        texts = [c.source if c.cell_type == "markdown" else "" for c in cells]
        # A task's dropdown may be the next cell.
        return [a + "\n\n" + b for a, b in zip(texts, [*texts[1:], ""], strict=True)]
    text = path.read_text(encoding="utf-8")
    return re.split(r"^## ", text, flags=re.MULTILINE)


MODULE_TASK_PAGES = [p for p in MD_PAGES + NOTEBOOKS if p.name not in NOT_CONTENT_PAGES]


@pytest.mark.parametrize("path", MODULE_TASK_PAGES, ids=_rel)
def test_written_tasks_in_the_modules_have_a_model_answer(path):
    """A written task in a reading or notebook says which objective it assesses ("This
    assesses objective N"); a well-formed dropdown follows it, and every dropdown of the
    page is well-formed (issue 25)."""
    count = len(_module_yml(path.parent)["objectives"])
    problems = []
    for block in _blocks(path):
        tasks = [int(n) for n in ASSESSES.findall(" ".join(block.split()))]
        if any(not 1 <= n <= count for n in tasks):
            problems.append(f"a task names objective {tasks}; module.yml has {count}")
        last_task = max((m.end() for m in ASSESSES.finditer(block)), default=None)
        if last_task is not None and not DROPDOWN_TITLE.search(block, last_task):
            title = block.strip().splitlines()[0][:60] if block.strip() else "?"
            problems.append(f"the task in {title!r} has no 'Model answer and rubric' after it")
    for found in MODEL_ANSWER.finditer(_markdown_of(path)):
        problems += _model_answer_problems(found["body"])
    if DROPDOWN_TITLE.search(_markdown_of(path)) and not MODEL_ANSWER.search(_markdown_of(path)):
        problems.append("a 'Model answer and rubric' admonition is not `:class: dropdown`")
    assert not problems, f"{_rel(path)}:\n" + "\n".join(problems)


# ------------------------------------------------------ issue 25: time estimates

PART_MINUTES = re.compile(r"(\d+) minutes? (?:of|for)\b|\|\s*(\d+) min\s*\|")


def _estimated_time(module: Path) -> str:
    text = (module / "overview.md").read_text(encoding="utf-8")
    found = re.search(r"^## Estimated time\s*$(.*?)(?=^## |\Z)", text, re.DOTALL | re.MULTILINE)
    assert found, f"{_rel(module)}/overview.md has no '## Estimated time' section"
    return " ".join(found.group(1).split())


def _stated_total(text: str) -> int | None:
    """The total an overview or intro states: "(170 minutes)" or "About 3 hours 25 minutes"."""
    minutes = re.search(r"\((\d+) minutes\)", text)
    if minutes:
        return int(minutes.group(1))
    hours = re.search(r"[Aa]bout \**(\d+) hours?(?: (\d+) minutes)?", text)
    return int(hours.group(1)) * 60 + int(hours.group(2) or 0) if hours else None


@pytest.mark.parametrize("module", MODULE_DIRS, ids=_rel)
def test_overview_time_adds_up_to_the_module_duration(module):
    duration = _module_yml(module)["duration"]
    section = _estimated_time(module)
    parts = [int(a or b) for a, b in PART_MINUTES.findall(section)]
    total = _stated_total(section)
    assert total == duration and sum(parts) == duration, (
        f"{_rel(module)}: module.yml says {duration} minutes; the overview states "
        f"{total} and its steps add up to {sum(parts)} ({parts})"
    )


EXERCISE_TIME = re.compile(r"\*\*Time:?\*\*:? about (\d+) minutes|\*\*Time: about (\d+) minutes")


@pytest.mark.parametrize("path", EXERCISES, ids=_rel)
def test_an_exercise_takes_the_time_its_overview_gives_it(path):
    text = _markdown_of(path)
    own = EXERCISE_TIME.search(text)
    assert own, f"{_rel(path)} does not say '**Time: about N minutes**'"
    minutes = int(own.group(1) or own.group(2))
    section = _estimated_time(MODULES / path.parent.name)
    given = re.findall(
        r"(\d+) minutes for the exercise|\|[^|]*[Ee]xercise[^|]*\|\s*(\d+) min\s*\|", section
    )
    stated = sorted({int(a or b) for a, b in given})
    assert stated == [minutes], (
        f"{_rel(path)} says {minutes} minutes; its module's overview gives the exercise {stated}"
    )


def test_intro_gives_each_module_its_duration():
    """intro.md's list of modules gives each the duration of its module.yml."""
    intro = " ".join((REPO / "intro.md").read_text(encoding="utf-8").split())
    problems = []
    for module in MODULE_DIRS:
        duration = _module_yml(module)["duration"]
        item = re.search(rf"\]\(modules/{re.escape(module.name)}/overview\.md\)([^:]*)", intro)
        stated = _stated_total(item.group(1)) if item else None
        if stated != duration:
            problems.append(f"{module.name}: intro says {stated}, module.yml {duration}")
    total = sum(_module_yml(m)["duration"] for m in MODULE_DIRS)
    said = re.search(r"(\d+) hours? (?:and )?(\d+) minutes in all|(\d+) minutes in all", intro)
    said_total = (
        (int(said.group(1)) * 60 + int(said.group(2)))
        if said and said.group(1)
        else (int(said.group(3)) if said else None)
    )
    if said_total != total:
        problems.append(f"intro gives {said_total} minutes in all; the modules add up to {total}")
    assert not problems, "\n".join(problems)
