"""The stage registry: a build is the list of stages registered here.

A stage declares its name, the outputs it produces (the `_build/<name>` folders
it publishes), the stages whose work it needs, the key that decides whether it
can be skipped, and how it runs. Adding an output to coursekit is one module
with its `Stage` and one `register(...)` call: the CLI's `--only` choices, the
build summary's list of outputs and the README's table of outputs all read
`outputs()`.

    from coursekit.build.stages import Stage, register

    def write_manifest(ctx): ...  # writes into ctx.outputs.stage("manifest")
    register(Stage("manifest", write_manifest, produces=("manifest",),
                   needs=("book",), help="a JSON list of the site's pages"))

Stages run in the order of their `phase` (then of registration); a stage runs
when it produces a wanted output or a running stage needs it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from coursekit.errors import BuildError

if TYPE_CHECKING:
    from coursekit.build.context import BuildContext
    from coursekit.model import Course

LAST = 100  # the phase of a stage that says nothing: after the built-in ones


class BackgroundJob(Protocol):
    """Work a stage leaves running in a thread while the stages after it run.

    `cancel` is set when the build stops (Ctrl-C, another stage failed).
    """

    name: str
    cancel: threading.Event

    def run(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Stage:
    """One named step of a build (see the module docstring)."""

    name: str
    run: Callable[[BuildContext], Any]  # its return value: `ctx.results[name]`
    produces: tuple[str, ...] = ()  # outputs, `_build/<output>/`
    needs: tuple[str, ...] = ()  # stages whose work this one reads
    # What the published outputs were made from: the same key as the last build's,
    # with the outputs present, and the stage is skipped (None: never skipped).
    key: Callable[[BuildContext], str | None] | None = None
    key_file: str | None = None  # default `.cache/<name>-key.txt`
    record_key: str = "commit"  # "commit": once the outputs are published; "now"
    present: Callable[[BuildContext], bool] | None = None  # default: its outputs exist
    on_skip: Callable[[BuildContext], None] | None = None  # what a skipped stage still tells
    # Why the course turns this stage's outputs off (None: on), e.g. `coursekit: pdf: false`.
    turned_off: Callable[[Course], str | None] | None = None
    phase: int = LAST
    timer: str | None = None  # the stage time it counts in (default: its name)
    background: bool = False  # runs in a thread from the build's start, alongside the rest
    # Its failure costs only its own outputs (the PDF, a package): the build goes on, the
    # other outputs are published, the failed ones keep their previous version, and the
    # build ends with an error naming the cause (`coursekit.build.runner`).
    fails_alone: bool = False
    help: str = ""  # the output's line in the README's table

    @property
    def label(self) -> str:
        return self.timer or self.name

    @property
    def key_path(self) -> str:
        return self.key_file or f".cache/{self.name}-key.txt"


_REGISTRY: list[Stage] = []
_BUILTINS = {"loaded": False}


def register(stage: Stage) -> Stage:
    """Add `stage` to every build from now on (a second stage of the same name replaces it)."""
    unregister(stage.name)
    _REGISTRY.append(stage)
    return stage


def unregister(name: str) -> None:
    """Remove the stage `name` (for tests and plug-ins that are done)."""
    _REGISTRY[:] = [s for s in _REGISTRY if s.name != name]


def registered() -> list[Stage]:
    """Every stage, in the order builds run them (coursekit's own first loaded)."""
    _load_builtins()
    return sorted(_REGISTRY, key=lambda s: s.phase)  # stable: registration order within a phase


def outputs() -> tuple[str, ...]:
    """The outputs a build can make, in the order they are registered (and listed)."""
    _load_builtins()
    names: list[str] = []
    for stage in _REGISTRY:
        names += [o for o in stage.produces if o not in names]
    return tuple(names)


def output_help() -> dict[str, str]:
    """Each output and what its stage says it is (the README's table)."""
    _load_builtins()
    found: dict[str, str] = {}
    for stage in _REGISTRY:
        for name in stage.produces:
            found.setdefault(name, stage.help)
    return found


def wanted_outputs(only: str | None) -> frozenset[str]:
    """Every output, or `--only`'s one (a name no stage produces is a BuildError)."""
    known = outputs()
    if only is None:
        return frozenset(known)
    if only not in known:
        raise BuildError(f"--only must be one of {', '.join(known)}, got {only!r}")
    return frozenset({only})


def course_outputs(course: Course, wanted: frozenset[str], only: str | None) -> frozenset[str]:
    """`wanted` without the outputs the course turns off; `--only` one of them is an error."""
    kept = set(wanted)
    for stage in registered():
        reason = stage.turned_off(course) if stage.turned_off is not None else None
        if reason is None:
            continue
        if only in stage.produces:
            raise BuildError(reason)
        kept -= set(stage.produces)
    return frozenset(kept)


def selected(wanted: frozenset[str]) -> list[Stage]:
    """The stages a build of `wanted` runs, in order: the producers and what they need."""
    stages = registered()
    by_name = {s.name: s for s in stages}
    chosen = {s.name for s in stages if set(s.produces) & wanted}
    todo = list(chosen)
    while todo:
        for need in by_name[todo.pop()].needs:
            if need not in by_name:
                raise BuildError(f"a build stage needs the stage {need!r}, which is not registered")
            if need not in chosen:
                chosen.add(need)
                todo.append(need)
    return [s for s in stages if s.name in chosen]


def _load_builtins() -> None:
    """Register coursekit's own stages (once, on first use: importing them is not free)."""
    if _BUILTINS["loaded"]:
        return
    _BUILTINS["loaded"] = True
    from coursekit.build.builtin import STAGES

    for stage in reversed(STAGES):  # before any registered earlier, in their order
        if all(s.name != stage.name for s in _REGISTRY):
            _REGISTRY.insert(0, stage)
