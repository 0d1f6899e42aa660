"""The units of a course (one SCO / AU each), from the book's own TOC.

Which TOC groups are units (`coursekit.units_from`, default `auto`):

- `parts`: each part of a `jb-book` (auto, when the TOC has `parts:`);
- `chapters`: each top-level chapter with its sections (auto, for a `jb-book`
  with bare `chapters:`);
- `book`: the whole book is one unit (auto, for a `jb-article`).

A unit is described by a `module.yml` in the folder of its first page, or by an
entry of `coursekit.units` in `_config.yml` keyed by its first page (without
suffix). The description gives its id, title, summary, objectives, duration, quiz
and pass mark. When some groups are described, only those are units (a
"Reference" part stays in the book but is no SCO); when none is, every group is.
`modules/` is coursekit's own layout only where it holds `module.yml` files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from coursekit.findings import Finding, make
from coursekit.formats import schema
from coursekit.formats.schema import ANY, REQ_STR, STR, Field
from coursekit.formats.yamlfile import Key, YamlDoc, read_yaml
from coursekit.loading.config import slug
from coursekit.model import Config, Course, Page, QuizUse, Toc, TocEntry, Unit

MODULES_DIR = "modules"
MODULE_FILE = "module.yml"
QUIZ_FILE = "quiz.yml"  # a unit's quiz, beside its module.yml, unless it names another
MODULE_FOLDER = re.compile(r"^(\d{2})-([a-z0-9]+(?:-[a-z0-9]+)*)$")
UNIT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
NUMBER = Field((int, float), describe="a number")

# module.yml, and each entry of coursekit.units.
MODULE_SPEC: schema.Spec = {
    "id": STR,
    "title": REQ_STR,
    "summary": REQ_STR,
    "objectives": ANY,
    "duration": ANY,
    "quiz": STR,
    "mastery_score": NUMBER,
    "completion": ANY,
}
COMPLETIONS = ("pages", "quiz", "both")  # or a share of the pages, "80%"
SHARE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


@dataclass(frozen=True, slots=True)
class _Group:
    """A TOC group that may be a unit: its caption and page paths in reading order."""

    caption: str | None
    files: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Description:
    doc: YamlDoc
    keys: tuple[Key, ...]  # where the mapping is in `doc`
    data: dict[str, Any]
    folder: str | None  # the module folder under modules/, in coursekit's layout


def load_units(
    root: Path,
    toc: Toc | None,
    pages: dict[str, Page],
    config: Config | None,
    config_doc: YamlDoc | None,
    quiz_uses: tuple[QuizUse, ...],
    findings: list[Finding],
) -> tuple[tuple[Unit, ...], bool]:
    """The units, in reading order, and whether `modules/` is coursekit's layout."""
    groups = _groups(toc, config.units_from if config else "auto", config.title if config else None)
    layout = _module_layout(root)
    configured = _configured(config, config_doc, findings)
    described: list[tuple[_Group, _Description | None]] = []
    used: set[str] = set()
    for group in groups:
        first = group.files[0].rsplit(".", 1)[0]
        desc = configured.get(first) or _module_yml(root, group.files[0], findings)
        used.add(_module_yml_path(group.files[0]))  # described (or reported as unreadable)
        described.append((group, desc))
    if any(desc for _g, desc in described):
        described = [(g, d) for g, d in described if d is not None]
    units = [
        _unit(root, n, group, desc, pages, quiz_uses, findings)
        for n, (group, desc) in enumerate(described, start=1)
    ]
    if layout:
        findings.extend(_layout_problems(root, used))
    return _unique(units, findings), layout


# ------------------------------------------------------------------- the groups


