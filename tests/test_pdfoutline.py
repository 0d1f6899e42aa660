"""The PDF's bookmark titles, repaired from the page's headings (coursekit.pdfoutline).

The outlines here are made with pikepdf, with the three faults Chromium's outline
was seen to have on the bundled course: a space lost at a heading's line break, a
heading written twice, and a heading's first line written before the whole of it.
"""

from __future__ import annotations

from pathlib import Path

import pikepdf

from coursekit.packages.pdf.outline import repair_titles

HEADINGS = [
    "Digital Labor, Platforms and Power",
    "Licence",
    "Data extraction, platform power and surveillance",
    "Credits",
]


def _pdf_with_outline(path: Path, titles: list[tuple[str, list[str]]]) -> Path:
    with pikepdf.new() as pdf:
        for _ in range(3):
            pdf.add_blank_page()
        with pdf.open_outline() as outline:
            for index, (title, children) in enumerate(titles):
                item = pikepdf.OutlineItem(title, index)
                item.children.extend(pikepdf.OutlineItem(c, index) for c in children)
                outline.root.append(item)
        pdf.save(path)
    return path


def _outline(path: Path) -> list[tuple[str, int, list[str]]]:
    with pikepdf.open(path) as pdf:
        pages = {page.objgen: i for i, page in enumerate(pdf.pages)}
        with pdf.open_outline() as outline:
            return [
                (i.title, pages[i.destination[0].objgen], [c.title for c in i.children])
                for i in outline.root
            ]


def test_the_titles_chromium_garbles_become_the_headings_text(tmp_path: Path) -> None:
    pdf = _pdf_with_outline(
        tmp_path / "book.pdf",
        [
            ("Digital Labor, Platforms andPower", ["LicenceLicence", "Credits"]),
            (
                "Data extraction, platform power and" * 2 + "surveillance",
                [],
            ),
            ("A heading the page does not have", []),
        ],
    )
    assert repair_titles(pdf, HEADINGS) == 3
    assert _outline(pdf) == [
        ("Digital Labor, Platforms and Power", 0, ["Licence", "Credits"]),
        ("Data extraction, platform power and surveillance", 1, []),
        ("A heading the page does not have", 2, []),  # left as Chromium wrote it
    ]


def test_a_clean_outline_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    pdf = _pdf_with_outline(tmp_path / "book.pdf", [("Licence", ["Credits"])])
    before = pdf.read_bytes()
    assert repair_titles(pdf, HEADINGS) == 0
    assert pdf.read_bytes() == before


def test_a_title_is_not_taken_from_a_heading_that_only_ends_the_same(tmp_path: Path) -> None:
    """ "Open data licence" is no repeat of "Licence": the extra start must begin the heading."""
    pdf = _pdf_with_outline(tmp_path / "book.pdf", [("Open data Licence", [])])
    assert repair_titles(pdf, HEADINGS) == 0
