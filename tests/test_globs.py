"""`exclude_patterns` matched as Sphinx matches them (coursekit.formats.globs), without Sphinx.

The checks must not import Sphinx, so the glob is ours; this compares it with Sphinx's
own `Matcher` on patterns and paths of the shapes books use.
"""

from __future__ import annotations

import pytest
from sphinx.util.matching import Matcher

from coursekit.formats.globs import matches_any

PATTERNS = [
    "**/README.md",
    "modules/*",
    "**.ipynb_checkpoints",
    "a/[bc]/*.md",
    "a/[!b]/x.md",
    "*.md",
    "_build",
    "**/_*",
    "x?.md",
    "drafts/**",
]
PATHS = [
    "README.md",
    "a/README.md",
    "a/b/README.md",
    "modules/a.md",
    "modules/a/b.md",
    "a/.ipynb_checkpoints",
    "a/b/x.md",
    "a/c/x.md",
    "a/d/x.md",
    "z.md",
    "q/z.md",
    "_build",
    "k/_t.md",
    "_t.md",
    "xy.md",
    "x/y.md",
    "drafts/one.md",
    "drafts/deep/two.ipynb",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_a_pattern_matches_the_paths_sphinx_matches(pattern: str) -> None:
    sphinx = [path for path in PATHS if Matcher([pattern])(path)]
    ours = [path for path in PATHS if matches_any(path, (pattern,))]
    assert ours == sphinx
