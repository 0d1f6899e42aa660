"""Ralph's LRS app with its file-system backend appending to its statements file.

Run by uvicorn inside tests/lrs/.venv (see tests/lrs/ralph_lrs.py). Ralph's fs backend
writes with `CREATE` by default, which refuses the second POST ("already exists");
it has no setting for the write mode, so the class default is switched to `APPEND`
here before the app is imported.
"""

from ralph.backends.data.base import BaseOperationType
from ralph.backends.data.fs import FSDataBackend

FSDataBackend.default_operation_type = BaseOperationType.APPEND

from ralph.api import app  # noqa: E402

__all__ = ["app"]
