"""Each bibliography entry formatted once while it stays the same (`coursekit serve`).

sphinxcontrib-bibtex formats every entry of every bibliography again with pybtex
whenever any page changes (its `env-updated` handler clears what it made and starts
over), and pybtex's rich text is slow to build: on the bundled course that was about
a third of a serve rebuild after a one-sentence edit.

pybtex's `BaseStyle.format_entry(label, entry)` without `bib_data` (how
sphinxcontrib-bibtex calls it) is a function of the style, the label and the entry's
type, key, fields and persons alone, so its result is kept under exactly those. An
edited `.bib` entry, a new label (the citation order or the label style changed) or
another style is another key and is formatted afresh; an entry with a `crossref`, a
call with `bib_data`, and a style that formats entries its own way are never kept.
The formatted text is only rendered afterwards, never changed, so it can be shared.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

LIMIT = 4096  # entries kept (the oldest go first): a few books' bibliographies
_kept: dict[Hashable, Any] = {}


def entry_key(entry: Any) -> Hashable | None:
    """Everything of `entry` its formatting reads, or None if it may read more."""
    if "crossref" in entry.fields:
        return None
    persons = tuple(
        (
            role.lower(),
            tuple(
                tuple(
                    tuple(getattr(person, part))
                    for part in (
                        "first_names",
                        "middle_names",
                        "prelast_names",
                        "last_names",
                        "lineage_names",
                    )
                )
                for person in people
            ),
        )
        for role, people in entry.persons.items()
    )
    fields = tuple((name.lower(), str(value)) for name, value in entry.fields.items())
    return (entry.type, entry.key, fields, persons)


def _kept_format_entry(original: Callable[..., Any]) -> Callable[..., Any]:
    def format_entry(self: Any, label: str, entry: Any, bib_data: Any = None) -> Any:
        found = None if bib_data is not None else entry_key(entry)
        if found is None:
            return original(self, label, entry, bib_data)
        style = (
            type(self),
            type(getattr(self, "name_style", None)),
            getattr(self, "abbreviate_names", None),
        )
        key = (style, label, found)
        formatted = _kept.get(key)
        if formatted is None:
            formatted = original(self, label, entry, bib_data)
            if len(_kept) >= LIMIT:
                del _kept[next(iter(_kept))]
            _kept[key] = formatted
        return formatted

    format_entry.coursekit_kept = True  # type: ignore[attr-defined]
    return format_entry


def install() -> None:
    """Keep pybtex's formatted entries from here on, in this process (idempotent)."""
    from pybtex.style.formatting import BaseStyle

    if not getattr(BaseStyle.format_entry, "coursekit_kept", False):
        BaseStyle.format_entry = _kept_format_entry(BaseStyle.format_entry)  # type: ignore[method-assign]


def fresh_citations(app: Any, env: Any) -> list[str]:
    """Each build's bibliography pages get citation nodes as the reading made them.

    sphinxcontrib-bibtex keeps a bibliography's citation nodes in its domain data and,
    writing the page, appends each entry's label and text to them. An environment kept
    in memory (`coursekit serve`) hands the same nodes to the next writing, so a
    bibliography page written again without being read again (every page is, after a
    title changes) listed each entry twice, then three times.
    """
    domain = env.domains.get("cite")
    for bibliography in getattr(domain, "bibliographies", {}).values():
        nodes = bibliography.citation_nodes
        for key, node in nodes.items():
            if node.children or node.get("backrefs"):
                fresh = node.copy()  # its attributes (ids), not what a writing added
                fresh["backrefs"] = []
                nodes[key] = fresh
    return []


def on_config_inited(app: Any, config: Any) -> None:
    """Only books that cite (sphinxcontrib-bibtex loaded) touch pybtex."""
    if "sphinxcontrib.bibtex" in app.extensions:
        install()
        app.connect("env-updated", fresh_citations)
