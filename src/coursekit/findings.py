"""Findings: one record per problem, the registry of codes, and their formatting.

Checks yield `Finding`s and never print. `cli` formats them with `format_findings`
and decides the exit code with `exit_code`.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem at one place. `path` is relative to the course root, POSIX style.

    `line` and `col` are 1-based; 0 means "the whole file" (no position known).
    """

    code: str
    path: str
    line: int
    col: int
    message: str
    severity: Severity = Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.col, self.code)


# The registry of codes: code -> (default severity, short description).
# Families: CK1xx config/TOC/modules, CK2xx notebooks, CK3xx pages,
# CK4xx exercises and quizzes, CK5xx bibliography.
E, W = Severity.ERROR, Severity.WARNING
CODES: dict[str, tuple[Severity, str]] = {
    "CK100": (E, "the course root is not a course (no _config.yml or _toc.yml)"),
    "CK101": (E, "YAML does not parse"),
    "CK102": (E, "a value has the wrong type"),
    "CK103": (W, "unknown key"),
    "CK104": (E, "a required key is missing"),
    "CK105": (E, "a file is not valid UTF-8 or cannot be read"),
    "CK106": (W, "a key is written twice in one YAML mapping (the last one is used)"),
    "CK110": (E, "a TOC entry names a file that does not exist"),
    "CK111": (E, "a TOC entry is listed more than once"),
    "CK112": (E, "a TOC entry is an absolute path"),
    "CK113": (E, "a TOC entry leads outside the repository"),
    "CK114": (E, "a TOC entry has an unknown type"),
    "CK115": (W, "a file under modules/ is not reached by the TOC"),
    "CK116": (E, "a TOC entry contains itself (cycle)"),
    "CK117": (E, "a TOC url is not an http(s) address"),
    "CK118": (E, "a TOC path has a backslash"),
    "CK120": (E, "two modules share an id"),
    "CK121": (E, "a module has no learning objectives"),
    "CK122": (E, "a module duration is not a positive whole number of minutes"),
    "CK123": (E, "a folder under modules/ has no module.yml"),
    "CK124": (W, "a module folder name is not NN-slug"),
    "CK125": (W, "a module.yml describes no unit (no TOC part starts in its folder)"),
    "CK126": (E, "a module's completion setting is not pages, quiz, both or a percentage"),
    "CK127": (W, "a module completes on its quiz but has no quiz with questions"),
    "CK201": (E, "a notebook is not JSON"),
    "CK202": (W, "a notebook is invalid per the nbformat schema"),
    "CK203": (W, "a notebook is older than nbformat 4.5 (no cell ids)"),
    "CK204": (E, "a notebook has no kernelspec"),
    "CK205": (W, "a notebook that the build executes has committed error outputs"),
    "CK206": (W, "a notebook output is over the size limit"),
    "CK301": (E, "a relative link points to nothing"),
    "CK302": (E, "an image points to nothing"),
    "CK303": (W, "an image has no alt text"),
    "CK304": (W, "a page has more than one top-level heading"),
    "CK305": (E, "a cross-reference names an unknown label"),
    "CK306": (W, "a page has no top-level heading"),
    "CK307": (E, "a link, image or download is a symlink to a file outside the course"),
    "CK308": (E, "a directive or setting reads a file outside the course, or no regular file"),
    "CK309": (E, "a link, download or include reaches into exercises/ (teacher material)"),
    "CK310": (W, "an image is loaded from the network (missing offline and in a strict LMS)"),
    "CK311": (E, "raw HTML closes a <script> (or <style>, <iframe>…) with />: it hides the rest"),
    "CK312": (W, "a dollar sign before a number starts inline maths ($4 to $5 is set as maths)"),
    "CK400": (E, "an exercise notebook cannot be read"),
    "CK401": (E, "an exercise marker is unbalanced (BEGIN without END or END without BEGIN)"),
    "CK402": (E, "exercise markers are nested"),
    "CK403": (E, "a solution region outside a code cell (or a mark scheme outside markdown)"),
    "CK404": (E, "an exercise has no test cell"),
    "CK405": (E, "an exercise has no solution region"),
    "CK406": (W, "an exercise is not reached by the TOC"),
    "CK407": (W, "an exercise folder matches no module folder"),
    "CK451": (E, "a quiz question has no right answer"),
    "CK452": (E, "a quiz question or choice id is used twice"),
    "CK453": (E, "a quiz links to a page that is not in the book"),
    "CK454": (E, "a numeric quiz answer has no tolerance"),
    "CK455": (E, "a single-choice quiz question has several right answers"),
    "CK456": (E, "a quiz directive names a file that does not exist"),
    "CK457": (W, "a quiz choice has no feedback"),
    "CK458": (W, "no page shows a quiz file"),
    "CK459": (E, "a choice question has fewer than two choices"),
    "CK460": (W, "a page shows a quiz but _config.yml lacks coursekit.sphinxext"),
    "CK461": (W, "a module objective is assessed by no quiz question"),
    "CK462": (W, "a quiz question names an objective its module does not have"),
    "CK501": (E, "a citation key is absent from the bibliography"),
    "CK502": (E, "the bibliography does not parse"),
    "CK503": (W, "a bibliography entry is never cited"),
}
del E, W


