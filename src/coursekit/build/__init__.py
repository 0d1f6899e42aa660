"""`coursekit build`: the stages from sources to the published outputs.

`pipeline` loads and checks the course and runs the stages; `context` holds the
options decided once for a build; `stages` is the registry (a stage declares its
outputs, what it needs, its skip key and how it runs; `builtin` lists coursekit's
own, whose modules are `execute_stage`, `exercises_stage`, `book_stage`,
`package_stages` and `coursekit.packages.pdf.stage`); `runner` runs them (threads,
timers, the one "skip if unchanged" mechanism); `publish` stages the outputs and
swaps them in at the end; `workfiles` keeps what incremental builds remember
under `_build/.cache/`.
"""
