"""`_config.yml` → `Config`: Jupyter Book's own settings as the book reads them, and ours.

Jupyter Book's keys are accepted as Jupyter Book accepts them (`title` and `author`
are optional there, so they are here). coursekit's own settings live under
`coursekit:` (course id and metadata, SCORM versions and pass mark, how units are
made, which check codes are waived where).
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coursekit.execute.settings import ExecuteSettings, SettingsError, execute_settings
from coursekit.findings import Finding, make
from coursekit.formats import schema
from coursekit.formats.frozen import freeze
from coursekit.formats.schema import ANY, LIST, MAP, STR, Field
from coursekit.formats.yamlfile import Key, YamlDoc, read_yaml
from coursekit.loading.cmi5 import cmi5_settings
from coursekit.model import Config, PdfSettings, ScormSettings, Waiver

CONFIG_FILE = "_config.yml"
NUMBER = Field((int, float), describe="a number")
SCALAR = Field((str, int, float), describe="a string")
UNITS_FROM = ("auto", "parts", "chapters", "book")
CODE = re.compile(r"^CK\d{0,3}$")

# Jupyter Book 1.x's own top-level keys, plus our `coursekit` section.
CONFIG_SPEC: schema.Spec = {
    "title": STR,
    "author": STR,
    "copyright": SCALAR,
    "logo": STR,
    "email": STR,
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
    "cmi5": ANY,  # checked by coursekit.loading.cmi5
    "units_from": STR,
    "units": MAP,
    "ignore": LIST,
    "per_file_ignores": MAP,
    "waivers": LIST,
    "pdf": Field((dict, bool), describe="a mapping (enabled, chromium, part_kb) or false"),
    "solutions": STR,  # "hide": sphinx-exercise's solutions (coursekit.book.sphinx.solutions)
    "read_outside": LIST,  # files outside the book folder it may read ({include}…)
}
SCORM_SPEC: schema.Spec = {"versions": LIST, "mastery_score": NUMBER, "packages": LIST}
PDF_SPEC: schema.Spec = {
    "enabled": Field((bool,), describe="true or false"),
    "chromium": STR,
    "part_kb": Field((int,), describe="a whole number of kB"),
}


def load_config(root: Path, findings: list[Finding]) -> tuple[Config | None, YamlDoc | None]:
    """The configuration (None when there is none usable) and its YAML document."""
    if not (root / CONFIG_FILE).is_file():
        msg = "no _config.yml here; is this the book's folder? " + _where_is_the_book(root)
        findings.append(make("CK100", CONFIG_FILE, 0, 0, msg))
        return None, None
    doc = read_yaml(root, CONFIG_FILE, findings)
    if doc is None:
        return None, None
    data = schema.expect_mapping(doc, (), doc.data, CONFIG_FILE, findings)
    if data is None:
        return None, doc
    top = schema.validate(doc, (), data, CONFIG_SPEC, CONFIG_FILE, findings)
    ck = _section(doc, ("coursekit",), top.get("coursekit", {}), COURSEKIT_SPEC, findings)
    sc = _section(doc, ("coursekit", "scorm"), ck.get("scorm", {}), SCORM_SPEC, findings)
    title = top.get("title") or _title_from_folder(root)
    execute = _execute(doc, data, findings)
    parse = top.get("parse", {})
    sphinx = top.get("sphinx", {})
    config = Config(
        path=CONFIG_FILE,
        title=title,
        author=top.get("author", ""),
        course_id=_course_id(doc, ck, title, findings),
        description=ck.get("description", top.get("description", "")),
        # coursekit.language, else the book's own: top-level `language` or Sphinx's.
        language=ck.get("language") or _book_language(data) or "en",
        version=str(ck.get("version", "1.0")),
        execute=execute,
        scorm=_scorm_settings(doc, sc, findings),
        cmi5=cmi5_settings(doc, ck.get("cmi5"), findings),
        pdf=_pdf_settings(doc, ck.get("pdf", {}), findings),
        extensions=_extensions(sphinx),
        myst_extensions=_myst_extensions(parse),
        heading_anchors=_int(parse.get("myst_heading_anchors") if isinstance(parse, dict) else 0),
        custom_formats=_custom_formats(sphinx),
        exclude_patterns=tuple(p for p in top.get("exclude_patterns", []) if isinstance(p, str)),
        only_build_toc_files=top.get("only_build_toc_files") is True,
        units_from=_units_from(doc, ck, findings),
        ignore=_codes(doc, ("coursekit", "ignore"), ck.get("ignore", []), findings),
        waivers=(
            *_waivers(doc, ck.get("per_file_ignores", {}), findings),
            *_narrow_waivers(doc, ck.get("waivers", []), findings),
        ),
        read_outside=_read_outside(root, doc, ck.get("read_outside", []), findings),
        raw=freeze(data),
    )
    return config, doc


def _where_is_the_book(root: Path) -> str:
    """A hint: a book in a sub-folder (`book/`, `docs/`…), or how to start one."""
    found = sorted(p.parent.name for p in root.glob(f"*/{CONFIG_FILE}") if p.is_file())
    found = [f for f in found if (root / f / "_toc.yml").is_file()]
    if found:
        book = found[0]
        return f"the book seems to be in {book}/: give that folder (`coursekit build {book}`)"
    return "(`coursekit init` starts a new course)"


def _execute(doc: YamlDoc, data: dict[str, Any], findings: list[Finding]) -> ExecuteSettings:
    """The execution settings, as Jupyter Book reads them; each bad one is a CK102."""
    if not isinstance(data.get("execute", {}), dict):
        return ExecuteSettings()  # the schema already said `execute` must be a mapping
    try:
        return execute_settings(data)
    except SettingsError as exc:
        for problem in exc.problems:
            msg = f"{'.'.join(problem.keys)}: {problem.message}"
            findings.append(doc.finding("CK102", msg, *problem.keys))
        return ExecuteSettings()


def _section(
    doc: YamlDoc, keys: tuple[Key, ...], value: Any, spec: schema.Spec, findings: list[Finding]
) -> dict[str, Any]:
    what = ".".join(map(str, keys))
    return schema.validate(doc, keys, value, spec, what, findings) if value else {}


def _book_language(data: dict[str, Any]) -> str:
    """The book's language: `language`, else `sphinx: config: language`; "" when neither."""
    sphinx = data.get("sphinx")
    config = sphinx.get("config") if isinstance(sphinx, dict) else None
    for value in (
        data.get("language"),
        config.get("language") if isinstance(config, dict) else None,
    ):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _title_from_folder(root: Path) -> str:
    return root.name.replace("-", " ").replace("_", " ").strip().capitalize() or "Course"


