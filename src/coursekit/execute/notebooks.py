"""The execute stage: run the book's notebooks in parallel into the jupyter-cache.

Which notebooks run follows the book's own `execute:` settings, with Jupyter
Book's meaning (`coursekit.execsettings`), and ONE mechanism serves every mode:
the execute stage puts what it ran into the jupyter-cache, and the book stage
reads the book in myst-nb's `cache` mode with every notebook the execute stage
did not run excluded from execution by its exact path, so each notebook page is
either found in the cache or shown with its stored outputs, and the book stage
never runs code itself. Per mode:

- `off`: nothing runs; the book is built in myst-nb's `off` mode and shows the
  committed outputs (error outputs included) as content.
- `auto` (Jupyter Book's default): a notebook with a code cell without outputs
  runs (myst-nb's test); one whose code cells all have outputs keeps them.
- `cache`: every notebook runs unless the cache holds a run of the same code
  cells and kernelspec (jupyter-cache's hash); stored outputs are ignored.
- `force`: every notebook runs on every build, whatever the cache or the file holds.

A page's own mode (`mystnb: execution_mode` in its front matter or notebook
metadata) wins over the book's, as in myst-nb: such a `force` page runs at every
build and an `off` page never runs. The book stage reads every page in the
book's mode whatever the page says (`book.sphinx.build`), so a forced page runs
here only, once per build.

`auto` reuses a cached run of the same code too: the outputs are those a fresh
run gives, without paying for it again. In every mode the notebooks matching
`execute.exclude_patterns` (matched as myst-nb matches them) and those under
`exercises/` (the exercises stage runs them) keep their stored outputs.
`allow_errors`, `timeout`, `run_in_temp` and the `raises-exception` /
`skip-execution` cell tags (nbclient's own) apply to each run. MyST Markdown
notebooks and `nb_custom_formats` pages are read into notebooks by myst-nb's
and their own readers (`coursekit.nbread`), run like `.ipynb`, and stored in
the cache under their own path, where the book stage finds them.

Notebooks run in `jobs` long-lived worker processes (`python -m coursekit.execute`,
which import nbclient once), each notebook in a fresh kernel, so a notebook that
kills its kernel, hangs or is interrupted cannot take the build down with it,
and Ctrl-C reaches every worker, which shuts its kernel down.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

import nbformat

from coursekit.errors import BuildError
from coursekit.execute.settings import MODES, ExecuteSettings
from coursekit.loading.nbread import is_notebook_page, read_notebook
from coursekit.model import Course, is_exercise

POLL_SECONDS = 0.05
DEFAULT_CACHE = ".jupyter_cache"  # inside the output folder


@dataclass(frozen=True, slots=True)
class ExecuteEvent:
    """What the execute stage tells its reporter: a notebook started or finished."""

    kind: str  # "start" | "done" | "cached"
    notebook: str  # path relative to the course root
    done: int  # notebooks finished so far (cached ones included)
    total: int
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class ExecuteResult:
    executed: tuple[str, ...]  # notebooks run by this build
    cached: tuple[str, ...]  # notebooks found unchanged in the cache


@dataclass(frozen=True, slots=True)
class NotebookSelection:
    """The notebook pages the execute stage runs, and those that keep their stored outputs."""

    run: tuple[str, ...]
    kept: tuple[str, ...]
    forced: tuple[str, ...] = ()  # of `run`: their own execution_mode is `force`, no cache


class _Worker:
    """A long-lived worker process: it imports nbclient once and runs notebooks sent to it.

    Tasks go in as JSON lines on its stdin; each verdict comes back as a result file,
    written whole (renamed into place), so the build only has to look for it.
    """

    def __init__(self, tmp: Path, index: int) -> None:
        self.log = tmp / f"worker-{index}.log"
        with self.log.open("wb") as log:  # a file, not a pipe: a chatty kernel cannot block
            # Its own session: a Ctrl-C on the terminal reaches it only through `stop`,
            # after the build has decided what to do.
            self.process = subprocess.Popen(
                [sys.executable, "-m", "coursekit.execute.notebooks"],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            )
        self.notebook: str | None = None  # the notebook it is running, if any
        self.out = tmp / f"worker-{index}.result.json"
        self.started = 0.0

    def run(self, notebook: str, task: dict[str, Any]) -> None:
        """Send one notebook (its task, from `_task`) to the worker."""
        self.out.unlink(missing_ok=True)
        self.notebook, self.started = notebook, time.monotonic()
        task = {**task, "out": str(self.out)}
        assert self.process.stdin is not None
        # A worker that died meanwhile is reported by `finished`/`verdict` with its log.
        with contextlib.suppress(BrokenPipeError):
            self.process.stdin.write((json.dumps(task) + "\n").encode())
            self.process.stdin.flush()

    def finished(self) -> bool:
        """True when the running notebook has a verdict, or the worker died trying."""
        return self.notebook is not None and (self.out.is_file() or self.process.poll() is not None)

    def verdict(self) -> dict[str, Any]:
        if self.out.is_file():
            verdict: dict[str, Any] = json.loads(self.out.read_text(encoding="utf-8"))
            return verdict
        text = self.log.read_text(errors="replace").strip() if self.log.is_file() else ""
        last = text.splitlines()[-1] if text else "no output"
        return {"ok": False, "message": f"the notebook worker stopped ({last})"}

    def close(self) -> None:
        """No more notebooks: the worker exits when its stdin closes."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self.process.stdin.close()


