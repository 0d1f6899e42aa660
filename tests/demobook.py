"""A small book with what a print or an accessibility check must cope with.

The quiz-and-exercise demo course (tests/fixtures/exercises/good: a quiz, an
exercise with solutions and a mark scheme, a reading) plus a second unit whose
notebook shows a pandas DataFrame and a code line far wider than a sheet.
Notebooks keep their stored outputs (`execute_notebooks: off`): nothing runs. The
second unit links to a page of the first, and the PDF is printed one part per unit
(`part_kb: 0`), so that link crosses parts.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from coursebuilder import KERNELSPEC

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "tests" / "fixtures" / "exercises" / "good"
TABLES = "modules/02-tables/tables.ipynb"
# One line of code, much wider than a printed page: its first and last words.
LONG_LINE = (
    "wide_enough = dict(" + ", ".join(f"column_{i}={i}" for i in range(40)) + ", last_word=True)"
)
LONG_FIRST, LONG_LAST = "wide_enough", "last_word"
UNIT_TITLES = ("Module 1 · Demo", "Module 2 · Tables")
READING_TITLE = "Rates of pay"  # modules/01-demo/reading.md, which module 2 links to


def dataframe_html() -> str:
    """A DataFrame as a notebook shows it (pandas' own HTML, empty corner cell included)."""
    import pandas as pd

    frame = pd.DataFrame({"country": ["India", "Kenya"], "workers": [120, 45]})
    return str(frame._repr_html_())


def make_demo_book(dest: Path) -> Path:
    """Write the demo book at `dest` (a new folder) and return it."""
    shutil.copytree(DEMO, dest)
    module = dest / "modules" / "02-tables"
    module.mkdir(parents=True)
    (module / "module.yml").write_text(
        'id: tables-module\ntitle: "Tables"\nsummary: "Reading a table of figures."\n'
        'objectives:\n  - "Read a table of figures."\nduration: 10\n',
        encoding="utf-8",
    )
    (module / "overview.md").write_text(
        "# Tables overview\n\nThis module shows a table. It builds on "
        f"[{READING_TITLE}](../01-demo/reading.md) of module 1.\n",
        encoding="utf-8",
    )
    # Printed one part per unit: the PDF's parts are joined (coursekit.packages.pdf.join).
    config = dest / "_config.yml"
    config.write_text(
        config.read_text(encoding="utf-8") + "  pdf:\n    part_kb: 0\n", encoding="utf-8"
    )
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = KERNELSPEC
    table = nbformat.v4.new_code_cell("frame")
    table.outputs = [
        nbformat.v4.new_output(
            "execute_result",
            {"text/html": dataframe_html(), "text/plain": "  country  workers"},
            execution_count=1,
        )
    ]
    table.execution_count = 1
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Workers by country"),
        nbformat.v4.new_code_cell(LONG_LINE),
        table,
    ]
    nbformat.write(nb, dest / TABLES)
    toc = dest / "_toc.yml"
    toc.write_text(
        toc.read_text(encoding="utf-8") + '  - caption: "Module 2 · Tables"\n    chapters:\n'
        "      - file: modules/02-tables/overview\n        sections:\n"
        "          - file: modules/02-tables/tables\n",
        encoding="utf-8",
    )
    return dest