def _groups(toc: Toc | None, units_from: str, title: str | None) -> list[_Group]:
    if toc is None:
        return []
    mode = units_from
    if mode == "auto":
        mode = "book" if toc.format == "jb-article" else "parts" if toc.has_parts else "chapters"
    if mode == "book":
        files = tuple(e.path for e in toc.entries() if e.kind == "file" and e.path)
        return [_Group(title, files)] if files else []  # the book's own title
    if mode == "parts":
        found = [_Group(p.caption, _files(p.chapters)) for p in toc.parts]
    else:
        found = [_Group(c.title, c.files()) for p in toc.parts for c in p.chapters]
    return [g for g in found if g.files]


def _files(entries: tuple[TocEntry, ...]) -> tuple[str, ...]:
    return tuple(path for entry in entries for path in entry.files())


def _module_layout(root: Path) -> bool:
    base = root / MODULES_DIR
    return base.is_dir() and any(base.glob(f"*/{MODULE_FILE}"))


# -------------------------------------------------------------- the descriptions


def _module_yml_path(first_page: str) -> str:
    folder = first_page.rsplit("/", 1)[0] if "/" in first_page else ""
    return f"{folder}/{MODULE_FILE}" if folder else MODULE_FILE


def _module_yml(root: Path, first_page: str, findings: list[Finding]) -> _Description | None:
    rel = _module_yml_path(first_page)
    folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
    if not (root / rel).is_file():
        return None
    doc = read_yaml(root, rel, findings)
    data = schema.expect_mapping(doc, (), doc.data, rel, findings) if doc else None
    if doc is None or data is None:
        return None
    parts = folder.split("/")
    module_folder = parts[1] if len(parts) == 2 and parts[0] == MODULES_DIR else None
    return _Description(doc, (), data, module_folder)


def _configured(
    config: Config | None, doc: YamlDoc | None, findings: list[Finding]
) -> dict[str, _Description]:
    """`coursekit.units` in `_config.yml`: first page (no suffix) → description."""
    # The YAML as read (plain dicts); the model keeps only a read-only copy.
    data = doc.data if config is not None and doc is not None else None
    section = data.get("coursekit") if isinstance(data, dict) else None
    units = section.get("units") if isinstance(section, dict) else None
    if doc is None or not isinstance(units, dict):
        return {}
    out = {}
    for key, value in units.items():
        keys: tuple[Key, ...] = ("coursekit", "units", key)
        data = schema.expect_mapping(doc, keys, value, f"coursekit.units[{key!r}]", findings)
        if data is not None:
            out[str(key).removesuffix(".md").removesuffix(".ipynb")] = _Description(
                doc, keys, data, None
            )
    return out


def _layout_problems(root: Path, used: set[str]) -> list[Finding]:
    """CK123/CK124/CK125 in coursekit's `modules/` layout."""
    found = []
    for folder in sorted(p for p in (root / MODULES_DIR).iterdir() if p.is_dir()):
        if folder.name.startswith((".", "_")):
            continue
        rel = f"{MODULES_DIR}/{folder.name}"
        yml = f"{rel}/{MODULE_FILE}"
        if not (folder / MODULE_FILE).is_file():
            if any(folder.glob("*.md")) or any(folder.glob("*.ipynb")):
                msg = f"no {MODULE_FILE} in this module folder; `coursekit new module` writes one"
                found.append(make("CK123", rel, 0, 0, msg))
            continue
        if MODULE_FOLDER.match(folder.name) is None:
            msg = (
                f"module folder {folder.name!r} should be named NN-slug "
                "(two digits, a dash, lowercase words joined by dashes)"
            )
            found.append(make("CK124", rel, 0, 0, msg))
        if yml not in used:
            msg = (
                "this module.yml describes no unit: no TOC part (or chapter) starts with a "
                "page in its folder; list the module's pages in _toc.yml"
            )
            found.append(make("CK125", yml, 1, 1, msg))
    return found


# --------------------------------------------------------------------- the unit


