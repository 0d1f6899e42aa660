"""The file index: every file the pages and quiz directives name, looked up once.

The checks ask whether a link's target exists (and does not lead out of the
course through a symlink); the loader answers every such question here, so the
checks are functions of the model alone.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from coursekit.formats import links
from coursekit.loading.markdown import role_target
from coursekit.loading.units import MODULES_DIR
from coursekit.model import FileIndex, Page, QuizUse


def index_files(
    root: Path,
    pages: Iterable[Page],
    uses: Iterable[QuizUse],
    suffixes: tuple[str, ...],
    module_layout: bool,
) -> FileIndex:
    """Which of the files `pages` and `uses` name are files, which escape the course,
    and (in coursekit's layout) the page files of the module folders."""
    files = links.Files(root)
    found: set[str] = set()
    asked = {*_named_by_pages(pages, suffixes), *((use.quiz,) for use in uses)}
    for candidates in asked:
        # The checks take the first candidate that is a file and ask no further.
        first = next((rel for rel in candidates if files.is_file(rel)), None)
        if first is not None:
            found.add(first)
    escaping = frozenset(rel for rel in found if files.escapes(rel))
    in_modules = tuple(_module_pages(root, suffixes)) if module_layout else ()
    return FileIndex(frozenset(found), escaping, in_modules)


def _module_pages(root: Path, suffixes: tuple[str, ...]) -> Iterator[str]:
    """The page files under modules/, folder by folder; hidden and `_` ones left out."""
    # os.walk on strings: a big course has thousands of files here.
    for folder, dirs, names in os.walk(root / MODULES_DIR):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))  # checkpoints…
        rel_folder = os.path.relpath(folder, root).replace(os.sep, "/")
        for name in sorted(names):
            if not name.startswith((".", "_")) and name.endswith(suffixes):
                yield f"{rel_folder}/{name}"


def _named_by_pages(pages: Iterable[Page], suffixes: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    """For each link, {download} and {doc} of `pages`: the files that would satisfy it."""
    for page in pages:
        markup = page.markup
        if markup is None:
            continue
        for link in markup.links:
            path = links.local_path(link.target)
            if path is not None:
                yield tuple(links.link_candidates(page.path, path, link.image, suffixes))
        for role in markup.roles:
            target = role_target(role.content)
            if role.name == "download" and (path := links.local_path(target)) is not None:
                yield tuple(links.link_candidates(page.path, path, True, suffixes))
            elif role.name == "doc":
                yield tuple(links.doc_candidates(page.path, target, suffixes))
