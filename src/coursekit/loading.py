"""Files → `Course`. Every problem met while reading becomes a finding; nothing raises.

`load_course` is the only entry point. It reads `_config.yml`, `_toc.yml`, each
`modules/NN-slug/module.yml` and the bibliography, and returns the frozen model
plus the findings about the files' own shape (parse errors, types, keys, TOC
targets). Finer checks on what the files say live in `coursekit.checks`.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coursekit import schema
from coursekit.findings import Finding, make
from coursekit.model import (
    PAGE_SUFFIXES,
    Bibliography,
    Config,
    Course,
    Module,
    Page,
    PageKind,
    ScormSettings,
    Toc,
    TocEntry,
)
from coursekit.schema import ANY, LIST, MAP, REQ_STR, STR, Field
from coursekit.yamlfile import Key, YamlDoc, read_text, read_yaml

CONFIG_FILE = "_config.yml"
TOC_FILE = "_toc.yml"
MODULES_DIR = "modules"
EXERCISES_DIR = "exercises"
MODULE_FILE = "module.yml"
QUIZ_FILE = "quiz.yml"  # a module's quiz, beside its module.yml
MODULE_FOLDER = re.compile(r"^(\d{2})-([a-z0-9]+(?:-[a-z0-9]+)*)$")

INT = Field((int,), describe="a whole number")
NUMBER = Field((int, float), describe="a number")
SCALAR = Field((str, int, float), describe="a string")

# Jupyter Book 1.x's own top-level keys, plus our `coursekit` section.
CONFIG_SPEC: schema.Spec = {
    "title": REQ_STR,
    "author": REQ_STR,
    "copyright": SCALAR,
    "logo": STR,
    "exclude_patterns": LIST,
    "only_build_toc_files": ANY,
    "parse": MAP,
    "execute": MAP,
    "html": MAP,
    "bibtex_bibfiles": LIST,
    "latex": MAP,
    "launch_buttons": MAP,
    "repository": MAP,
    "sphinx": MAP,
    "description": STR,
    "coursekit": MAP,
}
COURSEKIT_SPEC: schema.Spec = {
    "id": STR,
    "description": STR,
    "language": STR,
    "version": SCALAR,
    "scorm": MAP,
}
SCORM_SPEC: schema.Spec = {"versions": LIST, "mastery_score": NUMBER, "packages": LIST}

# module.yml. Other features add their keys here (e.g. the quiz).
MODULE_SPEC: dict[str, Field] = {
    "id": STR,
    "title": REQ_STR,
    "summary": REQ_STR,
    "objectives": ANY,
    "duration": ANY,
}

TOC_ROOT_SPEC: schema.Spec = {
    "format": REQ_STR,
    "root": REQ_STR,
    "parts": LIST,
    "chapters": LIST,
    "sections": LIST,
    "defaults": MAP,
    "options": MAP,
}
TOC_PART_SPEC: schema.Spec = {
    "caption": STR,
    "chapters": LIST,
    "numbered": ANY,
    "maxdepth": INT,
    "titlesonly": ANY,
    "reversed": ANY,
}
TOC_ENTRY_KINDS = ("file", "glob", "url")
TOC_ENTRY_KEYS = {
    "file",
    "glob",
    "url",
    "title",
    "sections",
    "numbered",
    "maxdepth",
    "titlesonly",
    "reversed",
    "caption",
    "parts",
    "chapters",
}


@dataclass(frozen=True, slots=True)
class LoadResult:
    course: Course
    findings: tuple[Finding, ...]


def load_course(root: Path) -> LoadResult:
    """Read the course at `root`; never raises for a bad course."""
    root = root.resolve()
    findings: list[Finding] = []
    if not root.is_dir():
        findings.append(make("CK100", str(root), 0, 0, "not a folder; give the course folder"))
        return LoadResult(Course(root, None, None), tuple(findings))
    config = _load_config(root, findings)
    toc = _load_toc(root, findings)
    pages = _pages(toc)
    modules = _load_modules(root, pages, findings)
    bib = _load_bibliography(root, config, findings)
    course = Course(root, config, toc, modules, pages, bib)
    return LoadResult(course, tuple(findings))


# ---------------------------------------------------------------- _config.yml


def _load_config(root: Path, findings: list[Finding]) -> Config | None:
    if not (root / CONFIG_FILE).is_file():
        findings.append(
            make(
                "CK100",
                CONFIG_FILE,
                0,
                0,
                "no _config.yml here; is this the course folder? "
                "(`coursekit new module` needs one too)",
            )
        )
        return None
    doc = read_yaml(root, CONFIG_FILE, findings)
    if doc is None:
        return None
    data = schema.expect_mapping(doc, (), doc.data, CONFIG_FILE, findings)
    if data is None:
        return None
    top = schema.validate(doc, (), data, CONFIG_SPEC, CONFIG_FILE, findings)
    ck = _section(doc, ("coursekit",), top.get("coursekit", {}), COURSEKIT_SPEC, findings)
    sc = _section(doc, ("coursekit", "scorm"), ck.get("scorm", {}), SCORM_SPEC, findings)
    title = top.get("title", "Untitled course")
    execute = top.get("execute", {})
    timeout = execute.get("timeout", 120)
    return Config(
        path=CONFIG_FILE,
        title=title,
        author=top.get("author", ""),
        course_id=ck.get("id") or _slug(title),
        description=ck.get("description", top.get("description", "")),
        language=ck.get("language", "en"),
        version=str(ck.get("version", "1.0")),
        execute_timeout=timeout if isinstance(timeout, int) and timeout > 0 else 120,
        scorm=_scorm_settings(doc, sc, findings),
        raw=data,
    )


def _section(
    doc: YamlDoc, keys: tuple[Key, ...], value: Any, spec: schema.Spec, findings: list[Finding]
) -> dict[str, Any]:
    what = ".".join(map(str, keys))
    return schema.validate(doc, keys, value, spec, what, findings) if value else {}


def _scorm_settings(doc: YamlDoc, sc: dict[str, Any], findings: list[Finding]) -> ScormSettings:
    versions = tuple(str(v) for v in sc.get("versions", ("1.2", "2004")))
    bad = [v for v in versions if v not in ("1.2", "2004")]
    if bad or not versions:
        findings.append(
            doc.finding(
                "CK102",
                f"coursekit.scorm.versions must list '1.2' and/or '2004', got {bad}",
                "coursekit",
                "scorm",
                "versions",
            )
        )
        versions = tuple(v for v in versions if v in ("1.2", "2004")) or ("1.2", "2004")
    mastery = sc.get("mastery_score", 80)
    if not 0 <= mastery <= 100:
        findings.append(
            doc.finding(
                "CK102",
                f"coursekit.scorm.mastery_score must be 0–100, got {mastery}",
                "coursekit",
                "scorm",
                "mastery_score",
            )
        )
        mastery = 80
    packages = tuple(str(v) for v in sc.get("packages", ("multi", "single")))
    if not packages or any(p not in ("multi", "single") for p in packages):
        findings.append(
            doc.finding(
                "CK102",
                f"coursekit.scorm.packages must list 'multi' and/or 'single', got {list(packages)}",
                "coursekit",
                "scorm",
                "packages",
            )
        )
        packages = tuple(p for p in packages if p in ("multi", "single")) or ("multi", "single")
    return ScormSettings(versions=versions, mastery_score=int(mastery), packages=packages)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "course"


# ------------------------------------------------------------------ _toc.yml


@dataclass
class _TocWalk:
    """State shared while walking the TOC: where each file was first listed."""

    root: Path
    doc: YamlDoc
    findings: list[Finding]
    seen: dict[str, tuple[int, int]]
    real_dirs: dict[str, str] = field(default_factory=dict)  # folder → its real path


def _load_toc(root: Path, findings: list[Finding]) -> Toc | None:
    if not (root / TOC_FILE).is_file():
        findings.append(
            make(
                "CK100", TOC_FILE, 0, 0, "no _toc.yml here; Jupyter Book needs it to know the pages"
            )
        )
        return None
    doc = read_yaml(root, TOC_FILE, findings)
    if doc is None:
        return None
    data = schema.expect_mapping(doc, (), doc.data, TOC_FILE, findings)
    if data is None:
        return None
    top = schema.validate(doc, (), data, TOC_ROOT_SPEC, TOC_FILE, findings)
    fmt = top.get("format")
    if fmt is not None and fmt not in ("jb-book", "jb-article"):
        line, col = doc.where("format")
        findings.append(
            make(
                "CK102",
                TOC_FILE,
                line,
                col,
                f"format must be 'jb-book' or 'jb-article', got {fmt!r}",
            )
        )
    walk = _TocWalk(root, doc, findings, {})
    root_entry = None
    if "root" in top:
        root_entry = _file_entry(walk, ("root",), top["root"], (), {})
    # The root is in `walk.seen`, so listing it again is reported as a duplicate (CK111).
    ancestors: tuple[str, ...] = ()
    parts: list[tuple[str | None, tuple[TocEntry, ...]]] = []
    if "parts" in top:
        for i, part in enumerate(top["parts"]):
            pdata = schema.expect_mapping(doc, ("parts", i), part, "a TOC part", findings)
            if pdata is None:
                continue
            valid = schema.validate(doc, ("parts", i), pdata, TOC_PART_SPEC, "a TOC part", findings)
            chapters = _entries(
                walk, ("parts", i, "chapters"), valid.get("chapters", []), ancestors
            )
            parts.append((valid.get("caption"), chapters))
    for key in ("chapters", "sections"):
        if key in top:
            parts.append((None, _entries(walk, (key,), top[key], ancestors)))
    return Toc(TOC_FILE, root_entry, tuple(parts))


def _entries(
    walk: _TocWalk, keys: tuple[Key, ...], items: list[Any], ancestors: tuple[str, ...]
) -> tuple[TocEntry, ...]:
    out = []
    for i, item in enumerate(items):
        entry = _entry(walk, (*keys, i), item, ancestors)
        if entry is not None:
            out.append(entry)
    return tuple(out)


def _entry(
    walk: _TocWalk, keys: tuple[Key, ...], item: Any, ancestors: tuple[str, ...]
) -> TocEntry | None:
    doc, findings = walk.doc, walk.findings
    line, col = doc.where(*keys)
    if not isinstance(item, dict):
        findings.append(
            make(
                "CK114",
                doc.path,
                line,
                col,
                "a TOC entry must be a mapping with one of file, glob or url, "
                f"got {schema.type_name(item)}",
            )
        )
        return None
    kinds = [k for k in TOC_ENTRY_KINDS if k in item]
    if len(kinds) != 1:
        found = ", ".join(map(str, item)) or "nothing"
        what = "more than one of" if kinds else "none of"
        findings.append(
            make(
                "CK114",
                doc.path,
                line,
                col,
                f"a TOC entry needs exactly one of file, glob or url; it has "
                f"{what} them (keys: {found})",
            )
        )
        return None
    for name in item:
        if name not in TOC_ENTRY_KEYS:
            kl, kc = doc.where(*keys, name, key=True)
            findings.append(make("CK103", doc.path, kl, kc, f"unknown key {name!r} in a TOC entry"))
    kind, target = kinds[0], item[kinds[0]]
    if not isinstance(target, str) or not target.strip():
        tl, tc = doc.where(*keys, kind)
        findings.append(
            make(
                "CK102",
                doc.path,
                tl,
                tc,
                f"{kind!r} must be a non-empty string, got {schema.type_name(target)}",
            )
        )
        return None
    if kind == "url":
        return TocEntry("url", target, line, col, title=_str_or_none(item.get("title")))
    if kind == "glob":
        return _glob_entry(walk, keys, target, ancestors)
    return _file_entry(walk, (*keys, "file"), target, ancestors, item)


def _file_entry(
    walk: _TocWalk,
    keys: tuple[Key, ...],
    target: Any,
    ancestors: tuple[str, ...],
    item: dict[str, Any],
) -> TocEntry | None:
    doc, findings = walk.doc, walk.findings
    line, col = doc.where(*keys)
    if not isinstance(target, str) or not target.strip():
        findings.append(
            make(
                "CK102",
                doc.path,
                line,
                col,
                f"a TOC file must be a non-empty string, got {schema.type_name(target)}",
            )
        )
        return None
    path = _resolve(walk.root, target, doc.path, line, col, findings, walk.real_dirs)
    if path is not None:
        if path in ancestors:
            findings.append(
                make(
                    "CK116",
                    doc.path,
                    line,
                    col,
                    f"{target!r} is listed inside its own sections (a cycle); remove this entry",
                )
            )
            path = None
        elif path in walk.seen:
            fl, fc = walk.seen[path]
            findings.append(
                make(
                    "CK111",
                    doc.path,
                    line,
                    col,
                    f"{target!r} is already listed at {doc.path}:{fl}:{fc}; "
                    "a page can appear only once",
                )
            )
            path = None
        else:
            walk.seen[path] = (line, col)
    parent_keys = keys[:-1]
    children: tuple[TocEntry, ...] = ()
    sections = item.get("sections")
    if sections is not None:
        if isinstance(sections, list):
            inner = (*ancestors, path) if path else ancestors
            children = _entries(walk, (*parent_keys, "sections"), sections, inner)
        else:
            sl, sc = doc.where(*parent_keys, "sections")
            findings.append(
                make(
                    "CK102",
                    doc.path,
                    sl,
                    sc,
                    f"'sections' must be a list, got {schema.type_name(sections)}",
                )
            )
    return TocEntry("file", target, line, col, path, _str_or_none(item.get("title")), children)


def _glob_entry(
    walk: _TocWalk, keys: tuple[Key, ...], pattern: str, ancestors: tuple[str, ...]
) -> TocEntry:
    line, col = walk.doc.where(*keys, "glob")
    matches = []
    if _is_unsafe(pattern):
        walk.findings.append(
            make(
                "CK113",
                walk.doc.path,
                line,
                col,
                f"glob {pattern!r} reaches outside the course folder; "
                "write it relative to the course folder, without '..'",
            )
        )
    else:
        for suffix in PAGE_SUFFIXES:
            found = walk.root.glob(pattern + suffix)
            matches += [p.relative_to(walk.root).as_posix() for p in found]
    children = []
    for path in sorted(set(matches)):
        if path not in walk.seen and path not in ancestors:
            walk.seen[path] = (line, col)
            children.append(TocEntry("file", path, line, col, path))
    return TocEntry("glob", pattern, line, col, children=tuple(children))


def _is_unsafe(target: str) -> bool:
    return (
        target.startswith(("/", "\\"))
        or bool(re.match(r"^[A-Za-z]:[\\/]", target))
        or ".." in re.split(r"[\\/]", target)
    )


def _resolve(
    root: Path,
    target: str,
    where: str,
    line: int,
    col: int,
    findings: list[Finding],
    real_dirs: dict[str, str],
) -> str | None:
    """The page file `target` names (with suffix), or None with a finding."""
    if target.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:[\\/]", target):
        findings.append(
            make(
                "CK112",
                where,
                line,
                col,
                f"{target!r} is an absolute path; write it relative to the course "
                "folder, without a suffix",
            )
        )
        return None
    if ".." in re.split(r"[\\/]", target):
        findings.append(
            make(
                "CK113",
                where,
                line,
                col,
                f"{target!r} leads outside the course folder ('..'); move the file into the course",
            )
        )
        return None
    target = target.replace("\\", "/")
    suffix = posixpath.splitext(target)[1]
    candidates = [target] if suffix in PAGE_SUFFIXES else [target + s for s in PAGE_SUFFIXES]
    base = str(root)  # os.path on strings: a TOC may list thousands of files
    found = [c for c in candidates if os.path.isfile(os.path.join(base, c))]
    if not found:
        tried = " or ".join(candidates)
        findings.append(
            make("CK110", where, line, col, f"{target!r} names no file (looked for {tried})")
        )
        return None
    real = _realpath(base, found[0], real_dirs)
    if not real.startswith(base if base.endswith(os.sep) else base + os.sep):
        findings.append(
            make(
                "CK113",
                where,
                line,
                col,
                f"{found[0]!r} is a symlink leading outside the course folder "
                f"(to {real}); copy the file into the course",
            )
        )
        return None
    return found[0]


def _realpath(base: str, rel: str, real_dirs: dict[str, str]) -> str:
    """Where `base/rel` really is. Resolves each folder once per TOC: resolving every
    TOC file from scratch costs a system call per path component."""
    path = os.path.join(base, rel)
    if os.path.islink(path):
        return os.path.realpath(path)
    folder, name = os.path.split(path)
    if folder not in real_dirs:
        real_dirs[folder] = os.path.realpath(folder)
    return os.path.join(real_dirs[folder], name)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _pages(toc: Toc | None) -> tuple[Page, ...]:
    if toc is None:
        return ()
    pages = []
    for entry in toc.entries():
        if entry.kind == "file" and entry.path:
            kind = PageKind.NOTEBOOK if entry.path.endswith(".ipynb") else PageKind.MARKDOWN
            parts = entry.path.split("/")
            # A module's pages live in modules/NN-slug/ and its exercises in exercises/NN-slug/.
            in_module = len(parts) > 2 and parts[0] in (MODULES_DIR, EXERCISES_DIR)
            module = parts[1] if in_module else None
            pages.append(Page(entry.path, kind, entry.line, entry.col, module))
    return tuple(pages)


# ----------------------------------------------------------------- modules/


def _load_modules(
    root: Path, pages: tuple[Page, ...], findings: list[Finding]
) -> tuple[Module, ...]:
    base = root / MODULES_DIR
    if not base.is_dir():
        return ()
    modules: list[Module] = []
    for folder in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")):
        module = _load_module(root, folder.name, pages, findings)
        if module is not None:
            modules.append(module)
    return tuple(modules)


def _load_module(
    root: Path, folder: str, pages: tuple[Page, ...], findings: list[Finding]
) -> Module | None:
    rel = f"{MODULES_DIR}/{folder}/{MODULE_FILE}"
    match = MODULE_FOLDER.match(folder)
    if match is None:
        findings.append(
            make(
                "CK124",
                f"{MODULES_DIR}/{folder}",
                0,
                0,
                f"module folder {folder!r} must be named NN-slug "
                "(two digits, a dash, lowercase words joined by dashes)",
            )
        )
        return None
    if not (root / rel).is_file():
        findings.append(
            make(
                "CK123",
                f"{MODULES_DIR}/{folder}",
                0,
                0,
                f"no {MODULE_FILE} in this module folder; `coursekit new module` writes one",
            )
        )
        return None
    doc = read_yaml(root, rel, findings)
    data = schema.expect_mapping(doc, (), doc.data, rel, findings) if doc else None
    if doc is None or data is None:
        return None
    valid = schema.validate(doc, (), data, MODULE_SPEC, rel, findings)
    core = {"id", "title", "summary", "objectives", "duration"}
    quiz = f"{MODULES_DIR}/{folder}/{QUIZ_FILE}"
    return Module(
        folder=folder,
        number=int(match.group(1)),
        id=valid.get("id") or match.group(2),
        title=valid.get("title", folder),
        summary=valid.get("summary", ""),
        objectives=_objectives(doc, valid, findings),
        duration=_duration(doc, data, findings),
        yaml_path=rel,
        quiz=quiz if (root / quiz).is_file() else None,
        id_pos=doc.where("id") if "id" in valid else (1, 1),
        pages=tuple(p for p in pages if p.module == folder),
        extra={k: v for k, v in valid.items() if k not in core},
    )


def _objectives(doc: YamlDoc, valid: dict[str, Any], findings: list[Finding]) -> tuple[str, ...]:
    value = valid.get("objectives")
    if not isinstance(value, list) or not value:
        line, col = doc.where("objectives") if "objectives" in valid else doc.where()
        got = "nothing" if "objectives" not in valid else schema.type_name(value)
        if isinstance(value, list):
            got = "an empty list"
        findings.append(
            make(
                "CK121",
                doc.path,
                line,
                col,
                f"learning objectives must be a non-empty list of sentences, got {got}",
            )
        )
        return ()
    good = []
    for i, item in enumerate(value):
        if isinstance(item, str) and item.strip():
            good.append(item.strip())
        else:
            line, col = doc.where("objectives", i)
            got = "an empty string" if isinstance(item, str) else schema.type_name(item)
            findings.append(
                make(
                    "CK121",
                    doc.path,
                    line,
                    col,
                    f"objective {i + 1} must be a non-empty sentence, got {got}",
                )
            )
    return tuple(good)


def _duration(doc: YamlDoc, data: dict[str, Any], findings: list[Finding]) -> int | None:
    if "duration" not in data:
        findings.append(
            doc.finding(
                "CK104",
                f"{doc.path} is missing the required key 'duration' (minutes)",
            )
        )
        return None
    value = data["duration"]
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    findings.append(
        doc.finding(
            "CK122",
            f"duration must be a positive whole number of minutes, got {value!r}",
            "duration",
        )
    )
    return None


# ------------------------------------------------------------ references.bib

BIB_KEY = re.compile(r"@\s*(\w+)\s*[{(]\s*([^,\s]+)\s*,")


def _load_bibliography(
    root: Path, config: Config | None, findings: list[Finding]
) -> Bibliography | None:
    listed = config.raw.get("bibtex_bibfiles") if config else None
    # A non-list value was already reported (CK102); do not iterate a string's letters.
    files = listed if isinstance(listed, list) and listed else ["references.bib"]
    keys: set[str] = set()
    first = None
    for rel in files:
        if not isinstance(rel, str) or not (root / rel).is_file():
            continue
        first = first or rel
        text = read_text(root, rel, findings)
        if text is not None:
            keys |= {
                m.group(2)
                for m in BIB_KEY.finditer(text)
                if m.group(1).lower() not in ("comment", "preamble", "string")
            }
    return Bibliography(first, frozenset(keys)) if first else None
