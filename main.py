#!/usr/bin/env python3
"""Nummerlapp — one command line for every role of the queue-ticket appliance.

    python main.py demo                 the whole appliance on this machine
    python main.py server               the site service (ledger, API, desk pages, mDNS)
    python main.py kiosk | display      the visitor kiosk / a waiting-room board
    python main.py feedback             the exit terminal's feedback questions
    python main.py token --role staff   make an access token
    python main.py device pending       devices asking to join; device approve CODE
    python main.py config check FILE    validate a site file
    python main.py printer test         print a test page
    python main.py stats                reports for managers

Run ``python main.py COMMAND --help`` for each command's options.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import sys
from collections.abc import Sequence

# Kivy logs through Python's logging (one format, one place) instead of adding its own handlers.
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")


def build_parser() -> argparse.ArgumentParser:
    # The command modules are imported here, not at the top: run as a script from a bare checkout,
    # this file binds the folder to the name ``nummerlapp`` first (_checkout_package, below). Each
    # exposes register(subparsers) and imports its heavy parts (Kivy, FastAPI, python-escpos) only
    # when its command runs, so ``main.py --help`` takes some 70 ms (python -X importtime).
    from nummerlapp.config import cli as config_cli  # noqa: PLC0415  # after _checkout_package
    from nummerlapp.display import cli as display_cli  # noqa: PLC0415  # (as above)
    from nummerlapp.feedback import cli as feedback_cli  # noqa: PLC0415  # (as above)
    from nummerlapp.kiosk import cli as kiosk_cli  # noqa: PLC0415  # (as above)
    from nummerlapp.printer import cli as printer_cli  # noqa: PLC0415  # (as above)
    from nummerlapp.server import appointments_cli, demo, device_cli  # noqa: PLC0415  # (as above)
    from nummerlapp.server import cli as server_cli  # noqa: PLC0415  # (as above)
    from nummerlapp.server.stats import cli as stats_cli  # noqa: PLC0415  # (as above)

    parser = argparse.ArgumentParser(
        prog="main.py",
        description="Nummerlapp: queue tickets for public service centres.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    server_cli.register(sub)
    # ``config check`` also runs the printer's check of its own options: config sits below the
    # printer and imports nothing above it, so the two are composed here, above both.
    config_cli.register(sub, site_checks=[printer_cli.check_site], more=[device_cli.register_config_reload])
    printer_cli.register(sub)
    kiosk_cli.register(sub)
    display_cli.register(sub)
    feedback_cli.register(sub)
    stats_cli.register(sub)
    appointments_cli.register(sub)
    device_cli.register(sub)  # issue 13: enrolment
    demo.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from nummerlapp.common.errors import ConfigError, NummerlappError  # noqa: PLC0415  # (as above)

    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Per-request chatter from the HTTP client libraries drowns what a technician needs to see.
    for noisy in ("httpx", "httpcore", "websockets", "hpack", "multipart"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    try:
        result = args.func(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except NummerlappError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return int(result or 0)


def _checkout_package() -> None:
    """``python main.py`` from a checkout: this folder is the ``nummerlapp`` package.

    Installed (``pip install .``, or the editable install ``./dev`` makes) the name resolves on its
    own; run from a bare checkout, the folder holding this file is bound to the name first, so
    both ways import the same modules under the same one name.
    """
    if "nummerlapp" in sys.modules:
        return
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location(
        "nummerlapp", os.path.join(here, "__init__.py"), submodule_search_locations=[here]
    )
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules["nummerlapp"] = package
    spec.loader.exec_module(package)


if __name__ == "__main__":
    _checkout_package()
    sys.exit(main())
