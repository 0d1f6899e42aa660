"""The markdown-it-py parser the page checks use for block structure (MyST flavour).

Imported only when a text needs it: most course text is plain prose and fences,
which `coursekit.checks.markup` reads on its fast path, and importing markdown-it
and its plugins is a noticeable part of `coursekit check`'s start-up.
"""

from __future__ import annotations

from typing import Any

from markdown_it import MarkdownIt
from markdown_it.parser_block import ParserBlock
from markdown_it.rules_block import StateBlock
from markdown_it.token import Token
from mdit_py_plugins.colon_fence import colon_fence_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.front_matter import front_matter_plugin
from mdit_py_plugins.myst_blocks import myst_block_plugin


class _LineTables(StateBlock):
    """markdown-it's block state, with its line tables built line by line.

    StateBlock builds them in a Python loop over every character, which was a
    quarter of the whole check's time; these are the same tables, quirks included
    (a last line of only blanks without a newline is dropped).
    """

    def __init__(self, src: str, md: MarkdownIt, env: Any, tokens: list[Token]) -> None:
        super().__init__("", md, env, tokens)
        self.src = src
        begins, ends, shifts, counts = [], [], [], []
        start, lines = 0, src.split("\n")
        for i, line in enumerate(lines):
            last = i == len(lines) - 1
            indent = len(line) - len(line.lstrip(" \t"))
            if not (last and indent == len(line)):
                begins.append(start)
                ends.append(start + len(line))
                shifts.append(indent)
                counts.append(_expanded(line[:indent]))
            start += len(line) + 1
        self.bMarks = [*begins, len(src)]
        self.eMarks = [*ends, len(src)]
        self.tShift = [*shifts, 0]
        self.sCount = [*counts, 0]
        self.bsCount = [0] * len(self.bMarks)
        self.lineMax = len(begins)


def _expanded(indent: str) -> int:
    if "\t" not in indent:
        return len(indent)
    offset = 0
    for char in indent:
        offset += 4 - offset % 4 if char == "\t" else 1
    return offset


class _BlockParser(ParserBlock):
    def parse(
        self, src: str, md: MarkdownIt, env: Any, outTokens: list[Token]
    ) -> list[Token] | None:  # noqa: N803 (upstream name)
        if not src:
            return None
        state = _LineTables(src, md, env, outTokens)
        self.tokenize(state, state.line, state.lineMax)
        return state.tokens


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"maxNesting": 50})
    md.use(front_matter_plugin).use(myst_block_plugin).use(colon_fence_plugin)
    md.use(dollarmath_plugin)  # $$ blocks; inline $math$ is blanked by the scanner
    md.disable("inline")  # inline syntax is read by the scanner below
    block = _BlockParser()
    block.ruler = md.block.ruler  # the rules the plugins added
    md.block = block
    return md


MD = _parser()
