"""The book stage: Jupyter Book 1.x (Sphinx 7) from the course's own `_config.yml`/`_toc.yml`.

The only module of coursekit (with the Sphinx extension `coursekit.sphinxext`)
that imports jupyter_book or sphinx. It runs the same configuration a plain
`jupyter-book build .` would, with a few overrides so that the build:

- reads executed notebooks from the cache the execute stage filled, and shows
  the notebooks it did not run (`kept`) with their stored outputs, and so never
  executes anything (see `coursekit.execute` for each `execute_notebooks` mode);
- always loads coursekit's own extensions (the quiz directive and the
  student-edition guard of `coursekit.sphinxext`, the offline assets of
  `coursekit.offline`), whatever `_config.yml` lists: without them a quiz
  vanishes, a solution is published and MathJax comes from a CDN;
- is incremental: Sphinx's environment, doctrees and HTML live in a work tree
  that persists between builds (`_build/.cache/book/`), so an edit re-reads and
  re-writes only the pages it touches, plus every page when a page title or the
  set of pages changed (each page's navigation shows every title). The work
  tree is never what is published: `coursekit.build.publish` publishes from it.

The PDF's single page (`singlehtml`) is built in the same work tree, on the same
environment and doctrees: whichever builder runs first reads the changed sources
(the print page, in `coursekit build`), and the other one only writes. What the
first read is handed over (`unwritten-<builder>.json`: the pages read, their
warnings, the pages removed, whether every page must be written again), so the
site re-writes exactly what a read of its own would have made it re-write, and the
print page re-writes the chapters holding those pages (`coursekit.book.sphinx.printpage`).
"""

from __future__ import annotations

import copy
import functools
import gc
import glob
import hashlib
import io
import json
import logging
import re
import shutil
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

from coursekit.book.engine import BookRequest, BookResult
from coursekit.errors import BuildError
from coursekit.execute.sphinxext import book_execution_mode
from coursekit.model import Course

# Always loaded, whatever `_config.yml` lists (see the module docstring).
OWN_EXTENSIONS = ("coursekit.sphinxext", "coursekit.offline", "coursekit.execute.sphinxext")
HTML, DOCTREES = "html", "doctrees"
INCOMPLETE = ".incomplete"  # present while a build runs in the work tree (-<builder>: not html)
BUILDERS = (HTML, "singlehtml")  # they share a work tree: one environment, one set of doctrees
HANDOFF = "unwritten-{}.json"  # what another builder read that this one has not written yet
KEY_FILE = "key.json"  # what the work tree was built with; another key starts it afresh
INPUTS_FILE = "inputs.json"  # the files the last build read
READ_ONCE_FILE = "read-once.txt"  # digest of the TOC and .bib files the last build had
WARNINGS_FILE = "warnings.json"  # warnings-<builder>.json for a builder other than html
DIGESTS_ATTR = "coursekit_digests"  # on Sphinx's environment (pickled with it)
__all__ = ["BookResult", "SphinxEngine", "WarmBooks", "build_book", "read_inputs"]
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # each page's warnings, kept for the pages not re-read


class SphinxEngine:
    """Jupyter Book 1.x as the build's book engine (`coursekit.book.engine.BookEngine`)."""

    name = "jupyter-book-1"

    def build_site(self, request: BookRequest) -> BookResult:
        """The HTML site, in `request.work/html`."""
        return _build_request(request, HTML)

    def build_print_page(self, request: BookRequest) -> BookResult:
        """The `singlehtml` book, in `request.work/singlehtml`; `page` is the TOC root's page."""
        result = _build_request(request, "singlehtml")
        toc = request.course.toc
        root = toc.root.path if toc and toc.root else None
        page = result.html_dir / f"{root.rsplit('.', 1)[0] if root else 'index'}.html"
        if not page.is_file():
            raise BuildError(f"_toc.yml: the single-page book has no page {page.name} to print")
        return replace(result, page=page)

    def read_inputs(self, work: Path) -> list[str] | None:
        return read_inputs(work)


