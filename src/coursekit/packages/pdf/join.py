"""The printed parts of the book (`coursekit.packages.pdf.parts`) joined into one PDF.

What a reader sees is one book, as if Chromium had printed it whole:
- the sheets in order, numbered "n / total" across the whole book at the foot of
  each sheet (Chromium numbers each part from 1, so the parts are printed without
  numbers and numbered here, as artifacts of the tagged PDF);
- one outline: the parts' outlines one after the other;
- links: a link to another part (`CROSS` + id) leads to the place that part's PDF
  names, every other link as Chromium made it; named places kept (`#nameddest=`);
- one structure tree (the tagged PDF): the parts' trees under one Document, each
  part's keys into the parent tree moved past the parts' before it.
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pikepdf
from pikepdf import Array, Dictionary, Name, Pdf

from coursekit.packages.pdf.outline import repair_outline
from coursekit.packages.pdf.parts import CROSS

FONT_SIZE = 8
GREY = 0.333  # #555, Chromium's footer as coursekit printed it
NUMBER_BASELINE = 22.0  # points above the sheet's lower edge, within the 18 mm margin
# Helvetica's widths (thousandths of the font size) of what a page number is made of.
WIDTHS = {**dict.fromkeys("0123456789", 556), " ": 278, "/": 278}


@dataclass
class _Joined:
    """The book being joined, and what is known of it so far."""

    pdf: Pdf
    places: dict[str, Array] = field(default_factory=dict)  # named destinations, first wins
    cross: list[tuple[Any, str]] = field(default_factory=list)  # links to other parts
    document: Any = None  # the one Document structure element
    kids: list[pikepdf.Object] = field(default_factory=list)  # its kids, from every part
    parent_tree: list[Any] = field(default_factory=list)  # flat /Nums
    next_key: int = 0
    role_map: dict[str, pikepdf.Object] = field(default_factory=dict)


def join(parts: Sequence[Path], out: Path, title: str, headings: Iterable[str] = ()) -> None:
    """Join the PDFs `parts` into `out`, titled `title`; its bookmarks are named as
    `headings` (the parts' headings, as the pages have them) name them."""
    with pikepdf.new() as pdf:
        book = _Joined(pdf)
        items: list[pikepdf.OutlineItem] = []
        for path in parts:
            # Closed once copied: the copies read their streams' data from the file itself
            # when the book is saved (QPDF keeps it open), and what was parsed of the
            # part (its structure tree: most of its objects) is freed at once.
            with pikepdf.open(path) as part:
                _take_part(book, part, items, title)
        _point_cross_links(book)
        _finish_structure(book)
        if book.places:
            names = pikepdf.NameTree.new(pdf)
            for name, place in sorted(book.places.items()):
                names[name] = place
            pdf.Root.Names = Dictionary(Dests=names.obj)
        with pdf.open_outline() as outline:
            outline.root.extend(items)
        repair_outline(pdf, headings)
        number_pages(pdf)
        pdf.save(out)


def _take_part(book: _Joined, part: Pdf, items: list[pikepdf.OutlineItem], title: str) -> None:
    """Copy the sheets of `part` to the book, with their places, links, bookmarks and
    structure."""
    pdf = book.pdf
    first = len(pdf.pages)
    with warnings.catch_warnings():  # named places: moved below, by hand
        warnings.simplefilter("ignore", pikepdf.exceptions.PageCopyWarning)
        pdf.pages.extend(part.pages)
    if first == 0:
        _take_catalog(pdf, part, title)
    moved = _Mover(part, pdf, first)
    own = dict(_part_places(part))  # read once: the three below look places up
    _take_places(book, own, moved)
    _take_links(book, pdf.pages[first:], own, moved)
    items += _outline(part, own, moved)
    _take_structure(book, part, pdf.pages[first:])


def main(argv: Sequence[str]) -> int:
    """`python -m coursekit.packages.pdf.join OUT TITLE HEADINGS.json PART...`: the
    join in a process of its own (the build's main process keeps its memory and its
    interpreter for the site)."""
    out, title, headings, *parts = argv
    join([Path(p) for p in parts], Path(out), title, json.loads(Path(headings).read_text()))
    return 0


@dataclass
class _Mover:
    """Destinations of one part, moved onto its sheets in the joined book."""

    part: Pdf
    book: Pdf
    first: int  # the index of the part's first sheet in the book
    index: dict[tuple[int, int], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {page.obj.objgen: i for i, page in enumerate(self.part.pages)}

    def __call__(self, place: pikepdf.Object) -> Array | None:
        """An explicit destination of the part, on the book's sheet; None if it is none."""
        if isinstance(place, Dictionary) and "/D" in place:
            place = place.D
        if not isinstance(place, Array) or len(place) == 0:
            return None
        at = self.index.get(place[0].objgen)
        if at is None:
            return None
        sheet = self.book.pages[self.first + at].obj
        return Array([sheet, *place[1:]])  # /XYZ left top zoom: direct objects


def _take_catalog(pdf: Pdf, part: Pdf, title: str) -> None:
    """The first part's language, viewer preferences and document information."""
    for key in ("/Lang", "/ViewerPreferences", "/MarkInfo"):
        if key in part.Root:
            pdf.Root[key] = _copied(pdf, part.Root[key])
    for key, value in part.docinfo.items():
        pdf.docinfo[key] = _copied(pdf, value)
    pdf.docinfo.Title = title


def _copied(pdf: Pdf, value: pikepdf.Object) -> pikepdf.Object:
    """`value` of another PDF, in `pdf` (a direct object is written out and read back)."""
    if value.is_indirect:
        return pdf.copy_foreign(value)
    return pikepdf.Object.parse(value.unparse())


def _part_places(part: Pdf) -> Iterator[tuple[str, Any]]:
    """The part's named destinations (Chromium writes them in the catalog's /Dests)."""
    dests: Any = part.Root.get("/Dests")
    if isinstance(dests, Dictionary):
        for key in dests.keys():  # noqa: SIM118 (pikepdf's iteration is over values)
            yield str(key)[1:], dests[key]
    names = part.Root.get("/Names")
    if isinstance(names, Dictionary) and "/Dests" in names:
        for name, value in pikepdf.NameTree(names.Dests).items():
            yield str(name), value


def _take_places(book: _Joined, own: dict[str, Any], moved: _Mover) -> None:
    for name, place in own.items():
        if name not in book.places and (found := moved(place)) is not None:
            book.places[name] = found


def _take_links(
    book: _Joined, sheets: Iterable[pikepdf.Page], own: dict[str, Any], moved: _Mover
) -> None:
    """Links within the part lead to its own places (explicitly: names repeat across
    parts); links to other parts are kept for when every part's places are known."""
    for sheet in sheets:
        for annot in sheet.obj.get("/Annots", Array()):
            if annot.get("/Subtype") != Name.Link:
                continue
            dest = annot.get("/Dest")
            if (name := _place_name(dest)) is not None:
                found = moved(own[name]) if name in own else None
                if found is not None:
                    annot.Dest = found
            action = annot.get("/A")
            uri = str(action.get("/URI", "")) if isinstance(action, Dictionary) else ""
            if uri.startswith(CROSS):
                book.cross.append((annot, unquote(uri[len(CROSS) :])))


def _place_name(dest: Any) -> str | None:
    """The name of a named destination (a PDF name or string); None for any other."""
    if isinstance(dest, Name):
        return str(dest)[1:]
    return str(dest) if isinstance(dest, pikepdf.String) else None


def _point_cross_links(book: _Joined) -> None:
    for annot, target in book.cross:
        place = book.places.get(target)
        if place is not None:
            del annot["/A"]
            annot.Dest = place


def _outline(part: Pdf, own: dict[str, Any], moved: _Mover) -> list[pikepdf.OutlineItem]:
    with part.open_outline() as outline:
        return [_item(item, moved, own) for item in outline.root]


def _item(item: pikepdf.OutlineItem, moved: _Mover, own: dict[str, Any]) -> pikepdf.OutlineItem:
    place: Any = item.destination
    if (name := _place_name(place)) is not None:
        place = own.get(name)
    copied = pikepdf.OutlineItem(item.title, moved(place) if place is not None else None)
    copied.is_closed = item.is_closed
    copied.children.extend(_item(child, moved, own) for child in item.children)
    return copied


def _take_structure(book: _Joined, part: Pdf, sheets: Sequence[pikepdf.Page]) -> None:
    """The part's structure tree under the book's Document; its parent-tree keys (on
    its sheets and annotations) moved past those of the parts before it."""
    tree: Any = part.Root.get("/StructTreeRoot")
    if not isinstance(tree, Dictionary):
        return
    tree = book.pdf.copy_foreign(tree)  # its /Pg and annotations: the sheets copied above
    shift = book.next_key
    for sheet in sheets:
        if "/StructParents" in sheet.obj:
            sheet.obj.StructParents = int(sheet.obj.StructParents) + shift
        for annot in sheet.obj.get("/Annots", Array()):
            if "/StructParent" in annot:
                annot.StructParent = int(annot.StructParent) + shift
    keys: Any = pikepdf.NumberTree(tree.ParentTree) if "/ParentTree" in tree else {}
    for key, value in keys.items():
        book.parent_tree += [int(key) + shift, value]
    last = max((int(key) for key in keys), default=-1)
    book.next_key = shift + max(int(tree.get("/ParentTreeNextKey", 0)), last + 1)
    for key, value in tree.get("/RoleMap", Dictionary()).items():
        book.role_map.setdefault(key, value)
    element: Any
    for element in _kids(tree.get("/K")):
        if element.get("/S") == Name.Document:
            book.document = book.document if book.document is not None else element
            book.kids += _kids(element.get("/K"))
        else:
            book.kids.append(element)


def _kids(k: pikepdf.Object | None) -> list[pikepdf.Object]:
    if k is None:
        return []
    return list(k) if isinstance(k, Array) else [k]


def _finish_structure(book: _Joined) -> None:
    """One Document holds every part's elements; the tree's root holds it."""
    if book.document is None and not book.kids:
        return
    pdf = book.pdf
    if book.document is None:
        book.document = pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Document))
    for kid in book.kids:
        if isinstance(kid, Dictionary) and "/S" in kid:
            kid.P = book.document
    book.document.K = Array(book.kids)
    root = pdf.make_indirect(
        Dictionary(
            Type=Name.StructTreeRoot,
            K=book.document,
            ParentTree=pdf.make_indirect(Dictionary(Nums=Array(book.parent_tree))),
            ParentTreeNextKey=book.next_key,
        )
    )
    if book.role_map:
        root.RoleMap = Dictionary(book.role_map)
    book.document.P = root
    pdf.Root.StructTreeRoot = root


