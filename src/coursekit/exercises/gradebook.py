"""What grading hands the teacher beside the detailed CSV.

- `written/<exercise>.html`: every submission's written answers to each manually
  graded question (student, answer, the mark scheme beside it), and
  `written/<exercise>-marks.csv`, the form the teacher fills in (student, exercise,
  question, points, comment) and gives back with `--marks`.
- `feedback/<student>/<exercise>.html`: one page per student and exercise: each
  test's verdict and points, the written answers' marks and the teacher's comments.
  No solution and no mark scheme, unless the teacher asks (`--feedback-solutions`).
- `gradebook.csv`: one row per student, one column per exercise (points), that
  Moodle's and Canvas's gradebook imports take: `Student` and `SIS User ID` (the
  student id; Moodle: map it to "ID number" or "username"), then the exercises.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterable
from pathlib import Path

from coursekit.errors import CourseError
from coursekit.exercises.grade import (
    STATUS_WORDS,
    CourseTests,
    Grade,
    _num,
    spreadsheet_safe,
    write_atomic,
)

MARKS_COLUMNS = ("student", "exercise", "question", "points", "comment")
Marks = dict[tuple[str, str, str], tuple[float, str]]

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #999; padding: .4rem; text-align: left; vertical-align: top; }
pre { white-space: pre-wrap; margin: 0; font-family: inherit; }
.passed { color: #1a6b1a; } .failed, .error, .timeout, .not-run { color: #9b1c1c; }
"""


def slug(text: str) -> str:
    """A file name made of `text` (any other character becomes `_`)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text.replace("/", "-")).lstrip(".") or "_"


def _page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><main><h1>{html.escape(title)}</h1>\n{body}\n</main></body></html>\n"
    )


def _pre(text: str) -> str:
    return f"<pre>{html.escape(text)}</pre>"


# ----------------------------------------------------------------- marks


def read_marks(path: Path) -> Marks:
    """The teacher's marks: CourseError naming the file and line on a bad row."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CourseError(f"{path}: cannot read the marks ({exc})") from exc
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in MARKS_COLUMNS[:4] if c not in (reader.fieldnames or [])]
    if missing:
        raise CourseError(
            f"{path}:1: the marks need the columns {', '.join(MARKS_COLUMNS)} "
            f"(missing: {', '.join(missing)})"
        )
    marks: Marks = {}
    for row in reader:
        line = reader.line_num
        points = (row.get("points") or "").strip()
        if not points:
            continue  # not marked yet
        try:
            value = float(points)
        except ValueError:
            raise CourseError(f"{path}:{line}: points {points!r} is not a number") from None
        key = tuple((row.get(c) or "").strip().lstrip("'") for c in MARKS_COLUMNS[:3])
        marks[(key[0], key[1], key[2])] = (value, (row.get("comment") or "").strip())
    return marks


# ----------------------------------------------------------------- written answers


def write_written_pages(
    grades: list[Grade], known: dict[str, CourseTests], out: Path
) -> list[Path]:
    """One page and one marks form per exercise with written questions."""
    written: list[Path] = []
    for name, tests in sorted(known.items()):
        if not tests.questions:
            continue
        rows = [g for g in grades if g.exercise == name and g.graded]
        body = []
        for q in tests.questions:
            body.append(
                f"<h2>{html.escape(q.grade_id)} ({_num(q.points)} points)</h2>"
                f"<table><thead><tr><th>Student</th><th>Answer</th><th>Mark scheme</th>"
                f"<th>Mark</th></tr></thead><tbody>"
            )
            for g in rows:
                w = next((w for w in g.written if w.question == q.grade_id), None)
                if w is None:
                    continue
                mark = "" if w.points is None else _num(w.points)
                body.append(
                    f"<tr><td>{html.escape(g.student)}<br><small>{html.escape(g.student_file)}"
                    f"</small></td><td>{_pre(w.answer)}</td><td>{_pre(q.mark_scheme)}</td>"
                    f"<td>{mark}/{_num(q.points)}{_pre(w.comment)}</td></tr>"
                )
            body.append("</tbody></table>")
        page = out / "written" / f"{slug(name)}.html"
        write_atomic(page, _page(f"Written answers: {name}", "\n".join(body)))
        form = io.StringIO()
        writer = csv.writer(form)
        writer.writerow(MARKS_COLUMNS)
        for g in rows:
            for w in g.written:
                points = "" if w.points is None else _num(w.points)
                row = (g.student, name, w.question, points, w.comment)
                writer.writerow([spreadsheet_safe(v) for v in row])
        marks = out / "written" / f"{slug(name)}-marks.csv"
        write_atomic(marks, form.getvalue())
        written += [page, marks]
    return written


