"""Words shown by the pages' scripts, and the people-facing text for ledger refusal codes.

The scripts get their strings from the server (rendered into the page as JSON) so the ``web.po``
catalogues are the only place a translator looks. Ledger refusals carry a protocol ``code``; the
sentence a desk worker reads is chosen here, at the UI edge, in their language.
"""

from __future__ import annotations

from nummerlapp.common.i18n import Translate


def desk_strings(_: Translate) -> dict[str, str]:
    return {
        "live": _("Live"),
        "connecting": _("Connecting…"),
        "reconnecting": _("Connection lost – reconnecting…"),
        "called_at": _("called at %(time)s"),
        "nobody_current": _("Nobody called yet"),
        "paused_state": _("Counter paused – no calls"),
        "open_state": _("Counter open"),
        "pause": _("Pause"),
        "open": _("Open"),
        "closed": _("closed"),
        "waiting_n": _("%(n)s waiting"),
        "oldest_min": _("oldest %(min)s min"),
        "estimate_min": _("about %(min)s min"),
        "nobody_waiting": _("nobody waiting"),
        "over_target": _("Over target"),
        "near_target": _("Near target"),
        "device_fault": _("%(device)s: %(problem)s"),
        "printer_paper_near_end": _("printer paper is running out"),
        "printer_paper_end": _("printer is out of paper"),
        "printer_offline": _("printer is offline"),
        "printer_cover_open": _("printer cover is open"),
        "printer_error": _("printer error"),
        "failed": _("That did not work. Try again."),
        "offline": _("No connection to the server. Try again."),
        "no_current": _("There is no current ticket at this counter."),
    }


def ledger_message(_: Translate, code: str, fallback: str) -> str:
    """The sentence for a refusal code; unknown codes fall back to the ledger's own message."""
    messages = {
        "no_current_ticket": _("There is no current ticket at this counter."),
        "counter_paused": _("The counter is paused. Open it first."),
        "site_closed": _("The service centre is closed."),
        "department_closed": _("This department is closed now."),
        "queue_full": _("Every number of this department is in use."),
        "unknown_department": _("Unknown department."),
        "unknown_counter": _("Unknown counter."),
        "stale": _("The counter had already moved on. The screen is updated – check and try again."),
        "invalid_username": _(
            "A user name is 1–64 characters: lower-case letters, digits, '.', '_' or '-'. Use a role name such as desk2, not a person's name."
        ),
        "weak_password": _("The password needs at least 10 characters."),
        "user_exists": _("That user name is taken."),
        "invalid_role": _("Choose a role."),
        "invalid_counter": _("Only a staff account or token can be bound to a counter."),
        "unknown_device": _("No such device."),
        "unknown_token": _("No such token."),
        "unknown_user": _("No such user."),
    }
    return messages.get(code, fallback)
