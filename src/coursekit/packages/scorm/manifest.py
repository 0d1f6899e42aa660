"""`imsmanifest.xml` for SCORM 1.2 and 2004 4th edition, from a package plan.

The manifest is what an LMS reads on import: one organization whose items are the
course modules, each item pointing at a SCO resource (the module's launch page),
plus asset resources listing every other file of the zip. Both versions share the
same plan (`PackagePlan`); only the namespaces, the metadata binding and the
SCO attribute differ, and those live in `SCHEMES`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from lxml import etree

XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_NS = "http://www.w3.org/XML/1998/namespace"


@dataclass(frozen=True, slots=True)
class Scheme:
    """Everything that differs between the two SCORM versions' manifests."""

    version: str  # "1.2" | "2004"
    suffix: str  # file name suffix of the zip: "scorm12" | "scorm2004"
    schemaversion: str
    cp: str  # the content packaging namespace (the manifest's default namespace)
    adlcp: str
    scorm_type_attr: str  # 1.2 "scormtype", 2004 "scormType" (ADL spelled it both ways)
    extra_ns: tuple[tuple[str, str], ...]  # other prefixes declared on <manifest>
    schema_locations: tuple[tuple[str, str], ...]  # namespace → control file at the zip root
    schema_dir: str  # folder under packages/scorm/schemas/ holding the control files


SCORM12 = Scheme(
    version="1.2",
    suffix="scorm12",
    schemaversion="1.2",
    cp="http://www.imsproject.org/xsd/imscp_rootv1p1p2",
    adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2",
    scorm_type_attr="scormtype",
    extra_ns=(("imsmd", "http://www.imsglobal.org/xsd/imsmd_rootv1p2p1"),),
    schema_locations=(
        ("http://www.imsproject.org/xsd/imscp_rootv1p1p2", "imscp_rootv1p1p2.xsd"),
        ("http://www.imsglobal.org/xsd/imsmd_rootv1p2p1", "imsmd_rootv1p2p1.xsd"),
        ("http://www.adlnet.org/xsd/adlcp_rootv1p2", "adlcp_rootv1p2.xsd"),
    ),
    schema_dir="scorm12",
)

SCORM2004 = Scheme(
    version="2004",
    suffix="scorm2004",
    schemaversion="2004 4th Edition",
    cp="http://www.imsglobal.org/xsd/imscp_v1p1",
    adlcp="http://www.adlnet.org/xsd/adlcp_v1p3",
    scorm_type_attr="scormType",
    extra_ns=(
        ("adlseq", "http://www.adlnet.org/xsd/adlseq_v1p3"),
        ("adlnav", "http://www.adlnet.org/xsd/adlnav_v1p3"),
        ("imsss", "http://www.imsglobal.org/xsd/imsss"),
    ),
    schema_locations=(
        ("http://www.imsglobal.org/xsd/imscp_v1p1", "imscp_v1p1.xsd"),
        ("http://www.adlnet.org/xsd/adlcp_v1p3", "adlcp_v1p3.xsd"),
        ("http://www.adlnet.org/xsd/adlseq_v1p3", "adlseq_v1p3.xsd"),
        ("http://www.adlnet.org/xsd/adlnav_v1p3", "adlnav_v1p3.xsd"),
        ("http://www.imsglobal.org/xsd/imsss", "imsss_v1p0.xsd"),
    ),
    schema_dir="scorm2004",
)

SCHEMES = {"1.2": SCORM12, "2004": SCORM2004}
IMSSS = "http://www.imsglobal.org/xsd/imsss"
LOM = "http://ltsc.ieee.org/xsd/LOM"  # SCORM 2004 inline metadata (IEEE LOM binding)


@dataclass(frozen=True, slots=True)
class Sco:
    """One module as the LMS sees it: an item and the SCO resource it launches."""

    identifier: str  # NCName stem shared by the item and the resource
    title: str
    launch: str  # zip path of the launch page, e.g. "scorm/launch-intro.html"
    mastery_score: int | None = None  # percent to pass the module's quiz, when it has one
    # When the SCO is completed (module.yml `completion:`, as packaged): "pages", "quiz",
    # "both" or "share" (`completion_share` of the pages seen, 0–1).
    completion: str = "pages"
    completion_share: float = 1.0
    objectives: tuple[str, ...] = ()  # the ids of the unit's objectives (`objective_id`)


