"""The cmi5 zip: the whole built site, an AU launch page per unit, the runtime, `cmi5.xml`.

`_build/cmi5/<course id>-cmi5.zip`. The zip is made as the SCORM zips are
(`coursekit.scorm.package`: the same site files, entry-name rules and
deterministic writing), with `cmi5.xml` at its root instead of a manifest. The
structure is validated (the spec's XSD, ids, AU URLs) before anything is written.

Which `moveOn` each AU gets (`move_on`): a unit that sets `completion:` in its
`module.yml` gets `Completed` for `pages` or a share of pages, `Passed` for
`quiz`, `CompletedAndPassed` for `both`. Other units follow
`coursekit.cmi5.move_on`, default `auto`, which is `CompletedAndPassed` for a
unit with a quiz and `Completed` for one without. A unit without a quiz with
questions can never pass, so it never requires passing, whatever the settings.
Its `masteryScore` is the unit's pass mark (`mastery_score` in `module.yml`, else
`coursekit.scorm.mastery_score`), as a fraction. The unit's objectives are the
course's `<objectives>`, each AU referring to its own.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from coursekit.errors import BuildError
from coursekit.loading.units import completion_rule
from coursekit.model import Config, Course, Unit
from coursekit.packages.cmi5 import launch
from coursekit.packages.cmi5.structure import (
    STRUCTURE,
    Au,
    Objective,
    Structure,
    build_structure,
    validate_structure,
)
from coursekit.packages.scorm import launch as scorm_launch
from coursekit.packages.scorm import zipwriter
from coursekit.packages.scorm.package import (
    Entries,
    _launch_page,
    check_entry_names,
    refuse_xml_bad,
    site_files,
    write_zip,
)

NEEDS_PASS = {"Passed", "CompletedAndPassed", "CompletedOrPassed"}


def zip_name(config: Config) -> str:
    return f"{config.course_id}-cmi5.zip"


def course_iri(config: Config) -> str:
    """The course's IRI: `coursekit.cmi5.iri`, else a URN made of `coursekit.id`."""
    return config.cmi5.iri or f"urn:coursekit:{config.course_id}"


UNIT_MOVE_ON = {"pages": "Completed", "share": "Completed", "quiz": "Passed"}


def move_on(config: Config, has_quiz: bool, completion: str | None = None) -> str:
    """The AU's `moveOn`. `has_quiz`: the unit has a quiz with questions (one it can
    pass); `completion`: the unit's own `completion:` rule as packaged, None when it
    sets none."""
    wanted = config.cmi5.move_on
    if not has_quiz:
        return "Completed" if wanted == "auto" or wanted in NEEDS_PASS else wanted
    if completion is not None:
        return UNIT_MOVE_ON.get(completion, "CompletedAndPassed")
    return "CompletedAndPassed" if wanted == "auto" else wanted


def objective_iri(config: Config, unit_id: str, number: int) -> str:
    """The IRI of a unit's objective `number` (1-based, as quiz.yml names it)."""
    return f"{course_iri(config)}/au/{unit_id}/objective/{number}"


def _unit_move_on(course: Course, unit: Unit | None, has_quiz: bool) -> str:
    assert course.config is not None
    if unit is None or unit.completion_pos is None:
        return move_on(course.config, has_quiz)
    return move_on(course.config, has_quiz, completion_rule(course, unit))


def package(
    course: Course, html_dir: Path, out_dir: Path, cache_dir: Path | None = None
) -> list[Path]:
    """Write the cmi5 zip into `out_dir` (nothing when `coursekit.cmi5.enabled` is false).

    Returns the zips written. Raises BuildError naming the broken rule or file.
    `cache_dir` holds the site files already deflated for the SCORM zips (shared,
    so never pruned from here).
    """
    config = course.config
    if config is None:
        raise BuildError("_config.yml: cannot package cmi5 without a valid configuration")
    out_dir.mkdir(parents=True, exist_ok=True)
    if not config.cmi5.enabled:
        return []
    site = site_files(html_dir)
    check_entry_names(site)
    _check_texts(course)
    pages = [_launch_page(course, html_dir, site, unit) for unit in course.units]
    if not pages:
        raise BuildError("_toc.yml: the course has no units to package as cmi5 AUs")
    zip_path = out_dir / zip_name(config)
    write_zip(_entries(course, config, site, pages), zip_path, zipwriter.Compressor(cache_dir))
    return [zip_path]


def _entries(
    course: Course, config: Config, site: Entries, pages: list[scorm_launch.LaunchPage]
) -> Entries:
    generated: Entries = {}
    runtime = resources.files("coursekit.packages.cmi5") / "runtime"
    for name in launch.RUNTIME_FILES:
        generated[f"{launch.RUNTIME_DIR}/{name}"] = Path(str(runtime / name))
    style = resources.files("coursekit.packages.scorm") / "runtime" / "coursekit-scorm.css"
    generated[f"{launch.RUNTIME_DIR}/{launch.STYLE}"] = Path(str(style))
    reader = resources.files("coursekit.packages.scorm") / "runtime" / launch.READER
    generated[f"{launch.RUNTIME_DIR}/{launch.READER}"] = Path(str(reader))
    units = {unit.id: unit for unit in course.units}
    aus = []
    objectives: list[Objective] = []
    for page in pages:
        unit = units.get(page.module_id)
        moves = _unit_move_on(course, unit, page.has_quiz)
        own = tuple(
            Objective(objective_iri(config, page.module_id, n), text)
            for n, text in enumerate(unit.objectives if unit else (), start=1)
        )
        objectives += own
        html = launch.render(page, moves, config.language, config.course_id)
        generated[launch.launch_path(page.module_id)] = html.encode()
        aus.append(
            Au(
                id=f"{course_iri(config)}/au/{page.module_id}",
                title=page.title,
                description=unit.summary if unit else "",
                url=launch.launch_path(page.module_id),
                move_on=moves,
                mastery_score=page.mastery_score if page.has_quiz else None,
                objectives=tuple(o.id for o in own),
            )
        )
    clash = sorted(set(generated) & set(site))
    if clash:
        raise BuildError(f"{clash[0]}: the site already has a file where the cmi5 runtime goes")
    entries: Entries = {**site, **generated}
    plan = Structure(
        course_id=course_iri(config),
        title=config.title,
        description=config.description,
        language=config.language,
        aus=tuple(aus),
        objectives=tuple(objectives),
    )
    xml = build_structure(plan)
    entries[STRUCTURE] = xml
    validate_structure(xml, sorted(entries), zip_name(config))
    return entries


def _check_texts(course: Course) -> None:
    """Refuse (BuildError naming the file) text cmi5.xml (XML) could not hold."""
    config = course.config
    assert config is not None
    texts = [
        ("_config.yml", "title", config.title),
        ("_config.yml", "description", config.description),
    ]
    for unit in course.units:
        texts += [(unit.where, "title", unit.title), (unit.where, "summary", unit.summary)]
        texts += [(unit.where, "objective", text) for text in unit.objectives]
    refuse_xml_bad(texts, "cmi5.xml (XML)")
