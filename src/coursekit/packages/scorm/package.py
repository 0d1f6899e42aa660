"""The package stage: the built site → one SCORM zip per configured version.

The course zip holds the whole site, a unit's own zip its pages and the files
they use (`subset.used_files`); each has a launch page per module, the runtime
script, `imsmanifest.xml` and the ADL control files of its version at the root. The
manifest is validated (XSDs and packaging rules) before anything is written, and
the zip is written to a temporary file renamed into place, so a failure leaves
earlier packages untouched. Zips are deterministic: sorted entries, a fixed
timestamp and fixed permissions, so the same site gives the same bytes.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from coursekit.errors import BuildError
from coursekit.loading.units import completion_rule, has_questions
from coursekit.model import Config, Course, Unit
from coursekit.packages.scorm import launch, subset, zipwriter
from coursekit.packages.scorm.manifest import (
    SCHEMES,
    PackagePlan,
    Scheme,
    Sco,
    build_manifest,
    ncname,
    objective_id,
)
from coursekit.packages.scorm.validate import MANIFEST, check_rules, schema_dir, validate_manifest

# Already-compressed formats are stored as they are: deflating them again costs time, saves nothing.
STORED_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".woff", ".woff2", ".zip", ".gz"}

Entries = dict[str, bytes | Path]  # zip path → content, or the file to read it from
SITE_BOOKKEEPING = {".buildinfo", ".buildinfo.bak", ".nojekyll"}
# Characters XML 1.0 cannot hold at all (lxml refuses them with a ValueError).
XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Names no zip entry may have: unsafe for Windows tools, which also read `\` as a separator.
WINDOWS_RESERVED = re.compile(r"(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?", re.I)
WINDOWS_BAD_CHARS = re.compile(r'[\\:*?"<>|\x00-\x1f]')


def package(
    course: Course, html_dir: Path, out_dir: Path, cache_dir: Path | None = None
) -> list[Path]:
    """Write the SCORM zips `config.scorm` asks for into `out_dir`.

    Per version ("1.2" → `scorm12`, "2004" → `scorm2004`): with `packages` holding
    "multi", `<course_id>-scorm12.zip`, one SCO per module; with "single", one zip per
    module, `<course_id>-<module id>-scorm12.zip`, for players that only launch a
    package's first SCO, holding that module's pages and the files they use.
    `html_dir` is the built site (`_build/html`). Returns the zips written. Raises
    BuildError naming the broken rule. Each file is deflated once for all the zips;
    `cache_dir` keeps the deflated files for the next call.
    """
    config = course.config
    if config is None:
        raise BuildError("_config.yml: cannot package SCORM without a valid configuration")
    site = site_files(html_dir)
    check_entry_names(site)
    check_xml_texts(course)
    pages = [_launch_page(course, html_dir, site, m) for m in course.modules]
    if not pages:
        raise BuildError("_toc.yml: the course has no modules to package as SCOs")
    out_dir.mkdir(parents=True, exist_ok=True)

    written = []
    compressor = zipwriter.Compressor(cache_dir)
    # One after the other: lxml cannot build the XSD validators on two threads at once.
    units = {unit.id: unit for unit in course.units}
    for version in config.scorm.versions:
        scheme = SCHEMES[version]
        for package_id, title, scos in _packages(config, pages):
            zip_path = out_dir / f"{package_id}-{scheme.suffix}.zip"
            files = site if len(scos) > 1 else unit_site(site, scos[0])
            entries = _entries(course, units, files, scos, scheme, package_id, title)
            write_zip(entries, zip_path, compressor)
            written.append(zip_path)
    compressor.prune()
    return written


def _packages(
    config: Config, pages: list[launch.LaunchPage]
) -> list[tuple[str, str, list[launch.LaunchPage]]]:
    """(package id, title, SCOs) of each zip to write, per `config.scorm.packages`."""
    wanted = config.scorm.packages
    found = []
    if "multi" in wanted:
        found.append((config.course_id, config.title, pages))
    # With one unit the multi-SCO zip already is the single-SCO one.
    if "single" in wanted and (len(pages) > 1 or "multi" not in wanted):
        found += [(f"{config.course_id}-{p.module_id}", p.title, [p]) for p in pages]
    return found


def unit_site(site: Entries, page: launch.LaunchPage) -> Entries:
    """The part of `site` one unit's zip holds: its pages and the files they use."""
    used = subset.used_files(site, [path for path, _title in page.pages])
    return {name: content for name, content in site.items() if name in used}


