"""Read-only copies of parsed data (YAML, JSON) for the frozen course model.

A frozen dataclass only stops its fields being reassigned; a dict inside it can
still be changed by any stage, and every later stage would see the change. The
model keeps such data as read-only mappings and tuples instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

EMPTY: Mapping[str, Any] = MappingProxyType({})


def freeze(value: Any) -> Any:
    """`value` with every dict made a read-only mapping and every list a tuple, all the way down."""
    if isinstance(value, dict):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value
