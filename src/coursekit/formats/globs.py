"""Sphinx's glob patterns (`exclude_patterns`), matched as Sphinx matches them, without Sphinx.

`**` matches across folders, `*` and `?` within one path segment, `[...]` a character
class (`[!...]` its complement); a pattern matches the whole path, relative to the
book's root, with `/` between folders, and a leading `**/` also matches at the root.
"""

from __future__ import annotations

import functools
import re


@functools.cache
def compile_glob(pattern: str) -> re.Pattern[str]:
    """The regular expression Sphinx's `Matcher` would build for `pattern`."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        i += 1
        if char == "*":
            if pattern[i : i + 1] == "*":
                i += 1
                out.append(".*")
            else:
                out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 1 if pattern[i : i + 1] in ("!", "]") else i)
            if end == -1:
                out.append(r"\[")
                continue
            body = pattern[i:end].replace("\\", "\\\\")
            i = end + 1
            out.append(f"[^/{body[1:]}]" if body.startswith("!") else f"[{body}]")
        else:
            out.append(re.escape(char))
    return re.compile("".join(out) + r"\Z")


def matches_any(path: str, patterns: tuple[str, ...]) -> bool:
    """Whether the root-relative `path` matches one of Sphinx's `patterns`."""
    at_root = tuple(p[3:] for p in patterns if p.startswith("**/"))  # as Sphinx's Matcher
    return any(compile_glob(p).match(path) for p in (*patterns, *at_root))
