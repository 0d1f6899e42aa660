"""Hostile courses and machines: the build refuses, warns or stops cleanly, and never
deletes, publishes or leaves behind what it should not.

ENOSPC and EROFS are real: a small tmpfs mounted for the test (root only; the test
skips elsewhere), not a monkeypatched write.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import pytest

from conftest import run_cli
from coursebuilder import make_course, snapshot, write_notebook

GOOD = ("x = 1", "print(x + 1)")


def _clean_failure(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr


@pytest.fixture
def course(tmp_path: Path) -> Path:
    root = make_course(tmp_path / "course", {"first": GOOD})
    (root / "exercises" / "01-demo").mkdir(parents=True)
    (root / "exercises" / "01-demo" / "my-notes.txt").write_text("the teacher's notes\n")
    return root


# ------------------------------------------------------------------ --out


def test_out_at_the_course_folder_is_refused_and_nothing_is_deleted(course: Path) -> None:
    before = snapshot(course)
    result = run_cli("build", course, "--out", ".", cwd=course)
    _clean_failure(result, "--out is the course folder")
    assert snapshot(course) == before


def test_out_at_a_folder_holding_exercises_is_refused(course: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    (notes / "exercises").mkdir(parents=True)
    (notes / "exercises" / "mine.txt").write_text("keep me\n")
    result = run_cli("build", course, "--out", notes)
    _clean_failure(result, "not one coursekit created", "exercises")
    assert (notes / "exercises" / "mine.txt").read_text() == "keep me\n"
    assert sorted(p.name for p in notes.iterdir()) == ["exercises"]


def test_out_at_a_folder_of_course_sources_is_refused(course: Path) -> None:
    before = snapshot(course)
    result = run_cli("build", course, "--out", course / "modules")
    _clean_failure(result, "modules")
    assert snapshot(course) == before


def test_out_inside_a_file_is_a_clear_error(course: Path, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    result = run_cli("build", course, "--out", tmp_path / "a-file" / "out")
    _clean_failure(result, "a-file is a file, not a folder")


# ------------------------------------------------------------------ odd files


def test_a_fifo_in_the_course_stops_the_build_at_once(course: Path) -> None:
    os.mkfifo(course / "modules" / "01-demo" / "pipe.md")
    result = subprocess.run(
        [sys.executable, "-m", "coursekit", "build", str(course)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    _clean_failure(result, "modules/01-demo/pipe.md", "not a regular file")


def test_a_symlink_to_outside_the_course_is_refused(course: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("OUTSIDE-SECRET")
    (course / "modules" / "01-demo" / "data.txt").symlink_to(secret)
    result = run_cli("build", course)
    _clean_failure(result, "modules/01-demo/data.txt", "outside the course")
    published = [p for p in (course / "_build").rglob("*") if p.is_file()]
    assert not any(b"OUTSIDE-SECRET" in p.read_bytes() for p in published)


# ------------------------------------------------------------------ zips


def _site(tmp_path: Path, *names: str) -> Path:
    html = tmp_path / "html"
    html.mkdir()
    (html / "index.html").write_text("<html></html>")
    for name in names:
        path = html / "_downloads" / "abc" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    return html


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("a\\..\\..\\..\\evil.bat", "backslash"),
        ("..\\up.txt", "backslash"),
        ("CON.txt", "reserved device name"),
        ("what?.txt", "forbids"),
        ("trailing.", "ends with a space or a dot"),
    ],
)
def test_a_site_file_with_an_unsafe_zip_name_is_refused(
    tmp_path: Path, name: str, why: str
) -> None:
    from coursekit.errors import BuildError
    from coursekit.packages.scorm.package import check_entry_names, site_files

    site = site_files(_site(tmp_path, name))
    with pytest.raises(BuildError) as raised:
        check_entry_names(site)
    assert name in str(raised.value) and why in str(raised.value)


def test_case_only_twins_are_refused(tmp_path: Path) -> None:
    from coursekit.errors import BuildError
    from coursekit.packages.scorm.package import check_entry_names, site_files

    with pytest.raises(BuildError, match="differ only in case"):
        check_entry_names(site_files(_site(tmp_path, "Data.csv", "data.csv")))


def test_packaging_refuses_a_symlink_out_of_the_site_and_a_fifo(tmp_path: Path) -> None:
    from coursekit.errors import BuildError
    from coursekit.packages.scorm.package import site_files

    html = _site(tmp_path)
    (tmp_path / "outside.txt").write_text("OUTSIDE")
    (html / "_downloads" / "link.txt").parent.mkdir(parents=True, exist_ok=True)
    (html / "_downloads" / "link.txt").symlink_to(tmp_path / "outside.txt")
    with pytest.raises(BuildError, match="outside the site"):
        site_files(html)
    (html / "_downloads" / "link.txt").unlink()
    os.mkfifo(html / "_downloads" / "pipe")
    with pytest.raises(BuildError, match="not a regular file"):
        site_files(html)


def test_an_esc_character_in_a_module_title_is_a_clear_error(course: Path) -> None:
    yml = course / "modules" / "01-demo" / "module.yml"
    yml.write_text(yml.read_text().replace('title: "Demo"', 'title: "De\\emo"'))
    result = run_cli("build", course, "--no-execute")
    _clean_failure(result, "modules/01-demo/module.yml")
    assert "All strings must be XML compatible" not in result.stderr
    assert not list((course / "_build").glob("scorm/*.zip"))


def test_packaging_refuses_a_control_character_the_checks_let_through(course: Path) -> None:
    # The checks refuse it first (CK102); packaging must still not hand it to lxml.
    import dataclasses

    from coursekit.errors import BuildError
    from coursekit.loading import load_course
    from coursekit.packages.scorm.package import check_xml_texts

    loaded = load_course(course).course
    module = dataclasses.replace(loaded.modules[0], title="De\x1bmo")
    with pytest.raises(BuildError, match=r"module.yml: the title holds the control character"):
        check_xml_texts(dataclasses.replace(loaded, units=(module,)))


# ------------------------------------------------------------------ one real build


@pytest.fixture(scope="module")
def odd_build(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A course with a dangling symlink, a cell leaving a setsid daemon and a cell
    printing 30 MB, built once (html)."""
    root = make_course(tmp_path_factory.mktemp("odd") / "course", {"first": GOOD})
    mark = f"coursekit-daemon-{uuid.uuid4().hex}"
    write_notebook(
        root / "modules" / "01-demo" / "first.ipynb",
        "First",
        "import os\nif os.fork() == 0:\n    os.setsid()\n"
        f"    os.execvp('python3', ['python3', '-c', 'import time; time.sleep(600)', {mark!r}])\n",
        "print('y' * (30 * 1024**2))",
    )
    (root / "modules" / "01-demo" / "gone.txt").symlink_to(root / "nowhere.txt")
    result = run_cli("build", root, "--only", "html")
    alive = [pid for pid in os.listdir("/proc") if pid.isdigit() and mark.encode() in _cmdline(pid)]
    return {"root": root, "result": result, "alive": alive}


