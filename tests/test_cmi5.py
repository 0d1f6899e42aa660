"""The cmi5 zip: cmi5.xml (the spec's XSD, AU ids, URLs, moveOn, masteryScore), its files, settings.

The small course of tests/lrs/ is built once with `coursekit build --only cmi5`;
variants of its settings are packaged again from that site with
`coursekit.cmi5.package`, as the SCORM tests do.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from conftest import BuiltCourse, run_cli
from coursekit.errors import BuildError
from coursekit.loading import load_course
from coursekit.model import Cmi5Settings
from coursekit.packages.cmi5 import package
from coursekit.packages.cmi5.structure import validate_structure
from lrs.course import UNITS, make_cmi5_course

XSD = (
    Path(__file__).resolve().parent.parent
    / "src/coursekit/packages/cmi5/schemas/CourseStructure.xsd"
)
SPEC_XSD = Path("/work/shared/specs/cmi5/CourseStructure.xsd")
NS = {"c": "https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd"}
IRI = "https://courses.coursekit.test/tiny-cmi5"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_cmi5_course(tmp_path_factory.mktemp("cmi5") / "course")
    result = run_cli("build", root, "--only", "cmi5", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "_build/cmi5" in result.stderr  # the summary names the output and its size
    return root


def _zip(root: Path) -> Path:
    return root / "_build" / "cmi5" / "tiny-cmi5-cmi5.zip"


def _structure(zip_path: Path) -> etree._Element:
    with zipfile.ZipFile(zip_path) as zf:
        return etree.fromstring(zf.read("cmi5.xml"))


def _names(zip_path: Path) -> set[str]:
    with zipfile.ZipFile(zip_path) as zf:
        return set(zf.namelist())


def _aus(doc: etree._Element) -> list[etree._Element]:
    return doc.findall("c:au", NS)


def test_only_cmi5_writes_the_cmi5_zip_and_no_scorm(built: Path) -> None:
    assert sorted(p.name for p in (built / "_build" / "cmi5").iterdir()) == ["tiny-cmi5-cmi5.zip"]
    assert not (built / "_build" / "scorm").exists()


def test_cmi5_xml_is_at_the_root_and_valid_against_the_spec_xsd(built: Path) -> None:
    doc = _structure(_zip(built))
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    assert schema.validate(doc), schema.error_log
    if SPEC_XSD.is_file():  # the copy shipped is the spec's file, byte for byte
        assert XSD.read_bytes() == SPEC_XSD.read_bytes()


def test_one_au_per_unit_in_course_order_with_ids_under_the_course_iri(built: Path) -> None:
    doc = _structure(_zip(built))
    assert doc.find("c:course", NS).get("id") == IRI
    assert doc.findtext("c:course/c:title/c:langstring", namespaces=NS) == "Tiny cmi5 course"
    ids = [ident for ident, _title, _pages in UNITS.values()]
    assert [au.get("id") for au in _aus(doc)] == [f"{IRI}/au/{i}" for i in ids]
    titles = [au.findtext("c:title/c:langstring", namespaces=NS) for au in _aus(doc)]
    assert titles == ["Module 1 · Reading", "Module 2 · More"]


def test_au_urls_are_relative_launch_pages_in_the_zip_showing_the_units_pages(built: Path) -> None:
    names = _names(_zip(built))
    with zipfile.ZipFile(_zip(built)) as zf:
        for au, (folder, (ident, _t, pages)) in zip(
            _aus(_structure(_zip(built))), UNITS.items(), strict=True
        ):
            url = au.findtext("c:url", namespaces=NS)
            assert url == f"cmi5/launch-{ident}.html"
            assert url in names
            launch = zf.read(url).decode()
            shown = [f"modules/{folder}/{p}.html" for p in pages]
            assert [p for p in shown if f'data-ck-page="{p}"' in launch] == shown
            assert all(p in names for p in shown)


def test_mastery_score_and_move_on_come_from_the_units(built: Path) -> None:
    reading, more = _aus(_structure(_zip(built)))
    assert (reading.get("moveOn"), reading.get("masteryScore")) == ("CompletedAndPassed", "0.5")
    assert (more.get("moveOn"), more.get("masteryScore")) == ("Completed", None)


def test_the_zip_holds_the_whole_site_and_the_runtime(built: Path) -> None:
    names = _names(_zip(built))
    for runtime in (
        "xapi-cmi5.js",
        "coursekit-cmi5.js",
        "coursekit-cmi5.css",
        "LICENSE-xapi-cmi5.md",
    ):
        assert f"cmi5/{runtime}" in names
    assert {"index.html", "intro.html", "modules/01-reading/quiz.html"} <= names
    assert not [n for n in names if n.endswith("/") or n.startswith("/") or ".." in n]


@pytest.fixture(scope="module")
def site(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built site, unpacked from the zip (what package() reads)."""
    dest = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(_zip(built)) as zf:
        zf.extractall(dest)
    shutil.rmtree(dest / "cmi5")
    (dest / "cmi5.xml").unlink()
    return dest


