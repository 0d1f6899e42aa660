"""The one clean-up of what a notebook run started: its process tree and session.

Every back-end starts the code it runs as the leader of a session of its own (a
kernel, by jupyter_client; the grader's harness, by the sandbox). When the run
ends, `end_tree(leader)` kills that session and every descendant of the leader,
also those that left the session (`setsid`) while their parent still lived.
They are first stopped (SIGSTOP), the set searched again until it stops growing,
then killed: a process that forks while we search cannot slip away.

A daemon whose parent exits first (a double fork) has no ancestry left; a
process that made itself child subreaper (`become_subreaper`) gets such orphans
back as children, and `kill_orphans` ends them.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time
from contextlib import suppress

PR_SET_CHILD_SUBREAPER = 36


def stat_fields(pid: int) -> list[bytes]:
    """/proc/<pid>/stat after the command name: state, ppid, pgrp, session, ..."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[-1].split()
    except OSError:
        return []


def _processes(zombies: bool = False) -> dict[int, tuple[int, int]]:
    """Every process: pid -> (parent, session); zombies (already ended) only if asked."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = stat_fields(int(entry))
            if len(fields) > 3 and (zombies or fields[0] not in (b"Z", b"X")):
                found[int(entry)] = (int(fields[1]), int(fields[3]))
    return found


def children_of(pid: int) -> list[int]:
    """The children of `pid`, zombies included (their parent still has to reap them)."""
    return [p for p, (parent, _sid) in _processes(zombies=True).items() if parent == pid]


def tree_of(leader: int, known: set[int] | None = None) -> set[int]:
    """The leader's session and the descendants of the leader and of `known`, leader excluded."""
    table = _processes()
    found = {p for p, (_parent, sid) in table.items() if sid == leader}
    found |= {p for p in known or set() if p in table}
    roots = {leader, *found}
    grew = True
    while grew:
        grew = False
        for pid, (parent, _sid) in table.items():
            if parent in roots and pid not in roots:
                roots.add(pid)
                grew = True
    roots.discard(leader)
    roots.discard(os.getpid())
    return roots


def end_tree(leader: int) -> int:
    """Kill everything the session led by `leader` started; returns how many.

    The leader itself is its owner's to end (it may be gone, its pid reused). All are
    stopped first, so none forks away between the search and the kill.
    """
    stopped: set[int] = set()
    for _ in range(50):
        found = tree_of(leader, stopped) - stopped
        if not found:
            break
        for pid in found:
            _signal(pid, signal.SIGSTOP)
        stopped |= found
    for pid in stopped:
        _signal(pid, signal.SIGKILL)
    return len(stopped)


def _signal(pid: int, sig: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def become_subreaper() -> bool:
    """Make orphans of our runs (a double-forked daemon) our children, so we can kill them."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def kill_orphans(keep: frozenset[int] = frozenset()) -> int:
    """Kill and reap every child of ours but `keep` (orphans that came back); returns how many.

    Loops until none is left, since a process may fork while we kill its parent.
    """
    killed = 0
    for _ in range(50):
        found = [p for p in children_of(os.getpid()) if p not in keep]
        if not found:
            break
        for pid in found:
            killed += 1 + end_tree(pid)
            _signal(pid, signal.SIGKILL)
            with suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)
    return killed
