"""Offsets → line:col, in one place, and where a notebook's cells sit in its JSON text.

A finding about a notebook cell points at the `.ipynb` file itself, at the line of
the JSON string that holds the cell's source line (nbformat writes one string per
line), and at the column of the character inside that string (exact unless
escapes such as `\\"` come earlier on that line). The JSON is parsed with the C
`json` module; this slower walk runs only when a finding needs a position.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass


def line_col(text: str, offset: int) -> tuple[int, int]:
    """The 1-based (line, column) of `offset` in `text`."""
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


@dataclass(frozen=True, slots=True)
class CellSpan:
    start: int  # offset of the cell's "{"
    strings: tuple[tuple[int, int], ...]  # (offset after the opening quote, lines it holds)

    def line_position(self, text: str, line: int, col: int) -> tuple[int, int]:
        """File position of (line, col) of this cell's source."""
        first = 1
        for offset, count in self.strings:
            if line < first + count:
                fl, fc = line_col(text, offset)
                return (fl, fc + col - 1) if line == first else (fl, fc)
            first += count
        return line_col(text, self.start)


_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def cell_spans(text: str) -> list[CellSpan]:
    """Where each cell and each string of its source sit in the notebook text."""
    try:
        return _walk_cells(text)
    except (ValueError, IndexError):  # unreachable for text json.loads accepted
        return []


def _walk_cells(text: str) -> list[CellSpan]:
    spans: list[CellSpan] = []
    for key, i in _members(text, _skip(text, 0)):
        if key == "cells" and text[i] == "[":
            spans.extend(_cell_span(text, j) for j in _items(text, i))
            break
    return spans


def _cell_span(text: str, i: int) -> CellSpan:
    strings: list[tuple[int, int]] = []
    if text[i] == "{":
        for key, j in _members(text, i):
            if key != "source":
                continue
            for k in _items(text, j) if text[j] == "[" else iter([j]):
                value, _end = _DECODER.raw_decode(text, k)
                if isinstance(value, str) and value:
                    held = value.count("\n") + (0 if value.endswith("\n") else 1)
                    strings.append((k + 1, held))
    return CellSpan(i, tuple(strings))


def _skip(text: str, i: int) -> int:
    m = _WS.match(text, i)
    return m.end() if m else i


def _members(text: str, i: int) -> Iterator[tuple[str, int]]:
    """For the object at `i`: each key and the offset of its value."""
    i = _skip(text, i + 1)
    while text[i] != "}":
        key, i = _DECODER.raw_decode(text, i)
        i = _skip(text, _skip(text, i) + 1)  # past ":"
        yield key, i
        _value, i = _DECODER.raw_decode(text, i)
        i = _skip(text, i)
        if text[i] == ",":
            i = _skip(text, i + 1)


def _items(text: str, i: int) -> Iterator[int]:
    """For the array at `i`: the offset of each item."""
    i = _skip(text, i + 1)
    while text[i] != "]":
        yield i
        _value, i = _DECODER.raw_decode(text, i)
        i = _skip(text, i)
        if text[i] == ",":
            i = _skip(text, i + 1)


def key_position(text: str, key: str) -> tuple[int, int]:
    """Where the last `"key":` is written in a JSON text (nbformat puts metadata near the end)."""
    matches = list(re.finditer(rf'"{re.escape(key)}"\s*:', text))
    return line_col(text, matches[-1].start()) if matches else (1, 1)
