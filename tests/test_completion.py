"""`completion:` in module.yml: read and checked, and carried by the SCORM manifests.

The tiny two-module course of the SCORM tests is built once with the real
Jupyter Book; each variant sets its first module's `completion:` (and quiz),
is loaded and checked as `coursekit check` does, and packaged as `coursekit
build` does. Every manifest is validated against ADL's XSDs by the packaging
itself, and again here. (cmi5.xml's `moveOn`: tests/test_cmi5.py.)
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from coursekit.checks import check_course
from coursekit.model import Course
from coursekit.packages.scorm import package
from coursekit.packages.scorm.manifest import SCHEMES
from coursekit.packages.scorm.validate import check_rules, validate_manifest
from lms.harness import CP_NS, MODULES, build_html, make_tiny_course

FIRST = next(iter(MODULES))  # "01-first", unit "first-steps": three pages
IMSSS = "{http://www.imsglobal.org/xsd/imsss}"
ADLCP = "{http://www.adlnet.org/xsd/adlcp_v1p3}"
QUIZ = """id: q
title: Check
questions:
  - id: one
    type: single
    prompt: "Pick the first."
    objectives: [1]
    choices:
      - text: First
        correct: true
      - text: Second
"""
EMPTY_QUIZ = "id: q\ntitle: Check\nquestions: []\n"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The tiny course's sources and its built site."""
    root = make_tiny_course(tmp_path_factory.mktemp("tiny"))
    return root, build_html(root)


def _variant(tiny: tuple[Path, Path], dest: Path, completion: str | None, quiz: str | None) -> Path:
    root, _site = tiny
    shutil.copytree(root, dest, ignore=shutil.ignore_patterns("_out"))
    module = dest / "modules" / FIRST
    if completion is not None:
        with (module / "module.yml").open("a", encoding="utf-8") as f:
            f.write(f"completion: {completion}\n")
    if quiz is not None:
        (module / "quiz.yml").write_text(quiz, encoding="utf-8")
    return dest


def _checked(root: Path) -> tuple[Course, list[str]]:
    course, found = check_course(root)
    return course, [f"{f.path}:{f.line}:{f.col}: {f.code} {f.message}" for f in found]


def _manifests(course: Course, site: Path, out: Path) -> dict[str, etree._Element]:
    """version → the manifest of the first module's own zip, validated as an LMS would."""
    package(course, site, out)
    found = {}
    for version, scheme in SCHEMES.items():
        with zipfile.ZipFile(out / f"tiny-first-steps-{scheme.suffix}.zip") as zf:
            manifest, names = zf.read("imsmanifest.xml"), zf.namelist()
        validate_manifest(manifest, scheme, "first.zip")  # ADL's XSDs
        check_rules(manifest, names, scheme, "first.zip")
        found[version] = etree.fromstring(manifest)
    return found


def _item(root: etree._Element, version: str) -> etree._Element:
    return next(root.iter(f"{{{CP_NS[version]}}}item"))


@pytest.mark.parametrize(
    ("written", "rule", "share"),
    [(None, "pages", 1.0), ("pages", "pages", 1.0), ("quiz", "quiz", 1.0),
     ("both", "both", 1.0), ('"80%"', "share", 0.8), ("12.5 %", "share", 0.125),
     ("100%", "share", 1.0)],
)  # fmt: skip
def test_completion_is_read_from_module_yml(
    tiny: tuple[Path, Path], tmp_path: Path, written: str | None, rule: str, share: float
) -> None:
    course, found = _checked(_variant(tiny, tmp_path / "c", written, QUIZ))
    assert not [f for f in found if "CK126" in f or "CK127" in f]
    first = course.units[0]
    assert (first.completion, first.completion_share) == (rule, share)
    assert (first.completion_pos is None) == (written is None)
    assert course.units[1].completion == "pages"  # the other unit keeps the default


@pytest.mark.parametrize("written", ["quizz", "0%", "120%", "80", "[quiz]", "yes"])
def test_a_bad_completion_is_an_error_at_its_line(
    tiny: tuple[Path, Path], tmp_path: Path, written: str
) -> None:
    course, found = _checked(_variant(tiny, tmp_path / "c", written, QUIZ))
    errors = [f for f in found if " CK126 " in f]
    # module.yml: id, title, summary, objectives (2 lines), duration, then completion
    assert errors and errors[0].startswith(f"modules/{FIRST}/module.yml:7:13: CK126 ")
    assert "pages" in errors[0] and "quiz" in errors[0] and "80%" in errors[0]
    assert course.units[0].completion == "pages"  # the default stands


