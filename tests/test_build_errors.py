"""Every failure names a file or setting (issue 24): a kernel that never starts, a page
that includes itself, a notebook nested deeper than the readers can follow — a clear
message, exit 1, no traceback, no "unexpected"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, run_cli
from coursebuilder import make_course

NOTEBOOK = "modules/01-demo/calc.ipynb"


def _clean(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout + result.stderr
    assert "Traceback" not in out and "unexpected" not in out, out
    assert "worker stopped" not in out, out
    for text in expected:
        assert text in out, out


def _kernel(folder: Path, name: str, argv: list[str]) -> None:
    spec = folder / "kernels" / name
    spec.mkdir(parents=True)
    kernel = {"argv": [*argv, "{connection_file}"], "display_name": name, "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")


@pytest.mark.parametrize("kernel", ["exits", "missing-program", "not-executable"])
def test_a_kernel_that_never_starts_names_the_notebook(tmp_path: Path, kernel: str) -> None:
    jupyter = tmp_path / "jupyter"
    not_executable = tmp_path / "kernel.sh"
    not_executable.write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")
    argv = {
        "exits": ["/bin/false"],
        "missing-program": [str(tmp_path / "no-such-kernel")],
        "not-executable": [str(not_executable)],
    }[kernel]
    _kernel(jupyter, kernel, argv)
    root = make_course(tmp_path / "course", {"calc": ("x = 1",)})
    nb = json.loads((root / NOTEBOOK).read_text(encoding="utf-8"))
    nb["metadata"]["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "python"}
    (root / NOTEBOOK).write_text(json.dumps(nb), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "coursekit", "build", str(root), "--only", "html"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "JUPYTER_PATH": str(jupyter)},
    )
    _clean(result, NOTEBOOK, f"the {kernel!r} kernel could not start", "jupyter kernelspec list")


@pytest.mark.parametrize(
    ("files", "named"),
    [
        ({"overview.md": "# Demo\n\n```{include} overview.md\n```\n"}, "overview.md"),
        (
            {
                "overview.md": "# Demo\n\n```{include} part.md\n```\n",
                "part.md": "Part.\n\n```{include} part.md\n```\n",
            },
            "overview.md",
        ),
        (
            {
                "overview.md": "# Demo\n\n```{include} a.md\n```\n",
                "a.md": "A\n\n```{include} b.md\n```\n",
                "b.md": "B\n\n```{include} a.md\n```\n",
            },
            "overview.md",
        ),
    ],
    ids=["itself", "an-include-itself", "two-includes-in-a-loop"],
)
def test_a_page_that_includes_itself_names_the_page(
    tmp_path: Path, files: dict[str, str], named: str
) -> None:
    root = make_course(tmp_path / "course", {})
    for name, text in files.items():
        (root / "modules" / "01-demo" / name).write_text(text, encoding="utf-8")
    result = run_cli("build", root, "--only", "html", "--no-execute")
    _clean(result, f"modules/01-demo/{named}", "includes itself")
    assert "RecursionError" not in result.stderr


@pytest.mark.parametrize("where", ["metadata", "output", "cell-metadata"])
def test_a_notebook_nested_too_deeply_is_a_check_error(tmp_path: Path, where: str) -> None:
    root = make_course(tmp_path / "course", {"calc": ("x = 1",)})
    nb = json.loads((root / NOTEBOOK).read_text(encoding="utf-8"))
    text = json.dumps(nb)
    deep = "[" * 900 + "]" * 900
    if where == "metadata":
        text = text.replace(
            '"metadata": {"kernelspec"', f'"metadata": {{"deep": {deep}, "kernelspec"'
        )
    elif where == "output":
        output = (
            '{"output_type": "execute_result", "metadata": {}, "execution_count": 1, '
            f'"data": {{"application/json": {deep}}}}}'
        )
        text = text.replace('"outputs": []', f'"outputs": [{output}]')
    else:
        text = text.replace('"metadata": {}', f'"metadata": {{"deep": {deep}}}', 1)
    assert deep in text
    (root / NOTEBOOK).write_text(text, encoding="utf-8")
    check = run_cli("check", root)
    _clean(check, f"{NOTEBOOK}:1:1: CK201", "levels deep")
    build = run_cli("build", root)
    _clean(build, f"{NOTEBOOK}:1:1: CK201")


def test_a_build_lists_the_checks_warnings_briefly(tmp_path: Path) -> None:
    root = make_course(tmp_path / "course", {})
    images = "".join(f"![](pic{i}.png)\n\n" for i in range(8))
    module = root / "modules" / "01-demo"
    (module / "overview.md").write_text(f"# Demo\n\n{images}", encoding="utf-8")
    png = (REPO / "tests/fixtures/bad/page-no-alt").rglob("*.png")
    data = next(png).read_bytes()
    for i in range(8):
        (module / f"pic{i}.png").write_bytes(data)
    result = run_cli("build", root, "--only", "html", "--no-execute")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if " CK303 " in line]
    assert len(lines) == 5
    assert "… and 3 more (0 error(s), 8 warning(s) in all)" in result.stdout
    assert f"`coursekit check {root}` lists them all" in result.stdout


def test_a_failure_a_warning_explains_points_to_it(tmp_path: Path) -> None:
    root = make_course(tmp_path / "course", {"calc": ("x = 1", "print(x + 1)")})
    nb = json.loads((root / NOTEBOOK).read_text(encoding="utf-8"))
    del nb["cells"][1]["outputs"]  # the schema rejects the cell: CK202, a warning
    (root / NOTEBOOK).write_text(json.dumps(nb), encoding="utf-8")
    result = run_cli("build", root, "--only", "html")
    _clean(result, f"error: {NOTEBOOK}:", "CK202")
    pointer = next(line for line in result.stderr.splitlines() if "the check warned" in line)
    assert f"{NOTEBOOK}:1:95: CK202 cell 2" in pointer


@pytest.mark.parametrize("name", ["bad\nname", "tab\there", "esc\x1b[31mred"])
def test_a_file_name_with_a_control_character_gives_one_line_findings(
    tmp_path: Path, name: str
) -> None:
    root = make_course(tmp_path / "course", {})
    module = root / "modules" / "01-demo"
    (module / f"{name}.md").write_text("no heading\n\n![](missing.png)\n", encoding="utf-8")
    toc = root / "_toc.yml"
    quoted = json.dumps(f"modules/01-demo/{name}")
    toc.write_text(
        toc.read_text(encoding="utf-8") + f"        sections:\n          - file: {quoted}\n",
        encoding="utf-8",
    )
    result = run_cli("check", root)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 3, lines
    escaped = repr(name)[1:-1]
    assert all(line.startswith(f"modules/01-demo/{escaped}.md:") for line in lines), lines


def test_an_old_list_toc_with_its_error_ignored_names_the_toc_and_the_fix(
    tmp_path: Path,
) -> None:
    # A Jupyter Book 0.x `_toc.yml` is a list. `check` says so (CK102); a book that
    # ignores the code gets to the book stage, which must still name the file.
    (tmp_path / "_config.yml").write_text("title: T\ncoursekit:\n  ignore: [CK102]\n")
    (tmp_path / "_toc.yml").write_text("- file: intro\n- file: a\n", encoding="utf-8")
    (tmp_path / "intro.md").write_text("# Intro\n\nHello.\n", encoding="utf-8")
    (tmp_path / "a.md").write_text("# A\n\nText.\n", encoding="utf-8")
    result = run_cli("build", tmp_path, "--only", "html")
    _clean(result, "_toc.yml: Jupyter Book cannot read", "jupyter-book toc migrate _toc.yml")
