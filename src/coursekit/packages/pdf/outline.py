"""The PDF's bookmarks: Chromium's outline, with each title as the page's heading reads.

Chromium (`generateDocumentOutline`) builds the outline from the headings as laid
out on the printed pages, so a heading that wraps loses the space at its line
break ("Platforms andPower") and one that a page break moved can come out twice
("Licence" + "Licence", or a first line, then the whole heading). Each title is
matched to a heading of the page by its letters alone (spaces ignored, and such a
repeated start dropped) and takes that heading's text; a title that matches none
is left as Chromium wrote it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pikepdf


def repair_titles(pdf: Path, headings: Iterable[str]) -> int:
    """Rewrite the outline titles of the file `pdf` from `headings`; returns how many changed."""
    with pikepdf.open(pdf, allow_overwriting_input=True) as document:
        changed = repair_outline(document, headings)
        if changed:
            document.save(pdf)
    return changed


def repair_outline(document: pikepdf.Pdf, headings: Iterable[str]) -> int:
    """Rewrite the outline titles of the open `document` from `headings`; returns how
    many changed (the caller saves it)."""
    known = {_letters(h): h for h in headings if _letters(h)}
    changed = 0
    with document.open_outline() as outline:
        for item in _items(outline.root):
            title = _title_for(item.title, known)
            if title != item.title:
                item.title = title
                changed += 1
    return changed


def _title_for(title: str, known: dict[str, str]) -> str:
    """The heading `title` was made from: the same letters, or the same letters after
    a repeat of the heading's first part (its first line on the page before)."""
    key = _letters(title)
    if key in known:
        return known[key]
    for cut in range(1, len(key)):
        rest = key[cut:]
        if rest in known and rest.startswith(key[:cut]):
            return known[rest]
    return title


def _letters(text: str) -> str:
    return "".join(text.split())


def _items(items: Iterable[pikepdf.OutlineItem]) -> Iterator[pikepdf.OutlineItem]:
    for item in items:
        yield item
        yield from _items(item.children)
