"""Write docs/img/kiosk-*.png: every screen once, and home per orientation and language.

    .venv/bin/python tests/kiosk/make_screenshots.py [OUT_DIR]

Same machinery as the rendered tests (real server process, real touches, printer on a pty), on
the embedded example site made open around the clock so the pictures do not depend on the hour
(the interpreting desk keeps its own hours, so it usually shows as closed with its reason).
"""

from __future__ import annotations

import re
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MORNING = "2026-11-30T10:24:00+01:00"  # a Monday at Servicetorget i Askim

from nummerlapp.tests.kiosk.test_render import run_script  # noqa: E402
from nummerlapp.tests.server.serverproc import ServerProcess  # noqa: E402


def around_the_clock(text: str) -> str:
    site, rest = text.split("[[departments]]", 1)
    site = re.sub(r"^(mon|tue|wed|thu|fri|sat|sun) = .*$", r'\1 = ["00:00-23:59"]', site, flags=re.M)
    site = site.replace("last_ticket_min = 10", "last_ticket_min = 0")
    site = re.sub(r"\[site\.hours\.exceptions\]\n(?:.+\n)*", "", site)
    rest = re.sub(r"^idle_timeout_s = \d+", "idle_timeout_s = 5", rest, flags=re.M)
    rest = re.sub(r"^ticket_screen_s = \d+", "ticket_screen_s = 2", rest, flags=re.M)
    return site + "[[departments]]" + rest


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "img"
    tmp = Path(tempfile.mkdtemp(prefix="kiosk-shots-"))
    example = (ROOT / "config" / "example_site.toml").read_text(encoding="utf-8")
    site = tmp / "site.toml"
    site.write_text(around_the_clock(example), encoding="utf-8")
    srv = ServerProcess(site, tmp / "ledger.db")
    srv.start()
    try:

        def job(**kw: object) -> dict[str, object]:
            base = {
                "server": srv.url.removesuffix("/api/v1"),
                "token": srv.token("kiosk", name="screenshots"),
                "admin": srv.token("admin"),
                "config": str(site),
                "lang2": "sv",
                "department": "nav",
                "shots": str(out),
                "printer_s": 600,
                "now": MORNING,  # the top bar's clock: a weekday morning, within opening hours
                "device": "kiosk-inngang",
                "device_name": "Inngangen",
                "version": version("nummerlapp"),
            }
            return {**base, **kw}

        for size, lang in (
            ((1080, 1920), "nb"),
            ((1080, 1920), "sv"),
            ((1080, 1920), "en"),
            ((1280, 800), "nb"),
            ((1280, 800), "sv"),
            ((1280, 800), "en"),
            ((1920, 1080), "nb"),
        ):
            orient = "portrait" if size[1] > size[0] else f"landscape-{size[0]}x{size[1]}"
            tag = f"-{orient}-{lang}"
            facts = run_script(job(scenario="visit", size=list(size), lang=lang, tag=tag), tmp)
            for shot in facts["shots"]:
                if "ticket" in shot and not (lang == "nb" and orient == "portrait"):
                    Path(shot).unlink()  # one number screen is enough
            print(facts)
        print(run_script(job(scenario="faults", size=[1080, 1920], lang="nb", tag=""), tmp, timeout=150))
        print(
            run_script(
                job(
                    scenario="unreachable",
                    size=[1280, 800],
                    lang="en",
                    tag="",
                    server="http://127.0.0.1:9",
                    grace=1.0,
                ),
                tmp,
            )
        )
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
