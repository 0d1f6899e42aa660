"""The execute stage: run the course notebooks in parallel into the jupyter-cache.

The book stage reads the same cache (myst-nb's `execute_notebooks: cache` mode),
finds every notebook already executed there, and so never runs code itself.
A notebook whose code cells and kernelspec did not change since its last
successful run is matched in the cache (jupyter-cache's hash) and not run again.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from coursekit.errors import BuildError

# Pages under exercises/ are executed (and self-checked) by the exercises stage.
NOT_EXECUTED_HERE = ("exercises/",)
POLL_SECONDS = 0.05


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
                [sys.executable, "-m", "coursekit.execute"],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            )
        self.notebook: str | None = None  # the notebook it is running, if any
        self.out = tmp / f"worker-{index}.result.json"
        self.started = 0.0

    def run(self, root: Path, notebook: str, timeout: int) -> None:
        """Send one notebook to the worker."""
        self.out.unlink(missing_ok=True)
        self.notebook, self.started = notebook, time.monotonic()
        task = {"path": str(root / notebook), "out": str(self.out), "timeout": timeout}
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


def notebooks_to_execute(root: Path, pages: Sequence[str]) -> list[str]:
    """The `.ipynb` pages the execute stage runs (exercises are not among them)."""
    return [p for p in pages if p.endswith(".ipynb") and not p.startswith(NOT_EXECUTED_HERE)]


def execute_notebooks(
    root: Path,
    notebooks: Sequence[str],
    cache_dir: Path,
    *,
    jobs: int,
    timeout: int,
    on_event: Callable[[ExecuteEvent], None],
) -> ExecuteResult:
    """Execute `notebooks` (paths relative to `root`) into the jupyter-cache at `cache_dir`.

    Raises `BuildError` naming the notebook, cell and error when one fails; the
    other running notebooks are stopped then. Successful ones stay cached.
    """
    from jupyter_cache import get_cache

    cache = get_cache(str(cache_dir))
    total = len(notebooks)
    todo: list[tuple[str, nbformat.NotebookNode]] = []
    cached: list[str] = []
    for rel in notebooks:
        nb = _read(root, rel)
        if _in_cache(cache, nb):
            cached.append(rel)
            on_event(ExecuteEvent("cached", rel, len(cached), total))
        else:
            todo.append((rel, nb))
    executed: list[str] = []
    pending = [rel for rel, _nb in todo]
    sources = dict(todo)
    with tempfile.TemporaryDirectory(prefix=".execute-", dir=cache_dir.parent) as tmp:
        workers = [_Worker(Path(tmp), i) for i in range(min(max(1, jobs), len(todo)))]
        try:
            while pending or any(w.notebook for w in workers):
                for worker in workers:
                    if worker.notebook is None and pending:
                        worker.run(root, pending.pop(0), timeout)
                        on_event(
                            ExecuteEvent(
                                "start", worker.notebook or "", len(cached) + len(executed), total
                            )
                        )
                    elif worker.finished():
                        rel, seconds = worker.notebook or "", time.monotonic() - worker.started
                        _store(cache, root, rel, worker.verdict(), sources[rel], seconds)
                        worker.notebook = None
                        executed.append(rel)
                        on_event(
                            ExecuteEvent("done", rel, len(cached) + len(executed), total, seconds)
                        )
                time.sleep(POLL_SECONDS)
        finally:
            _stop(workers)
    return ExecuteResult(tuple(executed), tuple(cached))


def _read(root: Path, rel: str) -> nbformat.NotebookNode:
    try:
        return nbformat.read(root / rel, as_version=4)
    except Exception as exc:  # nbformat raises many types for a bad file
        raise BuildError(f"{rel}: cannot read the notebook: {exc}") from exc


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
    """The source notebook with the executed outputs, so its cache hash is the source's."""
    merged = nbformat.from_dict(json.loads(json.dumps(source)))
    for cell, done in zip(merged.cells, executed.cells, strict=True):
        if cell.cell_type == "code":
            cell.outputs = done.get("outputs", [])
            cell.execution_count = done.get("execution_count")
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


def _run_one(path: Path, timeout: int) -> dict[str, Any]:
    """Execute one notebook with nbclient: {"ok", "notebook"} or {"ok": False, "message"}."""
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    from coursekit.hints import missing_module
    from coursekit.kernels import KernelStartError, run_notebook

    nb = nbformat.read(path, as_version=4)
    current = {"index": 0}

    def on_cell_start(cell, cell_index):  # type: ignore[no-untyped-def]
        current["index"] = cell_index

    kernel = nb.metadata.get("kernelspec", {}).get("name", "python3")
    try:
        run_notebook(nb, path.parent, timeout, kernel, on_cell_start=on_cell_start)
    except KernelStartError as exc:
        return {"ok": False, "message": f"the {kernel!r} kernel could not start ({exc})"}
    except CellTimeoutError:
        return {
            "ok": False,
            "message": f"cell {current['index'] + 1} did not finish within the "
            f"{timeout} s timeout (raise execute.timeout in _config.yml or pass --timeout)",
        }
    except DeadKernelError:
        return {
            "ok": False,
            "message": f"the kernel died while running cell {current['index'] + 1}",
        }
    except CellExecutionError as exc:
        last = f"{exc.ename}: {exc.evalue}".strip().rstrip(":")
        hint = missing_module(last)
        last += f" ({hint})" if hint else ""
        return {"ok": False, "message": f"cell {current['index'] + 1} failed: {last}"}
    return {"ok": True, "notebook": nb}


def _serve_tasks() -> None:
    """The worker's loop: one JSON task per stdin line, one result file per task."""
    for line in sys.stdin:
        task = json.loads(line)
        out = Path(task["out"])
        verdict = _run_one(Path(task["path"]), int(task["timeout"]))
        partial = out.with_suffix(".partial")
        partial.write_text(json.dumps(verdict), encoding="utf-8")
        partial.replace(out)  # whole or absent: the build polls for it


if __name__ == "__main__":
    _serve_tasks()
