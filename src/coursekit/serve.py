"""`coursekit serve`: build, serve the book on localhost, rebuild when a source changes.

A small polling watcher rather than sphinx-autobuild: a rebuild must go through
the whole `coursekit build` (execution into the cache, exercises, the offline
assets), which sphinx-autobuild would bypass. Rebuilds are incremental (only
changed notebooks run) and atomic, so the server always shows the last good
build; the reader reloads the page to see a change.
"""

from __future__ import annotations

import functools
import http.server
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from coursekit.build import BuildOptions, BuildSummary, Reporter, build_course, input_files
from coursekit.errors import CourseKitError


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextmanager
def http_server(directory: Path, host: str, port: int) -> Iterator[str]:
    """Serve `directory` (re-resolved on each request) for the block; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer((host, port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def sources_state(root: Path, out_dir: Path) -> dict[str, float]:
    """Modification time of every input file: a change in it means rebuild."""
    return {str(p): p.stat().st_mtime for p in input_files(root.resolve(), out_dir.resolve())}


def watch(
    root: Path,
    options: BuildOptions,
    reporter: Reporter,
    on_build: Callable[[BuildSummary | CourseKitError], None],
    stop: threading.Event,
    poll_seconds: float = 1.0,
) -> None:
    """Rebuild whenever an input changes, until `stop` is set; report each outcome."""
    out_dir = options.out or root / "_build"
    state = sources_state(root, out_dir)
    while not stop.wait(poll_seconds):
        now = sources_state(root, out_dir)
        if now == state:
            continue
        time.sleep(0.3)  # let an editor finish writing every file it saves
        state = sources_state(root, out_dir)
        try:
            on_build(build_course(root, options, reporter))
        except CourseKitError as exc:
            on_build(exc)  # keep serving the last good build
