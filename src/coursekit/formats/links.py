"""What a link target means, in one place: external or local, and which file it names.

Used by the page checks, the quiz checks and the loaders alike, so "is this link
external" has one answer everywhere (an `HTTPS://` link is external in a page and
in a quiz).
"""

from __future__ import annotations

import os
import posixpath
import re
from urllib.parse import unquote

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def is_external(target: str) -> bool:
    """A URL with a scheme (`https:`, `mailto:`…) or protocol-relative (`//host/…`)."""
    target = target.strip()
    return bool(_SCHEME.match(target)) or target.startswith("//")


def local_path(target: str) -> str | None:
    """The file part of a link target, or None for URLs, pure anchors and empty targets."""
    target = target.strip()
    if not target or target.startswith("#") or is_external(target):
        return None
    path = unquote(target.split("#", 1)[0].split("?", 1)[0])
    return path or None


def resolve(page: str, path: str) -> str:
    """`path` written in `page` → a path from the course root (a leading `/` is the root)."""
    base = "" if path.startswith("/") else posixpath.dirname(page)
    return posixpath.normpath(posixpath.join(base, path.lstrip("/")))


def outside(rel: str) -> bool:
    """Whether a resolved path leads out of the course folder."""
    return rel == ".." or rel.startswith("../")


def link_candidates(page: str, path: str, image: bool, suffixes: tuple[str, ...]) -> list[str]:
    """The files that would satisfy a link to `path` written in `page`: the file itself,
    then (for a link to a page, not an image) the page with each suffix, as Sphinx
    finds `page` or `page.html`. Empty when the link leads outside the course."""
    rel = resolve(page, path)
    if outside(rel):
        return []
    if image:
        return [rel]
    stem, suffix = os.path.splitext(rel)
    stem = stem if suffix in (".html", *suffixes) else rel
    return [rel, *(stem + s for s in suffixes)]


def doc_candidates(page: str, target: str, suffixes: tuple[str, ...]) -> list[str]:
    """The page files a {doc} role naming `target` in `page` may mean (none outside)."""
    rel = resolve(page, target)
    if outside(rel):
        return []
    return [rel] if rel.endswith(suffixes) else [rel + s for s in suffixes]


class Files:
    """The files under a course root, each asked about once: is it there, does it escape.

    The TOC and the link checks resolve thousands of paths in the same few folders
    again and again; `realpath` walks every component with a system call, so the
    real path of each folder is found once and only a file that is itself a symlink
    is resolved on its own. Make one per load or check run: the answers are not kept
    longer.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = os.fspath(root)
        self._real_root = os.path.realpath(self.root)
        self._inside = self._real_root.rstrip(os.sep) + os.sep
        self._real_dirs: dict[str, str] = {}
        self._is_file: dict[str, bool] = {}

    def is_file(self, rel: str) -> bool:
        """Whether `rel` (from the root, resolved) is a file, following symlinks."""
        known = self._is_file.get(rel)
        if known is None:
            known = self._is_file[rel] = os.path.isfile(os.path.join(self.root, rel))
        return known

    def real(self, rel: str) -> str:
        """Where the file `rel` really is, symlinks followed."""
        full = os.path.join(self.root, rel)
        if os.path.islink(full):
            return os.path.realpath(full)
        return os.path.join(self._real_dir(os.path.dirname(rel)), os.path.basename(full))

    def escapes(self, rel: str) -> bool:
        """Whether the file `rel` is (or passes through) a symlink to outside the root."""
        real = self.real(rel)
        return not (real == self._real_root or real.startswith(self._inside))

    def _real_dir(self, rel: str) -> str:
        real = self._real_dirs.get(rel)
        if real is None:
            real = self._real_dirs[rel] = os.path.realpath(os.path.join(self.root, rel))
        return real
