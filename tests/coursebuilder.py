"""Courses for tests and benchmarks: a copy of the bundled one, or tiny ones made up."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
# What the bundled course is made of (the rest of the repository is the tool).
COURSE_FILES = ("_config.yml", "_toc.yml", "*.md", "references.bib", "modules", "exercises")

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def write_notebook(path: Path, title: str, *code: str) -> None:
    """A notebook with a title cell and one code cell per `code` string."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# {title}"),
        *(nbformat.v4.new_code_cell(c) for c in code),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def make_course(root: Path, notebooks: dict[str, tuple[str, ...]]) -> Path:
    """Write a small valid course at `root` with `notebooks` (name → code cells) in module 1."""
    module = root / "modules" / "01-demo"
    module.mkdir(parents=True, exist_ok=True)
    (root / "_config.yml").write_text(
        'title: "Tiny course"\nauthor: "Tests"\nonly_build_toc_files: true\n'
        "exclude_patterns: [_build]\n"
        "execute:\n  execute_notebooks: cache\n  cache: _build/.jupyter_cache\n  timeout: 60\n",
        encoding="utf-8",
    )
    (root / "intro.md").write_text(
        "# Tiny course\n\nA course for the build tests.\n", encoding="utf-8"
    )
    (module / "module.yml").write_text(
        'id: demo\ntitle: "Demo"\nsummary: "A demo module."\n'
        'objectives:\n  - "Run a notebook."\nduration: 10\n',
        encoding="utf-8",
    )
    (module / "overview.md").write_text("# Demo\n\nThe demo module.\n", encoding="utf-8")
    sections = "".join(f"          - file: modules/01-demo/{name}\n" for name in notebooks)
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nparts:\n  - caption: Demo\n    chapters:\n"
        "      - file: modules/01-demo/overview\n"
        + (f"        sections:\n{sections}" if sections else ""),
        encoding="utf-8",
    )
    for name, cells in notebooks.items():
        write_notebook(module / f"{name}.ipynb", name.replace("-", " ").title(), *cells)
    return root


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` with the hash of its bytes, to compare before/after."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def copy_course(dest: Path) -> Path:
    """Copy the course files git knows or would add (not ignored ones) into `dest`.

    In CI that is exactly the tracked files; in a working tree it also takes new pages
    not yet committed, so a `_toc.yml` that lists them still matches its pages.
    """
    listed = subprocess.run(
        [
            "git",
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
            "--",
            *COURSE_FILES,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for rel in filter(None, listed.split("\0")):
        if "/" in rel and not rel.startswith(("modules/", "exercises/")):
            continue  # `*.md` also matches Markdown files of the tool (tests/, src/…)
        source = REPO / rel
        if source.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / rel)
    return dest
