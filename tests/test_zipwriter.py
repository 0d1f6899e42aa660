"""The zips are the bytes Python's zipfile would write, and each file is deflated once."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from coursekit.errors import BuildError
from coursekit.packages.scorm import zipwriter
from coursekit.packages.scorm.package import STORED_SUFFIXES, write_zip

CONTENTS = {
    "index.html": b"<html>" + b"the same words again and again " * 500 + b"</html>",
    "_static/empty.css": b"",
    "_images/plot.png": os.urandom(3000),
    "modules/caf\u00e9/notes.html": "d\u00e9j\u00e0 vu".encode() * 40,
    "data/big.csv": os.urandom(200_000).hex().encode(),
}


def _zipfile_bytes(entries: dict[str, bytes], path: Path) -> bytes:
    """What the standard library writes for the same members, settings and order."""
    with zipfile.ZipFile(path, "w") as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o100644 << 16
            info.create_system = 3
            stored = Path(name).suffix in STORED_SUFFIXES
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            zf.writestr(info, entries[name])
    return path.read_bytes()


def test_the_zip_is_byte_for_byte_what_zipfile_writes(tmp_path: Path) -> None:
    ours = tmp_path / "ours.zip"
    write_zip(dict(CONTENTS), ours)
    assert ours.read_bytes() == _zipfile_bytes(CONTENTS, tmp_path / "theirs.zip")
    with zipfile.ZipFile(ours) as zf:
        assert zf.testzip() is None
        assert {n: zf.read(n) for n in zf.namelist()} == CONTENTS
        assert zf.getinfo("modules/caf\u00e9/notes.html").flag_bits & 0x800  # a UTF-8 name


def test_a_content_is_deflated_once_and_the_next_build_reads_it_back(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = zipwriter.Compressor(cache)
    write_zip(dict(CONTENTS), tmp_path / "a.zip", first)
    write_zip(dict(CONTENTS), tmp_path / "b.zip", first)
    deflated = [n for n in CONTENTS if Path(n).suffix not in STORED_SUFFIXES]
    assert len(list(cache.glob("*.deflate"))) == len(deflated)
    # A later build finds them on disk: same bytes, nothing new written.
    before = {p: p.stat().st_mtime_ns for p in cache.glob("*.deflate")}
    again = zipwriter.Compressor(cache)
    write_zip(dict(CONTENTS), tmp_path / "c.zip", again)
    assert (tmp_path / "c.zip").read_bytes() == (tmp_path / "a.zip").read_bytes()
    assert {p: p.stat().st_mtime_ns for p in cache.glob("*.deflate")} == before
    # An edited page: its old deflated copy goes once the build is done.
    edited = {**CONTENTS, "index.html": b"<html>edited</html>"}
    third = zipwriter.Compressor(cache)
    write_zip(edited, tmp_path / "d.zip", third)
    third.prune()
    assert len(list(cache.glob("*.deflate"))) == len(deflated)
    with zipfile.ZipFile(tmp_path / "d.zip") as zf:
        assert zf.read("index.html") == b"<html>edited</html>"


def test_a_damaged_cached_copy_is_never_packaged_silently(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    write_zip(dict(CONTENTS), tmp_path / "a.zip", zipwriter.Compressor(cache))
    for path in cache.glob("*.deflate"):
        path.write_bytes(b"not deflate data")
    write_zip(dict(CONTENTS), tmp_path / "b.zip", zipwriter.Compressor(cache))
    with zipfile.ZipFile(tmp_path / "b.zip") as zf:
        assert zf.testzip() is None
        assert zf.read("index.html") == CONTENTS["index.html"]


def test_too_many_files_for_a_zip_without_zip64_is_a_clear_error(tmp_path: Path) -> None:
    entries = {f"f{i}.txt": b"" for i in range(zipwriter.MAX_ENTRIES + 1)}
    with pytest.raises(BuildError, match="65,535 files"):
        write_zip(entries, tmp_path / "many.zip")
    assert not list(tmp_path.iterdir())  # no partial zip left behind
