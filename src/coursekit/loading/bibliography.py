"""The bibliography files → `Bibliography`, each parsed once with pybtex.

The files are those `_config.yml` lists under `bibtex_bibfiles` (default
`references.bib`), parsed with pybtex, the parser sphinxcontrib-bibtex uses, so
what passes here passes in the book. Each key keeps where its entry starts.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import MappingProxyType

from coursekit.findings import Finding, make
from coursekit.formats.positions import line_col
from coursekit.formats.yamlfile import read_text
from coursekit.model import BibFile, Bibliography, Config

DEFAULT_BIB = "references.bib"
_ENTRY = re.compile(r"@\s*(\w+)\s*[{(]\s*([^,\s]+)\s*,")


def load_bibliography(root: Path, config: Config | None) -> Bibliography | None:
    """Every listed .bib file that exists, parsed (problems kept on each file)."""
    paths = _bib_paths(root, config)
    return Bibliography(tuple(_read(root, rel) for rel in paths)) if paths else None


def _bib_paths(root: Path, config: Config | None) -> list[str]:
    listed = config.raw.get("bibtex_bibfiles") if config else None
    # A YAML list is a tuple in the read-only model; another value was reported (CK102).
    if isinstance(listed, tuple):
        return [p for p in listed if isinstance(p, str) and (root / p).is_file()]
    return [DEFAULT_BIB] if (root / DEFAULT_BIB).is_file() else []


def _read(root: Path, rel: str) -> BibFile:
    problems: list[Finding] = []
    text = read_text(root, rel, problems)
    if text is None:
        return BibFile(rel, MappingProxyType({}), tuple(problems), False)
    positions = _entry_positions(text)
    # Imported here: pybtex takes a noticeable part of start-up.
    from pybtex.database import parse_string
    from pybtex.exceptions import PybtexError

    try:
        data = parse_string(text, "bibtex")
    except PybtexError as exc:
        line = getattr(exc, "lineno", None) or _line_of_key(text, str(exc)) or 1
        message = str(exc).replace("\n", " ")
        problems.append(make("CK502", rel, line, 1, f"the bibliography does not parse: {message}"))
        return BibFile(rel, MappingProxyType(positions), tuple(problems), False)
    keys = {key: positions.get(key, (1, 1)) for key in data.entries}
    return BibFile(rel, MappingProxyType(keys), (), True)


def _entry_positions(text: str) -> dict[str, tuple[int, int]]:
    found: dict[str, tuple[int, int]] = {}
    for m in _ENTRY.finditer(text):
        if m.group(1).lower() not in ("comment", "preamble", "string"):
            found.setdefault(m.group(2), line_col(text, m.start()))
    return found


def _line_of_key(text: str, message: str) -> int | None:
    """For 'repeated bibliography entry: KEY': the line of the repeat."""
    m = re.search(r"entry: (\S+)", message)
    if not m:
        return None
    hits = [e for e in _ENTRY.finditer(text) if e.group(2) == m.group(1)]
    return line_col(text, hits[-1].start())[0] if hits else None