def select_notebooks(
    root: Path, pages: Sequence[str], settings: ExecuteSettings
) -> NotebookSelection:
    """Split the notebook pages among `pages` into those that run and those kept as they are.

    Pages that are not notebooks (plain Markdown) are in neither list.
    """
    run: list[str] = []
    kept: list[str] = []
    forced: list[str] = []
    for rel in pages:
        if not is_notebook_page(root, rel, settings):
            continue  # plain Markdown: nothing to run, nothing to keep
        # Only `auto` mode looks at the outputs, and only a page that names a mode of its
        # own has one, so only they are read whole.
        nb = read_notebook(root, rel, settings) if _names_a_mode(root / rel) else None
        mode = page_mode(nb, settings)
        if mode == "auto" and nb is None:
            nb = read_notebook(root, rel, settings)
        if kept_reason(root, rel, nb, replace(settings, mode=mode)):
            kept.append(rel)
        else:
            run.append(rel)
            if mode == "force":
                forced.append(rel)
    return NotebookSelection(tuple(run), tuple(kept), tuple(forced))


def forced_pages(course: Course) -> tuple[str, ...]:
    """The notebook pages that run at every build for their own `mystnb: execution_mode:
    force` (only pages whose text names a mode are read again)."""
    if course.config is None:
        return ()
    named = [
        p.path
        for p in course.pages
        if p.is_notebook and p.text is not None and "execution_mode" in p.text
    ]
    return select_notebooks(course.root, named, course.config.execute).forced if named else ()


def page_mode(nb: nbformat.NotebookNode | None, settings: ExecuteSettings) -> str:
    """The mode page `nb` runs in: its own `mystnb: execution_mode` (front matter or
    notebook metadata) when it gives one, as in myst-nb, else the book's.

    `inline` (myst-nb runs the page while it renders it, for `{eval}`) counts as
    `force`: the page runs at every build, here.
    """
    own = nb.metadata.get("mystnb") if nb is not None else None
    mode = own.get("execution_mode") if isinstance(own, dict) else None
    if mode is False:  # YAML 1.1 reads a bare `off` as false
        return "off"
    if mode == "inline":
        return "force"
    return mode if mode in MODES else settings.mode


def _names_a_mode(path: Path) -> bool:
    """Whether the page's text mentions `execution_mode` at all (a quick look, no parse)."""
    try:
        return b"execution_mode" in path.read_bytes()
    except OSError:
        return False


