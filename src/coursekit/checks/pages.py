"""Checks on what pages say (CK301–CK307, CK311), in Markdown pages and notebook markdown cells.

Links and images are resolved relative to the page (a leading `/` means the
course root, as in Sphinx); a link to another page may omit the suffix or use
`.md`, `.ipynb` or `.html`. As in MyST, a link whose target is no file but names a
label (`[here](calculator)` to a `(calculator)=` target) is a cross-reference.
Cross-references ({ref}, {numref}, {eq}) must name a label defined anywhere in
the TOC pages: a `(label)=` target, a directive's `:name:` or a math `:label:`.
Labels match case-insensitively, as in Sphinx.

The principle (issue 20): an error only for what is provably broken. So Sphinx's own
labels (genindex, modindex, search) resolve, a `{doc}`/`{ref}` target prefixed with a
key of the book's `intersphinx_mapping` (`pyprog:pandas`) is another project's and is
never reported, and an image wildcard (`fig.*`, which Sphinx resolves to the best
format) is not checked here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from coursekit.findings import Finding, make
from coursekit.formats import links as linkpaths
from coursekit.loading.markdown import role_target
from coursekit.model import Course, FileIndex, Link, Page, PageKind

LABEL_ROLES = ("ref", "numref", "eq")
# Labels Sphinx's std domain always defines.
STANDARD_LABELS = frozenset({"genindex", "modindex", "py-modindex", "search"})


def unreadable(course: Course) -> Iterator[Finding]:
    """CK105: a Markdown page that is not UTF-8 text."""
    for page in course.pages:
        if page.kind is not PageKind.NOTEBOOK:
            yield from page.problems


def dead_links(course: Course) -> Iterator[Finding]:
    """CK301/CK302/CK307: a relative link, {download} or image whose target does not exist,
    or is a symlink to a file outside the course (its content would be published)."""
    labels = labels_of(course)
    keys = intersphinx_keys(course)
    suffixes = _suffixes(course)
    files = course.files
    for page in _parsed(course):
        for link in page.markup.links if page.markup else ():
            path = linkpaths.local_path(link.target)
            if path is None or (not link.image and path.lower() in labels):
                continue
            if link.image and "*" in path.rsplit("/", 1)[-1]:
                continue  # a wildcard Sphinx resolves to the best format it finds
            if not link.image and _intersphinx(keys, path):
                continue
            problem = _missing(files, page.path, path, link.image, suffixes)
            if problem is None:
                continue
            line, col = page.where(link.pos)
            code = "CK307" if "symlink" in problem else "CK302" if link.image else "CK301"
            what = "image" if link.image else "link"
            msg = f"{what} {link.target!r} points to nothing ({problem})"
            if code == "CK307":
                msg = f"{what} {link.target!r} {problem}; copy the file into the course"
            yield make(code, page.path, line, col, msg)
        yield from _dead_downloads(files, page, suffixes)


def _dead_downloads(files: FileIndex, page: Page, suffixes: tuple[str, ...]) -> Iterator[Finding]:
    """CK301/CK307 for {download}`file`: the book copies the file, so it must exist."""
    for role in page.markup.roles if page.markup else ():
        path = linkpaths.local_path(role_target(role.content)) if role.name == "download" else None
        problem = _missing(files, page.path, path, True, suffixes) if path else None
        if problem:
            line, col = page.where(role.pos)
            if "symlink" in problem:
                msg = f"{{download}} {role.content!r} {problem}; copy the file into the course"
                yield make("CK307", page.path, line, col, msg)
            else:
                msg = f"{{download}} {role.content!r} points to nothing ({problem})"
                yield make("CK301", page.path, line, col, msg)


def missing_alt(course: Course) -> Iterator[Finding]:
    """CK303 (warning): an image without alt text is invisible to screen-reader users."""
    for page in _parsed(course):
        for link in page.markup.links if page.markup else ():
            # `![](#label)` is mystmd's embed of a labelled block, not a picture.
            if link.image and not link.alt and not link.target.startswith("#"):
                line, col = page.where(link.pos)
                msg = f"image {link.target!r} has no alt text; {_alt_hint(link)}"
                yield make("CK303", page.path, line, col, msg)


def self_closed_raw_text(course: Course) -> Iterator[Finding]:
    """CK311: `<script src="…" />` in raw HTML. HTML has no self-closing script (nor
    style, iframe, textarea, title…): a browser reads everything after it as the
    script's text, up to the next `</script>` of the page, and shows none of it."""
    for page in _parsed(course):
        for pos, tag in page.markup.self_closed if page.markup else ():
            line, col = page.where(pos)
            msg = (
                f"<{tag} … /> does not close the <{tag}> in HTML: a browser hides what "
                f"follows, up to the next </{tag}>; write <{tag} …></{tag}>"
            )
            yield make("CK311", page.path, line, col, msg)


