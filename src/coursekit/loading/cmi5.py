"""`coursekit.cmi5` in `_config.yml` → `Cmi5Settings` (each bad value is a CK102 at its line).

```yaml
coursekit:
  cmi5:
    enabled: true                  # false (or `cmi5: false`): no cmi5 zip
    iri: https://example.org/c/x   # the course's IRI; default urn:coursekit:<coursekit.id>
    move_on: auto                  # auto, or one of MOVE_ON for every unit with a quiz
```
"""

from __future__ import annotations

import re
from typing import Any

from coursekit.findings import Finding
from coursekit.formats.yamlfile import YamlDoc
from coursekit.model import MOVE_ON, Cmi5Settings

KEYS = ("enabled", "iri", "move_on")
# An absolute IRI: a scheme, a colon, then no spaces or characters XML or a URL cannot hold.
IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+")


def cmi5_settings(doc: YamlDoc, value: Any, findings: list[Finding]) -> Cmi5Settings:
    """The cmi5 settings; a bad value is reported and its default used."""
    keys = ("coursekit", "cmi5")
    if value is None:
        return Cmi5Settings()
    if isinstance(value, bool):
        return Cmi5Settings(enabled=value)
    if not isinstance(value, dict):
        msg = f"coursekit.cmi5 must be true, false or a mapping, got {value!r}"
        findings.append(doc.finding("CK102", msg, *keys))
        return Cmi5Settings()
    for key in value:
        if key not in KEYS:
            msg = f"coursekit.cmi5: unknown key {key!r} (known: {', '.join(KEYS)})"
            findings.append(doc.finding("CK103", msg, *keys, key, key=True))
    enabled = value.get("enabled", True)
    if not isinstance(enabled, bool):
        msg = f"coursekit.cmi5.enabled must be true or false, got {enabled!r}"
        findings.append(doc.finding("CK102", msg, *keys, "enabled"))
        enabled = True
    iri = value.get("iri")
    if iri is not None and not (isinstance(iri, str) and IRI.fullmatch(iri)):
        msg = (
            "coursekit.cmi5.iri names the course in the LMS's records, so it must be an "
            f"absolute IRI such as https://example.org/courses/mine, got {iri!r}"
        )
        findings.append(doc.finding("CK102", msg, *keys, "iri"))
        iri = None
    move_on = value.get("move_on", "auto")
    if move_on not in ("auto", *MOVE_ON):
        msg = f"coursekit.cmi5.move_on must be auto or one of {', '.join(MOVE_ON)}, got {move_on!r}"
        findings.append(doc.finding("CK102", msg, *keys, "move_on"))
        move_on = "auto"
    return Cmi5Settings(enabled=enabled, iri=iri.rstrip("/") if iri else None, move_on=move_on)