def _package(built: Path, site: Path, out: Path, **settings: object) -> list[Path]:
    course = load_course(built).course
    assert course.config is not None
    config = dataclasses.replace(course.config, cmi5=Cmi5Settings(**settings))  # type: ignore[arg-type]
    return package(dataclasses.replace(course, config=config), site, out)


def test_the_same_site_gives_the_same_bytes(built: Path, site: Path, tmp_path: Path) -> None:
    (first,) = _package(built, site, tmp_path / "a", iri=IRI)
    (second,) = _package(built, site, tmp_path / "b", iri=IRI)
    assert first.read_bytes() == second.read_bytes() == _zip(built).read_bytes()


def test_move_on_setting_applies_to_units_with_a_quiz(
    built: Path, site: Path, tmp_path: Path
) -> None:
    (zip_path,) = _package(built, site, tmp_path, move_on="CompletedOrPassed")
    reading, more = _aus(_structure(zip_path))
    assert reading.get("moveOn") == "CompletedOrPassed"
    assert more.get("moveOn") == "Completed"  # no quiz: it can never pass
    assert _structure(zip_path).find("c:course", NS).get("id") == "urn:coursekit:tiny-cmi5"


def test_disabled_writes_no_zip(built: Path, site: Path, tmp_path: Path) -> None:
    assert _package(built, site, tmp_path, enabled=False) == []
    assert list(tmp_path.iterdir()) == []


def test_an_au_url_missing_from_the_zip_stops_the_build(built: Path) -> None:
    with zipfile.ZipFile(_zip(built)) as zf:
        xml = zf.read("cmi5.xml")
        names = [n for n in zf.namelist() if n != "cmi5/launch-more.html"]
    with pytest.raises(BuildError, match=r"cmi5\.xml: the AU URL cmi5/launch-more\.html"):
        validate_structure(xml, names, "tiny-cmi5-cmi5.zip")


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("cmi5: yes-please", "coursekit.cmi5 must be true, false or a mapping"),
        ("cmi5:\n    enabled: 3", "coursekit.cmi5.enabled must be true or false"),
        ("cmi5:\n    move_on: Sometimes", "coursekit.cmi5.move_on must be auto or one of"),
        ("cmi5:\n    iri: not an iri", "coursekit.cmi5.iri names the course"),
    ],
)
def test_a_bad_setting_is_an_error_naming_config_yml(
    tmp_path: Path, setting: str, message: str
) -> None:
    root = make_cmi5_course(tmp_path / "course")
    config = root / "_config.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("  cmi5:\n    iri: " + IRI + "\n", f"  {setting}\n"))
    result = run_cli("build", root, "--only", "cmi5", cwd=root)
    assert result.returncode == 1
    output = result.stdout + result.stderr
    line = next(
        n for n, t in enumerate(config.read_text().splitlines(), 1) if t.strip().startswith("cmi5:")
    )
    found = re.search(rf"_config\.yml:(\d+):\d+: CK102 {re.escape(message)}", output)
    assert found, output
    assert int(found.group(1)) in (line, line + 1)  # the value's own line
    assert not (root / "_build" / "cmi5").exists()


def test_cmi5_false_in_config_yml_turns_it_off(tmp_path: Path) -> None:
    root = make_cmi5_course(tmp_path / "course")
    config = root / "_config.yml"
    config.write_text(
        config.read_text().replace("  cmi5:\n    iri: " + IRI + "\n", "  cmi5: false\n")
    )
    course = load_course(root).course
    assert course.config is not None and course.config.cmi5.enabled is False


@pytest.mark.slow
def test_the_bundled_course_has_one_au_per_module(built_course: BuiltCourse) -> None:
    zips = sorted((built_course.out / "cmi5").glob("*.zip"))
    assert [z.name for z in zips] == ["digital-labor-cmi5.zip"]
    doc = _structure(zips[0])
    assert etree.XMLSchema(etree.parse(str(XSD))).validate(doc)
    modules = load_course(built_course.root).course.modules
    assert [au.get("id").rsplit("/", 1)[-1] for au in _aus(doc)] == [m.id for m in modules]
    names = _names(zips[0])
    assert all(au.findtext("c:url", namespaces=NS) in names for au in _aus(doc))
    assert all(au.get("masteryScore") for au in _aus(doc))  # every module has a quiz


