"""coursekit's own stages, registered with `coursekit.build.stages` on first use.

The order here is the order outputs are listed in (`--only`, the summary, the
README); each stage's `phase` decides when it runs.
"""

from __future__ import annotations

from coursekit.build.book_stage import BOOK
from coursekit.build.execute_stage import EXECUTE, NOTEBOOKS
from coursekit.build.exercises_stage import EXERCISES
from coursekit.build.offline_report import OUTSIDE
from coursekit.build.package_stages import CMI5, SCORM
from coursekit.build.stages import Stage
from coursekit.packages.pdf.stage import PDF, PDF_PAGE, PDF_WARNINGS

STAGES: tuple[Stage, ...] = (
    BOOK,
    SCORM,
    CMI5,
    EXERCISES,
    NOTEBOOKS,
    EXECUTE,
    PDF_PAGE,
    PDF,
    PDF_WARNINGS,
    OUTSIDE,
)
