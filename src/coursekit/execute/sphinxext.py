"""How the Jupyter Book 1 book stage reads what the execute stage ran (a Sphinx extension).

The execute stage is the one place that runs notebooks, a page's own
`mystnb: execution_mode` included (`coursekit.execute.notebooks`). In the book
stage myst-nb lets that page mode override the global one, and no setting stops
it, so `book_execution_mode` has myst-nb read every page in the book stage's
mode: a `force` page, run in the execute stage, is not run a second time there.

A page read from the jupyter-cache depends on the cache's file of its run, so
Sphinx reads it again when that run is replaced (a `force` page at every build)
and the page shows the outputs of this build's run, not the first one's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path, PurePosixPath
from typing import Any

# The page being read (its absolute source path) → its run's file in the jupyter-cache.
_RUN_FILES: dict[str, str] = {}


@contextmanager
def book_execution_mode(mode: str) -> Iterator[None]:
    """While held, myst-nb reads every page in `mode` (the book stage's global one)."""
    import myst_nb.sphinx_

    original = myst_nb.sphinx_.create_client

    def create_client(notebook: Any, source: str, nb_config: Any, *args: Any) -> Any:
        if nb_config.execution_mode != mode:
            nb_config = nb_config.copy(execution_mode=mode)
        if mode == "cache" and not _excluded(str(source), nb_config.execution_excludepatterns):
            _note_run_file(notebook, str(source), nb_config.execution_cache_path)
        return original(notebook, source, nb_config, *args)

    myst_nb.sphinx_.create_client = create_client
    try:
        yield
    finally:
        myst_nb.sphinx_.create_client = original


def _excluded(source: str, patterns: Any) -> bool:
    """Whether myst-nb leaves the page as it is (its test: the POSIX path, from the right)."""
    path = PurePosixPath(Path(source).as_posix())
    return any(path.match(pattern) for pattern in patterns or ())


def _note_run_file(notebook: Any, source: str, cache_path: str) -> None:
    """Remember the cache's file of the page's run (none: excluded, or not in the cache)."""
    from jupyter_cache import get_cache

    cache = get_cache(cache_path)
    with suppress(KeyError):
        record = cache.match_cache_notebook(notebook)
        _RUN_FILES[source] = str(Path(cache_path, "executed", record.hashkey, "base.ipynb"))


def _depend_on_run(app: Any, doctree: Any) -> None:
    env = app.env
    run_file = _RUN_FILES.pop(str(env.doc2path(env.docname)), None)
    if run_file is not None:
        env.note_dependency(run_file)


def setup(app: Any) -> dict[str, Any]:
    app.connect("doctree-read", _depend_on_run)
    return {"parallel_read_safe": False, "parallel_write_safe": True}
