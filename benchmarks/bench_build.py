"""Benchmark `coursekit build` against plain `jupyter-book build .`, paired, on the same edits.

Two copies of the bundled course in a temporary folder, one per tool (each keeps
its own `_build/`). Each pair of runs, the two tools alternating which goes
first, times on its copy:

1. a cold build (`_build/` removed first);                        goal <= 0.6x
2. a no-op rebuild (nothing changed);                             goal <= 1 s
3. one reading edited (a sentence appended);                      goal <= 0.5x, < 5 s quiet
   and again with `--only html` (what `coursekit serve` rebuilds: the author's preview);
4. one notebook's code cell edited (counts notebooks executed);   goal 1 notebook, <= 1.0x
5. one quiz.yml edited (the quiz title changed);

then, after the pairs, the live preview: `coursekit serve` runs on its copy, and
for each pair one reading is edited, then one notebook's code cell, each timed
from the save until the page the server serves has the new sentence (or the new
output: the notebook ran), paired with `jupyter-book build .` of the same edit on
the other copy (what an author of a plain Jupyter Book runs).

and prints each time, each ratio, and the median and spread (min-max) of each
over the pairs. `coursekit build` does more than Jupyter Book (exercise
self-checks, SCORM packages, checks); the ratios compare the whole commands.
The machine's load is printed too: on a shared machine the figures are noisy.

Usage:
    .venv/bin/python benchmarks/bench_build.py [--pairs N | --quick]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# The same copy of the course the tests build (tracked files plus new, unignored ones).
sys.path.insert(0, str(REPO / "tests"))
from usage import run_wrapped  # noqa: E402

from coursebuilder import copy_course  # noqa: E402

READING = "modules/01-crowdsourcing-to-digital-labor/what-is-digital-labor.md"
NOTEBOOK = "modules/01-crowdsourcing-to-digital-labor/counting-click-workers.ipynb"
QUIZ = "modules/01-crowdsourcing-to-digital-labor/quiz.yml"
COURSEKIT = [str(BIN / "coursekit"), "build", "."]
JUPYTER_BOOK = [str(BIN / "jupyter-book"), "build", "."]
GOALS = {
    "cold": "ratio <= 0.7, cpu ratio <= 1.2",
    "no-op": "coursekit <= 1 s",
    "reading edited": "ratio <= 0.5, coursekit < 5 s on a quiet machine",
    "reading, html only": "(the preview: coursekit --only html, as serve rebuilds)",
    "code cell edited": "1 notebook executed, ratio <= 1.0",
    "quiz.yml edited": "(no goal)",
    "preview (serve)": "ratio <= 0.5 (save -> page served changed, against jupyter-book build)",
    "code cell, preview": "1 notebook run, ratio <= 1.0 (save -> served page shows the output)",
}
# The line the build prints for each notebook it ran.
EXECUTED_LINE = re.compile(r"\s*executed \S+ in [\d.]+ s")


def timed(command: list[str], cwd: Path) -> tuple[float, float, str]:
    """Run `command` in `cwd`; its wall time, its CPU time and its output (stdout + stderr).

    The CPU time (user + system, of the command and every process it started, kernels
    and Chromium's included: `benchmarks/usage.py`) is less sensitive to a busy machine
    than the wall time.
    """
    start = time.perf_counter()
    result, cpu, _max_rss = run_wrapped(command, cwd)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return seconds, cpu, result.stdout + result.stderr


def coursekit_executed(output: str) -> int:
    match = re.search(r"notebooks executed: (\d+)", output)
    if match:
        return int(match.group(1))
    if "nothing changed since the last build" in output:
        return 0
    sys.exit(f"no execution count in coursekit's output:\n{output[-2000:]}")


def jupyter_book_executed(output: str) -> int:
    """myst-nb logs one "Executing notebook" line per notebook it runs."""
    return len(re.findall(r"Executing notebook", output))


def append_sentence(course: Path, pair: int) -> None:
    with (course / READING).open("a", encoding="utf-8") as handle:
        handle.write(f"\nA sentence added by the benchmark, pair {pair}.\n")


def append_sentence_again(course: Path, pair: int) -> None:
    append_sentence(course, pair + 1000)


def add_to_first_code_cell(course: Path, line: str) -> None:
    """`line` appended to the first code cell of the benchmark's notebook."""
    path = course / NOTEBOOK
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c["cell_type"] == "code")
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    cell["source"] = f"{source}\n{line}"
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def edit_code_cell(course: Path, pair: int) -> None:
    add_to_first_code_cell(course, f"print('benchmark edit {pair}')")


def edit_quiz(course: Path, pair: int) -> None:
    path = course / QUIZ
    text = path.read_text(encoding="utf-8")
    edited, count = re.subn(
        r'^title: "(.*?)( \(edit \d+\))?"$',
        rf'title: "\1 (edit {pair})"',
        text,
        count=1,
        flags=re.M,
    )
    assert count == 1, "the quiz title line was not found"
    path.write_text(edited, encoding="utf-8")


def remove_build(course: Path) -> None:
    shutil.rmtree(course / "_build", ignore_errors=True)


Step = tuple[str, Callable[[Path, int], None] | None, list[str]]
HTML_ONLY = ["--only", "html"]  # what `coursekit serve` rebuilds: an author's preview
STEPS: list[Step] = [
    ("cold", None, []),
    ("no-op", None, []),
    ("reading edited", append_sentence, []),
    ("reading, html only", append_sentence_again, HTML_ONLY),
    ("code cell edited", edit_code_cell, []),
    ("quiz.yml edited", edit_quiz, []),
]


Row = tuple[float, float, int, int, float, float]  # times, notebooks run, CPU times


