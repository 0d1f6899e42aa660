"""How long SCORM packaging takes, against plain `zip -qrX` of the same site folder.

    .venv/bin/python benchmarks/bench_scorm.py [--html DIR] [--runs N]

Packaging one version does more than zip (launch pages, manifest, XSD validation,
zip rule checks, deterministic entries), so the goal is a ratio of at most 1.5
per package. Without --html, the bundled course's site is built with the real
Jupyter Book into a temporary folder first (not timed). Exits 1 when the goal is
missed.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from coursekit.loading import load_course
from coursekit.model import Course, ScormSettings
from coursekit.packages.scorm import package

REPO = Path(__file__).resolve().parent.parent
GOAL = 1.5
COURSE_FILES = ("_config.yml", "_toc.yml", "intro.md", "references.bib", "modules", "exercises")


def median_seconds(run: Callable[[], object], runs: int) -> float:
    """Median wall time of `runs` calls of `run` (after one untimed warm-up)."""
    run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def built_site(work: Path) -> tuple[Course, Path]:
    """A copy of the bundled course (git-tracked files) built into HTML with Jupyter Book."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--", *COURSE_FILES],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\0")
    root = work / "course"
    for rel in filter(None, files):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, root / rel)
    jb = Path(sys.executable).with_name("jupyter-book")
    subprocess.run(
        [str(jb), "build", str(root), "--path-output", str(work / "out")],
        check=True,
        capture_output=True,
    )
    return load_course(root).course, work / "out" / "_build" / "html"


def one_version(course: Course, version: str) -> Course:
    assert course.config is not None
    config = dataclasses.replace(
        course.config,
        scorm=ScormSettings(versions=(version,), mastery_score=course.config.scorm.mastery_score),
    )
    return dataclasses.replace(course, config=config)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, help="a built site (default: build the course)")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if shutil.which("zip") is None:
        print("zip is not installed (apt-get install -y zip)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.html:
            course, html = load_course(REPO).course, args.html.resolve()
        else:
            course, html = built_site(work)
        files = [p for p in html.rglob("*") if p.is_file()]
        size = sum(p.stat().st_size for p in files) / 1e6
        print(f"site: {html} ({len(files)} files, {size:.1f} MB); median of {args.runs} runs")

        target = work / "plain.zip"

        def plain_zip() -> None:
            target.unlink(missing_ok=True)
            subprocess.run(["zip", "-qrX", str(target), "."], cwd=html, check=True)

        baseline = median_seconds(plain_zip, args.runs)
        print(f"  zip -qrX                 {baseline * 1000:8.1f} ms")
        worst = 0.0
        for version in ("1.2", "2004"):
            single = one_version(course, version)
            seconds = median_seconds(lambda c=single: package(c, html, work / "scorm"), args.runs)
            worst = max(worst, seconds / baseline)
            print(
                f"  coursekit SCORM {version:<8} {seconds * 1000:8.1f} ms"
                f"   ratio {seconds / baseline:.2f}"
            )
        both = median_seconds(lambda: package(course, html, work / "scorm"), args.runs)
        zips = sorted((work / "scorm").glob("*.zip"))
        print(f"  both versions            {both * 1000:8.1f} ms   ({len(zips)} zips)")
        # A unit's own zip holds its pages and what they use; the course zip, the site.
        for z in zips:
            print(f"    {z.stat().st_size / 1e6:6.2f} MB  {z.name}")
        print(f"    {sum(z.stat().st_size for z in zips) / 1e6:6.1f} MB  in all")
    verdict = "met" if worst <= GOAL else "MISSED"
    print(f"ratio per package: {worst:.2f} (goal <= {GOAL}: {verdict})")
    return 0 if worst <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