def _build_request(request: BookRequest, builder: str) -> BookResult:
    return build_book(
        request.course.root,
        request.work,
        cache_dir=request.cache_dir,
        kept=request.kept,
        key=request.key,
        exclude=request.exclude,
        builder=builder,
        warm=request.warm,
        course=request.course,
    )


def build_book(
    root: Path,
    work: Path,
    *,
    cache_dir: Path | None,
    key: str,
    exclude: Sequence[str] = (),
    kept: Sequence[str] = (),
    builder: str = HTML,
    warm: WarmBooks | None = None,
    course: Course | None = None,
) -> BookResult:
    """Build the HTML book of the course at `root` in the work tree `work` (`work/html`).

    Only pages whose sources changed since the last build in `work` are read and
    written again. `key` names what else the output depends on (the tools'
    versions, coursekit's own code): a work tree built with another key is
    started afresh. `cache_dir`: the jupyter-cache to read executed notebooks
    from; None builds from the outputs stored in the notebooks (`--no-execute`,
    `execute_notebooks: off`). `kept`: notebooks (relative paths) the execute stage
    did not run, shown with their stored outputs. `exclude`: extra Sphinx exclude
    patterns (e.g. the output folder when it lies inside the course). A build that
    failed or was interrupted in `work` makes the next one write every page again.
    `builder`: Sphinx's builder, `html` or `singlehtml` (the PDF edition's one page,
    in `work/singlehtml`); both share the environment and doctrees of `work`, so the
    sources are read once for both (see the module docstring). `warm`: where a
    long-running process keeps the Sphinx application for its next build.
    `course`: the model the build loaded, handed to coursekit's Sphinx extension
    (None: the extension loads the course itself).
    """
    _start_afresh_unless(work, key)
    sphinx_config = book_config(root, cache_dir, exclude, kept)
    incomplete = work / _own(INCOMPLETE, builder)
    read_once = _read_once(root, sphinx_config)
    handed = _Handoff.take(work, builder)
    # Every page is written again when the last build here stopped half-way, or when
    # the TOC changed: a caption or the order shows in every page's navigation, and
    # Sphinx would write only the pages it re-read.
    toc_changed = _last_read_once(work) != read_once
    write_all = incomplete.exists() or toc_changed or handed.all
    incomplete.touch()
    config_text = json.dumps(sphinx_config, default=str)
    settings = _Settings(str(root), str(work), builder, key, config_text, read_once)
    session = warm.take(settings) if warm is not None else None
    status, warning = io.StringIO(), io.StringIO()  # a new application's
    try:
        if session is None:
            session = _Session.start(root, work, sphinx_config, settings, status, warning)
        # force_all writes every page but still re-reads only the changed ones.
        session.build(force_all=write_all, course=course, handed=handed)
        session.navigation.hand_over(work, builder, toc_changed)
    except BaseException as exc:
        reading = _page_being_read(session)  # before close() empties the environment
        if session is not None:
            # What it read is in the doctrees when the failure came while writing.
            session.navigation.hand_over(work, builder, toc_changed)
            session.close()  # never kept after a failure: its state is half-updated
        if not isinstance(exc, Exception) or isinstance(exc, OSError):
            raise  # Ctrl-C; a full or read-only disk, which the build names as such
        disk = _disk_error(exc)
        if disk is not None:
            raise disk from exc  # the same, met inside an extension's event handler
        _missing_extension(exc)  # Sphinx raises its own errors and any extension's
        _malformed_toc(exc, str(sphinx_config.get("external_toc_path") or "_toc.yml"))
        _too_deep(exc, reading)
        warned = (session.warning if session is not None else warning).getvalue()
        raise BuildError(
            f"the book stage failed: {type(exc).__name__}: {exc}\n{_tail(warned)}"
        ) from exc
    try:
        result = _finish(session, work, builder)
    except BaseException:
        session.close()
        raise
    (work / READ_ONCE_FILE).write_text(read_once, encoding="utf-8")
    (work / HANDOFF.format(builder)).unlink(missing_ok=True)
    incomplete.unlink()
    if warm is not None:
        warm.keep(session)
    else:
        session.close()
    return result