def money_as_maths(course: Course) -> Iterator[Finding]:
    """CK312 (warning): `US$4.43 per hour to US$3.31` with dollarmath on. The first `$`
    opens inline maths and the next closes it: the words between are set as one
    italic formula, without spaces, and both dollar signs vanish."""
    for page in _parsed(course):
        for pos, maths in page.markup.money_maths if page.markup else ():
            line, col = page.where(pos)
            flat = " ".join(maths.split())
            shown = flat if len(flat) <= 40 else flat[:37] + "..."
            msg = (
                f"`${shown}$` is set as maths: a `$` before a number opens inline maths "
                "and the next `$` closes it; write `\\$` for a dollar sign"
            )
            yield make("CK312", page.path, line, col, msg)


def headings(course: Course) -> Iterator[Finding]:
    """CK304/CK306 (warnings): one top-level heading per page (it is the page title)."""
    for page in _parsed(course):
        tops = [h for h in page.markup.headings if h.level == 1] if page.markup else []
        if not tops:
            msg = "the page has no top-level heading (# Title); the book uses it as the page title"
            yield make("CK306", page.path, 1, 1, msg)
        for heading in tops[1:]:
            line, col = page.where(heading.pos)
            first_line, _ = page.where(tops[0].pos)
            msg = (
                f"a second top-level heading (the first is on line {first_line}); "
                "make this one a ## section"
            )
            yield make("CK304", page.path, line, col, msg)


def unknown_references(course: Course) -> Iterator[Finding]:
    """CK305: {ref}/{numref}/{eq} to no label, {doc} to no page, {term} to no glossary term."""
    labels = labels_of(course)
    terms = {t for p in _parsed(course) if p.markup for t in p.markup.terms}
    keys = intersphinx_keys(course)
    suffixes = _suffixes(course)
    files = course.files
    for page in _parsed(course):
        for role in page.markup.roles if page.markup else ():
            target = role_target(role.content)
            problem = None
            if role.name in (*LABEL_ROLES, "doc") and _intersphinx(keys, target):
                continue  # another project's target: not knowable offline
            if role.name in LABEL_ROLES and target.lower() not in labels:
                problem = (
                    f"{{{role.name}}} names the label {target!r}, which no page defines; "
                    f"define it with ({target})= above the target"
                )
            elif role.name == "doc" and not _doc_exists(files, page.path, target, suffixes):
                problem = f"{{doc}} names {target!r}, which is no page of the course"
            elif role.name == "term" and target.lower() not in terms:
                problem = (
                    f"{{term}} names {target!r}, which no {{glossary}} defines; "
                    "add it to glossary.md"
                )
            if problem:
                line, col = page.where(role.pos)
                yield make("CK305", page.path, line, col, problem)


def labels_of(course: Course) -> set[str]:
    """Every label the TOC pages define, lower-cased as Sphinx matches them."""
    defined = {label.name.lower() for p in _parsed(course) if p.markup for label in p.markup.labels}
    return defined | STANDARD_LABELS


def intersphinx_keys(course: Course) -> frozenset[str]:
    """The keys of the book's `sphinx.config.intersphinx_mapping`."""
    mapping: object = course.config.raw if course.config else {}
    for key in ("sphinx", "config", "intersphinx_mapping"):
        mapping = mapping.get(key) if isinstance(mapping, Mapping) else None
    return frozenset(str(k) for k in mapping) if isinstance(mapping, Mapping) else frozenset()


def _intersphinx(keys: frozenset[str], target: str) -> bool:
    """`target` is `key:rest` with `key` a key of the book's intersphinx_mapping."""
    key, sep, rest = target.partition(":")
    return bool(sep and rest) and key in keys


def _parsed(course: Course) -> Iterator[Page]:
    return (p for p in course.pages if p.markup is not None)


def _suffixes(course: Course) -> tuple[str, ...]:
    return course.config.page_suffixes if course.config else (".md", ".ipynb")


def _missing(
    files: FileIndex, page: str, path: str, image: bool, suffixes: tuple[str, ...]
) -> str | None:
    """Why `path` (written in `page`) finds no file, or None when it does."""
    rel = linkpaths.resolve(page, path)
    if linkpaths.outside(rel):
        return "it leads outside the course folder"
    if files.is_file(rel):
        if files.escapes(rel):
            return "is a symlink to a file outside the course folder"
        return None
    if any(files.is_file(c) for c in linkpaths.link_candidates(page, path, image, suffixes)):
        return None
    return f"no file {rel}"


def _doc_exists(files: FileIndex, page: str, target: str, suffixes: tuple[str, ...]) -> bool:
    return any(files.is_file(c) for c in linkpaths.doc_candidates(page, target, suffixes))


def _alt_hint(link: Link) -> str:
    if link.via == "markdown":
        return "describe it between the brackets: ![what it shows](path)"
    if link.via == "html":
        return 'add alt="what it shows" to the <img> tag'
    return f"add an :alt: option to the {link.via} directive"


CHECKS = (
    unreadable,
    dead_links,
    missing_alt,
    self_closed_raw_text,
    money_as_maths,
    headings,
    unknown_references,
)
