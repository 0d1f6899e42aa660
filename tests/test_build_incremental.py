"""Incremental builds: an edit redoes only what it touches, and gives what a cold build gives."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ctrl_c_works, run_cli
from coursebuilder import make_course, snapshot

CELLS = ("import random\nprint('value', random.random())",)
READING = "modules/01-demo/reading.md"
# One pixel of PNG, for a page that shows an image.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def _course(root: Path) -> Path:
    """A tiny course with two notebooks, a reading that shows an image, and a module."""
    make_course(root, {"alpha": CELLS, "beta": CELLS})
    (root / READING).write_text(
        "# A reading\n\nSome prose.\n\n![A dot](pixel.png)\n", encoding="utf-8"
    )
    (root / "modules/01-demo/pixel.png").write_bytes(PIXEL)
    toc = (root / "_toc.yml").read_text(encoding="utf-8")
    (root / "_toc.yml").write_text(
        toc + "          - file: modules/01-demo/reading\n", encoding="utf-8"
    )
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The course built once (HTML and SCORM); each test works on its own copy."""
    root = _course(tmp_path_factory.mktemp("incremental") / "course")
    result = run_cli("build", root, "--only", "scorm")
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture
def course(built: Path, tmp_path: Path) -> Path:
    """A copy of the built course, file times kept, so an edit after it is newer."""
    root = tmp_path / "course"
    shutil.copytree(built, root, symlinks=True)
    # Sphinx's settings name the course by absolute path, so the first book build of the
    # copy reads every page: do it here (forgetting the fingerprint makes it build).
    (root / "_build/.fingerprint.json").unlink()
    result = run_cli("build", root, "--only", "scorm")
    assert result.returncode == 0, result.stderr
    return root


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under `folder` with its inode and modification time."""
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _summary(stderr: str) -> dict[str, int]:
    match = re.search(
        r"notebooks executed: (\d+), unchanged: (\d+), stored outputs kept: \d+; "
        r"pages read: (\d+), "
        r"site files changed: (\d+)",
        stderr,
    )
    assert match, stderr
    keys = ("executed", "unchanged", "pages read", "files changed")
    return dict(zip(keys, map(int, match.groups()), strict=True))


def _edit(root: Path, text: str = "One more sentence, written after the first build.") -> None:
    time.sleep(0.01)  # a file time after the last build's, even on a coarse clock
    with (root / READING).open("a", encoding="utf-8") as handle:
        handle.write(f"\n{text}\n")


@pytest.mark.slow
def test_an_edit_gives_the_site_a_cold_build_gives(course: Path, tmp_path: Path) -> None:
    _edit(course)
    incremental = run_cli("build", course, "--only", "scorm")
    assert incremental.returncode == 0, incremental.stderr
    assert _summary(incremental.stderr)["pages read"] == 1

    # A cold build of the same sources; the jupyter-cache is copied so that the
    # notebooks' (random) outputs are the same ones.
    cold = tmp_path / "cold"
    shutil.copytree(course, cold, ignore=shutil.ignore_patterns("_build"))
    shutil.copytree(course / "_build/.jupyter_cache", cold / "_build/.jupyter_cache")
    result = run_cli("build", cold, "--only", "scorm")
    assert result.returncode == 0, result.stderr
    assert _summary(result.stderr)["executed"] == 0

    site, cold_site = snapshot(course / "_build/html"), snapshot(cold / "_build/html")
    assert sorted(site) == sorted(cold_site)
    differ = sorted(name for name in site if site[name] != cold_site[name])
    assert differ == [], differ
    assert "One more sentence" in (course / "_build/html/modules/01-demo/reading.html").read_text()
    # The SCORM zips too: the same bytes as a cold build's.
    assert snapshot(course / "_build/scorm") == snapshot(cold / "_build/scorm")


@pytest.mark.slow
def test_an_edit_to_one_page_leaves_the_other_pages_files_untouched(course: Path) -> None:
    before = _files(course / "_build/html")
    _edit(course)
    result = run_cli("build", course, "--only", "html")
    assert result.returncode == 0, result.stderr
    summary = _summary(result.stderr)
    assert summary["executed"] == 0 and summary["pages read"] == 1
    after = _files(course / "_build/html")
    assert sorted(after) == sorted(before)
    changed = sorted(name for name in after if after[name] != before[name])
    # The page itself, the copy of its source and the search index: nothing else.
    assert changed == [
        "_sources/modules/01-demo/reading.md",
        "modules/01-demo/reading.html",
        "searchindex.js",
    ]
    assert summary["files changed"] == len(changed)


@pytest.mark.slow
def test_a_new_page_title_rewrites_every_page_navigation(course: Path) -> None:
    text = (course / READING).read_text(encoding="utf-8")
    (course / READING).write_text(text.replace("# A reading", "# A renamed reading"), "utf-8")
    result = run_cli("build", course, "--only", "html")
    assert result.returncode == 0, result.stderr
    assert _summary(result.stderr)["pages read"] == 1
    # The sidebar of another page shows the new title.
    alpha = (course / "_build/html/modules/01-demo/alpha.html").read_text(encoding="utf-8")
    assert "A renamed reading" in alpha


@pytest.mark.slow
def test_a_failed_incremental_build_leaves_the_last_good_site(course: Path) -> None:
    before = snapshot(course / "_build/html")
    files = _files(course / "_build/html")
    zips = _files(course / "_build/scorm")
    # Valid for the checks; Sphinx warns about it, which --strict turns into a failure
    # after the book stage has re-read the page in its work tree.
    _edit(course, "```{no-such-directive}\n```")
    failed = run_cli("build", course, "--only", "scorm", "--strict")
    assert failed.returncode == 1, failed.stderr
    assert "no-such-directive" in failed.stderr and "Traceback" not in failed.stderr
    assert snapshot(course / "_build/html") == before
    assert _files(course / "_build/html") == files
    assert _files(course / "_build/scorm") == zips
    assert not list((course / "_build").glob(".staging-*"))
    # The page is not read again, but its warning still stops a strict build.
    again = run_cli("build", course, "--only", "scorm", "--strict")
    assert again.returncode == 1 and "no-such-directive" in again.stderr, again.stderr


@pytest.mark.slow
def test_an_interrupted_book_stage_leaves_the_site_and_the_next_build_completes_it(
    course: Path,
) -> None:
    before = snapshot(course / "_build/html")
    _edit(course, "Written before the interrupted build.")
    build = subprocess.Popen(
        [sys.executable, "-m", "coursekit", "build", str(course), "--only", "html"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        preexec_fn=ctrl_c_works,
    )
    assert build.stderr is not None
    seen = ""
    for line in build.stderr:
        seen += line
        if "» book" in line:
            break
    time.sleep(0.5)  # inside Sphinx
    build.send_signal(signal.SIGINT)
    _out, err = build.communicate(timeout=60)
    # Ctrl-C after the build's last step (at exit) ends Python by the signal itself:
    # a shell shows 130 for both. A clean exit (0) means the build was done first.
    assert build.returncode in (0, 130, -signal.SIGINT), seen + err
    if "interrupted; nothing already built was changed" in err:
        assert build.returncode != 0
        assert snapshot(course / "_build/html") == before
    result = run_cli("build", course, "--only", "html")
    assert result.returncode == 0, result.stderr
    page = (course / "_build/html/modules/01-demo/reading.html").read_text(encoding="utf-8")
    assert "Written before the interrupted build." in page


@pytest.mark.slow
def test_files_no_stage_reads_do_not_make_a_build(course: Path) -> None:
    (course / ".notes").write_text("a dotfile", encoding="utf-8")
    (course / f"{READING}~").write_text("an editor backup", encoding="utf-8")
    (course / "modules/01-demo/.reading.md.swp").write_bytes(b"swap")
    (course / "draft.md").write_text("# Not in the TOC, linked from nowhere\n", encoding="utf-8")
    result = run_cli("build", course, "--only", "scorm")
    assert result.returncode == 0, result.stderr
    assert "nothing changed since the last build" in result.stderr
    # An image a page shows is read by the book stage: changing it is a change.
    (course / "modules/01-demo/pixel.png").write_bytes(PIXEL + b"\0")
    changed = run_cli("build", course, "--only", "scorm")
    assert changed.returncode == 0, changed.stderr
    assert "nothing changed" not in changed.stderr
    assert _summary(changed.stderr)["pages read"] == 1


@pytest.mark.slow
def test_scorm_zips_are_kept_when_the_site_did_not_change(course: Path) -> None:
    zips = _files(course / "_build/scorm")
    # --strict is an option of the build (so not "nothing changed"), not of the site.
    result = run_cli("build", course, "--only", "scorm", "--strict")
    assert result.returncode == 0, result.stderr
    assert "SCORM zips unchanged" in result.stderr
    assert _files(course / "_build/scorm") == zips
    _edit(course)
    edited = run_cli("build", course, "--only", "scorm", "--strict")
    assert edited.returncode == 0, edited.stderr
    assert "SCORM zips unchanged" not in edited.stderr
    assert _files(course / "_build/scorm") != zips
