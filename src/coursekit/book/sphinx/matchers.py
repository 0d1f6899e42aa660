"""The book's include and exclude patterns compiled once, not once per table of contents.

Sphinx 7.4 resolves the sidebar's tables of contents anew on every page it writes, and
each resolution compiles `include_patterns` and `exclude_patterns` into regular
expressions again (`Matcher(...)` in `sphinx.environment.adapters.toctree`). Jupyter
Book's `only_build_toc_files` turns every file outside the TOC into an exclude pattern,
so a book of 300 pages spent about a fifth of its HTML writing there. A `Matcher`
only matches once made, so one per list of patterns serves every page.
"""

from __future__ import annotations

from typing import Any

LIMIT = 64  # pattern lists kept: a build has two, a serve session a few more

_made: dict[tuple[str, ...], Any] = {}


def _once(matcher_class: type) -> Any:
    def matcher(exclude_patterns: Any = ()) -> Any:
        key = tuple(exclude_patterns)
        made = _made.get(key)
        if made is None:
            if len(_made) >= LIMIT:
                _made.clear()
            made = _made[key] = matcher_class(list(key))
        return made

    matcher.coursekit_once = True  # type: ignore[attr-defined]
    return matcher


def on_config_inited(app: Any, config: Any) -> None:
    """Make the toctree module's `Matcher` one that compiles a list of patterns once."""
    from sphinx.environment.adapters import toctree

    if not getattr(toctree.Matcher, "coursekit_once", False):
        toctree.Matcher = _once(toctree.Matcher)  # type: ignore[misc]