def site_files(html_dir: Path) -> Entries:
    """Every file of the built site by zip path, leaving out Sphinx's hidden bookkeeping."""
    if not (html_dir / "index.html").is_file():
        raise BuildError(
            f"{html_dir}: no built site here (index.html missing); build the book first"
        )
    found: Entries = {}
    for folder, dirs, files in os.walk(html_dir):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = Path(folder).relative_to(html_dir).as_posix()
        for name in files:
            # .buildinfo, .nojekyll: for Sphinx and GitHub only. Other dot-names are
            # packaged (or refused by check_entry_names): dropping one leaves a dead link.
            if name not in SITE_BOOKKEEPING:
                path = Path(folder, name)
                _require_own_file(path, html_dir)
                found[name if rel == "." else f"{rel}/{name}"] = path
    return found


def _require_own_file(path: Path, html_dir: Path) -> None:
    """A second line of defence: only regular files of the site itself are packaged."""
    if path.is_symlink() and not Path(os.path.realpath(path)).is_relative_to(html_dir.resolve()):
        raise BuildError(
            f"{path}: a symlink to {os.path.realpath(path)}, outside the site; "
            "its content is not packaged (copy the file into the course)"
        )
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise BuildError(f"{path}: cannot be read for packaging ({exc.strerror})") from exc
    if not stat.S_ISREG(mode):
        raise BuildError(f"{path}: not a regular file (a FIFO, socket or device); not packaged")


def unsafe_name(name: str) -> str:
    """Why zip entry `name` is unsafe to unpack on Windows, macOS or Linux, or ""."""
    if "\\" in name:
        return "it holds a backslash, which Windows tools read as a folder separator"
    parts = name.split("/")
    if name.startswith("/") or any(p in ("", ".", "..") for p in parts):
        return "it holds an empty, `.` or `..` part, which leads outside its folder"
    for part in parts:
        if WINDOWS_BAD_CHARS.search(part):
            return f"{part!r} holds a character Windows forbids in file names"
        if WINDOWS_RESERVED.fullmatch(part):
            return f"{part!r} is a reserved device name on Windows"
        if part.endswith((" ", ".")):
            return f"{part!r} ends with a space or a dot, which Windows drops"
    return ""


def check_entry_names(entries: Entries) -> None:
    """Refuse (BuildError naming the file) zip entry names unsafe on any common system."""
    seen: dict[str, str] = {}
    for name in sorted(entries):
        why = unsafe_name(name)
        if why:
            raise BuildError(f"{name}: cannot be packaged: {why}; rename the course file")
        twin = seen.setdefault(name.casefold(), name)
        if twin != name:
            raise BuildError(
                f"{name}: cannot be packaged beside {twin}: the names differ only in case, "
                "and Windows and macOS would unpack one over the other; rename one"
            )


def check_xml_texts(course: Course) -> None:
    """Refuse (BuildError naming the file) text the manifest's XML could not hold."""
    config = course.config
    assert config is not None
    texts = [
        ("_config.yml", "title", config.title),
        ("_config.yml", "description", config.description),
    ]
    texts += [(m.yaml_path or "_toc.yml", "title", m.title) for m in course.modules]
    refuse_xml_bad(texts, "the SCORM manifest (XML)")


def refuse_xml_bad(texts: Sequence[tuple[str, str, str | None]], document: str) -> None:
    """Raise BuildError for the first (file, field, text) holding what XML cannot hold."""
    for where, field, text in texts:
        bad = XML_BAD.search(text or "")
        if bad:
            raise BuildError(
                f"{where}: the {field} holds the control character {bad.group()!r} "
                f"(at position {bad.start() + 1}), which {document} cannot hold; remove it"
            )


