"""How fast is `coursekit check` next to merely reading and validating the notebooks?

Generates a synthetic course in a temporary folder — N notebooks and N Markdown
pages in 20 modules, each module with its module.yml, an overview and a TOC part
reaching every page — then times, in fresh subprocesses so both sides pay the
same interpreter start-up:

  check     `python -m coursekit check --strict COURSE` (every check, as a user runs it)
  baseline  a plain loop: `nbformat.read(path, as_version=4)` + `nbformat.validate(nb)`
            on the same notebooks, with nbformat's default validator

Both sizes (N and 2N) are generated first and all four commands run in turn,
`--runs` times, so a busy moment on a shared machine hits them all alike. It
prints the medians (wall time from time.perf_counter, and the child's CPU time,
which load disturbs less), the ratio check / baseline at each size (the median of
the ratios within each round, so a machine whose speed drifts between rounds does
not skew it), and how the check's time grows from N to 2N. Goals: ratio ≤ 2.0 and
time(2N) ≤ 2.2 × time(N). The children may write .pyc files (PYTHONDONTWRITEBYTECODE
is dropped from their environment), so both sides import as an installed tool does.

    .venv/bin/python benchmarks/bench_check.py [--notebooks 1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

MODULES = 20
KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}
BASELINE = """
import sys, nbformat
for path in sys.argv[1:]:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
"""
PARAGRAPH = (
    "Platforms turn everyday clicks into data that someone else sells; the work stays "
    "invisible because it looks like leisure. Micro-tasks are paid a few cents each, and "
    "the workers who do them rarely meet the companies that buy the results. "
)


def page_text(m: int, i: int) -> str:
    """A reading page of about 250 words with the constructs the checks look at."""
    return (
        f"# Reading {i} of module {m}\n\n"
        f"(m{m}-reading-{i})=\n## Why it matters\n\n"
        f"{PARAGRAPH * 2}As {{cite:t}}`doe2020` shows, {{term}}`digital labor` is work "
        f"{{cite:p}}`doe2020,roe2021`.\n\n"
        f"See [the overview](overview.md), [the notebook](notebook-{i}) and "
        f"{{ref}}`m{m}-reading-{i}`.\n\n"
        f"```{{figure}} ../../img/chart.png\n:alt: A bar chart\n:name: m{m}-fig-{i}\n\n"
        f"A chart.\n```\n\n## What to remember\n\n{PARAGRAPH * 2}\n\n"
        "```python\n# code is not a heading\nprint('[not a link](x.md)')\n```\n"
    )


def notebook(m: int, i: int) -> nbformat.NotebookNode:
    """A small notebook: a title, prose with a link and a citation, three code cells."""
    nb = new_notebook(
        metadata={"kernelspec": KERNEL},
        cells=[
            new_markdown_cell(
                f"# Notebook {i} of module {m}\n\n{PARAGRAPH}"
                "Read [the overview](overview.md) first {cite:p}`roe2021`."
            ),
            new_code_cell(
                "import numpy as np\nrng = np.random.default_rng(0)\n"
                "values = rng.integers(0, 100, size=10)"
            ),
            new_markdown_cell(f"## The figures\n\n{PARAGRAPH}"),
            new_code_cell("total = values.sum()\nprint(total)"),
            new_markdown_cell(f"The total is what {{term}}`digital labor` produces. {PARAGRAPH}"),
            new_code_cell("values.mean()"),
        ],
    )
    for j, cell in enumerate(nb.cells):
        cell["id"] = f"m{m}-n{i}-c{j}"
    return nb


def generate(root: Path, n: int) -> list[Path]:
    """Write the course; return the notebook paths."""
    (root / "_config.yml").write_text("title: Benchmark course\nauthor: Bench\n")
    (root / "intro.md").write_text("# Benchmark course\n\n{cite}`doe2020`\n")
    (root / "glossary.md").write_text(
        "# Glossary\n\n```{glossary}\ndigital labor\n  Work on platforms.\n```\n"
    )
    (root / "references.bib").write_text(
        "@book{doe2020, author = {Doe, Jane}, title = {A book}, year = {2020}}\n"
        "@book{roe2021, author = {Roe, Rich}, title = {Another}, year = {2021}}\n"
    )
    (root / "img").mkdir()
    (root / "img" / "chart.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    toc = ["format: jb-book", "root: intro", "parts:"]
    notebooks = []
    per_module = n // MODULES
    for m in range(1, MODULES + 1):
        folder = root / "modules" / f"{m:02d}-module-{m}"
        folder.mkdir(parents=True)
        (folder / "module.yml").write_text(
            f"id: module-{m}\ntitle: Module {m}\nsummary: A synthetic module.\n"
            "objectives:\n  - Explain the figures.\n  - Compare two sources.\nduration: 60\n"
        )
        (folder / "overview.md").write_text(f"# Module {m}\n\nAn overview.\n")
        toc += [
            f"  - caption: Module {m}",
            "    chapters:",
            f"      - file: modules/{folder.name}/overview",
            "        sections:",
        ]
        for i in range(per_module):
            (folder / f"reading-{i}.md").write_text(page_text(m, i))
            path = folder / f"notebook-{i}.ipynb"
            nbformat.write(notebook(m, i), path)
            notebooks.append(path)
            toc += [
                f"          - file: modules/{folder.name}/reading-{i}",
                f"          - file: modules/{folder.name}/notebook-{i}",
            ]
    toc += ["  - caption: Reference", "    chapters:", "      - file: glossary"]
    (root / "_toc.yml").write_text("\n".join(toc) + "\n")
    return notebooks


def timed(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds (perf_counter) and CPU seconds (user + system) of one run of `cmd`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(f"{cmd[:4]} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebooks", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sizes = (args.notebooks, 2 * args.notebooks)
    with tempfile.TemporaryDirectory(prefix="coursekit-bench-") as tmp:
        commands = {}
        for n in sizes:
            root = Path(tmp) / f"course-{n}"
            root.mkdir()
            notebooks = generate(root, n)
            commands[n, "check"] = (
                [sys.executable, "-m", "coursekit", "check", "--strict", str(root)],
                root,
            )
            commands[n, "baseline"] = ([sys.executable, "-c", BASELINE, *map(str, notebooks)], root)
        for cmd, cwd in commands.values():  # warm the file cache and the .pyc files
            timed(cmd, cwd)
        samples: dict[tuple[int, str], list[tuple[float, float]]] = {k: [] for k in commands}
        for _ in range(args.runs):  # interleaved, so a busy moment hits every command
            for key, (cmd, cwd) in commands.items():
                samples[key].append(timed(cmd, cwd))
    wall = {k: statistics.median(w for w, _ in v) for k, v in samples.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in samples.items()}
    print(f"median of {args.runs} runs; wall = time.perf_counter, cpu = user+system of the child")
    for n in sizes:
        check, base = samples[n, "check"], samples[n, "baseline"]
        ratios = sorted(c[0] / b[0] for c, b in zip(check, base, strict=True))
        cpu_ratio = statistics.median(c[1] / b[1] for c, b in zip(check, base, strict=True))
        print(
            f"{n} notebooks + {n} pages: check {wall[n, 'check']:.2f} s "
            f"(cpu {cpu[n, 'check']:.2f} s), nbformat read+validate {wall[n, 'baseline']:.2f} s "
            f"(cpu {cpu[n, 'baseline']:.2f} s), ratio {statistics.median(ratios):.2f} "
            f"(min {ratios[0]:.2f}, max {ratios[-1]:.2f}; cpu {cpu_ratio:.2f}) (goal <= 2.0)"
        )
    small, big = sizes
    print(
        f"scaling {small} -> {big}: check time x{wall[big, 'check'] / wall[small, 'check']:.2f}"
        f" (cpu x{cpu[big, 'check'] / cpu[small, 'check']:.2f}) (goal <= 2.2)"
    )


if __name__ == "__main__":
    main()
