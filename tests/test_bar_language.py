"""The launch page's bar speaks the book's language: `coursekit.language`, else the book's
top-level `language`, else English; its words come from one catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest

from coursekit.loading import load_course
from coursekit.packages.scorm.launch import LaunchPage, render
from coursekit.packages.words import CATALOGUE, ENGLISH, words


def _course(root: Path, config: str) -> str:
    root.mkdir()
    (root / "_config.yml").write_text('title: "T"\n' + config, encoding="utf-8")
    (root / "_toc.yml").write_text("format: jb-book\nroot: intro\n", encoding="utf-8")
    (root / "intro.md").write_text("# T\n\nText.\n", encoding="utf-8")
    config_ = load_course(root).course.config
    assert config_ is not None
    return config_.language


@pytest.mark.parametrize(
    ("config", "language"),
    [
        ("coursekit:\n  language: fr\n", "fr"),
        ("language: de\n", "de"),
        ("language: de\ncoursekit:\n  language: fr\n", "fr"),
        ("sphinx:\n  config:\n    language: es\n", "es"),
        ("language: [not, a, word]\n", "en"),
        ("", "en"),
    ],
)
def test_the_books_language_is_found(tmp_path: Path, config: str, language: str) -> None:
    assert _course(tmp_path / "book", config) == language


def test_every_language_has_only_words_english_has_and_falls_back_to_it() -> None:
    for code, own in CATALOGUE.items():
        assert set(own) <= set(ENGLISH), code
    assert words("fr_CA")["next"] == "Suivant"
    assert words("de")["exit"] == "Beenden"
    assert words("de")["closed"] == ENGLISH["closed"]  # a word German lacks reads English
    assert words("xx") == dict(ENGLISH)


def test_the_launch_page_is_written_in_that_language() -> None:
    page = LaunchPage("u", "Unité", (("modules/u/a.html", "A"),))
    html = render(page, "2004", 80, "fr", "c")
    assert ">Précédent</button>" in html and ">Suivant</button>" in html
    assert "<summary>Pages</summary>" in html and 'lang="fr"' in html
    assert '"position": "Page {n} sur {total}"' in html  # the runtime's words, in #ck-config
