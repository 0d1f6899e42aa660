"""`coursekit check` as a user runs it: exact output, formats, filters and exit codes."""

from __future__ import annotations

import json

import pytest

from conftest import REPO, run_cli

BAD = REPO / "tests" / "fixtures" / "bad"
GOOD = REPO / "tests" / "fixtures" / "good"


def test_text_output_is_exact():
    result = run_cli("check", BAD / "toc-duplicate")
    assert result.stdout == (
        "_toc.yml:5:11: CK111 'a' is already listed at _toc.yml:4:11; a page can appear only once\n"
    )
    assert result.stderr == "coursekit check: 1 error(s), 0 warning(s)\n"
    assert result.returncode == 1


def test_findings_are_sorted_by_file_then_position():
    result = run_cli("check", BAD / "module-bad-duration")
    lines = result.stdout.splitlines()
    assert [line.split(": ")[0] for line in lines] == [
        "modules/01-one/module.yml:6:11",
        "modules/02-two/module.yml:6:11",
        "modules/03-three/module.yml:6:11",
        "modules/04-four/module.yml:1:1",
    ]
    assert "got 'two hours'" in lines[0]


def test_clean_course_exits_0():
    result = run_cli("check", GOOD)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "coursekit check: clean\n")


def test_warnings_fail_only_under_strict():
    case = BAD / "config-unknown-key"
    relaxed, strict = run_cli("check", case), run_cli("check", "--strict", case)
    assert relaxed.returncode == 0
    assert strict.returncode == 1
    assert relaxed.stdout == strict.stdout
    assert relaxed.stdout.startswith("_config.yml:3:1: CK103 unknown key 'colour'")


@pytest.mark.parametrize(
    "args",
    [
        ("--bogus",),
        ("--format", "xml"),
        (REPO / "README.md",),  # a file, not a folder
        (REPO / "no-such-folder",),
        ("--select", "CK9"),  # a prefix no code has: a typo, not "select nothing"
        ("--ignore", "CK3,XY"),
    ],
)
def test_usage_problems_exit_2(args):
    result = run_cli("check", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.strip()


def test_json_output_has_every_field():
    result = run_cli("check", "--format", "json", BAD / "module-keys")
    assert result.returncode == 1
    found = json.loads(result.stdout)
    assert found == [
        {
            "code": "CK104",
            "path": "modules/01-one/module.yml",
            "line": 1,
            "col": 1,
            "message": "modules/01-one/module.yml is missing the required key 'title'",
            "severity": "error",
        },
        {
            "code": "CK102",
            "path": "modules/01-one/module.yml",
            "line": 2,
            "col": 10,
            "message": "'summary' must be a string, got a list",
            "severity": "error",
        },
        {
            "code": "CK103",
            "path": "modules/01-one/module.yml",
            "line": 6,
            "col": 1,
            "message": found[2]["message"],
            "severity": "warning",
        },
    ]
    assert found[2]["message"].startswith("unknown key 'level'")


def test_json_output_of_a_clean_course_is_an_empty_list():
    result = run_cli("check", "--format", "json", GOOD)
    assert (result.returncode, json.loads(result.stdout)) == (0, [])


def test_github_output_is_workflow_annotations():
    result = run_cli("check", "--format", "github", BAD / "module-keys")
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "::error file=modules/01-one/module.yml,line=1,col=1,title=CK104::"
        "CK104 modules/01-one/module.yml is missing the required key 'title'"
    )
    assert lines[2].startswith(
        "::warning file=modules/01-one/module.yml,line=6,col=1,"
        "title=CK103::CK103 unknown key 'level'"
    )
    assert len(lines) == 3
    assert result.returncode == 1


def codes(*args: str) -> list[str]:
    result = run_cli("check", *args, BAD / "module-keys")
    return [line.split()[1] for line in result.stdout.splitlines()]


def test_select_and_ignore_by_prefix():
    assert codes() == ["CK104", "CK102", "CK103"]
    assert codes("--select", "CK103") == ["CK103"]
    assert codes("--select", "ck10") == ["CK104", "CK102", "CK103"]
    assert codes("--select", "CK102,CK104") == ["CK104", "CK102"]
    assert codes("--ignore", "CK103") == ["CK104", "CK102"]
    assert codes("--select", "CK1", "--ignore", "CK104", "--ignore", "CK102") == ["CK103"]
    assert codes("--select", "CK2") == []
    assert codes("--ignore", "CK10", "--select", "CK1") == []


def test_ignoring_every_error_exits_0():
    result = run_cli("check", "--ignore", "CK1", BAD / "module-keys")
    assert (result.returncode, result.stdout) == (0, "")


def test_check_never_runs_notebook_code(tmp_path):
    """A notebook whose code would write a file is read, never executed."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    (tmp_path / "_config.yml").write_text("title: T\nauthor: A\n")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: nb\n")
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Notebook"),
            new_code_cell("open('executed.txt', 'w').write('ran')"),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )
    nbformat.write(nb, tmp_path / "nb.ipynb")
    result = run_cli("check", "--strict", tmp_path, cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_config.yml", "_toc.yml", "nb.ipynb"]


def test_readme_lists_every_check_code():
    """The rules table in README.md names every code of the config, TOC, module,
    notebook, page and bibliography families."""
    from coursekit.findings import CODES

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Checking a course") :]
    missing = [
        code
        for code in CODES
        if code[:3] in ("CK1", "CK2", "CK3", "CK5") and f"| {code} |" not in table
    ]
    assert missing == []
