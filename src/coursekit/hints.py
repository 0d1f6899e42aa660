"""What to install when a book's extension or a notebook's import is missing.

Import names and the PyPI names that provide them often differ; these are the
common cases in teaching books, and the rule (underscores become dashes) for the rest.
"""

from __future__ import annotations

import re

# import name → the PyPI distribution that provides it
DISTRIBUTIONS = {
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "yaml": "PyYAML",
    "PIL": "Pillow",
    "cv2": "opencv-python",
    "bs4": "beautifulsoup4",
    "dateutil": "python-dateutil",
    "mpl_toolkits": "matplotlib",
    "IPython": "ipython",
    "jupyterbook_patches": "jupyterbook-patches",
    "hoverxref": "sphinx-hoverxref",
}
# Namespace packages: each of their modules is a distribution of its own, named
# `namespace-module` (`sphinxcontrib.youtube` comes from `sphinxcontrib-youtube`).
NAMESPACES = ("sphinxcontrib", "sphinxext")
_NO_MODULE = re.compile(r"No module named '([^']+)'")


def distribution(module: str) -> str:
    """The package to `pip install` for the module `module`."""
    parts = module.split(".")
    if parts[0] in NAMESPACES and len(parts) > 1:
        return f"{parts[0]}-{parts[1]}".replace("_", "-")
    return DISTRIBUTIONS.get(parts[0], parts[0].replace("_", "-"))


def missing_module(text: str) -> str | None:
    """For an error text saying `No module named 'x'`: what to do about it."""
    match = _NO_MODULE.search(text)
    if match is None:
        return None
    name = match.group(1)
    return (
        f"the module {name!r} is not installed in the environment coursekit runs in; "
        f"install it there (`pip install {distribution(name)}`) and build again"
    )
