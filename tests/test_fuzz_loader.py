"""Fuzz the loader and the checks over mutated real course files.

A small course is made of the bundled course's real files (its `_config.yml`, module 1
with its notebooks, quiz and exercise, and the first part of its `_toc.yml`). Each
round damages one of them (bytes flipped or cut, YAML and JSON specials inserted, lines
repeated or dropped, control characters, aliases, deep nesting) and runs the public
`check_course` on the course. Every round must end with findings, never an exception,
and within a few seconds. The random generator is seeded: a failure names its round,
file and mutation, and reproduces.
"""

from __future__ import annotations

import random
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import REPO
from coursekit.checks import check_course

MODULE = "modules/01-crowdsourcing-to-digital-labor"
EXERCISE = "exercises/01-crowdsourcing-to-digital-labor"
ROUNDS = 80  # at most; the rounds stop once BUDGET seconds are spent
BUDGET = 25.0
MIN_ROUNDS = 20
SECONDS_PER_ROUND = 5

SPECIALS = [
    "&a [*a, *a]",
    "*undefined",
    "!!python/object:os.system ls",
    "<<: *a",
    "? complex key",
    "\t",
    "\x00",
    "\x1b[31m",
    "\ufeff",
    "\ud800",
    ": : :",
    "- - -",
    "{{{{",
    "]]]",
    '"unterminated',
    "'",
    "${{ }}",
    "\\",
    "../../../../etc/passwd",
    "C:\\evil",
    ".nan",
    "-.inf",
    "1e999",
    "-1",
    "null",
    "~",
    "[" * 500,
    "{" * 500,
    "x" * 100_000,
    "```{download} ../../../../etc/passwd\n```",
    "```{literalinclude} ../../../../etc/passwd\n```",
    "```{include} /dev/zero\n```",
    "```{csv-table} t\n:file: ../../x.csv\n```",
    "```{raw} html\n:url: javascript:alert(1)\n```",
    "{download}`x <../../../outside>`",
    "$$\n\\begin{x}",
    "<script>alert(1)</script>",
    '"cells": 7',
    '"source": {}',
    '"id": 3',
]


def _course(dest: Path) -> Path:
    """The small real course: config, intro, module 1 and its exercise, TOC part 1."""
    dest.mkdir(parents=True)
    for name in ("_config.yml", "intro.md", "references.bib", "bibliography.md", "glossary.md"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, dest / name)
    shutil.copytree(REPO / MODULE, dest / MODULE)
    shutil.copytree(REPO / EXERCISE, dest / EXERCISE)
    toc = (REPO / "_toc.yml").read_text(encoding="utf-8")
    second_part = toc.index("  - caption:", toc.index("  - caption:") + 1)
    (dest / "_toc.yml").write_text(toc[:second_part], encoding="utf-8")
    return dest


def _targets(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and p.suffix in (".yml", ".md", ".ipynb", ".bib") and p.stat().st_size
    )


def _flip(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def _cut(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data))]


