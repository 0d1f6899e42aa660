"""Validate a notebook against the nbformat schema of its own version, once.

nbformat's fastjsonschema backend (when installed) gives the verdict; only an
invalid notebook pays for the jsonschema pass that says where it is wrong.
"""

from __future__ import annotations

from typing import Any

from nbformat import validator as nbvalidator

CELL_TYPES = ("code", "markdown", "raw")
OUTPUT_TYPES = ("execute_result", "display_data", "stream", "error")


def version_of(nb: dict[str, Any]) -> tuple[int, int] | None:
    """(nbformat, nbformat_minor), or None when they are not whole numbers."""
    major, minor = nb.get("nbformat"), nb.get("nbformat_minor", 0)
    if type(major) is int and type(minor) is int:
        return major, minor
    return None


def schema_problem(nb: dict[str, Any]) -> tuple[int | None, str] | None:
    """None when `nb` is valid, else (index of the wrong cell or None, message)."""
    version = version_of(nb)
    if version is None:
        return None, (
            "the notebook has no valid 'nbformat' and 'nbformat_minor' numbers; "
            "save it again with Jupyter"
        )
    name = f"nbformat {version[0]}.{version[1]}"
    try:
        fast = nbvalidator.get_validator(*version)
    except ImportError:
        fast = None
    if fast is None:
        return None, f"{name} is not a notebook version nbformat knows"
    if not list(fast.iter_errors(nb)):
        return None
    detailed = nbvalidator.get_validator(*version, name="jsonschema")
    errors = list(detailed.iter_errors(nb)) if detailed else []
    if not errors:
        return None, f"not valid {name}"
    from jsonschema.exceptions import best_match  # only for invalid notebooks

    path, message = _describe(best_match(errors), version)
    cell = path[1] if len(path) > 1 and path[0] == "cells" and isinstance(path[1], int) else None
    where = "/".join(map(str, path[2:] if cell is not None else path))
    return cell, f"not valid {name}: " + (f"at {where}: " if where else "") + message


def _describe(error: Any, version: tuple[int, int]) -> tuple[list[Any], str]:
    """The path and a readable message: name the wrong cell/output type, not 'oneOf'."""
    path = list(error.absolute_path)
    instance = error.instance
    if str(error.validator).endswith("Of") and isinstance(instance, dict):
        kind = "cell_type" if "cell_type" in instance else "output_type"
        allowed = CELL_TYPES if kind == "cell_type" else OUTPUT_TYPES
        if instance.get(kind) not in allowed:
            return path, f"unknown {kind} {instance.get(kind)!r} (allowed: {', '.join(allowed)})"
        # better_validation_error extends the error's relative path in place; keep the
        # part above it (a nested error's relative path starts at its parent).
        prefix = path[: len(path) - len(error.relative_path)]
        better = nbvalidator.better_validation_error(error, *version)
        path = prefix + list(getattr(better, "relative_path", ()))
        error = better
    message = str(getattr(error, "message", error))
    return path, message if len(message) <= 160 else message[:160] + "…"
