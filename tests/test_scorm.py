"""SCORM packages: what an LMS reads on import (manifest, zip layout) and the build's checks.

A tiny two-module course is built once with the real Jupyter Book; the packages
are made from it with `coursekit.scorm.package`, as `coursekit build` does.
"""

from __future__ import annotations

import dataclasses
import html.parser
import re
import shutil
import zipfile
from pathlib import Path
from urllib.parse import unquote

import pytest
from lxml import etree

from coursekit.errors import BuildError
from coursekit.loading import load_course
from coursekit.model import Course, ScormSettings
from coursekit.packages.scorm import package
from coursekit.packages.scorm.manifest import SCHEMES
from coursekit.packages.scorm.validate import check_rules, schema_dir, validate_manifest
from lms.harness import CP_NS, MODULES, build_html, items, make_tiny_course

VERSIONS = ["1.2", "2004"]
ODD_NAME = "downloads/notes été #1.txt"  # a site file whose URL needs percent-encoding


@dataclasses.dataclass(frozen=True)
class Tiny:
    course: Course
    html: Path
    zips: dict[str, Path]  # version → the multi-SCO zip
    written: list[Path]  # every zip `package` wrote, in its order
    singles: dict[tuple[str, str], Path]  # (version, module id) → that module's own zip


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Tiny:
    root = make_tiny_course(tmp_path_factory.mktemp("tiny"))
    site = build_html(root)
    (site / ODD_NAME).parent.mkdir()
    (site / ODD_NAME).write_text("notes\n", encoding="utf-8")
    course = load_course(root).course
    out = root / "_scorm"
    written = package(course, site, out)
    zips = {v: out / f"tiny-{SCHEMES[v].suffix}.zip" for v in VERSIONS}
    singles = {
        (v, ident): out / f"tiny-{ident}-{SCHEMES[v].suffix}.zip"
        for v in VERSIONS
        for ident, _, _ in MODULES.values()
    }
    return Tiny(course, site, zips, written, singles)


def _manifest(tiny: Tiny, version: str) -> etree._Element:
    with zipfile.ZipFile(tiny.zips[version]) as zf:
        return etree.fromstring(zf.read("imsmanifest.xml"))


def _names(tiny: Tiny, version: str) -> list[str]:
    with zipfile.ZipFile(tiny.zips[version]) as zf:
        return zf.namelist()


def test_both_versions_are_written_with_course_id_names(tiny: Tiny) -> None:
    """By default: the multi-SCO zip, then one zip per module, for each version."""
    assert [p.name for p in tiny.written] == [
        "tiny-scorm12.zip",
        "tiny-first-steps-scorm12.zip",
        "tiny-second-thoughts-scorm12.zip",
        "tiny-scorm2004.zip",
        "tiny-first-steps-scorm2004.zip",
        "tiny-second-thoughts-scorm2004.zip",
    ]


@pytest.mark.parametrize(
    ("versions", "packages", "expected"),
    [
        (("2004",), ("multi",), ["tiny-scorm2004.zip"]),
        (("1.2",), ("single",),
         ["tiny-first-steps-scorm12.zip", "tiny-second-thoughts-scorm12.zip"]),
    ],
)  # fmt: skip
def test_only_the_configured_versions_and_packages_are_written(
    tiny: Tiny, tmp_path: Path, versions: tuple[str], packages: tuple[str], expected: list[str]
) -> None:
    scorm = ScormSettings(versions=versions, packages=packages)
    config = dataclasses.replace(tiny.course.config, scorm=scorm)
    course = dataclasses.replace(tiny.course, config=config)
    assert [p.name for p in package(course, tiny.html, tmp_path)] == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(expected)


@pytest.mark.parametrize("version", VERSIONS)
def test_each_single_sco_zip_launches_its_own_module_and_passes_the_xsds(
    tiny: Tiny, version: str
) -> None:
    for ident, title, _ in MODULES.values():
        with zipfile.ZipFile(tiny.singles[version, ident]) as zf:
            manifest, names = zf.read("imsmanifest.xml"), zf.namelist()
        validate_manifest(manifest, SCHEMES[version], "single.zip")
        check_rules(manifest, names, SCHEMES[version], "single.zip")
        scos = items(manifest, version)
        assert [(s.launch, s.title.endswith(title)) for s in scos] == [
            (f"scorm/launch-{ident}.html", True)
        ]
        # Only its own launch page, its own pages and what they use; not the other units'.
        assert [n for n in names if n.startswith("scorm/launch-")] == [scos[0].launch]
        folder = next(f for f, (i, _t, _p) in MODULES.items() if i == ident)
        pages = sorted(n for n in names if n.endswith(".html") and not n.startswith("scorm/"))
        assert pages == sorted(f"modules/{folder}/{p}.html" for p in MODULES[folder][2])
        assert {"_static/basic.css", "_static/pygments.css"} <= set(names)
        assert set(names) - {"imsmanifest.xml"} <= set(_names(tiny, version))


