"""Atomic build outputs and the build lock.

Every stage writes into a staging folder inside the output folder (same file
system, so the final move is a rename). Nothing replaces an existing output
until the whole build has succeeded: a failed or interrupted build removes its
staging folder and leaves the previous outputs exactly as they were.

An output built in a work tree that persists between builds (the book's HTML)
is published with `stage_tree`: the staged copy hard-links every file that is
the same as the published one (so those keep their inode, bytes and mtime) and
copies only the changed ones; the commit then swaps the whole folder in, as for
any other output. Published files are never written in place, so the links
cannot change under a reader. A published file is read again (hashed) only when
it is not the very file the last publish left (its inode and mtime differ): one
changed in place under `<out>` is then found and replaced.

A long-running process (`coursekit serve`) asks for the outputs a commit replaced
to be removed in a thread (`remove_later`): removing a site's folders takes a
good part of a second on a busy disk, and the pages reload meanwhile. The
process's next build waits for that removal before it stages anything.

The lock is an `flock` on `<out>/.lock`: the kernel releases it when the holder
dies, so a killed build never leaves a stale lock behind.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shutil
import socket
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from coursekit.errors import BuildError

LOCK_FILE = ".lock"
STAGING_PREFIX = ".staging-"
PUBLISHED_FILE = ".cache/published.json"  # what each published tree was made from
COMMIT_FILE = ".commit.json"  # in a staging folder: its outputs are to be moved in
MARKER_FILE = ".coursekit-output"
# What coursekit itself puts in an output folder: one holding nothing else is ours.
OWN_FILES = (LOCK_FILE, MARKER_FILE, ".jupyter_cache", ".cache", "outside-requests.txt")
OWN_ENTRIES = {"html", "scorm", "cmi5", "exercises", "pdf", *OWN_FILES}
OWN_PREFIXES = (STAGING_PREFIX, ".fingerprint", ".exercises-")
JUPYTER_BOOK_ENTRIES = {"jupyter_execute", ".doctrees", "latex"}
COURSE_SOURCES = ("_config.yml", "_toc.yml", "modules", "module.yml", "intro.md")


def check_out_dir(root: Path, out_dir: Path) -> None:
    """Refuse an output folder whose outputs would replace or delete anything of the user's.

    A build replaces `<out>/html`, `<out>/scorm` and `<out>/exercises` wholesale, so
    `<out>` must not be the course (whose `exercises/` is a source), hold the course,
    hold course sources, or be a folder of the user's that coursekit did not create
    (it marks the ones it creates with `.coursekit-output`).
    """
    root, out_dir = root.resolve(), out_dir.resolve()
    for parent in (out_dir, *out_dir.parents):
        if parent.exists() and not parent.is_dir():
            raise BuildError(
                f"{out_dir}: cannot write outputs here, {parent} is a file, not a folder; "
                "give --out a folder"
            )
    if out_dir == root or root.is_relative_to(out_dir):
        raise BuildError(
            f"{out_dir}: --out is the course folder (or holds it), whose exercises/ and "
            "sources a build would replace; give a folder of its own, e.g. _build"
        )
    if not out_dir.exists() or (out_dir / MARKER_FILE).is_file():
        return
    entries = [p.name for p in out_dir.iterdir()]
    sources = [name for name in entries if name in COURSE_SOURCES or name.endswith(".ipynb")]
    if sources:
        raise BuildError(
            f"{out_dir}: the output folder holds course sources "
            f"({', '.join(sorted(sources)[:3])}); a build would replace its exercises/; "
            "give an empty or new folder"
        )
    foreign = [n for n in entries if not _ours(out_dir / n)]
    if foreign:
        raise BuildError(
            f"{out_dir}: the output folder is not one coursekit created (it holds "
            f"{', '.join(sorted(foreign)[:3])}); its html/, scorm/ and exercises/ would be "
            "replaced: give an empty or new folder"
        )


def _ours(path: Path) -> bool:
    """Whether `path` (in an unmarked output folder) looks like what a build writes there."""
    name = path.name
    if name.startswith(OWN_PREFIXES) or name in OWN_FILES:
        return True
    if name in JUPYTER_BOOK_ENTRIES:  # `jupyter-book build .` wrote this _build first
        return True
    if not path.is_dir() or path.is_symlink() or name not in OWN_ENTRIES:
        return False
    inside = {p.name for p in path.iterdir()}
    if name == "exercises":
        return inside <= {"student", "teacher"}
    if name == "scorm":
        return all(n.endswith((".zip", ".zip.tmp")) for n in inside)
    if name == "pdf":
        return all(n.endswith(".pdf") for n in inside)
    return "index.html" in inside or not inside  # html


def mark_out_dir(out_dir: Path) -> None:
    """Mark `out_dir` as coursekit's, so later builds may replace what is in it; and
    remove every symlink from coursekit's own state in it (no build makes one), so
    nothing the build writes there can land outside."""
    remove_symlinks(out_dir)
    marker = out_dir / MARKER_FILE
    if not marker.is_file():
        marker.write_text("This folder holds coursekit build outputs.\n", encoding="utf-8")


def remove_symlinks(out_dir: Path) -> list[str]:
    """Remove the symlinks among what coursekit writes under `out_dir` (its files, its
    caches, its work trees and outputs); returns them (relative to `out_dir`)."""
    removed: list[str] = []
    if not out_dir.is_dir():
        return removed
    for entry in out_dir.iterdir():
        name = entry.name
        if not (name in OWN_ENTRIES or name.startswith(OWN_PREFIXES)):
            continue
        if entry.is_symlink():
            entry.unlink()
            removed.append(name)
            continue
        if not entry.is_dir():
            continue
        for path in _symlinks_under(str(entry)):
            os.unlink(path)
            removed.append(Path(path).relative_to(out_dir).as_posix())
    return removed


def _symlinks_under(folder: str) -> list[str]:
    """The symlinks under `folder` (not followed), seen from the directory entries:
    no file is stat'ed (os.walk asks each entry again, a second walk of the tree). A
    folder that cannot be listed is passed over, as os.walk does: an old site being
    removed in a thread (`remove_later`) loses its folders while this runs."""
    found: list[str] = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_symlink():
                    found.append(entry.path)
                elif entry.is_dir(follow_symlinks=False):
                    found.extend(_symlinks_under(entry.path))
    except OSError:
        pass
    return found


def _files_under(folder: str, prefix: str = "") -> list[tuple[str, os.DirEntry[str]]]:
    """Every file and symlink (not followed) under `folder` with its path relative to
    it, in `sorted(Path.rglob)`'s order. Each entry's `stat()` is the one stat of the file."""
    found: list[tuple[str, os.DirEntry[str]]] = []
    with os.scandir(folder) as entries:
        listed = sorted(entries, key=lambda e: e.name)
    for entry in listed:
        rel = prefix + entry.name
        if entry.is_dir(follow_symlinks=False):
            found.extend(_files_under(entry.path, rel + "/"))
        elif entry.is_symlink() or entry.is_file():
            found.append((rel, entry))
    return found


class BuildLock:
    """Exclusive lock on an output folder; the holder is written into the lock file."""

    def __init__(self, out_dir: Path, command: str = "coursekit build") -> None:
        self.path = out_dir / LOCK_FILE
        self.command = command
        self._file: IO[str] | None = None

    def __enter__(self) -> BuildLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.fdopen(_open_lock(self.path), "a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = _describe(handle.read())
            handle.close()
            raise BuildError(
                f"another build is already writing to {self.path.parent} ({holder}); "
                "wait for it to finish, then run this build again"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                    "command": self.command,
                }
            )
        )
        handle.flush()
        self._file = handle
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._file is not None:
            self._file.seek(0)
            self._file.truncate()
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def _open_lock(path: Path) -> int:
    """The lock file's descriptor, never through a symlink: a `.lock` planted as a
    symlink (or any other non-file) is removed and made again, so locking cannot
    truncate a file outside the output folder."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    for _ in range(3):
        try:
            fd = os.open(path, flags, 0o644)
        except OSError as exc:
            if exc.errno not in (errno.ELOOP, errno.ENXIO, errno.EISDIR):
                raise
            _remove_planted(path)
            continue
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.set_blocking(fd, True)
            return fd
        os.close(fd)
        _remove_planted(path)
    raise BuildError(f"{path}: cannot make the build lock there (it is no regular file)")


