"""`myst build --site` offline on a copy of the project, then the HTML site rendered by coursekit.

The work folder (`request.work`, under `_build/.cache/`) holds:

- `src/`: the project's files (its own `_build/` and hidden folders left out),
  updated file by file, and a `myst.yml` that differs from the project's only in
  `site.template` (coursekit's template folder) and without coursekit's section;
  mystmd writes its `_build/` (and its cache) there, never in the project;
- the files of `coursekit.read_outside` one folder up (`../RELEASE.md` → `RELEASE.md`
  beside `src/`), so mystmd's `{include}` finds them where the project has them;
- `template/template.yml`: the minimal site template that lets `--site` run
  without downloading a theme;
- `html/`: the site: `<page>.html` for every page of the TOC (named as Jupyter
  Book 1.x names them, so the packages find them), `index.html`, `_media/` (the
  images mystmd collected) and `_static/` (MathJax, the style sheet);
- `print/`: the print page (`print.html`, every page in reading order) with its
  `_media/` and `_static/`, which the PDF stage prints.
"""

from __future__ import annotations

import html
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from coursekit.book.engine import BookRequest, BookResult
from coursekit.book.mystmd.render import (
    BIBLIOGRAPHY,
    PageContext,
    render_page,
    render_references,
)
from coursekit.errors import BuildError
from coursekit.loading.myst_project import implicit_toc
from coursekit.model import EXERCISES_DIR, Course, PageKind, is_exercise
from coursekit.quiz.render import render_quiz

