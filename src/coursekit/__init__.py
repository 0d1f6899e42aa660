"""coursekit: turn a course of notebooks and Markdown into a Jupyter Book and SCORM packages."""

__version__ = "0.1.0"
