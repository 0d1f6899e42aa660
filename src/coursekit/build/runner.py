"""Running a build's stages: in order, timed, skipped when unchanged, some in threads.

The one "skip if unchanged" mechanism: a stage with a `key` is skipped when the
key equals the one recorded when its outputs were last published (and they are
still there); otherwise it runs, and its key is recorded once the build's
outputs are committed (or at once, for work kept outside the outputs).

A stage marked `background` runs in a thread from where it stands in the list to
the end of the build; a stage that returns a `BackgroundJob` leaves that job
running in a thread while the stages after it run (the PDF's printing). Both are
waited for before the outputs are committed; a failure in either stops the build.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from coursekit.build.context import BuildContext, BuildSummary, Reporter
from coursekit.build.stages import BackgroundJob, Stage
from coursekit.build.workfiles import read_text, write_text


def run_stages(ctx: BuildContext, stages: list[Stage]) -> None:
    """Run `stages` in order; returns when every one (and every thread) has finished."""
    timer = StageTimer(ctx.summary, ctx.reporter)
    with ExitStack() as threads:
        foreground = [s for s in stages if not s.background]
        for stage in stages:
            if stage.background:
                threads.enter_context(timer.background(stage.label, _run_one, ctx, stage))
        label: str | None = None
        group = ExitStack()
        with group:
            for stage in foreground:
                if stage.label != label:
                    group.close()
                    group.enter_context(timer(stage.label))
                    label = stage.label
                job = _run_one(ctx, stage)
                if _is_job(job):
                    threads.enter_context(timer.background(job.name, job.run, cancel=job.cancel))


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
            ctx.outputs.on_commit(lambda: write_text(path, key))
    return result


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
