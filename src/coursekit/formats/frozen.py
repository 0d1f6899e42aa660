"""Read-only copies of parsed data (YAML, JSON) for the frozen course model.

A frozen dataclass only stops its fields being reassigned; a dict inside it can
still be changed by any stage, and every later stage would see the change. The
model keeps such data as read-only mappings and tuples instead.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NoReturn

EMPTY: Mapping[str, Any] = MappingProxyType({})


def freeze(value: Any) -> Any:
    """`value` with every dict made a read-only mapping and every list a tuple, all the way down."""
    if isinstance(value, dict):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def _refuse(self: object, *args: object, **kwargs: object) -> NoReturn:
    raise TypeError("the course model is read-only: copy it (copy.deepcopy) to change it")


_read_only: Any = _refuse  # stands in for every changing method, whatever its signature


class FrozenDict(dict[str, Any]):
    """A JSON object in the model: reads (and serialises) as a dict, changes nothing.

    A dict subclass rather than a mapping proxy, so that code written for parsed
    JSON (`isinstance(x, dict)`, `json.dumps`, schema validators) reads it as it is;
    `copy.deepcopy` gives a plain, changeable dict.
    """

    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = _read_only
    clear = pop = popitem = setdefault = update = _read_only

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return {key: copy.deepcopy(value, memo) for key, value in self.items()}

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (dict(self),))


class FrozenList(list[Any]):
    """A JSON array in the model: reads as a list, changes nothing (see `FrozenDict`)."""

    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _read_only
    append = extend = insert = pop = remove = clear = sort = reverse = _read_only

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        return [copy.deepcopy(value, memo) for value in self]

    def __reduce__(self) -> tuple[Any, ...]:
        return (list, (list(self),))


class TooDeep(ValueError):
    """Raised by `freeze_json` when arrays and objects nest deeper than its `max_depth`."""


def freeze_json(value: Any, max_depth: int | None = None) -> Any:
    """Freshly parsed JSON made read-only: every object a `FrozenDict`, every array a
    `FrozenList`. It takes `value` over (its containers are reused): pass no JSON that
    anything else holds. With `max_depth`, arrays and objects nested more than that many
    levels (the outermost is level 1) raise `TooDeep`: one walk both checks and freezes."""
    room = max_depth if max_depth is not None else sys.maxsize
    kind = type(value)
    if kind is dict:
        return _freeze_object(value, room)
    if kind is list:
        return _freeze_array(value, room)
    return value


# In place and by exact type: a notebook's JSON is frozen at every load, and this walk
# would otherwise cost as much as the parse. `room`: the levels left for this container.
def _freeze_object(obj: dict[str, Any], room: int) -> FrozenDict:
    if room <= 0:
        raise TooDeep
    for key, item in obj.items():
        kind = type(item)
        if kind is dict:
            obj[key] = _freeze_object(item, room - 1)
        elif kind is list:
            obj[key] = _freeze_array(item, room - 1)
    return FrozenDict(obj)


def _freeze_array(array: list[Any], room: int) -> FrozenList:
    if room <= 0:
        raise TooDeep
    for index, item in enumerate(array):
        kind = type(item)
        if kind is dict:
            array[index] = _freeze_object(item, room - 1)
        elif kind is list:
            array[index] = _freeze_array(item, room - 1)
    return FrozenList(array)
