"""The cmi5 package of the built course (the package stage): one AU per unit.

`package(course, html_dir, out_dir)` is the whole public surface; see package.py.
"""

from coursekit.packages.cmi5.package import package

__all__ = ["package"]