def _unit(
    root: Path,
    number: int,
    group: _Group,
    desc: _Description | None,
    pages: dict[str, Page],
    quiz_uses: tuple[QuizUse, ...],
    findings: list[Finding],
) -> Unit:
    unit_pages = tuple(pages[p] for p in group.files if p in pages)
    shown = _shown_quiz(group, quiz_uses)
    first = unit_pages[0] if unit_pages else None
    fallback_title = group.caption or (first.title if first else None) or group.files[0]
    if desc is None:
        return Unit(
            id=slug(fallback_title),
            number=number,
            title=fallback_title,
            pages=unit_pages,
            quiz=shown,
            source="toc",
        )
    doc, keys = desc.doc, desc.keys
    what = doc.path if not keys else ".".join(map(str, keys))
    valid = schema.validate(doc, keys, desc.data, MODULE_SPEC, what, findings)
    match = MODULE_FOLDER.match(desc.folder or "")
    default_id = match.group(2) if match else slug(desc.folder or fallback_title)
    return Unit(
        id=_unit_id(doc, keys, valid, default_id, findings),
        number=number,
        title=valid.get("title", fallback_title),
        pages=unit_pages,
        summary=valid.get("summary", ""),
        objectives=_objectives(doc, keys, valid, findings),
        objectives_pos=_objective_positions(doc, keys, valid),
        duration=_duration(doc, keys, desc.data, findings),
        mastery_score=_mastery(doc, keys, valid, findings),
        **_completion(doc, keys, valid, findings),
        yaml_path=doc.path,
        id_pos=doc.where(*keys, "id") if "id" in valid else doc.where(*keys),
        quiz=_quiz(root, doc, keys, valid, shown, findings),
        folder=desc.folder,
        source="config" if keys else "module.yml",
    )


def _shown_quiz(group: _Group, quiz_uses: tuple[QuizUse, ...]) -> str | None:
    files = set(group.files)
    return next((u.quiz for u in quiz_uses if u.page in files), None)


def _quiz(
    root: Path,
    doc: YamlDoc,
    keys: tuple[Key, ...],
    valid: dict[str, Any],
    shown: str | None,
    findings: list[Finding],
) -> str | None:
    """The unit's quiz: `quiz:` of its description, else quiz.yml beside module.yml,
    else the quiz one of its pages shows."""
    base = doc.path.rsplit("/", 1)[0] if "/" in doc.path and not keys else ""
    if "quiz" in valid:
        rel = f"{base}/{valid['quiz']}" if base else str(valid["quiz"])
        if (root / rel).is_file():
            return rel
        msg = f"quiz {valid['quiz']!r} names no file (looked for {rel})"
        findings.append(doc.finding("CK456", msg, *keys, "quiz"))
        return None
    beside = f"{base}/{QUIZ_FILE}" if base else None
    if beside and (root / beside).is_file():
        return beside
    return shown


def _unit_id(
    doc: YamlDoc,
    keys: tuple[Key, ...],
    valid: dict[str, Any],
    default: str,
    findings: list[Finding],
) -> str:
    given = valid.get("id")
    if given is None:
        return default
    if UNIT_ID.match(given) and ".." not in given:
        return str(given)
    msg = (
        "a unit id names SCORM items, files and saved progress, so it must be letters, "
        f"digits, '.', '_' and '-' only, got {given!r}"
    )
    findings.append(doc.finding("CK102", msg, *keys, "id"))
    return slug(given)


def _objectives(
    doc: YamlDoc, keys: tuple[Key, ...], valid: dict[str, Any], findings: list[Finding]
) -> tuple[str, ...]:
    value = valid.get("objectives")
    if not isinstance(value, list) or not value:
        got = "nothing" if "objectives" not in valid else schema.type_name(value)
        got = "an empty list" if isinstance(value, list) else got
        at = (*keys, "objectives") if "objectives" in valid else keys
        msg = f"learning objectives must be a non-empty list of sentences, got {got}"
        findings.append(doc.finding("CK121", msg, *at))
        return ()
    good = []
    for i, item in enumerate(value):
        if isinstance(item, str) and item.strip():
            good.append(item.strip())
        else:
            got = "an empty string" if isinstance(item, str) else schema.type_name(item)
            msg = f"objective {i + 1} must be a non-empty sentence, got {got}"
            findings.append(doc.finding("CK121", msg, *keys, "objectives", i))
    return tuple(good)


