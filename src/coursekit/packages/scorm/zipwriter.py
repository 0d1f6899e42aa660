"""Deterministic zips whose members are compressed once, whatever the number of zips.

A course is packaged ten times over (two SCORM versions, the course's zip and one
per unit), each holding the same site: deflating it again for each zip, and again
after every edit, was most of the package stage. Here each file's content is
deflated once and kept (in memory for a build, on disk under `_build/.cache/` for
the next), and the zip is written around the compressed bytes.

The bytes are exactly the ones Python's `zipfile` writes for the same members
(fixed time, Unix mode 0644, default deflate level): `tests/test_zipwriter.py`
compares the two. No ZIP64: a package over 4 GiB or 65,535 files is refused.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from coursekit.errors import BuildError

STORED, DEFLATED = 0, 8
VERSION = 20  # "2.0": what zipfile writes as needed to extract and as made-by version
UNIX = 3
DOS_DATE = (1 << 5) | 1  # 1980-01-01, the earliest a zip can hold; time 00:00:00 is 0
MODE_0644 = 0o100644 << 16
UTF8_NAME = 0x800
LIMIT = 0xFFFFFFFF
MAX_ENTRIES = 0xFFFF


@dataclass(frozen=True)
class Member:
    """One file as a zip holds it: its name, how it is compressed, and its bytes."""

    name: str
    method: int
    crc: int
    size: int
    data: bytes  # compressed (or stored) content


class Compressor:
    """Deflates each distinct content once; `folder` (optional) keeps them between builds."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self.seen: dict[str, bytes] = {}
        self.used: set[str] = set()
        self.files: dict[Path, Member] = {}  # a site file is read and hashed once, not per zip

    def member(self, name: str, content: bytes | Path, stored: bool) -> Member:
        """`content` as zip member `name`: its bytes, or the file to read them from."""
        if isinstance(content, bytes):
            return self._member(name, content, stored)
        known = self.files.get(content)
        if known is None:
            known = self.files[content] = self._member(name, content.read_bytes(), stored)
        return replace(known, name=name)

    def _member(self, name: str, content: bytes, stored: bool) -> Member:
        if stored:
            return Member(name, STORED, zlib.crc32(content), len(content), content)
        key = hashlib.sha256(content).hexdigest()
        self.used.add(key)
        data = self.seen.get(key)
        if data is None:
            data = self._read(key, content)
        if data is None:
            deflate = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
            data = deflate.compress(content) + deflate.flush()
            self._write(key, data)
        self.seen[key] = data
        return Member(name, DEFLATED, zlib.crc32(content), len(content), data)

    def prune(self) -> None:
        """Forget, on disk, what this build did not use (a site's old versions)."""
        if self.folder is None or not self.folder.is_dir():
            return
        for path in self.folder.glob("*.deflate"):
            if path.stem not in self.used:
                path.unlink(missing_ok=True)

    def _read(self, key: str, content: bytes) -> bytes | None:
        """The kept deflated copy, if there is one and it inflates back to `content`.

        Inflating is several times faster than deflating; a copy damaged on disk
        is deflated again instead of being packaged.
        """
        if self.folder is None:
            return None
        try:
            data = (self.folder / f"{key}.deflate").read_bytes()
            inflate = zlib.decompressobj(-15)
            if inflate.decompress(data) + inflate.flush() == content and inflate.eof:
                return data
        except (OSError, zlib.error):
            pass
        return None

    def _write(self, key: str, data: bytes) -> None:
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.folder / f"{key}.partial"
        partial.write_bytes(data)
        partial.replace(self.folder / f"{key}.deflate")  # whole or absent


def write(members: Iterable[Member], path: Path) -> None:
    """Write `members`, in the order given, as the zip `path`."""
    central: list[bytes] = []
    offset = 0
    with path.open("wb") as out:
        for m in members:
            name, flags = _encoded(m.name)
            fields = (m.method, 0, DOS_DATE, m.crc, len(m.data), m.size, len(name))
            local = struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", VERSION, 0, flags, *fields, 0)
            central.append(
                struct.pack(
                    "<4s4B4HL2L5H2L",
                    b"PK\x01\x02",
                    VERSION,
                    UNIX,
                    VERSION,
                    0,
                    flags,
                    *fields,
                    0,
                    0,
                    0,
                    0,
                    MODE_0644,
                    offset,
                )
                + name
            )
            out.write(local + name)
            out.write(m.data)
            offset += len(local) + len(name) + len(m.data)
            _require_small(path, offset, len(central))
        directory = b"".join(central)
        _require_small(path, offset + len(directory), len(central))
        out.write(directory)
        end = (0, 0, len(central), len(central), len(directory), offset, 0)
        out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", *end))


def _encoded(name: str) -> tuple[bytes, int]:
    try:
        return name.encode("ascii"), 0
    except UnicodeEncodeError:
        return name.encode("utf-8"), UTF8_NAME


def _require_small(path: Path, size: int, entries: int) -> None:
    if size > LIMIT or entries > MAX_ENTRIES:
        raise BuildError(
            f"{path.name}: a package over 4 GiB or 65,535 files cannot be written "
            "(LMSs rarely import one); split the course into smaller units or remove large files"
        )
