"""Pages whose HTML cannot have changed are not written again (`coursekit serve`).

After an edit to one page, Sphinx's HTML builder writes that page and, in case its
title changed, the pages whose table of contents lists it and the root page, then
the search page and the general index: five pages for one, each with the whole
navigation in its sidebar to render (about 0.1 s a page on the bundled course).

When no page was added or removed and every page read again kept its title, its
sections (what a table of contents or the sidebar shows of it) and its index
entries, those other pages would come out as they are on disk, so they are kept:
the pages Sphinx was asked to write (changed, or named by an extension) are
written as before, and so is any page whose file is missing. A new title or
section, a page added or removed, or a full build writes what Sphinx writes.

For the same reason the page written keeps the navigation it had (its sidebar's
table of contents, rendered from every page's title and sections), as long as no
build since changed what any page shows: a few pages' worth are kept.
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

STATE = "_coursekit_kept_pages"  # on the application
NAVIGATIONS = 64  # the sidebars kept (the oldest go first): the pages being edited


class _State:
    def __init__(self) -> None:
        # the pages read: what others showed of them and their index entries, before
        self.read: dict[str, tuple[Hashable, str]] = {}
        self.pages_changed = True
        self.quiet = False  # nothing the other pages show of the pages read changed
        self.index_same = False  # nor any general index entry
        self.asked: set[str] | None = None  # what Sphinx was asked to write
        self.same = False  # this build writes what it was asked to only
        self.navigations: dict[str, str] = {}  # (page, arguments) → its sidebar's TOC


def _state(app: Any) -> _State:
    state: _State | None = getattr(app, STATE, None)
    if state is None:
        state = _State()
        setattr(app, STATE, state)
    return state


def _shown(env: Any, docname: str) -> tuple[str | None, str | None]:
    """What other pages show of page `docname`: its title and its sections (with their
    markup: a title set in italics shows so in the sidebar)."""
    title, toc = env.titles.get(docname), env.tocs.get(docname)
    return (
        title.pformat() if title is not None else None,
        toc.pformat() if toc is not None else None,
    )


def _indexed(env: Any, docname: str) -> str:
    entries = env.domaindata.get("index", {}).get("entries", {})
    return repr(entries.get(docname))


def on_outdated(
    app: Any, env: Any, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    state = _state(app)
    state.pages_changed = bool(added or removed)
    state.quiet = state.index_same = state.same = False
    return []


def on_before_read(app: Any, env: Any, docnames: list[str]) -> None:
    state = _state(app)
    state.read = {d: (_shown(env, d), _indexed(env, d)) for d in docnames}


def on_env_updated(app: Any, env: Any) -> list[str]:
    state = _state(app)
    if not state.pages_changed:
        state.quiet = all(_shown(env, d) == was for d, (was, _) in state.read.items())
        state.index_same = all(_indexed(env, d) == was for d, (_, was) in state.read.items())
    return []


def on_builder_inited(app: Any) -> None:
    """Only the site's HTML builder: the PDF's single page is one page anyway."""
    builder = app.builder
    if builder.name != "html" or not hasattr(builder, "handle_page"):
        return
    state = _state(app)
    write, prepare_writing, handle_page, local_toctree = (
        builder.write,
        builder.prepare_writing,
        builder.handle_page,
        builder._get_local_toctree,
    )

    def asked_write(build_docnames: Any, updated_docnames: Any, method: str = "update") -> None:
        everything = build_docnames is None or list(build_docnames) == ["__all__"]
        if method == "update" and not everything:
            state.asked = {*build_docnames, *updated_docnames}
        else:
            state.asked = None
        try:
            write(build_docnames, updated_docnames, method)
        finally:
            state.asked = None

    def kept_prepare_writing(docnames: set[str]) -> None:
        # Sphinx hands this same set to the writing that follows. Pages another
        # builder read (the PDF's, same doctrees) were not seen here: all written.
        asked = state.asked
        state.same = state.quiet and asked is not None and asked <= state.read.keys()
        if state.same and asked is not None:
            for docname in docnames - asked:
                if Path(builder.get_outfilename(docname)).is_file():
                    docnames.discard(docname)
        else:
            state.navigations.clear()  # rendered from what the pages showed before
        prepare_writing(docnames)

    def kept_local_toctree(docname: str, collapse: bool = True, **kwargs: Any) -> str:
        key = repr((docname, collapse, sorted(kwargs.items())))
        toctree = state.navigations.get(key)
        if toctree is None:
            toctree = local_toctree(docname, collapse, **kwargs)
            if len(state.navigations) >= NAVIGATIONS:
                del state.navigations[next(iter(state.navigations))]
            state.navigations[key] = toctree
        return toctree

    def kept_handle_page(pagename: str, *args: Any, **kwargs: Any) -> None:
        unchanged = pagename == "search" or (
            state.index_same and (pagename == "genindex" or pagename.startswith("genindex-"))
        )
        kept = state.same and unchanged and "outfilename" not in kwargs
        if kept and Path(builder.get_outfilename(pagename)).is_file():
            return
        handle_page(pagename, *args, **kwargs)

    builder.write = asked_write
    builder.prepare_writing = kept_prepare_writing
    builder.handle_page = kept_handle_page
    builder._get_local_toctree = kept_local_toctree


def setup_events(app: Any) -> None:
    app.connect("env-get-outdated", on_outdated)
    app.connect("env-before-read-docs", on_before_read, priority=900)  # the final list
    app.connect("env-updated", on_env_updated)
    app.connect("builder-inited", on_builder_inited)
