"""``server``, ``token`` and ``user`` commands (PROTOCOL.md, "Command line").

    python main.py server [--config PATH] [--db PATH] [--host H] [--port N] [--no-mdns]
                          [--mdns-interface IP ...] [--client-queue N]
                          [--public-port N] [--public-host H] [--public-proxy IP ...]
                          [--tls-cert PEM --tls-key PEM | --tls-self-signed]
    python main.py token --role ROLE [--counter ID] [--name NAME]     prints the token only
    python main.py token list | token revoke ID
    python main.py user add NAME --role staff [--counter ID] [--password-stdin]
    python main.py user list | user disable NAME | user passwd NAME [--password-stdin]

Nothing heavy is imported at module level (main.py imports every command module). The site file
is loaded first in every command, so a bad configuration is main.py's one-line ``ConfigError``
(exit 2) before anything could turn it into a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import logging
import os
import socket
import sys
from pathlib import Path
from typing import Any

from nummerlapp.common.cli import DEFAULT_PORT, add_site_options, db_path_from_args
from nummerlapp.common.errors import ConfigError, ServiceUnavailable
from nummerlapp.config import settings_from_args
from nummerlapp.server.api import auth
from nummerlapp.server.api.auth import ROLES, USER_ROLES

log = logging.getLogger(__name__)
TOKEN_ROLES = tuple(role.value for role in ROLES)  # the one list (server/api/auth.py)
USER_ROLE_NAMES = tuple(role.value for role in USER_ROLES)


def register(subparsers: Any) -> None:
    _register_server(subparsers)
    _register_token(subparsers)
    _register_user(subparsers)


# -- server ---------------------------------------------------------------------------------------


PUBLIC_PORT_ENV = "NUMMERLAPP_PUBLIC_PORT"  # the default of --public-port (tests set 0: off)
DEFAULT_PUBLIC_PORT = DEFAULT_PORT + 1


def _default_public_port() -> int:
    try:
        return int(os.environ.get(PUBLIC_PORT_ENV, "") or DEFAULT_PUBLIC_PORT)
    except ValueError:
        return DEFAULT_PUBLIC_PORT


def _register_server(subparsers: Any) -> None:
    p = subparsers.add_parser("server", help="run the site service (ledger, API, desk pages, mDNS)")
    add_site_options(p)
    p.add_argument("--host", default="0.0.0.0", help="address to listen on (default: all, 0.0.0.0)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"TCP port (default {DEFAULT_PORT})")
    p.add_argument(
        "--public-port",
        type=int,
        default=_default_public_port(),
        metavar="N",
        help=f"the visitors' port: ticket page and follow stream only (default {DEFAULT_PUBLIC_PORT}, "
        f"or ${PUBLIC_PORT_ENV}; 0: off)",
    )
    p.add_argument(
        "--public-host", default=None, metavar="H", help="address of the visitors' port (default: --host)"
    )
    p.add_argument(
        "--public-proxy",
        action="append",
        metavar="IP",
        help="a reverse proxy in front of the visitors' port whose X-Forwarded-For is believed "
        "(repeatable; default 127.0.0.1)",
    )
    p.add_argument(
        "--tls-cert", type=Path, metavar="PEM", help="serve the LAN port over HTTPS with this certificate"
    )
    p.add_argument("--tls-key", type=Path, metavar="PEM", help="the certificate's private key")
    p.add_argument(
        "--tls-self-signed",
        action="store_true",
        help="serve HTTPS with a self-signed certificate made on first start beside the ledger",
    )
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


def _tls(args: argparse.Namespace, db_path: Path) -> tuple[Path, Path, str] | None:
    """The certificate, key and fingerprint to serve, or None for plain HTTP."""
    from nummerlapp.server.api import tls  # noqa: PLC0415  # start-up

    if args.tls_self_signed and (args.tls_cert or args.tls_key):
        raise ConfigError("server", "--tls-self-signed", "give either it or --tls-cert/--tls-key, not both")
    if bool(args.tls_cert) != bool(args.tls_key):
        raise ConfigError("server", "--tls-cert/--tls-key", "give both, or neither")
    if args.tls_self_signed:
        cert, key = tls.self_signed(db_path.with_name(db_path.name + ".tls"), tls.default_hosts(args.host))
    elif args.tls_cert:
        cert, key = args.tls_cert, args.tls_key
    else:
        return None
    tls.check_pair(cert, key)
    return cert, key, tls.fingerprint(cert)


def run_server(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)  # ConfigError -> one line, exit 2 (main.py)
    db_path = db_path_from_args(args)
    for name, value in (("--port", args.port), ("--public-port", args.public_port)):
        if not (0 < value < 65536 or (name == "--public-port" and value == 0)):
            print(
                f"error: {name} must be 1-65535{' or 0' if name == '--public-port' else ''}, not {value}",
                file=sys.stderr,
            )
            return 2
    if args.public_port == args.port:
        print("error: --public-port must differ from --port", file=sys.stderr)
        return 2
    tls_pair = _tls(args, db_path)
    # "start-up": FastAPI, uvicorn, SQLite and zeroconf load when a command runs, not with
    # every command's parser (main.py builds them all).
    import uvicorn  # noqa: PLC0415  # start-up

    from nummerlapp.server.api.app import create_app  # noqa: PLC0415  # start-up
    from nummerlapp.server.api.hub import DEFAULT_MAX_QUEUE  # noqa: PLC0415  # start-up
    from nummerlapp.server.api.limits import budget, raise_file_limit  # noqa: PLC0415  # start-up
    from nummerlapp.server.api.public import create_public_app  # noqa: PLC0415  # start-up

    mdns = None
    if not args.no_mdns:
        from nummerlapp.server.api.mdns import ServerMdns  # noqa: PLC0415  # start-up

        interfaces = args.mdns_interface
        addresses = None
        if interfaces is None and args.host not in ("0.0.0.0", "", "::"):
            interfaces = [args.host]  # listening on one address: advertise that one only
        if interfaces is not None:
            addresses = interfaces
        mdns = ServerMdns(
            settings.site.id, args.port, interfaces=interfaces, addresses=addresses, tls=tls_pair is not None
        )
    queue = args.client_queue if args.client_queue and args.client_queue > 0 else DEFAULT_MAX_QUEUE
    shares = budget(raise_file_limit(), public=args.public_port != 0)
    app = create_app(
        settings,
        db_path,
        client_queue=queue,
        mdns=mdns,
        limits=shares.lan,
        tls_sha256=tls_pair[2] if tls_pair else None,
    )
    lan = _config(
        uvicorn, app, args.host, args.port, shares.lan, tls_pair, lifespan="on", ws_max_size=1 << 20
    )
    listeners = [(uvicorn.Server(lan), [_listen_socket(args.host, args.port)])]
    public_host = args.public_host or args.host
    if args.public_port:
        public = create_public_app(app, shares.public)
        proxies = ",".join(args.public_proxy) if args.public_proxy else "127.0.0.1"
        # phones send nothing on their socket: a small frame limit
        config = _config(uvicorn, public, public_host, args.public_port, shares.public, None, "off", 4096)
        config.forwarded_allow_ips = proxies
        listeners.append((uvicorn.Server(config), [_listen_socket(public_host, args.public_port)]))
    log.info(
        "file limit %d: LAN port %d (%s, %d connections, %d sockets), visitors' port %s",
        shares.nofile,
        args.port,
        "https" if tls_pair else "http",
        shares.lan.max_connections,
        shares.lan.max_sockets,
        f"{args.public_port} ({shares.public.max_connections} connections, {shares.public.max_sockets} sockets)"
        if args.public_port
        else "off",
    )
    if tls_pair:
        log.info("TLS certificate %s, SHA-256 %s", tls_pair[0], _spaced(tls_pair[2]))
    with asyncio.Runner(loop_factory=lan.get_loop_factory()) as runner:
        started = runner.run(_serve_all(listeners))
    return 0 if started else 1


def _spaced(hex_digest: str) -> str:
    """A fingerprint as certificate viewers show it: ``AB:CD:…``."""
    return ":".join(hex_digest[i : i + 2] for i in range(0, len(hex_digest), 2)).upper()


def _config(
    uvicorn: Any,
    app: Any,
    host: str,
    port: int,
    limits: Any,
    tls_pair: tuple[Path, Path, str] | None,
    lifespan: str,
    ws_max_size: int,
) -> Any:
    """One listener's uvicorn settings: its caps and header deadline (server/api/limits.py)."""
    from nummerlapp.server.api.limits import ConnectionGuard, http_protocol  # noqa: PLC0415  # start-up

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan=lifespan,
        http=http_protocol(ConnectionGuard(limits)),
        log_level="info",
        access_log=False,
        timeout_graceful_shutdown=10,
        timeout_keep_alive=int(limits.keep_alive_s),
        # A backstop only: the guard caps HTTP connections (evicting idle ones first) and
        # SocketLimit the sockets, each from its own share of the file limit.
        limit_concurrency=limits.max_connections + limits.max_sockets + 16,
        h11_max_incomplete_event_size=16 * 1024,
        ws_max_size=ws_max_size,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        # No permessage-deflate: compressing would be per client per event (the hub encodes each
        # event once for hundreds of boards); events are small and the LAN is not the bottleneck.
        ws_per_message_deflate=False,
        ssl_certfile=str(tls_pair[0]) if tls_pair else None,
        ssl_keyfile=str(tls_pair[1]) if tls_pair else None,
    )


