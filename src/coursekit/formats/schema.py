"""Tiny declarative schemas for the YAML files, checked with source positions.

A `Spec` lists the allowed keys of one mapping, their types and whether they are
required. `validate` reports wrong types (CK102), unknown keys (CK103, warning)
and missing required keys (CK104) and returns only the values that passed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from coursekit.findings import Finding, make
from coursekit.formats.yamlfile import Key, YamlDoc


@dataclass(frozen=True, slots=True)
class Field:
    types: tuple[type, ...]
    required: bool = False
    describe: str = ""  # how to name the expected type in a message

    def accepts(self, value: Any) -> bool:
        # bool is an int in Python; YAML `yes` must not pass as a number.
        if isinstance(value, bool) and not {bool, object} & set(self.types):
            return False
        if isinstance(value, str) and CONTROL.search(value):
            return False  # it would end up in XML, HTML or a terminal
        return isinstance(value, self.types)


# C0/C1 control characters (tab and line breaks allowed): XML 1.0 forbids most of them
# and a terminal obeys them.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
STR = Field((str,), describe="a string")
REQ_STR = Field((str,), required=True, describe="a string")
LIST = Field((list,), describe="a list")
MAP = Field((dict,), describe="a mapping")
ANY = Field((object,), describe="any value")
Spec = Mapping[str, Field]


def type_name(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }.get(type(value), type(value).__name__)


def expect_mapping(
    doc: YamlDoc, keys: tuple[Key, ...], value: Any, what: str, findings: list[Finding]
) -> dict[str, Any] | None:
    """`value` if it is a mapping, else a CK102 finding and None."""
    if isinstance(value, dict):
        return value
    line, col = doc.where(*keys)
    if value is None and not keys:
        msg = f"{what} is empty; it must be a mapping of keys to values"
    else:
        msg = f"{what} must be a mapping of keys to values, got {type_name(value)}"
    findings.append(make("CK102", doc.path, line, col, msg))
    return None


def validate(
    doc: YamlDoc,
    keys: tuple[Key, ...],
    data: dict[str, Any],
    spec: Spec,
    what: str,
    findings: list[Finding],
) -> dict[str, Any]:
    """Check `data` (found at `keys` in `doc`) against `spec`; return the valid values."""
    valid: dict[str, Any] = {}
    for name, value in data.items():
        field = spec.get(str(name))
        if field is None:
            line, col = doc.where(*keys, name, key=True)
            allowed = ", ".join(sorted(spec))
            findings.append(
                make(
                    "CK103",
                    doc.path,
                    line,
                    col,
                    f"unknown key {name!r} in {what} (allowed: {allowed})",
                )
            )
        elif not field.accepts(value):
            msg = f"{name!r} must be {field.describe}, got {type_name(value)}"
            control = CONTROL.search(value) if isinstance(value, str) else None
            if control is not None:
                msg = (
                    f"{name!r} holds the control character U+{ord(control.group()):04X}, "
                    "which no page, package or terminal can show; remove it"
                )
            findings.append(doc.finding("CK102", msg, *keys, name))
        else:
            valid[str(name)] = value
    for name, field in spec.items():
        if field.required and name not in data:
            line, col = doc.where(*keys)
            findings.append(
                make("CK104", doc.path, line, col, f"{what} is missing the required key {name!r}")
            )
    return valid
