"""The ledger's operations for the floor: silent alarms, a manager's open/close of one
department, and the manager's live view of the day.

- Alarms are logged in their own table (counter and times, never a name). They are NOT events of
  the site-wide sequence: raising or clearing one appends nothing to ``events``, so no board,
  kiosk or public socket ever sees a ``seq`` gap because of it. The server sends them to staff
  sockets only (server/api/alarms.py).
- A department opened or closed by hand holds for the rest of the service day (site_state
  ``department_override``: ``{"day", "departments": {id: bool}}``), like the site's override.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

from nummerlapp.common import protocol as P
from nummerlapp.common.errors import NotFound
from nummerlapp.config.hours import day_start, service_day
from nummerlapp.config.model import Department
from nummerlapp.server.ledger.models import iso
from nummerlapp.server.ledger.reads import InvalidArgument, db_time
from nummerlapp.server.ledger.site import SiteOps


@dataclass(frozen=True)
class AtRisk:
    """A waiting ticket that has passed, or is expected to pass, the wait target."""

    number: str
    waiting_since: str  # when this wait began (issue, or the transfer that made it wait again)
    waited_s: int
    passes_at: str  # waiting_since + the target
    expected_call_at: str  # now + the estimate for its place in the line
    over: bool  # already past the target


@dataclass(frozen=True)
class LiveDepartment:
    id: str
    prefix: str
    name: dict[str, str]
    open: bool
    override: bool | None  # a manager's open/close for today, if any
    waiting: int
    parked: int
    longest_wait_s: int | None
    estimated_wait_s: int  # for someone taking a ticket now
    at_risk: list[AtRisk]


@dataclass(frozen=True)
class LiveCounter:
    id: str
    name: str
    departments: list[str]
    state: str  # open | paused
    ticket: dict[str, Any] | None  # number, status, department, lang, since
    idle_s: int | None  # seconds without a ticket (None while it has one, or unused today)


@dataclass(frozen=True)
class LiveView:
    at: str
    wait_target_min: int
    site: dict[str, Any]
    departments: list[LiveDepartment]
    counters: list[LiveCounter]
    alarms: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class FloorOps(SiteOps):
    """Alarms, department overrides, the live view (see module docstring)."""

    # ----------------------------------------------------------------- alarms

    def _alarm(self, row: tuple[Any, ...]) -> P.Alarm:
        at = iso(self._local(row[2]))
        assert at is not None
        return P.Alarm(id=row[0], counter=self._counter_ref(row[1]), at=at)

    def raise_alarm(self, counter_id: str) -> P.Alarm:
        """A desk's silent alarm: logged (counter, time). A counter's standing alarm is returned
        again rather than doubled. No event of the site-wide sequence."""
        if not isinstance(counter_id, str) or self.settings.counter(counter_id) is None:
            raise NotFound(f"unknown counter {counter_id!r}", code="unknown_counter")
        with self._tx() as tx:
            row = self._conn.execute(
                """SELECT id, counter, raised_at FROM alarms
                   WHERE counter = ? AND service_day = ? AND cleared_at IS NULL""",
                (counter_id, tx.day),
            ).fetchone()
            if row is None:
                row = ("al_" + secrets.token_urlsafe(12), counter_id, db_time(tx.now))
                self._conn.execute(
                    "INSERT INTO alarms (id, counter, service_day, raised_at) VALUES (?, ?, ?, ?)",
                    (row[0], row[1], tx.day, row[2]),
                )
        return self._alarm(row)

    def clear_alarm(self, alarm_id: str) -> P.Alarm:
        """A colleague cleared the alarm (clearing a cleared one changes nothing)."""
        if not isinstance(alarm_id, str) or not alarm_id.startswith("al_") or len(alarm_id) > 64:
            raise NotFound("no such alarm", code="unknown_alarm")
        with self._tx() as tx:
            row = self._conn.execute(
                "SELECT id, counter, raised_at FROM alarms WHERE id = ?", (alarm_id,)
            ).fetchone()
            if row is None:
                raise NotFound("no such alarm", code="unknown_alarm")
            self._conn.execute(
                "UPDATE alarms SET cleared_at = ? WHERE id = ? AND cleared_at IS NULL",
                (db_time(tx.now), alarm_id),
            )
        return self._alarm(row)

    def open_alarms(self) -> list[P.Alarm]:
        """Today's alarms nobody has cleared yet, oldest first."""
        day = service_day(self._now(), self.tz).isoformat()
        with self._read():
            rows = self._conn.execute(
                """SELECT id, counter, raised_at FROM alarms WHERE service_day = ? AND cleared_at IS NULL
                   ORDER BY raised_at""",
                (day,),
            ).fetchall()
        return [self._alarm(r) for r in rows]

    def alarm_log(self, day: dt.date | None = None) -> list[dict[str, Any]]:
        """A service day's alarms (today's by default): id, counter, raised and cleared times."""
        when = (day or service_day(self._now(), self.tz)).isoformat()
        with self._read():
            rows = self._conn.execute(
                "SELECT id, counter, raised_at, cleared_at FROM alarms WHERE service_day = ? ORDER BY raised_at",
                (when,),
            ).fetchall()
        return [
            {
                "id": r[0],
                "counter": self._counter_ref(r[1]).encode(),
                "at": iso(self._local(r[2])),
                "cleared_at": iso(self._local(r[3])),
            }
            for r in rows
        ]

    # ----------------------------------------------------------------- a department by hand

    def _dep(self, department_id: object) -> Department:
        dep = self.settings.department(department_id) if isinstance(department_id, str) else None
        if dep is None:
            raise NotFound(f"unknown department {department_id!r}", code="unknown_department")
        return dep

    def set_department_open(self, department_id: str, open: bool | None) -> P.Department:
        """Open (True) or close (False) one department for the rest of this service day; None:
        back to its hours. ``department.changed``. The site's own state still rules over it."""
        dep = self._dep(department_id)
        if open is not None and not isinstance(open, bool):
            raise InvalidArgument("open must be true, false or null")
        with self._tx() as tx:
            row = self._conn.execute(
                "SELECT value FROM site_state WHERE key = 'department_override'"
            ).fetchone()
            value = json.loads(row[0]) if row is not None else {}
            flags: dict[str, bool] = value.get("departments", {}) if value.get("day") == tx.day else {}
            if open is None:
                flags.pop(dep.id, None)
            else:
                flags[dep.id] = open
            self._conn.execute(
                "INSERT OR REPLACE INTO site_state (key, value) VALUES ('department_override', ?)",
                (json.dumps({"day": tx.day, "departments": flags}),),
            )
            self._cache.pop(("department_override", tx.day), None)
            changed = self._department_wire(dep, tx.now)
            self._emit(tx, partial(P.DepartmentChanged, department=changed))
            self._open_flags = self._current_open_flags(tx)
        return changed

    # ----------------------------------------------------------------- the live view

    def live_view(self) -> LiveView:
        """What a manager watches: queues, who will pass the wait target and when, counters."""
        self._ensure_day()
        now = self._now()
        day = service_day(now, self.tz).isoformat()
        target = dt.timedelta(minutes=self.settings.site.wait_target_min)
        local = self._local
        with self._read():
            departments = []
            for dep in self.settings.departments:
                state = self._department_state(dep.id, now)
                rows = self._conn.execute(
                    """SELECT number, COALESCE(rewait_from, issued_at) FROM tickets
                       WHERE department = ? AND status = 'waiting' ORDER BY order_at, order_seq""",
                    (dep.id,),
                ).fetchall()
                parked = self._conn.execute(
                    "SELECT COUNT(*) FROM tickets WHERE department = ? AND status = 'parked'", (dep.id,)
                ).fetchone()[0]
                risky: list[AtRisk] = []
                longest: int | None = None
                for ahead, (number, since_db) in enumerate(rows):
                    since = dt.datetime.fromisoformat(since_db)
                    waited = max(0, int((now - since).total_seconds()))
                    longest = waited if longest is None else max(longest, waited)
                    expected = now + dt.timedelta(seconds=self._estimate(dep.id, ahead, day))
                    passes = since + target
                    if expected > passes:
                        risky.append(
                            AtRisk(
                                number=number,
                                waiting_since=iso(local(since_db)) or "",
                                waited_s=waited,
                                passes_at=iso(passes.astimezone(self.tz)) or "",
                                expected_call_at=iso(expected.astimezone(self.tz)) or "",
                                over=now >= passes,
                            )
                        )
                departments.append(
                    LiveDepartment(
                        id=dep.id,
                        prefix=dep.prefix,
                        name=dict(dep.name),
                        open=state.open,
                        override=self._department_override(day, dep.id),
                        waiting=state.waiting,
                        parked=int(parked),
                        longest_wait_s=longest,
                        estimated_wait_s=state.estimated_wait_s,
                        at_risk=risky,
                    )
                )
            since_open = db_time(day_start(service_day(now, self.tz), self.tz))
            counters = []
            for counter in self.settings.counters:
                row = self._conn.execute(
                    "SELECT state, idle_since FROM counters WHERE id = ?", (counter.id,)
                ).fetchone()
                current = self._counter_state(counter.id)
                ticket = None
                idle: int | None = None
                if current is not None and current.ticket is not None:
                    t = current.ticket
                    ticket = {
                        "number": t.number,
                        "status": t.status,
                        "department": t.department,
                        "lang": t.lang,
                        "since": iso(t.serving_at or t.called_at),
                    }
                elif row is not None and row[1] is not None and row[1] >= since_open:
                    idle = max(0, int((now - dt.datetime.fromisoformat(row[1])).total_seconds()))
                counters.append(
                    LiveCounter(
                        id=counter.id,
                        name=counter.name,
                        departments=list(counter.departments),
                        state=row[0] if row is not None else "open",
                        ticket=ticket,
                        idle_s=idle,
                    )
                )
            site = self._site(now).encode()
        alarms = [a.encode() for a in self.open_alarms()]
        return LiveView(
            at=iso(now.astimezone(self.tz)) or "",
            wait_target_min=self.settings.site.wait_target_min,
            site=site,
            departments=departments,
            counters=counters,
            alarms=alarms,
        )
