"""What the board's labels say, as plain strings: BoardState + language → BoardText.

Kept apart from the Kivy widgets so the words (translations, wait rounding, what a closed
department or a lost connection reads as) are tested without a window, and so the widgets do
nothing but copy strings into labels. Kivy properties ignore an assignment of an equal value,
so copying the same text again does not redraw anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from nummerlapp.common.i18n import is_rtl, translator
from nummerlapp.common.protocol import label
from nummerlapp.display.state import BoardState, Call, shown_message

CounterNames = Mapping[str, Mapping[str, str]]  # counter id -> {lang: name} (the site file's tables)

PREVIOUS_SHOWN = 5


@dataclass(frozen=True)
class DepartmentText:
    name: str
    waiting: str  # the count alone, large
    waiting_label: str  # "waiting", beside the count
    wait: str  # "about 10 min", "under 1 min", "Closed"
    open: bool


@dataclass(frozen=True)
class BoardText:
    site_name: str
    status: str  # "" when live; else "Reconnecting…" / "Connecting…"
    latest_number: str
    latest_counter: str
    latest_note: str  # "Called again" for a recall
    previous: tuple[tuple[str, str], ...]  # (number, counter name), newest first
    departments: tuple[DepartmentText, ...]
    message: str
    heading_number: str
    heading_counter: str
    heading_previous: str
    heading_waiting: str
    heading_wait: str
    go_to: str
    lang: str = "en"
    rtl: bool = False  # written right to left: the skin shapes, reorders and mirrors


def wait_text(seconds: int | None, lang: str) -> str:
    """An estimate people can hold the board to: whole minutes, rounded up; "" when unknown."""
    _ = translator("display", lang)
    if seconds is None:
        return ""
    if seconds < 60:
        return _("under 1 min")
    minutes = -(-seconds // 60)
    if minutes > 15:
        minutes = -(-minutes // 5) * 5  # 17 → 20: a long estimate is not precise to the minute
    return _("about {minutes} min").format(minutes=minutes)


def counter_label(
    call: Call, lang: str, names: CounterNames | None = None, site_language: str | None = None
) -> str:
    """The counter of ``call`` named in ``lang``: the site file's name in that language; else,
    on a board in another language than the site's, a numeric id in the catalogue's words
    ("Counter 2" rather than "Skranke 2"); else the name the service sent."""
    own = (names or {}).get(call.counter_id, {})
    if own.get(lang):
        return own[lang]
    if site_language is not None and lang != site_language and call.counter_id.isdigit():
        return translator("display", lang)("Counter {id}").format(id=call.counter_id)
    return call.counter_name


def board_text(
    state: BoardState,
    lang: str,
    zone: Sequence[str] | None = None,
    message: str | Mapping[str, str] = "",
    previous: int = PREVIOUS_SHOWN,
    counter_names: CounterNames | None = None,
    site_language: str | None = None,
) -> BoardText:
    """All the board's words for ``state`` in ``lang``; ``message`` is the site file's line (one
    string, or a table per language); ``counter_names`` the site file's per-language counter
    names; ``site_language`` the language of the names the service sends."""
    _ = translator("display", lang)
    if isinstance(message, Mapping):
        message = message.get(lang, "")

    def counter(call: Call) -> str:
        return counter_label(call, lang, counter_names, site_language)

    if state.seq is None:
        status = _("Connecting…")
    elif not state.connected:
        status = _("Reconnecting…")
    else:
        status = ""
    latest = state.latest
    deps = []
    for dep in state.zone_departments(zone):
        if not dep.open:
            wait = _("Closed")
        elif dep.waiting == 0:
            wait = ""
        else:
            wait = wait_text(dep.estimated_wait_s, lang)
        deps.append(DepartmentText(dep.label(lang), str(dep.waiting), _("waiting"), wait, dep.open))
    if state.messages:  # "you said, we did", in turn; a blank line while a new call has the screen
        shown = shown_message(state)
        line = label(shown, lang) if shown is not None else ""
    else:
        line = message
    if not state.site_open and state.seq is not None:
        line = _("Closed for today")
    return BoardText(
        site_name=state.site_name,
        status=status,
        latest_number=latest.number if latest else "",
        latest_counter=counter(latest) if latest else _("No calls yet"),
        latest_note=_("Called again") if latest and latest.recall else "",
        previous=tuple((c.number, counter(c)) for c in state.previous(previous)),
        departments=tuple(deps),
        message=line,
        heading_number=_("Number"),
        heading_counter=_("Counter"),
        heading_previous=_("Previous calls"),
        heading_waiting=_("Waiting"),
        heading_wait=_("Wait"),
        go_to=_("Please go to"),
        lang=lang,
        rtl=is_rtl(lang),
    )
