"""The Sphinx extension books list as `coursekit.offline` in `_config.yml`.

A stable public name: the code lives in `coursekit.book.sphinx.offline`.
"""

from coursekit.book.sphinx.offline import setup

__all__ = ["setup"]
