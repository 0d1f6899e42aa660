"""`coursekit init`: a starter course that checks clean and builds; never over a book."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import yaml

from conftest import run_cli
from coursebuilder import snapshot

UNIT = "modules/01-first-steps"
EXERCISE = "exercises/01-first-steps/exercise"


def test_init_writes_a_course_that_checks_clean(tmp_path: Path) -> None:
    root = tmp_path / "intro-to-data"
    made = run_cli("init", root)
    assert made.returncode == 0, made.stderr
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    assert config["title"] == "Intro to data"  # from the folder's name
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    assert len(toc["parts"]) == 1
    (chapter,) = toc["parts"][0]["chapters"]
    pages = [chapter["file"], *(s["file"] for s in chapter["sections"])]
    assert pages == [
        f"{UNIT}/overview",
        f"{UNIT}/reading",
        f"{UNIT}/notebook",
        EXERCISE,
        f"{UNIT}/quiz",
    ]
    for name in ("module.yml", "overview.md", "reading.md", "notebook.ipynb", "quiz.yml"):
        assert (root / UNIT / name).is_file(), name
    assert (root / f"{EXERCISE}.ipynb").is_file()
    assert "kluyver2016jupyter" in (root / "references.bib").read_text(encoding="utf-8")
    checked = run_cli("check", "--strict", root)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout == ""  # not one finding, warnings included


def test_init_takes_a_title_and_writes_it_as_yaml(tmp_path: Path) -> None:
    title = 'Réseaux: "pouvoir" & données'
    made = run_cli("init", tmp_path, "--title", title)
    assert made.returncode == 0, made.stderr
    config = yaml.safe_load((tmp_path / "_config.yml").read_text(encoding="utf-8"))
    assert config["title"] == title
    assert config["coursekit"]["id"] == "reseaux-pouvoir-donnees"
    assert title in (tmp_path / "intro.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("book_file", ["_config.yml", "_toc.yml"])
def test_init_refuses_a_folder_that_is_a_book(tmp_path: Path, book_file: str) -> None:
    (tmp_path / book_file).write_text("title: Mine\n", encoding="utf-8")
    (tmp_path / "notes.md").write_text("# Notes\n", encoding="utf-8")
    before = snapshot(tmp_path)
    refused = run_cli("init", tmp_path)
    assert refused.returncode == 1
    assert f"{book_file} exists" in refused.stderr and "is a book already" in refused.stderr
    assert "coursekit new module" in refused.stderr  # what to do instead
    assert "Traceback" not in refused.stderr
    assert snapshot(tmp_path) == before


def test_init_joins_a_folder_without_a_book_and_overwrites_nothing(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# My repository\n", encoding="utf-8")
    (tmp_path / ".gitignore").write_text("*.pyc\n", encoding="utf-8")
    made = run_cli("init", tmp_path)
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == "# My repository\n"
    assert (tmp_path / ".gitignore").read_text(encoding="utf-8") == "*.pyc\n"
    assert (tmp_path / "_toc.yml").is_file()

    other = tmp_path / "other"
    (other / UNIT).mkdir(parents=True)
    (other / UNIT / "reading.md").write_text("# Mine\n", encoding="utf-8")
    before = snapshot(other)
    refused = run_cli("init", other)
    assert refused.returncode == 1
    assert f"{UNIT}/reading.md" in refused.stderr and "no file over another" in refused.stderr
    assert snapshot(other) == before  # all or nothing


@pytest.mark.slow
def test_the_starter_course_builds(tmp_path: Path) -> None:
    root = tmp_path / "course"
    assert run_cli("init", root).returncode == 0
    built = run_cli("build", root, "--strict", cwd=root)
    assert built.returncode == 0, built.stdout + built.stderr
    out = root / "_build"
    html = out / "html"
    reading = (html / UNIT / "reading.html").read_text(encoding="utf-8")
    assert "Kluyver" in reading  # the citation resolved and its reference is listed
    assert "mean: 23.4 min" in (html / UNIT / "notebook.html").read_text(encoding="utf-8")
    assert "<fieldset" in (html / UNIT / "quiz.html").read_text(encoding="utf-8")
    exercise_page = (html / f"{EXERCISE}.html").read_text(encoding="utf-8")
    assert "NotImplementedError" in exercise_page and "len(values)" not in exercise_page

    for version in ("12", "2004"):
        with zipfile.ZipFile(out / "scorm" / f"course-scorm{version}.zip") as zf:
            manifest = zf.read("imsmanifest.xml").decode()
            assert "scorm/launch-first-steps.html" in manifest
            assert f"{UNIT}/quiz.html" in zf.namelist()

    def source(edition: str) -> str:
        nb = json.loads((out / "exercises" / edition / "01-first-steps/exercise.ipynb").read_text())
        return "".join("".join(c["source"]) for c in nb["cells"])

    assert "len(values)" in source("teacher") and "len(values)" not in source("student")