def _launch_page(course: Course, html_dir: Path, site: Entries, module) -> launch.LaunchPage:  # type: ignore[no-untyped-def]
    assert course.config is not None
    if not module.pages:
        raise BuildError(f"{module.where}: unit {module.id} has no pages in _toc.yml to package")
    pages = []
    for page in module.pages:
        path = f"{page.docname}.html"
        if path not in site:
            raise BuildError(f"{page.path}: {path} is missing from the built site {html_dir}")
        title = launch.page_title(html_dir / path, course.config.title, page.docname)
        pages.append((path, title))
    # coursekit's own layout numbers its modules; a book's parts keep their captions.
    title = f"Module {module.number} · {module.title}" if module.folder else module.title
    # A unit's own pass mark (module.yml `mastery_score`), else the course's.
    mastery = module.mastery_score
    return launch.LaunchPage(
        module.id,
        title,
        tuple(pages),
        # A quiz without questions cannot be passed: the unit is then one without a quiz.
        has_quiz=has_questions(course, module),
        mastery_score=course.config.scorm.mastery_score if mastery is None else mastery,
        # The rule as packaged: `quiz` or `both` only where there is a quiz to pass.
        **{**launch.unit_details(course, module), "completion": completion_rule(course, module)},
    )


def _sco(course: Course, unit: Unit | None, page: launch.LaunchPage) -> Sco:
    """The manifest's view of one SCO: launch page, pass mark, completion, objectives."""
    rule = completion_rule(course, unit) if unit is not None else "pages"
    objectives = unit.objectives if unit is not None else ()
    return Sco(
        ncname(page.module_id, "M"),
        page.title,
        launch.launch_path(page.module_id),
        page.mastery_score if page.has_quiz else None,
        completion=rule,
        completion_share=unit.completion_share if unit is not None and rule == "share" else 1.0,
        objectives=tuple(objective_id(page.module_id, n) for n in range(1, len(objectives) + 1)),
    )


def _entries(
    course: Course,
    units: dict[str, Unit],
    site: Entries,
    pages: list[launch.LaunchPage],
    scheme: Scheme,
    package_id: str,
    title: str,
) -> Entries:
    """All zip entries of one package (the SCOs `pages`), the manifest validated and included."""
    config = course.config
    assert config is not None
    generated: Entries = {}
    runtime = resources.files("coursekit.packages.scorm") / "runtime"
    for name in launch.RUNTIME_FILES:
        generated[f"{launch.RUNTIME_DIR}/{name}"] = Path(str(runtime / name))
    for page in pages:
        html = launch.render(
            page, scheme.version, page.mastery_score, config.language, config.course_id
        )
        generated[launch.launch_path(page.module_id)] = html.encode()
    clash = sorted(set(generated) & set(site))
    if clash:
        raise BuildError(f"{clash[0]}: the site already has a file where the SCORM runtime goes")
    entries: Entries = {**site, **generated}
    control = {
        p.name: p for p in sorted(schema_dir(scheme).iterdir()) if p.suffix in (".xsd", ".dtd")
    }
    plan = PackagePlan(
        course_id=package_id,
        title=title,
        description=config.description,
        language=config.language,
        version=config.version,
        scos=tuple(_sco(course, units.get(p.module_id), p) for p in pages),
        content=tuple(sorted(entries)),
        control=tuple(control),
    )
    manifest = build_manifest(plan, scheme)
    zip_name = f"{package_id}-{scheme.suffix}.zip"
    validate_manifest(manifest, scheme, zip_name)
    entries.update(control)
    entries[MANIFEST] = manifest
    check_rules(manifest, sorted(entries), scheme, zip_name)
    return entries


def write_zip(
    entries: Entries, zip_path: Path, compressor: zipwriter.Compressor | None = None
) -> None:
    """Write `entries` deterministically to `zip_path` (via a temporary file, then rename)."""
    compressor = compressor or zipwriter.Compressor()
    tmp = zip_path.with_name(f".{zip_path.name}.tmp")
    try:
        members = (
            compressor.member(name, content, Path(name).suffix.lower() in STORED_SUFFIXES)
            for name, content in sorted(entries.items())
        )
        zipwriter.write(members, tmp)
        os.replace(tmp, zip_path)
    finally:
        tmp.unlink(missing_ok=True)
