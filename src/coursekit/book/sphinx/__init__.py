"""The Jupyter Book 1.x engine: Sphinx builds the site from `_config.yml` and `_toc.yml`.

`build` runs Sphinx (incrementally, kept warm by `coursekit serve`); `extension` is the
Sphinx extension books list as `coursekit.sphinxext` (quizzes, student editions);
`offline` serves MathJax from the site (`coursekit.offline`); `a11y` and
`printedition` are loaded by the extension.
"""