def preview_reading(course: Path, pair: int) -> str:
    """A sentence appended to the reading; returns what the served page then shows."""
    marker = f"A sentence for the live preview, pair {pair}."
    with (course / READING).open("a", encoding="utf-8") as handle:
        handle.write(f"\n{marker}\n")
    return marker


def preview_code_cell(course: Path, pair: int) -> str:
    """The notebook's first code cell prints one more line; returns that output, which
    the served page shows only once the notebook ran (its source reads differently)."""
    add_to_first_code_cell(course, f"print('live preview', 1000 + {pair})")
    return f"live preview {1000 + pair}"


PREVIEWS = [
    ("preview (serve)", preview_reading, READING),
    ("code cell, preview", preview_code_cell, NOTEBOOK),
]


def preview_latency(ours: Path, theirs: Path, pairs: int) -> dict[str, list[Row]]:
    """Save → served page changed under `coursekit serve`, paired with jupyter-book's build."""
    serve = subprocess.Popen(
        [str(BIN / "coursekit"), "serve", ".", "--port", "0"],
        cwd=ours,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(serve.stdout or ()), daemon=True)
    reader.start()
    try:
        base = _served_url(serve, lines)
        rows: dict[str, list[Row]] = {name: [] for name, _, _ in PREVIEWS}
        for pair in range(1, pairs + 1):
            for name, edit, page in PREVIEWS:
                time.sleep(2)  # the watcher settles after the last rebuild
                seen_lines = len(lines)
                marker = edit(ours, pair)
                edit(theirs, pair)
                url = base + page.rsplit(".", 1)[0] + ".html"
                start = time.perf_counter()
                while marker not in _fetch(url):
                    if time.perf_counter() - start > 120:
                        sys.exit(f"coursekit serve did not show the edit within 120 s: {name}")
                    time.sleep(0.05)
                seen = time.perf_counter() - start
                ran = sum(bool(EXECUTED_LINE.match(line)) for line in lines[seen_lines:])
                b, b_cpu, b_out = timed(JUPYTER_BOOK, theirs)
                rows[name].append((seen, b, ran, jupyter_book_executed(b_out), 0.0, b_cpu))
                print(
                    f"  pair {pair} {name:18s} coursekit serve {seen:6.1f} s ({ran} nb)"
                    f"   jupyter-book {b:6.1f} s   ratio {seen / b:.2f}"
                    f"   load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
        return rows
    finally:
        serve.terminate()
        serve.wait(timeout=30)


def _served_url(serve: subprocess.Popen[str], lines: list[str]) -> str:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        for line in list(lines):
            match = re.search(r"serving (http://\S+/)", line)
            if match:
                return match.group(1)
        if serve.poll() is not None:
            sys.exit("coursekit serve stopped:\n" + "".join(lines)[-3000:])
        time.sleep(0.1)
    sys.exit("coursekit serve did not start serving within 600 s")


def _fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return str(response.read().decode("utf-8"))
    except OSError:
        return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=3, help="pairs of runs per measurement")
    parser.add_argument("--quick", action="store_true", help="1 pair (`make bench`'s default)")
    args = parser.parse_args()
    if args.quick:
        args.pairs = 1
    results: dict[str, list[Row]] = {name: [] for name, _, _ in STEPS}
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        ours = copy_course(Path(tmp) / "coursekit")
        theirs = copy_course(Path(tmp) / "jupyter-book")
        print(f"course copies in {tmp}; {args.pairs} pairs; load {os.getloadavg()[0]:.1f}")
        timed(COURSEKIT, ours)  # warm-up: OS file cache, matplotlib's font cache
        for pair in range(1, args.pairs + 1):
            for name, edit, options in STEPS:
                if name == "cold":
                    remove_build(ours)
                    remove_build(theirs)
                elif edit is not None:
                    edit(ours, pair)
                    edit(theirs, pair)
                runs = [(COURSEKIT + options, ours), (JUPYTER_BOOK, theirs)]
                if pair % 2 == 0:  # alternate which tool goes first
                    runs.reverse()
                out = {str(cwd): timed(command, cwd) for command, cwd in runs}
                (a, a_cpu, a_out), (b, b_cpu, b_out) = out[str(ours)], out[str(theirs)]
                executed = (coursekit_executed(a_out), jupyter_book_executed(b_out))
                results[name].append((a, b, *executed, a_cpu, b_cpu))
                print(
                    f"  pair {pair} {name:18s} coursekit {a:6.1f} s (cpu {a_cpu:5.1f}, "
                    f"{executed[0]} nb)   jupyter-book {b:6.1f} s (cpu {b_cpu:5.1f}, "
                    f"{executed[1]} nb)   ratio {a / b:.2f}   load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
        results.update(preview_latency(ours, theirs, args.pairs))
    print("medians over the pairs (min-max):")
    for name, rows in results.items():
        ck, jb = [r[0] for r in rows], [r[1] for r in rows]
        ratios = [r[0] / r[1] for r in rows]
        ran = sorted({r[2] for r in rows})
        line = (
            f"  {name:18s} coursekit {statistics.median(ck):6.1f} s ({min(ck):.1f}-{max(ck):.1f})"
            f"   jupyter-book {statistics.median(jb):6.1f} s ({min(jb):.1f}-{max(jb):.1f})"
            f"   ratio {statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
        )
        if name not in {n for n, _, _ in PREVIEWS}:  # serve has no CPU time of its own
            cpu = [r[4] / r[5] for r in rows]
            line += (
                f"   cpu ratio {statistics.median(cpu):.2f}   coursekit cpu "
                f"{statistics.median(r[4] for r in rows):.1f} s"
            )
        line += f"   coursekit executed {'/'.join(map(str, ran))} nb"
        print(f"{line}   goal: {GOALS[name]}")


if __name__ == "__main__":
    main()
