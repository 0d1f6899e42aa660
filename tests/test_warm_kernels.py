"""Kernels forked from a warm template behave as kernels started from scratch.

The template (coursekit.execute.forkserver) imports ipykernel and the notebooks' libraries
once; each notebook still gets a process of its own, in its own folder.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from coursekit.execute.executor import KernelExecutor, Outcome, RunRequest
from coursekit.execute.forkserver import imports_of


def _executed(request: RunRequest) -> Outcome:
    # On a thread of its own, as the build runs it: this one may hold a running event
    # loop (Playwright's, when a browser test ran in this worker before).
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(KernelExecutor().run, request).result()


def _run(folder: Path, *cells: str) -> list[str]:
    """Run `cells` as a notebook in `folder`; the text each cell printed."""
    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    outcome = _executed(RunRequest(nb, "probe.ipynb", folder, 60))
    assert outcome.ok, outcome.message()
    assert outcome.executed is not None
    return [
        "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stdout")
        for cell in outcome.executed["cells"]
    ]


def test_a_notebook_never_sees_what_the_one_before_it_changed(tmp_path: Path) -> None:
    _run(
        tmp_path,
        "import os\nimport numpy as np\nimport pandas as pd\n"
        "pd.set_option('display.max_rows', 3)\nnp.left_behind = 1\n"
        "os.environ['LEFT_BEHIND'] = '1'\nx = 5",
    )
    after = _run(
        tmp_path,
        "import os\nimport numpy as np\nimport pandas as pd\n"
        "print(pd.get_option('display.max_rows'), hasattr(np, 'left_behind'),"
        " os.environ.get('LEFT_BEHIND'), 'x' in globals())",
    )
    assert after == ["60 False None False\n"]


def test_a_notebook_runs_in_its_folder_with_its_modules_and_matplotlibrc(tmp_path: Path) -> None:
    _run(tmp_path, "import matplotlib.pyplot as plt")  # the template has matplotlib loaded now
    folder = tmp_path / "unit"
    folder.mkdir()
    (folder / "helper.py").write_text("VALUE = 'from the folder'\n", encoding="utf-8")
    (folder / "matplotlibrc").write_text("figure.figsize: 3, 2\n", encoding="utf-8")
    printed = _run(
        folder,
        "import os\nimport helper\nimport matplotlib.pyplot as plt\n"
        "print(os.getcwd(), helper.VALUE, list(plt.rcParams['figure.figsize']))",
    )
    assert printed == [f"{folder} from the folder [3.0, 2.0]\n"]


def test_figures_come_out_inline(tmp_path: Path) -> None:
    nb = new_notebook(
        cells=[new_code_cell("import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()")]
    )
    outcome = _executed(RunRequest(nb, "figure.ipynb", tmp_path, 60))
    assert outcome.ok and outcome.executed is not None
    outputs = outcome.executed["cells"][0]["outputs"]
    assert any("image/png" in o.get("data", {}) for o in outputs)


def test_only_known_quiet_libraries_that_the_notebook_imports_are_loaded_ahead() -> None:
    nb = nbformat.from_dict(
        new_notebook(
            cells=[
                new_code_cell("from matplotlib import pyplot as plt\nimport numpy as np, pandas"),
                new_code_cell("import scipy.stats\nfrom os import path\nimport seaborn"),
                new_code_cell("# import sympy is a comment here\nx = 'import networkx'"),
            ]
        )
    )
    assert imports_of(nb) == [
        "matplotlib",
        "numpy",
        "pandas",
        "scipy",
        "matplotlib.pyplot",
        "scipy.stats",
    ]


def test_closing_the_templates_ends_them_and_leaves_no_pipe_open(tmp_path: Path) -> None:
    """A long `serve` closes its templates after every build: each must end, and our end
    of its pipes be closed (else every rebuild leaks file descriptors)."""
    import gc
    import warnings

    from coursekit.execute import forkserver

    _run(tmp_path, "print(1)")  # a template for this Python now runs
    templates = [t for t in forkserver._TEMPLATES.values() if t is not None]
    assert templates
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        forkserver.close_all()
        gc.collect()
    assert all(t.process.poll() is not None for t in templates)
    assert all(t.process.stdout is None or t.process.stdout.closed for t in templates)
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
