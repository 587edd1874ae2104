"""The visitor's own ticket on their phone: ``/t/{ticket_id}`` (the QR code on the paper).

Public by design — the id is unguessable (≥ 96 random bits) and the page shows only that one
ticket: its number, how many are ahead, the estimated wait and, when it happens, where to go.
Nothing about other visitors or the rest of the queue. No cookie is set: a visitor's phone
keeps no session with the service centre. The language is the ticket's own (chosen at the
kiosk) unless the visitor picks another with ``?lang=``; its words are the ``phone`` catalogue,
which every site language has (visitor languages such as Ukrainian and Arabic have no desk pages).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from nummerlapp.common.errors import NotFound
from nummerlapp.common.i18n import translator
from nummerlapp.server.api.services import services
from nummerlapp.server.web.context import backend
from nummerlapp.server.web.render import choose_language, render


def phone_strings(_: Any) -> dict[str, str]:
    return {
        "waiting": _("Please wait – we will call your number"),
        "ahead_n": _("%(n)s ahead of you"),
        "ahead_0": _("You are next"),
        "wait_min": _("Estimated wait: about %(min)s min"),
        "wait_soon": _("Estimated wait: a few minutes"),
        "called": _("Your number is called"),
        "go_to": _("Go to %(counter)s"),
        "serving": _("You are being served at %(counter)s"),
        "done": _("Thank you for your visit"),
        "no_show": _("Your number was called, but you did not come. Take a new number at the entrance."),
        "void": _("This ticket is no longer valid. Take a new number at the entrance."),
        "live": _("Updates by itself"),
        "reconnecting": _("Connection lost – reconnecting…"),
        "title_called": _("Called!"),
    }


async def ticket_page(request: Request) -> Response:
    ticket_id = request.path_params["ticket_id"]
    settings = services(request).settings
    try:
        ticket = await backend(request).run(lambda ledger: ledger.ticket(ticket_id))
    except NotFound:
        lang = choose_language(request, domain="phone")
        _ = translator("phone", lang)
        return render(
            request,
            "phone_missing.html",
            lang,
            status_code=404,
            domain="phone",
            message=_("This ticket was not found."),
        )
    explicit = request.query_params.get("lang")
    lang = choose_language(request, explicit or ticket.lang, domain="phone")
    _ = translator("phone", lang)
    dep = settings.department(ticket.department)
    boot = {
        "lang": lang,
        "ticket": ticket.to_json(),
        "departments": {d.id: d.label(lang) for d in settings.departments},
        "counters": {c.id: c.label(lang) for c in settings.counters},  # names in the page's language
        "strings": phone_strings(_),
    }
    return render(
        request,
        "phone.html",
        lang,
        domain="phone",
        ticket=ticket,
        department=dep.label(lang) if dep else ticket.department,
        boot=boot,
    )
