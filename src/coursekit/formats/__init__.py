"""Low-level readers shared by the loaders and the checks.

YAML with source positions (`yamlfile`), its declarative schemas (`schema`), what a
link target means (`links`) and offsets → line:col (`positions`). They know nothing
of a course; `coursekit.model` and `coursekit.loading` build on them.
"""
