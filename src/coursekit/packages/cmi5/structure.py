"""`cmi5.xml`, the course structure of a cmi5 package: written, then checked.

One `<au>` per unit, in course order, each with its publisher id (the course IRI
followed by `/au/<unit id>`), the relative URL of its launch page inside the
zip, its `moveOn`, for a unit with a quiz its `masteryScore` (the unit's pass
mark, 0–1), and references to its objectives, which the course's `<objectives>`
lists (id `<AU id>/objective/<n>`, the objective's sentence as title and
description). The file is validated against the spec's `CourseStructure.xsd`
(`schemas/`, with its licence) and against the rules an LMS import trips on:
unique ids and every AU URL a file of the zip.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

from coursekit.errors import BuildError
from coursekit.packages.scorm.manifest import decimal, href

STRUCTURE = "cmi5.xml"
NS = "https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd"


@dataclass(frozen=True, slots=True)
class Au:
    """One assignable unit as cmi5.xml lists it."""

    id: str  # the publisher id, an IRI
    title: str
    description: str
    url: str  # zip path of its launch page
    move_on: str
    mastery_score: int | None  # percent; None: the unit has no quiz
    objectives: tuple[str, ...] = ()  # the ids of its objectives (of Structure.objectives)


@dataclass(frozen=True, slots=True)
class Objective:
    """One learning objective: its IRI and its sentence (module.yml `objectives`)."""

    id: str
    text: str


@dataclass(frozen=True, slots=True)
class Structure:
    course_id: str  # the course's IRI
    title: str
    description: str
    language: str
    aus: tuple[Au, ...]
    objectives: tuple[Objective, ...] = ()


def schema_path() -> Path:
    return Path(str(resources.files("coursekit.packages.cmi5") / "schemas" / "CourseStructure.xsd"))


def build_structure(plan: Structure) -> bytes:
    """Serialize `plan` as cmi5.xml (UTF-8, with an XML declaration)."""
    root = etree.Element(f"{{{NS}}}courseStructure", nsmap={None: NS})
    course = etree.SubElement(root, f"{{{NS}}}course", id=plan.course_id)
    _text(course, "title", plan.title, plan.language)
    _text(course, "description", plan.description or plan.title, plan.language)
    if plan.objectives:
        listed = etree.SubElement(root, f"{{{NS}}}objectives")
        for objective in plan.objectives:
            el = etree.SubElement(listed, f"{{{NS}}}objective", id=objective.id)
            _text(el, "title", objective.text, plan.language)
            _text(el, "description", objective.text, plan.language)
    for au in plan.aus:
        attrs = {"id": au.id, "moveOn": au.move_on, "launchMethod": "AnyWindow"}
        if au.mastery_score is not None:
            attrs["masteryScore"] = decimal(au.mastery_score / 100)
        el = etree.SubElement(root, f"{{{NS}}}au", attrs)
        _text(el, "title", au.title, plan.language)
        _text(el, "description", au.description or au.title, plan.language)
        if au.objectives:
            refs = etree.SubElement(el, f"{{{NS}}}objectives")
            for ident in au.objectives:
                etree.SubElement(refs, f"{{{NS}}}objective", idref=ident)
        etree.SubElement(el, f"{{{NS}}}url").text = href(au.url)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _text(parent: etree._Element, name: str, text: str, language: str) -> None:
    el = etree.SubElement(parent, f"{{{NS}}}{name}")
    etree.SubElement(el, f"{{{NS}}}langstring", lang=language).text = text


@functools.cache
def _schema() -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True)
    return etree.XMLSchema(etree.parse(str(schema_path()), parser))


def validate_structure(xml: bytes, names: list[str], zip_name: str) -> None:
    """Raise BuildError unless `xml` is valid cmi5.xml for a zip holding `names`."""
    try:
        doc = etree.fromstring(xml, etree.XMLParser(no_network=True, resolve_entities=False))
    except etree.XMLSyntaxError as exc:
        raise _error(zip_name, f"not well-formed XML: {exc}") from None
    schema = _schema()
    if not schema.validate(doc):
        first = schema.error_log[0]
        raise _error(zip_name, f"{STRUCTURE}:{first.line}: {first.message} (CourseStructure.xsd)")
    ids = [el.get("id") for el in doc.iter() if el.get("id") is not None]
    for ident in ids:
        if ids.count(ident) > 1:
            raise _error(zip_name, f"the id {ident} is used twice; every id must be unique")
    listed = {el.get("id") for el in doc.iterfind(f"{{{NS}}}objectives/{{{NS}}}objective")}
    for ref in doc.iter(f"{{{NS}}}objective"):
        if ref.get("idref") is not None and ref.get("idref") not in listed:
            raise _error(zip_name, f"the objective {ref.get('idref')} is listed in no <objectives>")
    present = set(names)
    for url in doc.iter(f"{{{NS}}}url"):
        path = unquote((url.text or "").split("?", 1)[0].split("#", 1)[0])
        if path not in present:
            raise _error(zip_name, f"the AU URL {url.text} is no file of the zip")


def _error(zip_name: str, message: str) -> BuildError:
    return BuildError(f"{zip_name}: {STRUCTURE}: {message}")