@pytest.mark.parametrize(
    ("version", "namespace", "schemaversion", "type_attr", "locations"),
    [
        ("1.2", "http://www.imsproject.org/xsd/imscp_rootv1p1p2", "1.2",
         "{http://www.adlnet.org/xsd/adlcp_rootv1p2}scormtype",
         ["imscp_rootv1p1p2.xsd", "imsmd_rootv1p2p1.xsd", "adlcp_rootv1p2.xsd"]),
        ("2004", "http://www.imsglobal.org/xsd/imscp_v1p1", "2004 4th Edition",
         "{http://www.adlnet.org/xsd/adlcp_v1p3}scormType",
         ["imscp_v1p1.xsd", "adlcp_v1p3.xsd", "adlseq_v1p3.xsd", "adlnav_v1p3.xsd",
          "imsss_v1p0.xsd"]),
    ],
)  # fmt: skip
def test_manifest_declares_its_version_exactly(
    tiny: Tiny,
    version: str,
    namespace: str,
    schemaversion: str,
    type_attr: str,
    locations: list[str],
) -> None:
    root = _manifest(tiny, version)
    assert root.tag == f"{{{namespace}}}manifest"
    assert root.findtext(f"{{{namespace}}}metadata/{{{namespace}}}schema") == "ADL SCORM"
    assert root.findtext(f"{{{namespace}}}metadata/{{{namespace}}}schemaversion") == schemaversion
    pairs = root.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation").split()
    assert pairs[1::2] == locations
    assert pairs[0] == namespace
    types = [r.get(type_attr) for r in root.iter(f"{{{namespace}}}resource")]
    assert types.count("sco") == len(MODULES) and set(types) == {"sco", "asset"}


@pytest.mark.parametrize("version", VERSIONS)
def test_control_files_at_root_are_adls_originals(tiny: Tiny, version: str) -> None:
    bundled = sorted(schema_dir(SCHEMES[version]).glob("*.?sd")) + sorted(
        schema_dir(SCHEMES[version]).glob("*.dtd")
    )
    with zipfile.ZipFile(tiny.zips[version]) as zf:
        for path in bundled:
            assert zf.read(path.name) == path.read_bytes()
    if version == "1.2":  # shipped as published, not the copy corrected for validation
        assert (
            b'xmlns="http://www.w3.org/XML/1998/namespace"'
            in (schema_dir(SCHEMES["1.2"]) / "ims_xml.xsd").read_bytes()
        )


@pytest.mark.parametrize("version", VERSIONS)
def test_one_item_per_module_each_launching_its_own_page(tiny: Tiny, version: str) -> None:
    with zipfile.ZipFile(tiny.zips[version]) as zf:
        scos = items(zf.read("imsmanifest.xml"), version)
        assert [i.title for i in scos] == ["Module 1 · First steps", "Module 2 · Second thoughts"]
        assert [i.launch for i in scos] == [
            "scorm/launch-first-steps.html",
            "scorm/launch-second-thoughts.html",
        ]
        for item, module in zip(scos, tiny.course.modules, strict=True):
            page = zf.read(item.launch).decode()
            links = re.findall(r'data-ck-page="([^"]+)"', page)
            assert links == [f"{p.docname}.html" for p in module.pages]
            assert f'data-ck-scorm="{version}"' in page
            assert f'data-ck-module="{module.id}"' in page


@pytest.mark.parametrize("version", VERSIONS)
def test_identifiers_are_unique_ncnames_and_refs_resolve(tiny: Tiny, version: str) -> None:
    root = _manifest(tiny, version)
    ids = [el.get("identifier") for el in root.iter() if el.get("identifier")]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[A-Za-z_][\w.-]*", i) for i in ids)
    ns = {"cp": CP_NS[version]}
    resources = [r.get("identifier") for r in root.iterfind(".//cp:resource", ns)]
    refs = [el.get("identifierref") for el in root.iterfind(".//cp:item", ns)]
    refs += [el.get("identifierref") for el in root.iterfind(".//cp:dependency", ns)]
    assert refs and set(refs) <= set(resources)
    first_item = root.find(".//cp:organization/cp:item", ns)
    assert resources[0] == first_item.get("identifierref")  # the first resource is a SCO
    org = root.find(".//cp:organization", ns)
    assert root.find("cp:organizations", ns).get("default") == org.get("identifier")
    assert len(root.findall(".//cp:organization", ns)) == 1


