"""`myst.yml` → `Config` and `Toc`: a Jupyter Book 2 (mystmd) project read into the same model.

A Jupyter Book 2 project has one file, `myst.yml`, where Jupyter Book 1.x had two
(`_config.yml`, `_toc.yml`). Its `project:` section gives the metadata (`title`,
`id`, `authors`), the bibliography (`bibliography:`; without it, as mystmd, every
`.bib` file of the project), what is not part of the book
(`exclude:`, as `_config.yml`'s `exclude_patterns`) and the TOC (`toc:`, a list of
`{file}`, `{title, children}`, `{url, title}` and `{pattern}` entries, any of them
with `children`; without `toc:`, the one mystmd makes from the folder, see
`implicit_toc`). coursekit's own settings sit in a top-level `coursekit:` section
(the same keys as under `_config.yml`'s `coursekit:`); mystmd 1.11 accepts it with a
one-line "extra key ignored" notice, and coursekit's own builds hand mystmd a copy
without it. mystmd's `error_rules` that ignore a rule waive coursekit's finding for
the same thing (`link-resolves` → CK301), and pages are read as mystmd reads them
(`markdown.MYSTMD`: `@key` citations, front-matter titles).

The TOC becomes the model's `Toc` as a `_toc.yml` with the same shape would: the
first `{file}` entry is the root; top-level `{title, children}` entries are parts
(so, by default, units), and top-level files between them form caption-less parts;
without any such group, each top-level entry after the root is a chapter. Findings
use the `_toc.yml` codes (CK110 missing file, CK111 listed twice, CK112/CK113 paths,
CK114 entry type), placed where `myst.yml` writes them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from coursekit.execute.settings import ExecuteSettings
from coursekit.findings import Finding, make
from coursekit.formats import schema
from coursekit.formats.frozen import freeze
from coursekit.formats.schema import ANY, LIST, MAP, STR, Field
from coursekit.formats.yamlfile import Key, YamlDoc, read_yaml
from coursekit.loading import config as jb1
from coursekit.loading.cmi5 import cmi5_settings
from coursekit.loading.markdown import MYSTMD
from coursekit.loading.toc import _is_unsafe, _resolve, _TocWalk
from coursekit.model import PAGE_SUFFIXES, Config, Toc, TocEntry, TocPart, Waiver

MYST_FILE = "myst.yml"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
TOP_SPEC: schema.Spec = {
    "version": Field((int,), describe="a whole number"),
    "project": MAP,
    "site": MAP,
    "extends": ANY,
    "coursekit": MAP,
}
# mystmd's project keys are many; only those coursekit reads are typed here.
PROJECT_SPEC: schema.Spec = {
    "title": STR,
    "id": Field((str, int), describe="a string"),
    "authors": ANY,
    "bibliography": Field((list, str), describe="a list of .bib files"),
    "toc": LIST,
    "exclude": LIST,
    "description": STR,
    "language": STR,
    "error_rules": LIST,
}
ENTRY_KINDS = ("file", "url", "pattern")
# The MyST syntax mystmd always reads (myst-parser's names), and `MYSTMD`: read as mystmd.
MYSTMD_EXTENSIONS = ("colon_fence", "dollarmath", "amsmath", "deflist", MYSTMD)


def is_myst_project(root: Path) -> bool:
    """Whether `root` is a Jupyter Book 2 project: `myst.yml` and no `_config.yml`."""
    return (root / MYST_FILE).is_file() and not (root / jb1.CONFIG_FILE).is_file()


def load_myst_project(
    root: Path, findings: list[Finding]
) -> tuple[Config | None, YamlDoc | None, Toc | None]:
    """The configuration, its YAML document and the TOC of the project at `root`."""
    doc = read_yaml(root, MYST_FILE, findings)
    if doc is None:
        return None, None, None
    data = schema.expect_mapping(doc, (), doc.data, MYST_FILE, findings)
    if data is None:
        return None, doc, None
    top = _validate(doc, (), data, TOP_SPEC, findings)
    project = _validate(doc, ("project",), top.get("project", {}), PROJECT_SPEC, findings)
    config = _config(root, doc, data, top, project, findings)
    if "toc" in project:
        return config, doc, _toc(root, doc, project["toc"], findings)
    items = implicit_toc(root, project.get("exclude", []))
    if not items:
        msg = (
            "myst.yml has no project.toc and the folder has no page (.md, .ipynb) for "
            "mystmd to list; add pages, or a project.toc naming them"
        )
        findings.append(doc.finding("CK100", msg, "project"))
        return config, doc, None
    return config, doc, _toc(root, doc, items, findings)


def _validate(
    doc: YamlDoc, keys: tuple[Key, ...], value: Any, spec: schema.Spec, findings: list[Finding]
) -> dict[str, Any]:
    """Typed keys checked; unknown keys are mystmd's business, so not reported here."""
    if not isinstance(value, dict):
        return {}
    known = {k: v for k, v in value.items() if k in spec}
    what = ".".join(map(str, keys)) or MYST_FILE
    return schema.validate(doc, keys, known, spec, what, findings)


