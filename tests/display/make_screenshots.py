"""Write docs/img/board-*.png: the board in both orientations and languages, a new call, identify,
and reconnecting, from the fixture scenario (tests/display/board_scenario.py) at 10:24.

    .venv/bin/python tests/display/make_screenshots.py [OUT_DIR]

Look at every picture before committing it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = Path(__file__).with_name("board_scenario.py")
CLOCK = "10:24"  # a weekday morning, within the example site's opening hours

SHOTS = {
    "board-landscape-nb": ("--size", "1920x1080", "--lang", "nb"),
    "board-landscape-en": ("--size", "1920x1080", "--lang", "en"),
    "board-portrait-nb": ("--size", "1080x1920", "--lang", "nb"),
    "board-portrait-en": ("--size", "1080x1920", "--lang", "en"),
    "board-new-call-nb": ("--highlight", "--lang", "nb"),
    "board-identify-nb": ("--identify", "--lang", "nb"),
    "board-reconnecting-en": ("--down", "--lang", "en"),
}


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "img"
    for name, flags in SHOTS.items():
        target = out / f"{name}.png"
        done = subprocess.run(
            [sys.executable, str(SCENARIO), "fixture", *flags, "--clock", CLOCK, "--out", str(target)],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            print(done.stderr[-2000:], file=sys.stderr)
            return 1
        print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
