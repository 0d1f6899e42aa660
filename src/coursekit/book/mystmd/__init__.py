"""The Jupyter Book 2 engine: mystmd builds the site's data offline, coursekit renders the HTML.

`build.py` runs `myst build --site` on a copy of the project in the work folder,
with a template folder of coursekit's own (mystmd's themes are downloaded at build
time, which an offline build cannot do), and reads what mystmd writes: the site's
pages (`_build/site/config.json`) and each page's resolved MyST AST
(`_build/site/content/<slug>.json`). `render.py` turns that AST into HTML.
"""

from __future__ import annotations