def _config(
    root: Path,
    doc: YamlDoc,
    data: dict[str, Any],
    top: dict[str, Any],
    project: dict[str, Any],
    findings: list[Finding],
) -> Config:
    ck = jb1._section(doc, ("coursekit",), top.get("coursekit", {}), jb1.COURSEKIT_SPEC, findings)
    sc = jb1._section(doc, ("coursekit", "scorm"), ck.get("scorm", {}), jb1.SCORM_SPEC, findings)
    title = project.get("title") or jb1._title_from_folder(root)
    given = project.get("id")
    # `myst init` writes a random UUID as the id: no name for a package, so the title's slug.
    if "id" not in ck and isinstance(given, str) and not UUID.fullmatch(given):
        ck = {**ck, "id": jb1.slug(given)}
    if "bibliography" in project:
        bib = project["bibliography"]
        bibs = [bib] if isinstance(bib, str) else list(bib)
    else:  # as mystmd: every .bib file of the project
        bibs = _bib_files(root, project.get("exclude", []))
    raw = dict(data)
    raw["bibtex_bibfiles"] = bibs
    return Config(
        path=MYST_FILE,
        title=title,
        author=_authors(project.get("authors")),
        course_id=jb1._course_id(doc, ck, title, findings),
        description=ck.get("description", project.get("description", "")),
        language=ck.get("language", project.get("language", "en")),
        version=str(ck.get("version", "1.0")),
        # As Jupyter Book 1.x's default (`auto`): a notebook with a code cell lacking
        # outputs (a MyST Markdown notebook has none) runs in coursekit's execute stage,
        # and the book is handed the result. A `.md` page is a notebook by mystmd's rule
        # (`MYSTMD`: a kernelspec in its front matter suffices), read with its extensions.
        execute=ExecuteSettings(mode="auto", myst_extensions=MYSTMD_EXTENSIONS),
        scorm=jb1._scorm_settings(doc, sc, findings),
        cmi5=cmi5_settings(doc, ck.get("cmi5"), findings),
        pdf=jb1._pdf_settings(doc, ck.get("pdf", {}), findings),
        myst_extensions=frozenset(MYSTMD_EXTENSIONS),
        exclude_patterns=tuple(p for p in project.get("exclude", []) if isinstance(p, str)),
        units_from=jb1._units_from(doc, ck, findings),
        ignore=jb1._codes(doc, ("coursekit", "ignore"), ck.get("ignore", []), findings),
        waivers=(
            *jb1._waivers(doc, ck.get("per_file_ignores", {}), findings),
            *jb1._narrow_waivers(doc, ck.get("waivers", []), findings),
            *_error_rules(project.get("error_rules", [])),
        ),
        read_outside=jb1._read_outside(root, doc, ck.get("read_outside", []), findings),
        raw=freeze(raw),
    )


def _bib_files(root: Path, exclude: Any) -> list[str]:
    """The .bib files mystmd reads when `project.bibliography` is not set: all in the
    project, hidden folders, `node_modules`, `_build` and `exclude` patterns left out."""
    skipped = {p.resolve() for p in _excluded(root, exclude)}
    found = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and d not in ("node_modules", "_build")
            and (here / d).resolve() not in skipped
        )
        for name in sorted(files):
            if name.endswith(".bib") and (here / name).resolve() not in skipped:
                found.append((here / name).relative_to(root).as_posix())
    return found


def _excluded(root: Path, exclude: Any) -> set[Path]:
    """The paths `project.exclude`'s glob patterns match (unsafe patterns ignored)."""
    skipped: set[Path] = set()
    for pattern in exclude if isinstance(exclude, list) else ():
        if isinstance(pattern, str) and not _is_unsafe(pattern):
            skipped.update(root.glob(pattern))
    return skipped


# mystmd's `error_rules` that silence what a coursekit finding also reports.
ERROR_RULES = {"link-resolves": "CK301"}