SRC, TEMPLATE, HTML, PRINT = "src", "template", "html", "print"
INPUTS_FILE = "inputs.json"
KEY_FILE = "key.txt"  # what the work folder was built with (`BookRequest.key`)
PRINT_PAGE = "print.html"
QUIZ_ASSETS = ("coursekit-quiz.js", "coursekit-quiz.css")
WIDGETS_JS = "coursekit-anywidget.js"  # runs {anywidget}s, on the pages that have one
TEMPLATE_YML = "jtex: v1\ntitle: coursekit, no theme (coursekit renders the pages)\n"
WARNING_LINE = re.compile(r"^\s*(⚠️|⛔️|⛔)\s*(.+)$")
# "page.md:12:3 message", "page.md:12 message" or "page.md message"
DIAGNOSTIC = re.compile(r"^([^\s:]+\.(?:md|ipynb|myst\.yml|yml|bib))(?::(\d+))?(?::(\d+))?\s+(.+)$")
WEB = re.compile(r"^https?://", re.I)
# mystmd's diagnostics about what `check` judges too, with coursekit's code (as the
# Sphinx engine's log gives them), so the build reads as `coursekit check` would.
DIAGNOSTIC_CODES = (
    ("CK305", re.compile(r"No target for internal reference|Cross reference target was not found")),
    ("CK501", re.compile(r"Could not link citation with label")),
    ("CK302", re.compile(r"Cannot find image")),
)
# What coursekit renders itself: the quiz directive, and a {bibliography}'s `:all:` (as
# sphinxcontrib-bibtex's; mystmd's directive has only `:filter:`).
OWN_DIRECTIVE = re.compile(
    r'unknown directive: quiz$|unexpected option "all" provided \(in bibliography\)$'
)
# A page of mystmd's copy only, citing every entry of the .bib files, so that mystmd
# formats the works no page cites for a {bibliography} with `:all:`; never published.
ALL_WORKS = "coursekit-all-works.md"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class MystEngine:
    """Jupyter Book 2 (mystmd) as the build's book engine (`coursekit.book.engine.BookEngine`)."""

    name = "jupyter-book-2"

    def build_site(self, request: BookRequest) -> BookResult:
        with _work_lock(request.work):
            site = _myst_site(request)
            out = request.work / HTML
            warnings = list(site.warnings)
            _write_site(request.course, site, out, warnings)
            return BookResult(out, tuple(warnings), read=site.read)

    def build_print_page(self, request: BookRequest) -> BookResult:
        """The print page in a folder of its own (with the media and static files it
        uses), so printing it never meets the site being rewritten in `html/`."""
        with _work_lock(request.work):
            site = _myst_site(request)
            out = request.work / PRINT
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            _copy_media(site.folder / "public", out / "_media")
            _copy_static(out / "_static")
            warnings = list(site.warnings)
            page = out / PRINT_PAGE
            _write_print_page(request.course, site, page, warnings)
            return BookResult(out, tuple(warnings), read=site.read, page=page)

    def read_inputs(self, work: Path) -> list[str] | None:
        try:
            found = json.loads((work / INPUTS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return [str(f) for f in found] if isinstance(found, list) else None


@dataclass(frozen=True, slots=True)
class MystSite:
    """What `myst build --site` wrote: each page's content by course path."""

    folder: Path  # src/_build/site
    pages: dict[str, dict[str, Any]]  # course path → content json
    slugs: dict[str, str]  # slug → docname
    warnings: tuple[str, ...]

    @property
    def read(self) -> tuple[str, ...]:
        """The project's pages mystmd read (not coursekit's `ALL_WORKS`)."""
        return tuple(p for p in self.pages if p != ALL_WORKS)


# ------------------------------------------------------------------ mystmd's part


def myst_command() -> list[str]:
    """The `myst` of the installed mystmd (beside this Python), or a clear error."""
    here = Path(sys.executable).parent / "myst"
    found = str(here) if here.is_file() else shutil.which("myst")
    if found is None:
        raise BuildError(
            "a Jupyter Book 2 project (myst.yml) is built with mystmd, which is not installed: "
            "`pip install 'mystmd>=1.11,<1.12'` (it runs on Node.js 18 or later)"
        )
    if shutil.which("node") is None:
        raise BuildError("mystmd needs Node.js (`node`), which is not on the PATH; install it")
    return [found]


_WORK_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_LOCK = threading.Lock()


def _work_lock(work: Path) -> threading.Lock:
    """One build at a time in a work folder: the site and the print page may be asked
    for at once (from threads), and both run mystmd and write `html/` there."""
    with _LOCKS_LOCK:
        return _WORK_LOCKS.setdefault(work.resolve(), threading.Lock())


def _myst_site(request: BookRequest) -> MystSite:
    course, work = request.course, request.work
    src, template = work / SRC, work / TEMPLATE
    key_file = work / KEY_FILE
    if not key_file.is_file() or key_file.read_text(encoding="utf-8") != request.key:
        shutil.rmtree(src, ignore_errors=True)  # built with other tools: start afresh
        work.mkdir(parents=True, exist_ok=True)
        key_file.write_text(request.key, encoding="utf-8")
    template.mkdir(parents=True, exist_ok=True)
    (template / "template.yml").write_text(TEMPLATE_YML, encoding="utf-8")
    copied = _sync(course.root, src, request.exclude)
    outside = _copy_read_outside(course, src)
    _executed_into(course, src, request.cache_dir, request.kept)
    all_works = _write_all_works(course, src / ALL_WORKS)
    left_out = [*outside, *_write_myst_yml(course, src / "myst.yml", template, all_works)]
    site = src / "_build" / "site"
    shutil.rmtree(site, ignore_errors=True)
    env = {**os.environ, "NO_UPDATE_NOTIFIER": "1", "CI": "1", "FORCE_COLOR": "0"}
    proc = subprocess.run(
        [*myst_command(), "build", "--site"],
        cwd=src,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        check=False,
    )
    said = ANSI.sub("", proc.stdout + proc.stderr)
    warnings = (*left_out, *diagnostics(said, src))
    if proc.returncode != 0 or not (site / "config.json").is_file():
        tail = "\n".join(said.strip().splitlines()[-15:])
        raise BuildError(
            f"mystmd could not build the site of {course.root} (exit {proc.returncode}):\n{tail}"
        )
    pages: dict[str, dict[str, Any]] = {}
    slugs: dict[str, str] = {}
    for file in sorted((site / "content").glob("*.json")):
        data = json.loads(file.read_text(encoding="utf-8"))
        location = str(data.get("location", "")).lstrip("/")
        if location:
            pages[location] = data
            slugs[str(data.get("slug", file.stem))] = location.rsplit(".", 1)[0]
    if "index" not in slugs and course.toc and course.toc.root and course.toc.root.path:
        slugs["index"] = course.toc.root.path.rsplit(".", 1)[0]
    _text_notebook_outputs(course, pages, request.cache_dir, request.kept)
    (work / INPUTS_FILE).write_text(json.dumps(sorted(copied)), encoding="utf-8")
    return MystSite(site, pages, slugs, warnings)


def _sync(root: Path, dest: Path, exclude: Sequence[str]) -> list[str]:
    """Copy the project's files into `dest` (changed ones only; gone ones removed)."""
    skip = {e.strip("/") for e in exclude} | {"_build"}
    wanted: list[str] = []
    for folder, dirs, files in os.walk(root):
        rel = Path(folder).relative_to(root).as_posix()
        rel = "" if rel == "." else rel
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and f"{rel}/{d}".strip("/") not in skip
        )
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = f"{rel}/{name}".strip("/")
            wanted.append(path)
            source, target = Path(folder) / name, dest / path
            st = source.stat()
            if is_exercise(path):  # mystmd only ever sees the student edition
                student = student_text(path, source.read_text(encoding="utf-8"))
                if not target.is_file() or target.read_text(encoding="utf-8") != student:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(student, encoding="utf-8")
                continue
            if target.is_file():
                tt = target.stat()
                if tt.st_size == st.st_size and int(tt.st_mtime) == int(st.st_mtime):
                    continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    keep = set(wanted)
    for folder, dirs, files in os.walk(dest):
        rel = Path(folder).relative_to(dest).as_posix()
        if rel == "_build" or rel.startswith("_build/"):
            dirs[:] = []
            continue
        for name in files:
            path = f"{rel}/{name}".strip("./") if rel != "." else name
            if path not in keep and path not in ("myst.yml", ALL_WORKS):
                (Path(folder) / name).unlink()
    return wanted


def _executed_into(course: Course, src: Path, cache_dir: Path | None, kept: Sequence[str]) -> None:
    """Each notebook page the execute stage ran, with the outputs of its run (from the
    jupyter-cache), in mystmd's copy; the others keep their stored outputs."""
    if cache_dir is None or not cache_dir.is_dir():
        return
    import nbformat
    from jupyter_cache import get_cache

    cache = get_cache(str(cache_dir))
    for page in course.pages:
        if not page.path.endswith(".ipynb") or page.path in kept or is_exercise(page.path):
            continue
        target = src / page.path
        nb = nbformat.read(str(course.root / page.path), as_version=4)
        try:
            _pk, merged = cache.merge_match_into_notebook(nb)
        except KeyError:  # not run (or changed since): the stored outputs
            continue
        text = nbformat.writes(merged) + "\n"
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")


def _text_notebook_outputs(
    course: Course,
    pages: dict[str, dict[str, Any]],
    cache_dir: Path | None,
    kept: Sequence[str],
) -> None:
    """The outputs of each MyST Markdown notebook the execute stage ran (from the
    jupyter-cache) put into its code cells' `outputs` nodes, in cell order: mystmd reads
    the `.md` page itself and has no outputs for it (it would run it only with `--execute`)."""
    if cache_dir is None or not cache_dir.is_dir() or course.config is None:
        return
    from jupyter_cache import get_cache

    from coursekit.loading.nbread import read_notebook

    cache = get_cache(str(cache_dir))
    for page in course.pages:
        data = pages.get(page.path)
        if page.kind is not PageKind.TEXT_NOTEBOOK or data is None or page.path in kept:
            continue
        if is_exercise(page.path) or not page.path.endswith(".md"):
            continue
        try:
            nb = read_notebook(course.root, page.path, course.config.execute)
            if nb is None:
                continue
            _pk, merged = cache.merge_match_into_notebook(nb)
        except (KeyError, BuildError):  # not run (or changed since)
            continue
        cells = [c for c in merged.cells if c.cell_type == "code"]
        blocks = _code_blocks(data.get("mdast") or {})
        for cell, outputs in zip(cells, blocks, strict=False):
            if outputs.get("visibility") != "remove":
                outputs["children"] = [
                    {"type": "output", "jupyter_data": dict(o)} for o in cell.get("outputs", [])
                ]


def _code_blocks(tree: dict[str, Any]) -> list[dict[str, Any]]:
    """The `outputs` node of each notebook code cell of a page's AST, in order."""
    found: list[dict[str, Any]] = []
    for child in tree.get("children") or ():
        if not isinstance(child, dict):
            continue
        if child.get("type") == "block" and child.get("kind") == "notebook-code":
            found += [c for c in child.get("children") or () if c.get("type") == "outputs"][:1]
        else:
            found += _code_blocks(child)
    return found


def student_text(path: str, text: str) -> str:
    """The student edition of exercise `path` in its own format (a notebook, or a MyST
    Markdown notebook); an exercise that cannot be read is never passed on as it is."""
    import jupytext

    from coursekit.exercises.editions import student_edition
    from coursekit.loading.notebooks import read_notebook

    empty: dict[str, Any] = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    name = path.removeprefix(f"{EXERCISES_DIR}/").rsplit(".", 1)[0]
    if path.endswith(".md"):
        try:
            nb = jupytext.writes(jupytext.reads(text, fmt="md:myst"), fmt="ipynb")
        except Exception:  # unreadable: it may hold solutions
            return "# (exercise)\n"
        read, _ = read_notebook(path, nb)
        student, _ = student_edition(_thawed(read.data) if read else empty, name)
        out: str = jupytext.writes(jupytext.reads(json.dumps(student), fmt="ipynb"), fmt="md:myst")
        return out
    read, _ = read_notebook(path, text)
    student, _ = student_edition(_thawed(read.data) if read else empty, name)
    return json.dumps(student, indent=1, ensure_ascii=False) + "\n"


def _thawed(value: Any) -> Any:
    """A plain, changeable copy of the model's read-only notebook data."""
    if isinstance(value, Mapping):
        return {k: _thawed(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_thawed(v) for v in value]
    return value


def _copy_read_outside(course: Course, src: Path) -> list[str]:
    """The files of `coursekit.read_outside` where mystmd's copy reaches them: a file one
    folder up beside `src/` (its name is not one of the work folder's own); a warning
    for each one that cannot be placed so (two folders up or more)."""
    work, warnings = src.parent, []
    own = {SRC, TEMPLATE, HTML, PRINT, INPUTS_FILE, KEY_FILE}
    for rel in course.config.read_outside if course.config is not None else ():
        target = Path(posixpath.normpath(f"{src}/{rel}"))
        if target.parent != work or target.name in own:
            warnings.append(
                f"myst.yml: coursekit.read_outside {rel}: mystmd's copy of the project holds "
                "the files of the folder just above the project only; left out"
            )
            continue
        source = course.root / rel
        if not target.is_file() or target.read_bytes() != source.read_bytes():
            shutil.copyfile(source, target)
    return warnings


def _write_all_works(course: Course, target: Path) -> bool:
    """`ALL_WORKS` in mystmd's copy when a page has a {bibliography} with `:all:`: one
    citation of each .bib entry, in the files' order. Whether it is there."""
    bib = course.bibliography
    wanted = bib is not None and any(
        p.markup is not None and p.markup.bibliography_all for p in course.pages
    )
    if not wanted or bib is None:
        target.unlink(missing_ok=True)
        return False
    keys = [key for f in bib.files for key in f.keys]
    text = "---\ntitle: All works\n---\n\n" + "".join(f"{{cite}}`{k}`\n\n" for k in keys)
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
    return True


def _write_myst_yml(
    course: Course, target: Path, template: Path, all_works: bool = False
) -> list[str]:
    """mystmd's copy of myst.yml: coursekit's template, the TOC the course was read with
    (mystmd's implicit one written out when `project.toc` is absent), without coursekit's
    section and without what is fetched from the web (`extends`, `plugins`), which an
    offline build cannot have, with `ALL_WORKS` last in the TOC when it is there; returns
    a warning for each thing left out."""
    raw = yaml.safe_load((course.root / "myst.yml").read_text(encoding="utf-8")) or {}
    raw.pop("coursekit", None)
    left_out: list[str] = []
    for where, keys in ((raw, "extends"), (raw.get("project"), "plugins")):
        if not isinstance(where, dict) or keys not in where:
            continue
        items = where[keys] if isinstance(where[keys], list) else [where[keys]]
        kept = [i for i in items if not (isinstance(i, str) and WEB.match(i))]
        left_out += [
            f"myst.yml: {keys} {i} is on the web, which an offline build cannot fetch; left out"
            for i in items
            if i not in kept
        ]
        where[keys] = kept
    project = raw.get("project")
    if isinstance(project, dict) and "toc" not in project:  # mystmd's TOC, made as it would
        project["toc"] = implicit_toc(course.root, project.get("exclude", []))
    if all_works and isinstance(project, dict) and isinstance(project.get("toc"), list):
        project["toc"] = [*project["toc"], {"file": ALL_WORKS}]
    site = raw.get("site")
    raw["site"] = {**(site if isinstance(site, dict) else {}), "template": str(template)}
    text = yaml.safe_dump(raw, sort_keys=False, allow_unicode=True)
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
    return left_out


def diagnostics(said: str, src: Path) -> list[str]:
    """mystmd's warnings and errors (`⚠️ page.md:12:3 message`) as `page.md:12:3: message`
    (with coursekit's code when `check` judges the same thing), each once (one without
    a line is dropped when the same is said with one)."""
    found: dict[tuple[str, str, str], str] = {}
    for line in said.splitlines():
        m = WARNING_LINE.match(line)
        if m is None or OWN_DIRECTIVE.search(m.group(2)):
            continue
        text = m.group(2).strip().replace(f"{src}/", "").replace(str(src), "the project")
        error = "error: " if m.group(1) != "⚠️" else ""
        where = DIAGNOSTIC.match(text)
        path, row, col, message = where.groups() if where else ("", None, None, text)
        place = f"{path}:{row or 1}:{col or 1}: " if path else ""
        code = next((c for c, m in DIAGNOSTIC_CODES if m.match(message)), None)
        said = f"{code} {message} (mystmd cannot resolve it)" if code else f"{error}{message}"
        found.setdefault((path, message, row or ""), f"{place}{said}")
    said_with_line = {(p, m) for p, m, r in found if r}
    return [
        text
        for (path, message, row), text in found.items()
        if row or (path, message) not in said_with_line
    ]


# ------------------------------------------------------------------ coursekit's part


def _write_site(course: Course, site: MystSite, out: Path, warnings: list[str]) -> None:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    media = _copy_media(site.folder / "public", out / "_media")
    _copy_static(out / "_static")
    nav = _nav(course, site)
    for page in course.pages:
        data = site.pages.get(page.path)
        if data is None:
            warnings.append(f"{page.path}: mystmd wrote no content for this page")
            continue
        body, title = _page_body(page.path, page.docname, data, site, media, warnings, course)
        macros = _macros(data.get("frontmatter") or {})
        text = _page_html(course, page.docname, title, body, nav, macros)
        target = out / f"{page.docname}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    root = course.toc.root.path if course.toc and course.toc.root else None
    first = root.rsplit(".", 1)[0] if root else (course.pages[0].docname if course.pages else None)
    if first and first != "index":
        href = html.escape(f"{first}.html", quote=True)
        lang = html.escape(course.config.language if course.config else "en", quote=True)
        (out / "index.html").write_text(
            f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta http-equiv="refresh" content="0; url={href}">'
            f"<title>{html.escape(_title(course))}</title></head>"
            f"<body><main><h1>{html.escape(_title(course))}</h1>"
            f'<p><a href="{href}">Start the course</a></p></main></body></html>\n',
            encoding="utf-8",
        )


def _page_body(
    path: str,
    docname: str,
    data: Mapping[str, Any],
    site: MystSite,
    media: Mapping[str, str],
    warnings: list[str],
    course: Course | None = None,
) -> tuple[str, str]:
    quiz = _quiz_renderer(course, path, docname) if course is not None else None
    hide = _solutions_hidden(course) if course is not None else True
    ctx = PageContext(docname, site.slugs, media, where=path, quiz=quiz, hide_solutions=hide)
    body = render_page(data.get("mdast") or {}, ctx)
    refs = data.get("references") or {}
    if BIBLIOGRAPHY in body:  # a {bibliography}: every work the course cites, there
        paths = [p.path for p in course.pages] if course is not None else list(site.pages)
        page = next((p for p in course.pages if p.path == path), None) if course else None
        if page is not None and page.markup is not None and page.markup.bibliography_all:
            paths.append(ALL_WORKS)  # `:all:`: then the works no page cites
        body = body.replace(BIBLIOGRAPHY, render_references(_all_cited(site, paths)), 1)
        body = body.replace(BIBLIOGRAPHY, "")
    else:
        body += render_references(refs.get("cite") or {})
    warnings.extend(ctx.warnings)
    front = data.get("frontmatter") or {}
    title = str(front.get("title") or docname.rsplit("/", 1)[-1])
    return body, title


def _all_cited(site: MystSite, paths: Sequence[str]) -> dict[str, Any]:
    """The works cited on pages `paths` (mystmd's `references.cite` of each), in reading
    order."""
    order: list[str] = []
    data: dict[str, Any] = {}
    for path in paths:
        cite = (site.pages.get(path, {}).get("references") or {}).get("cite") or {}
        for key in cite.get("order") or ():
            if key not in data and key in (cite.get("data") or {}):
                order.append(key)
                data[key] = cite["data"][key]
    return {"order": order, "data": data}


def _solutions_hidden(course: Course) -> bool:
    """`coursekit: solutions: hide` in myst.yml: the {solution} blocks are not published."""
    section = course.config.raw.get("coursekit") if course.config is not None else None
    return isinstance(section, Mapping) and section.get("solutions") == "hide"


def _quiz_renderer(course: Course, path: str, docname: str) -> Any:
    """How page `path` shows a ```{quiz} directive: the quiz form, as Jupyter Book 1.x shows it."""
    pages = {p.path: p for p in course.pages}

    def show(argument: str) -> str | None:
        rel = posixpath.normpath(posixpath.join(posixpath.dirname(path), argument or "quiz.yml"))
        quiz = course.quiz(rel)
        if quiz is None:
            return None
        unit = course.unit_of(path) or course.unit_of(rel)
        module_id = unit.id if unit else (course.config.course_id if course.config else "course")
        base = posixpath.dirname(rel)

        def resolve(target: str) -> tuple[str, str] | None:
            file, _, anchor = target.partition("#")
            page = pages.get(posixpath.normpath(posixpath.join(base, file))) if file else None
            if page is None:
                return None
            here = posixpath.dirname(docname) or "."
            href = posixpath.relpath(f"{page.docname}.html", here)
            return href + (f"#{anchor}" if anchor else ""), page.title or page.docname

        return render_quiz(quiz, module_id, resolve)

    return show


def _copy_media(public: Path, dest: Path) -> dict[str, str]:
    """mystmd's collected files copied into the site's `_media/`; returns their map."""
    media = _media_names(public)
    if media:
        dest.mkdir(parents=True, exist_ok=True)
    for url, site_path in media.items():
        shutil.copy2(public / url.lstrip("/"), dest / site_path.removeprefix("_media/"))
    return media


def _media_names(public: Path) -> dict[str, str]:
    """mystmd's "/name-hash.png" → the site path "_media/name-hash.png". An {anywidget}'s
    module becomes `.js`: a server (an LMS's) that does not know `.mjs` sends no
    JavaScript type, and the browser then refuses the module."""
    if not public.is_dir():
        return {}
    return {
        f"/{f.name}": "_media/" + (f.stem + ".js" if f.suffix == ".mjs" else f.name)
        for f in sorted(public.iterdir())
        if f.is_file() and f.suffix not in (".md", ".ipynb")
    }


def _copy_static(dest: Path) -> None:
    sphinx_static = resources.files("coursekit.book.sphinx") / "static" / "mathjax"
    with resources.as_file(sphinx_static) as mathjax:
        shutil.copytree(mathjax, dest / "mathjax", dirs_exist_ok=True)
    css = resources.files("coursekit.book.mystmd") / "coursekit-jb2.css"
    (dest / "coursekit-jb2.css").write_text(css.read_text(encoding="utf-8"), encoding="utf-8")
    widgets = resources.files("coursekit.book.mystmd") / WIDGETS_JS
    (dest / WIDGETS_JS).write_text(widgets.read_text(encoding="utf-8"), encoding="utf-8")
    quiz = resources.files("coursekit.quiz") / "static"
    for name in QUIZ_ASSETS:
        (dest / name).write_text((quiz / name).read_text(encoding="utf-8"), encoding="utf-8")


def _title(course: Course) -> str:
    return course.config.title if course.config else course.root.name


def _nav(course: Course, site: MystSite) -> list[tuple[str | None, list[tuple[str, str, int]]]]:
    """The whole site's navigation: (part caption, [(docname, title, depth)])."""
    titles = {
        path: str((data.get("frontmatter") or {}).get("title") or path)
        for path, data in site.pages.items()
    }
    groups: list[tuple[str | None, list[tuple[str, str, int]]]] = []
    toc = course.toc
    if toc is None:
        return groups
    if toc.root is not None and toc.root.path:
        groups.append((None, [(toc.root.path.rsplit(".", 1)[0], titles.get(toc.root.path, ""), 0)]))
    for part in toc.parts:
        items: list[tuple[str, str, int]] = []

        def add(entry: Any, depth: int, items: list[tuple[str, str, int]] = items) -> None:
            if entry.path:
                items.append(
                    (entry.path.rsplit(".", 1)[0], titles.get(entry.path, entry.path), depth)
                )
            for child in entry.children:
                add(child, depth + (1 if entry.path else 0))

        for chapter in part.chapters:
            add(chapter, 0)
        groups.append((part.caption, items))
    return groups


def _page_html(
    course: Course,
    docname: str,
    title: str,
    body: str,
    nav: list[tuple[str | None, list[tuple[str, str, int]]]],
    macros: Mapping[str, Any] | None = None,
) -> str:
    up = "../" * docname.count("/")
    lang = html.escape(course.config.language if course.config else "en", quote=True)
    site_title = html.escape(_title(course))
    links = []
    for caption, items in nav:
        lis = "".join(
            f'<li class="depth-{depth}"><a href="{html.escape(up + doc + ".html", quote=True)}"'
            + (' aria-current="page"' if doc == docname else "")
            + f">{html.escape(t)}</a></li>"
            for doc, t, depth in items
        )
        head = f'<p class="nav-caption">{html.escape(caption)}</p>' if caption else ""
        links.append(f"{head}<ul>{lis}</ul>")
    # `</` cannot end the script early: JSON escapes no `/`, so it is written `<\/`.
    tex = json.dumps(macros or {}, ensure_ascii=True).replace("</", "<\\/")
    scripts = (
        "<script>window.MathJax={tex:{inlineMath:[['\\\\(','\\\\)']],displayMath:[['\\\\[','\\\\]']],"
        f"macros:{tex}}},options:{{processHtmlClass:'math|math-display'}}}};</script>"
        f'<script defer src="{up}_static/mathjax/tex-chtml.js"></script>'
    )
    if 'class="ck-anywidget"' in body:
        scripts += f'\n<script type="module" src="{up}_static/{WIDGETS_JS}"></script>'

    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)} — {site_title}</title>\n"
        f'<link rel="stylesheet" href="{up}_static/coursekit-jb2.css">\n'
        f'<link rel="stylesheet" href="{up}_static/coursekit-quiz.css">\n'
        f'<script defer src="{up}_static/coursekit-quiz.js"></script>\n{scripts}\n</head>\n'
        '<body>\n<a class="skip-link" href="#main-content">Skip to main content</a>\n'
        # bd-header / bd-sidebar-primary: the classes of the book theme's navigation that
        # the SCORM/cmi5 unit reader hides in the LMS frame (its bar is the one navigation).
        f'<header class="site-header bd-header"><p class="site-title">'
        f'<a href="{up}index.html">{site_title}</a></p></header>\n'
        f'<nav class="site-nav bd-sidebar-primary" aria-label="Course contents">'
        f"{''.join(links)}</nav>\n"
        f'<main id="main-content" tabindex="-1"><article>\n<h1>{html.escape(title)}</h1>\n'
        f"{body}\n</article></main>\n"
        "</body>\n</html>\n"
    )


