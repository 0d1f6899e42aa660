"""Tiny temporary courses for the build tests: one module, a few notebooks."""

from __future__ import annotations

import hashlib
from pathlib import Path

import nbformat

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
