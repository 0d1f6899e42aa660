"""The PDF's single page written a chapter at a time, and only the chapters that changed.

Sphinx's `singlehtml` builder loads every page's doctree into one tree, resolves
and writes it whole: the whole book is in memory at once, and an edit to one page
writes the page (7 MB for 300 pages) again from scratch. This builder (registered as
`singlehtml`, so everything that keys on the builder's name still applies) writes
the same page, byte for byte what the stock builder writes, in pieces:

- the root page is written with each entry of its tables of contents (a chapter:
  a page and the pages its own tables of contents list, all inlined, as Sphinx
  inlines them) left as a `print_chapter` node;
- the writer meets each chapter in reading order and only then loads, resolves
  and writes it, with the writer's own state (heading levels, the page being
  written), so the chapter comes out as in the whole tree, and is then dropped.
  It is resolved with each page's own section and figure numbers, as the whole
  tree was before `write` merged them under the root page's name; what extensions
  add once at the end of a resolved tree (sphinx-thebe's settings) the root page
  has, as the whole tree had;
- what a chapter was written as (its HTML, its quiz answers for the appendix, its
  images) is kept in `print-chapters/` beside the page. The next build takes it
  from there when none of the chapter's pages is among those Sphinx would write
  again (`updated_docnames`: the pages read, and every page when a title, the
  TOC or the set of pages changed; a full build, `method == "all"`, writes all).
  That is the rule Sphinx's HTML builder follows for the site's own pages.
  What chapters no longer in the book were written as is removed after the writing.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.builders.singlehtml import SingleFileHTMLBuilder
from sphinx.util.console import darkgreen
from sphinx.util.nodes import inline_all_toctrees

from coursekit.book.sphinx.printedition import ANSWERS

CHAPTERS = "print-chapters"  # beside the builder's output folder, in the work tree


class print_chapter(nodes.General, nodes.Element):  # noqa: N801 - docutils' node naming
    """A chapter of the one page, loaded only when the writer reaches it."""


class PrintPageBuilder(SingleFileHTMLBuilder):
    """`singlehtml`, written one chapter at a time (see the module docstring)."""

    _ck_dirty: set[str] | None  # the pages to write again; None: all of them
    _ck_order: dict[str, list[str]]  # each chapter's pages, by its first page
    _ck_numbers: tuple[Any, Any]  # the pages' own section and figure numbers

    def write(self, build_docnames: Any, updated_docnames: Any, method: str = "update") -> None:
        self._ck_dirty = None if method == "all" else set(updated_docnames or ())
        self._ck_order = self._reading_order()
        setattr(self, ANSWERS, [])  # this build's, in reading order
        super().write(build_docnames, updated_docnames, method)
        kept = {self._stored(first) for first in self._ck_order}
        for stale in set(self._ck_folder().glob("*.json")) - kept:  # chapters gone
            stale.unlink(missing_ok=True)

    # Sphinx marks this final; overridden only to pass `_cache=False`, its own option.
    def write_doctree(  # type: ignore[misc]
        self, docname: str, doctree: nodes.document, *, _cache: bool = True
    ) -> None:
        """Each page read is saved, not also kept parsed until the writing: Sphinx keeps
        them for a writer that takes each page once, and this one loads the pages a
        chapter at a time (the site's builder is an application of its own), so the
        whole book would stay in memory (on the 300-page benchmark book, the build's
        process peaked at 446 MB with them kept and 373 MB without)."""
        super().write_doctree(docname, doctree, _cache=False)

    def assemble_doctree(self) -> nodes.document:
        """The root page, each entry of its tables of contents a `print_chapter`."""
        master = self.config.root_doc
        # `write` then merges the numbers under the root page's name; the chapters are
        # resolved later, with each page's own, as the whole tree was.
        self._ck_numbers = (self.env.toc_secnumbers, self.env.toc_fignumbers)
        tree = self.env.get_doctree(master)
        placed: set[str] = set()
        for toctree in list(tree.findall(addnodes.toctree)):
            chapters = []
            for doc in map(str, toctree["includefiles"]):
                if doc in self._ck_order and doc not in placed:
                    placed.add(doc)
                    chapters.append(print_chapter(docname=doc))
            toctree.parent.replace(toctree, chapters)
        tree["docname"] = master
        self.env.resolve_references(tree, master, self)
        self.fix_refuris(tree)
        return tree

    def _reading_order(self) -> dict[str, list[str]]:
        """Each chapter's pages in reading order, by the chapter's first page; a page is
        in the chapter that reaches it first, as when Sphinx inlines the whole tree."""
        includes = self.env.toctree_includes
        master = self.config.root_doc
        seen = {master}
        chapters: dict[str, list[str]] = {}

        def walk(doc: str, into: list[str]) -> None:
            for child in includes.get(doc, ()):
                if child not in seen and child in self.env.all_docs:
                    seen.add(child)
                    into.append(child)
                    walk(child, into)

        for first in includes.get(master, ()):
            if first in seen or first not in self.env.all_docs:
                continue
            seen.add(first)
            pages = chapters[first] = [first]
            walk(first, pages)
        return chapters

    def chapter_html(self, node: print_chapter, translator: Any) -> str:
        """The chapter's HTML as `translator` writes it there, from the last build's when
        none of its pages changed."""
        first = node["docname"]
        pages = self._ck_order[first]
        stored = self._stored(first)
        kept = self._kept(stored, pages)
        if kept is not None:
            getattr(self, ANSWERS, []).extend(kept["answers"])
            self.images.update(kept["images"])
            return str(kept["html"])
        answers = getattr(self, ANSWERS, [])
        answers_before = len(answers)
        chapter = self._load(first, pages)
        for page in pages:  # read once: the chapter is written once
            self.env._pickled_doctree_cache.pop(page, None)
        uris = {str(image["uri"]) for image in chapter.findall(nodes.image)}
        start = len(translator.body)
        for child in list(chapter.children):
            child.walkabout(translator)
        html = "".join(translator.body[start:])
        del translator.body[start:]
        written = {
            "pages": pages,
            "html": html,
            "answers": answers[answers_before:],
            "images": {uri: self.images[uri] for uri in sorted(uris) if uri in self.images},
        }
        stored.write_text(json.dumps(written), encoding="utf-8")
        return html

    def _kept(self, stored: Path, pages: list[str]) -> dict[str, Any] | None:
        if self._ck_dirty is None or self._ck_dirty.intersection(pages):
            return None
        try:
            kept = json.loads(stored.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return kept if isinstance(kept, dict) and kept.get("pages") == pages else None

    def _load(self, first: str, pages: list[str]) -> nodes.document:
        """The chapter as the whole tree holds it, resolved: its first page with its own
        tables of contents inlined, under a `start_of_file`, in a document of its own."""
        master = self.config.root_doc
        before = [master, *self._pages_before(first)]
        subtree = inline_all_toctrees(
            self, set(), first, self.env.get_doctree(first), darkgreen, [*before, first]
        )
        start = addnodes.start_of_file(docname=first)
        start.children = subtree.children
        for section in start.findall(nodes.section):
            if "docname" not in section:
                section["docname"] = first
        chapter = subtree.copy()
        chapter.append(start)
        chapter["docname"] = master
        env = self.env
        merged = (env.toc_secnumbers, env.toc_fignumbers)
        env.toc_secnumbers, env.toc_fignumbers = self._ck_numbers
        try:
            env.resolve_references(chapter, master, self)
        finally:
            env.toc_secnumbers, env.toc_fignumbers = merged
        # What extensions add once per page at its end (sphinx-thebe's settings) the
        # root page's own resolution added: the chapter keeps what precedes its end.
        ends = [i for i, child in enumerate(chapter.children) if child is start]
        if ends:
            del chapter.children[ends[0] + 1 :]
        self.fix_refuris(chapter)
        self.post_process_images(chapter)
        return chapter

    def _pages_before(self, first: str) -> list[str]:
        before: list[str] = []
        for chapter_first, pages in self._ck_order.items():
            if chapter_first == first:
                break
            before.extend(pages)
        return before

    def _stored(self, first: str) -> Path:
        """Where the chapter that starts at page `first` is kept between builds."""
        return self._ck_folder() / f"{hashlib.sha256(first.encode()).hexdigest()[:32]}.json"

    def _ck_folder(self) -> Path:
        folder = Path(self.outdir).parent / CHAPTERS
        folder.mkdir(parents=True, exist_ok=True)
        return folder


def visit_print_chapter(self: Any, node: print_chapter) -> None:
    self.body.append(self.builder.chapter_html(node, self))
    raise nodes.SkipNode


def setup(app: Any) -> dict[str, Any]:
    app.add_builder(PrintPageBuilder, override=True)
    app.add_node(print_chapter, html=(visit_print_chapter, None))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
