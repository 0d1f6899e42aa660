"""The course model `load_course` builds, and where `check` finds things in files."""

from __future__ import annotations

import json

import pytest

from conftest import REPO
from coursekit.checks import check_course
from coursekit.loading import load_course
from coursekit.model import PageKind, Pos

GOOD = REPO / "tests" / "fixtures" / "good"
BAD = REPO / "tests" / "fixtures" / "bad"


def test_good_course_model():
    loaded = load_course(GOOD)
    course = loaded.course
    assert loaded.findings == ()
    assert course.config is not None
    assert (course.config.title, course.config.course_id) == ("A good course", "good-course")
    assert course.config.scorm.mastery_score == 75
    assert [p.path for p in course.pages] == [
        "intro.md",
        "modules/01-basics/overview.md",
        "modules/01-basics/reading.md",
        "modules/01-basics/counting.ipynb",
        "glossary.md",
        "bibliography.md",
    ]
    assert course.pages[3].kind is PageKind.NOTEBOOK
    (module,) = course.modules
    assert (module.id, module.number, module.duration) == ("basics", 1, 45)
    assert module.objectives == ("Define digital labor.", "Explain what a platform does.")
    assert [p.path for p in module.pages] == [p.path for p in course.pages[1:4]]
    assert (course.pages[1].toc_line, course.pages[1].toc_col) == (6, 15)
    assert course.bibliography is not None
    assert course.bibliography.keys == {"doe2020", "roe2021"}


@pytest.mark.parametrize("case", sorted(p.name for p in BAD.iterdir() if p.is_dir()))
def test_loading_never_raises_and_positions_are_sane(case):
    course, found = check_course(BAD / case)
    assert found, "every bad case has at least one finding"
    for finding in found:
        assert (finding.line, finding.col) == (0, 0) or (finding.line >= 1 and finding.col >= 1)
        assert not finding.path.startswith("/")


def test_notebook_positions_follow_the_json_strings(tmp_path):
    """A cell source written as one string maps its lines to that string's line."""
    (tmp_path / "_config.yml").write_text("title: T\nauthor: A\n")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: nb\n")
    nb = {
        "cells": [
            {
                "cell_type": "markdown",
                "id": "a",
                "metadata": {},
                "source": "# Title\nSee [x](missing.md)",
            },
            {
                "cell_type": "markdown",
                "id": "b",
                "metadata": {},
                "source": ["Intro\n", "and [y](gone.md) here"],
            },
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (tmp_path / "nb.ipynb").write_text(json.dumps(nb, indent=1))
    course = load_course(tmp_path).course
    page = course.pages[0]
    assert page.markup is not None and page.notebook is not None
    links = {link.target: link.pos for link in page.markup.links}
    assert links == {"missing.md": Pos(0, 2, 5), "gone.md": Pos(1, 2, 5)}
    text_lines = (tmp_path / "nb.ipynb").read_text().splitlines()
    line, col = page.where(links["gone.md"])
    assert text_lines[line - 1][col - 1 :].startswith("[y](gone.md)")
    line, _col = page.where(links["missing.md"])  # inside a one-string source
    assert '"source": "# Title' in text_lines[line - 1]
    assert page.notebook.cell_start(1)[0] == text_lines.index("  {", 8) + 1


def test_the_model_cannot_be_changed_by_a_stage():
    """A stage that changed the model would change what every later stage sees."""
    course = load_course(GOOD).course
    assert course.config is not None
    raw = course.config.raw
    assert raw["coursekit"]["id"] == "good-course"
    with pytest.raises(TypeError):
        raw["title"] = "changed"  # type: ignore[index]
    with pytest.raises(TypeError):
        raw["coursekit"]["id"] = "changed"
    assert raw["parse"]["myst_enable_extensions"] == ("colon_fence", "dollarmath")
    bib = course.bibliography.files[0] if course.bibliography else None
    assert bib is not None
    with pytest.raises(TypeError):
        bib.keys["new"] = (1, 1)  # type: ignore[index]


def test_a_notebook_in_the_model_is_read_only():
    """Code written for parsed JSON reads it as it is; changing it needs a copy."""
    import copy

    notebook = load_course(GOOD).course.page("modules/01-basics/counting.ipynb")
    assert notebook is not None and notebook.notebook is not None
    data = notebook.notebook.data
    assert isinstance(data, dict) and isinstance(data["cells"], list)
    with pytest.raises(TypeError):
        data["cells"].append({})
    with pytest.raises(TypeError):
        data["cells"][0]["source"] = "changed"
    mine = copy.deepcopy(data)
    mine["cells"].clear()
    assert data["cells"] and json.loads(json.dumps(data)) == data
