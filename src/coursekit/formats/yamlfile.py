"""Read a YAML file into plain data while keeping where each value came from.

PyYAML's `compose` gives nodes with 0-based marks; `YamlDoc.where` turns a key
path into the 1-based line and column a person would open.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from coursekit.findings import Finding, make

Key = str | int


@dataclass(frozen=True, slots=True)
class YamlDoc:
    path: str  # relative to the course root, POSIX style
    data: Any
    node: yaml.Node | None

    def where(self, *keys: Key, key: bool = False) -> tuple[int, int]:
        """Line and column of the value at `keys` (or of the key itself with key=True).

        Falls back to the deepest node found, so a finding always has a place.
        """
        node = self.node
        if node is None:
            return (1, 1)
        target: yaml.Node = node
        for i, k in enumerate(keys):
            child = _child(target, k, want_key=key and i == len(keys) - 1)
            if child is None:
                break
            target = child
        return (target.start_mark.line + 1, target.start_mark.column + 1)

    def finding(self, code: str, message: str, *keys: Key, key: bool = False) -> Finding:
        """A finding about the value at `keys` (or the key itself), placed where it is written."""
        line, col = self.where(*keys, key=key)
        return make(code, self.path, line, col, message)


def _child(node: yaml.Node, k: Key, want_key: bool) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for knode, vnode in node.value:
            if knode.value == k:
                return knode if want_key else vnode
    if isinstance(node, yaml.SequenceNode) and isinstance(k, int) and 0 <= k < len(node.value):
        item: yaml.Node = node.value[k]
        return item
    return None


def read_text(root: Path, rel: str, findings: list[Finding]) -> str | None:
    """The file's text, or None with a CK105 finding when it is not UTF-8."""
    try:
        raw = _read_regular(os.path.join(root, rel))  # no Path: called per page
    except OSError as exc:
        findings.append(make("CK105", rel, 0, 0, f"cannot read the file: {exc.strerror}"))
        return None
    if raw is None:
        msg = "not a regular file (a FIFO, socket or device); replace it by a file"
        findings.append(make("CK105", rel, 0, 0, msg))
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if b"\0" in raw[:8000]:
            findings.append(make("CK105", rel, 0, 0, "the file is binary, not UTF-8 text"))
            return None
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        findings.append(
            make("CK105", rel, line, col, "the file is not valid UTF-8; save it as UTF-8")
        )
        return None


def _read_regular(path: str) -> bytes | None:
    """The bytes of a regular file, or None for a FIFO, socket or device.

    Opened without blocking, so a FIFO in the course cannot hang the load.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return file.read()


# libyaml's loader composes a big _toc.yml ten times faster and keeps the same marks.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(root: Path, rel: str, findings: list[Finding]) -> YamlDoc | None:
    """Parse `rel` (relative to `root`); problems become findings, never exceptions."""
    text = read_text(root, rel, findings)
    if text is None:
        return None
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        findings.append(_parse_error(rel, text, exc))
        return None
    except yaml.YAMLError as exc:
        findings.append(make("CK101", rel, 1, 1, f"YAML does not parse: {exc}"))
        return None
    if node is not None:
        problem = _alias_problem(rel, node)
        if problem is not None:
            findings.append(problem)
            return None
        findings.extend(_duplicate_keys(rel, node))
    return YamlDoc(rel, data, node)


def _parse_error(rel: str, text: str, exc: yaml.MarkedYAMLError) -> Finding:
    """CK101 at the parser's mark, saying what it was reading and naming tabs."""
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or exc.context or "invalid YAML"
    lines = text.splitlines()
    at_tab = 0 < line <= len(lines) and lines[line - 1][col - 1 : col] == "\t"
    if at_tab or "tab" in problem or "'\\t'" in problem:
        problem += " (a tab: YAML indents with spaces only)"
    context = exc.context_mark
    if (
        exc.context
        and context
        and exc.problem
        and mark
        and (context.line, context.column) != (mark.line, mark.column)
    ):
        where = f"{context.line + 1}:{context.column + 1}"
        problem = f"{problem} ({exc.context} started at {where})"
    return make("CK101", rel, line, col, f"YAML does not parse: {problem}")


MAX_NODES = 100_000  # far above any real course file; an alias bomb expands past it


def _alias_problem(rel: str, node: yaml.Node) -> Finding | None:
    """CK101 for an alias that contains itself, or aliases that expand without bound.

    Aliases make the composed graph share nodes: walking it as a tree (as every
    reader of the data does) could loop or take exponential time.
    """
    count = 0
    stack: list[tuple[yaml.Node, frozenset[int]]] = [(node, frozenset())]
    while stack:
        current, ancestors = stack.pop()
        count += 1
        if id(current) in ancestors:
            m = current.start_mark
            msg = f"an alias (*name) that contains itself, starting at {m.line + 1}:{m.column + 1}"
            return make("CK101", rel, m.line + 1, m.column + 1, f"YAML does not parse: {msg}")
        if count > MAX_NODES:
            msg = (
                f"the YAML expands to more than {MAX_NODES:,} values through aliases "
                "(*name); write the values out"
            )
            return make("CK101", rel, 1, 1, msg)
        inner = ancestors | {id(current)}
        if isinstance(current, yaml.MappingNode):
            stack.extend((n, inner) for pair in current.value for n in pair)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend((n, inner) for n in current.value)
    return None


def _duplicate_keys(rel: str, node: yaml.Node) -> list[Finding]:
    """CK106 (a warning) for a key written twice in one mapping: YAML forbids it, but
    PyYAML, and so Jupyter Book, keeps the last one and builds."""
    found: list[Finding] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            first: dict[object, yaml.Node] = {}
            for knode, vnode in current.value:
                key = knode.value if isinstance(knode, yaml.ScalarNode) else id(knode)
                if key in first:
                    m, f = knode.start_mark, first[key].start_mark
                    found.append(
                        make(
                            "CK106",
                            rel,
                            m.line + 1,
                            m.column + 1,
                            f"duplicate key {key!r} (first at {f.line + 1}:"
                            f"{f.column + 1}); this one is used and the first ignored, "
                            "remove one",
                        )
                    )
                else:
                    first[key] = knode
                stack.append(vnode)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return found