def _disk_error(exc: BaseException) -> OSError | None:
    """The OSError Sphinx wrapped in an ExtensionError (a handler that could not write)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError):
            return current
        current = getattr(current, "orig_exc", None) or current.__cause__ or current.__context__
    return None


def _finish(session: _Session, work: Path, builder: str) -> BookResult:
    """What a finished build leaves: removed pages gone, the inputs and warnings recorded."""
    app, navigation = session.app, session.navigation
    if app.statuscode:
        raise BuildError(f"the book stage failed:\n{_tail(session.warning.getvalue())}")
    handed = navigation.handed
    _forget_removed(work / builder, navigation.removed | set(handed.removed))
    _record_inputs(work, app)
    # myst-nb logs this when it runs a notebook itself (one missing from the cache):
    # the execute stage should have left nothing to run, so say so rather than hide it.
    ran = [line for line in session.status.getvalue().splitlines() if "Executing notebook" in line]
    extra = [f"WARNING: the book stage executed a notebook itself: {line}" for line in ran]
    found = [*_warnings(session.warning.getvalue()), *handed.lines()]
    read = sorted({*navigation.read, *handed.read})  # by this build or, for it, by the other
    warnings = _remember_warnings(work / _own(WARNINGS_FILE, builder), app, read, found)
    return BookResult(work / builder, tuple([*warnings, *extra]), tuple(read))


def _own(name: str, builder: str) -> str:
    """A work tree file of `builder`'s own: `name` for html, `name-<builder>` (before any
    suffix) for another builder sharing the tree."""
    if builder == HTML:
        return name
    stem, dot, suffix = name.rpartition(".") if "." in name.lstrip(".") else (name, "", "")
    return f"{stem}-{builder}{dot}{suffix}"


@dataclass
class _Handoff:
    """What one builder read in a shared work tree that another has not written yet."""

    read: dict[str, list[str]] = field(default_factory=dict)  # page -> its reading's warnings
    removed: list[str] = field(default_factory=list)
    all: bool = False  # every page to be written again (the TOC or a title changed)

    @classmethod
    def take(cls, work: Path, builder: str) -> _Handoff:
        try:
            data = json.loads((work / HANDOFF.format(builder)).read_text(encoding="utf-8"))
            return cls(dict(data["read"]), list(data["removed"]), bool(data["all"]))
        except (OSError, ValueError, KeyError, TypeError):
            return cls()

    def add_to(self, work: Path, builder: str) -> None:
        """Add this to what `builder` has still to write (from earlier builds too)."""
        pending = _Handoff.take(work, builder)
        pending.read.update(self.read)
        pending.removed = sorted({*pending.removed, *self.removed} - set(self.read))
        pending.all = pending.all or self.all
        (work / HANDOFF.format(builder)).write_text(json.dumps(pending.__dict__), "utf-8")

    def lines(self) -> list[str]:
        return [line for lines in self.read.values() for line in lines]


def _read_once(root: Path, sphinx_config: dict[str, object]) -> str:
    """A digest of the files Sphinx's extensions read when an application starts, not
    at each build: the TOC (sphinx-external-toc) and the bibliography (sphinxcontrib-bibtex).
    A kept application whose files changed is not used again."""
    import hashlib

    digest = hashlib.sha256()
    bibfiles = sphinx_config.get("bibtex_bibfiles") or []
    names = [str(sphinx_config.get("external_toc_path") or "_toc.yml")]
    names += [str(b) for b in bibfiles] if isinstance(bibfiles, list) else []
    for name in names:
        try:
            digest.update((root / name).read_bytes())
        except OSError:
            digest.update(b"-")  # missing: Sphinx says so
    return digest.hexdigest()


def _last_read_once(work: Path) -> str | None:
    try:
        return (work / READ_ONCE_FILE).read_text(encoding="utf-8")
    except OSError:
        return None


class WarmBooks:
    """Sphinx applications kept from one build to the next in one process (`coursekit serve`).

    Starting Sphinx (each extension's setup, the theme, the environment read back
    from disk) is a good part of rebuilding after a one-page edit. A kept
    application builds again only in the same work tree, with the same builder,
    settings and tools, and only after a build that succeeded; any other build
    starts a new one, as `coursekit build` always does. `close()` ends them all.
    """

    def __init__(self) -> None:
        self._kept: dict[str, _Session] = {}  # by work tree

    def take(self, settings: _Settings) -> _Session | None:
        session = self._kept.pop(f"{settings.work}\0{settings.builder}", None)
        if session is not None and session.settings != settings:
            session.close()
            return None
        return session

    def keep(self, session: _Session) -> None:
        settings = session.settings
        self._kept[f"{settings.work}\0{settings.builder}"] = session

    def close(self) -> None:
        for session in self._kept.values():
            session.close()
        self._kept.clear()


class _Settings(NamedTuple):
    """What a kept Sphinx application was started with; another value starts a new one."""

    root: str  # the course
    work: str  # the work tree: one application is kept for each
    builder: str
    key: str  # the tools' versions and coursekit's code
    config: str  # Sphinx's settings, as JSON
    read_once: str  # digest of the TOC and .bib files


@dataclass
class _Session:
    """One Sphinx application, the docutils state it registered, and its output streams."""

    app: Any
    stack: ExitStack
    navigation: _Navigation
    status: io.StringIO
    warning: io.StringIO
    settings: _Settings
    # The style sheets and scripts registered while Sphinx started. Some extensions
    # add more for each page (pydata-sphinx-theme: the page's name), which Sphinx
    # keeps (in its registry, and the last page's in the builder) and would put on
    # every page of the next build.
    assets: dict[str, list[Any]] = field(default_factory=dict)

    @classmethod
    def start(
        cls,
        root: Path,
        work: Path,
        sphinx_config: dict[str, object],
        settings: _Settings,
        status: io.StringIO,
        warning: io.StringIO,
    ) -> _Session:
        from sphinx.application import Sphinx
        from sphinx.util.docutils import docutils_namespace, patch_docutils

        builder, navigation, stack = settings.builder, _Navigation(), ExitStack()
        try:
            # Sphinx registers its directives and roles in docutils' global tables:
            # they stay there for as long as the application is kept.
            stack.enter_context(_plugin_lookups_cached())
            stack.enter_context(book_execution_mode(str(sphinx_config["nb_execution_mode"])))
            stack.enter_context(patch_docutils(str(root)))
            stack.enter_context(docutils_namespace())
            app = Sphinx(
                srcdir=str(root),
                confdir=None,
                outdir=str(work / builder),
                doctreedir=str(work / DOCTREES),
                buildername=builder,
                confoverrides=sphinx_config,
                status=status,
                warning=warning,
                freshenv=False,
                parallel=1,  # sphinx_multitoc_numbering is not parallel-safe
            )
        except BaseException:
            stack.close()
            raise
        navigation.connect(app, warning)
        app.connect("write-started", _myst_nb_css_before_pages)
        session = cls(app, stack, navigation, status, warning, settings)
        session.assets = {name: list(found) for name, found in session._asset_lists().items()}
        return session

    def _asset_lists(self) -> dict[str, list[Any]]:
        registry, builder = self.app.registry, self.app.builder
        found = {"css": registry.css_files, "js": registry.js_files}
        for name in ("_css_files", "_js_files"):  # the HTML builders' own
            if isinstance(getattr(builder, name, None), list):
                found[name] = getattr(builder, name)
        return found

    def build(
        self, force_all: bool, course: Course | None = None, handed: _Handoff | None = None
    ) -> None:
        """One build of `course`, with this build's messages only (a kept application's too)."""
        from coursekit.book.sphinx.extension import hand_course

        for stream in (self.status, self.warning):
            stream.seek(0)
            stream.truncate()
        self.app._warncount = 0
        self.app.statuscode = 0
        for name, found in self._asset_lists().items():
            found[:] = self.assets.get(name, [])
        self.navigation.reset(handed)
        hand_course(self.app, course)  # never the model of an earlier build
        self.app.build(force_all=force_all)

    def close(self) -> None:
        """End the application and free what it read (a large book's environment and
        doctrees: hundreds of MB) now, before the next build runs beside it.

        Sphinx's logger keeps the application through its handlers until another one
        starts, and something more (not found yet: no Python container refers to it)
        keeps the application's cycle of application, environment, builder and doctrees
        alive even through a full collection. Emptying the three breaks the cycle: on a
        100-page book two thirds of what the build left allocated are freed.
        """
        self.stack.close()
        app, self.app = self.app, None
        if app is None:
            return
        logger = logging.getLogger("sphinx")
        for handler in list(logger.handlers):
            held = [*handler.filters, getattr(handler, "stream", None)]
            if any(getattr(thing, "app", None) is app for thing in held):
                logger.removeHandler(handler)
        for part in (getattr(app, "env", None), getattr(app, "builder", None), app):
            if part is not None:
                vars(part).clear()
        del app, part
        gc.collect()


def book_config(
    root: Path, cache_dir: Path | None, exclude: Sequence[str], kept: Sequence[str] = ()
) -> dict[str, object]:
    """Jupyter Book's Sphinx settings for the course, with coursekit's overrides."""
    from jupyter_book.config import get_final_config

    sphinx_config, _meta = get_final_config(
        user_yaml=root / "_config.yml",
        cli_config={"latex_individualpages": False},
        sourcedir=root,
        use_external_toc=True,
    )
    # Fresh lists: themes and extensions append to settings in place (the book theme
    # to templates_path), and an unset list setting is Sphinx's one shared default. A
    # second build in the same process (`coursekit serve`) would see them grown, take
    # the settings for changed and write every page again.
    sphinx_config = copy.deepcopy(sphinx_config)
    for name, default in _list_defaults().items():
        sphinx_config.setdefault(name, copy.deepcopy(default))
    extensions = list(sphinx_config.get("extensions", []))  # type: ignore[call-overload]
    sphinx_config["extensions"] = [*extensions, *(e for e in OWN_EXTENSIONS if e not in extensions)]
    sphinx_config["exclude_patterns"] = [*sphinx_config.get("exclude_patterns", []), *exclude]  # type: ignore[misc]
    if sphinx_config.get("external_toc_exclude_missing"):
        _only_toc_files(root, sphinx_config)
    patterns = sphinx_config.get("nb_execution_excludepatterns", [])
    sphinx_config.update(_execution_settings(root, cache_dir, kept, patterns))  # type: ignore[arg-type]
    return sphinx_config


def _list_defaults() -> dict[str, object]:
    """Sphinx's own settings whose default is a list or a dict (one object per process)."""
    from sphinx.config import Config

    defaults = {name: getattr(opt, "default", None) for name, opt in Config.config_values.items()}
    return {name: value for name, value in defaults.items() if isinstance(value, list | dict)}