def _objective_positions(
    doc: YamlDoc, keys: tuple[Key, ...], valid: dict[str, Any]
) -> tuple[tuple[int, int], ...]:
    """Line and column of each objective `_objectives` keeps, in the same order."""
    value = valid.get("objectives")
    if not isinstance(value, list):
        return ()
    return tuple(
        doc.where(*keys, "objectives", i)
        for i, item in enumerate(value)
        if isinstance(item, str) and item.strip()
    )


def _duration(
    doc: YamlDoc, keys: tuple[Key, ...], data: dict[str, Any], findings: list[Finding]
) -> int | None:
    if "duration" not in data:
        where = doc.path if not keys else ".".join(map(str, keys))
        msg = f"{where} is missing the required key 'duration' (minutes)"
        findings.append(doc.finding("CK104", msg, *keys))
        return None
    value = data["duration"]
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    msg = f"duration must be a positive whole number of minutes, got {value!r}"
    findings.append(doc.finding("CK122", msg, *keys, "duration"))
    return None


def _mastery(
    doc: YamlDoc, keys: tuple[Key, ...], valid: dict[str, Any], findings: list[Finding]
) -> int | None:
    value = valid.get("mastery_score")
    if value is None:
        return None
    if 0 <= value <= 100:
        return int(value)
    msg = f"mastery_score must be 0–100 (percent), got {value}"
    findings.append(doc.finding("CK102", msg, *keys, "mastery_score"))
    return None


def _completion(
    doc: YamlDoc, keys: tuple[Key, ...], valid: dict[str, Any], findings: list[Finding]
) -> dict[str, Any]:
    """`completion:` as Unit fields; CK126 and the default ("pages") for a bad value."""
    if "completion" not in valid:
        return {}
    value = valid["completion"]
    pos = doc.where(*keys, "completion")
    if isinstance(value, str) and value.strip() in COMPLETIONS:
        return {"completion": value.strip(), "completion_pos": pos}
    share = SHARE.match(value) if isinstance(value, str) else None
    if share and 0 < float(share.group(1)) <= 100:
        return {
            "completion": "share",
            "completion_share": float(share.group(1)) / 100,
            "completion_pos": pos,
        }
    msg = (
        "completion must be `pages` (every page seen), `quiz` (quiz passed), `both`, "
        f"or a share of the pages seen such as `80%` (above 0%, at most 100%), got {value!r}"
    )
    findings.append(doc.finding("CK126", msg, *keys, "completion"))
    return {}


def has_questions(course: Course, unit: Unit) -> bool:
    """Whether the unit has a quiz a learner can pass: one with at least one question."""
    quiz = course.quiz(unit.quiz) if unit.quiz else None
    return quiz is not None and bool(quiz.questions)


def completion_rule(course: Course, unit: Unit) -> str:
    """The unit's completion rule as packaged: "quiz" or "both" only for a unit with a
    quiz that has questions (else "pages": a unit must always be completable, CK127)."""
    if unit.completion in ("quiz", "both") and not has_questions(course, unit):
        return "pages"
    return unit.completion


def _unique(units: list[Unit], findings: list[Finding]) -> tuple[Unit, ...]:
    """CK120: ids name SCORM items and saved progress, so they must be unique."""
    first: dict[str, Unit] = {}
    out = []
    for unit in units:
        if unit.id in first and unit.source == "toc":  # made up here: make it unique
            n = 2
            while f"{unit.id}-{n}" in first:
                n += 1
            unit = replace(unit, id=f"{unit.id}-{n}")
        if unit.id in first:
            line, col = unit.id_pos
            msg = (
                f"unit id {unit.id!r} is already used by {first[unit.id].where}; "
                "give this unit its own id"
            )
            findings.append(make("CK120", unit.where, line, col, msg))
        else:
            first[unit.id] = unit
        out.append(unit)
    return tuple(out)
