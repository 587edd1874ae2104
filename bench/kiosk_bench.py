"""Kiosk figures: cold start to the first interactive frame, memory, touch to first printer byte.

    .venv/bin/python bench/kiosk_bench.py [RUNS]

Each run starts a fresh kiosk process (tests/kiosk/render_script.py, offscreen SDL, Mesa) against
one real site service on 127.0.0.1 and a printer on a real pty (socat), touches a department
with a real touch event, and reports:
- cold start: from spawning the process to the home screen drawn with its buttons (three frames
  after the screen is built; touches are taken from then on), wall clock;
- max RSS of the kiosk process;
- touch to first byte: from the touch-down to the first ticket byte read at the printer's end of
  the pty (status query of the printer, POST /tickets with its fsync, layout, serial write).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from nummerlapp.tests.kiosk.ptyprinter import PtyPair  # noqa: E402
from nummerlapp.tests.kiosk.test_render import SCRIPT, site_file  # noqa: E402
from nummerlapp.tests.server.serverproc import ServerProcess  # noqa: E402


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    tmp = Path(tempfile.mkdtemp(prefix="kiosk-bench-"))
    srv = ServerProcess(site_file(tmp / "site.toml"), tmp / "ledger.db")
    srv.start()
    starts, rss, t2b = [], [], []
    try:
        for i in range(runs):
            job = {
                "server": srv.url.removesuffix("/api/v1"),
                "token": srv.token("kiosk", name=f"bench {i}"),
                "admin": srv.token("admin"),
                "config": str(srv.config),
                "size": [1080, 1920],
                "lang": "nb",
                "department": "nav",
                "scenario": "visit",
            }
            with PtyPair(tmp) as pty:
                job |= {"pty_host": str(pty.host), "pty_device": str(pty.device)}
                spawned = time.time()
                done = subprocess.run(
                    [sys.executable, str(SCRIPT), json.dumps(job)],
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
            if done.returncode != 0:
                raise SystemExit(done.stderr[-3000:])
            facts = json.loads(done.stdout.strip().splitlines()[-1])
            starts.append(facts["first_frame_wall"] - spawned)
            rss.append(facts["rss_mb"])
            t2b.append(facts["touch_to_first_byte_ms"])
            print(
                f"run {i + 1}: cold start {starts[-1]:.2f} s, RSS {rss[-1]:.0f} MB, touch→first byte {t2b[-1]:.1f} ms"
            )
    finally:
        srv.stop()
    print(
        f"cold start to interactive: median {statistics.median(starts):.2f} s, max {max(starts):.2f} s (goal < 2 s)"
    )
    print(f"max RSS: median {statistics.median(rss):.0f} MB")
    print(
        f"touch to first byte at the printer: median {statistics.median(t2b):.1f} ms, max {max(t2b):.1f} ms (goal < 100 ms)"
    )


if __name__ == "__main__":
    main()