def _error_rules(rules: list[Any]) -> list[Waiver]:
    """`project.error_rules` with `severity: ignore`: the same findings waived (for the
    `keys` given, else everywhere), as mystmd silences them."""
    waivers = []
    for rule in rules:
        if not isinstance(rule, dict) or rule.get("severity") != "ignore":
            continue
        code = ERROR_RULES.get(str(rule.get("rule")))
        given = rule.get("keys")
        keys: list[Any] = given if isinstance(given, list) else [rule.get("key")]
        for key in keys:
            if code is not None and (key is None or isinstance(key, str)):
                waivers.append(Waiver("*", (code,), key or ""))
    return waivers


def _authors(value: Any) -> str:
    """`authors` as one line: a string, or a list of names or of `{name: …}` entries."""
    if isinstance(value, str):
        return value
    names = []
    for a in value if isinstance(value, list) else ():
        name = a.get("name") if isinstance(a, dict) else a
        if isinstance(name, dict):  # {given, family}
            name = " ".join(str(name.get(k, "")) for k in ("given", "family")).strip()
        if isinstance(name, str) and name:
            names.append(name)
    return ", ".join(names)


# ------------------------------------------------------------------------ the TOC

# mystmd's rules for a project without `project.toc` (myst-cli's `projectFromPath`).
INDEX_NAMES = ("index", "readme", "main")
IMPLICIT_SUFFIXES = (".md", ".ipynb")
CONFIG_FILES = (MYST_FILE, "myst.yaml")


def implicit_toc(root: Path, exclude: Any) -> list[Any]:
    """The TOC mystmd builds when `myst.yml` has none, as `project.toc` items: the
    index page first (`index`, `readme` or `main`, else the first `.md`, then the first
    notebook), the folder's other pages, then each sub-folder as a `{title, children}`
    group titled from its name. Hidden folders, `_build`, `node_modules`, `exclude`
    patterns and folders holding their own `myst.yml` are left out; names sort as
    mystmd sorts them (numbers by value, punctuation ignored, index pages first)."""
    skipped = {root / name for name in CONFIG_FILES} | _excluded(root, exclude)
    items = _folder_items(root, root, skipped)
    files = [i for i in items if "file" in i]
    index = _index_of(files)
    if index is None:
        return []
    return [index, *(i for i in items if i is not index)]


def _folder_items(root: Path, folder: Path, skipped: set[Path]) -> list[dict[str, Any]]:
    try:
        entries = sorted(folder.iterdir(), key=_mystmd_order)
    except OSError:
        return []
    if folder != root and any((folder / name).is_file() for name in CONFIG_FILES):
        return []
    entries = [
        e
        for e in entries
        if not e.name.startswith(".")
        and e.name not in ("_build", "node_modules")
        and e not in skipped
    ]
    files: list[dict[str, Any]] = [
        {"file": e.relative_to(root).as_posix()}
        for e in entries
        if e.is_file() and e.suffix.lower() in IMPLICIT_SUFFIXES
    ]
    groups: list[dict[str, Any]] = []
    for sub in (e for e in entries if e.is_dir()):
        children = _folder_items(root, sub, skipped)
        if children:
            groups.append({"title": _title_from_name(sub.name), "children": children})
    return files + groups


def _index_of(files: list[dict[str, Any]]) -> dict[str, Any] | None:
    top = [f for f in files if "/" not in f["file"]]
    for suffix in (".md", ".ipynb"):
        for name in INDEX_NAMES:
            for f in top:
                if f["file"].lower() == name + suffix:
                    return f
    for suffix in (".md", ".ipynb"):
        for f in top:
            if f["file"].lower().endswith(suffix):
                return f
    return None


def _mystmd_order(path: Path) -> tuple[bool, list[tuple[int, int | str]]]:
    """Sort key of mystmd's `comparePaths` in one folder: index pages first, then a
    natural order (`2-a` before `10-a`) that ignores punctuation and case."""
    name = path.name.lower()
    is_index = any(name == n + s for n in INDEX_NAMES for s in IMPLICIT_SUFFIXES)
    chunks = re.findall(r"\d+|[^\W\d_]+", name)
    return (not is_index, [(0, int(c)) if c.isdigit() else (1, c) for c in chunks])


def _title_from_name(name: str) -> str:
    """A folder's title as mystmd's `createTitle`: leading numbering dropped, `-`, `_`
    and camel case as spaces, each word capitalised."""
    bare = re.sub(r"^\d+[.\-_ ]*", "", name) or name
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", bare).replace("_", " ").replace("-", " ")
    return " ".join(w[:1].upper() + w[1:] for w in words.split())


