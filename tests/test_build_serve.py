"""`coursekit serve`: the book on localhost, rebuilt after an edit, the open page reloaded."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import ctrl_c_works
from coursebuilder import make_course

OVERVIEW = "modules/01-demo/overview.md"


class Serve:
    """A running `coursekit serve`, its stderr read line by line on a thread.

    A thread, so that a serve that stops printing fails the test at its deadline
    instead of blocking a read forever; stdout is discarded so that it can never
    fill a pipe nobody reads.
    """

    def __init__(self, root: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "coursekit", "serve", str(root), "--port", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            # A serve that does not stop dumps its threads' stacks on SIGABRT (see stop).
            env={**os.environ, "PYTHONFAULTHANDLER": "1"},
            preexec_fn=ctrl_c_works,
        )
        self.seen = ""
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()

    def stop(self) -> None:
        """Ctrl-C, as a user stops it; then close the pipe the thread read."""
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGABRT)  # faulthandler prints where it hangs
            self.process.wait(timeout=10)
            self.pump.join(timeout=10)
            while (line := self._next_line()) is not None:
                self.seen += line
            raise AssertionError(f"serve did not stop on Ctrl-C:\n{self.seen[-6000:]}") from None
        finally:
            self.process.kill()  # a no-op once it has ended
            self.pump.join(timeout=10)
            assert self.process.stderr is not None
            self.process.stderr.close()

    def _next_line(self) -> str | None:
        try:
            return self.lines.get_nowait()
        except queue.Empty:
            return None

    def _pump(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line)
        self.lines.put(None)  # the stream closed: serve ended

    def read_until(self, pattern: str, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.seen += line
            match = re.search(pattern, line)
            if match:
                return match.group(0)
        self.process.kill()
        raise AssertionError(f"serve never printed {pattern!r}:\n{self.seen}")


@contextmanager
def serving(root: Path) -> Iterator[tuple[Serve, str]]:
    serve = Serve(root)
    try:
        url = serve.read_until(r"http://127\.0\.0\.1:\d+/")
        yield serve, url
    finally:
        serve.stop()
    assert serve.process.returncode == 130


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode("utf-8")


def _save(root: Path, text: str) -> None:
    (root / OVERVIEW).write_text(f"# Demo\n\n{text}\n", encoding="utf-8")


def test_serve_rebuilds_after_an_edit_and_tells_the_open_page(tmp_path: Path) -> None:
    from websockets.sync.client import connect

    root = make_course(tmp_path, {"alpha": ("print('hello')",)})
    with serving(root) as (serve, url):
        page = _get(url + "modules/01-demo/overview.html")
        assert "The demo module." in page
        assert "/websocket-reload" in page  # the reload script, added to every page
        socket_url = url.replace("http://", "ws://") + "websocket-reload"
        messages: list[str] = []
        with connect(socket_url, open_timeout=10) as socket:
            listener = threading.Thread(target=lambda: messages.append(socket.recv(120)))
            listener.start()
            _save(root, "Edited while serving.")
            serve.read_until(r"rebuilt; the open pages reload")
            listener.join(timeout=30)
        assert messages == ["refresh"]
        assert "Edited while serving." in _get(url + "modules/01-demo/overview.html")
        assert re.search(r"pages read: 1\b", serve.seen), serve.seen


def test_serve_keeps_the_last_good_build_after_a_bad_edit(tmp_path: Path) -> None:
    root = make_course(tmp_path, {})
    toc = (root / "_toc.yml").read_text(encoding="utf-8")
    with serving(root) as (serve, url):
        (root / "_toc.yml").write_text(toc + "      - file: missing\n", encoding="utf-8")
        serve.read_until(r"rebuild failed, still serving the last good build")
        assert "CK110" in serve.seen and "_toc.yml:" in serve.seen  # the check's finding
        assert "The demo module." in _get(url + "modules/01-demo/overview.html")
        (root / "_toc.yml").write_text(toc, encoding="utf-8")
        _save(root, "Fixed and edited.")
        serve.read_until(r"rebuilt; the open pages reload")
        assert "Fixed and edited." in _get(url + "modules/01-demo/overview.html")
    assert "Traceback" not in serve.seen


def test_serve_rebuilds_after_an_edit_to_a_file_listed_in_read_outside(tmp_path: Path) -> None:
    """A file outside the book folder that `coursekit.read_outside` lets a page include
    is watched too: saving it rebuilds, and the page shows what it says now."""
    root = make_course(tmp_path / "course", {})
    notes = tmp_path / "NOTES.md"
    notes.write_text("The first release.\n", encoding="utf-8")
    with (root / "_config.yml").open("a", encoding="utf-8") as config:
        config.write("coursekit:\n  read_outside:\n    - ../NOTES.md\n")
    page = "# Demo\n\n```{include} ../../../NOTES.md\n```\n"
    (root / OVERVIEW).write_text(page, encoding="utf-8")
    with serving(root) as (serve, url):
        assert "The first release." in _get(url + "modules/01-demo/overview.html")
        notes.write_text("The second release.\n", encoding="utf-8")
        serve.read_until(r"rebuilt; the open pages reload")
        shown = _get(url + "modules/01-demo/overview.html")
        assert "The second release." in shown and "The first release." not in shown
    assert "Traceback" not in serve.seen


@pytest.mark.browser
def test_the_open_page_shows_an_edit_a_few_seconds_after_save(tmp_path: Path, page) -> None:
    root = make_course(tmp_path, {})
    with serving(root) as (serve, url):
        page.goto(url + "modules/01-demo/overview.html")
        page.wait_for_function("document.readyState === 'complete'")
        time.sleep(0.5)  # the reload script's websocket opens after the page loads
        saved = time.monotonic()
        _save(root, "Shown without touching the browser.")
        page.get_by_text("Shown without touching the browser.").wait_for(timeout=60_000)
        seconds = time.monotonic() - saved
    print(f"edit visible in the browser {seconds:.1f} s after save")


def test_rebuilds_in_one_process_write_only_the_edited_page(tmp_path: Path) -> None:
    # `serve` builds again and again in one process: settings that grow from one
    # Sphinx run to the next would make Sphinx write every page each time.
    root = make_course(tmp_path / "course", {"alpha": ("print(1)",)})
    script = f"""