def test_a_rebuild_rewrites_the_zip_only_when_what_it_reads_changed(tmp_path: Path) -> None:
    root = make_cmi5_course(tmp_path / "course")
    assert run_cli("build", root, "--only", "cmi5", cwd=root).returncode == 0
    before = _zip(root).read_bytes()
    again = run_cli("build", root, "--only", "cmi5", cwd=root)
    assert "nothing changed since the last build" in again.stderr
    assert _zip(root).read_bytes() == before
    module = root / "modules" / "01-reading" / "module.yml"
    module.write_text(module.read_text().replace("mastery_score: 50", "mastery_score: 75"))
    edited = run_cli("build", root, "--only", "cmi5", cwd=root)
    assert edited.returncode == 0, edited.stderr
    reading, _more = _aus(_structure(_zip(root)))
    assert reading.get("masteryScore") == "0.75"


def _course_with(built: Path, completion: str | None, questions: bool = True, **settings: object):  # type: ignore[no-untyped-def]
    """The course, its `reading` unit set to `completion` (as module.yml would), its quiz
    emptied when not `questions`, the cmi5 settings `settings`."""
    course = load_course(built).course
    assert course.config is not None
    reading, more = course.units
    if completion is not None:
        share = 0.5 if completion == "share" else 1.0
        reading = dataclasses.replace(
            reading, completion=completion, completion_share=share, completion_pos=(7, 13)
        )
    quizzes = course.quizzes
    if not questions:
        quizzes = tuple(dataclasses.replace(q, questions=()) for q in quizzes)
    config = dataclasses.replace(course.config, cmi5=Cmi5Settings(iri=IRI, **settings))  # type: ignore[arg-type]
    return dataclasses.replace(course, units=(reading, more), quizzes=quizzes, config=config)


@pytest.mark.parametrize(
    ("completion", "move_on"),
    [
        (None, "CompletedAndPassed"),  # no `completion:` written: today's rule
        ("pages", "Completed"),
        ("share", "Completed"),
        ("quiz", "Passed"),
        ("both", "CompletedAndPassed"),
    ],
)
def test_move_on_follows_the_units_completion(
    built: Path, site: Path, tmp_path: Path, completion: str | None, move_on: str
) -> None:
    (zip_path,) = package(_course_with(built, completion), site, tmp_path)
    doc = _structure(zip_path)
    assert etree.XMLSchema(etree.parse(str(SPEC_XSD))).validate(doc)  # the spec's own copy
    reading, more = _aus(doc)
    assert (reading.get("moveOn"), reading.get("masteryScore")) == (move_on, "0.5")
    assert more.get("moveOn") == "Completed"


def test_a_units_completion_wins_over_the_course_move_on(
    built: Path, site: Path, tmp_path: Path
) -> None:
    course = _course_with(built, "quiz", move_on="CompletedOrPassed")
    reading, _more = _aus(_structure(package(course, site, tmp_path)[0]))
    assert reading.get("moveOn") == "Passed"


@pytest.mark.parametrize("completion", [None, "quiz", "both"])
@pytest.mark.parametrize("setting", ["auto", "Passed", "CompletedAndPassed"])
def test_a_quiz_without_questions_never_requires_passing(
    built: Path, site: Path, tmp_path: Path, completion: str | None, setting: str
) -> None:
    """Issue 24: `questions: []` must not leave a unit that can never move on."""
    course = _course_with(built, completion, questions=False, move_on=setting)
    reading, _more = _aus(_structure(package(course, site, tmp_path)[0]))
    assert reading.get("moveOn") == "Completed"
    assert reading.get("masteryScore") is None


def test_the_units_objectives_are_listed_and_referenced_by_their_aus(
    built: Path, site: Path, tmp_path: Path
) -> None:
    course = _course_with(built, None)
    doc = _structure(package(course, site, tmp_path)[0])
    assert etree.XMLSchema(etree.parse(str(SPEC_XSD))).validate(doc)
    listed = doc.findall("c:objectives/c:objective", NS)
    expected = [
        (f"{IRI}/au/{unit.id}/objective/{n}", text)
        for unit in course.units
        for n, text in enumerate(unit.objectives, start=1)
    ]
    assert [(o.get("id"), o.findtext("c:title/c:langstring", namespaces=NS)) for o in listed] == (
        expected
    )
    for au, unit in zip(_aus(doc), course.units, strict=True):
        refs = [o.get("idref") for o in au.findall("c:objectives/c:objective", NS)]
        # the ids coursekit-cmi5.js gives its "answered" statements' objective parents
        assert refs == [f"{au.get('id')}/objective/{n}" for n in range(1, len(unit.objectives) + 1)]


def test_an_objective_reference_to_nothing_stops_the_build(built: Path) -> None:
    with zipfile.ZipFile(_zip(built)) as zf:
        xml, names = zf.read("cmi5.xml"), zf.namelist()
    broken = xml.replace(b'idref="' + IRI.encode() + b"/au/reading/objective/1", b'idref="urn:x')
    assert broken != xml
    with pytest.raises(BuildError, match=r"the objective urn:x is listed in no <objectives>"):
        validate_structure(broken, names, "tiny-cmi5-cmi5.zip")
