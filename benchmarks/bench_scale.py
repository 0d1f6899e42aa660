"""Big books: `coursekit build` against `jupyter-book build .` on a synthetic book of N pages.

The book is made from the bundled course's own files: the course itself, then
copies of its modules (`modules/NN-<slug>-copyK/`, every file of the module under
its own name so that links and quizzes still resolve, a new module id), padded with
further copies of the module's readings and notebooks under new names, until the
book has `--pages` pages of which `--notebooks` notebooks (the exercises, one per
module, are counted as pages, not notebooks: the book never executes them). The
`_toc.yml` has one part per module, as the course's has. With `--book PATH` a real
book folder is copied instead (its `_build/`, `.git/` left out).

Two copies, one per tool; each pair of runs (the tools alternating which goes
first: A B, B A, ...) times

1. a cold build (`_build/` removed first);
2. a no-op build (nothing changed);
3. one page edited (a sentence appended to one reading);

each command in a fresh child process that reports `resource.getrusage(RUSAGE_CHILDREN)`
of what it ran (`benchmarks/usage.py`: it reaps the orphans too, such as Chromium's
renderer): the CPU time (user + system, kernels and Chromium included) and the
largest single process's peak RSS (`ru_maxrss`, what `/usr/bin/time -v` prints). The
process tree's summed RSS is sampled too (psutil, every 0.1 s): builds run kernels,
Sphinx and Chromium side by side, and their sum is what a small CI machine must hold.
Each figure and each ratio coursekit / jupyter-book is printed per pair, then the
median and min-max over the pairs. Nothing is asserted: the figures are for reading,
and on a shared machine (the load average is printed) they are noisy.

`--profile` builds the book cold once per output (`--only html|exercises|pdf|scorm|cmi5`,
then everything) and prints the peak memory of each: the largest process, the tree's
sum, and at the tree's peak what held it (coursekit's own process, kernels, Chromium,
others), plus the stage that was running at that moment.

Usage:
    .venv/bin/python benchmarks/bench_scale.py              # 300 pages, 30 notebooks, 3 pairs
    .venv/bin/python benchmarks/bench_scale.py --quick      # 60 pages, 9 notebooks, 1 pair
    .venv/bin/python benchmarks/bench_scale.py --book ../some-book --pairs 3
    .venv/bin/python benchmarks/bench_scale.py --profile [--pages 300 --notebooks 30]
    .venv/bin/python benchmarks/bench_scale.py --make-only DIR   # just write the book
    .venv/bin/python benchmarks/bench_scale.py --tracemalloc 8 [--only pdf]  # Python heap per stage
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import yaml

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO / "tests"))
from usage import read_report, report_file, wrapped  # noqa: E402

from coursebuilder import copy_course  # noqa: E402

COURSEKIT = [sys.executable, "-m", "coursekit", "build", "."]
JUPYTER_BOOK = [str(BIN / "jupyter-book"), "build", "."]
MODULE_FOLDER = re.compile(r"^modules/(\d{2})-([a-z0-9-]+)/")
SAMPLE_EVERY = 0.1  # seconds between two samples of the process tree
# Both tools run coursekit's code as it was when the benchmark started (a copy, first on
# PYTHONPATH): its code is part of every build's key, so an edit to src/ during the run
# would make a no-op build a full one.
ENV = dict(os.environ)


def freeze_coursekit(dest: Path) -> None:
    shutil.copytree(
        REPO / "src" / "coursekit", dest / "coursekit", ignore=shutil.ignore_patterns("__pycache__")
    )
    ENV["PYTHONPATH"] = os.pathsep.join(filter(None, [str(dest), os.environ.get("PYTHONPATH")]))


# ------------------------------------------------------------------ the book


@dataclass
class BookStats:
    pages: int = 0
    notebooks: int = 0  # executed by the book (the exercises are not)
    exercises: int = 0
    modules: int = 0
    edit: str = ""  # the page the one-page edit appends to


def _load_toc(root: Path) -> dict:
    data = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict) and "parts" in data, "the course's _toc.yml has parts"
    return data


def _module_parts(toc: dict) -> list[tuple[str, str, list[str]]]:
    """(caption, module folder, page files without suffix) of each module part of the TOC."""
    found = []
    for part in toc["parts"]:
        files = [c["file"] for c in part["chapters"]]
        files += [s["file"] for c in part["chapters"] for s in c.get("sections", [])]
        match = MODULE_FOLDER.match(files[0] + "/") or MODULE_FOLDER.match(files[0])
        if match:
            found.append((part["caption"], f"{match.group(1)}-{match.group(2)}", files))
    return found


def _suffix_of(root: Path, rel: str) -> str:
    for suffix in (".md", ".ipynb"):
        if (root / f"{rel}{suffix}").is_file():
            return suffix
    raise FileNotFoundError(f"{rel}: no .md or .ipynb")


def _retitle(text: str, note: str) -> str:
    """The page's first `# ` heading with `note` appended (pages stay told apart)."""
    return re.sub(r"^# (.+)$", lambda m: f"# {m.group(1)} ({note})", text, count=1, flags=re.M)


