"""Write docs/img/feedback-*.png: the exit terminal with the embedded example site, real touches.

    .venv/bin/python tests/feedback/make_screenshots.py [OUT_DIR]

Runs a real server on the example site and render_script.py's ``shots`` scenario in portrait and
landscape (and the phone page's screenshots come from test_phone_feedback.py). Not a test.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from nummerlapp.tests.server.serverproc import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("render_script.py")


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "img"
    tmp = Path(tempfile.mkdtemp(prefix="feedback-shots-"))
    site = tmp / "site.toml"
    site.write_text((ROOT / "config" / "example_site.toml").read_text(encoding="utf-8"), encoding="utf-8")
    proc = ServerProcess(site, tmp / "ledger.db")
    proc.start()
    try:
        for size, tag, lang in (
            ((1280, 800), "landscape", "nb"),
            ((800, 1280), "portrait", "nb"),
            ((800, 1280), "portrait-en", "en"),
        ):
            job = {
                "server": proc.url.removesuffix("/api/v1"), "token": proc.token("feedback"), "site": str(site),
                "outbox": str(tmp / f"outbox-{tag}"), "size": list(size), "scenario": "shots", "shots": str(out),
                "tag": tag, "lang": lang,
            }  # fmt: skip
            done = subprocess.run(
                [sys.executable, str(SCRIPT), json.dumps(job)], capture_output=True, text=True, timeout=120
            )
            if done.returncode != 0:
                raise SystemExit(done.stderr[-3000:])
            print("\n".join(json.loads(done.stdout.strip().splitlines()[-1])["shots"]))
    finally:
        proc.stop()


if __name__ == "__main__":
    main()