@pytest.mark.parametrize(("quiz", "what"), [(EMPTY_QUIZ, "no questions"), (None, "no quiz")])
def test_quiz_completion_without_questions_is_a_warning_and_packaged_as_pages(
    tiny: tuple[Path, Path], tmp_path: Path, quiz: str | None, what: str
) -> None:
    """Issue 24's family: a unit must never need a pass it cannot get."""
    course, found = _checked(_variant(tiny, tmp_path / "c", "quiz", quiz))
    warnings = [f for f in found if " CK127 " in f]
    assert len(warnings) == 1 and warnings[0].startswith(f"modules/{FIRST}/module.yml:7:13: ")
    assert what in warnings[0]
    manifests = _manifests(course, tiny[1], tmp_path / "out")
    assert _item(manifests["1.2"], "1.2").findtext("{*}masteryscore") is None
    item = _item(manifests["2004"], "2004")
    primary = item.find(f"{IMSSS}sequencing/{IMSSS}objectives/{IMSSS}primaryObjective")
    assert primary is not None and primary.get("satisfiedByMeasure") is None
    assert item.find(f"{ADLCP}completionThreshold") is None


def test_quiz_completion_in_the_manifests(tiny: tuple[Path, Path], tmp_path: Path) -> None:
    """`quiz`: the pass mark in both versions, the SCO setting completion itself."""
    course, _ = _checked(_variant(tiny, tmp_path / "c", "quiz", QUIZ))
    manifests = _manifests(course, tiny[1], tmp_path / "out")
    assert _item(manifests["1.2"], "1.2").findtext("{*}masteryscore") == "80"
    item = _item(manifests["2004"], "2004")
    seq = item.find(f"{IMSSS}sequencing")
    assert seq is not None
    primary = seq.find(f"{IMSSS}objectives/{IMSSS}primaryObjective")
    assert primary is not None and primary.get("satisfiedByMeasure") == "true"
    assert primary.findtext(f"{IMSSS}minNormalizedMeasure") == "0.8"
    delivery = seq.find(f"{IMSSS}deliveryControls")
    assert delivery is not None
    assert delivery.get("completionSetByContent") == delivery.get("objectiveSetByContent") == "true"
    # no share of pages: the LMS does not derive completion from progress_measure
    assert item.find(f"{ADLCP}completionThreshold") is None


def test_a_share_of_pages_is_the_2004_completion_threshold(
    tiny: tuple[Path, Path], tmp_path: Path
) -> None:
    course, _ = _checked(_variant(tiny, tmp_path / "c", "60%", None))
    item = _item(_manifests(course, tiny[1], tmp_path / "out")["2004"], "2004")
    threshold = item.find(f"{ADLCP}completionThreshold")
    assert threshold is not None
    assert (threshold.get("completedByMeasure"), threshold.get("minProgressMeasure")) == (
        "true",
        "0.6",
    )
    # before the sequencing element, as the CAM orders an item's children
    children = [child.tag for child in item]
    assert children.index(f"{ADLCP}completionThreshold") < children.index(f"{IMSSS}sequencing")


def test_2004_items_list_the_units_objectives_by_the_ids_the_runtime_reports(
    tiny: tuple[Path, Path], tmp_path: Path
) -> None:
    course, _ = _checked(_variant(tiny, tmp_path / "c", None, QUIZ))
    root = _manifests(course, tiny[1], tmp_path / "out")["2004"]
    objectives = _item(root, "2004").findall(
        f"{IMSSS}sequencing/{IMSSS}objectives/{IMSSS}objective"
    )
    # `cmi.objectives.n.id` in coursekit-scorm.js: "<unit id>-objective-<n>"
    assert [o.get("objectiveID") for o in objectives] == ["first-steps-objective-1"]
    runtime = Path(__file__).resolve().parent.parent / "src/coursekit/packages/scorm/runtime"
    assert 'moduleId + "-objective-" + number' in (runtime / "coursekit-scorm.js").read_text(
        encoding="utf-8"
    )
