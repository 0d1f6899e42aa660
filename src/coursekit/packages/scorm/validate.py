"""Checks a package must pass before it is written: the ADL XSDs and the zip rules.

Two SCORM 1.2 control files do not load in libxml2 as ADL published them:
`ims_xml.xsd` binds the reserved xml namespace as its default namespace, and
`imsmd_rootv1p2p1.xsd` has a non-deterministic content model (`xsd:any
namespace="##any"` after named elements of the same namespace). We validate
against corrected copies made in memory (`_CORRECTIONS`) and ship the originals,
which is what LMSs expect to find.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from pathlib import Path
from urllib.parse import quote, unquote

from lxml import etree

from coursekit.errors import BuildError
from coursekit.packages.scorm.manifest import IMSSS, SCORM2004, Scheme, href

MANIFEST = "imsmanifest.xml"
_NCNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9._-]*$")
_CORRECTIONS: dict[str, tuple[bytes, bytes]] = {
    "ims_xml.xsd": (b'xmlns="http://www.w3.org/XML/1998/namespace"', b""),
    "imsmd_rootv1p2p1.xsd": (b'<xsd:any namespace="##any"', b'<xsd:any namespace="##other"'),
}


def schema_dir(scheme: Scheme) -> Path:
    """The folder of the bundled ADL control files for `scheme`."""
    return Path(str(resources.files("coursekit.packages.scorm") / "schemas" / scheme.schema_dir))


class _Corrected(etree.Resolver):
    """Serve the bundled control files, with the corrections above applied."""

    def resolve(self, system_url, public_id, context):  # type: ignore[no-untyped-def]
        name = system_url.rsplit("/", 1)[-1]
        if name in _CORRECTIONS:
            text = Path(unquote(system_url.removeprefix("file://"))).read_bytes()
            old, new = _CORRECTIONS[name]
            return self.resolve_string(text.replace(old, new), context)
        return None


@functools.cache
def _schema(scheme: Scheme) -> etree.XMLSchema:
    """One schema importing every namespace the manifest's schemaLocation names."""
    folder = schema_dir(scheme)
    imports = "".join(
        f'<xs:import namespace="{ns}" schemaLocation="{(folder / name).as_uri()}"/>'
        for ns, name in scheme.schema_locations
    )
    driver = f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">{imports}</xs:schema>'
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_Corrected())
    return etree.XMLSchema(etree.fromstring(driver.encode(), parser))


def validate_manifest(manifest: bytes, scheme: Scheme, zip_name: str) -> None:
    """Raise BuildError (rule "xsd") unless `manifest` is valid against the ADL XSDs."""
    try:
        doc = etree.fromstring(manifest, etree.XMLParser(no_network=True, resolve_entities=False))
    except etree.XMLSyntaxError as exc:
        raise _error(zip_name, scheme, "xsd", f"manifest is not well-formed XML: {exc}") from None
    schema = _schema(scheme)
    if not schema.validate(doc):
        first = schema.error_log[0]
        raise _error(
            zip_name,
            scheme,
            "xsd",
            f"{MANIFEST}:{first.line}: {first.message} (ADL {scheme.schema_dir} XSDs)",
        )


def check_rules(manifest: bytes, names: list[str], scheme: Scheme, zip_name: str) -> None:
    """Raise BuildError naming the first broken packaging rule, if any.

    `names` are the zip's entry names. The rules are the ones LMS imports trip on:
    control files at the root, unique NCName identifiers that resolve, the first
    resource being the first SCO, and manifest files == zip files.
    """
    doc = etree.fromstring(manifest)
    problems = list(_rule_problems(doc, names, scheme))
    if problems:
        rule, message = problems[0]
        raise _error(zip_name, scheme, rule, message)


def _rule_problems(doc: etree._Element, names: list[str], scheme: Scheme):  # type: ignore[no-untyped-def]
    cp = f"{{{scheme.cp}}}"
    if any(n.endswith("/") for n in names) or MANIFEST not in names:
        yield "root", f"{MANIFEST} must be at the zip root with no directory prefix"
    for _ns, control in scheme.schema_locations:
        if control not in names:
            yield "control-files", f"ADL control file {control} missing from the zip root"
    schema = doc.findtext(f"{cp}metadata/{cp}schema")
    version = doc.findtext(f"{cp}metadata/{cp}schemaversion")
    if (schema, version) != ("ADL SCORM", scheme.schemaversion):
        yield "schemaversion", f"expected ADL SCORM {scheme.schemaversion}, got {schema} {version}"
    ids = [el.get("identifier") for el in doc.iter() if el.get("identifier") is not None]
    for ident in ids:
        if not _NCNAME.match(ident) or ids.count(ident) > 1:
            yield "identifiers", f"identifier {ident!r} is not a unique NCName"
    res_ids = [r.get("identifier") for r in doc.iter(f"{cp}resource")]
    for el in doc.iter(f"{cp}item", f"{cp}dependency"):
        if el.get("identifierref") not in res_ids:
            yield (
                "identifierref",
                f"identifierref {el.get('identifierref')!r} resolves to no resource",
            )
    yield from _sco_problems(doc, scheme)
    yield from _file_problems(doc, names, scheme)


def _sco_problems(doc: etree._Element, scheme: Scheme):  # type: ignore[no-untyped-def]
    cp = f"{{{scheme.cp}}}"
    type_attr = f"{{{scheme.adlcp}}}{scheme.scorm_type_attr}"
    by_id = {r.get("identifier"): r for r in doc.iter(f"{cp}resource")}
    items = list(doc.iter(f"{cp}item"))
    if not items:
        yield "items", "the organization has no items"
    for item in items:
        res = by_id.get(item.get("identifierref"))
        if res is not None and (res.get(type_attr) != "sco" or not res.get("href")):
            yield (
                "sco",
                f"item {item.get('identifier')} must launch a SCO resource with an href "
                f'(adlcp:{scheme.scorm_type_attr}="sco")',
            )
    first = next(iter(by_id.values()), None)
    if items and first is not None and first.get("identifier") != items[0].get("identifierref"):
        yield "first-resource", "the first resource must be the first module's SCO"
    if scheme is SCORM2004:
        mode = doc.find(
            f"{cp}organizations/{cp}organization/{{{IMSSS}}}sequencing/{{{IMSSS}}}controlMode"
        )
        if mode is None or mode.get("flow") != "true" or mode.get("choice") != "true":
            yield "sequencing", "the organization must allow flow and choice navigation"


def _file_problems(doc: etree._Element, names: list[str], scheme: Scheme):  # type: ignore[no-untyped-def]
    cp = f"{{{scheme.cp}}}"
    hrefs = [el.get("href") for el in doc.iter(f"{cp}file", f"{cp}resource") if el.get("href")]
    for h in hrefs:
        if h.startswith("/") or "\\" in h or ".." in h.split("/") or ":" in h.split("/")[0]:
            yield "paths", f"href {h!r} must be a relative '/' path without '..'"
        elif h != href(unquote(h)):
            yield "paths", f"href {h!r} is not percent-encoded as {href(unquote(h))!r}"
    listed = {unquote(el.get("href")) for el in doc.iter(f"{cp}file")}
    stored = set(names) - {MANIFEST}
    for path in sorted(stored - listed):
        yield "files-listed", f"{path} is in the zip but listed by no resource"
    for path in sorted(listed - stored):
        yield "files-present", f"{quote(path)} is listed in the manifest but not in the zip"


def _error(zip_name: str, scheme: Scheme, rule: str, message: str) -> BuildError:
    return BuildError(f"{zip_name}: SCORM {scheme.version} rule '{rule}' broken: {message}")
