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
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

# Kivy logs through Python's logging (one format, one place) instead of adding its own handlers.
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    Subparsers = Any


# The command modules are imported inside these functions, not at the top: run as a script from a
# bare checkout, this file binds the folder to the name ``nummerlapp`` first (_checkout_package,
# below); and a device imports only its own command's module, so a kiosk or board process never
# loads the service's code (sqlite3, the auth store, the ledger CLI): less memory on a Pi, a faster
# cold start. Each module exposes register(subparsers) and imports its heavy parts (Kivy, FastAPI,
# python-escpos) only when its command runs.


def _server(sub: Subparsers) -> None:
    from nummerlapp.server import cli  # noqa: PLC0415  # only when asked for (see above)

    cli.register(sub)


def _config(sub: Subparsers) -> None:
    from nummerlapp.config import cli  # noqa: PLC0415  # (as above)
    from nummerlapp.printer.cli import check_site  # noqa: PLC0415  # (as above)
    from nummerlapp.server.device_cli import register_config_reload  # noqa: PLC0415  # (as above)

    # ``config check`` also runs the printer's check of its own options: config sits below the
    # printer and imports nothing above it, so the two are composed here, above both.
    cli.register(sub, site_checks=[check_site], more=[register_config_reload])


def _printer(sub: Subparsers) -> None:
    from nummerlapp.printer import cli  # noqa: PLC0415  # (as above)

    cli.register(sub)


def _kiosk(sub: Subparsers) -> None:
    from nummerlapp.kiosk import cli  # noqa: PLC0415  # (as above)

    cli.register(sub)


def _display(sub: Subparsers) -> None:
    from nummerlapp.display import cli  # noqa: PLC0415  # (as above)

    cli.register(sub)


def _feedback(sub: Subparsers) -> None:
    from nummerlapp.feedback import cli  # noqa: PLC0415  # (as above)

    cli.register(sub)


def _stats(sub: Subparsers) -> None:
    from nummerlapp.server.stats import cli  # noqa: PLC0415  # (as above)

    cli.register(sub)


def _appointments(sub: Subparsers) -> None:
    from nummerlapp.server import appointments_cli  # noqa: PLC0415  # (as above)

    appointments_cli.register(sub)


def _device(sub: Subparsers) -> None:
    from nummerlapp.server import device_cli  # noqa: PLC0415  # (as above)

    device_cli.register(sub)


def _demo(sub: Subparsers) -> None:
    from nummerlapp.server import demo  # noqa: PLC0415  # (as above)

    demo.register(sub)


# command word -> what registers it (one function may register several words)
COMMANDS: dict[str, Callable[[Subparsers], None]] = {
    "server": _server,
    "token": _server,
    "user": _server,
    "config": _config,
    "printer": _printer,
    "kiosk": _kiosk,
    "display": _display,
    "feedback": _feedback,
    "stats": _stats,
    "appointments": _appointments,
    "device": _device,
    "demo": _demo,
}


def _command_word(argv: Sequence[str]) -> str | None:
    """The command named on the line (the first word that is not an option), if it is one of ours."""
    word = next((a for a in argv if not a.startswith("-")), None)
    return word if word in COMMANDS else None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with ``argv`` naming a command, only that command's module is imported."""
    parser = argparse.ArgumentParser(
        prog="main.py",
        description="Nummerlapp: queue tickets for public service centres.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    word = _command_word(sys.argv[1:] if argv is None else argv)
    wanted = [COMMANDS[word]] if word else list(dict.fromkeys(COMMANDS.values()))
    for register in wanted:  # no command (or an unknown one): all of them, for help and the error
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from nummerlapp.common.errors import ConfigError, NummerlappError  # noqa: PLC0415  # (as above)

    parser = build_parser(argv)
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
