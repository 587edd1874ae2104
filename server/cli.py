"""``server``, ``token`` and ``user`` commands (PROTOCOL.md, "Command line").

    python main.py server [--config PATH] [--db PATH] [--host H] [--port N] [--no-mdns]
                          [--mdns-interface IP ...] [--client-queue N]
    python main.py token --role ROLE [--counter ID] [--name NAME]     prints the token only
    python main.py token list | token revoke ID
    python main.py user add NAME --role staff [--counter ID] [--password-stdin]
    python main.py user list | user disable NAME

Nothing heavy is imported at module level (main.py imports every command module). The site file
is loaded first in every command, so a bad configuration is main.py's one-line ``ConfigError``
(exit 2) before anything could turn it into a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import json
import socket
import sys
from pathlib import Path
from typing import Any

from nummerlapp.common.cli import DEFAULT_PORT, add_site_options, db_path_from_args
from nummerlapp.common.errors import ServiceUnavailable
from nummerlapp.config import settings_from_args
from nummerlapp.server.api import auth
from nummerlapp.server.api.auth import ROLES, USER_ROLES

TOKEN_ROLES = tuple(role.value for role in ROLES)  # the one list (server/api/auth.py)
USER_ROLE_NAMES = tuple(role.value for role in USER_ROLES)


def register(subparsers: Any) -> None:
    _register_server(subparsers)
    _register_token(subparsers)
    _register_user(subparsers)


# -- server ---------------------------------------------------------------------------------------


def _register_server(subparsers: Any) -> None:
    p = subparsers.add_parser("server", help="run the site service (ledger, API, desk pages, mDNS)")
    add_site_options(p)
    p.add_argument("--host", default="0.0.0.0", help="address to listen on (default: all, 0.0.0.0)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"TCP port (default {DEFAULT_PORT})")
    p.add_argument("--no-mdns", action="store_true", help="do not advertise or browse over mDNS")
    p.add_argument(
        "--mdns-interface",
        action="append",
        metavar="IP",
        help="advertise only on this interface address (repeatable; default: all interfaces)",
    )
    p.add_argument(
        "--client-queue",
        type=int,
        default=None,
        metavar="N",
        help="events buffered per WebSocket client before it is dropped (default 256)",
    )
    p.set_defaults(func=run_server)


def run_server(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)  # ConfigError -> one line, exit 2 (main.py)
    db_path = db_path_from_args(args)
    if not 0 < args.port < 65536:
        print(f"error: --port must be 1-65535, not {args.port}", file=sys.stderr)
        return 2
    # "start-up": FastAPI, uvicorn, SQLite and zeroconf load when a command runs, not with
    # every command's parser (main.py builds them all).
    import uvicorn  # noqa: PLC0415  # start-up

    from nummerlapp.server.api.app import create_app  # noqa: PLC0415  # start-up
    from nummerlapp.server.api.hub import DEFAULT_MAX_QUEUE  # noqa: PLC0415  # start-up

    mdns = None
    if not args.no_mdns:
        from nummerlapp.server.api.mdns import ServerMdns  # noqa: PLC0415  # start-up

        interfaces = args.mdns_interface
        addresses = None
        if interfaces is None and args.host not in ("0.0.0.0", "", "::"):
            interfaces = [args.host]  # listening on one address: advertise that one only
        if interfaces is not None:
            addresses = interfaces
        mdns = ServerMdns(settings.site.id, args.port, interfaces=interfaces, addresses=addresses)
    queue = args.client_queue if args.client_queue and args.client_queue > 0 else DEFAULT_MAX_QUEUE
    app = create_app(settings, db_path, client_queue=queue, mdns=mdns)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        lifespan="on",
        log_level="info" if not getattr(args, "verbose", False) else "debug",
        access_log=False,
        timeout_graceful_shutdown=10,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        # No permessage-deflate: compressing would be per client per event (the hub encodes each
        # event once for hundreds of boards); events are small and the LAN is not the bottleneck.
        ws_per_message_deflate=False,
    )
    server = uvicorn.Server(config)
    server.run(sockets=[_listen_socket(args.host, args.port)])
    return 0 if server.started else 1


SEND_BUFFER = 32 * 1024  # per connection; the kernel doubles it


def _listen_socket(host: str, port: int) -> Any:
    """The listening socket, with a small fixed send buffer that accepted connections inherit.

    Why: Linux otherwise grows each socket's send buffer up to megabytes, so a stuck board would
    park thousands of events in the kernel before the hub's per-client bound (256 events) ever
    saw it fall behind. With 64 KiB in the kernel, the hub notices within a few hundred events
    and drops the client (it reconnects to a fresh snapshot); snapshots and events still flow at
    full speed to clients that read.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServiceUnavailable(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


# -- token ---------------------------------------------------------------------------------------


def _child_site_options(p: argparse.ArgumentParser) -> None:
    """``--config``/``--db`` after the action too, without overriding values given before it."""
    p.add_argument("--config", type=Path, default=argparse.SUPPRESS, metavar="PATH", help="site file")
    p.add_argument("--db", type=Path, default=argparse.SUPPRESS, metavar="PATH", help="ticket ledger")


def _register_token(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "token",
        help="make, list or revoke access tokens",
        description="With --role: make a token and print it (only it). Or: token list | token revoke ID.",
    )
    add_site_options(p)
    p.add_argument("--role", choices=TOKEN_ROLES, help="the new token's role")
    p.add_argument("--counter", metavar="ID", help="bind a staff token to one counter")
    p.add_argument("--name", metavar="NAME", help="a label, e.g. 'kiosk-entrance' (never a person's name)")
    actions = p.add_subparsers(dest="token_action", metavar="ACTION")
    lst = actions.add_parser("list", help="list tokens (never their secrets)")
    lst.add_argument("--json", action="store_true", help="print JSON")
    _child_site_options(lst)
    rev = actions.add_parser("revoke", help="revoke a token by id")
    rev.add_argument("id", type=int)
    _child_site_options(rev)
    p.set_defaults(func=run_token, token_action=None)


def _open(args: argparse.Namespace) -> tuple[Any, Any]:
    settings = settings_from_args(args)
    from nummerlapp.server.ledger.schema import connect  # noqa: PLC0415  # start-up

    return settings, connect(db_path_from_args(args))


def run_token(args: argparse.Namespace) -> int:
    settings, conn = _open(args)
    try:
        if args.token_action == "list":
            tokens = auth.list_tokens(conn)
            if args.json:
                print(json.dumps([t.to_json() for t in tokens], indent=2))
            else:
                for t in tokens:
                    state = f"revoked {t.revoked_at}" if t.revoked_at else "active"
                    print(f"{t.id}\t{t.role}\t{t.counter or '-'}\t{t.name}\t{t.created_at}\t{state}")
            return 0
        if args.token_action == "revoke":
            info = auth.revoke_token(conn, args.id)
            print(f"revoked token {info.id} ({info.role}, {info.name})", file=sys.stderr)
            return 0
        if args.role is None:
            print("error: token needs --role ROLE (or the action list / revoke ID)", file=sys.stderr)
            return 2
        secret, _info = auth.create_token(conn, args.role, args.counter, args.name, settings)
        print(secret)
        return 0
    finally:
        conn.close()


# -- user --------------------------------------------------------------------------------------


def _register_user(subparsers: Any) -> None:
    p = subparsers.add_parser("user", help="staff users for the desk pages: add, list, disable")
    add_site_options(p)
    actions = p.add_subparsers(dest="user_action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a user (password asked, or read from stdin)")
    add.add_argument("username")
    add.add_argument("--role", choices=USER_ROLE_NAMES, default="staff")
    add.add_argument("--counter", metavar="ID", help="bind a staff user to one counter")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    _child_site_options(add)
    lst = actions.add_parser("list", help="list users (never their password hashes)")
    _child_site_options(lst)
    dis = actions.add_parser("disable", help="disable a user")
    dis.add_argument("username")
    _child_site_options(dis)
    p.set_defaults(func=run_user)


def run_user(args: argparse.Namespace) -> int:
    settings, conn = _open(args)
    try:
        if args.user_action == "list":
            for u in auth.list_users(conn):
                state = f"disabled {u.disabled_at}" if u.disabled_at else "active"
                print(f"{u.id}\t{u.username}\t{u.role}\t{u.counter or '-'}\t{state}")
            return 0
        if args.user_action == "disable":
            auth.disable_user(conn, args.username)
            print(f"disabled {args.username}", file=sys.stderr)
            return 0
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("password: ")
            if getpass.getpass("again: ") != password:
                print("error: the passwords differ", file=sys.stderr)
                return 2
        info = auth.create_user(conn, args.username, password, args.role, args.counter, settings)
        print(f"added user {info.id} {info.username} ({info.role})", file=sys.stderr)
        return 0
    finally:
        conn.close()