def cache_folder(root: Path, out_dir: Path, settings: ExecuteSettings) -> Path:
    """The jupyter-cache to fill: `execute.cache` when it lies inside the output folder.

    Anywhere else it would be written outside `_build/`; then (and when unset)
    the cache is `.jupyter_cache` in the output folder, Jupyter Book's default place.
    """
    if settings.cache:
        configured = (root / settings.cache).resolve()
        if configured.is_relative_to(out_dir.resolve()):
            return configured
    return out_dir / DEFAULT_CACHE


def kept_reason(
    root: Path, rel: str, nb: nbformat.NotebookNode | None, settings: ExecuteSettings
) -> str | None:
    """Why notebook `rel` keeps its stored outputs rather than run, or None when it runs.

    `nb` (the page read as a notebook) is needed only in `auto` mode.
    """
    reason = kept_unread(root, rel, settings)
    if reason or settings.mode != "auto":
        return reason
    if nb is not None and not any(
        len(cell.get("outputs", [])) == 0 for cell in nb.cells if cell.cell_type == "code"
    ):
        return "execute_notebooks is auto and every code cell has outputs"
    return None


def kept_unread(root: Path, rel: str, settings: ExecuteSettings) -> str | None:
    """The reasons to keep `rel`'s stored outputs that need no look inside it."""
    if settings.mode == "off":
        return "execute_notebooks is off"
    if is_exercise(rel):  # the exercises stage runs (and self-checks) it
        return "the exercises stage runs it"
    # myst-nb matches each pattern against the page's absolute POSIX path, from the right.
    path = PurePosixPath((root / rel).as_posix())
    for pattern in settings.exclude_patterns:
        if path.match(pattern):
            return f"execute.exclude_patterns has {pattern!r}"
    return None


def execute_notebooks(
    root: Path,
    notebooks: Sequence[str],
    cache_dir: Path,
    *,
    jobs: int,
    timeout: int,
    on_event: Callable[[ExecuteEvent], None],
    settings: ExecuteSettings | None = None,
    forced: Collection[str] = (),
) -> ExecuteResult:
    """Execute `notebooks` (paths relative to `root`) into the jupyter-cache at `cache_dir`.

    `settings`: the book's (`force` ignores the cache, as it does for the `forced`
    notebooks, those whose own execution_mode is `force`; `allow_errors`, `run_in_temp`
    and the readers of text notebooks apply); `timeout` is the one to use (the CLI's
    or the book's). Raises `BuildError` naming the notebook, cell and error when one
    fails; the other running notebooks are stopped then. Successful ones stay cached.
    """
    from jupyter_cache import get_cache

    settings = settings or ExecuteSettings()
    cache_dir.mkdir(parents=True, exist_ok=True)  # `force` may store before it ever looks
    with tempfile.TemporaryDirectory(prefix=".execute-", dir=cache_dir.parent) as tmp:
        # Started before the cache is read: their Python and nbclient load meanwhile.
        workers = [_Worker(Path(tmp), i) for i in range(min(max(1, jobs), len(notebooks)))]
        started = list(workers)  # every one is waited for at the end, idle surplus too
        try:
            cache = get_cache(str(cache_dir))
            total = len(notebooks)
            todo: list[tuple[str, nbformat.NotebookNode]] = []
            cached: list[str] = []
            for rel in notebooks:
                nb = _read(root, rel, settings)
                if settings.mode != "force" and rel not in forced and _in_cache(cache, nb):
                    cached.append(rel)
                    on_event(ExecuteEvent("cached", rel, len(cached), total))
                else:
                    todo.append((rel, nb))
            for surplus in workers[len(todo) :]:
                surplus.close()
            workers = workers[: len(todo)]
            executed: list[str] = []
            pending = longest_first(root, [rel for rel, _nb in todo], _recorded_seconds(cache))
            sources = dict(todo)
            while pending or any(w.notebook for w in workers):
                for worker in workers:
                    if worker.notebook is None and pending:
                        rel = pending.pop(0)
                        task = _task(Path(tmp), root, rel, sources[rel], timeout, settings)
                        worker.run(rel, task)
                        on_event(
                            ExecuteEvent(
                                "start", worker.notebook or "", len(cached) + len(executed), total
                            )
                        )
                    elif worker.finished():
                        rel, verdict = worker.notebook or "", worker.verdict()
                        seconds = verdict.get("seconds", time.monotonic() - worker.started)
                        _store(cache, root, rel, verdict, sources[rel], seconds)
                        worker.notebook = None
                        executed.append(rel)
                        on_event(
                            ExecuteEvent("done", rel, len(cached) + len(executed), total, seconds)
                        )
                time.sleep(POLL_SECONDS)
        finally:
            _stop(started)
    return ExecuteResult(tuple(executed), tuple(cached))


