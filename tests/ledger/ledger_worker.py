"""A separate process that issues tickets on a ledger file (run by test_ledger_processes.py).

    python ledger_worker.py DB issue N DEP[,DEP...]   print "ready", wait for a line on stdin,
                                                      issue N tickets round-robin, print each id
    python ledger_worker.py DB churn                  issue forever (and call now and then),
                                                      printing each id after issue() returned

The clock is a Monday 10:00 in Oslo plus real elapsed time, so the example site is open.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]

from nummerlapp.config import load_settings  # noqa: E402
from nummerlapp.server.ledger import Ledger  # noqa: E402

BASE = dt.datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/Oslo"))
T0 = time.monotonic()


def clock() -> dt.datetime:
    return BASE + dt.timedelta(seconds=time.monotonic() - T0)


def main(argv: list[str]) -> int:
    db, mode = argv[0], argv[1]
    ledger = Ledger(db, load_settings(None), clock=clock)
    out = sys.stdout
    if mode == "issue":
        n, deps = int(argv[2]), argv[3].split(",")
        print("ready", flush=True)
        sys.stdin.readline()
        for i in range(n):
            t = ledger.issue(deps[i % len(deps)])
            out.write(f"{t.id} {t.number}\n")
        out.flush()
    elif mode == "churn":
        deps = ["nav", "byggesak", "bolig"]
        i = 0
        while True:
            t = ledger.issue(deps[i % 3])
            out.write(f"{t.id}\n")
            out.flush()
            if i % 3 == 2:
                ledger.next(str(i % 4 + 1))
            i += 1
    ledger.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
