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


def escapes(root: str, rel: str) -> bool:
    """Whether the file `rel` is (or passes through) a symlink to outside `root`."""
    real = os.path.realpath(os.path.join(root, rel))
    base = os.path.realpath(root)
    return not (real == base or real.startswith(base.rstrip(os.sep) + os.sep))
