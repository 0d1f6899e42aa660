"""SCORM 1.2 and 2004 4th edition packages of the built course (the package stage).

`package(course, html_dir, out_dir)` is the whole public surface; see package.py.
"""

from coursekit.packages.scorm.package import package

__all__ = ["package"]
