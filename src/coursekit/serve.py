"""`coursekit serve`: build, serve the book on localhost, rebuild and reload on save.

The pieces are the ones sphinx-autobuild uses: `watchfiles` reports saved
files, uvicorn/starlette serve the site, and sphinx-autobuild's own
`JavascriptInjectorMiddleware` adds to every HTML page a small script that opens
a websocket to `/websocket-reload` and reloads the page when told. What differs
is the rebuild: it is a whole `coursekit build --only html` (execution into the
cache, the offline assets, the student editions), which sphinx-autobuild would
bypass. Rebuilds are incremental (only changed pages are re-read, only changed
notebooks run) and atomic, so the server always shows the last good build; a
failed rebuild reloads nothing.

The watcher and the builds run on the calling thread (so Ctrl-C stops a build
cleanly, as in `coursekit build`); the web server runs on a thread of its own.
"""

from __future__ import annotations

import asyncio
import errno
import queue
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from pathlib import Path
from typing import Any

from coursekit.build.pipeline import (
    NOT_INPUTS,
    BuildOptions,
    BuildSummary,
    Reporter,
    SilentReporter,
    build_course,
    watched_file,
)
from coursekit.errors import CourseKitError
from coursekit.loading.config import CONFIG_FILE, load_config, outside_files
from coursekit.loading.myst_project import MYST_FILE, is_myst_project, load_myst_project

RELOAD_PATH = "/websocket-reload"  # where sphinx-autobuild's injected script connects
SETTINGS = (CONFIG_FILE, MYST_FILE)  # a save there may change `coursekit.read_outside`


class LiveReload:
    """The open pages' websockets; `reload()` (from any thread) tells each to reload."""

    def __init__(self) -> None:
        self.generation = 0
        self.closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Condition | None = None

    async def socket(self, websocket: Any) -> None:
        """One open page: wait for the next build, send "refresh", until it goes away
        or the server stops."""
        self._loop = asyncio.get_running_loop()
        if self._changed is None:
            self._changed = asyncio.Condition()
        changed = self._changed
        await websocket.accept()
        with suppress(Exception):  # the page went away: nothing to tell it
            while not self.closed:
                await self._next_build(changed, self.generation)
                if self.closed:
                    await websocket.close()
                    break
                await websocket.send_text("refresh")

    async def _next_build(self, changed: asyncio.Condition, seen: int) -> None:
        async with changed:
            await changed.wait_for(lambda: self.generation != seen or self.closed)

    def close(self) -> None:
        """End every open page's socket, so that the server can stop (thread-safe)."""
        self.closed = True
        if self._loop is not None:
            self._loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self._bump()))

    def reload(self) -> None:
        """Tell every open page to reload (thread-safe)."""
        if self._loop is None:
            self.generation += 1  # nobody listens yet
            return
        self._loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self._bump()))

    async def _bump(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self.generation += 1
            self._changed.notify_all()


def make_app(html_dir: Path, live: LiveReload, ws_url: str, port: int | None = None) -> Any:
    """The site at `html_dir` (read again on every request), with the reload script;
    with `port`, answering only requests addressed to this machine on that port."""
    from sphinx_autobuild.middleware import JavascriptInjectorMiddleware
    from starlette.applications import Starlette
    from starlette.routing import Mount, WebSocketRoute
    from starlette.staticfiles import StaticFiles

    site = StaticFiles(directory=html_dir, html=True, check_dir=False)
    app = Starlette(routes=[WebSocketRoute(RELOAD_PATH, live.socket), Mount("/", app=site)])
    injected = JavascriptInjectorMiddleware(app, ws_url=ws_url)
    return LocalOnly(injected, port) if port is not None else injected


LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")


class LocalOnly:
    """ASGI middleware against DNS rebinding: a request must name this machine and port
    in its Host header, and a websocket must come from a page of this server (Origin).

    A page on another site whose name an attacker points at 127.0.0.1 sends its own
    name as Host and Origin: it gets 403 and no socket.
    """

    def __init__(self, app: Any, port: int) -> None:
        self.app = app
        self.hosts = {f"{h}:{port}".encode() for h in LOCAL_HOSTS}
        self.origins = {f"http://{h}:{port}".encode() for h in LOCAL_HOSTS}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        host = headers.get(b"host", b"").lower()
        origin = headers.get(b"origin")
        allowed = host in self.hosts and (
            origin is None or origin.lower() in self.origins or scope["type"] == "http"
        )
        if allowed:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            body = b"coursekit serve answers requests to 127.0.0.1 and localhost only\n"
            await send(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to `host`:`port`, or a CourseKitError saying why not (a port in use),
    before anything is built."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise CourseKitError(
                f"--port {port}: the port is in use on {host} (another server?); "
                "choose another with --port, or --port 0 for any free one"
            ) from None
        raise CourseKitError(
            f"--port {port}: cannot listen on {host}:{port} ({exc.strerror}); "
            "choose another with --port"
        ) from None
    return sock


@contextmanager
def http_server(
    directory: Path, host: str, port: int, live: LiveReload, sock: socket.socket | None = None
) -> Iterator[str]:
    """Serve `directory` with live reload for the block; yields the base URL. `sock`: a
    socket `bind` made already (so a port in use is known before the build)."""
    import uvicorn

    sock = sock if sock is not None else bind(host, port)
    bound = sock.getsockname()[1]
    app = make_app(directory, live, f"{host}:{bound}", bound)
    # A graceful stop waits for the open connections at most this long: a page left
    # open must not keep the server (and its worker threads, which the interpreter
    # waits for at exit) alive after Ctrl-C.
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="off",
        ws="websockets-sansio",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="coursekit-serve", daemon=True
    )
    thread.start()
    while not server.started and thread.is_alive():
        threading.Event().wait(0.05)
    try:
        yield f"http://{host}:{bound}/"
    finally:
        live.close()
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def watched_paths(root: Path, out_dir: Path) -> tuple[list[Path], Callable[[Any, str], bool]]:
    """What to watch and which changes count.

    The top-level folders that can hold inputs are watched recursively (not
    `.venv`, `.git` or `_build`: tens of thousands of folders no build reads),
    the course folder itself for its own files. The files outside it that
    `coursekit.read_outside` lists are `OutsideFiles`'.
    """
    root, out_dir = root.resolve(), out_dir.resolve()
    folders = [
        p
        for p in sorted(root.iterdir())
        if p.is_dir() and p != out_dir and p.name not in NOT_INPUTS and not p.name.startswith(".")
    ]

    def counts(change: Any, path: str) -> bool:
        return watched_file(root, out_dir, Path(path))

    return [root, *folders], counts