def _insert(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + rng.choice(SPECIALS).encode("utf-8", "surrogatepass") + data[at:]


def _lines(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    i = rng.randrange(len(lines))
    if rng.random() < 0.5:
        lines.insert(i, lines[i])  # a repeated line: duplicate keys, ids, entries
    else:
        del lines[i]
    return b"\n".join(lines)


def _value(data: bytes, rng: random.Random) -> bytes:
    """Replace what follows one `: ` (a YAML or JSON value) by a special."""
    starts = [i for i in range(len(data) - 1) if data[i : i + 2] == b": "]
    if not starts:
        return _insert(data, rng)
    at = rng.choice(starts) + 2
    end = data.find(b"\n", at)
    end = len(data) if end < 0 else end
    return data[:at] + rng.choice(SPECIALS).encode("utf-8", "surrogatepass") + data[end:]


MUTATIONS: list[Callable[[bytes, random.Random], bytes]] = [_flip, _cut, _insert, _lines, _value]


@contextmanager
def _time_limit(seconds: int, what: str) -> Iterator[None]:
    def on_alarm(signum: int, frame: object) -> None:
        raise TimeoutError(f"{what}: check_course ran longer than {seconds} s (a hang)")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.mark.slow
def test_check_course_survives_mutated_course_files(tmp_path: Path) -> None:
    root = _course(tmp_path / "course")
    _, clean = check_course(root)  # the unmutated course loads (findings allowed)
    targets = _targets(root)
    rng = random.Random(20261202)
    failures: list[str] = []
    slowest = 0.0
    start = time.monotonic()
    done = 0
    for round_ in range(ROUNDS):
        if time.monotonic() - start > BUDGET:
            break
        done += 1
        target = rng.choice(targets)
        mutation = rng.choice(MUTATIONS)
        original = target.read_bytes()
        target.write_bytes(mutation(original, rng))
        what = f"round {round_}: {mutation.__name__} of {target.relative_to(root)}"
        began = time.monotonic()
        try:
            with _time_limit(SECONDS_PER_ROUND, what):
                check_course(root)
        except Exception as exc:  # noqa: BLE001 - any exception is the finding of this test
            failures.append(f"{what}: {type(exc).__name__}: {exc}"[:300])
        finally:
            target.write_bytes(original)
        slowest = max(slowest, time.monotonic() - began)
    total = time.monotonic() - start
    print(f"{done} rounds in {total:.1f} s, slowest {slowest:.2f} s, {len(failures)} failures")
    assert failures == [], "\n".join(failures)
    assert done >= MIN_ROUNDS, f"only {done} rounds in {BUDGET} s: check_course got slow"


# Targets a directive that reads a file may name, and whether the book may read it.
READ_TARGETS: list[tuple[str, bool]] = [
    ("ok.txt", True),
    ("./ok.txt", True),
    ("/MODULE/ok.txt", True),
    ("../../../../etc/passwd", False),
    ("/../outside.txt", False),
    ("/dev/zero", False),
    ("/proc/self/environ", False),
    ("link-out.txt", False),
    ("fifo.txt", False),
    ("no-such-file.txt", False),
    ("sub", False),
    ("sub\\ok.txt", False),
    ("https://example.com/x.txt", False),
    ("javascript:alert(1)", False),
    ("/exercises/01-crowdsourcing-to-digital-labor/effective-hourly-rate.ipynb", False),
]


def test_every_directive_that_reads_a_file_is_confined(tmp_path: Path) -> None:
    """Each directive and option of `coursekit.loading.reads` with each kind of target:
    the check never raises, and it reports CK308/CK309 at the directive's line exactly
    when the target is not a regular file inside the course (and outside exercises/)."""
    import os

    from coursekit.loading.reads import DIRECTIVE_READS

    root = _course(tmp_path / "course")
    module = root / MODULE
    (module / "ok.txt").write_text("fine\n", encoding="utf-8")
    (module / "sub").mkdir()
    (tmp_path / "outside.txt").write_text("secret\n", encoding="utf-8")
    (module / "link-out.txt").symlink_to(tmp_path / "outside.txt")
    os.mkfifo(module / "fifo.txt")
    page = module / "overview.md"
    original = page.read_text(encoding="utf-8")
    rng = random.Random(20261206)
    cases = [
        (name, option, target, ok)
        for name, options in DIRECTIVE_READS.items()
        for option in options
        for target, ok in READ_TARGETS
    ]
    rng.shuffle(cases)
    blocks, expected = [], {}
    line = original.count("\n") + 2
    for name, option, target, ok in cases:
        target = target.replace("/MODULE", "/" + MODULE)
        head = f"```{{{name}}} {target}" if option == "" else f"```{{{name}}} ok.txt"
        body = [] if option == "" else [f":{option}: {target}"]
        block = [head, *body, "```", ""]
        expected[line] = (name, option, target, ok)
        blocks.append("\n".join(block))
        line += len(block)
    page.write_text(original + "\n" + "\n".join(blocks), encoding="utf-8")
    with _time_limit(30, "confinement fuzz"):
        _, found = check_course(root)
    flagged = {
        f.line for f in found if f.path.endswith("overview.md") and f.code in ("CK308", "CK309")
    }
    wrong = [
        f"line {at}: {{{name}}} {option or 'argument'} {target!r}: "
        + ("flagged" if at in flagged else "not flagged")
        for at, (name, option, target, ok) in sorted(expected.items())
        if (at in flagged) == ok and not (name in ("mermaid", "graphviz", "plantuml") and ok)
    ]
    assert wrong == []