@pytest.mark.parametrize("version", VERSIONS)
def test_every_zip_file_is_listed_and_every_listed_file_is_in_the_zip(
    tiny: Tiny, version: str
) -> None:
    root = _manifest(tiny, version)
    hrefs = [f.get("href") for f in root.iter(f"{{{CP_NS[version]}}}file")]
    names = _names(tiny, version)
    assert {unquote(h) for h in hrefs} == set(names) - {"imsmanifest.xml"}
    for h in hrefs:
        assert not h.startswith("/") and ".." not in h.split("/") and "\\" not in h
        assert " " not in h and "#" not in h
    assert "downloads/notes%20%C3%A9t%C3%A9%20%231.txt" in hrefs
    assert ODD_NAME in names


@pytest.mark.parametrize("version", VERSIONS)
def test_zip_has_no_prefix_and_holds_the_whole_site(tiny: Tiny, version: str) -> None:
    names = _names(tiny, version)
    assert "imsmanifest.xml" in names
    assert not any(n.endswith("/") or n.startswith(("/", "./")) for n in names)
    site = {
        p.relative_to(tiny.html).as_posix()
        for p in tiny.html.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.parts)
    }
    assert site <= set(names)
    assert ".buildinfo" not in names  # Sphinx bookkeeping, not part of the site


def test_2004_organization_allows_flow_and_choice(tiny: Tiny) -> None:
    root = _manifest(tiny, "2004")
    mode = root.find(".//{http://www.imsglobal.org/xsd/imsss}controlMode")
    assert (mode.get("flow"), mode.get("choice")) == ("true", "true")


@pytest.mark.parametrize("version", VERSIONS)
def test_metadata_comes_from_config(tiny: Tiny, version: str) -> None:
    text = etree.tostring(_manifest(tiny, version), encoding="unicode")
    for value in ("Tiny SCORM course", "A course for the SCORM tests.", ">en<", ">2.1<"):
        assert value in text
    assert _manifest(tiny, version).get("version") == "2.1"


def test_packages_are_byte_identical_across_builds(tiny: Tiny, tmp_path: Path) -> None:
    copy = tmp_path / "html"
    shutil.copytree(tiny.html, copy)  # new mtimes and inode order: must not matter
    again = package(tiny.course, copy, tmp_path / "again")
    assert [p.name for p in again] == [p.name for p in tiny.written]
    for path, first in zip(again, tiny.written, strict=True):  # multi and single zips alike
        assert path.read_bytes() == first.read_bytes(), path.name
    with zipfile.ZipFile(again[0]) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}


class _Scripts(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        self.inline += [f"{tag} {k}" for k in names if k.startswith("on")]
        # A JSON data block is no script: a Content-Security-Policy lets it through.
        if tag == "script" and not names.get("src") and names.get("type") != "application/json":
            self.inline.append("inline <script>")
        if any("javascript:" in (v or "") for v in names.values()):
            self.inline.append(f"{tag} javascript: URL")


@pytest.mark.parametrize("version", VERSIONS)
def test_launch_pages_have_no_inline_code_and_runtime_no_eval(tiny: Tiny, version: str) -> None:
    with zipfile.ZipFile(tiny.zips[version]) as zf:
        for name in (n for n in zf.namelist() if n.startswith("scorm/launch-")):
            parser = _Scripts()
            parser.feed(zf.read(name).decode())
            assert parser.inline == [], name
        runtime = zf.read("scorm/coursekit-scorm.js").decode()
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", runtime, flags=re.S)
    for banned in (
        "eval(",
        "new Function",
        'setTimeout("',
        "http:",
        "https:",
        "XMLHttpRequest",
        "fetch(",
        "document.write",
    ):
        assert banned not in code


# --- the build refuses broken packages, naming the rule ------------------------------------


def _zip_parts(tiny: Tiny, version: str) -> tuple[bytes, list[str]]:
    with zipfile.ZipFile(tiny.zips[version]) as zf:
        return zf.read("imsmanifest.xml"), zf.namelist()


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("case", "old", "new"),
    [
        ("unknown element", b"<title>Tiny SCORM course</title>", b"<name>Tiny</name>"),
        ("bad scorm type", b'="sco"', b'="page"'),
        ("missing identifier", b'<resource identifier="RES-M-second-thoughts"', b"<resource"),
    ],
)  # fmt: skip
def test_manifest_against_the_xsds_is_rejected(
    tiny: Tiny, version: str, case: str, old: bytes, new: bytes
) -> None:
    manifest, _ = _zip_parts(tiny, version)
    assert old in manifest
    validate_manifest(manifest, SCHEMES[version], "x.zip")  # the real one passes
    with pytest.raises(
        BuildError,
        match=rf"x\.zip: SCORM {version} rule 'xsd' broken: "
        r"imsmanifest\.xml:\d+: ",
    ):
        validate_manifest(manifest.replace(old, new, 1), SCHEMES[version], "x.zip")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("rule", "edit"),
    [
        ("files-listed", lambda m, n: (m, [*n, "stray.html"])),
        ("files-present", lambda m, n: (m, [x for x in n if not x.endswith("third-page.html")])),
        ("control-files", lambda m, n: (m, [x for x in n if not x.endswith(".xsd")])),
        ("root", lambda m, n: (m, [f"course/{x}" for x in n])),
        ("identifierref", lambda m, n: (m.replace(b'identifierref="RES-M-first-steps"',
                                                  b'identifierref="RES-nowhere"'), n)),
        ("identifiers", lambda m, n: (m.replace(b'"ITEM-M-second-thoughts"',
                                                b'"ITEM-M-first-steps"'), n)),
        ("paths", lambda m, n: (m.replace(b'href="scorm/launch-first-steps.html"',
                                          b'href="../scorm/launch-first-steps.html"'), n)),
        ("paths", lambda m, n: (m.replace(b"notes%20%C3%A9t%C3%A9%20%231.txt",
                                          "notes été #1.txt".encode()), n)),
    ],
)  # fmt: skip
def test_broken_packaging_rules_are_named(tiny: Tiny, version: str, rule: str, edit) -> None:  # type: ignore[no-untyped-def]
    manifest, names = _zip_parts(tiny, version)
    check_rules(manifest, names, SCHEMES[version], "x.zip")  # the real one passes
    broken, broken_names = edit(manifest, names)
    with pytest.raises(BuildError, match=rf"rule '{rule}' broken"):
        check_rules(broken, broken_names, SCHEMES[version], "x.zip")