def _cmdline(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


@pytest.mark.slow
def test_a_dangling_symlink_is_skipped_with_a_warning(odd_build: dict) -> None:
    result = odd_build["result"]
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "modules/01-demo/gone.txt: a dangling symlink" in result.stderr


@pytest.mark.slow
def test_a_setsid_daemon_of_a_cell_does_not_outlive_the_build(odd_build: dict) -> None:
    assert odd_build["result"].returncode == 0, odd_build["result"].stderr
    assert odd_build["alive"] == []


@pytest.mark.slow
def test_a_cell_printing_30_mb_makes_a_small_page_that_says_so(odd_build: dict) -> None:
    page = odd_build["root"] / "_build" / "html" / "modules" / "01-demo" / "first.html"
    assert page.stat().st_size < 1024**2
    assert "the rest of its output is not kept" in page.read_text(encoding="utf-8")


# ------------------------------------------------------------------ full and read-only disks


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 64 MB tmpfs (real ENOSPC and EROFS): one build fits, cmi5 zip and PDF work tree too."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("needs root to mount a tmpfs")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)])
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _published(out: Path) -> dict[str, str]:
    """What a build publishes; the book's work tree (.cache/) is no output and may change."""
    return {k: v for k, v in snapshot(out).items() if not k.startswith(".cache/")}


def test_a_copy_that_fills_the_disk_names_the_file_it_was_writing(tmp_path: Path) -> None:
    # shutil's copies report ENOSPC with the source as `filename` and the file being written
    # as `filename2` (sendfile): the message must name where the space ran out (CI once said
    # "<course>/first.ipynb: No space left on device", pointing at a file it only read).
    from coursekit.build.pipeline import _file_system_errors
    from coursekit.errors import BuildError

    source, written = tmp_path / "first.ipynb", tmp_path / "out" / "first.ipynb"
    with pytest.raises(BuildError) as raised, _file_system_errors(tmp_path / "out"):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(source), None, str(written))
    assert str(raised.value).startswith(f"{written}: No space left on device; free some space")


@pytest.mark.slow
def test_a_full_then_read_only_disk_is_a_clear_error_and_old_outputs_stay(
    course: Path, small_disk: Path
) -> None:
    out = small_disk / "out"
    first = run_cli("build", course, "--out", out, "--no-execute")
    assert first.returncode == 0, first.stderr
    before = _published(out)
    # Fill the disk, change the course, build again: no space for the new outputs.
    free = shutil.disk_usage(small_disk).free
    with (small_disk / "filler").open("wb") as f:
        f.write(b"\0" * (free - 256 * 1024))
    write_notebook(course / "modules" / "01-demo" / "first.ipynb", "First", "x = 2")
    full = run_cli("build", course, "--out", out, "--no-execute")
    _clean_failure(full, "No space left on device", str(out))
    assert _published(out) == before
    (small_disk / "filler").unlink()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    read_only = run_cli("build", course, "--out", out, "--no-execute")
    _clean_failure(read_only, "Read-only file system", str(out))
    assert _published(out) == before
    assert {zipfile.is_zipfile(p) for p in (out / "scorm").glob("*.zip")} == {True}