def _only_toc_files(root: Path, sphinx_config: dict[str, object]) -> None:
    """`only_build_toc_files` as Sphinx's `include_patterns` rather than an exclude list.

    sphinx-external-toc implements it by adding every source file outside the TOC
    to `exclude_patterns`, so a new draft page anywhere in the course changes the
    settings and Sphinx reads every page again. Listing the TOC's files as the
    only ones to include selects the same pages and changes only with the TOC.
    """
    from sphinx_external_toc.parsing import parse_toc_yaml

    toc = root / str(sphinx_config.get("external_toc_path") or "_toc.yml")
    site_map = parse_toc_yaml(str(toc))
    # A TOC may name its files with their suffix (`root: intro.md`), which Sphinx drops.
    suffixes = tuple(_source_suffixes(sphinx_config))
    patterns = [f"{glob.escape(_docname(name, suffixes))}.*" for name in site_map]
    sphinx_config["include_patterns"] = sorted({*patterns, *site_map.globs()})
    sphinx_config["external_toc_exclude_missing"] = False


def _source_suffixes(sphinx_config: dict[str, object]) -> list[str]:
    """The suffixes Sphinx reads as sources: its own, myst-nb's and `nb_custom_formats`'."""
    found = [".rst", ".md", ".ipynb", ".myst"]
    for setting in ("source_suffix", "nb_custom_formats"):
        value = sphinx_config.get(setting)
        if isinstance(value, dict | list):
            found += [str(suffix) for suffix in value]
    return found


