r"""coursekit on real Jupyter Book 1.x projects: one line per book (issue 20, point 10).

    python benchmarks/realbooks.py /work/corpus [--build] [--jupyter-book] [--no-execute]
    python benchmarks/realbooks.py /work/corpus --audit --keep DIR   # after --build --keep DIR

For every book under the corpus folder (a folder holding `_config.yml` and
`_toc.yml`, outside `_build/`), runs `coursekit check` and prints its errors and
warnings by code; with `--build`, runs `coursekit build --out` into a temporary
folder (never into the book) and prints the outputs built, the requests to outside
the pages would still make (from the build's offline report, when the build writes
one, `outside-requests.txt`: requests and pages) and how many pages carry maths
for MathJax (whether it typesets offline is measured in Chromium by the maths
tests, not here); with `--waive-errors`, a book whose check finds errors is built from
a temporary copy of its repository whose `_config.yml` waives exactly those findings
(`coursekit.waivers` by code, path and line: the narrow waiver a book would write once
its real errors are known), so its outputs can be measured; with `--jupyter-book`,
also times `jupyter-book build` on a copy and prints the time ratio. A corpus book's
commit is read from its `.corpus-commit` file or its git HEAD.

With `--keep DIR`, each build's output folder and log stay in DIR/<book>/; then
`--audit --keep DIR` opens, in Debian's Chromium with every request to a host other
than 127.0.0.1 recorded and blocked, a sample of each kept build's pages (those whose
HTML holds `\(`, `\[` or `$$`, up to `--audit-pages`, plus up to 5 pages the offline
report names), in the site and in its largest SCORM 1.2 zip unzipped; it prints the
formulas MathJax typeset against Sphinx's maths elements, raw TeX left in the text,
MathJax errors (`merror`), and the outside requests seen against those
`outside-requests.txt` lists for the same page, naming every unlisted one.

Not part of `make test`: the corpus is fetched by hand (public repositories, never
committed here) and the builds take minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

COURSEKIT = [sys.executable, "-m", "coursekit"]
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"
SKIP_PARTS = {"_build", ".git", "node_modules", "book_template", "tests", ".ipynb_checkpoints"}
RAW_TEX = re.compile(r"\\\(|\\\[|\$\$")


@dataclass
class Row:
    book: str
    commit: str = "?"
    pages: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    found: list[dict[str, object]] = field(default_factory=list)
    waived: int = 0
    warnings: int = 0
    check_s: float = 0.0
    outputs: list[str] = field(default_factory=list)
    build_ok: bool | None = None
    build_s: float = 0.0
    outside: str | None = None
    maths_pages: int | None = None
    jb_s: float | None = None
    note: str = ""


def books_under(corpus: Path) -> list[Path]:
    found = []
    for config in sorted(corpus.rglob("_config.yml")):
        book = config.parent
        rel = book.relative_to(corpus).parts
        if SKIP_PARTS & set(rel) or not (book / "_toc.yml").is_file():
            continue
        found.append(book)
    return found


def commit_of(book: Path, corpus: Path) -> str:
    for folder in (book, *book.parents):
        stamp = folder / ".corpus-commit"
        if stamp.is_file():
            return stamp.read_text().strip()[:12]
        if folder == corpus:
            break
    out = subprocess.run(["git", "-C", str(book), "rev-parse", "HEAD"], capture_output=True)
    return out.stdout.decode().strip()[:12] or "?"


def check(book: Path, row: Row) -> None:
    start = time.perf_counter()
    result = subprocess.run(
        [*COURSEKIT, "check", "--format", "json", str(book)], capture_output=True, text=True
    )
    row.check_s = time.perf_counter() - start
    try:
        found = json.loads(result.stdout or "[]")
    except json.JSONDecodeError:
        row.note = (result.stderr.strip().splitlines() or ["check gave no JSON"])[-1][:80]
        return
    row.found = [f for f in found if f["severity"] == "error"]
    for f in found:
        if f["severity"] == "error":
            row.errors[f["code"]] += 1
        else:
            row.warnings += 1
    from coursekit.loading import load_course

    row.pages = len(load_course(book).course.pages)  # the pages the TOC reaches


def waived_copy(book: Path, corpus: Path, row: Row, tmp: Path) -> Path:
    """A copy of the book's repository whose `_config.yml` waives each error `check`
    found, by code, path and line; the book's folder in that copy."""
    import yaml

    rel = book.relative_to(corpus)
    top = rel.parts[0]
    skip = shutil.ignore_patterns("_build", ".git", "node_modules")
    shutil.copytree(corpus / top, tmp / top, symlinks=True, ignore=skip)
    copy = tmp / rel
    config = yaml.safe_load((copy / "_config.yml").read_text(encoding="utf-8")) or {}
    section = config.setdefault("coursekit", {}) or {}
    config["coursekit"] = section
    waivers = section.setdefault("waivers", [])
    for f in row.found:
        waiver = {"code": f["code"], "path": f["path"], "line": f["line"]}
        quoted = re.search(r"'([^']+)'", str(f["message"]))
        if not f["line"] and quoted:  # a whole-file finding: waived by what it names
            waiver = {"code": f["code"], "path": f["path"], "target": quoted[1]}
        waivers.append(waiver)
    row.waived = len(row.found)
    (copy / "_config.yml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    return copy


def build(
    book: Path, row: Row, execute: bool, corpus: Path, waive: bool, keep: Path | None
) -> None:
    with tempfile.TemporaryDirectory(prefix="realbooks-") as tmp:
        out = Path(tmp) / "out"
        if keep is not None:  # the whole build, for `--audit` later
            out = keep / row.book.replace("/", "_")
            shutil.rmtree(out, ignore_errors=True)
        if waive and row.found:
            book = waived_copy(book, corpus, row, Path(tmp) / "copy")
        args = [*COURSEKIT, "build", "--out", str(out), str(book)]
        if not execute:
            args.insert(-1, "--no-execute")
        start = time.perf_counter()
        result = subprocess.run(args, capture_output=True, text=True)
        row.build_s = time.perf_counter() - start
        row.build_ok = result.returncode == 0
        if keep is not None:  # the build's log, next to its output folder
            log = keep / f"{row.book.replace('/', '_')}.log"
            log.write_text(result.stdout + result.stderr, encoding="utf-8")
        if not row.build_ok:
            last = (result.stderr.strip().splitlines() or ["?"])[-1]
            row.note = row.note or last[:80]
        if out.is_dir():
            row.outputs = _outputs(out)
            row.outside = _outside_requests(out)
            html = [p for p in (out / "html").rglob("*.html") if "_static" not in p.parts]
            row.maths_pages = sum(1 for p in html if RAW_TEX.search(p.read_text(errors="replace")))


def _outputs(out: Path) -> list[str]:
    """The outputs built: html, each zip's kind (scorm12, scorm2004, cmi5), pdf."""
    found = set()
    if (out / "html" / "index.html").is_file():
        found.add("html")
    for zipped in out.rglob("*.zip"):
        found.add(zipped.stem.rsplit("-", 1)[-1])
    if any((out / "pdf").glob("*.pdf")):  # not a book's own PDFs in html/_downloads
        found.add("pdf")
    return sorted(found)


def _outside_requests(out: Path) -> str | None:
    """'N on M pages' from the build's offline report (one tab-separated line per page
    and request after a header), or None when the build wrote none."""
    report = out / "outside-requests.txt"
    if not report.is_file():
        return None
    rows = [line.split("\t") for line in report.read_text().splitlines()[1:] if "\t" in line]
    return f"{len(rows)} on {len({r[0] for r in rows})} pages"


def jupyter_book(book: Path, row: Row, execute: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="realbooks-jb-") as tmp:
        copy = Path(shutil.copytree(book, Path(tmp) / book.name, symlinks=True))
        if not execute:  # compare like with like: the copy executes nothing either
            import yaml

            config = yaml.safe_load((copy / "_config.yml").read_text()) or {}
            config.setdefault("execute", {})["execute_notebooks"] = "off"
            (copy / "_config.yml").write_text(yaml.safe_dump(config, allow_unicode=True))
        start = time.perf_counter()
        subprocess.run(
            [str(JUPYTER_BOOK), "build", str(copy)],
            capture_output=True,
            env={**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"},
        )
        row.jb_s = time.perf_counter() - start


AUDIT_JS = r"""() => {
  const skip = 'pre, code, script, style, textarea, mjx-container, .tex2jax_ignore, '
    + '.mathjax_ignore';
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let raw = 0;
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    if (n.parentElement && n.parentElement.closest(skip)) continue;
    raw += (n.data.match(/\\\(|\\\[|\$\$/g) || []).length;
  }
  return {
    maths: document.querySelectorAll('.math').length,
    typeset: document.querySelectorAll('mjx-container').length,
    errors: document.querySelectorAll('mjx-merror, .MathJax_Error').length,
    raw: raw,
  };
}"""


HAS_MATHJAX = "!!window.MathJax || !!document.querySelector('script[src*=mathjax i]')"


@dataclass
class Audit:
    """What Chromium saw on a sample of one build's pages, offline."""

    where: str
    pages: int = 0
    maths: int = 0
    formulas: int = 0  # Sphinx's maths elements (`.math`) on the pages opened
    typeset: int = 0
    raw: int = 0
    errors: int = 0
    no_mathjax: int = 0
    seen: int = 0
    listed: int = 0
    unlisted: list[tuple[str, str]] = field(default_factory=list)


def _listed(kept: Path) -> dict[str, set[str]]:
    """The build's offline report (`page<TAB>kind<TAB>url` lines): URLs by page."""
    report = kept / "outside-requests.txt"
    listed: dict[str, set[str]] = {}
    if report.is_file():
        for line in report.read_text(encoding="utf-8").splitlines()[1:]:
            parts = line.split("\t")
            if len(parts) >= 3:
                listed.setdefault(parts[0], set()).add(parts[2].split("#")[0])
    return listed


def _sample(html: Path, listed: dict[str, set[str]], most: int) -> tuple[list[str], list[str]]:
    """Pages with maths for MathJax (up to `most`), then up to 5 the report names."""
    pages = sorted(
        p.relative_to(html).as_posix()
        for p in html.rglob("*.html")
        if not {"_static", "_sources", "_downloads"} & set(p.relative_to(html).parts)
    )
    maths = [p for p in pages if RAW_TEX.search((html / p).read_text(errors="replace"))]
    named = [p for p in sorted(listed) if p in pages and p not in maths[:most]]
    return maths[:most], named[:5]


def audit_pages(
    root: Path, pages: list[str], maths: set[str], listed: dict[str, set[str]], audit: Audit
) -> None:
    """Open each page of `root` in Chromium with every non-local request blocked and
    recorded; count the formulas MathJax typeset, raw TeX left and MathJax errors."""
    from urllib.parse import urlparse

    from playwright.sync_api import Error, Route, sync_playwright

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from browser import CHROMIUM, CHROMIUM_ARGS, LOCAL_HOSTS, serve

    seen: list[str] = []

    def route(r: Route) -> None:
        url = urlparse(r.request.url)
        if url.scheme in {"data", "blob", "file", "about"} or url.hostname in LOCAL_HOSTS:
            r.continue_()
            return
        seen.append(r.request.url.split("#")[0])
        r.abort()

    with sync_playwright() as p, serve(root) as base:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context()
        context.route("**/*", route)
        for rel in pages:
            if not (root / rel).is_file():
                continue
            page = context.new_page()
            seen.clear()
            started = False
            try:
                page.goto(f"{base}/{rel}", wait_until="load", timeout=60_000)
                if page.evaluate(HAS_MATHJAX):
                    page.wait_for_function(
                        "window.MathJax && MathJax.startup && MathJax.startup.promise",
                        timeout=15_000,
                    )
                    page.evaluate("MathJax.startup.promise.then(() => true)")
                    started = True
            except Error:
                pass
            counts = page.evaluate(AUDIT_JS)
            if not started and counts["maths"]:  # maths for MathJax, and no MathJax ran
                audit.no_mathjax += 1
            page.close()
            audit.pages += 1
            audit.maths += rel in maths
            audit.formulas += counts["maths"]
            audit.typeset += counts["typeset"]
            audit.raw += counts["raw"]
            audit.errors += counts["errors"]
            here = set(seen)
            audit.seen += len(here)
            audit.listed += len(listed.get(rel, set()))
            audit.unlisted += [(rel, u) for u in sorted(here - listed.get(rel, set()))]
        browser.close()


def audit(kept: Path, most: int) -> list[Audit]:
    """Audit one kept build: its site, then its largest SCORM 1.2 zip, unzipped."""
    import zipfile

    listed = _listed(kept)
    html = kept / "html"
    maths, named = _sample(html, listed, most)
    pages = maths + named
    site = Audit(f"{kept.name} (site)")
    audit_pages(html, pages, set(maths), listed, site)
    found = [site]
    zips = sorted((kept / "scorm").glob("*-scorm12.zip"), key=lambda z: z.stat().st_size)
    if zips:
        with tempfile.TemporaryDirectory(prefix="realbooks-zip-") as tmp:
            with zipfile.ZipFile(zips[-1]) as unit:
                unit.extractall(tmp)
            package = Audit(f"{kept.name} ({zips[-1].name})")
            audit_pages(Path(tmp), pages, set(maths), listed, package)
            found.append(package)
    return found


def show_audits(audits: list[Audit]) -> None:
    print("build | pages opened (with TeX) | pages with maths, no MathJax | typeset/formulas")
    print("  | raw TeX left | merror | outside requests seen | listed | unlisted")
    for a in audits:
        cells = [
            a.where,
            f"{a.pages} ({a.maths})",
            a.no_mathjax,
            f"{a.typeset}/{a.formulas}",
            a.raw,
            a.errors,
        ]
        cells += [a.seen, a.listed, len(a.unlisted)]
        print(" | ".join(str(c) for c in cells))
    for a in audits:
        for page, url in a.unlisted:
            print(f"unlisted: {a.where}: {page}: {url}")


def show(rows: list[Row]) -> None:
    head = "book | commit | pages | errors | warnings | check s | outputs | outside | maths pages"
    print(head + " | build s | jupyter-book s | ratio | note")
    for r in rows:
        errors = ", ".join(f"{c}×{n}" for c, n in sorted(r.errors.items())) or "0"
        if r.waived:
            errors += f" (waived: {r.waived})"
        ratio = f"{r.build_s / r.jb_s:.1f}" if r.jb_s and r.build_s else "-"
        cells = [
            r.book,
            r.commit,
            str(r.pages),
            errors,
            str(r.warnings),
            f"{r.check_s:.1f}",
            " ".join(r.outputs) or ("-" if r.build_ok is None else "none"),
            "-" if r.outside is None else r.outside,
            "-" if r.maths_pages is None else str(r.maths_pages),
            f"{r.build_s:.0f}" if r.build_ok is not None else "-",
            f"{r.jb_s:.0f}" if r.jb_s is not None else "-",
            ratio,
            r.note,
        ]
        print(" | ".join(cells))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--build", action="store_true", help="also run coursekit build")
    parser.add_argument("--jupyter-book", action="store_true", help="also time jupyter-book")
    parser.add_argument("--no-execute", action="store_true", help="build without executing")
    parser.add_argument(
        "--waive-errors", action="store_true", help="build a copy that waives the errors found"
    )
    parser.add_argument("--exclude", action="append", default=[], help="skip books with this")
    parser.add_argument("--keep", type=Path, help="keep each build (output folder and log) here")
    parser.add_argument("--only", action="append", default=[], help="only books with this")
    parser.add_argument(
        "--audit", action="store_true", help="open the kept builds' maths pages in Chromium"
    )
    parser.add_argument("--audit-pages", type=int, default=15, help="maths pages per book")
    args = parser.parse_args()
    corpus = args.corpus.resolve()
    if args.audit:  # the kept builds (`--keep`) in Chromium, offline
        if args.keep is None:
            parser.error("--audit reads the builds kept by --keep: give the same --keep")
        audits = []
        for kept in sorted(p for p in args.keep.iterdir() if (p / "html").is_dir()):
            if args.only and not any(part in kept.name for part in args.only):
                continue
            if any(part in kept.name for part in args.exclude):
                continue
            audits += audit(kept, args.audit_pages)
            print(f"… audited {kept.name}", file=sys.stderr, flush=True)
        show_audits(audits)
        return 0
    rows = []
    for book in books_under(corpus):
        name = book.relative_to(corpus).as_posix()
        if args.only and not any(part in name for part in args.only):
            continue
        if any(part in name for part in args.exclude):
            continue
        row = Row(name, commit_of(book, corpus))
        check(book, row)
        if args.build:
            build(book, row, not args.no_execute, corpus, args.waive_errors, args.keep)
        if args.jupyter_book:
            jupyter_book(book, row, execute=not args.no_execute)
        rows.append(row)
        print(f"… {name}: {sum(row.errors.values())} error(s)", file=sys.stderr, flush=True)
    show(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