def _renotebook(path: Path, note: str) -> None:
    """Retitle the copy, and make its code its own: jupyter-cache (Jupyter Book's cache) keys
    a notebook by its code, so identical copies would run once there and N times in coursekit."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cell["source"] = _retitle(source, note)
            break
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cell["source"] = f"{source}\n# this copy: {path.parent.name}/{path.name}"
            break
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def make_synthetic(dest: Path, pages: int, notebooks: int) -> BookStats:
    """The bundled course at `dest`, grown with copies of its modules to `pages`/`notebooks`.

    The course itself is the smallest book (its page and notebook counts are the floor).
    """
    copy_course(dest)
    toc = _load_toc(dest)
    modules = _module_parts(toc)
    kinds: dict[str, str] = {}  # page → ".md" / ".ipynb"
    all_files = [e for part in toc["parts"] for e in _part_files(part)]
    for rel in all_files:
        kinds[rel] = _suffix_of(dest, rel)
    stats = BookStats(
        pages=1 + len(all_files),  # the root page too
        notebooks=sum(kinds[r] == ".ipynb" and not r.startswith("exercises/") for r in all_files),
        exercises=sum(r.startswith("exercises/") for r in all_files),
        modules=len(modules),
    )
    extra = pages - stats.pages
    copies = math.ceil(extra / 30) if extra > 0 else 0
    plans = []
    for k in range(copies):
        caption, folder, files = modules[k % len(modules)]
        plans.append((k, caption, folder, files))
    base_pages = sum(len(files) for *_, files in plans)
    base_nbs = sum(
        kinds[f] == ".ipynb" and not f.startswith("exercises/")
        for *_, files in plans
        for f in files
    )
    extra_nbs = max(0, notebooks - stats.notebooks - base_nbs)
    extra_mds = max(0, extra - base_pages - extra_nbs)
    new_parts = []
    number = len(modules)
    for k, caption, folder, files in plans:
        number += 1
        slug = folder.split("-", 1)[1]
        new_folder = f"{number:02d}-{slug}-copy{k + 1}"
        note = f"copy {k + 1}"
        src, out = dest / "modules" / folder, dest / "modules" / new_folder
        shutil.copytree(src, out)
        yml = out / "module.yml"
        text = yml.read_text(encoding="utf-8")
        text = re.sub(r"^id: (.+)$", rf"id: \1-copy{k + 1}", text, count=1, flags=re.M)
        text = re.sub(r'^title: "(.+)"$', rf'title: "\1 ({note})"', text, count=1, flags=re.M)
        yml.write_text(text, encoding="utf-8")
        entries = []
        for rel in files:
            name = rel.rsplit("/", 1)[1]
            if rel.startswith("exercises/"):
                ex_dir = dest / "exercises" / new_folder
                ex_dir.mkdir(parents=True, exist_ok=True)
                shutil.copy2(dest / f"{rel}.ipynb", ex_dir / f"{name}.ipynb")
                _renotebook(ex_dir / f"{name}.ipynb", note)
                entries.append(f"exercises/{new_folder}/{name}")
                stats.exercises += 1
                continue
            page = out / f"{name}{kinds[rel]}"
            if kinds[rel] == ".md":
                page.write_text(_retitle(page.read_text(encoding="utf-8"), note), "utf-8")
            else:
                _renotebook(page, note)
                stats.notebooks += 1
            entries.append(f"modules/{new_folder}/{name}")
        stats.pages += len(entries)
        # Padding: this copy's share of the further readings and notebooks.
        remaining = copies - k
        readings = [r for r in files if kinds[r] == ".md" and r.startswith("modules/")]
        readings = [r for r in readings if not r.endswith(("/overview", "/quiz", "/key-points"))]
        nbs = [r for r in files if kinds[r] == ".ipynb" and r.startswith("modules/")]
        add_md = math.ceil(extra_mds / remaining)
        add_nb = math.ceil(extra_nbs / remaining) if nbs else 0
        extra_mds -= add_md
        extra_nbs -= add_nb
        padding = [(readings, i, ".md") for i in range(add_md)]
        padding += [(nbs, i, ".ipynb") for i in range(add_nb)]
        for pool, i, suffix in padding:
            name = pool[i % len(pool)].rsplit("/", 1)[1]
            new_name = f"{name}-p{i + 1}"
            shutil.copy2(out / f"{name}{suffix}", out / f"{new_name}{suffix}")
            if suffix == ".md":
                path = out / f"{new_name}.md"
                path.write_text(_retitle(path.read_text("utf-8"), f"page {i + 1}"), "utf-8")
            else:
                _renotebook(out / f"{new_name}.ipynb", f"page {i + 1}")
                stats.notebooks += 1
            entries.insert(-2, f"modules/{new_folder}/{new_name}")  # before exercise and quiz
            stats.pages += 1
        stats.edit = f"modules/{new_folder}/{readings[0].rsplit('/', 1)[1]}.md"
        new_parts.append(
            {
                "caption": f"{caption} ({note})",
                "chapters": [{"file": entries[0], "sections": [{"file": e} for e in entries[1:]]}],
            }
        )
        stats.modules += 1
    if not stats.edit:
        stats.edit = f"{modules[0][2][1]}.md"
    # The copies go after the course's modules, before its "Reference" part.
    last_module = max(i for i, p in enumerate(toc["parts"]) if MODULE_FOLDER.match(_first(p)))
    toc["parts"][last_module + 1 : last_module + 1] = new_parts
    (dest / "_toc.yml").write_text(
        yaml.safe_dump(toc, sort_keys=False, allow_unicode=True, width=200), encoding="utf-8"
    )
    return stats


def _first(part: dict) -> str:
    return str(part["chapters"][0]["file"]) + "/"


def _part_files(part: dict) -> list[str]:
    out = []
    for chapter in part["chapters"]:
        out.append(chapter["file"])
        out += [s["file"] for s in chapter.get("sections", [])]
    return out


def copy_book(source: Path, dest: Path) -> BookStats:
    """A real book folder copied (no `_build/`, `.git/`, virtualenvs); its middle page edited."""
    skip = shutil.ignore_patterns("_build", ".git", ".venv", "node_modules", ".jupyter_cache")
    shutil.copytree(source, dest, ignore=skip, symlinks=True)
    toc = yaml.safe_load((dest / "_toc.yml").read_text(encoding="utf-8"))
    files: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("file"), str):
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(toc)
    md = [f for f in files if (dest / f"{f}.md").is_file() or (dest / f).suffix == ".md"]
    nbs = [f for f in files if (dest / f"{f}.ipynb").is_file() or (dest / f).suffix == ".ipynb"]
    if not md:
        sys.exit(f"{source}/_toc.yml: no Markdown page to edit")
    edit = md[len(md) // 2]
    return BookStats(
        pages=len(files),
        notebooks=len(nbs),
        edit=edit if edit.endswith(".md") else f"{edit}.md",
    )


# -------------------------------------------------------------- the measuring


@dataclass
class Run:
    wall: float
    cpu: float
    max_rss: int  # bytes: the largest single process (ru_maxrss)
    tree_peak: int  # bytes: the largest sum of RSS over the process tree, sampled
    at_peak: dict[str, int] = field(default_factory=dict)  # kind of process → RSS then
    stage_at_peak: str = ""
    output: str = ""


def _kind(proc: psutil.Process, root_pids: set[int]) -> str:
    try:
        cmd = " ".join(proc.cmdline())
    except psutil.Error:
        return "other"
    if "ipykernel" in cmd:
        return "kernels"
    if "chrom" in cmd.lower() or "headless_shell" in cmd:
        return "chromium"
    if "node" in cmd.split(" ", 1)[0] or "playwright" in cmd:
        return "playwright (node)"
    if proc.pid in root_pids:
        return "main"
    if "python" in cmd:
        return "other python"
    return "other"


class TreeSampler(threading.Thread):
    """Samples the summed RSS of `pid` and its descendants until stopped."""

    def __init__(self, pid: int, stages: list[tuple[float, str]]) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.stages = stages
        self.done = threading.Event()
        self.peak, self.at_peak, self.stage_at_peak = 0, {}, ""
        self.kind_peaks: dict[str, int] = {}
        self.kinds: dict[int, str] = {}

    def run(self) -> None:
        while not self.done.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
                # The build is the child of the wrapper: its own process is "main".
                main = {p.pid for p in self.root.children()}
            except psutil.Error:
                break
            by_kind: dict[str, int] = {}
            total = 0
            for proc in procs[1:]:  # the wrapper itself holds the same few MB every run
                try:
                    rss = proc.memory_info().rss
                except psutil.Error:
                    continue
                kind = self.kinds.get(proc.pid) or _kind(proc, main)
                self.kinds[proc.pid] = kind
                by_kind[kind] = by_kind.get(kind, 0) + rss
                total += rss
            for kind, rss in by_kind.items():
                self.kind_peaks[kind] = max(self.kind_peaks.get(kind, 0), rss)
            if total > self.peak:
                self.peak, self.at_peak = total, by_kind
                self.stage_at_peak = self.stages[-1][1] if self.stages else ""
            self.done.wait(SAMPLE_EVERY)


def measure(command: list[str], cwd: Path) -> Run:
    """`command` run in `cwd` under a fresh wrapper process; exits on failure."""
    report = report_file()
    stages: list[tuple[float, str]] = []
    lines: list[str] = []
    start = time.perf_counter()
    proc = subprocess.Popen(
        wrapped(report, command),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=ENV,
    )
    sampler = TreeSampler(proc.pid, stages)
    sampler.start()
    for line in proc.stdout or ():
        lines.append(line)
        if line.startswith("» "):  # coursekit's stage lines
            stages.append((time.perf_counter() - start, line[2:].strip()))
    proc.wait()
    wall = time.perf_counter() - start
    sampler.done.set()
    sampler.join()
    output = "".join(lines)
    code, cpu, max_rss = read_report(report)
    if code != 0:
        sys.exit(f"{' '.join(command)} failed in {cwd}:\n{output[-4000:]}")
    run = Run(wall, cpu, max_rss, sampler.peak, sampler.at_peak, sampler.stage_at_peak, output)
    run.at_peak = dict(sorted(sampler.at_peak.items(), key=lambda kv: -kv[1]))
    return run


def append_sentence(book: Path, page: str, pair: int) -> None:
    with (book / page).open("a", encoding="utf-8") as handle:
        handle.write(f"\nA sentence added by the scale benchmark, pair {pair}.\n")


def remove_build(book: Path) -> None:
    shutil.rmtree(book / "_build", ignore_errors=True)


MB = 1e6
STEPS = ("cold", "no-op", "page edited")
FIGURES = (  # name, unit, how to read it off a Run
    ("wall", "s", lambda r: r.wall),
    ("cpu", "s", lambda r: r.cpu),
    ("max rss", "MB", lambda r: r.max_rss / MB),
    ("tree rss", "MB", lambda r: r.tree_peak / MB),
)


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):7.1f} ({min(values):.1f}-{max(values):.1f})"


def _ratio_spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def compare(
    ours: Path, theirs: Path, stats: BookStats, pairs: int, coursekit: list[str], warm_up: bool
) -> None:
    results: dict[str, list[tuple[Run, Run]]] = {name: [] for name in STEPS}
    if warm_up:
        print(f"warm-up builds; load {os.getloadavg()[0]:.1f}", flush=True)
        measure(coursekit, ours)
        measure(JUPYTER_BOOK, theirs)
    for pair in range(1, pairs + 1):
        for name in STEPS:
            if name == "cold":
                remove_build(ours)
                remove_build(theirs)
            elif name == "page edited":
                append_sentence(ours, stats.edit, pair)
                append_sentence(theirs, stats.edit, pair)
            runs = [("coursekit", coursekit, ours), ("jupyter-book", JUPYTER_BOOK, theirs)]
            if pair % 2 == 0:  # alternate which tool goes first
                runs.reverse()
            done = {tool: measure(command, cwd) for tool, command, cwd in runs}
            a, b = done["coursekit"], done["jupyter-book"]
            results[name].append((a, b))
            print(f"  pair {pair} {name:11s} load {os.getloadavg()[0]:.1f}", flush=True)
            for figure, unit, get in FIGURES:
                ratio = get(a) / get(b) if get(b) else float("nan")
                print(
                    f"    {figure:8s} coursekit {get(a):7.1f} {unit:2s}  "
                    f"jupyter-book {get(b):7.1f} {unit:2s}  ratio {ratio:.2f}",
                    flush=True,
                )
            print(f"    coursekit tree at peak ({a.stage_at_peak}): {_breakdown(a.at_peak)}")
            print(f"    coursekit: {_what_it_did(a.output)}", flush=True)
    print(f"\nmedians over {pairs} pair(s) (min-max); ratio = coursekit / jupyter-book")
    for name, rows in results.items():
        print(f"  {name}")
        for figure, unit, get in FIGURES:
            ours_v = [get(a) for a, _ in rows]
            theirs_v = [get(b) for _, b in rows]
            ratios = [get(a) / get(b) for a, b in rows if get(b)]
            print(
                f"    {figure:8s} coursekit {_spread(ours_v)} {unit:2s}  "
                f"jupyter-book {_spread(theirs_v)} {unit:2s}  "
                f"ratio {_ratio_spread(ratios) if ratios else '-'}"
            )


def _what_it_did(output: str) -> str:
    if "nothing changed since the last build" in output:
        return "nothing changed since the last build"
    found = re.search(r"notebooks executed: \d+[^\n]*", output)
    return found.group(0) if found else "(no execution count printed)"


def _breakdown(at_peak: dict[str, int]) -> str:
    return ", ".join(f"{kind} {rss / MB:.0f} MB" for kind, rss in at_peak.items())


PROFILE_ONLY = ("html", "exercises", "pdf", "scorm", "cmi5", None)


def profile(book: Path) -> None:
    """Peak memory of a cold `coursekit build --only X` for each output, then of all."""
    print(f"load {os.getloadavg()[0]:.1f}", flush=True)
    measure(COURSEKIT, book)  # warm-up
    print(
        f"  {'build':24s} {'wall s':>7s} {'cpu s':>7s} {'max rss MB':>11s} {'tree MB':>8s}"
        "  at the tree's peak (stage running): what held it"
    )
    for only in PROFILE_ONLY:
        remove_build(book)
        command = COURSEKIT + (["--only", only] if only else [])
        run = measure(command, book)
        label = f"--only {only}" if only else "everything"
        print(
            f"  {label:24s} {run.wall:7.1f} {run.cpu:7.1f} {run.max_rss / MB:11.0f} "
            f"{run.tree_peak / MB:8.0f}  ({run.stage_at_peak}) {_breakdown(run.at_peak)}",
            flush=True,
        )
    remove_build(book)
    run = measure(JUPYTER_BOOK, book)
    print(
        f"  {'jupyter-book build':24s} {run.wall:7.1f} {run.cpu:7.1f} {run.max_rss / MB:11.0f} "
        f"{run.tree_peak / MB:8.0f}  {_breakdown(run.at_peak)}"
    )


class _MemoryReporter:
    """A build `Reporter` that notes, at each stage's start, the Python heap and the RSS.

    tracemalloc's peak is reset at each stage start, so each row's peak is that of the
    stages running since the row before it (the exercises and the PDF's printing run
    in threads beside others). The largest holders of the heap are listed at each start:
    what the stages before left alive.
    """

    def __init__(self, top: int) -> None:
        self.top, self.start, self.last = top, time.perf_counter(), "load and check"
        self.me = psutil.Process()

    def stage(self, name: str) -> None:
        self.mark(name)

    def mark(self, name: str) -> None:
        import tracemalloc

        current, peak = tracemalloc.get_traced_memory()
        rss = self.me.memory_info().rss
        print(
            f"  {time.perf_counter() - self.start:6.1f} s  until '{name}' starts: heap peak "
            f"{peak / MB:6.0f} MB during '{self.last}'; heap now {current / MB:6.0f} MB; "
            f"RSS now {rss / MB:6.0f} MB",
            flush=True,
        )
        if self.top:
            stats = tracemalloc.take_snapshot().statistics("filename")
            for stat in stats[: self.top]:
                where = str(stat.traceback[0].filename).split("site-packages/")[-1]
                print(f"      {stat.size / MB:6.1f} MB  {where}")
        tracemalloc.reset_peak()
        self.last = name

    def notebook(self, event: object) -> None:
        pass

    def note(self, text: str) -> None:
        pass


def in_process(book: Path, only: str | None, top: int) -> None:
    """`build_course` in this process under tracemalloc (one frame: the cost stays low)."""
    import tracemalloc

    sys.path.insert(0, ENV["PYTHONPATH"].split(os.pathsep)[0])
    from coursekit.build.pipeline import BuildOptions, build_course

    tracemalloc.start(1)
    reporter = _MemoryReporter(top)
    build_course(book, BuildOptions(only=only), reporter)
    reporter.mark("(end)")
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        f"  peak RSS of the build's process (tracemalloc's own cost included): {maxrss / MB:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300, help="pages of the synthetic book")
    parser.add_argument("--notebooks", type=int, default=30, help="notebooks it executes")
    parser.add_argument("--pairs", type=int, default=3, help="pairs of runs per measurement")
    parser.add_argument("--quick", action="store_true", help="60 pages, 9 notebooks, 1 pair")
    parser.add_argument("--no-warm-up", action="store_true", help="no warm-up build first")
    parser.add_argument("--book", type=Path, help="a real Jupyter Book folder instead")
    parser.add_argument("--profile", action="store_true", help="peak memory per output")
    parser.add_argument("--make-only", type=Path, metavar="DIR", help="write the book; exit")
    parser.add_argument(
        "--tracemalloc",
        type=int,
        metavar="TOP",
        help="build in this process under tracemalloc, listing the TOP files holding the heap",
    )
    parser.add_argument("--only", help="with --tracemalloc: `coursekit build --only` this")
    parser.add_argument(
        "--coursekit-args", default="", help="more options for `coursekit build`, e.g. --no-execute"
    )
    args = parser.parse_args()
    if args.quick:
        args.pages, args.notebooks, args.pairs = 60, 9, 1
    coursekit = COURSEKIT + args.coursekit_args.split()
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        freeze_coursekit(Path(tmp) / "src")
        ours = Path(args.make_only) if args.make_only else Path(tmp) / "coursekit"
        if args.book:
            stats = copy_book(args.book.resolve(), ours)
        else:
            stats = make_synthetic(ours, args.pages, args.notebooks)
        print(
            f"book: {args.book or 'synthetic'}: {stats.pages} pages, {stats.notebooks} "
            f"notebooks executed, {stats.exercises} exercises, {stats.modules} modules; "
            f"edited page {stats.edit}; {os.cpu_count()} cores; "
            f"load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        if args.make_only and args.tracemalloc is None:
            return
        if args.tracemalloc is not None:
            if not args.make_only:
                measure(COURSEKIT, ours)  # warm-up; then cold, in this process
            remove_build(ours)
            in_process(ours, args.only, args.tracemalloc)
            return
        if args.profile:
            profile(ours)
            return
        theirs = Path(tmp) / "jupyter-book"
        shutil.copytree(ours, theirs, symlinks=True)
        compare(ours, theirs, stats, args.pairs, coursekit, not args.no_warm_up)


if __name__ == "__main__":
    main()
