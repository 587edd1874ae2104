"""What every device (kiosk, board, exit terminal) uses to talk to the site service."""

import sys

# httpx imports its command-line client (click, rich, pygments: ≈ 6 MB resident) whenever those
# happen to be installed; a device never runs it. A None entry makes that optional import fail, as
# it does where they are not installed (httpx then defines a `main` that says so).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # None: "not importable"