def _read(root: Path, rel: str, settings: ExecuteSettings) -> nbformat.NotebookNode:
    nb = read_notebook(root, rel, settings)
    if nb is None:
        raise BuildError(f"{rel}: not a notebook (no reader for it, or no notebook front matter)")
    return nb


def _task(
    tmp: Path,
    root: Path,
    rel: str,
    nb: nbformat.NotebookNode,
    timeout: int,
    settings: ExecuteSettings,
) -> dict[str, Any]:
    """What a worker needs to run `rel`: the notebook as read (text formats included)."""
    path = tmp / (rel.replace("/", "__") + ".ipynb")
    try:
        nbformat.write(nb, path)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:  # a cell lacks a field
        raise BuildError(
            f"{rel}: the notebook cannot be run as it is, nbformat rejects it "
            f"({type(exc).__name__}: {exc}); `coursekit check` names the invalid cell (CK202)"
        ) from None
    return {
        "path": str(path),
        "cwd": "" if settings.run_in_temp else str((root / rel).parent),
        "timeout": timeout,
        "allow_errors": settings.allow_errors,
    }


def longest_first(root: Path, notebooks: list[str], seconds: dict[str, float]) -> list[str]:
    """`notebooks` in the order to start them: the longest last run first.

    With fewer workers than notebooks, starting the long ones first keeps a long
    one from running alone at the end. Notebooks never run before (no recorded
    time) may be long too: they go first, in course order.
    """
    return sorted(notebooks, key=lambda rel: -seconds.get(str(root / rel), float("inf")))


def _recorded_seconds(cache) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """How long each notebook (by absolute path) took at its last run, from the cache."""
    found: dict[str, tuple[Any, float]] = {}
    for record in cache.list_cache_records():
        seconds = (record.data or {}).get("execution_seconds")
        if isinstance(seconds, int | float):
            seen = found.get(record.uri)
            if seen is None or record.created > seen[0]:
                found[record.uri] = (record.created, float(seconds))
    return {uri: seconds for uri, (_created, seconds) in found.items()}


def _in_cache(cache, nb: nbformat.NotebookNode) -> bool:  # type: ignore[no-untyped-def]
    try:
        cache.match_cache_notebook(nb)
    except KeyError:
        return False
    return True


def _store(
    cache,
    root: Path,
    notebook: str,
    verdict: dict[str, Any],  # type: ignore[no-untyped-def]
    source: nbformat.NotebookNode,
    seconds: float,
) -> None:
    """Check a notebook's verdict; on success put its outputs into the cache."""
    from jupyter_cache.base import CacheBundleIn

    if not verdict["ok"]:
        raise BuildError(f"{notebook}: {verdict['message']}")
    executed = nbformat.from_dict(verdict["notebook"])
    merged = _with_outputs(source, executed)
    cache.cache_notebook_bundle(
        CacheBundleIn(merged, str(root / notebook), data={"execution_seconds": seconds}),
        check_validity=False,
        overwrite=True,
    )


