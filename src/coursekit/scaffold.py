"""`coursekit init` and `coursekit new module "Title"`: course parts that check clean.

`init` copies the starter course (`starter/`: config, TOC, one module with a
reading, a notebook, an exercise and a quiz) into a new or empty folder. `new
module` writes `modules/NN-slug/` (the next free number) with `module.yml` and
`overview.md`, and adds it to `_toc.yml` after the last module, editing the file
as text so its comments and layout stay as they were.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TypeGuard

import yaml

from coursekit.errors import CourseError, UsageError
from coursekit.loading import MODULE_FOLDER, MODULES_DIR, TOC_FILE

STARTER = Path(__file__).parent / "starter"  # the course `coursekit init` writes
BOOK_FILES = ("_config.yml", TOC_FILE)
GITIGNORE = "_build/\n.venv/\n.ipynb_checkpoints/\n"

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
class NewCourse:
    root: Path  # the course folder
    files: tuple[Path, ...]  # every file written


def init_course(root: Path, title: str | None = None) -> NewCourse:
    """Write the starter course into `root` (created if missing); refuse to touch a book.

    Raises `CourseError` when `root` already holds `_config.yml` or `_toc.yml`, or any
    file the starter would write: nothing is ever written over a file.
    """
    _refuse_a_book(root)
    title = (title or _title_from(root)).strip()
    if not slugify(title):
        raise UsageError("give the course a title with at least one letter or digit")
    # __TITLE_YAML__ before __TITLE__, which is a prefix of it.
    words = {
        "__TITLE_YAML__": _yaml_str(title),
        "__TITLE__": title,
        "__COURSE_ID__": slugify(title),
        "__YEAR__": str(datetime.date.today().year),
    }
    plan = [(src, root / src.relative_to(STARTER)) for src in _starter_files()]
    taken = [str(dest.relative_to(root)) for _src, dest in plan if dest.exists()]
    if taken:
        raise CourseError(
            f"{root} already has {', '.join(taken)}; coursekit init writes no file over another"
        )
    texts = [(src.read_text(encoding="utf-8"), dest) for src, dest in plan]
    gitignore = root / ".gitignore"
    if not gitignore.exists():  # a repository's own .gitignore stays as it is
        texts.append((GITIGNORE, gitignore))
    for text, dest in texts:
        for word, value in words.items():
            text = text.replace(word, value)
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CourseError(f"cannot write {dest}: {exc.strerror or exc}") from exc
    return NewCourse(root, tuple(dest for _text, dest in texts))


def _refuse_a_book(root: Path) -> None:
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} is a file; give a folder for the new course")
    for name in BOOK_FILES:
        if (root / name).exists():
            raise CourseError(
                f"{root / name} exists: {root} is a book already, and coursekit init only "
                "starts a course in a new or empty folder; to add a module to it, run "
                '`coursekit new module "Title"` there'
            )


def _starter_files() -> list[Path]:
    return sorted(p for p in STARTER.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def _title_from(root: Path) -> str:
    """ "my-first-course" → "My first course"; the teacher edits it in _config.yml."""
    words = re.sub(r"[-_]+", " ", root.resolve().name).strip()
    return words[:1].upper() + words[1:] if slugify(words) else "My course"


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
    """`_toc.yml` with the new module after the last one, as the TOC is laid out.

    A TOC with `parts:` gets a new part. A TOC with only `chapters:` (what
    `jupyter-book create` writes) gets a new top-level chapter: in a book without
    parts each chapter is a unit, so the existing chapters stay as they are.
    """
    try:
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise CourseError(
            f"{TOC_FILE} does not parse ({exc}); fix it first (`coursekit check` shows where)"
        ) from exc
    page = f"{MODULES_DIR}/{folder}/overview"
    parts, chapters = _value(node, "parts"), _value(node, "chapters")
    if _block_list(parts):
        caption = _yaml_str(f"Module {number} · {title}")
        return _insert_item(
            text, parts, [f"- caption: {caption}", "  chapters:", f"    - file: {page}"]
        )
    if _block_list(chapters) and parts is None:
        return _insert_item(text, chapters, [f"- file: {page}"])
    raise CourseError(
        f"{TOC_FILE} has no `parts:` or `chapters:` list written one item a line (a jb-article "
        f"is one unit); add the module by hand: a part or chapter with the file {page}"
    )


def _block_list(node: yaml.Node | None) -> TypeGuard[yaml.SequenceNode]:
    return isinstance(node, yaml.SequenceNode) and bool(node.value) and not node.flow_style


def _insert_item(text: str, items: yaml.SequenceNode, entry: list[str]) -> str:
    """`text` with `entry` (lines of one list item) after the last item naming a module."""
    after = next(
        (p for p in reversed(items.value) if f"{MODULES_DIR}/" in _source(text, p)),
        items.value[-1],
    )
    indent = " " * (after.start_mark.column - 2)  # the column of the item's dash
    lines = text.splitlines(keepends=True)
    end = _end_line(lines, after.end_mark.line)
    if end and not lines[end - 1].endswith("\n"):
        lines[end - 1] += "\n"
    lines.insert(end, "".join(f"{indent}{line}\n" for line in entry))
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