@contextmanager
def watching(root: Path, out_dir: Path, stop: threading.Event) -> Iterator[Iterator[set[Any]]]:
    """Start watching now; yield the batches of saves, from then on.

    Started before the first build, so that a save made while it runs (or just
    after, before the server is up) is seen and rebuilt, never lost.
    """
    paths, counts = watched_paths(root, out_dir)
    batches: queue.Queue[set[Any]] = queue.Queue()
    top, folders = paths[0], paths[1:]
    threads = [_pump(batches, [top], counts, stop, recursive=False)]
    if folders:
        threads.append(_pump(batches, folders, counts, stop, recursive=True))
    outside = OutsideFiles(root, batches)
    outside.update()
    try:
        yield outside.following(_batches(batches, stop))
    finally:
        stop.set()
        outside.close()
        for thread in threads:
            thread.join(timeout=5)


class OutsideFiles:
    """Watches the files outside the course folder that `coursekit.read_outside` lists:
    the book reads them, so a save to one rebuilds as a save to a page does.

    Their folders are watched, not recursively, for those files alone. The list is
    read again when the settings file (`_config.yml`, `myst.yml`) is saved, so a file
    listed while serving is watched from that save on.
    """

    def __init__(self, root: Path, batches: queue.Queue[set[Any]]) -> None:
        self.root = root.resolve()
        self.batches = batches
        self.files: frozenset[Path] = frozenset()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def update(self) -> None:
        """Watch the files the settings list now (the same ones: nothing to do)."""
        files = listed_outside(self.root)
        if files == self.files:
            return
        self.close()
        self.files, self._stop = files, threading.Event()
        if files:
            folders = sorted({f.parent for f in files})
            self._thread = _pump(self.batches, folders, self._counts, self._stop, recursive=False)

    def _counts(self, change: Any, path: str) -> bool:
        return Path(path) in self.files

    def following(self, saves: Iterator[set[Any]]) -> Iterator[set[Any]]:
        """`saves`, reading the list again after each save to the settings file."""
        for changes in saves:
            if any(
                Path(path).parent == self.root and Path(path).name in SETTINGS
                for _, path in changes
            ):
                self.update()
            yield changes

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def listed_outside(root: Path) -> frozenset[Path]:
    """The files outside the course folder at `root` that its `coursekit.read_outside`
    lists, resolved as the loader resolves them (none while the settings are unusable)."""
    if is_myst_project(root):
        config, doc, _toc = load_myst_project(root, [])
    else:
        config, doc = load_config(root, [])
    return frozenset(f.path for f in outside_files(root, config, doc))


def warm_up(
    root: Path, options: BuildOptions, on_failure: Callable[[CourseKitError], None]
) -> None:
    """Start Sphinx now, not on the first save, when the first build had nothing to do.

    Builds once more regardless of the fingerprint, reporting nothing: nothing
    changed, so no output changes and no page reloads, but the kept application
    (`options.books`) then rebuilds the first save as fast as the next.
    """
    try:
        build_course(root, replace(options, even_if_unchanged=True), SilentReporter())
    except CourseKitError as exc:
        on_failure(exc)


def rebuild_on_save(
    saves: Iterator[set[Any]],
    root: Path,
    options: BuildOptions,
    reporter: Reporter,
    on_build: Callable[[BuildSummary | CourseKitError], None],
    live: LiveReload | None = None,
) -> None:
    """Rebuild after every batch of saves; report each outcome, reload the pages."""
    for changes in saves:
        if not changes:
            continue
        try:
            summary = build_course(root, options, reporter)
        except CourseKitError as exc:
            on_build(exc)  # keep serving the last good build
            continue
        if live is not None and not summary.up_to_date:
            live.reload()  # the site is published: the pages reload while it is reported
        on_build(summary)


def _pump(
    batches: queue.Queue[set[Any]],
    paths: list[Path],
    counts: Callable[[Any, str], bool],
    stop: threading.Event,
    *,
    recursive: bool,
) -> threading.Thread:
    import watchfiles

    def run() -> None:
        for changes in watchfiles.watch(
            *paths,
            watch_filter=counts,
            recursive=recursive,
            stop_event=stop,
            # A batch ends when a step passes with no new change (an editor's save is
            # a few events within milliseconds), or after `debounce` at the latest.
            debounce=800,
            step=50,
            yield_on_timeout=False,
            raise_interrupt=False,
        ):
            batches.put(changes)

    thread = threading.Thread(target=run, name="coursekit-watch", daemon=True)
    thread.start()
    return thread


def _batches(batches: queue.Queue[set[Any]], stop: threading.Event) -> Iterator[set[Any]]:
    """The saves, a batch per rebuild: those made during a build make one batch."""
    while not stop.is_set():
        try:
            changes = batches.get(timeout=0.5)
        except queue.Empty:
            continue
        while not batches.empty():
            changes |= batches.get_nowait()
        yield changes