@dataclass(frozen=True, slots=True)
class PackagePlan:
    """What goes into one package: metadata, SCOs in course order, and every zip path."""

    course_id: str
    title: str
    description: str
    language: str
    version: str
    scos: tuple[Sco, ...]
    content: tuple[str, ...]  # site files + runtime files, sorted zip paths
    control: tuple[str, ...]  # the ADL control files at the zip root


_NCNAME_BAD = re.compile(r"[^A-Za-z0-9._-]+")


def ncname(text: str, prefix: str) -> str:
    """`prefix-text` made into an XML NCName (letters, digits, `.`, `-`, `_`)."""
    stem = _NCNAME_BAD.sub("-", text).strip("-") or "x"
    return f"{prefix}-{stem}"


def objective_id(unit_id: str, number: int) -> str:
    """The id of a unit's objective `number` (1-based, as quiz.yml names it): the
    manifest's `objectiveID` and the `cmi.objectives.n.id` the runtime writes
    (`objectiveId` in coursekit-scorm.js), fit for 1.2's identifier and 2004's URI."""
    return f"{unit_id}-objective-{number}"


def decimal(value: float) -> str:
    """A 0–1 measure as the manifest and cmi5.xml write it: "0.8", "1", "0"."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text or "0"


def href(path: str) -> str:
    """A zip path as a manifest URL: `/`-separated, percent-encoded where needed."""
    return quote(path, safe="/-._~")


def build_manifest(plan: PackagePlan, scheme: Scheme) -> bytes:
    """Serialize the manifest of `plan` for `scheme` (UTF-8, with XML declaration)."""
    nsmap: dict[str | None, str] = {None: scheme.cp, "adlcp": scheme.adlcp, "xsi": XSI}
    nsmap.update(scheme.extra_ns)
    cp = f"{{{scheme.cp}}}"
    root = etree.Element(f"{cp}manifest", nsmap=nsmap)  # type: ignore[arg-type]
    root.set("identifier", ncname(plan.course_id, "MANIFEST"))
    root.set("version", plan.version)
    root.set(f"{{{XSI}}}schemaLocation", " ".join(f"{ns} {f}" for ns, f in scheme.schema_locations))

    metadata = etree.SubElement(root, f"{cp}metadata")
    etree.SubElement(metadata, f"{cp}schema").text = "ADL SCORM"
    etree.SubElement(metadata, f"{cp}schemaversion").text = scheme.schemaversion
    metadata.append(_lom12(plan) if scheme is SCORM12 else _lom2004(plan))

    org_id = ncname(plan.course_id, "ORG")
    organizations = etree.SubElement(root, f"{cp}organizations", default=org_id)
    org = etree.SubElement(organizations, f"{cp}organization", identifier=org_id)
    etree.SubElement(org, f"{cp}title").text = plan.title
    for sco in plan.scos:
        item = etree.SubElement(
            org,
            f"{cp}item",
            identifier=f"ITEM-{sco.identifier}",
            identifierref=f"RES-{sco.identifier}",
            isvisible="true",
        )
        etree.SubElement(item, f"{cp}title").text = sco.title
        if scheme is SCORM12 and sco.mastery_score is not None:
            # 1.2 LMSs show this pass mark and hand it to the SCO (student_data.mastery_score).
            mastery = etree.SubElement(item, f"{{{scheme.adlcp}}}masteryscore")
            mastery.text = str(sco.mastery_score)
        if scheme is SCORM2004:
            _sequencing2004(item, sco, scheme)
    if scheme is SCORM2004:
        # Flow lets the LMS offer "continue" in module order; choice lets learners pick.
        seq = etree.SubElement(org, f"{{{IMSSS}}}sequencing")
        etree.SubElement(seq, f"{{{IMSSS}}}controlMode", choice="true", flow="true")

    resources = etree.SubElement(root, f"{cp}resources")
    common = ncname(plan.course_id, "RES-COMMON")
    type_attr = f"{{{scheme.adlcp}}}{scheme.scorm_type_attr}"
    for sco in plan.scos:  # SCOs first: some LMSs launch the first resource
        res = etree.SubElement(
            resources,
            f"{cp}resource",
            identifier=f"RES-{sco.identifier}",
            type="webcontent",
            href=href(sco.launch),
        )
        res.set(type_attr, "sco")
        etree.SubElement(res, f"{cp}file", href=href(sco.launch))
        etree.SubElement(res, f"{cp}dependency", identifierref=common)
    _asset(resources, cp, type_attr, common, plan.content)
    _asset(resources, cp, type_attr, ncname(plan.course_id, "RES-CONTROL"), plan.control)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _sequencing2004(item: etree._Element, sco: Sco, scheme: Scheme) -> None:
    """What a SCORM 2004 LMS knows of a SCO's completion, pass mark and objectives.

    The SCO sets its completion and success itself (`*SetByContent`). With a share
    of pages, the LMS counts it completed from the `cmi.progress_measure` it
    reports (`completionThreshold`, `completedByMeasure`). With a quiz, the pass
    mark is the primary objective's `minNormalizedMeasure`, which the LMS hands
    the SCO as `cmi.scaled_passing_score`. Each unit objective is an objective the
    LMS lists under `cmi.objectives` by its id.
    """
    if sco.completion == "share":
        etree.SubElement(
            item,
            f"{{{scheme.adlcp}}}completionThreshold",
            completedByMeasure="true",
            minProgressMeasure=decimal(sco.completion_share),
        )
    seq = etree.SubElement(item, f"{{{IMSSS}}}sequencing")
    objectives = etree.SubElement(seq, f"{{{IMSSS}}}objectives")
    primary = etree.SubElement(objectives, f"{{{IMSSS}}}primaryObjective")
    if sco.mastery_score is not None:
        primary.set("satisfiedByMeasure", "true")
        measure = etree.SubElement(primary, f"{{{IMSSS}}}minNormalizedMeasure")
        measure.text = decimal(sco.mastery_score / 100)
    for ident in sco.objectives:
        etree.SubElement(objectives, f"{{{IMSSS}}}objective", objectiveID=ident)
    etree.SubElement(
        seq,
        f"{{{IMSSS}}}deliveryControls",
        completionSetByContent="true",
        objectiveSetByContent="true",
    )


def _asset(
    resources: etree._Element, cp: str, type_attr: str, ident: str, paths: tuple[str, ...]
) -> None:
    res = etree.SubElement(resources, f"{cp}resource", identifier=ident, type="webcontent")
    res.set(type_attr, "asset")
    for path in paths:
        etree.SubElement(res, f"{cp}file", href=href(path))


def _lom12(plan: PackagePlan) -> etree._Element:
    """IMS Metadata 1.2.1 (the binding SCORM 1.2 ships the XSD for)."""
    md = "{http://www.imsglobal.org/xsd/imsmd_rootv1p2p1}"

    def langstring(parent: etree._Element, tag: str, text: str) -> None:
        el = etree.SubElement(parent, f"{md}{tag}")
        etree.SubElement(el, f"{md}langstring", {f"{{{XML_NS}}}lang": plan.language}).text = text

    lom = etree.Element(f"{md}lom")
    general = etree.SubElement(lom, f"{md}general")
    langstring(general, "title", plan.title)
    etree.SubElement(general, f"{md}language").text = plan.language
    if plan.description:
        langstring(general, "description", plan.description)
    lifecycle = etree.SubElement(lom, f"{md}lifecycle")
    langstring(lifecycle, "version", plan.version)
    return lom


def _lom2004(plan: PackagePlan) -> etree._Element:
    """IEEE LOM, the metadata binding of SCORM 2004 (its schema is not required)."""
    lom_ns = f"{{{LOM}}}"

    def string(parent: etree._Element, tag: str, text: str) -> None:
        el = etree.SubElement(parent, f"{lom_ns}{tag}")
        etree.SubElement(el, f"{lom_ns}string", language=plan.language).text = text

    lom = etree.Element(f"{lom_ns}lom", nsmap={None: LOM})  # type: ignore[dict-item]
    general = etree.SubElement(lom, f"{lom_ns}general")
    string(general, "title", plan.title)
    etree.SubElement(general, f"{lom_ns}language").text = plan.language
    if plan.description:
        string(general, "description", plan.description)
    lifecycle = etree.SubElement(lom, f"{lom_ns}lifeCycle")
    string(lifecycle, "version", plan.version)
    return lom
