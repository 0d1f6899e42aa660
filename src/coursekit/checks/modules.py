"""Checks across modules (each module.yml on its own is validated while loading)."""

from __future__ import annotations

from collections.abc import Iterator

from coursekit.findings import Finding, make
from coursekit.model import Course


def duplicate_ids(course: Course) -> Iterator[Finding]:
    """CK120: module ids name SCORM items and quiz scores, so they must be unique."""
    first: dict[str, str] = {}
    for module in course.modules:
        if module.id not in first:
            first[module.id] = module.yaml_path
            continue
        line, col = module.id_pos
        yield make(
            "CK120",
            module.yaml_path,
            line,
            col,
            f"module id {module.id!r} is already used by {first[module.id]}; "
            "give this module its own id",
        )


CHECKS = (duplicate_ids,)
