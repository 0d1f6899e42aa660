"""`coursekit new module`: the scaffold checks clean and lands in the TOC and the book."""

from __future__ import annotations

from pathlib import Path

import yaml

from conftest import copy_course, run_cli
from coursebuilder import make_course


def test_a_new_module_of_the_bundled_course_checks_clean(tmp_path: Path) -> None:
    root = copy_course(tmp_path)
    before = run_cli("check", root)
    result = run_cli("new", "module", "Réseaux & pouvoir", "--path", root)
    assert result.returncode == 0, result.stderr
    folders = sorted(p.name for p in (root / "modules").iterdir())
    new = folders[-1]
    assert new.endswith("-reseaux-pouvoir")
    assert int(new[:2]) == max(int(f[:2]) for f in folders[:-1]) + 1
    assert yaml.safe_load((root / "modules" / new / "module.yml").read_text())["title"] == (
        "Réseaux & pouvoir"
    )
    after = run_cli("check", root)
    # The scaffold adds no finding to what the course already had.
    assert after.returncode == before.returncode, after.stdout
    assert after.stdout == before.stdout
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    assert f"modules/{new}/overview" in files
    # After the last module, before the reference pages.
    module_parts = [
        i
        for i, part in enumerate(toc["parts"])
        if part["chapters"][0]["file"].startswith("modules/")
    ]
    assert toc["parts"][module_parts[-1]]["chapters"][0]["file"] == f"modules/{new}/overview"


def test_the_new_module_is_in_the_book(tmp_path: Path) -> None:
    root = make_course(tmp_path, {})
    assert run_cli("new", "module", "Second steps", cwd=root).returncode == 0
    result = run_cli("build", root, "--only", "html", "--strict")
    assert result.returncode == 0, result.stdout + result.stderr
    page = root / "_build/html/modules/02-second-steps/overview.html"
    assert "Second steps" in page.read_text(encoding="utf-8")


def test_a_taken_slug_or_no_course_is_refused_cleanly(tmp_path: Path) -> None:
    root = make_course(tmp_path / "course", {})
    first = run_cli("new", "module", "Demo", "--path", root)
    assert first.returncode == 1 and "already has the slug 'demo'" in first.stderr
    elsewhere = run_cli("new", "module", "Anything", "--path", tmp_path)
    assert elsewhere.returncode == 1 and "no _config.yml" in elsewhere.stderr
    assert "Traceback" not in first.stderr + elsewhere.stderr
    assert not (tmp_path / "modules").exists()
