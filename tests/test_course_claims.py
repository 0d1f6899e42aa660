"""Where the course's attributed claims come from (issue 25): the claim registers and the
bibliography's author-year labels.

Each module keeps `claims.yml`, a register not shown to learners: for every attributed
claim of its pages, the key of the source credited and where that source makes it (the
post and passage, or the page or section of an outside work). A reviewer checks a claim
against its source through the register; these tests keep the register complete (every
citation of every page is in it) and well-formed.

A reader finds a source through its label, "(Author, year)": two works under one label
are two works the reader cannot tell apart, so every label names one work.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import nbformat
import pytest
import yaml
from pybtex.database import parse_file

REPO = Path(__file__).resolve().parent.parent
MODULES = REPO / "modules"
MODULE_DIRS = sorted(p.parent for p in MODULES.glob("*/module.yml"))
BIB = parse_file(REPO / "references.bib")
BIB_KEYS = frozenset(key.lower() for key in BIB.entries)
CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")
# The quiz page only renders quiz.yml, which names sources in words (test_course_content).
NOT_REGISTERED = {"quiz.md"}
FIELDS = ("page", "claim", "cite", "where")


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def _markdown_of(path: Path) -> str:
    if path.suffix == ".ipynb":
        notebook = nbformat.read(path, as_version=4)
        return "\n\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    return path.read_text(encoding="utf-8")


def _cited_keys(text: str) -> list[str]:
    return [key.strip() for group in CITE.findall(text) for key in group.split(",") if key.strip()]


def _pages(module: Path) -> list[Path]:
    return sorted(
        p for p in [*module.glob("*.md"), *module.glob("*.ipynb")] if p.name not in NOT_REGISTERED
    )


def _register(module: Path) -> list:
    path = module / "claims.yml"
    assert path.is_file(), f"{_rel(module)} has no claims.yml (the claim register)"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("claims"), list), (
        f"{_rel(path)}: expected a mapping with a list under `claims:`"
    )
    return data["claims"]


@pytest.mark.parametrize("module", MODULE_DIRS, ids=_rel)
def test_the_claim_register_is_well_formed(module):
    problems = []
    for n, entry in enumerate(_register(module), start=1):
        where = f"entry {n}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: not a mapping")
            continue
        missing = [f for f in FIELDS if not str(entry.get(f) or "").strip()]
        if missing:
            problems.append(f"{where}: empty or missing {missing}")
        unknown = sorted(set(entry) - set(FIELDS))
        if unknown:
            problems.append(f"{where}: unknown fields {unknown}")
        page = str(entry.get("page") or "")
        if page and not (
            "/" not in page and page.endswith((".md", ".ipynb")) and (module / page).is_file()
        ):
            problems.append(f"{where}: page {page!r} is not a .md or .ipynb file of the module")
        cite = str(entry.get("cite") or "").strip()
        if cite and cite.lower() not in BIB_KEYS:
            problems.append(f"{where}: cite {cite!r} is not a key of references.bib")
    assert not problems, f"{_rel(module)}/claims.yml:\n" + "\n".join(problems)


@pytest.mark.parametrize("module", MODULE_DIRS, ids=_rel)
def test_every_citation_of_a_page_is_in_its_claim_register(module):
    registered = {
        (str(e.get("page", "")).strip(), str(e.get("cite", "")).strip())
        for e in _register(module)
        if isinstance(e, dict)
    }
    missing = []
    for page in _pages(module):
        for key in sorted(set(_cited_keys(_markdown_of(page)))):
            if (page.name, key) not in registered:
                missing.append(f"{page.name}: {key}")
    assert not missing, (
        f"{_rel(module)}: citations with no entry (page + cite) in claims.yml "
        f"({len(missing)}):\n" + "\n".join(missing)
    )


# ------------------------------------------------------------- author-year labels


def _label(key: str) -> str:
    """The label sphinxcontrib-bibtex's author_year style gives the entry: one or two
    authors' last names (with their particles), or the first one's and "et al.", then the
    year field as written, or "n.d."."""
    entry = BIB.entries[key]
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [" ".join([*p.prelast_names, *p.last_names]) for p in people]
    who = f"{names[0]} et al." if len(names) > 2 else " and ".join(names)
    who = re.sub(r"[{}]", "", who)
    return f"{who}, {entry.fields.get('year', 'n.d.')}"


def test_each_author_year_label_names_one_work():
    """e.g. two works of Casilli's from 2016 are (Casilli, 2016a) and (Casilli, 2016b)."""
    works = defaultdict(list)
    for key in BIB.entries:
        works[_label(key)].append(key)
    shared = {label: keys for label, keys in works.items() if len(keys) > 1}
    assert not shared, "labels that name more than one work (give the years a, b, ...):\n" + (
        "\n".join(f"({label}): {', '.join(keys)}" for label, keys in sorted(shared.items()))
    )


