"""``main.py device …`` and ``main.py config reload`` (PROTOCOL.md v1.1, "Enrolling devices").

    python main.py device pending                     codes waiting for approval
    python main.py device approve CODE [--name NAME] [--zone ZONE] [--printer ID]
    python main.py device refuse CODE
    python main.py device list                        enrolled devices
    python main.py device revoke ID                   forget a device, revoke its token
    python main.py config reload                      the running service applies its site file again

Run on the server host, with the same ``--config``/``--db`` options as ``server``. The device
commands write the ledger file directly (the server sees them at the device's next request; a
revoked device's event socket is closed within a second). ``config reload`` checks the file
first, then asks the running service (SIGHUP to the process id it noted in the ledger) and prints
what the service made of it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from nummerlapp.common.cli import add_site_options, db_path_from_args
from nummerlapp.common.errors import ConfigError, ServiceUnavailable
from nummerlapp.config import load_settings, settings_from_args


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("device", help="enrol devices: pending codes, approve, refuse, list, revoke")
    sub = p.add_subparsers(dest="device_command", metavar="SUBCOMMAND", required=True)
    pend = sub.add_parser("pending", help="codes of devices asking to join")
    app = sub.add_parser("approve", help="approve the code a device shows")
    app.add_argument("code", metavar="CODE")
    app.add_argument("--name", default=None, help="a name staff recognise, e.g. 'Tavle ved heisen'")
    app.add_argument("--zone", default=None, help="a board's zone (site file id)")
    app.add_argument("--printer", default=None, help="a kiosk's printer (site file id)")
    ref = sub.add_parser("refuse", help="refuse the code a device shows")
    ref.add_argument("code", metavar="CODE")
    lst = sub.add_parser("list", help="enrolled devices")
    rev = sub.add_parser("revoke", help="forget a device and revoke its token")
    rev.add_argument("device", metavar="ID")
    for each in (pend, app, ref, lst, rev):
        add_site_options(each)
        each.add_argument("--json", action="store_true", help="print JSON")
        each.set_defaults(func=run_device)


def register_config_reload(config_sub: Any) -> None:
    """``config reload``: added to config's subcommands by main.py (config imports nothing above it)."""
    p = config_sub.add_parser(
        "reload",
        help="apply the changed site file in the running service now",
        description="Check the site file, then have the running service apply it (no restart).",
    )
    add_site_options(p)
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the service")
    p.set_defaults(func=run_config_reload)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def run_device(args: argparse.Namespace) -> int:  # one branch per subcommand
    from nummerlapp.common import protocol as P  # noqa: PLC0415  # start-up
    from nummerlapp.server.api import enrolment  # noqa: PLC0415  # start-up
    from nummerlapp.server.ledger import schema  # noqa: PLC0415  # start-up

    try:
        settings = settings_from_args(args)
    except ConfigError:
        if args.device_command == "approve":
            raise  # a zone or a printer is checked against the site file
        settings = None  # a broken site file must not stop a revoke
    tz = settings.site.tz if settings is not None else dt.UTC
    conn = schema.connect(db_path_from_args(args))
    try:
        command = args.device_command
        if command == "pending":
            rows = enrolment.pending(conn, _now(), tz)
            _print(
                args,
                [r.encode() for r in rows],
                "{code}  {role:<8} {name}  ({device}, {address}, until {expires_at})",
            )
        elif command == "approve":
            approval = P.EnrolmentApproval.model_validate(
                {k: v for k, v in (("name", args.name), ("zone", args.zone), ("printer", args.printer)) if v}
            )
            device = enrolment.approve(conn, args.code, approval, _now(), settings)
            print(f"approved: {device} (it starts work within two seconds)")
        elif command == "refuse":
            enrolment.refuse(conn, args.code, _now())
            print(f"refused: {args.code}")
        elif command == "list":
            rows2 = [r.__dict__ for r in enrolment.enrolled(conn)]
            _print(args, rows2, "{id:<24} {role:<8} {name}  zone={zone} printer={printer} address={address}")
        else:
            enrolment.revoke(conn, args.device, _now())
            print(f"revoked: {args.device} (it shows its enrolment screen again)")
    finally:
        conn.close()
    return 0


def _print(args: argparse.Namespace, rows: list[dict[str, Any]], line: str) -> None:
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        print("(none)")
    for row in rows:
        print(line.format(**row))


def run_config_reload(args: argparse.Namespace) -> int:
    from nummerlapp.server.api.config_api import get_state  # noqa: PLC0415  # start-up
    from nummerlapp.server.ledger import schema  # noqa: PLC0415  # start-up

    conn = schema.connect_reader(db_path_from_args(args))
    try:
        server = get_state(conn, "server")
        if server is None:
            raise ServiceUnavailable("no service has run on this ledger (start `main.py server` first)")
        path = server.get("config")
        load_settings(None if path is None else Path(path))  # the full check first: a bad file stops here
        before = (get_state(conn, "config") or {}).get("at", "")
        try:
            os.kill(int(server["pid"]), signal.SIGHUP)
        except ProcessLookupError:
            raise ServiceUnavailable(f"the service (process {server['pid']}) is not running") from None
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            outcome = get_state(conn, "config") or {}
            if outcome.get("at", "") > before:
                break
            time.sleep(0.05)
        else:
            raise ServiceUnavailable(f"the service did not answer within {args.timeout:g} s")
    finally:
        conn.close()
    if not outcome.get("ok"):
        file, _, rest = str(outcome.get("problem", "")).partition(": ")
        raise ConfigError(file, "", rest)
    restart = outcome.get("restart") or []
    state = "applied" if outcome.get("changed") else "unchanged"
    print(f"{path or 'the embedded example site'}: {state}, version {outcome.get('version')}")
    if restart:
        print(f"takes effect after a restart of the service: {', '.join(restart)}")
    return 0
