"""A device joins the site by itself: enrolment, its token on disk, configuration from the service.

Shared by the kiosk, the board and the feedback terminal (no Kivy here; each skin draws
:class:`EnrolView` its own way). PROTOCOL.md v1.1, "Enrolling devices" and "Configuration comes
from the service"; docs/API.md "Enrolment".

- :class:`StateDir`: where a device keeps what enrolment gave it: ``token`` and, when the
  service serves TLS, ``tls_sha256`` (the certificate's fingerprint it pinned) and
  ``tls_cert.pem`` (that certificate, the only one it trusts after: client/tls.py), each written
  owner-only (0600) in a folder only the owner can enter (0700). The folder is ``--state-dir``,
  else ``$NUMMERLAPP_STATE_DIR``, else ``$XDG_STATE_HOME/nummerlapp/<role>`` (by default
  ``~/.local/state/nummerlapp/<role>``).
- :class:`Enroller`: finds the service (the caller's resolver: mDNS or ``--server``), asks to join
  (``POST /enrolments``), shows the code (``view``), polls ``GET /enrolments/{id}`` twice a second
  and, on approval, stores the token and returns it. Refused or expired: says so for a few
  seconds, then asks again. Too many waiting (429): waits and asks again.
- :class:`ServiceFinder`: the service's address: ``--server``, else the service heard over mDNS
  (any site: a device without a site file knows no site id).
- :class:`DeviceLink`: with a token: ``GET /config`` read with the same loader the server checked
  the file with (a device needs no site file); ``config.changed`` fetches it again and hands the
  new settings to the skin; ``device.identify`` for this device; ``appointment.slip`` for this
  device (a kiosk prints a booked visit's slip: ``on_slip``); a refused token (the event socket's
  upgrade answered 401/403, confirmed by ``GET /config`` answering 401) means revoked: the token
  file goes and the skin shows its enrolment screen again.
- :class:`Device`: one device's enrolment lives (:meth:`Device.session`: join, work until revoked,
  forget the token); :func:`run_device_window` runs a kiosk's or an exit terminal's window with
  them (:func:`keep_enrolled`, :func:`run_window`), the board its own way (display/device.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from zeroconf import IPVersion
from zeroconf.asyncio import AsyncZeroconf

from nummerlapp.client.api import ApiClient, RateLimited, Unauthorized
from nummerlapp.client.events import EventStream, Message, StreamDown
from nummerlapp.client.tls import (
    CertificateChanged,
    fetch_certificate,
    first_contact,
    is_https,
    pinned,
    sha256_of,
)
from nummerlapp.common import protocol as P
from nummerlapp.common.discovery import Browser, _zc_interfaces
from nummerlapp.common.errors import ConfigError, LedgerError, NotFound, ServiceUnavailable
from nummerlapp.config.loader import settings_from_data
from nummerlapp.config.model import Settings

log = logging.getLogger(__name__)

POLL_S = 0.5  # approval → at work within 2 s: one poll, one config fetch
SAY_SO_S = 6.0  # "refused" / "expired" stays this long before the device asks again
STATE_ENV = "NUMMERLAPP_STATE_DIR"

Resolver = Callable[[], Awaitable[str | None]]
EnrolRole = P.EnrolmentRequest.model_fields["role"].annotation


def default_state_dir(role: str) -> Path:
    """``$NUMMERLAPP_STATE_DIR``, else ``$XDG_STATE_HOME/nummerlapp/<role>`` (~/.local/state/…)."""
    if os.environ.get(STATE_ENV):
        return Path(os.environ[STATE_ENV])
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "nummerlapp" / role


class StateDir:
    """The device's own folder: its token and pinned certificate fingerprint, owner-only."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _read(self, name: str) -> str | None:
        try:
            return (self.path / name).read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigError(str(self.path / name), "", f"cannot read: {exc.strerror}") from None

    def _write(self, name: str, text: str) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path, 0o700)
        target, temp = self.path / name, self.path / f".{name}.new"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, target)

    @property
    def token(self) -> str | None:
        return self._read("token")

    @property
    def tls_sha256(self) -> str | None:
        return self._read("tls_sha256")

    @property
    def tls_cert(self) -> str | None:
        return self._read("tls_cert.pem")

    def keep(self, token: str, tls_sha256: str | None, tls_cert: str | None = None) -> None:
        if tls_sha256:
            self._write("tls_sha256", tls_sha256)
        if tls_cert:
            self._write("tls_cert.pem", tls_cert.strip())
        self._write("token", token)

    def tls(self) -> ssl.SSLContext | None:
        """The context that trusts only the pinned certificate (None: none pinned, plain HTTP)."""
        pem = self.tls_cert
        return None if pem is None else pinned(pem)

    def api(self, base: str, token: str) -> ApiClient:
        """A client for ``base`` with this device's token, trusting only its pinned certificate."""
        context = self.tls()
        if context is None:
            return ApiClient(base, token)
        return ApiClient(base, token, verify=context, pinned_sha256=self.tls_sha256)

    def forget(self) -> None:
        """Revoked: the token is worthless; the next start asks to join again."""
        for name in ("token", "tls_sha256", "tls_cert.pem"):
            with contextlib.suppress(FileNotFoundError):
                (self.path / name).unlink()


