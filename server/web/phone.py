"""The visitor's own ticket on their phone: ``/t/{follow}`` (the QR code on the paper).

Served on the visitors' port (server/api/public.py) and on the LAN port alike. The path holds
the ticket's ``follow`` secret (128 random bits, printed only in its QR code), never its id:
ids are on the boards' event stream, so an id-based page would let anyone open anyone's ticket.
The page shows only that one ticket's follow view: its number, how many are ahead, the
estimated wait and, when it happens, where to go; nothing about other visitors. It follows the
ticket over ``WS /api/v1/follow/{follow}/events`` (server/api/follow.py): the service pushes
the view when it changes, the page never polls. No cookie is set and no referrer is sent: a
visitor's phone keeps no session with the service centre. The language is the ticket's own
(chosen at the kiosk) unless the visitor picks another with ``?lang=``; its words are the
``phone`` catalogue, which every site language has.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from nummerlapp.common.errors import NotFound
from nummerlapp.common.i18n import translator
from nummerlapp.server.api.follow import follow_hub
from nummerlapp.server.api.services import services
from nummerlapp.server.web import feedback
from nummerlapp.server.web.render import STATIC, choose_language, render

PUBLIC_STATIC = frozenset({"phone.js", "phone-feedback.js", "ui.css"})  # all the phone page loads
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


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
    follow = str(request.path_params["follow"])
    settings = services(request).settings
    try:
        ticket = await follow_hub(request).ticket(follow)
    except NotFound:
        lang = choose_language(request, domain="phone")
        _ = translator("phone", lang)
        page = render(
            request,
            "phone_missing.html",
            lang,
            status_code=404,
            domain="phone",
            message=_("This ticket was not found."),
        )
        page.headers.update(NO_STORE)
        return page
    explicit = request.query_params.get("lang")
    lang = choose_language(request, explicit or ticket.lang, domain="phone")
    _ = translator("phone", lang)
    dep = settings.department(ticket.department)
    view = ticket.follow_view()
    boot = {
        "lang": lang,
        "follow": follow,
        "ticket": view.encode(),
        "departments": {d.id: d.label(lang) for d in settings.departments},
        "counters": {c.id: c.label(lang) for c in settings.counters},  # names in the page's language
        "strings": phone_strings(_),
        "feedback": await feedback.phone_boot(request, follow, lang),  # issue 16: asked once done
    }
    page = render(
        request,
        "phone.html",
        lang,
        domain="phone",
        ticket=view,
        department=dep.label(lang) if dep else ticket.department,
        boot=boot,
    )
    page.headers.update(NO_STORE)
    return page


async def static_file(request: Request) -> Response:
    """The phone page's own static files on the visitors' port (nothing else of /static/web)."""
    name = str(request.path_params["name"])
    if name not in PUBLIC_STATIC:
        raise NotFound(f"no such resource: {request.url.path}", code="not_found")
    return FileResponse(STATIC / name, headers={"Cache-Control": "public, max-age=300"})
