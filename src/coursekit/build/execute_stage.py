"""The execute stage: run the notebooks the book's settings say to run, into the
jupyter-cache the book engine reads (`coursekit.execute`).

Two stages under one timer: `notebooks` decides which notebooks run and which
keep their stored outputs; `execute` runs them, skipped when not one notebook
file was touched since they were all found in the cache, under the same settings
(no need to open the cache: its database layer alone takes seconds to import).
"""

from __future__ import annotations

import json
from pathlib import Path

from coursekit.build.context import BuildContext
from coursekit.build.stages import Stage
from coursekit.execute.notebooks import (
    NotebookSelection,
    cache_folder,
    execute_notebooks,
    select_notebooks,
)

NOTEBOOKS_FILE = ".cache/notebooks.json"  # size and mtime of notebooks all in the cache


def select(ctx: BuildContext) -> NotebookSelection | None:
    """Which notebooks run; None when none does (`--no-execute`; `execute_notebooks: off`
    with no page whose own `mystnb: execution_mode` says otherwise)."""
    settings = ctx.settings
    selection = None
    if ctx.execute:
        selection = select_notebooks(ctx.root, [p.path for p in ctx.course.pages], settings)
    if selection is None or (settings.mode == "off" and not selection.run):
        why = "--no-execute" if not ctx.execute else "execute_notebooks is off"
        ctx.reporter.note(f"{why}: the book shows the outputs stored in the notebooks")
        ctx.summary.kept = tuple(p.path for p in ctx.course.pages if p.is_notebook)
        return None
    ctx.summary.kept = selection.kept
    return selection


def cache_dir(ctx: BuildContext) -> Path | None:
    """The jupyter-cache the book reads; None when it shows the notebooks' stored outputs."""
    runs = ctx.reads_cache or _selection(ctx) is not None  # `off`, but a page forced
    return cache_folder(ctx.root, ctx.out_dir, ctx.settings) if runs else None


def _selection(ctx: BuildContext) -> NotebookSelection | None:
    found = ctx.results.get(NOTEBOOKS.name)
    return found if isinstance(found, NotebookSelection) else None


def execute_key(ctx: BuildContext) -> str | None:
    """The notebooks to run, with their size and mtime (None: `force`, a page of its own
    `force`, or nothing to run)."""
    selection = _selection(ctx)
    if selection is None or ctx.settings.mode == "force" or selection.forced:
        return None
    return json.dumps(
        {
            "mode": ctx.settings.mode,
            "kept": list(selection.kept),
            "run": {rel: _stat(ctx.root / rel) for rel in selection.run},
        },
        sort_keys=True,
    )


def execute(ctx: BuildContext) -> None:
    """Run the selected notebooks, `ctx.jobs` at once, each cell for at most `ctx.timeout`."""
    selection = _selection(ctx)
    if selection is None:
        return
    result = execute_notebooks(
        ctx.root,
        selection.run,
        cache_folder(ctx.root, ctx.out_dir, ctx.settings),
        jobs=ctx.jobs,
        timeout=ctx.timeout,
        on_event=ctx.reporter.notebook,
        settings=ctx.settings,
        forced=selection.forced,
    )
    ctx.summary.executed, ctx.summary.cached = result.executed, result.cached


def _all_cached(ctx: BuildContext) -> None:
    selection = _selection(ctx)
    ctx.summary.cached = tuple(selection.run) if selection is not None else ()


def _stat(path: Path) -> list[int]:
    try:
        st = path.stat()
    except OSError:
        return []
    return [st.st_size, st.st_mtime_ns]


NOTEBOOKS = Stage("notebooks", select, phase=10, timer="execute")
EXECUTE = Stage(
    "execute",
    execute,
    needs=("notebooks",),
    key=execute_key,
    key_file=NOTEBOOKS_FILE,
    record_key="now",  # the cache is written as the notebooks run, not at the commit
    present=lambda ctx: cache_folder(ctx.root, ctx.out_dir, ctx.settings).is_dir(),
    on_skip=_all_cached,
    phase=10,
)