# ----------------------------------------------------------------- feedback


def write_feedback(
    grades: list[Grade], known: dict[str, CourseTests], out: Path, solutions: bool = False
) -> list[Path]:
    """One page per student and exercise; mark schemes only when `solutions`."""
    pages = []
    for g in grades:
        if not g.graded:
            continue
        tests = known.get(g.exercise)
        rows = "".join(
            f'<tr class="{t.status.replace(" ", "-")}"><td>{html.escape(t.name)}</td>'
            f"<td>{html.escape(STATUS_WORDS.get(t.status, t.status))}</td>"
            f"<td>{html.escape(t.why)}</td><td>{_num(t.points)}/{_num(t.max_points)}</td></tr>"
            for t in g.tests
        )
        body = [
            f"<p>Student: {html.escape(g.student)}. Notebook: {html.escape(g.student_file)}.</p>",
            f"<p><strong>Total: {_num(g.points)} / {_num(g.max_points)} points</strong></p>",
            "<h2>Tests</h2><table><thead><tr><th>Test</th><th>Result</th><th>Why</th>"
            f"<th>Points</th></tr></thead><tbody>{rows}</tbody></table>",
        ]
        if g.written:
            body.append("<h2>Written answers</h2>")
            for w in g.written:
                mark = "not marked yet" if w.points is None else f"{_num(w.points)}"
                body.append(
                    f"<h3>{html.escape(w.question)}: {mark} / {_num(w.max_points)}</h3>"
                    f"<p>Your answer:</p>{_pre(w.answer)}"
                    + (f"<p>Comment: </p>{_pre(w.comment)}" if w.comment else "")
                )
                if solutions and tests is not None:
                    scheme = next(
                        (q.mark_scheme for q in tests.questions if q.grade_id == w.question), ""
                    )
                    body.append(f"<p>Mark scheme:</p>{_pre(scheme)}")
        if g.note:
            body.append(f"<h2>Notes</h2>{_pre(g.note)}")
        page = out / "feedback" / slug(g.student) / f"{slug(g.exercise)}.html"
        if g.duplicate:
            page = page.with_name(f"{slug(g.exercise)}--{slug(g.student_file)}.html")
        write_atomic(page, _page(f"Feedback: {g.exercise}", "\n".join(body)))
        pages.append(page)
    return pages


# ----------------------------------------------------------------- gradebook


def write_gradebook(grades: Iterable[Grade], path: Path) -> None:
    """Student id and points per exercise; a duplicate or missing notebook stays empty."""
    grades = [g for g in grades if g.graded]
    exercises = sorted({g.exercise for g in grades})
    table: dict[str, dict[str, str]] = {}
    for g in grades:
        row = table.setdefault(g.student, {})
        row[g.exercise] = "" if g.duplicate else _num(g.points)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Student", "SIS User ID", *exercises])
    for student in sorted(table):
        values = [table[student].get(e, "") for e in exercises]
        writer.writerow([spreadsheet_safe(v) for v in (student, student, *values)])
    write_atomic(path, buffer.getvalue())
