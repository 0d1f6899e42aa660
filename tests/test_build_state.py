"""No file under `_build/` is trusted (issue 24): a planted symlink is never written
through, a published file changed in place is not published again as it is, and the
outputs are published as one step (a build killed while publishing leaves all the old
outputs or all the new ones, finished by the next build)."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from conftest import run_cli
from coursebuilder import make_course
from coursekit.build import publish

PRECIOUS = "the user's own file, which no build may touch\n"


@pytest.fixture
def built(tmp_path: Path) -> Path:
    root = make_course(tmp_path / "course", {})
    result = run_cli("build", root, "--only", "html", "--no-execute")
    assert result.returncode == 0, result.stderr
    return root


def _edit_a_page(root: Path, text: str = "Edited.") -> None:
    page = root / "modules" / "01-demo" / "overview.md"
    page.write_text(f"# Demo\n\n{text}\n", encoding="utf-8")


@pytest.mark.parametrize(
    "planted",
    [
        ".lock",
        ".coursekit-output",
        ".cache/published.json",
        ".cache/book/html/html/intro.html",
        ".cache/book/html/html/_static/basic.css",
        ".fingerprint",
    ],
)
def test_a_symlink_planted_under_build_is_never_written_through(
    built: Path, tmp_path: Path, planted: str
) -> None:
    outside = tmp_path / "precious.txt"
    outside.write_text(PRECIOUS, encoding="utf-8")
    link = built / "_build" / planted
    if link.exists() or link.is_symlink():
        link.unlink()
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(outside)
    _edit_a_page(built)
    result = run_cli("build", built, "--only", "html", "--no-execute")
    assert result.returncode == 0, result.stderr
    assert outside.read_text(encoding="utf-8") == PRECIOUS
    assert "Edited." in (built / "_build/html/modules/01-demo/overview.html").read_text()
    html = built / "_build/html"
    assert not [p for p in html.rglob("*") if p.is_symlink()]


def test_a_symlink_to_a_missing_file_does_not_create_it(built: Path, tmp_path: Path) -> None:
    target = tmp_path / "created-outside.txt"
    marker = built / "_build" / ".coursekit-output"
    marker.unlink()
    marker.symlink_to(target)
    _edit_a_page(built)
    assert run_cli("build", built, "--only", "html", "--no-execute").returncode == 0
    assert not target.exists()


@pytest.mark.parametrize("published", ["intro.html", "_static/basic.css", "genindex.html"])
def test_a_published_file_changed_in_place_is_not_published_again(
    built: Path, published: str
) -> None:
    clean = (built / "_build/html" / published).read_bytes()
    path = built / "_build/html" / published
    path.write_bytes(path.read_bytes() + b"<!-- TAMPERED -->")  # in place: same inode
    _edit_a_page(built)
    result = run_cli("build", built, "--no-execute")
    assert result.returncode == 0, result.stderr
    assert (built / "_build/html" / published).read_bytes() == clean
    for package in (built / "_build").glob("*/*.zip"):
        with zipfile.ZipFile(package) as zf:
            assert not [n for n in zf.namelist() if b"TAMPERED" in zf.read(n)], package


def _staged(out_dir: Path, version: str) -> publish.Outputs:
    outputs = publish.Outputs(out_dir)
    for name in ("html", "scorm", "cmi5"):
        (outputs.stage(name) / "version.txt").write_text(version, encoding="utf-8")
    return outputs


def _versions(out_dir: Path) -> set[str]:
    return {(out_dir / n / "version.txt").read_text() for n in ("html", "scorm", "cmi5")}


@pytest.mark.parametrize("killed_after", [0, 1, 2, 3, 4, 5])
def test_a_build_killed_while_publishing_leaves_no_mix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, killed_after: int
) -> None:
    out_dir = tmp_path / "_build"
    _staged(out_dir, "old").commit()
    assert _versions(out_dir) == {"old"}

    outputs = _staged(out_dir, "new")
    renames = 0
    real_rename = Path.rename

    def dying_rename(self: Path, target: Path) -> Path:  # the kill: no code after it runs
        nonlocal renames
        if renames == killed_after:
            raise SystemExit("killed")
        renames += 1
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", dying_rename)
    with pytest.raises(SystemExit):
        outputs.commit()
    monkeypatch.undo()
    # The next build (or serve) starts by finishing what the killed one decided.
    publish.recover(out_dir)
    assert _versions(out_dir) == {"new"}
    assert not list(out_dir.glob(".staging-*"))


def test_a_build_killed_before_deciding_to_publish_keeps_the_old_outputs(
    tmp_path: Path,
) -> None:
    out_dir = tmp_path / "_build"
    _staged(out_dir, "old").commit()
    _staged(out_dir, "new")  # killed before commit: no journal
    publish.recover(out_dir)
    assert _versions(out_dir) == {"old"}


def _replace_keeping_an_old_mtime(path: Path, text: str) -> None:
    """What `cp -p`, `tar x` or `rsync -a` of an older copy does: new bytes, old mtime."""
    path.write_text(text, encoding="utf-8")
    os.utime(path, (946684800, 946684800))  # 2000-01-01


@pytest.mark.parametrize("replaced", ["page", "included", "notebook"])
def test_a_page_replaced_by_a_version_with_an_older_mtime_is_rebuilt(
    tmp_path: Path, replaced: str
) -> None:
    root = make_course(tmp_path / "course", {"calc": ("x = 1",)})
    module = root / "modules" / "01-demo"
    (module / "part.md").write_text("Included, first version.\n", encoding="utf-8")
    (module / "overview.md").write_text(
        "# Demo\n\nFirst version.\n\n```{include} part.md\n```\n", encoding="utf-8"
    )
    assert run_cli("build", root, "--only", "html").returncode == 0
    if replaced == "page":
        _replace_keeping_an_old_mtime(
            module / "overview.md", "# Demo\n\nSECOND-VERSION.\n\n```{include} part.md\n```\n"
        )
        page, expected = "overview.html", "SECOND-VERSION"
    elif replaced == "included":
        _replace_keeping_an_old_mtime(module / "part.md", "Included, SECOND-VERSION.\n")
        page, expected = "overview.html", "SECOND-VERSION"
    else:
        nb = module / "calc.ipynb"
        _replace_keeping_an_old_mtime(
            nb, nb.read_text(encoding="utf-8").replace("# Calc", "# Calc SECOND-VERSION")
        )
        page, expected = "calc.html", "SECOND-VERSION"
    result = run_cli("build", root, "--only", "html")
    assert result.returncode == 0, result.stderr
    assert expected in (root / "_build/html/modules/01-demo" / page).read_text(encoding="utf-8")