def _with_outputs(
    source: nbformat.NotebookNode, executed: nbformat.NotebookNode
) -> nbformat.NotebookNode:
    """The source notebook with the executed outputs, so its cache hash is the source's,
    and the widgets' state the run stored (`metadata.widgets`, as `jupyter-book build`
    keeps it: ipywidgets outputs render from it; jupyter-cache hashes no metadata but
    the kernelspec, and hands `widgets` back to myst-nb with the outputs)."""
    merged = nbformat.from_dict(json.loads(json.dumps(source)))
    for cell, done in zip(merged.cells, executed.cells, strict=True):
        if cell.cell_type == "code":
            cell.outputs = done.get("outputs", [])
            cell.execution_count = done.get("execution_count")
    widgets = executed.get("metadata", {}).get("widgets")
    if widgets:
        merged.metadata["widgets"] = widgets
    return merged


def _stop(workers: list[_Worker]) -> None:
    """Let idle workers exit; interrupt busy ones (each shuts its kernel down), then kill."""
    for worker in workers:
        worker.close()
        if worker.notebook is not None:
            _signal(worker.process, signal.SIGINT)
    deadline = time.monotonic() + 5
    for worker in workers:
        try:
            worker.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal(worker.process, signal.SIGKILL)
            worker.process.wait()


def _signal(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


# ------------------------------------------------------------------- the worker


def _run_one(path: Path, cwd: Path | None, timeout: int, allow_errors: bool) -> dict[str, Any]:
    """Execute one notebook (plain back-end): {"ok", "notebook"} or {"ok": False, "message"}."""
    from coursekit.execute.executor import KernelExecutor, RunRequest, Status
    from coursekit.hints import missing_module

    nb = nbformat.read(path, as_version=4)
    kernel = nb.metadata.get("kernelspec", {}).get("name", "python3")
    request = RunRequest(nb, str(path), cwd, timeout, kernel, allow_errors=allow_errors)
    outcome = KernelExecutor().run(request)
    if outcome.ok:
        return {"ok": True, "notebook": outcome.executed}
    message = outcome.message(_cell(nb, outcome.cell.index) if outcome.cell else None)
    if outcome.status is Status.TIMEOUT:
        message += " (raise execute.timeout in _config.yml or pass --timeout)"
    elif outcome.status is Status.CELL_ERROR and outcome.cell is not None:
        hint = missing_module(outcome.cell.ename + ": " + outcome.cell.evalue)
        message += f" ({hint})" if hint else ""
    return {"ok": False, "message": message}


def _cell(nb: nbformat.NotebookNode, index: int) -> str:
    """ "cell 3", with the line it starts on in a MyST Markdown notebook (its source map)."""
    lines = nb.metadata.get("source_map")
    if isinstance(lines, list) and index < len(lines):
        return f"cell {index + 1} (line {lines[index] + 1})"
    return f"cell {index + 1}"


def _serve_tasks() -> None:
    """The worker's loop: one JSON task per stdin line, one result file per task."""
    from coursekit.execute import forkserver
    from coursekit.execute.processes import become_subreaper, kill_orphans

    # A double-forked daemon of a cell comes back to this worker, which ends it.
    reaper = become_subreaper()
    for line in sys.stdin:
        task = json.loads(line)
        out = Path(task["out"])
        # run_in_temp (no cwd): an empty folder of its own, as myst-nb gives it.
        cwd = Path(task["cwd"]) if task["cwd"] else None
        began = time.monotonic()
        verdict = _run_one(
            Path(task["path"]), cwd, int(task["timeout"]), bool(task["allow_errors"])
        )
        # Timed here, not by the build: a worker still importing nbclient when its
        # first task came would make that notebook look long.
        verdict["seconds"] = time.monotonic() - began
        if reaper:  # the kernel is gone: any child left (but a template) is an orphan
            kill_orphans(keep=forkserver.pids())
        partial = out.with_suffix(".partial")
        partial.write_text(json.dumps(verdict), encoding="utf-8")
        partial.replace(out)  # whole or absent: the build polls for it


if __name__ == "__main__":
    _serve_tasks()
