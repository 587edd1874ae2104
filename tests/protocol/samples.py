"""Protocol messages for tests, built with the protocol module (never written out by hand).

The board's, the kiosk's and the client's tests feed these; the site is the example one
(departments nav, byggesak, bolig, tolk; counters 1-3).
"""

from __future__ import annotations

from nummerlapp.common import protocol as P

AT = "2026-11-23T09:20:00+01:00"
ISSUED = "2026-11-23T09:00:00+01:00"
PREFIX_DEPARTMENT = {"A": "nav", "B": "byggesak", "C": "bolig", "D": "tolk"}
COUNTER_NAMES = {"1": "Skranke 1", "2": "Skranke 2", "3": "Skranke 3", "4": "Skranke 4"}


def counter_ref(counter_id: str, name: str | None = None) -> P.CounterRef:
    return P.CounterRef(id=counter_id, name=name or COUNTER_NAMES.get(counter_id, counter_id))


def ticket(
    number: str,
    status: P.TicketStatus = "waiting",
    counter: str | None = None,
    department: str | None = None,
    *,
    ahead: int | None = 0,
    estimated_wait_s: int | None = 0,
    lang: str = "nb",
) -> P.Ticket:
    return P.Ticket(
        id=f"t_{number}",
        number=number,
        department=department or PREFIX_DEPARTMENT[number[0]],
        status=status,
        issued_at=ISSUED,
        counter=None if counter is None else counter_ref(counter),
        called_at=None if status == "waiting" else AT,
        lang=lang,
        ahead=ahead,
        estimated_wait_s=estimated_wait_s,
    )


def issued_ticket(number: str, ahead: int = 0, estimated_wait_s: int = 0, lang: str = "nb") -> P.IssuedTicket:
    made = ticket(number, ahead=ahead, estimated_wait_s=estimated_wait_s, lang=lang)
    return P.IssuedTicket(**{k: v for k, v in made if k in made.model_fields_set})


def department(
    dep_id: str, prefix: str, nb: str, en: str, waiting: int, wait_s: int, open: bool = True
) -> P.Department:
    return P.Department(
        id=dep_id,
        prefix=prefix,
        name={"nb": nb, "en": en},
        open=open,
        waiting=waiting,
        estimated_wait_s=wait_s,
        oldest_issued_at=ISSUED if waiting else None,
        oldest_waiting_at=ISSUED if waiting else None,
    )


def state(dep_id: str, waiting: int, wait_s: int = 0, open: bool = True) -> P.DepartmentState:
    """A department's changing figures, as events carry them."""
    oldest = ISSUED if waiting else None
    return P.DepartmentState(
        id=dep_id,
        open=open,
        waiting=waiting,
        estimated_wait_s=wait_s,
        oldest_issued_at=oldest,
        oldest_waiting_at=oldest,
    )


def call(number: str, counter: str, at: str = AT, recall: bool = False) -> P.Call:
    made = P.Call(number=number, department=PREFIX_DEPARTMENT[number[0]], counter=counter_ref(counter), at=at)
    return made.model_copy(update={"recall": True}) if recall else made


def counter(
    counter_id: str, departments: list[str], state: P.CounterStateWord = "open", number: str | None = None
) -> P.Counter:
    held = None if number is None else ticket(number, "called", counter_id)
    return P.Counter(
        id=counter_id,
        name=COUNTER_NAMES.get(counter_id, counter_id),
        departments=departments,
        state=state,
        ticket=None
        if held is None
        else P.TicketBase(**{k: v for k, v in held if k in P.TicketBase.model_fields}),
    )


def site(open: bool = True, messages: list[dict[str, str]] | None = None) -> P.Site:
    if messages is None:
        return P.Site(id="askim", name="Servicetorget i Askim", open=open, override=None)
    return P.Site(id="askim", name="Servicetorget i Askim", open=open, override=None, messages=messages)


def snapshot(seq: int = 10, calls: list[P.Call] | None = None) -> P.SnapshotMessage:
    return P.SnapshotMessage(
        seq=seq,
        state=P.Snapshot(
            seq=seq,
            site=site(),
            departments=[
                department("nav", "A", "NAV", "NAV – welfare", 5, 600),
                department("byggesak", "B", "Byggesak", "Building permits", 2, 300),
                department("bolig", "C", "Boligkontor", "Housing office", 0, 0),
                department("tolk", "D", "Tolketjeneste", "Interpreting", 0, 0, open=False),
            ],
            counters=[
                counter("1", ["nav"], number="A011"),
                counter("2", ["nav", "bolig"]),
                counter("3", ["byggesak"], "paused"),
            ],
            calls=calls
            if calls is not None
            else [
                call("A011", "1", "2026-11-23T09:14:03+01:00"),
                call("B004", "3", "2026-11-23T09:10:00+01:00"),
                call("A010", "2", "2026-11-23T09:05:00+01:00"),
            ],
        ),
    )


def called(
    seq: int,
    number: str,
    counter: str,
    name: str | None = None,
    recall: bool = False,
    departments: list[P.DepartmentState] | None = None,
) -> P.TicketCalled | P.TicketRecalled:
    held = ticket(number, "called", counter)
    ref = counter_ref(counter, name)
    if recall:
        return P.TicketRecalled(seq=seq, at=AT, ticket=held, counter=ref)
    deps = departments if departments is not None else [state(held.department, 0)]
    return P.TicketCalled(seq=seq, at=AT, ticket=held, counter=ref, departments=deps)