def _docname(name: str, suffixes: tuple[str, ...]) -> str:
    return next((name[: -len(s)] for s in suffixes if s and name.endswith(s)), name)


def _start_afresh_unless(work: Path, key: str) -> None:
    """Empty the work tree when it was built with another key (or by no known build)."""
    key_file = work / KEY_FILE
    try:
        same = key_file.read_text(encoding="utf-8") == key
    except OSError:
        same = False
    if not same:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        key_file.write_text(key, encoding="utf-8")


class _Navigation:
    """Every page is written again when the navigation the pages show changed.

    Sphinx writes the pages it re-read; but each page's sidebar and previous/next
    links show the titles of other pages, so a new, removed or renamed page
    changes every page's HTML.
    """

    def __init__(self) -> None:
        self.warning: io.StringIO | None = None
        self.reset()

    def reset(self, handed: _Handoff | None = None) -> None:
        self.read: list[str] = []
        self.removed: set[str] = set()
        self.titles: dict[str, str | None] = {}
        self.pages_changed = False
        self.handed = handed or _Handoff()  # read by the other builder, for this one to write
        self.reading: _Handoff | None = None  # what this build read, once the reading is done

    def connect(self, app: Any, warning: io.StringIO | None = None) -> None:
        self.warning = warning
        app.connect("env-get-outdated", self._outdated)
        app.connect("env-before-read-docs", self._before_read)
        app.connect("env-get-updated", self._updated)

    def _outdated(
        self, app: Any, env: Any, added: set[str], changed: set[str], removed: set[str]
    ) -> list[str]:
        self.pages_changed = bool(added or removed)
        self.removed = set(removed)
        # Sphinx re-reads a page whose source (or include, image…) is newer than its
        # last reading; a page replaced by a version with an older mtime (`cp -p`,
        # `tar x`, `rsync -a`, a restored backup) would keep its old text. The content
        # decides, as it does for coursekit's own fingerprint.
        known: dict[str, str] = getattr(env, DIGESTS_ATTR, {})
        return sorted(
            d
            for d in env.found_docs
            if d not in added and d not in changed and known.get(d) != _content_digest(env, d)
        )

    def _before_read(self, app: Any, env: Any, docnames: list[str]) -> None:
        self.read = list(docnames)
        self.titles = {d: _title(env, d) for d in docnames}

    def _updated(self, app: Any, env: Any) -> list[str]:
        # Sphinx caches the root page's doctree on the environment (`master_doctree`,
        # a cached property it never clears) and pickles it with it: the navigation of
        # a later build in the same process would show the TOC as it was.
        env.__dict__.pop("master_doctree", None)
        setattr(env, DIGESTS_ATTR, {d: _content_digest(env, d) for d in env.found_docs})
        renamed = any(_title(env, d) != self.titles.get(d) for d in self.read)
        self._note_reading(env, renamed or self.pages_changed)
        if renamed or self.pages_changed or self.handed.all:
            return sorted(env.found_docs)
        return sorted(set(self.handed.read) & env.found_docs)

    def _note_reading(self, env: Any, all_pages: bool) -> None:
        """What this build read, with the warnings the reading gave (the stream holds no
        page's writing yet), for the other builder of the work tree."""
        by_source = {str(env.doc2path(d)): d for d in self.read}
        read: dict[str, list[str]] = {d: [] for d in self.read}
        for line in _warnings(self.warning.getvalue() if self.warning is not None else ""):
            read.setdefault(by_source.get(line.split(":", 1)[0], ""), []).append(line)
        self.reading = _Handoff(read, sorted(self.removed), all_pages)

    def hand_over(self, work: Path, builder: str, toc_changed: bool) -> None:
        """Leave what this build read for the other builders of `work` to write (and
        that every page is to be written when the TOC changed: the other builder sees the
        TOC's digest this build recorded)."""
        reading = self.reading
        if reading is None:
            return  # it read nothing into the doctrees (or failed before the reading ended)
        reading.all = reading.all or toc_changed
        if reading.read or reading.removed or reading.all:
            for other in BUILDERS:
                if other != builder:
                    reading.add_to(work, other)
        self.reading = None