import time
from pathlib import Path
from coursekit.build.pipeline import BuildOptions, SilentReporter, build_course

root = Path({str(root)!r})
work = root / "_build/.cache/book/html"
for text in ("first", "second", "third"):
    build_course(root, BuildOptions(only="html"), SilentReporter())
    time.sleep(0.05)
    (root / {OVERVIEW!r}).write_text("# Demo\\n\\n" + text + "\\n", encoding="utf-8")
    since = time.time()
    build_course(root, BuildOptions(only="html"), SilentReporter())
    written = sorted(
        p.relative_to(work).as_posix() for p in work.rglob("*.html") if p.stat().st_mtime > since
    )
    print("written:", written)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    runs = [line for line in result.stdout.splitlines() if line.startswith("written:")]
    assert len(runs) == 3
    for line in runs:
        assert "alpha.html" not in line and "overview.html" in line, result.stdout


# A script's opening: `started` counts the Sphinx applications it starts.
COUNT_SPHINX_STARTS = """
import sphinx.application

started = []
start = sphinx.application.Sphinx.__init__


def counted(self, *args, **kwargs):
    started.append(1)
    start(self, *args, **kwargs)


sphinx.application.Sphinx.__init__ = counted
"""

WARM_SCRIPT = (
    COUNT_SPHINX_STARTS
    + """
import shutil
import sys
from pathlib import Path

from coursekit.book.sphinx.build import WarmBooks
from coursekit.build.pipeline import BuildOptions, SilentReporter, build_course

root = Path(sys.argv[1])
books = WarmBooks()
options = BuildOptions(only="html", books=books)


def edit(rel, old, new):
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, (rel, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


build_course(root, options, SilentReporter())
edit("modules/01-demo/reading.md", "\\n", "\\n\\nA sentence written while serving.\\n")
build_course(root, options, SilentReporter())
edit("modules/01-demo/quiz.yml", 'title: "Demo quiz"', 'title: "Demo quiz, edited"')
build_course(root, options, SilentReporter())
print("started after three builds:", len(started))
quiz = (root / "_build/html/modules/01-demo/quiz.html").read_text(encoding="utf-8")
print("quiz shown:", "Demo quiz, edited" in quiz)
# The sources and the site as they are now, for the test to compare with a cold build.
shutil.copytree(root, root.parent / "then", ignore=shutil.ignore_patterns("_build"))
shutil.copytree(root / "_build/html", root.parent / "then-site")
edit("_toc.yml", "Module 1 · Demo", "Module 1 · Demo, renamed")  # read when Sphinx starts
build_course(root, options, SilentReporter())
print("started after a TOC edit:", len(started))
books.close()
"""
)


