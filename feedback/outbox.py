"""Answers kept on disk until the service has them: the terminal works through a network outage.

One file per finished visit in a folder (``var/feedback-outbox`` by default): the visit's
``POST /feedback`` body and a random idempotency key made for it
(``{"idempotency_key": "…", "body": {…}}``), written to a temporary name, fsynced and renamed into
place, so a file that exists is whole. :class:`Sender` sends the files oldest first and deletes
each one only after the service answered 201; a file stays while the service cannot be reached
(or refuses the token), and is tried again every ``retry_s`` and at once when a new visit ends. A
file the service refuses as a shape (422: a question since removed from the site file) is moved to
``rejected/`` and logged, never retried forever nor silently dropped.

A POST whose 201 was lost on the way back (the service stored it, the terminal never heard) is
sent again, and every attempt carries the file's key as the ``Idempotency-Key`` header: the
service stores a key once per terminal and answers the repeat 201 as it did the first, so the
visit counts once (server/api/feedback.py; the body, PROTOCOL.md's, is unchanged). A file an
older version left in the outbox is the bare body: it has no key and is sent without the header,
so only such a file can still count twice.
Blocking file work runs in a thread (``asyncio.to_thread``), never on the window's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from nummerlapp.common import protocol as P
from nummerlapp.common.errors import Forbidden, LedgerError, ServiceUnavailable
from nummerlapp.feedback.flow import Visit

log = logging.getLogger(__name__)

RETRY_S = 30.0


class _Keyed(BaseModel):
    """An outbox file: the body and the key every attempt to send it carries."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    idempotency_key: str = Field(min_length=1, max_length=100)
    body: P.FeedbackBody


# A file is keyed, or the bare body an older version wrote (a body refuses unknown fields).
_FILE: TypeAdapter[_Keyed | P.FeedbackBody] = TypeAdapter(_Keyed | P.FeedbackBody)


class Stored(NamedTuple):
    """One stored visit: the body, and its key (None in a file from an older version)."""

    body: P.FeedbackBody
    key: str | None


class Outbox:
    """The folder of visits not yet acknowledged by the service."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._last_stamp = 0

    def stamp(self) -> int:
        """A file-name stamp later than every one given before (nanoseconds, never repeated)."""
        self._last_stamp = max(self._last_stamp + 1, time.time_ns())
        return self._last_stamp

    def put(self, visit: Visit, stamp: int | None = None) -> Path:
        """Store one visit durably, with a new random key (blocking: call it in a thread).

        ``stamp`` orders the files (oldest is sent first): :meth:`Sender.queue` takes it on the
        loop, in the order visits ended, because two writes in worker threads may run in any order."""
        body = P.FeedbackBody(answers=visit.answers, lang=visit.lang)
        keyed = _Keyed(idempotency_key=secrets.token_urlsafe(24), body=body)
        name = f"{stamp or self.stamp():020d}-{secrets.token_hex(4)}.json"
        tmp = self.folder / (name + ".tmp")
        with tmp.open("w", encoding="utf-8") as out:
            out.write(keyed.model_dump_json())
            out.flush()
            os.fsync(out.fileno())
        final = self.folder / name
        tmp.replace(final)
        self._sync_folder()
        return final

    def _sync_folder(self) -> None:
        with contextlib.suppress(OSError):  # not every file system lets a folder be fsynced
            fd = os.open(self.folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def pending(self) -> list[Path]:
        """Stored visits, oldest first."""
        return sorted(self.folder.glob("*.json"))

    def read(self, path: Path) -> Stored:
        """The visit in ``path``; ValueError for a file that is neither shape."""
        found = _FILE.validate_json(path.read_bytes())
        if isinstance(found, _Keyed):
            return Stored(found.body, found.idempotency_key)
        return Stored(found, None)

    def done(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        self._sync_folder()

    def reject(self, path: Path) -> None:
        rejected = self.folder / "rejected"
        rejected.mkdir(exist_ok=True)
        path.replace(rejected / path.name)


# ``post(body, idempotency_key)``: ApiClient.give_feedback (the key is None for an older file).
Post = Callable[[P.FeedbackBody, str | None], Awaitable[object]]


class Sender:
    """Sends the outbox to the service; :meth:`queue` is the flow's ``send`` port."""

    def __init__(self, outbox: Outbox, post: Post, *, retry_s: float = RETRY_S) -> None:
        self.outbox = outbox
        self.post = post
        self.retry_s = retry_s
        self._wake = asyncio.Event()
        self._writes: set[asyncio.Task[Path]] = set()
        self.sent = 0
        self.online: bool | None = None  # None until the first attempt
        self._complained = False

    def queue(self, visit: Visit) -> None:
        """Store the visit on disk (in a thread), then wake the sender."""
        stamp = self.outbox.stamp()  # here, in the order visits end; the writes run in threads
        task = asyncio.get_running_loop().create_task(asyncio.to_thread(self.outbox.put, visit, stamp))
        self._writes.add(task)
        task.add_done_callback(self._stored)

    def _stored(self, task: asyncio.Task[Path]) -> None:
        self._writes.discard(task)
        if task.cancelled() or task.exception() is not None:
            log.error(
                "feedback: could not store a visit's answers: %r",
                None if task.cancelled() else task.exception(),
            )
            return
        self._wake.set()

    async def drain(self) -> None:
        """Wait until every queued visit is on disk (tests; shutdown)."""
        while self._writes:
            await asyncio.gather(*list(self._writes), return_exceptions=True)

    async def flush(self) -> int:
        """Send what is stored, oldest first; stops at the first failure. Returns how many went."""
        await self.drain()
        sent = 0
        for path in await asyncio.to_thread(self.outbox.pending):
            try:
                stored = await asyncio.to_thread(self.outbox.read, path)
            except (OSError, ValueError) as exc:
                log.error("feedback: %s is unreadable (%s): set aside", path.name, exc)
                await asyncio.to_thread(self.outbox.reject, path)
                continue
            try:
                await self.post(stored.body, stored.key)  # the same key on every attempt
            except ServiceUnavailable as exc:
                self._offline(f"the service cannot be reached ({exc})")
                break
            except Forbidden as exc:  # 401/403: a revoked or wrong token; keep the answers
                self._offline(f"the service refused this terminal's token ({exc.code})")
                break
            except LedgerError as exc:  # 422 and the like: this body will never be taken
                log.error("feedback: the service refused %s (%s: %s): set aside", path.name, exc.code, exc)
                await asyncio.to_thread(self.outbox.reject, path)
                continue
            await asyncio.to_thread(self.outbox.done, path)
            sent += 1
            self.sent += 1
            if self.online is not True:
                log.info("feedback: the service takes answers again")
            self.online, self._complained = True, False
        return sent

    def _offline(self, why: str) -> None:
        self.online = False
        if not self._complained:  # once per outage, not every retry
            log.warning("feedback: %s; answers wait on disk in %s", why, self.outbox.folder)
            self._complained = True

    async def run(self) -> None:
        """Until cancelled: send at start, when a visit ends, and every ``retry_s``."""
        while True:
            try:
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("feedback: sending failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.retry_s)
            self._wake.clear()