def _content_digest(env: Any, docname: str) -> str:
    """A digest of the bytes of a page's source and of every file it depends on."""
    digest = hashlib.sha256()
    srcdir = Path(env.srcdir)
    for name in [str(env.doc2path(docname)), *sorted(map(str, env.dependencies.get(docname, ())))]:
        path = Path(name) if Path(name).is_absolute() else srcdir / name
        digest.update(name.encode() + b"\0")
        try:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:
            digest.update(b"missing")
    return digest.hexdigest()


def _myst_nb_css_before_pages(app: Any, builder: Any) -> None:
    """Copy myst-nb's style sheet into `_static/` before the pages are written.

    myst-nb copies it when the build finishes, and Sphinx adds a `?v=<checksum>`
    to a style sheet's link only when the file is already there: pages written
    by a first build would link it without, pages written again later with. Put
    there first, every build writes the same links.
    """
    try:
        from myst_nb.sphinx_ext import add_global_html_resources
    except ImportError:  # not a myst-nb book
        return
    (Path(builder.outdir) / "_static").mkdir(parents=True, exist_ok=True)
    add_global_html_resources(app, None)


def _forget_removed(html: Path, removed: set[str]) -> None:
    """Sphinx leaves the pages of removed sources behind; a cold build would not have them."""
    for docname in removed:
        (html / f"{docname}.html").unlink(missing_ok=True)
        for source_copy in (html / "_sources").glob(f"{glob.escape(docname)}.*"):
            source_copy.unlink()