@pytest.mark.slow
def test_serve_keeps_sphinx_started_and_builds_what_a_cold_build_builds(tmp_path: Path) -> None:
    """`serve` keeps one Sphinx application from one rebuild to the next (a new one when
    the TOC changes): its site, after a prose edit, a quiz edit and a TOC edit, is the
    one a cold build of the same sources gives, file for file."""
    import shutil

    from conftest import REPO
    from coursebuilder import snapshot

    root = Path(shutil.copytree(REPO / "tests/fixtures/exercises/good", tmp_path / "course"))
    result = subprocess.run(
        [sys.executable, "-c", WARM_SCRIPT, str(root)], capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr
    # The replaced sites are removed in a thread (the pages reload meanwhile), but
    # all of them by the time the process ends.
    assert not list((root / "_build").glob(".staging-*"))
    assert "started after three builds: 1" in result.stdout, result.stdout
    assert "quiz shown: True" in result.stdout, result.stdout
    assert "started after a TOC edit: 2" in result.stdout, result.stdout

    # After the three builds by one application, then after the TOC edit.
    for sources, site in (
        (tmp_path / "then", tmp_path / "then-site"),
        (root, root / "_build/html"),
    ):
        cold = tmp_path / f"cold-{sources.name}"
        shutil.copytree(sources, cold, ignore=shutil.ignore_patterns("_build"))
        built = subprocess.run(
            [sys.executable, "-m", "coursekit", "build", str(cold), "--only", "html"],
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert built.returncode == 0, built.stderr
        warm_site, cold_site = snapshot(site), snapshot(cold / "_build/html")
        assert sorted(warm_site) == sorted(cold_site)
        assert [n for n in warm_site if warm_site[n] != cold_site[n]] == [], sources.name
    html = root / "_build/html/modules/01-demo"
    assert "A sentence written while serving." in (html / "reading.html").read_text()
    assert "Demo quiz, edited" in (html / "quiz.html").read_text()
    assert "Demo, renamed" in (html / "reading.html").read_text()


WARM_UP_SCRIPT = (
    COUNT_SPHINX_STARTS
    + """
import sys
from pathlib import Path

from coursekit.book.sphinx.build import WarmBooks
from coursekit.build.pipeline import BuildOptions, SilentReporter, build_course
from coursekit.serve import warm_up

root = Path(sys.argv[1])
build_course(root, BuildOptions(only="html"), SilentReporter())  # an earlier build
started.clear()  # its Sphinx is not the one counted
site = root / "_build/html"
files = lambda: {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in site.rglob("*") if p.is_file()}
options = BuildOptions(only="html", books=WarmBooks())
first = build_course(root, options, SilentReporter())
print("first up to date:", first.up_to_date, "started:", len(started))
before, failures = files(), []
warm_up(root, options, failures.append)
same = files() == before
print("after warm-up started:", len(started), "failures:", failures, "site same:", same)
page = root / "modules/01-demo/reading.md"
text = page.read_text(encoding="utf-8")
page.write_text(text + "\\nSaved after the warm-up.\\n", encoding="utf-8")
saved = build_course(root, options, SilentReporter())
print("after a save started:", len(started), "pages read:", list(saved.pages_read))
"""
)


def test_serve_started_on_a_built_course_starts_sphinx_before_the_first_save(
    tmp_path: Path,
) -> None:
    """A serve whose first build had nothing to do starts Sphinx at once, without touching
    the site, so the first save is rebuilt by a started application, as every later one."""
    import shutil

    from conftest import REPO

    root = Path(shutil.copytree(REPO / "tests/fixtures/exercises/good", tmp_path / "course"))
    result = subprocess.run(
        [sys.executable, "-c", WARM_UP_SCRIPT, str(root)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    assert "first up to date: True started: 0" in result.stdout, result.stdout
    assert "after warm-up started: 1 failures: [] site same: True" in result.stdout, result.stdout
    assert "after a save started: 1 pages read: ['modules/01-demo/reading']" in result.stdout, (
        result.stdout
    )


def test_ctrl_c_closes_the_open_pages_sockets(tmp_path: Path) -> None:
    """An open page does not keep `serve` running after Ctrl-C: the server closes its
    reload socket (a normal close, not a dropped connection) and stops."""
    from websockets.exceptions import ConnectionClosedOK
    from websockets.sync.client import connect

    root = make_course(tmp_path, {})
    serve = Serve(root)
    url = serve.read_until(r"http://127\.0\.0\.1:\d+/")
    socket_url = url.replace("http://", "ws://") + "websocket-reload"
    with connect(socket_url, open_timeout=10) as socket:
        assert "The demo module." in _get(url + "modules/01-demo/overview.html")
        serve.process.send_signal(signal.SIGINT)
        with pytest.raises(ConnectionClosedOK):
            socket.recv(30)
    serve.stop()
    assert serve.process.returncode == 130
