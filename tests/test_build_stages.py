"""The build as registered stages: an output is one module and one registration.

The plug-in example (`manifest`, a JSON list of the site's pages) is written here
as a newcomer would write it, with the registry's public function only; the CLI
then builds it with `--only manifest`. The other tests pin what the stages read
from the one build context (`--jobs`, `--timeout`) and that the book stage talks
to the book engine through its interface only.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from coursebuilder import REPO, make_course
from coursekit.book.engine import BookRequest, BookResult
from coursekit.build import stages
from coursekit.build.pipeline import BuildOptions, SilentReporter, build_course
from coursekit.cli import cli

# ------------------------------------------------------------ the plug-in example

# A newcomer's whole plug-in: one module, one registration.
PLUGIN = """
import json

from coursekit.build.book_stage import site_of
from coursekit.build.stages import Stage, register


def write_manifest(ctx):
    \"\"\"The `manifest` output: the site's pages, as the built site has them.\"\"\"
    html = site_of(ctx).html_dir
    pages = sorted(p.relative_to(html).as_posix() for p in html.rglob("*.html"))
    (ctx.outputs.stage("manifest") / "pages.json").write_text(json.dumps(pages))


register(Stage("manifest", write_manifest, produces=("manifest",), needs=("book",),
               help="a JSON list of the site's pages"))
"""


def test_an_output_added_by_one_registration_is_built_with_only(tmp_path: Path) -> None:
    (tmp_path / "manifest_output.py").write_text(PLUGIN, encoding="utf-8")
    root = make_course(tmp_path / "course", {})
    command = "import manifest_output; from coursekit.cli import main; main()"
    result = subprocess.run(
        [sys.executable, "-c", command, "build", str(root), "--only", "manifest", "--no-execute"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    pages = json.loads((root / "_build/manifest/pages.json").read_text(encoding="utf-8"))
    assert "intro.html" in pages and "modules/01-demo/overview.html" in pages
    # What it needs (the site) is built too; what it does not (exercises, PDF) is not.
    assert (root / "_build/html/intro.html").is_file()
    assert not (root / "_build/exercises").exists() and not (root / "_build/pdf").exists()
    assert f"{root.resolve() / '_build' / 'manifest'}  " in result.stderr  # the summary's list


def test_only_refuses_an_output_no_stage_produces(tmp_path: Path) -> None:
    root = make_course(tmp_path / "course", {})
    result = CliRunner().invoke(cli, ["build", str(root), "--only", "manifest"])
    assert result.exit_code == 2
    assert "'manifest' is not one of 'html', 'scorm', 'cmi5', 'exercises', 'pdf'" in result.output


# ------------------------------------------------------------ the README's table


def test_the_readme_lists_the_registered_outputs() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme.split("| output | what it is |\n|---|---|\n", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^\| `([a-z0-9]+)` \| (.+) \|$", table, flags=re.M)
    assert dict(rows) == stages.output_help()
    assert list(dict(rows)) == list(stages.outputs())  # in the registry's order
    only = "\\|".join(stages.outputs())
    assert f"| `--only {only}` |" in readme


# ------------------------------------------------------------ options decided once


@pytest.fixture
def editions_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The exercises stage's calls of `build_editions`, which does nothing here."""
    import coursekit.exercises

    calls: list[dict[str, Any]] = []

    class Editions:
        checked: tuple[str, ...] = ()
        student: tuple[str, ...] = ()

    def fake(course: Any, out_dir: Path, jobs: int = 1, **kwargs: Any) -> Editions:
        calls.append({"jobs": jobs, **kwargs})
        return Editions()

    monkeypatch.setattr(coursekit.exercises, "build_editions", fake, raising=False)
    return calls


def test_jobs_and_timeout_reach_the_exercise_self_checks(
    tmp_path: Path, editions_calls: list[dict[str, Any]]
) -> None:
    root = make_course(tmp_path / "course", {})
    args = ["build", str(root), "--only", "exercises"]
    given = CliRunner().invoke(cli, [*args, "--jobs", "3", "--timeout", "7"])
    assert given.exit_code == 0, given.output
    (root / "_build/.fingerprint.json").unlink()  # build again, with the defaults
    defaults = CliRunner().invoke(cli, args)
    assert defaults.exit_code == 0, defaults.output
    seen = [(c["jobs"], c["timeout"]) for c in editions_calls]
    # Without --timeout, the book's `execute.timeout` (60 in this course), not a default of its own.
    assert seen == [(3, 7), (os.cpu_count() or 1, 60)]


# ------------------------------------------------------------ the book engine


class PaperEngine:
    """A book engine that writes one page per course page: what a second engine plugs into."""

    name = "paper"

    def __init__(self) -> None:
        self.requests: list[BookRequest] = []

    def build_site(self, request: BookRequest) -> BookResult:
        self.requests.append(request)
        html = request.work / "html"
        html.mkdir(parents=True, exist_ok=True)
        for page in request.course.pages:
            name = page.path.rsplit(".", 1)[0]
            (html / f"{name}.html").parent.mkdir(parents=True, exist_ok=True)
            (html / f"{name}.html").write_text(f"<h1>{name}</h1>", encoding="utf-8")
        return BookResult(html, ("paper: a warning of its own",), read=("intro",))

    def build_print_page(self, request: BookRequest) -> BookResult:
        raise AssertionError("not asked for here")

    def read_inputs(self, work: Path) -> list[str] | None:
        return None


def test_the_book_stage_uses_the_course_engine_through_its_interface(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coursekit.build import pipeline

    engine = PaperEngine()
    monkeypatch.setattr(pipeline, "engine_for", lambda course: engine)
    root = make_course(tmp_path / "course", {})
    summary = build_course(root, BuildOptions(only="html", execute=False), SilentReporter())
    assert (root / "_build/html/intro.html").read_text(encoding="utf-8") == "<h1>intro</h1>"
    assert summary.book_warnings == ("paper: a warning of its own",)
    assert summary.pages_read == ("intro",)
    assert [r.work for r in engine.requests] == [root.resolve() / "_build/.cache/book"]
