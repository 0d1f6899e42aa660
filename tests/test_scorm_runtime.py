"""The SCO runtime's session-time formatter, run as the SCO runs it (in Node.js).

SCORM 1.2 wants HHHH:MM:SS.SS, 2004 an ISO 8601 duration; a value rounded after
splitting would read "60" seconds or minutes, which LMSs reject.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

RUNTIME = (
    Path(__file__).resolve().parent.parent
    / "src/coursekit/packages/scorm/runtime/coursekit-scorm.js"
)

CASES = [  # milliseconds, 1.2, 2004
    (0, "00:00:00.00", "PT0H0M0.00S"),
    (4, "00:00:00.00", "PT0H0M0.00S"),
    (5, "00:00:00.01", "PT0H0M0.01S"),
    (59_994, "00:00:59.99", "PT0H0M59.99S"),
    (59_996, "00:01:00.00", "PT0H1M0.00S"),
    (60_000, "00:01:00.00", "PT0H1M0.00S"),
    (3_599_994, "00:59:59.99", "PT0H59M59.99S"),
    (3_599_999, "01:00:00.00", "PT1H0M0.00S"),
    (3_661_010, "01:01:01.01", "PT1H1M1.01S"),
    (86_399_996, "24:00:00.00", "PT24H0M0.00S"),
    (-5, "00:00:00.00", "PT0H0M0.00S"),  # a clock set back: never negative
    (10_000 * 3_600_000, "9999:59:59.99", "PT10000H0M0.00S"),  # 1.2's largest timespan
]


def _node() -> str:
    node = shutil.which("node")
    if node:
        return node
    message = "node is missing (apt-get install nodejs)"
    if os.environ.get("COURSEKIT_REQUIRE_BROWSER"):
        pytest.fail(message)
    pytest.skip(message)


def test_session_time_is_formatted_right_at_every_boundary() -> None:
    script = (
        "const f = require(process.argv[1]).formatDuration;"
        "const ms = JSON.parse(process.argv[2]);"
        "console.log(JSON.stringify(ms.map(m => [f(m, '1.2'), f(m, '2004')])));"
    )
    ms = [c[0] for c in CASES]
    out = subprocess.run(
        [_node(), "-e", script, str(RUNTIME), json.dumps(ms)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    got = json.loads(out.stdout)
    assert [(m, *g) for m, g in zip(ms, got, strict=True)] == CASES