async def _serve_all(listeners: list[tuple[Any, list[Any]]]) -> bool:
    """Run the LAN listener (it owns the lifespan: ledger, follow fan-out, mDNS) and, once it
    is up, the visitors' one; a signal stops the visitors' port first, then the LAN port.

    Each ``uvicorn.Server.serve`` takes over SIGINT/SIGTERM while it runs and, when it stops,
    restores the handler it found and raises the signal again: the visitors' server (started
    last) gets the signal, stops, and hands it on to the LAN server, which stops in turn.
    """
    (lan, lan_socks), *rest = listeners
    first = asyncio.create_task(lan.serve(sockets=lan_socks))
    while not lan.started and not first.done():
        await asyncio.sleep(0.02)
    others = (
        [asyncio.create_task(server.serve(sockets=socks)) for server, socks in rest] if lan.started else []
    )
    await asyncio.wait({first, *others}, return_when=asyncio.FIRST_COMPLETED)
    for server, _socks in listeners:
        server.should_exit = True
    for task in (*others, first):  # the visitors' ports first: the LAN app closes the ledger
        with contextlib.suppress(BaseException):
            await task
    return bool(lan.started)


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
    dis = actions.add_parser("disable", help="disable a user (and end their sessions)")
    dis.add_argument("username")
    _child_site_options(dis)
    pwd = actions.add_parser("passwd", help="set a user's password (and end their sessions)")
    pwd.add_argument("username")
    pwd.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    _child_site_options(pwd)
    p.set_defaults(func=run_user)


def _read_password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass("password: ")
    if getpass.getpass("again: ") != password:
        print("error: the passwords differ", file=sys.stderr)
        return None
    return password


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
        password = _read_password(args)
        if password is None:
            return 2
        if args.user_action == "passwd":
            auth.set_password(conn, args.username, password)
            print(f"new password for {args.username}; their sessions are ended", file=sys.stderr)
            return 0
        info = auth.create_user(conn, args.username, password, args.role, args.counter, settings)
        print(f"added user {info.id} {info.username} ({info.role})", file=sys.stderr)
        return 0
    finally:
        conn.close()
