"""A small course for the cmi5 tests: a unit with a quiz (pass mark 50 %) and one without."""

from __future__ import annotations

from pathlib import Path

QUIZ = """\
id: check
title: "Check"
questions:
  - id: rate
    type: single
    prompt: "Five cents a minute is how much an hour?"
    objectives: [1]
    feedback: "5 × 60 = 300 cents."
    choices:
      - text: "Five dollars"
      - text: "Three dollars"
        correct: true
  - id: lowers
    type: multiple
    prompt: "Which lower the hourly rate?"
    feedback: "Unpaid time lowers it."
    choices:
      - text: "Unpaid search time"
        correct: true
      - text: "A higher rate per task"
      - text: "Rejected unpaid work"
        correct: true
  - id: hours
    type: numeric
    prompt: "How many dollars is 18 hours at 2.5 dollars an hour?"
    answer: 45
    tolerance: 0
    feedback: "18 × 2.5 = 45."
"""
UNITS = {
    "01-reading": ("reading", "Reading", ["overview", "details", "quiz"]),
    "02-more": ("more", "More", ["overview", "closing"]),
}


def make_cmi5_course(root: Path) -> Path:
    """Write the course at `root`: unit `reading` (3 pages, the last a quiz), unit `more`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "_config.yml").write_text(
        'title: "Tiny cmi5 course"\nauthor: "Tests"\nonly_build_toc_files: true\n'
        "exclude_patterns: [_build]\n"
        "sphinx:\n  extra_extensions: [coursekit.sphinxext]\n"
        "  config:\n    html_context:\n      default_mode: auto\n"  # unset: a console error
        "coursekit:\n  id: tiny-cmi5\n  description: A course for the cmi5 tests.\n"
        "  cmi5:\n    iri: https://courses.coursekit.test/tiny-cmi5\n",
        encoding="utf-8",
    )
    (root / "intro.md").write_text("# Tiny cmi5 course\n\nWelcome.\n", encoding="utf-8")
    toc = ["format: jb-book", "root: intro", "parts:"]
    for folder, (ident, title, pages) in UNITS.items():
        unit = root / "modules" / folder
        unit.mkdir(parents=True, exist_ok=True)
        quiz = "quiz" in pages
        (unit / "module.yml").write_text(
            f'id: {ident}\ntitle: "{title}"\nsummary: "The {ident} unit."\n'
            'objectives:\n  - "Read the pages."\nduration: 10\n'
            + ("mastery_score: 50\n" if quiz else ""),
            encoding="utf-8",
        )
        for name in pages:
            if name == "quiz":
                (unit / "quiz.yml").write_text(QUIZ, encoding="utf-8")
                text = "# Quiz\n\n```{quiz} quiz.yml\n```\n"
            else:
                text = f"# {title}: {name}\n\nSome text about {name}.\n"
            (unit / f"{name}.md").write_text(text, encoding="utf-8")
        toc += [
            f'  - caption: "{title}"',
            "    chapters:",
            f"      - file: modules/{folder}/{pages[0]}",
        ]
        toc.append("        sections:")
        toc += [f"          - file: modules/{folder}/{name}" for name in pages[1:]]
    (root / "_toc.yml").write_text("\n".join(toc) + "\n", encoding="utf-8")
    return root