def test_year_suffixes_run_a_b_over_every_work_of_the_label():
    """2016a needs a 2016b, and no third work of the author stays plain 2016."""
    suffixed = defaultdict(list)
    plain = set()
    for key in BIB.entries:
        who, year = _label(key).rsplit(", ", 1)
        match = re.fullmatch(r"(\d{4}|n\.d\.-)([a-z])", year)
        if match:
            suffixed[(who, match.group(1).rstrip("-"))].append(match.group(2))
        else:
            plain.add((who, year))
    problems = []
    for (who, base), letters in sorted(suffixed.items()):
        if sorted(letters) != [chr(ord("a") + i) for i in range(len(letters))] or len(letters) < 2:
            problems.append(f"({who}, {base}): suffixes {sorted(letters)}, expected a, b, ...")
        if (who, base) in plain:
            problems.append(f"({who}, {base}) is both suffixed and plain")
    assert not problems, "\n".join(problems)


# Where a source is named in words (quizzes cannot render {cite}; a chart's labels are
# plain text; a feedback says "Casilli, 2016"), the words must name one work too. A
# description ("Casilli's 2016 column") names its work by the noun and is not held to it.
QUIZZES = sorted(MODULES.glob("*/quiz.yml"))
EXERCISES = sorted((REPO / "exercises").glob("*/*.ipynb"))
NAMED = re.compile(
    r"(?P<who>[A-Z][\w'’-]+?)(?: et al\.)?"
    r"(?:, | \(| )(?P<year>(?:19|20)\d\d|n\.d\.)(?![\w-])"
)


def _all_text(path: Path) -> str:
    """Everything a reader may see of a file: Markdown, notebook cells (code too: chart
    labels are written there), quiz YAML."""
    if path.suffix == ".ipynb":
        notebook = nbformat.read(path, as_version=4)
        return "\n\n".join(c.source for c in notebook.cells)
    return path.read_text(encoding="utf-8")


def _suffixed_bases() -> dict[tuple[str, str], list[str]]:
    """(first author's last name, year) -> the suffixed years that split it, e.g.
    ("Casilli", "2016") -> ["2016a", "2016b"]."""
    bases = defaultdict(list)
    for key, entry in BIB.entries.items():
        year = entry.fields.get("year", "")
        match = re.fullmatch(r"(\d{4}|n\.d\.)-?([a-z])", year)
        if match:
            first = _label(key).split(" and ")[0].split(" et al.")[0].rsplit(", ", 1)[0]
            bases[(first.split()[-1], match.group(1))].append(year)
    return bases


SOURCE_FILES = [
    *[p for m in MODULE_DIRS for p in [*m.glob("*.md"), *m.glob("*.ipynb")]],
    *QUIZZES,
    *EXERCISES,
    REPO / "intro.md",
    REPO / "glossary.md",
]


@pytest.mark.parametrize("path", SOURCE_FILES, ids=_rel)
def test_a_source_named_in_words_carries_its_year_letter(path):
    """ "(Casilli, 2016)" written by hand names two works once the bibliography has 2016a
    and 2016b; it must say which."""
    bases = _suffixed_bases()
    text = CITE.sub(" ", _all_text(path))
    vague = sorted(
        {
            f"{m.group(0)!r} (which of {', '.join(sorted(bases[(m['who'], m['year'])]))}?)"
            for m in NAMED.finditer(text)
            if (m["who"], m["year"]) in bases
        }
    )
    assert not vague, f"{_rel(path)} names a source by a year that two works share:\n" + (
        "\n".join(vague)
    )
