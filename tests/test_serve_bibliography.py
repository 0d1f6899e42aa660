"""`coursekit serve` after an edit to the `.bib` file: the pages show the entry as saved.

serve keeps each bibliography entry as pybtex formatted it while the entry stays the
same (coursekit.book.sphinx.bibcache); an edited entry must never show as it was.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO

SCRIPT = """
import sys
from pathlib import Path

from coursekit.book.sphinx.build import WarmBooks
from coursekit.build.pipeline import BuildOptions, SilentReporter, build_course

root = Path(sys.argv[1])
options = BuildOptions(only="html", books=WarmBooks())
site = root / "_build/html"
build_course(root, options, SilentReporter())
bib = root / "references.bib"


def save(old, new, path=bib):
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    build_course(root, options, SilentReporter())
    for page in ("bibliography.html", "modules/01-basics/overview.html"):
        print(page, (site / page).read_text(encoding="utf-8"))
    print("-- next save --")


save("title = {An article}", "title = {A revised article}")  # the same label, Roe21
save("{2021}", "{2018}")  # a new label
# A new title: every page is written again, the bibliography without being read again.
save("# Why it matters", "# Why it matters so much", root / "modules/01-basics/reading.md")
"""


def test_serve_shows_an_edited_bib_entry_and_each_entry_once(tmp_path: Path) -> None:
    root = Path(shutil.copytree(REPO / "tests/fixtures/good", tmp_path / "course"))
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(root)], capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr
    titled, labelled, renamed, _ = result.stdout.split("-- next save --")
    for saved, label, old_label in ((titled, "Roe21", "Roe18"), (labelled, "Roe18", "Roe21")):
        bibliography, _, citing = saved.partition("modules/01-basics/overview.html ")
        # The entry as saved (its title; the label made from its year) …
        assert "A revised article" in bibliography, bibliography
        assert label in bibliography and old_label not in bibliography, bibliography
        # … and the page citing it cites it by that label.
        assert label in citing and old_label not in citing, citing
    # Written again without being read again, the bibliography lists each entry once.
    bibliography = renamed.partition("modules/01-basics/overview.html ")[0]
    assert bibliography.count("A revised article") == 1, bibliography
