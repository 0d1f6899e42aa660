"""Reading a page into a notebook exactly as myst-nb will read it in the book stage.

The book stage finds a notebook's outputs in the jupyter-cache by a hash of its
code cells (sources and metadata) and kernelspec, so the execute stage must
read each page into the very same cells myst-nb reads: `.ipynb` with nbformat,
a suffix of `nb_custom_formats` with the reader named there (e.g.
`jupytext.reads` with `fmt: Rmd`), and a `.md` page whose front matter marks it
as a MyST Markdown notebook with myst-nb's own reader and the book's MyST
extensions. Any other page is not a notebook: nothing runs for it.
"""

from __future__ import annotations

import importlib
import re
from functools import cache
from pathlib import Path
from typing import Any

import nbformat

from coursekit.errors import BuildError
from coursekit.execute.settings import CustomFormat, ExecuteSettings
from coursekit.formats.mystnb import is_myst_notebook
from coursekit.loading.markdown import MYSTMD


def is_notebook_page(root: Path, rel: str, settings: ExecuteSettings) -> bool:
    """True when myst-nb reads page `rel` as a notebook (a look at its front matter at most)."""
    if rel.endswith(".ipynb") or _custom_format(rel, settings.custom_formats) is not None:
        return True
    if not rel.endswith(".md"):
        return False
    try:
        with (root / rel).open(encoding="utf-8") as text:
            lines = (line.rstrip("\n") for line in text)
            return is_myst_notebook(lines, mystmd=MYSTMD in settings.myst_extensions)
    except (OSError, UnicodeDecodeError):
        return False  # the checks report an unreadable page


def read_notebook(root: Path, rel: str, settings: ExecuteSettings) -> nbformat.NotebookNode | None:
    """The notebook myst-nb reads from page `rel`, or None when it is not a notebook.

    Raises `BuildError` naming the page when its reader fails on it.
    """
    custom = _custom_format(rel, settings.custom_formats)
    if custom is None and not rel.endswith((".ipynb", ".md")):
        return None
    try:
        text = (root / rel).read_text(encoding="utf-8")
        nb = _read_text(text, rel, root, custom, settings)
    except BuildError:
        raise
    except Exception as exc:  # readers raise many types for a bad file
        raise BuildError(f"{rel}: cannot read the notebook: {exc}") from exc
    if nb is not None:
        _alias_kernel(nb, settings)
    return nb


def _read_text(
    text: str, rel: str, root: Path, custom: CustomFormat | None, settings: ExecuteSettings
) -> nbformat.NotebookNode | None:
    if custom is not None:
        nb: nbformat.NotebookNode = _reader(custom.reader)(text, **dict(custom.kwargs))
        return nb
    if rel.endswith(".ipynb"):
        return nbformat.reads(text, as_version=4)
    from myst_nb.core.read import read_myst_markdown_notebook

    if not is_myst_notebook(text, mystmd=MYSTMD in settings.myst_extensions):
        return None  # a plain Markdown page
    md: nbformat.NotebookNode = read_myst_markdown_notebook(
        text, config=_md_config(settings.myst_extensions), add_source_map=True, path=str(root / rel)
    )
    return md


def _custom_format(rel: str, formats: tuple[CustomFormat, ...]) -> CustomFormat | None:
    """The format whose suffix ends `rel`, the longest first (as myst-nb picks it)."""
    for custom in sorted(formats, key=lambda f: len(f.suffix), reverse=True):
        if rel.endswith(custom.suffix):
            return custom
    return None


@cache
def _reader(dotted: str) -> Any:
    module, _, name = dotted.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise BuildError(
            f"_config.yml: nb_custom_formats names the reader {dotted!r}, which cannot be "
            f"imported ({exc}); install the package that provides it"
        ) from exc


@cache
def _md_config(extensions: tuple[str, ...]) -> Any:
    """The MyST parser settings that decide where a Markdown notebook's cells start and end."""
    from myst_parser.config.main import MdParserConfig

    return MdParserConfig(enable_extensions=set(extensions) - {MYSTMD})


def _alias_kernel(nb: nbformat.NotebookNode, settings: ExecuteSettings) -> None:
    """Rename the kernel as `nb_kernel_rgx_aliases` says (myst-nb does so before hashing)."""
    name = nb.metadata.get("kernelspec", {}).get("name")
    if name is None:
        return
    for pattern, alias in settings.kernel_aliases:
        if re.fullmatch(pattern, name):
            nb.metadata["kernelspec"]["name"] = alias
            return
