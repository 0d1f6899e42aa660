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
}
_NO_MODULE = re.compile(r"No module named '([^']+)'")


def distribution(module: str) -> str:
    """The package to `pip install` for the top-level module `module`."""
    top = module.split(".")[0]
    return DISTRIBUTIONS.get(top, top.replace("_", "-"))


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
