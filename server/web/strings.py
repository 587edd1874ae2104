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
        "title_none": _("Current ticket"),
        "title_called": _("Called"),
        "title_serving": _("Serving"),
        "status_called": _("Called – waiting for the visitor to arrive"),
        "status_serving": _("Serving since %(time)s"),
        "visitor_language": _("Visitor's language: %(language)s"),
        "booked_at": _("booked visit at %(time)s"),
        "parked_none": _("No parked tickets."),
        "call_back": _("Call back"),
        "call_this": _("Call %(number)s"),
        "type_number": _("Type the number to call, for example A012."),
        **alarm_strings(_),
    }


def alarm_strings(_: Translate) -> dict[str, str]:
    """What the alarm banner says, on the desk, technician and manager pages alike."""
    return {
        "alarm_at": _("ALARM at %(counter)s since %(time)s – go and help"),
        "alarm_own": _("Your alarm is sent (%(time)s). Colleagues are alerted."),
        "alarm_clear": _("Clear"),
        "alarm_cleared": _("Alarm cleared."),
        "alarm_sent": _("Alarm sent. Colleagues are alerted."),
    }


def manager_strings(_: Translate) -> dict[str, str]:
    return {
        "live": _("Live"),
        "connecting": _("Connecting…"),
        "reconnecting": _("Connection lost – reconnecting…"),
        "failed": _("That did not work. Try again."),
        "open": _("Open"),
        "closed": _("Closed"),
        "by_hand": _("today by hand"),
        "open_now": _("Open for today"),
        "close_now": _("Close for today"),
        "back_to_hours": _("Back to opening hours"),
        "nobody_waiting": _("nobody waiting"),
        "min": _("%(min)s min"),
        "over_since": _("%(number)s: over the target since %(time)s (waited %(min)s min)"),
        "will_pass": _("%(number)s: passes the target at %(time)s, expected call %(call)s"),
        "none_at_risk": _("Nobody is expected to pass the target."),
        "paused": _("Paused"),
        "counter_open": _("Open"),
        "idle_for": _("idle %(min)s min"),
        "not_used": _("not used today"),
        "serving": _("serving %(number)s since %(time)s"),
        "called": _("called %(number)s at %(time)s"),
        "confirm_close_site": _("Close the whole service centre for the rest of the day?"),
        "confirm_close_dep": _("Close %(department)s for the rest of the day?"),
        "no_lines": _("No message on the boards."),
        **alarm_strings(_),
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
        "unknown_ticket": _("No such ticket waits for this counter today."),
        "not_waiting": _("That ticket is not waiting: it is being called, served or finished."),
        "unknown_alarm": _("No such alarm."),
    }
    return messages.get(code, fallback)
