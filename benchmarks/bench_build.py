"""Benchmark `coursekit build` against plain `jupyter-book build .` on the bundled course.

Prints, for a copy of the bundled course in a temporary folder:

1. cold builds (caches and outputs removed before each run), `coursekit build`
   and `jupyter-book build .` alternating, RUNS times each; the median of each
   and the median ratio (goal: <= 0.75). `coursekit build` also self-checks the
   exercises and packages SCORM, which Jupyter Book does not do, so the same is
   printed for `coursekit build --only html` (the same output as Jupyter Book's);
2. a no-op rebuild (nothing changed) with `coursekit build` (goal: <= 3 s);
3. after editing the code of one notebook, how many notebooks `coursekit build`
   executed (goal: exactly 1).

Uses only the public commands, as a maintainer would. Usage:
    .venv/bin/python benchmarks/bench_build.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# The same copy of the course the tests build (tracked files plus new, unignored ones).
sys.path.insert(0, str(REPO / "tests"))
from coursebuilder import copy_course  # noqa: E402


def timed(command: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return seconds, result


def cold(course: Path, command: list[str]) -> float:
    shutil.rmtree(course / "_build", ignore_errors=True)
    seconds, _ = timed(command, course)
    return seconds


def executed_count(stderr: str) -> int:
    match = re.search(r"notebooks executed: (\d+)", stderr)
    if not match:
        sys.exit(f"no execution count in the build output:\n{stderr[-2000:]}")
    return int(match.group(1))


def edit_one_notebook(course: Path) -> str:
    """Append a code cell to the first executed notebook of the course; return its path."""
    notebook = sorted((course / "modules").rglob("*.ipynb"))[0]
    data = json.loads(notebook.read_text(encoding="utf-8"))
    data["cells"].append(
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "bench-edit",
            "metadata": {},
            "outputs": [],
            "source": "print('benchmark edit')",
        }
    )
    notebook.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return str(notebook.relative_to(course))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="cold runs of each tool")
    args = parser.parse_args()
    coursekit = [str(BIN / "coursekit"), "build", "."]
    jupyter_book = [str(BIN / "jupyter-book"), "build", "."]
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        course = copy_course(Path(tmp))
        print(f"course copy: {course}; {args.runs} cold runs each, alternating")
        cold(course, coursekit)  # warm-up: OS file cache, matplotlib's font cache
        ours, html_only, theirs = [], [], []
        for run in range(args.runs):
            ours.append(cold(course, coursekit))
            theirs.append(cold(course, jupyter_book))
            html_only.append(cold(course, [*coursekit, "--only", "html"]))
            print(
                f"  run {run + 1}: coursekit build {ours[-1]:6.1f} s   "
                f"jupyter-book build {theirs[-1]:6.1f} s   ratio {ours[-1] / theirs[-1]:.2f}"
                f"   (--only html {html_only[-1]:6.1f} s, ratio "
                f"{html_only[-1] / theirs[-1]:.2f})"
            )
        for name, times in (("coursekit build", ours), ("coursekit build --only html", html_only)):
            ratios = [a / b for a, b in zip(times, theirs, strict=True)]
            print(
                f"cold: {name} median {statistics.median(times):.1f} s, jupyter-book median "
                f"{statistics.median(theirs):.1f} s, median ratio "
                f"{statistics.median(ratios):.2f} (goal <= 0.75)"
            )

        cold(course, coursekit)
        noop = [timed(coursekit, course)[0] for _ in range(3)]
        print(f"no-op rebuild: median {statistics.median(noop):.2f} s over 3 (goal <= 3 s)")

        edited = edit_one_notebook(course)
        _seconds, result = timed(coursekit, course)
        print(
            f"after editing {edited}: {executed_count(result.stderr)} notebook(s) executed "
            f"(goal: exactly 1), rebuild took {_seconds:.1f} s"
        )


if __name__ == "__main__":
    main()
