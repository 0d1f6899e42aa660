"""A quiz's inline Markdown, parsed once (at load) in the dialect the quiz is shown in.

The renderer shows prompts, choices and feedback as CommonMark inline Markdown
(raw HTML off); the checks judge the links of that same reading, so a link the
learner sees is the link that was checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdurl import decode


@dataclass(frozen=True, slots=True)
class InlineText:
    """One quiz text as the renderer reads it."""

    html: str  # the HTML, links as the author wrote them (the renderer resolves them)
    links: tuple[str, ...]  # the targets of its links and images, as written


@cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False})


def parse_inline(text: str) -> InlineText:
    """`text` (inline Markdown) parsed and rendered once."""
    md = _parser()
    tokens = md.parseInline(text, {})
    html = md.renderer.render(tokens, md.options, {})
    return InlineText(html, tuple(decode(target) for target in _targets(tokens)))


def _targets(tokens: list[Token]) -> Iterator[str]:
    for token in tokens:
        for child in token.children or ():
            if child.type == "link_open":
                yield str(child.attrs.get("href", ""))
            elif child.type == "image":
                yield str(child.attrs.get("src", ""))
