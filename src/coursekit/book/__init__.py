"""The book stage: a book engine turns the loaded course into a website.

`engine.py` is the interface the build uses; `sphinx/` is the Jupyter Book 1.x engine
(Sphinx, its extensions, the offline assets, the accessibility fixes, the print
edition's single page); `mystmd/` is the Jupyter Book 2 engine. `engine_for` says
which engine builds a course.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coursekit.book.engine import BookEngine
    from coursekit.model import Course


def engine_for(course: Course) -> BookEngine:
    """The book engine of `course`: Jupyter Book 2 (mystmd, `coursekit.book.mystmd`) for
    a project configured by `myst.yml`, Jupyter Book 1.x (Sphinx) for the others.

    Imported here, not at the top: Sphinx loads only when a book is built.
    """
    if course.config is not None and course.config.path == "myst.yml":
        from coursekit.book.mystmd.build import MystEngine

        return MystEngine()
    from coursekit.book.sphinx.build import SphinxEngine

    return SphinxEngine()