def test_first_resource_must_be_the_first_sco(tiny: Tiny) -> None:
    manifest, names = _zip_parts(tiny, "2004")
    doc = etree.fromstring(manifest)
    resources = doc.find(f"{{{CP_NS['2004']}}}resources")
    resources.append(resources[0])  # move the first SCO's resource to the end
    with pytest.raises(BuildError, match="rule 'first-resource' broken"):
        check_rules(etree.tostring(doc), names, SCHEMES["2004"], "x.zip")


def test_missing_page_is_a_build_error_and_old_zips_survive(tiny: Tiny, tmp_path: Path) -> None:
    out = tmp_path / "scorm"
    first = package(tiny.course, tiny.html, out)
    before = {p.name: p.read_bytes() for p in first}
    broken = tmp_path / "html"
    shutil.copytree(tiny.html, broken)
    (broken / "modules/01-first/third-page.html").unlink()
    with pytest.raises(
        BuildError,
        match=r"modules/01-first/third-page\.md: .*third-page\.html "
        r"is missing from the built site",
    ):
        package(tiny.course, broken, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_no_site_is_a_build_error(tiny: Tiny, tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="no built site here"):
        package(tiny.course, tmp_path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_1_2_items_carry_the_pass_mark_of_modules_with_a_quiz(tiny: Tiny, tmp_path: Path) -> None:
    """A 1.2 LMS shows the pass mark and hands it to the SCO; only quiz modules have one."""
    course = with_quiz(tiny, tmp_path / "course")
    config = dataclasses.replace(course.config, scorm=ScormSettings(packages=("multi",)))
    course = dataclasses.replace(course, config=config)
    rest = course.modules[1:]
    assert course.config is not None
    for version, path in zip(VERSIONS, package(course, tiny.html, tmp_path), strict=True):
        with zipfile.ZipFile(path) as zf:
            root = etree.fromstring(zf.read("imsmanifest.xml"))
        marks = [
            item.findtext("{*}masteryscore") for item in root.iter(f"{{{CP_NS[version]}}}item")
        ]
        if version == "1.2":
            assert marks == [str(course.config.scorm.mastery_score)] + [None] * len(rest)
        else:  # 2004 has no such element: the primary objective's measure is the pass mark
            assert marks == [None] * (1 + len(rest))


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


def with_quiz(tiny: Tiny, root: Path, quiz: str = QUIZ) -> Course:
    """The tiny course again, its first module with `quiz` as its quiz.yml."""
    shutil.copytree(tiny.course.root, root, ignore=shutil.ignore_patterns("_out", "_scorm"))
    (root / "modules" / next(iter(MODULES)) / "quiz.yml").write_text(quiz, encoding="utf-8")
    course = load_course(root).course
    assert course.modules[0].quiz is not None
    return course