async def found(resolve: Resolver) -> str:
    """The service's address, asking ``resolve`` every second until it knows one."""
    while True:
        base = await resolve()
        if base is not None:
            return base
        await asyncio.sleep(1.0)


class ServiceFinder:
    """Where the service is: ``server`` if given, else the service heard over mDNS (or None yet).

    ``resolve`` is an :data:`Resolver` for :class:`Enroller` and the event stream."""

    def __init__(
        self, server: str | None, *, mdns: bool = True, interfaces: Sequence[str] | None = None
    ) -> None:
        self.server = server.rstrip("/").removesuffix(P.API_PREFIX) if server else None
        self.mdns = mdns and not server
        self.interfaces = list(interfaces) if interfaces else None
        self._aiozc: AsyncZeroconf | None = None
        self._browser: Browser | None = None

    async def start(self) -> None:
        if self.mdns and self._browser is None:
            self._aiozc = AsyncZeroconf(
                interfaces=_zc_interfaces(self.interfaces), ip_version=IPVersion.V4Only
            )
            self._browser = Browser(role="server", interfaces=self.interfaces, aiozc=self._aiozc)
            await self._browser.start()

    async def resolve(self) -> str | None:
        if self.server:
            return self.server
        if self._browser is None:
            return None
        found = await self._browser.wait_for(lambda _d: True, 2.0)
        return None if found is None else str(found.base_url).rstrip("/").removesuffix(P.API_PREFIX)

    async def found(self) -> str:
        """The address, waiting until there is one."""
        return await found(self.resolve)

    async def stop(self) -> None:
        if self._browser is not None:
            await self._browser.stop()
        if self._aiozc is not None:
            await self._aiozc.async_close()
        self._browser = self._aiozc = None


class Phase(StrEnum):
    FINDING = "finding"  # looking for the service
    WAITING = "waiting"  # showing the code, waiting for the technician
    REFUSED = "refused"  # the technician refused: asks again soon
    EXPIRED = "expired"  # nobody approved in 10 minutes: asks again soon
    APPROVED = "approved"  # token kept: going to work


@dataclass(frozen=True)
class EnrolView:
    """What an enrolment screen shows."""

    phase: Phase = Phase.FINDING
    code: str = ""
    site: str = ""
    device_name: str = ""
    server: str = ""
    tls_sha256: str = ""

    @property
    def code_text(self) -> str:
        """The code as shown: ``123 456`` (easier to read aloud)."""
        return f"{self.code[:3]} {self.code[3:]}" if len(self.code) == 6 else self.code

    @property
    def fingerprint_text(self) -> str:
        """The first 8 hex digits of the pinned certificate, in two groups (empty without TLS)."""
        fp = self.tls_sha256.replace(":", "").lower()
        return f"{fp[:4]} {fp[4:8]}" if fp else ""