SLUG_MAX = 60
# Letters whose plain-ASCII spelling is not their base letter (German, Nordic, ligatures).
_SPELLED = str.maketrans(
    {
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "ß": "ss",
        "æ": "ae",
        "œ": "oe",
        "ø": "o",
        "å": "aa",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ł": "l",
        "ı": "i",
    }
)


def slug(text: str) -> str:
    """The short id that names packages, zips and identifiers: `text` transliterated to
    lower-case ASCII (`Qualitätsbewertung` → `qualitaetsbewertung`, `é` → `e`), letters
    and digits joined by dashes, at most 60 characters (cut at a dash). A title with no
    Latin letters gets `course-` and a short digest of it, so two such books differ."""
    import hashlib
    import unicodedata

    lowered = text.lower().translate(_SPELLED)
    ascii_text = unicodedata.normalize("NFKD", lowered).encode("ascii", "ignore").decode()
    out = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    if len(out) > SLUG_MAX:
        cut = out[: SLUG_MAX + 1]
        out = (cut.rsplit("-", 1)[0] if "-" in cut[SLUG_MAX // 2 :] else cut[:SLUG_MAX]).strip("-")
    if out:
        return out
    if text.strip():
        return "course-" + hashlib.sha256(text.strip().encode()).hexdigest()[:8]
    return "course"


def _course_id(doc: YamlDoc, ck: dict[str, Any], title: str, findings: list[Finding]) -> str:
    given = ck.get("id")
    if given is None:
        return slug(title)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", given) or ".." in given:
        msg = (
            f"coursekit.id names the packages and SCORM identifiers, so it must be "
            f"letters, digits, '.', '_' and '-' only, got {given!r}"
        )
        findings.append(doc.finding("CK102", msg, "coursekit", "id"))
        return slug(given)
    return given


def _scorm_settings(doc: YamlDoc, sc: dict[str, Any], findings: list[Finding]) -> ScormSettings:
    versions = tuple(str(v) for v in sc.get("versions", ("1.2", "2004")))
    bad = [v for v in versions if v not in ("1.2", "2004")]
    if bad or not versions:
        msg = f"coursekit.scorm.versions must list '1.2' and/or '2004', got {bad}"
        findings.append(doc.finding("CK102", msg, "coursekit", "scorm", "versions"))
        versions = tuple(v for v in versions if v in ("1.2", "2004")) or ("1.2", "2004")
    mastery = sc.get("mastery_score", 80)
    if not 0 <= mastery <= 100:
        msg = f"coursekit.scorm.mastery_score must be 0–100, got {mastery}"
        findings.append(doc.finding("CK102", msg, "coursekit", "scorm", "mastery_score"))
        mastery = 80
    packages = tuple(str(v) for v in sc.get("packages", ("multi", "single")))
    if not packages or any(p not in ("multi", "single") for p in packages):
        msg = f"coursekit.scorm.packages must list 'multi' and/or 'single', got {list(packages)}"
        findings.append(doc.finding("CK102", msg, "coursekit", "scorm", "packages"))
        packages = tuple(p for p in packages if p in ("multi", "single")) or ("multi", "single")
    return ScormSettings(versions=versions, mastery_score=int(mastery), packages=packages)


def _pdf_settings(doc: YamlDoc, value: Any, findings: list[Finding]) -> PdfSettings:
    """`coursekit.pdf`: `false` (no PDF), `true`, or a mapping of `enabled`, `chromium`
    and `part_kb`."""
    if isinstance(value, bool):
        return PdfSettings(enabled=value)
    pdf = _section(doc, ("coursekit", "pdf"), value, PDF_SPEC, findings)
    if pdf.get("part_kb", 0) < 0:
        msg = f"coursekit.pdf.part_kb must be 0 or more (kB), got {pdf['part_kb']}"
        findings.append(doc.finding("CK102", msg, "coursekit", "pdf", "part_kb"))
        del pdf["part_kb"]
    return PdfSettings(**pdf)


def _extensions(sphinx: Any) -> tuple[str, ...]:
    if not isinstance(sphinx, dict):
        return ()
    names: list[str] = []
    for key in ("extra_extensions", "local_extensions"):
        value = sphinx.get(key)
        if isinstance(value, list):
            names += [v for v in value if isinstance(v, str)]
        elif isinstance(value, dict):  # local_extensions: {name: path}
            names += [k for k in value if isinstance(k, str)]
    return tuple(names)


def _myst_extensions(parse: Any) -> frozenset[str]:
    value = parse.get("myst_enable_extensions") if isinstance(parse, dict) else None
    if isinstance(value, list):
        return frozenset(v for v in value if isinstance(v, str))
    return frozenset()


def _custom_formats(sphinx: Any) -> tuple[str, ...]:
    config = sphinx.get("config") if isinstance(sphinx, dict) else None
    formats = config.get("nb_custom_formats") if isinstance(config, dict) else None
    if not isinstance(formats, dict):
        return ()
    return tuple(s for s in formats if isinstance(s, str) and s.startswith("."))


def _int(value: Any) -> int:
    return value if type(value) is int and value > 0 else 0


def _units_from(doc: YamlDoc, ck: dict[str, Any], findings: list[Finding]) -> str:
    value = ck.get("units_from", "auto")
    if value in UNITS_FROM:
        return str(value)
    msg = f"coursekit.units_from must be one of {', '.join(UNITS_FROM)}, got {value!r}"
    findings.append(doc.finding("CK102", msg, "coursekit", "units_from"))
    return "auto"


def _codes(
    doc: YamlDoc, keys: tuple[Key, ...], value: Any, findings: list[Finding]
) -> tuple[str, ...]:
    good = []
    for i, code in enumerate(value if isinstance(value, list) else ()):
        if isinstance(code, str) and CODE.match(code):
            good.append(code)
        else:
            msg = f"a rule code such as CK303 (or a prefix such as CK3) is expected, got {code!r}"
            findings.append(doc.finding("CK102", msg, *keys, i))
    return tuple(good)


def _waivers(doc: YamlDoc, value: Any, findings: list[Finding]) -> tuple[Waiver, ...]:
    waivers = []
    for pattern, codes in value.items() if isinstance(value, dict) else ():
        keys = ("coursekit", "per_file_ignores", pattern)
        if not isinstance(codes, list):
            msg = f"per_file_ignores[{pattern!r}] must be a list of rule codes"
            findings.append(doc.finding("CK102", msg, *keys))
            continue
        waivers.append(Waiver(str(pattern), _codes(doc, keys, codes, findings)))
    return tuple(waivers)


WAIVER_KEYS = ("code", "path", "target", "line", "reason")


def _narrow_waivers(doc: YamlDoc, value: Any, findings: list[Finding]) -> tuple[Waiver, ...]:
    """`coursekit.waivers`: a list of {code, path, target or line, reason}; each waives
    one finding (or the few naming that target) instead of a whole code."""
    waivers = []
    for i, item in enumerate(value if isinstance(value, list) else ()):
        keys: tuple[Key, ...] = ("coursekit", "waivers", i)
        if not isinstance(item, dict):
            msg = "a waiver is a mapping: {code: CK305, path: page.md, target: label, reason: …}"
            findings.append(doc.finding("CK102", msg, *keys))
            continue
        unknown = sorted(str(k) for k in item if k not in WAIVER_KEYS)
        if unknown:
            msg = f"unknown waiver key(s) {', '.join(unknown)}; use {', '.join(WAIVER_KEYS)}"
            findings.append(doc.finding("CK103", msg, *keys))
        code, path = item.get("code"), item.get("path")
        target, line = item.get("target", ""), item.get("line", 0)
        problem = None
        if not (isinstance(code, str) and CODE.match(code)):
            problem = f"code must be a rule code such as CK305, got {code!r}"
        elif not (isinstance(path, str) and path.strip()):
            problem = "path must name the file (a glob such as lectures/*.md works)"
        elif not isinstance(target, str | int) or isinstance(target, bool):
            problem = f"target must be the label, link or key the finding names, got {target!r}"
        elif not isinstance(line, int) or isinstance(line, bool) or line < 0:
            problem = f"line must be a line number, got {line!r}"
        elif not (str(target) or line):
            problem = "give a target or a line (per_file_ignores waives a whole file)"
        if problem:
            findings.append(doc.finding("CK102", f"coursekit.waivers[{i}]: {problem}", *keys))
            continue
        assert isinstance(code, str) and isinstance(path, str)
        waivers.append(Waiver(path.strip(), (code,), str(target), int(line)))
    return tuple(waivers)


def _read_outside(root: Path, doc: YamlDoc, value: Any, findings: list[Finding]) -> tuple[str, ...]:
    """`coursekit.read_outside`: the files outside the book folder that its directives
    and settings may read (`../CHANGELOG.md`), each relative to the book folder and an
    existing regular file outside it; every bad entry is a CK102 at its line, and only
    the good ones are allowed. Anything not listed stays a CK308."""
    top = root.resolve()
    good = []
    for i, item in enumerate(value if isinstance(value, list) else ()):
        problem = None
        rel = _listed_path(item)
        if rel is None:
            problem = f"a path relative to the book folder is expected, got {item!r}"
        elif "\\" in item:
            problem = f"{item!r} uses a backslash; write paths with /"
        elif os.path.isabs(item):
            problem = f"{item!r} is absolute; write it relative to the book folder (../x.md)"
        else:
            real = _outside_path(root, rel)
            if not rel.startswith("../"):
                problem = f"{item!r} is inside the book folder; only files outside need listing"
            elif not real.is_file():
                problem = f"{item!r} names no file (looked for {real})"
            elif real.is_relative_to(top):
                problem = f"{item!r} leads back into the book folder; name the file inside it"
        if problem:
            findings.append(
                doc.finding(
                    "CK102", f"coursekit.read_outside: {problem}", "coursekit", "read_outside", i
                )
            )
            continue
        assert rel is not None
        good.append(rel)
    return tuple(good)


@dataclass(frozen=True, slots=True)
class OutsideFile:
    """A file outside the book folder that `coursekit.read_outside` lets the book read."""

    rel: str  # as listed, relative to the book folder (`../CHANGELOG.md`)
    path: Path  # the file itself, resolved
    line: int  # where the settings file lists it
    col: int


def outside_files(
    root: Path, config: Config | None, doc: YamlDoc | None
) -> tuple[OutsideFile, ...]:
    """The loaded `config`'s `coursekit.read_outside` (the entries `_read_outside` kept),
    resolved once for the whole load: the pages' {include}s and the confinement check
    (CK308) take this one list, and a finding about an entry points at its own line."""
    if config is None or doc is None or not config.read_outside:
        return ()
    ck = doc.data.get("coursekit") if isinstance(doc.data, dict) else None
    value = ck.get("read_outside") if isinstance(ck, dict) else None
    listed = [_listed_path(item) for item in value] if isinstance(value, list) else []
    files = []
    for rel in config.read_outside:
        keys: tuple[Key, ...] = ("coursekit", "read_outside")
        if rel in listed:
            keys = (*keys, listed.index(rel))
        line, col = doc.where(*keys)
        files.append(OutsideFile(rel, _outside_path(root, rel), line, col))
    return tuple(files)


def _listed_path(item: Any) -> str | None:
    """An entry of `coursekit.read_outside` as a normal relative path (None: no path)."""
    if not isinstance(item, str) or not item.strip():
        return None
    return posixpath.normpath(item.strip())


def _outside_path(root: Path, rel: str) -> Path:
    """The file a `coursekit.read_outside` entry names, resolved (the one place that does)."""
    return (root / rel).resolve()


def book_settings(root: Path | None) -> ExecuteSettings | None:
    """The `execute:` settings of the book at `root` (None without a usable _config.yml),
    for the commands that run an exercise without loading the whole course."""
    if root is None:
        return None
    config, _doc = load_config(root, [])
    return config.execute if config is not None else None
