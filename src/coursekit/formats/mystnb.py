"""Whether a Markdown text is a MyST Markdown notebook, as myst-nb decides it.

myst-nb reads a `.md` page as a notebook (and runs it) when its front matter says
`file_format: mystnb` or `jupytext: {text_representation: {format_name: myst}}`.
The same test, without importing myst-nb (a third of a second), so the checks,
the execute stage and the book agree on which pages are notebooks. mystmd (Jupyter
Book 2) reads a `.md` page as a notebook as soon as its front matter has a
`kernelspec` or a `jupytext` section (myst-cli's `isJupytext`); `mystmd=True` asks
its rule.
"""

from __future__ import annotations

from collections.abc import Iterable

import yaml


def is_myst_notebook(text: str | Iterable[str], *, mystmd: bool = False) -> bool:
    """Whether `text` (the whole page, or its lines without line ends) is a MyST notebook
    for myst-nb (Jupyter Book 1), or for mystmd when `mystmd` (Jupyter Book 2)."""
    if isinstance(text, str):
        if not text.startswith("---"):
            return False
        text = text.splitlines()
    lines = iter(text)
    if not next(lines, "").startswith("---"):
        return False
    top_matter = []
    for line in lines:
        if line.startswith(("---", "...")):
            break
        top_matter.append(line.rstrip() + "\n")
    try:
        metadata = yaml.safe_load("".join(top_matter))
    except Exception:  # as myst-nb: any front matter that does not load is no notebook's
        return False
    if not isinstance(metadata, dict):
        return False
    if mystmd:
        return bool(metadata.get("kernelspec") or metadata.get("jupytext"))
    if metadata.get("file_format") == "mystnb":
        return True
    jupytext = metadata.get("jupytext")
    shown = jupytext.get("text_representation") if isinstance(jupytext, dict) else None
    return isinstance(shown, dict) and shown.get("format_name") == "myst"