@dataclass(frozen=True)
class Identity:
    device_id: str
    role: str  # kiosk | display | feedback
    name: str


class Enroller:
    """Asks to join until approved; ``view`` is what the screen shows (see the module docstring)."""

    def __init__(
        self,
        identity: Identity,
        state: StateDir,
        resolve: Resolver,
        *,
        poll_s: float = POLL_S,
        say_so_s: float = SAY_SO_S,
    ) -> None:
        self.identity = identity
        self.state = state
        self.resolve = resolve
        self.poll_s = poll_s
        self.say_so_s = say_so_s
        self.view = EnrolView(device_name=identity.name)
        self._listeners: list[Callable[[EnrolView], None]] = []

    def subscribe(self, fn: Callable[[EnrolView], None]) -> None:
        self._listeners.append(fn)

    def _show(self, **changes: Any) -> None:
        new = replace(self.view, **changes)
        if new != self.view:
            self.view = new
            log.info("enrolment: %s %s", new.phase, new.code)
            for fn in list(self._listeners):
                fn(new)

    async def run(self) -> tuple[str, str]:
        """Until approved: ``(service address, token)``; the token is kept in the state folder."""
        while True:
            base = await self.resolve()
            if base is None:
                self._show(phase=Phase.FINDING, code="")
                await asyncio.sleep(1.0)
                continue
            try:
                token = await self._once(base)
            except (ServiceUnavailable, LedgerError) as exc:
                log.warning("enrolment at %s: %s", base, exc)
                token = None
                await asyncio.sleep(self.say_so_s if isinstance(exc, RateLimited) else 1.0)
            if token is not None:
                return base, token

    async def _once(self, base: str) -> str | None:
        """One request: its code on screen until approved (the token), refused or expired (None)."""
        first = first_contact() if is_https(base) else True  # the certificate is pinned by its fingerprint
        async with ApiClient(base, verify=first) as api:
            body = P.EnrolmentRequest.model_validate(
                {
                    "device": self.identity.device_id,
                    "role": self.identity.role,
                    "name": self.identity.name[:100],
                }
            )
            asked = await api.ask_to_join(body)
            assert asked.id is not None
            self._show(
                phase=Phase.WAITING,
                code=asked.code or "",
                site=asked.site or "",
                server=base,
                tls_sha256=asked.tls_sha256 or "",
            )
            while True:
                await asyncio.sleep(self.poll_s)
                try:
                    now = await api.enrolment(asked.id)
                except NotFound:  # forgotten (the service's ledger was replaced): ask again
                    return None
                except ServiceUnavailable as exc:
                    log.info("enrolment: %s; still waiting", exc)
                    continue
                if now.status == "pending":
                    continue
                if now.status == "approved" and now.token:
                    self.state.keep(
                        now.token, asked.tls_sha256, await self._certificate(base, asked.tls_sha256)
                    )
                    self._show(phase=Phase.APPROVED)
                    return now.token
                self._show(phase=Phase.REFUSED if now.status == "refused" else Phase.EXPIRED)
                await asyncio.sleep(self.say_so_s)
                return None

    async def _certificate(self, base: str, announced: str | None) -> str | None:
        """Over HTTPS: the service's certificate, if its SHA-256 is the one the answer announced
        (and the screen showed); :class:`CertificateChanged` if not (the token is not kept)."""
        if not is_https(base):
            return None
        pem = await fetch_certificate(base)
        expected = (announced or "").replace(":", "").lower()
        if sha256_of(pem) != expected:
            raise CertificateChanged(base, expected or "-")
        return pem


@dataclass(frozen=True)
class DeviceConfig:
    """The service's configuration for this device: settings checked by the loader, its own part."""

    version: str
    settings: Settings
    device: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str | None:
        value = self.device.get("name")
        return value if isinstance(value, str) else None


