"""Running a build's stages: in order, timed, skipped when unchanged, some in threads.

The one "skip if unchanged" mechanism: a stage with a `key` is skipped when the
key equals the one recorded when its outputs were last published (and they are
still there); otherwise it runs, and its key is recorded once the build's
outputs are committed (or at once, for work kept outside the outputs).

A stage marked `background` runs in a thread from where it stands in the list to
the end of the build; a stage that returns a `BackgroundJob` leaves that job
running in a thread while the stages after it run (the PDF's printing). Both are
waited for before the outputs are committed; a failure in either stops the build.

Outputs fail alone: a stage marked `fails_alone` (the PDF, the packages) that
fails -- or its background job -- is recorded in `summary.failed` (each output
it produces, with the cause), its staged outputs are withdrawn (the published
ones stay as they were, and its key is not recorded), the stages that need it
are not run, and the rest of the build goes on. The pipeline then publishes the
other outputs and ends the build with an error naming each failed output.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from coursekit.build.context import BuildContext, BuildSummary, Reporter
from coursekit.build.stages import BackgroundJob, Stage, registered
from coursekit.build.workfiles import read_text, write_text
from coursekit.errors import CourseKitError


def run_stages(ctx: BuildContext, stages: list[Stage]) -> None:
    """Run `stages` in order; returns when every one (and every thread) has finished."""
    timer = StageTimer(ctx.summary, ctx.reporter)
    with ExitStack() as threads:
        foreground = [s for s in stages if not s.background]
        for stage in stages:
            if stage.background:
                threads.enter_context(timer.background(stage.label, _guarded, ctx, stage))
        label: str | None = None
        group = ExitStack()
        with group:
            for stage in foreground:
                if stage.label != label:
                    group.close()
                    group.enter_context(timer(stage.label))
                    label = stage.label
                job = _guarded(ctx, stage)
                if _is_job(job):
                    run = _alone(ctx, stage, job.run) if stage.fails_alone else job.run
                    threads.enter_context(timer.background(job.name, run, cancel=job.cancel))


def _guarded(ctx: BuildContext, stage: Stage) -> Any:
    """`_run_one`, but a stage that fails alone records its failure instead of raising."""
    missing = [n for n in stage.needs if n in _failed_stages(ctx)]
    if missing:
        _failed_stages(ctx).add(stage.name)
        return None  # what it needs failed (and was reported): nothing to do
    if not stage.fails_alone:
        return _run_one(ctx, stage)
    return _alone(ctx, stage, lambda: _run_one(ctx, stage))()


def _alone(ctx: BuildContext, stage: Stage, run: Callable[[], Any]) -> Callable[[], Any]:
    def guarded() -> Any:
        try:
            return run()
        except Exception as exc:  # any cause: reported, and the build goes on
            _record_failure(ctx, stage, exc)
            return None

    return guarded


def _record_failure(ctx: BuildContext, stage: Stage, exc: BaseException) -> None:
    cause = str(exc) if isinstance(exc, CourseKitError) else f"{type(exc).__name__}: {exc}"
    _failed_stages(ctx).add(stage.name)
    outputs = _outputs_of(stage)
    for output in outputs:
        ctx.summary.failed.setdefault(output, cause.strip())
        ctx.outputs.withdraw(output)
    shown = ", ".join(outputs) or stage.name
    ctx.reporter.note(
        f"error: the {shown} output failed (the other outputs go on): {cause.strip()}"
    )


def _outputs_of(stage: Stage) -> tuple[str, ...]:
    """What `stage` makes: its outputs, or those of the stages that need it (`pdf page`)."""
    if stage.produces:
        return stage.produces
    found: list[str] = []
    for other in registered():
        if stage.name in other.needs:
            found += [o for o in _outputs_of(other) if o not in found]
    return tuple(found)


def _failed_stages(ctx: BuildContext) -> set[str]:
    found = ctx.results.setdefault(FAILED, set())
    assert isinstance(found, set)
    return found


FAILED = "(failed stages)"  # in ctx.results: the stages that failed alone, and their dependents


def _run_one(ctx: BuildContext, stage: Stage) -> Any:
    """Run `stage` unless its key says its published outputs are this very build's."""
    key = stage.key(ctx) if stage.key is not None else None
    if key is not None and _present(ctx, stage) and read_text(ctx.out_dir / stage.key_path) == key:
        ctx.summary.reused = (*ctx.summary.reused, stage.name)
        if stage.on_skip is not None:
            stage.on_skip(ctx)
        ctx.results[stage.name] = None
        return None
    result = stage.run(ctx)
    ctx.results[stage.name] = result
    if key is not None:
        path = ctx.out_dir / stage.key_path
        if stage.record_key == "now":
            write_text(path, key)
        else:
            # Not for an output that failed since (its job, in a thread): it is built again.
            ctx.outputs.on_commit(lambda: _record_key(ctx, stage, path, key))
    return result


def _record_key(ctx: BuildContext, stage: Stage, path: Any, key: str) -> None:
    if not set(stage.produces) & set(ctx.summary.failed):
        write_text(path, key)


def _present(ctx: BuildContext, stage: Stage) -> bool:
    if stage.present is not None:
        return stage.present(ctx)
    return all((ctx.out_dir / name).is_dir() for name in stage.produces)


def _is_job(value: object) -> bool:
    return hasattr(value, "run") and isinstance(getattr(value, "cancel", None), threading.Event)


class StageTimer:
    """Times each stage into the summary and tells the reporter when one starts."""

    def __init__(self, summary: BuildSummary, reporter: Reporter) -> None:
        self.summary, self.reporter = summary, reporter

    @contextmanager
    def background(
        self,
        name: str,
        stage: Callable[..., Any],
        *args: Any,
        cancel: threading.Event | None = None,
    ) -> Iterator[None]:
        """Run `stage(*args)` in a thread during the block; its error is raised after it.

        On Ctrl-C the thread is not waited for, unless it can be told to stop (`cancel`):
        then it is told, and given a few seconds to clean up (end its processes).
        """
        errors: list[BaseException] = []

        def run() -> None:
            try:
                with self(name):
                    stage(*args)
            except BaseException as exc:  # handed to the main thread below
                errors.append(exc)

        # A daemon: on Ctrl-C the build exits without waiting for the self-checks.
        thread = threading.Thread(target=run, name=f"coursekit-{name}", daemon=True)
        thread.start()
        try:
            yield
        except KeyboardInterrupt:
            if cancel is not None:
                cancel.set()
                thread.join(timeout=15)
            raise
        except BaseException:
            if cancel is not None:
                cancel.set()  # its work is lost with the build: no need to finish it
            thread.join()  # a failed build: nothing may still write into its staging
            raise
        thread.join()
        if errors:
            raise errors[0]

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        self.reporter.stage(name)
        start = time.monotonic()
        try:
            yield
        finally:
            self.summary.stage_seconds[name] = time.monotonic() - start


__all__ = ["BackgroundJob", "StageTimer", "run_stages"]
