"""The exercises stage: student and teacher editions of the exercises (coursekit.exercises).

It runs in a thread from the build's start. Self-check verdicts are cached under
`_build/.cache/selfcheck/`: only the exercises whose cells (or kernel, or
coursekit) changed run again. Their kernels run at a lower priority: nothing
waits for them but the end of the build, while the notebooks, the PDF's page and
Chromium are each waited for by the next stage.
"""

from __future__ import annotations

from coursekit.build.context import BuildContext
from coursekit.build.stages import Stage

SELFCHECK_CACHE = ".cache/selfcheck"  # verdicts of the exercise self-checks
SELFCHECK_NICENESS = 10  # self-checks yield the cores to what is waited for


def build_exercises(ctx: BuildContext) -> None:
    """Self-check every exercise (`ctx.jobs` at once, `ctx.timeout` a cell), write both editions."""
    from coursekit.exercises import build_editions

    editions = build_editions(
        ctx.course,
        ctx.outputs.stage("exercises"),
        ctx.jobs,
        cache_dir=ctx.out_dir / SELFCHECK_CACHE,
        niceness=SELFCHECK_NICENESS,
        timeout=ctx.timeout,
    )
    ctx.summary.selfchecked = editions.checked
    ctx.summary.exercises = len(editions.student)


EXERCISES = Stage(
    "exercises",
    build_exercises,
    produces=("exercises",),
    background=True,
    phase=0,
    help="student and teacher editions of the exercise notebooks, self-checked",
)
