"""A device's client does not load httpx's command-line client (client/__init__.py): click, rich and
pygments are installed beside the service and the tests, and would cost every kiosk and board ~6 MB."""

from __future__ import annotations

import json
import subprocess
import sys


def test_the_client_leaves_httpx_command_line_out() -> None:
    probe = (
        "import json, sys, importlib.util, nummerlapp.client.api, httpx; "
        "print(json.dumps({'loaded': sorted(m for m in ('click', 'rich', 'pygments') if m in sys.modules), "
        "'installed': [m for m in ('click', 'rich') if importlib.util.find_spec(m)], "
        "'client': httpx.AsyncClient.__name__}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    found = json.loads(out.stdout)
    assert found["installed"] == ["click", "rich"]  # they are there to be loaded (the test can fail)
    assert found["loaded"] == [] and found["client"] == "AsyncClient"
