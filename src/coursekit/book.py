"""The book stage: Jupyter Book 1.x (Sphinx 7) from the course's own `_config.yml`/`_toc.yml`.

The only module of coursekit (with the Sphinx extension `coursekit.sphinxext`)
that imports jupyter_book or sphinx. It runs the same configuration a plain
`jupyter-book build .` would, with a few overrides so that the build:

- reads executed notebooks from the cache the execute stage filled, and shows
  the notebooks it did not run (`kept`) with their stored outputs, and so never
  executes anything (see `coursekit.execute` for each `execute_notebooks` mode);
- writes nowhere but the folders it is given (HTML, doctrees, myst-nb's
  `jupyter_execute` folder all land in the build's staging area).
"""

from __future__ import annotations

import functools
import glob
import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from coursekit.errors import BuildError


@dataclass(frozen=True, slots=True)
class BookResult:
    html_dir: Path
    warnings: tuple[str, ...]


def build_book(
    root: Path,
    html_dir: Path,
    scratch: Path,
    *,
    cache_dir: Path | None,
    exclude: Sequence[str] = (),
    jobs: int = 1,
    kept: Sequence[str] = (),
) -> BookResult:
    """Build the HTML book of the course at `root` into `html_dir`.

    `cache_dir`: the jupyter-cache to read executed notebooks from; None builds from
    the outputs stored in the notebooks (`--no-execute`, `execute_notebooks: off`).
    `kept`: notebooks (relative paths) the execute stage did not run, shown with
    their stored outputs. `exclude`: extra Sphinx exclude patterns (e.g. the output
    folder when it lies inside the course).
    """
    from jupyter_book.config import get_final_config
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    overrides: dict[str, object] = {"latex_individualpages": False}
    sphinx_config, _meta = get_final_config(
        user_yaml=root / "_config.yml",
        cli_config=overrides,
        sourcedir=root,
        use_external_toc=True,
    )
    sphinx_config["exclude_patterns"] = [*sphinx_config.get("exclude_patterns", []), *exclude]
    sphinx_config.update(
        _execution_settings(
            root, cache_dir, kept, sphinx_config.get("nb_execution_excludepatterns", [])
        )
    )
    status, warning = io.StringIO(), io.StringIO()
    try:
        with _plugin_lookups_cached(), patch_docutils(str(root)), docutils_namespace():
            app = Sphinx(
                srcdir=str(root),
                confdir=None,
                outdir=str(html_dir),
                doctreedir=str(scratch / "doctrees"),
                buildername="html",
                confoverrides=sphinx_config,
                status=status,
                warning=warning,
                freshenv=True,
                parallel=1,  # sphinx_multitoc_numbering is not parallel-safe
            )
            app.build(force_all=True)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # Sphinx raises its own errors and any extension's
        _missing_extension(exc)
        raise BuildError(
            f"the book stage failed: {type(exc).__name__}: {exc}\n{_tail(warning.getvalue())}"
        ) from exc
    if app.statuscode:
        raise BuildError(f"the book stage failed:\n{_tail(warning.getvalue())}")
    # myst-nb logs this when it runs a notebook itself (one missing from the cache):
    # the execute stage should have left nothing to run, so say so rather than hide it.
    ran = [line for line in status.getvalue().splitlines() if "Executing notebook" in line]
    extra = [f"WARNING: the book stage executed a notebook itself: {line}" for line in ran]
    return BookResult(html_dir, tuple([*_warnings(warning.getvalue()), *extra]))


def _execution_settings(
    root: Path, cache_dir: Path | None, kept: Sequence[str], patterns: Sequence[str]
) -> dict[str, object]:
    """myst-nb's settings: read the execute stage's cache, run nothing.

    Every notebook page is either in the cache (the execute stage ran it) or in
    `kept`, excluded from execution by its own absolute path (myst-nb matches the
    patterns against it, so an escaped full path matches that file only). The
    book's own `patterns` stay, for notebooks Sphinx reads outside the TOC.
    """
    if cache_dir is None:
        return {"nb_execution_mode": "off"}
    return {
        "nb_execution_mode": "cache",
        "nb_execution_cache_path": str(cache_dir),
        "nb_execution_excludepatterns": [
            *patterns,
            *(glob.escape((root / rel).as_posix()) for rel in kept),
        ],
        # A notebook neither cached nor kept would mean a bug; should myst-nb run
        # it anyway, a failure must stop the build (and book.py reports the run).
        "nb_execution_raise_on_error": True,
    }


def _missing_extension(exc: Exception) -> None:
    """A Sphinx extension the book lists that cannot be imported: say what to install."""
    from coursekit.hints import missing_module

    text = str(exc)
    match = re.search(r"Could not import extension (\S+)", text)
    hint = missing_module(text)
    if match is not None:
        raise BuildError(
            f"_config.yml: the book uses the Sphinx extension {match.group(1)}, which cannot "
            f"be imported here: {hint or text}"
        ) from exc


@contextmanager
def _plugin_lookups_cached() -> Iterator[None]:
    """Remember pybtex's plugin lookups for the duration of the build.

    sphinxcontrib-bibtex asks pybtex for its style plugins at every citation, and
    each lookup scans the metadata of every installed distribution: about a third
    of the book stage on this course. The answers cannot change during a build.
    """
    import pybtex.plugin

    original = pybtex.plugin._load_entry_point
    pybtex.plugin._load_entry_point = functools.lru_cache(maxsize=None)(original)
    try:
        yield
    finally:
        pybtex.plugin._load_entry_point = original


def _warnings(text: str) -> list[str]:
    return [line for line in text.splitlines() if "WARNING" in line or "ERROR" in line]


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