def make(code: str, path: str, line: int, col: int, message: str) -> Finding:
    """Build a finding with the registered default severity of `code`."""
    severity, _ = CODES[code]
    return Finding(code, path, line, col, message, severity)


def select(
    findings: Iterable[Finding],
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    per_file: Sequence[WaiverSpec] = (),
) -> list[Finding]:
    """Keep findings whose code starts with a `select` prefix and none of `ignore`, and
    that no `per_file` waiver covers: (glob pattern, code prefixes), like ruff's
    per-file-ignores, optionally narrowed to a target the finding names and a line."""
    kept = [
        f
        for f in findings
        if (not select or f.code.startswith(tuple(select)))
        and not f.code.startswith(tuple(ignore))
        and not _waived(f, per_file)
    ]
    return sorted(set(kept), key=Finding.sort_key)


# A waiver: (path glob, code prefixes) or (path glob, code prefixes, target, line), where
# an empty target and a line of 0 match any.
WaiverSpec = tuple[str, Sequence[str]] | tuple[str, Sequence[str], str, int]


def _waived(finding: Finding, per_file: Sequence[WaiverSpec]) -> bool:
    return any(_covers(waiver, finding) for waiver in per_file)


def _covers(waiver: WaiverSpec, finding: Finding) -> bool:
    pattern, codes = waiver[0], waiver[1]
    target, line = (waiver[2], waiver[3]) if len(waiver) == 4 else ("", 0)
    return (
        finding.code.startswith(tuple(codes))
        and fnmatch.fnmatchcase(finding.path, pattern)
        and (not line or finding.line == line)
        and (not target or names(finding, target))
    )


def names(finding: Finding, target: str) -> bool:
    """Whether `finding` is about `target` (a label, link, image, key…): its message
    quotes it, as every finding quotes what it is about (`'complex_ex3'`)."""
    return any(f"{q}{target}{q}" in finding.message for q in ("'", '"', "`"))


def exit_code(findings: Sequence[Finding], strict: bool = False) -> int:
    """0 when clean, 1 with errors (or with warnings under `strict`)."""
    if any(f.severity is Severity.ERROR for f in findings):
        return 1
    return 1 if strict and findings else 0


def format_findings(findings: Sequence[Finding], fmt: str = "text") -> str:
    """Render findings as `text` (path:line:col: CODE message), `json` or `github`."""
    if fmt == "json":
        return json.dumps([asdict(f) for f in findings], indent=2, ensure_ascii=False)
    if fmt == "github":
        return "\n".join(_github(f) for f in findings)
    return "\n".join(
        f"{one_line(f.path)}:{f.line}:{f.col}: {f.code} {one_line(f.message)}" for f in findings
    )


def one_line(text: str) -> str:
    """`text` with its control characters escaped (`\\n`, `\\t`, `\\x1b`…), so a file name
    or value holding a line break or a terminal escape stays on one line, as itself."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def _github(f: Finding) -> str:
    # Workflow command syntax: properties are comma separated, data escapes %, CR, LF.
    def esc(s: str) -> str:
        return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    def prop(s: str) -> str:  # property values also escape the separators
        return esc(s).replace(":", "%3A").replace(",", "%2C")

    props = f"file={prop(f.path)},line={max(f.line, 1)},col={max(f.col, 1)},title={f.code}"
    return f"::{f.severity.value} {props}::{esc(f.code + ' ' + f.message)}"


def summary(findings: Sequence[Finding]) -> str:
    errors = sum(f.severity is Severity.ERROR for f in findings)
    warnings = len(findings) - errors
    return f"{errors} error(s), {warnings} warning(s)"