def _write_print_page(course: Course, site: MystSite, target: Path, warnings: list[str]) -> None:
    """Every page, in reading order, as one page (links and media from the site's root)."""
    media = _media_names(site.folder / "public")
    parts = []
    for page in course.pages:
        data = site.pages.get(page.path)
        if data is None:
            continue
        body, title = _page_body(page.path, "print", data, site, media, warnings, course)
        parts.append(f'<section class="print-page"><h2>{html.escape(title)}</h2>{body}</section>')
    macros: dict[str, Any] = {}
    for page in course.pages:
        macros.update(_macros((site.pages.get(page.path) or {}).get("frontmatter") or {}))
    text = _page_html(course, "print", _title(course), "\n".join(parts), [], macros)
    target.write_text(text, encoding="utf-8")


def _macros(front: Mapping[str, Any]) -> dict[str, Any]:
    """The page's maths macros (`math:` of myst.yml and of its front matter, merged by
    mystmd) for MathJax: `\\RR: \\mathbb{R}` → `RR: "\\mathbb{R}"`, with its number
    of arguments when it takes some (`#1`…)."""
    out: dict[str, Any] = {}
    math = front.get("math")
    for name, value in math.items() if isinstance(math, Mapping) else ():
        body = value.get("macro") if isinstance(value, Mapping) else value
        if not isinstance(body, str) or not str(name).startswith("\\"):
            continue
        args = max((int(n) for n in re.findall(r"#([1-9])", body)), default=0)
        out[str(name)[1:]] = [body, args] if args else body
    return out