def _remove_planted(path: Path) -> None:
    """Remove what sits where coursekit keeps a file of its own (never what it points to)."""
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path)


def _describe(text: str) -> str:
    try:
        info = json.loads(text)
        return (
            f"`{info['command']}`, process {info['pid']} on {info['host']}, "
            f"started {info['started']}"
        )
    except (ValueError, KeyError, TypeError):
        return "holder unknown"


# Output folders whose replaced outputs a thread of this process is removing.
_REMOVING: dict[Path, threading.Thread] = {}


@dataclass
class Outputs:
    """The outputs of one build, staged beside their targets and committed together."""

    out_dir: Path
    remove_later: bool = False  # the replaced outputs are removed in a thread (serve)
    staging: Path = field(init=False)
    _targets: dict[str, Path] = field(default_factory=dict)
    _published: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    _after_commit: list[Callable[[], None]] = field(default_factory=list)
    _removing: bool = False  # committed, and a thread removes the staging area

    def __post_init__(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        removing = _REMOVING.pop(self.out_dir, None)
        if removing is not None:
            removing.join()  # the last build's staging folder had this very name
        _remove_leftovers(self.out_dir)
        self.staging = self.out_dir / f"{STAGING_PREFIX}{os.getpid()}"
        self.staging.mkdir()

    def stage(self, name: str) -> Path:
        """A fresh folder to write output `name` (e.g. "html") into; committed later."""
        path = self.staging / name
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        self._targets[name] = self.out_dir / name
        return path

    def stage_tree(self, name: str, source: Path) -> TreeChange:
        """Stage output `name` as a copy of the folder `source`, reusing unchanged files.

        A file whose bytes equal the published one's is hard-linked from the
        published output (untouched); the others are copied from `source`.
        Returns what changed and a digest of the whole tree.
        """
        staged = self.stage(name)
        target = self.out_dir / name
        before = _load_published(self.out_dir).get(name, {})
        after: dict[str, list[Any]] = {}
        changed: list[str] = []
        made: set[Path] = set()
        for rel, entry in _files_under(str(source)):
            file = Path(entry.path)
            if entry.is_symlink() or not entry.is_file():
                raise BuildError(
                    f"{file}: a symlink in the book's work tree (no build makes one); "
                    f"remove {source.parent} and build again"
                )
            st = entry.stat()
            seen = before.get(rel)
            if seen is not None and seen[:2] == [st.st_size, st.st_mtime_ns]:
                digest = seen[2]  # the same file as at the last publish: not read again
            else:
                digest = _sha256(file)
            dest = staged / rel
            folder = dest.parent
            if folder not in made:
                folder.mkdir(parents=True, exist_ok=True)
                made.add(folder)
            published = target / rel
            if seen is not None and seen[2] == digest and _holds(published, digest, seen):
                _link_or_copy(published, dest)
            else:
                shutil.copyfile(file, dest)
                changed.append(rel)
            held = dest.stat()  # the file this publish leaves, as `_holds` will find it
            after[rel] = [st.st_size, st.st_mtime_ns, digest, held.st_ino, held.st_mtime_ns]
        removed = sorted(set(before) - set(after))
        self._published[name] = after
        tree = hashlib.sha256(json.dumps(sorted((r, v[2]) for r, v in after.items())).encode())
        return TreeChange(tuple(changed), tuple(removed), tree.hexdigest())

    def withdraw(self, name: str) -> None:
        """Drop the staged output `name` (it failed): the published one stays as it is."""
        self._targets.pop(name, None)
        self._published.pop(name, None)
        shutil.rmtree(self.staging / name, ignore_errors=True)

    def scratch(self, name: str) -> Path:
        """A folder for a stage's intermediate files, discarded with the staging area."""
        path = self.staging / ".scratch" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def commit(self) -> None:
        """Move every staged output into place, replacing the previous one, as one step.

        The decision is one atomic write (the journal, `COMMIT_FILE`, naming every
        output); the renames follow. A build killed between them leaves the journal,
        and the next build (or `serve`) finishes the renames before anything else, so
        the outputs are all the old ones or all the new ones, never a mix.
        """
        journal = {"outputs": sorted(self._targets), "published": self._published}
        _write_atomic(self.staging / COMMIT_FILE, json.dumps(journal))
        _roll_forward(self.out_dir, self.staging, journal)
        for callback in self._after_commit:
            callback()
        if self.remove_later:
            self._discard_in_thread()
        else:
            self.discard()

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the outputs are in place (to record what they were made of)."""
        self._after_commit.append(callback)

    def discard(self) -> None:
        """Remove the staging area (previous outputs untouched)."""
        if self._removing:
            return  # committed: a thread removes it
        shutil.rmtree(self.staging, ignore_errors=True)

    def _discard_in_thread(self) -> None:
        """Remove the staging area, with the outputs the commit replaced, in a thread.

        The journal goes first, so that no other build rolls it forward again; a
        process killed meanwhile leaves a staging folder the next build removes.
        """
        (self.staging / COMMIT_FILE).unlink(missing_ok=True)
        staging = self.staging
        thread = threading.Thread(
            target=shutil.rmtree,
            args=(staging,),
            kwargs={"ignore_errors": True},
            name="coursekit-remove-replaced",
        )
        _REMOVING[self.out_dir] = thread
        self._removing = True
        thread.start()


@dataclass(frozen=True, slots=True)
class TreeChange:
    """What publishing a work tree changed (paths relative to the tree)."""

    changed: tuple[str, ...]  # new or different files
    removed: tuple[str, ...]
    digest: str  # of every path and its bytes: equal digests, equal trees

    @property
    def any(self) -> bool:
        return bool(self.changed or self.removed)


def _link_or_copy(published: Path, dest: Path) -> None:
    """A hard link to the published file; a copy where the file system has none."""
    try:
        os.link(published, dest)
    except OSError:
        shutil.copy2(published, dest)


def _holds(published: Path, digest: str, seen: list[Any]) -> bool:
    """Whether the published file is a regular file with the bytes `digest` names: a file
    changed in place (or replaced by a symlink) under `<out>` is not published again.

    The file the last publish left (`seen`: its inode and mtime) is not read again;
    a write in place changes its mtime, a replacement its inode."""
    try:
        st = published.lstat()
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode):
        return False
    if seen[3:5] == [st.st_ino, st.st_mtime_ns] and st.st_size == seen[0]:
        return True
    return _sha256(published) == digest


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)  # never write through what sits there
    with open(tmp, "x", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


def _roll_forward(out_dir: Path, staging: Path, journal: dict[str, Any]) -> None:
    """Do (or finish) the renames a commit journal decided; safe to repeat."""
    for name in journal.get("outputs", []):
        staged, target, old = staging / name, out_dir / name, staging / f".old-{name}"
        if not staged.exists():
            continue  # moved in before the kill
        if (target.exists() or target.is_symlink()) and not old.exists():
            target.rename(old)
        elif target.exists() or target.is_symlink():
            _remove_planted(target)
        staged.rename(target)
    published = journal.get("published")
    if published:
        _save_published(out_dir, published)


def recover(out_dir: Path) -> None:
    """Finish a publish a killed build decided (its journal is there), drop the rest."""
    _remove_leftovers(out_dir)


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _load_published(out_dir: Path) -> dict[str, dict[str, list[Any]]]:
    try:
        data: dict[str, dict[str, list[Any]]] = json.loads(
            (out_dir / PUBLISHED_FILE).read_text(encoding="utf-8")
        )
    except (OSError, ValueError):
        return {}
    # A published tree that is gone (removed by hand) has nothing to link from.
    return {name: files for name, files in data.items() if (out_dir / name).is_dir()}


def _save_published(out_dir: Path, trees: dict[str, dict[str, list[Any]]]) -> None:
    path = out_dir / PUBLISHED_FILE
    data = {**_load_published(out_dir), **trees}
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(path, json.dumps(data))


def _remove_leftovers(out_dir: Path) -> None:
    """Staging folders of builds that were killed (the lock is held, so none is live)."""
    for path in out_dir.glob(f"{STAGING_PREFIX}*"):
        try:
            journal = json.loads((path / COMMIT_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            journal = None
        if isinstance(journal, dict) and not path.is_symlink():
            _roll_forward(out_dir, path, journal)  # the build was killed while publishing
        if path.is_symlink():
            path.unlink()
        else:
            shutil.rmtree(path, ignore_errors=True)


def tree_size(path: Path) -> int:
    """Bytes in every file under `path` (a file: its size)."""
    if path.is_file():
        return path.stat().st_size
    return sum(e.stat().st_size for _, e in _files_under(str(path)) if e.is_file())
