"""The Sphinx extension books list as `coursekit.sphinxext` in `_config.yml`.

A stable public name: the code lives in `coursekit.book.sphinx.extension`.
"""

from coursekit.book.sphinx.extension import setup

__all__ = ["setup"]