def _record_inputs(work: Path, app: Any) -> None:
    """The files the pages read besides their own source (images, includes, quiz files…)."""
    env, root = app.env, Path(app.srcdir)
    files: set[str] = set()
    for deps in env.dependencies.values():
        files.update(str(d) for d in deps)
    files.update(env.images.keys())
    files.update(env.dlfiles.keys())
    files.update(str(env.doc2path(d)) for d in env.found_docs)
    inside = sorted(r for r in {_relative(root, f) for f in files} if r is not None)
    (work / INPUTS_FILE).write_text(json.dumps(inside), encoding="utf-8")


def read_inputs(work: Path) -> list[str] | None:
    """What the last book build in `work` read (paths relative to the course), if known."""
    try:
        found = json.loads((work / INPUTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return [str(f) for f in found] if isinstance(found, list) else None


def _relative(root: Path, name: str) -> str | None:
    path = Path(name) if Path(name).is_absolute() else root / name
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def _title(env: Any, docname: str) -> str | None:
    title = env.titles.get(docname)
    return title.astext() if title is not None else None


def _remember_warnings(path: Path, app: Any, read: list[str], found: list[str]) -> list[str]:
    """This build's warnings, plus the earlier ones of pages it did not re-read (kept in
    the file `path`).

    An incremental build only warns about the pages it reads; the others' warnings
    still hold (and still count for `--strict`).
    """
    try:
        kept: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        kept = {}
    for docname in [*read, ""]:
        kept.pop(docname, None)
    sources = {str(app.env.doc2path(d)): d for d in app.env.found_docs}
    for line in found:
        source = line.split(":", 1)[0]
        kept.setdefault(sources.get(source, ""), []).append(line)
    kept = {d: lines for d, lines in kept.items() if d == "" or d in app.env.found_docs}
    path.write_text(json.dumps(kept, sort_keys=True), encoding="utf-8")
    return [line for d in sorted(kept) for line in kept[d]]


def _execution_settings(
    root: Path, cache_dir: Path | None, kept: Sequence[str], patterns: Sequence[str]
) -> dict[str, object]:
    """myst-nb's settings: read the execute stage's cache, run nothing.

    Every notebook page is either in the cache (the execute stage ran it) or in
    `kept`, excluded from execution by its own absolute path (myst-nb matches the
    patterns against it, so an escaped full path matches that file only). The
    book's own `patterns` stay, for notebooks Sphinx reads outside the TOC. A page's
    own `mystnb: execution_mode` is not heeded here (`execute.sphinxext`): the
    execute stage did what it says.
    """
    if cache_dir is None:
        # A page's own `mystnb: execution_mode` (front matter or notebook metadata)
        # overrides the global mode, so "off" alone let myst-nb run a page under
        # --no-execute; the exclude patterns are global only, and "*" matches them all.
        return {"nb_execution_mode": "off", "nb_execution_excludepatterns": ["*"]}
    return {
        "nb_execution_mode": "cache",
        "nb_execution_cache_path": str(cache_dir),
        "nb_execution_excludepatterns": [
            *patterns,
            *(glob.escape((root / rel).as_posix()) for rel in kept),
        ],
        # A notebook neither cached nor kept would mean a bug; should myst-nb run
        # it anyway, a failure must stop the build (and book.py reports the run).
        "nb_execution_raise_on_error": True,
    }


def _page_being_read(session: _Session | None) -> str:
    """The source Sphinx was reading when it stopped (course-relative), or "a page"."""
    env: Any = getattr(session.app, "env", None) if session is not None else None
    docname = env.temp_data.get("docname") if env is not None else None
    return str(env.doc2path(docname, False)) if env is not None and docname else "a page"


def _too_deep(exc: BaseException, where: str) -> None:
    """A RecursionError while reading a page: it includes itself (directly or through
    other files), or nests deeper than Python can follow; name the page (`where`)."""
    if not isinstance(exc, RecursionError) and "maximum recursion depth" not in str(exc):
        return
    raise BuildError(
        f"{where}: the page includes itself (directly or through the files it includes), "
        "or nests deeper than the book can read; check its {include} directives"
    ) from None


def _malformed_toc(exc: Exception, toc: str) -> None:
    """sphinx-external-toc could not read the table of contents (`toc`): name the file.

    `coursekit check` reports it (CK102) first; this is the build with that code ignored.
    """
    match = re.search(r"\[etoc\] (.*)", str(exc))
    if match is None:
        return
    hint = (
        f"; an old Jupyter Book 0.x list converts with `jupyter-book toc migrate {toc} -o {toc}`"
        if "not a mapping" in match.group(1)
        else ""
    )
    raise BuildError(
        f"{toc}: Jupyter Book cannot read this table of contents ({match.group(1)}){hint}"
    ) from exc


def _missing_extension(exc: Exception) -> None:
    """A Sphinx extension the book lists that cannot be imported: say what to install."""
    from coursekit.hints import missing_module

    text = str(exc)
    match = re.search(r"Could not import extension (\S+)", text)
    hint = missing_module(text)
    if match is not None:
        raise BuildError(
            f"_config.yml: the book uses the Sphinx extension {match.group(1)}, which cannot "
            f"be imported here: {hint or text}"
        ) from exc


@contextmanager
def _plugin_lookups_cached() -> Iterator[None]:
    """Remember pybtex's plugin lookups for the duration of the build.

    sphinxcontrib-bibtex asks pybtex for its style plugins at every citation, and
    each lookup scans the metadata of every installed distribution: about a third
    of the book stage on this course. The answers cannot change during a build.
    """
    import pybtex.plugin

    original = pybtex.plugin._load_entry_point
    pybtex.plugin._load_entry_point = functools.lru_cache(maxsize=None)(original)
    try:
        yield
    finally:
        pybtex.plugin._load_entry_point = original


def _warnings(text: str) -> list[str]:
    plain = ANSI_COLOUR.sub("", text)  # Sphinx colours warnings even into a StringIO
    return [line for line in plain.splitlines() if "WARNING" in line or "ERROR" in line]


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
