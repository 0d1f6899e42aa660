"""`coursekit new module "Title"`: a new module folder that checks clean.

Writes `modules/NN-slug/` (the next free number) with `module.yml` and
`overview.md`, and adds the module to `_toc.yml` as a new part after the last
module, editing the file as text so its comments and layout stay as they were.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from coursekit.errors import CourseError, UsageError
from coursekit.loading import MODULE_FOLDER, MODULES_DIR, TOC_FILE

MODULE_YML = """\
id: {slug}
title: {title_yaml}
summary: >-
  One or two sentences on what this module is about (shown in the module list
  and in the SCORM package).
objectives:
  - State what a learner can do after this module.
duration: 60  # minutes
"""

OVERVIEW_MD = """\
# {title}

What this module covers, why it matters, and how its pages fit together.
Add pages beside this one and list them under this module in `_toc.yml`.
"""


@dataclass(frozen=True, slots=True)
class NewModule:
    folder: Path  # the module folder created
    files: tuple[Path, ...]  # every file written or changed


def new_module(root: Path, title: str) -> NewModule:
    """Create the next module of the course at `root`; raises `CourseKitError` on a problem."""
    title = title.strip()
    slug = slugify(title)
    if not slug:
        raise UsageError("give the module a title with at least one letter or digit")
    toc_path = root / TOC_FILE
    if not toc_path.is_file() or not (root / "_config.yml").is_file():
        raise CourseError(f"{root} has no _config.yml and _toc.yml; run this in the course folder")
    modules = root / MODULES_DIR
    existing = [p for p in modules.iterdir() if p.is_dir()] if modules.is_dir() else []
    for folder in existing:
        match = MODULE_FOLDER.match(folder.name)
        if match and match.group(2) == slug:
            raise CourseError(
                f"{MODULES_DIR}/{folder.name} already has the slug {slug!r}; choose another title"
            )
    numbers = [int(m.group(1)) for p in existing if (m := MODULE_FOLDER.match(p.name))]
    number = max(numbers, default=0) + 1
    if number > 99:
        raise CourseError("modules are numbered 01–99 and 99 is taken")
    folder = modules / f"{number:02d}-{slug}"
    toc_text = _with_toc_entry(toc_path.read_text(encoding="utf-8"), folder.name, number, title)
    folder.mkdir(parents=True)
    module_yml = folder / "module.yml"
    module_yml.write_text(
        MODULE_YML.format(slug=slug, title_yaml=_yaml_str(title)), encoding="utf-8"
    )
    overview = folder / "overview.md"
    overview.write_text(OVERVIEW_MD.format(title=title), encoding="utf-8")
    toc_path.write_text(toc_text, encoding="utf-8")
    return NewModule(folder, (module_yml, overview, toc_path))


def slugify(title: str) -> str:
    """ "Réseaux & pouvoir" → "reseaux-pouvoir" (ASCII, lower case, hyphens)."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:50].strip("-")


def _yaml_str(text: str) -> str:
    return yaml.safe_dump(text, default_style='"', allow_unicode=True).strip()


def _with_toc_entry(text: str, folder: str, number: int, title: str) -> str:
    """`_toc.yml` with a part for the new module after the last part holding a module."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise CourseError(
            f"{TOC_FILE} does not parse ({exc}); fix it first (`coursekit check` shows where)"
        ) from exc
    parts = _value(node, "parts")
    lines = text.splitlines(keepends=True)
    if not isinstance(parts, yaml.SequenceNode) or not parts.value:
        raise CourseError(
            f"{TOC_FILE} has no `parts:` list; add the module by hand: "
            f"a part with the chapter modules/{folder}/overview"
        )
    after = next(
        (p for p in reversed(parts.value) if f"{MODULES_DIR}/" in _source(text, p)), parts.value[-1]
    )
    indent = " " * (after.start_mark.column - 2)
    caption = _yaml_str(f"Module {number} · {title}")
    entry = (
        f"{indent}- caption: {caption}\n"
        f"{indent}  chapters:\n"
        f"{indent}    - file: {MODULES_DIR}/{folder}/overview\n"
    )
    end = _end_line(lines, after.end_mark.line)
    if end and not lines[end - 1].endswith("\n"):
        lines[end - 1] += "\n"
    lines.insert(end, entry)
    return "".join(lines)


def _value(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    return None


def _source(text: str, node: yaml.Node) -> str:
    return text[node.start_mark.index : node.end_mark.index]


def _end_line(lines: list[str], end_line: int) -> int:
    """Index of the line after a block node (its end mark may sit on the next line)."""
    end = min(end_line, len(lines))
    while end > 0 and not lines[end - 1].strip():
        end -= 1  # keep blank lines and comments that follow the part after it
    return end