def read_config(answer: P.ConfigAnswer, source: str) -> DeviceConfig:
    """``GET /config``'s answer as settings (the same checks as the server's; ConfigError if bad)."""
    site_file = answer.config.get("site_file")
    device = answer.config.get("device")
    if not isinstance(site_file, dict):
        raise P.ProtocolError("GET /config: no site_file table")
    settings = settings_from_data(site_file, source)
    return DeviceConfig(answer.version, settings, device if isinstance(device, dict) else {})


async def fetch_config(api: ApiClient, base: str) -> DeviceConfig:
    return read_config(await api.get_config(), f"<configuration from {base}>")


class Revoked(Exception):
    """The service no longer knows this device's token."""


class DeviceLink:
    """An enrolled device's link: its configuration, live changes, identify and revocation."""

    def __init__(
        self,
        api: ApiClient,
        base: str,
        device_id: str,
        *,
        on_config: Callable[[DeviceConfig], None],
        on_identify: Callable[[], None] = lambda: None,
        on_slip: Callable[[P.AppointmentSlip], None] = lambda _slip: None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.api = api
        self.base = base
        self.tls = tls  # the pinned certificate's context for the event socket (wss://)
        self.device_id = device_id
        self.on_config = on_config
        self.on_identify = on_identify
        self.on_slip = on_slip  # a kiosk prints it; a device without a printer ignores it
        self.config: DeviceConfig | None = None

    async def refresh(self) -> DeviceConfig:
        """Fetch the configuration; :class:`Revoked` when the token is refused."""
        try:
            config = await fetch_config(self.api, self.base)
        except Unauthorized as exc:
            raise Revoked(str(exc)) from None
        self.config = config
        return config

    async def handle(self, message: Message) -> None:
        """One message of the event stream; raises :class:`Revoked` when the token is refused."""
        if isinstance(message, P.ConfigChanged) or (
            isinstance(message, P.SnapshotMessage) and self.config is None
        ):
            try:
                config = await self.refresh()
            except (ServiceUnavailable, ConfigError, LedgerError) as exc:
                if isinstance(exc, Unauthorized):
                    raise
                log.warning("configuration not applied: %s", exc)
                return
            log.info("configuration %s applied", config.version)
            self.on_config(config)
        elif isinstance(message, P.DeviceIdentify) and message.device.id == self.device_id:
            self.on_identify()
        elif isinstance(message, P.AppointmentSlip) and message.device.id == self.device_id:
            self.on_slip(message)
        elif isinstance(message, StreamDown) and message.refused:
            try:
                await self.api.get_config()
            except Unauthorized as exc:
                raise Revoked(str(exc)) from None
            except (ServiceUnavailable, LedgerError):
                return

    async def follow(self, token: str, on_message: Callable[[Message], None] = lambda _m: None) -> None:
        """Run the event stream with this device's token until revoked (raises :class:`Revoked`)."""
        stream = EventStream(self.base, token=token, tls=self.tls)
        try:
            async for message in stream:
                on_message(message)
                await self.handle(message)
        finally:
            await stream.close()


# -- a device's window and its enrolment lives (kiosk, board, exit terminal) ------------------------


@dataclass(frozen=True)
class Device:
    """A device's standing with the service: its folder (token, pinned certificate), who it is,
    where the service is (``resolve``), and what the log calls it."""

    state: StateDir
    identity: Identity
    resolve: Resolver
    what: str  # "kiosk", "board", "feedback terminal"

    async def join(self, show: Callable[[EnrolView], None]) -> tuple[str, str]:
        """``(service address, token)``: the kept token, or, without one, ask to join until
        approved, every view of the enrolment screen handed to ``show``."""
        token = self.state.token
        if token is None:
            enroller = Enroller(self.identity, self.state, self.resolve)
            enroller.subscribe(show)
            show(enroller.view)
            return await enroller.run()
        return await found(self.resolve), token

    @contextlib.asynccontextmanager
    async def session(self, show: Callable[[EnrolView], None]) -> AsyncIterator[tuple[str, str, ApiClient]]:
        """One enrolment's life: :meth:`join`, then ``(service address, token, client)`` for the
        work, which lasts until the token is revoked (:class:`Revoked`, which ends here): the token
        file goes and ``show`` shows the enrolment screen again; the next life asks to join."""
        base, token = await self.join(show)
        async with self.state.api(base, token) as api:  # over HTTPS: only the pinned certificate
            try:
                yield base, token, api
            except Revoked as exc:
                log.warning(
                    "%s: the service no longer knows this device (%s): enrolling again", self.what, exc
                )
                self.state.forget()
                show(EnrolView(device_name=self.identity.name))


class DeviceOptions(Protocol):
    """What a device's command line says about finding the service and naming the device."""

    @property
    def server(self) -> str | None: ...
    @property
    def mdns(self) -> bool: ...
    @property
    def mdns_interfaces(self) -> Sequence[str] | None: ...
    @property
    def name(self) -> str: ...


Options = TypeVar("Options", bound=DeviceOptions)


@dataclass(frozen=True)
class DeviceStart(Generic[Options]):
    """How a device without a site file starts (kiosk, exit terminal): its command line's
    options, its folder, its id."""

    opts: Options
    state_dir: Path
    device_id: str

    @classmethod
    def of(cls, opts: Options, state_dir: Path, device_id: str, role: str) -> DeviceStart[Options]:
        """``device_id``, else ``<role>-<host name>``."""
        return cls(opts, state_dir, device_id or f"{role}-{socket.gethostname()}")


async def run_device_window(
    app: Any,
    start: DeviceStart[Options],
    role: str,
    what: str,
    life: Callable[[Device], Awaitable[None]],
    tasks: Sequence[Callable[[], Any]] = (),
) -> None:
    """Run a kiosk's or an exit terminal's window until it closes: the service is found by
    ``--server`` or mDNS, and once the window has drawn its first frame the device lives
    ``life`` (enrol if needed, work until revoked) again and again (:func:`keep_enrolled`)."""
    opts = start.opts
    finder = ServiceFinder(opts.server, mdns=opts.mdns, interfaces=opts.mdns_interfaces)
    await finder.start()
    identity = Identity(start.device_id, role, opts.name or start.device_id)
    device = Device(StateDir(start.state_dir), identity, finder.resolve, what)

    async def work() -> None:
        await app.first_frame.wait()
        await keep_enrolled(lambda: life(device), what)

    try:
        await run_window(app, work, tasks)
    finally:
        await finder.stop()


async def keep_enrolled(life: Callable[[], Awaitable[None]], what: str) -> None:
    """Live ``life`` (enrol if needed, work until revoked) again and again; a service that is
    gone or a configuration that does not load is logged and tried again a second later."""
    while True:
        try:
            await life()
        except (ServiceUnavailable, ConfigError, LedgerError) as exc:
            log.warning("%s: %s; trying again", what, exc)
            await asyncio.sleep(1.0)


async def run_window(
    app: Any, work: Callable[[], Coroutine[Any, Any, None]], tasks: Sequence[Callable[[], Any]] = ()
) -> None:
    """Run a device's Kivy window (``app.async_run``) with ``work`` beside it until the window
    closes. ``tasks`` (a test's observer) run beside it too; when they finish the window closes,
    and a failure of theirs is raised here. (``app`` is any Kivy App: no Kivy is imported here.)"""

    async def extra() -> None:
        try:
            await asyncio.gather(*(t() for t in tasks))
        finally:
            app.stop()

    worker = asyncio.create_task(work())
    driver = asyncio.create_task(extra()) if tasks else None
    try:
        await app.async_run(async_lib="asyncio")
    finally:
        for task in (worker, driver):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if driver is not None and driver.done() and not driver.cancelled():
            failed = driver.exception()
            if failed is not None:
                raise failed
