"""Every directive, option and setting that makes the book read a file, and whether the
file it names is a regular file inside the course.

One table (`DIRECTIVE_READS`, `SETTING_READS`) and one rule (`problem`): a file the book
reads is copied or pasted into the site and every package, so it must be a regular file
(or, for the folder settings, a folder) in the course folder, reached by no symlink that
leads outside. Links, images and {download} are the page checks' (CK301/CK302/CK307).
The loader asks the file system here once; the check (`checks.confinement`, CK308)
only reports what it found.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from coursekit.findings import Finding, make
from coursekit.formats import links
from coursekit.formats.yamlfile import Key, YamlDoc
from coursekit.loading.config import OutsideFile
from coursekit.loading.markdown import role_target
from coursekit.model import EXERCISES_DIR, Page, PageKind

# directive name → the options that name a file ("" is the argument).
DIRECTIVE_READS: dict[str, tuple[str, ...]] = {
    "include": ("",),
    "literalinclude": ("", "diff"),
    "code": ("file",),
    "code-block": ("file",),
    "sourcecode": ("file",),
    "csv-table": ("file", "url"),
    "raw": ("file", "url"),
    "code-cell": ("load",),
    "kroki": ("filename",),
    "mermaid": ("",),
    "graphviz": ("",),
    "plantuml": ("",),
}
# Settings Sphinx also accepts as a URL (html_logo, html_favicon): a warning (CK310), no error.
URL_SETTINGS = (
    ("logo",),
    ("html", "favicon"),
    ("sphinx", "config", "html_logo"),
    ("sphinx", "config", "html_favicon"),
)
# Options that fetch from the network: never, a course is built offline.
URL_OPTIONS = ("url",)
# Directives that read their argument only when it is no inline source.
ARG_MAYBE_SOURCE = ("mermaid", "graphviz", "plantuml")

# _config.yml keys (as paths) that name files (False) or folders (True) the book reads.
SETTING_READS: tuple[tuple[tuple[str, ...], bool], ...] = (
    (("logo",), False),
    (("bibtex_bibfiles",), False),
    (("html", "favicon"), False),
    (("latex", "latex_logo"), False),
    (("sphinx", "config", "html_favicon"), False),
    (("sphinx", "config", "html_logo"), False),
    (("sphinx", "config", "latex_logo"), False),
    (("sphinx", "config", "latex_additional_files"), False),
    (("sphinx", "config", "epub_cover"), False),
    (("sphinx", "config", "bibtex_bibfiles"), False),
    (("sphinx", "config", "html_static_path"), True),
    (("sphinx", "config", "html_extra_path"), True),
    (("sphinx", "config", "templates_path"), True),
    (("sphinx", "config", "locale_dirs"), True),
)


def page_reads(page: Page) -> Iterator[tuple[int, int, str, str]]:
    """(line, col, what, target) for every file a directive of `page` names."""
    for d in page.markup.directives if page.markup else ():
        options = DIRECTIVE_READS.get(d.name)
        if options is None:
            continue
        line, col = page.where(d.pos)
        for option in options:
            if option == "":
                value = d.argument.strip()
                if d.name in ARG_MAYBE_SOURCE and (not value or " " in value.strip()):
                    continue
                what = f"{{{d.name}}}"
            else:
                value = dict(d.options).get(option, "").strip()
                what = f"{{{d.name}}} :{option}:"
            if value:
                yield line, col, what, value


def setting_reads(raw: Any) -> Iterator[tuple[tuple[Key, ...], str, str, bool]]:
    """(key path, setting name, value, is a folder) for every file setting in `_config.yml`."""
    for keys, folder in SETTING_READS:
        value: Any = raw
        for k in keys:
            value = value.get(k) if isinstance(value, dict) else None
        if isinstance(value, str) and value.strip():  # "" is unset, as in Sphinx
            yield keys, ".".join(keys), value, folder
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                # latex_additional_files, html_static_path items may be [src, dest] pairs
                target = item[0] if isinstance(item, list | tuple) and item else item
                if isinstance(target, str):
                    yield (*keys, i), f"{'.'.join(keys)}[{i}]", target, folder


def problem(
    root: Path,
    base: str,
    target: str,
    folder: bool = False,
    setting: bool = False,
    allowed: frozenset[Path] = frozenset(),
) -> str | None:
    """Why the book must not read `target` (written in `base`, a file of the course),
    or None when it is a regular file (a folder when `folder`) inside the course, or
    one of the `allowed` files outside it (`coursekit.read_outside`, resolved)."""
    if links.is_external(target):
        return "names a URL; the book reads files only from the course folder"
    path = target if setting else target.split("#", 1)[0]
    if "\\" in path:
        return "uses a backslash; write paths with /"
    if path.startswith(("/dev/", "/proc/", "/sys/")):
        return "names a special file of the system, outside the course folder"
    if path.startswith("/") and not setting:
        rel = posixpath.normpath(path.lstrip("/"))  # Sphinx: from the source folder
    elif os.path.isabs(path):
        inside = Path(posixpath.normpath(path))
        if inside != root and root not in inside.parents:
            return "is an absolute path outside the course folder"
        rel = inside.relative_to(root).as_posix()
    else:
        rel = posixpath.normpath(posixpath.join(posixpath.dirname(base), path))
    if links.outside(rel) or os.path.isabs(rel):
        if not folder and (root / rel).resolve() in allowed:
            return None
        return f"leads outside the course folder (to {rel} from it)"
    full = root / rel
    try:
        real = full.resolve(strict=True)
    except (OSError, RuntimeError):
        return f"names no file ({rel})"
    if real != root and root not in real.parents:
        return (
            None if not folder and real in allowed else "is a symlink to outside the course folder"
        )
    try:
        mode = os.stat(full).st_mode
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if folder and not stat.S_ISREG(mode):  # Sphinx copies a file named there too
        if not stat.S_ISDIR(mode):
            return f"is no folder ({rel})"
        return _escaping_inside(root, full)
    if not stat.S_ISREG(mode):
        return "is not a regular file (a folder, FIFO, socket or device)"
    return None


def _escaping_inside(root: Path, folder: Path) -> str | None:
    """A symlink or special file inside a folder the book copies whole."""
    for dirpath, dirs, names in os.walk(folder):
        for name in [*dirs, *names]:
            full = Path(dirpath) / name
            try:
                real = full.resolve(strict=True)
                mode = os.stat(full).st_mode
            except (OSError, RuntimeError):
                return f"holds {full.relative_to(root).as_posix()}, which names no file"
            if real != root and root not in real.parents:
                rel = full.relative_to(root).as_posix()
                return f"holds {rel}, a symlink to outside the course folder"
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                rel = full.relative_to(root).as_posix()
                return f"holds {rel}, which is not a regular file"
    return None


def _solution_reach(page: Page, in_toc: set[str]) -> Iterator[Finding]:
    """CK309: a link, {download} or file-reading directive of `page` that reaches into
    `exercises/`: the book would publish the file as it is, solutions and all (the
    exercises stage publishes the student editions)."""
    named: list[tuple[int, int, str, str]] = []
    markup = page.markup
    for link in markup.links if markup else ():
        path = links.local_path(link.target)
        if not link.image and path and links.resolve(page.path, path) in in_toc:
            continue  # a link to the exercise's page, which shows the student edition
        named.append((*page.where(link.pos), "image" if link.image else "link", link.target))
    for role in markup.roles if markup else ():
        if role.name == "download":
            named.append((*page.where(role.pos), "{download}", role_target(role.content)))
    named.extend(page_reads(page))
    for line, col, what, target in named:
        path = links.local_path(target)
        if path is None:
            continue
        rel = links.resolve(page.path, path)
        if rel.split("/", 1)[0] == EXERCISES_DIR and page.path.split("/", 1)[0] != EXERCISES_DIR:
            msg = (
                f"{what} {target!r} reaches into {EXERCISES_DIR}/, whose files hold the "
                "solutions; the book would publish them as they are. Put the exercise in the "
                "TOC (its page shows the student edition) or link the student edition in the "
                "packages"
            )
            yield make("CK309", page.path, line, col, msg)


def confinement(
    root: Path,
    pages: Iterable[Page],
    config_doc: YamlDoc | None,
    outside: tuple[OutsideFile, ...] = (),
) -> list[Finding]:
    """CK308 for every file a directive or setting reads that is not a regular file
    inside the course, nor a file `coursekit.read_outside` lists (`outside`, resolved
    once by the loader: `config.outside_files`)."""
    root = root.resolve()
    pages = tuple(pages)
    allowed = frozenset(f.path for f in outside)
    found: list[Finding] = []
    fix = _outside_fix(config_doc)
    for page in pages:
        for line, col, what, target in page_reads(page):
            why = problem(root, page.path, target, allowed=allowed)
            if why:
                msg = f"{what} {target!r} {why}; {fix}"
                found.append(make("CK308", page.path, line, col, msg))
    if config_doc is not None:
        found.extend(_reads_of_outside(root, config_doc, outside, allowed))
    in_toc = {page.path for page in pages}
    for page in pages:
        found.extend(_solution_reach(page, in_toc))
    if config_doc is not None:
        for keys, name, target, folder in setting_reads(config_doc.data):
            if keys in URL_SETTINGS and links.is_external(target):
                line, col = config_doc.where(*keys)
                msg = (
                    f"{name}: {target!r} is loaded from the network on every page: offline, "
                    "and in an LMS that blocks outside content, it shows broken; download it "
                    "into the book and name the copy"
                )
                found.append(make("CK310", config_doc.path, line, col, msg))
                continue
            why = problem(root, config_doc.path, target, folder, setting=True)
            rel = posixpath.normpath(target.strip("/"))
            if not why and (rel.split("/", 1)[0] == EXERCISES_DIR or (folder and rel == ".")):
                line, col = config_doc.where(*keys)
                msg = (
                    f"{name}: {target!r} publishes {EXERCISES_DIR}/ as it is, solutions "
                    "and all; name a folder without the exercises"
                )
                found.append(make("CK309", config_doc.path, line, col, msg))
            elif why:
                line, col = config_doc.where(*keys)
                msg = f"{name}: {target!r} {why}; {fix}"
                found.append(make("CK308", config_doc.path, line, col, msg))
    return found


def _outside_fix(config_doc: YamlDoc | None) -> str:
    """What to do about a read outside the course, naming the course's own settings file
    (`_config.yml`, or `myst.yml` in a Jupyter Book 2 project)."""
    settings = config_doc.path if config_doc is not None else "_config.yml"
    return f"copy the file into the course, or list it under coursekit.read_outside in {settings}"


def _reads_of_outside(
    root: Path, config_doc: YamlDoc, outside: tuple[OutsideFile, ...], allowed: frozenset[Path]
) -> Iterator[Finding]:
    """CK308 at a `coursekit.read_outside` entry whose Markdown file itself includes
    a file that is neither in the course nor listed: Sphinx would read that one too."""
    from coursekit.loading.markdown import parse

    for entry in outside:
        if entry.path.suffix.lower() not in (".md", ".markdown"):
            continue
        try:
            text = entry.path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            continue
        page = Page(entry.rel, PageKind.MARKDOWN, 0, 0, text=text, markup=parse([(-1, text)]))
        for _line, _col, what, target in page_reads(page):
            why = problem(root, entry.rel, target, allowed=allowed)
            if why:
                msg = f"{entry.rel} reads {what} {target!r}, which {why.removeprefix('is ')}; "
                msg += _outside_fix(config_doc)
                yield make("CK308", config_doc.path, entry.line, entry.col, msg)