def _toc(root: Path, doc: YamlDoc, items: list[Any], findings: list[Finding]) -> Toc:
    walk = _TocWalk(root, doc, findings, {}, PAGE_SUFFIXES)
    base: tuple[Key, ...] = ("project", "toc")
    entries = [(i, _entry(walk, (*base, i), item, ())) for i, item in enumerate(items)]
    found = [(i, e) for i, e in entries if e is not None]
    root_entry = None
    if found and found[0][1].kind == "file" and found[0][1].path and not found[0][1].children:
        root_entry = found.pop(0)[1]
    groups = [e for _i, e in found if e.kind == "file" and e.path is None and e.children]
    parts: list[TocPart] = []
    if groups:
        loose: list[tuple[int, TocEntry]] = []
        for i, e in found:
            if e in groups:
                if loose:
                    parts.append(_part(doc, None, loose))
                    loose = []
                parts.append(TocPart(e.title, e.children, *doc.where(*base, i)))
            else:
                loose.append((i, e))
        if loose:
            parts.append(_part(doc, None, loose))
    elif found:
        parts.append(_part(doc, None, found))
    return Toc(MYST_FILE, root_entry, tuple(parts), "jb-book", bool(groups))


def _part(doc: YamlDoc, caption: str | None, items: list[tuple[int, TocEntry]]) -> TocPart:
    line, col = doc.where("project", "toc", items[0][0])
    return TocPart(caption, tuple(e for _i, e in items), line, col)


def _entry(
    walk: _TocWalk, keys: tuple[Key, ...], item: Any, ancestors: tuple[str, ...]
) -> TocEntry | None:
    doc, findings = walk.doc, walk.findings
    line, col = doc.where(*keys)
    if not isinstance(item, dict):
        msg = (
            "a TOC entry must be a mapping with file, url, pattern or title and children, "
            f"got {schema.type_name(item)}"
        )
        findings.append(make("CK114", doc.path, line, col, msg))
        return None
    kinds = [k for k in ENTRY_KINDS if k in item]
    title = item.get("title") if isinstance(item.get("title"), str) else None
    if len(kinds) > 1 or (not kinds and "children" not in item):
        found = ", ".join(map(str, item)) or "nothing"
        msg = (
            "a TOC entry needs one of file, url or pattern, or a title with children "
            f"(keys: {found})"
        )
        findings.append(make("CK114", doc.path, line, col, msg))
        return None
    kind = kinds[0] if kinds else None
    target = item.get(kind) if kind else None
    if kind and (not isinstance(target, str) or not target.strip()):
        msg = f"{kind!r} must be a non-empty string, got {schema.type_name(target)}"
        findings.append(doc.finding("CK102", msg, *keys, kind))
        return None
    assert target is None or isinstance(target, str)
    if kind == "url":
        return TocEntry("url", target or "", line, col, title=title)
    if kind == "pattern":
        return _pattern(walk, keys, target or "", ancestors)
    path = None
    if kind == "file":
        fl, fc = doc.where(*keys, "file")
        path = _resolve(walk, target or "", fl, fc)
        if path is not None and path in walk.seen:
            sl, sc = walk.seen[path]
            msg = (
                f"{target!r} is already listed at {doc.path}:{sl}:{sc}; a page can appear only once"
            )
            findings.append(make("CK111", doc.path, fl, fc, msg))
            path = None
        elif path is not None:
            walk.seen[path] = (fl, fc)
    children: tuple[TocEntry, ...] = ()
    kids = item.get("children")
    if isinstance(kids, list):
        inner = (*ancestors, path) if path else ancestors
        out = [_entry(walk, (*keys, "children", j), k, inner) for j, k in enumerate(kids)]
        children = tuple(e for e in out if e is not None)
    elif kids is not None:
        msg = f"'children' must be a list, got {schema.type_name(kids)}"
        findings.append(doc.finding("CK102", msg, *keys, "children"))
    if kind is None:  # a {title, children} group: no page of its own
        return TocEntry("file", "", line, col, None, title, children)
    return TocEntry("file", target or "", line, col, path, title, children)


def _pattern(
    walk: _TocWalk, keys: tuple[Key, ...], pattern: str, ancestors: tuple[str, ...]
) -> TocEntry:
    line, col = walk.doc.where(*keys, "pattern")
    matches: set[str] = set()
    if _is_unsafe(pattern):
        msg = f"pattern {pattern!r} reaches outside the project folder; write it without '..'"
        walk.findings.append(make("CK113", walk.doc.path, line, col, msg))
    else:
        for p in walk.root.glob(pattern):
            rel = p.relative_to(walk.root).as_posix()
            if p.is_file() and p.suffix in walk.suffixes and not rel.startswith("_build/"):
                matches.add(rel)
    children = []
    for path in sorted(matches):
        if path not in walk.seen and path not in ancestors:
            walk.seen[path] = (line, col)
            children.append(TocEntry("file", path, line, col, path))
    return TocEntry("glob", pattern, line, col, children=tuple(children))