def number_pages(pdf: Pdf) -> None:
    """ "n / total" at the foot of every sheet, centred, marked as a pagination artifact."""
    font = pdf.make_indirect(
        Dictionary(
            Type=Name.Font,
            Subtype=Name.Type1,
            BaseFont=Name.Helvetica,
            Encoding=Name.WinAnsiEncoding,
        )
    )
    total = len(pdf.pages)
    for number, sheet in enumerate(pdf.pages, start=1):
        name = sheet.add_resource(font, Name.Font, prefix="CkNum")
        text = f"{number} / {total}"
        width = sum(WIDTHS[c] for c in text) * FONT_SIZE / 1000
        box = [float(v) for v in sheet.mediabox]
        x = box[0] + (box[2] - box[0] - width) / 2
        stamp = (
            f"/Artifact <</Type /Pagination /Subtype /Footer>> BDC "
            f"q BT {name} {FONT_SIZE} Tf {GREY} {GREY} {GREY} rg "
            f"{x:.2f} {box[1] + NUMBER_BASELINE:.2f} Td ({text}) Tj ET Q EMC"
        )
        sheet.contents_add(pdf.make_stream(b"q\n"), prepend=True)
        sheet.contents_add(pdf.make_stream(b"\nQ\n" + stamp.encode("ascii")))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
