"""The execute stage: run the course notebooks in parallel into the jupyter-cache.

The book stage reads the same cache (myst-nb's `execute_notebooks: cache` mode),
finds every notebook already executed there, and so never runs code itself.
A notebook whose code cells and kernelspec did not change since its last
successful run is matched in the cache (jupyter-cache's hash) and not run again.

Each notebook runs in its own worker process (`python -m coursekit.execute`),
so a notebook that kills its kernel, hangs or is interrupted cannot take the
build down with it, and Ctrl-C reaches every worker, which shuts its kernel down.
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


@dataclass
class _Running:
    notebook: str
    process: subprocess.Popen[bytes]
    out: Path
    started: float


def notebooks_to_execute(root: Path, pages: Sequence[str]) -> list[str]:
    """The `.ipynb` pages the execute stage runs (exercises are not among them)."""
    return [p for p in pages if p.endswith(".ipynb") and not p.startswith(NOT_EXECUTED_HERE)]


def execute_notebooks(root: Path, notebooks: Sequence[str], cache_dir: Path, *, jobs: int,
                      timeout: int, on_event: Callable[[ExecuteEvent], None]) -> ExecuteResult:
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
    with tempfile.TemporaryDirectory(prefix=".execute-", dir=cache_dir.parent) as tmp:
        running: list[_Running] = []
        pending = list(todo)
        try:
            while pending or running:
                while pending and len(running) < max(1, jobs):
                    rel, _nb = pending.pop(0)
                    running.append(_start(root, rel, Path(tmp), timeout))
                    on_event(ExecuteEvent("start", rel, len(cached) + len(executed), total))
                for job in [j for j in running if j.process.poll() is not None]:
                    running.remove(job)
                    source = dict(todo)[job.notebook]
                    seconds = time.monotonic() - job.started
                    _store(cache, root, job, source, seconds)
                    executed.append(job.notebook)
                    on_event(ExecuteEvent("done", job.notebook, len(cached) + len(executed),
                                          total, seconds))
                time.sleep(POLL_SECONDS)
        finally:
            _stop(running)
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


def _start(root: Path, rel: str, tmp: Path, timeout: int) -> _Running:
    out = tmp / (rel.replace("/", "__") + ".result.json")
    log = out.with_suffix(".log").open("wb")  # a file, not a pipe: a chatty kernel cannot block
    # The worker runs in its own session so that a Ctrl-C on the terminal reaches
    # it only through `_stop`, after the build has decided what to do.
    process = subprocess.Popen(
        [sys.executable, "-m", "coursekit.execute", str(root / rel), str(out), str(timeout)],
        cwd=str((root / rel).parent), stdin=subprocess.DEVNULL, stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    log.close()
    return _Running(rel, process, out, time.monotonic())


def _store(cache, root: Path, job: _Running, source: nbformat.NotebookNode,  # type: ignore[no-untyped-def]
           seconds: float) -> None:
    """Check the worker's verdict; on success put the outputs into the cache."""
    from jupyter_cache.base import CacheBundleIn

    log = job.out.with_suffix(".log")
    stderr = log.read_text(errors="replace") if log.is_file() else ""
    if not job.out.is_file():
        last = stderr.strip().splitlines()[-1] if stderr.strip() else "no result"
        raise BuildError(f"{job.notebook}: the notebook worker failed ({last})")
    verdict = json.loads(job.out.read_text(encoding="utf-8"))
    if not verdict["ok"]:
        raise BuildError(f"{job.notebook}: {verdict['message']}")
    executed = nbformat.from_dict(verdict["notebook"])
    merged = _with_outputs(source, executed)
    cache.cache_notebook_bundle(
        CacheBundleIn(merged, str(root / job.notebook), data={"execution_seconds": seconds}),
        check_validity=False, overwrite=True,
    )


def _with_outputs(source: nbformat.NotebookNode,
                  executed: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The source notebook with the executed outputs, so its cache hash is the source's."""
    merged = nbformat.from_dict(json.loads(json.dumps(source)))
    for cell, done in zip(merged.cells, executed.cells, strict=True):
        if cell.cell_type == "code":
            cell.outputs = done.get("outputs", [])
            cell.execution_count = done.get("execution_count")
    return merged


def _stop(running: list[_Running]) -> None:
    """Interrupt the workers still running (each shuts its kernel down), then kill."""
    for job in running:
        _signal(job.process, signal.SIGINT)
    deadline = time.monotonic() + 5
    for job in running:
        try:
            job.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal(job.process, signal.SIGKILL)
            job.process.wait()


def _signal(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


# ------------------------------------------------------------------- the worker

def _run_one(path: Path, out: Path, timeout: int) -> None:
    """Execute one notebook with nbclient; write {"ok", "message", "notebook"} to `out`."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    current = {"index": 0}

    def on_cell_start(cell, cell_index):  # type: ignore[no-untyped-def]
        current["index"] = cell_index

    client = NotebookClient(
        nb, timeout=timeout, kernel_name=nb.metadata.get("kernelspec", {}).get("name", "python3"),
        resources={"metadata": {"path": str(path.parent)}}, record_timing=False,
        on_cell_start=on_cell_start,
    )
    verdict: dict[str, object]
    try:
        client.execute()
        verdict = {"ok": True, "notebook": nb}
    except CellTimeoutError:
        verdict = {"ok": False, "message": f"cell {current['index'] + 1} did not finish within "
                   f"the {timeout} s timeout (raise execute.timeout in _config.yml or "
                   "pass --timeout)"}
    except DeadKernelError:
        verdict = {"ok": False, "message": f"the kernel died while running cell "
                   f"{current['index'] + 1}"}
    except CellExecutionError as exc:
        last = f"{exc.ename}: {exc.evalue}".strip().rstrip(":")
        verdict = {"ok": False, "message": f"cell {current['index'] + 1} failed: {last}"}
    out.write_text(json.dumps(verdict), encoding="utf-8")


if __name__ == "__main__":
    _run_one(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))
