"""The pages' routes: ``install(app)`` adds them (server/web/__init__.py lists them)."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from nummerlapp.server.web import desk, feedback, floor, manager, phone, tech, triage
from nummerlapp.server.web.render import STATIC


async def _root(request: Request) -> Response:
    return RedirectResponse("/desk", status_code=307)


def install(app: FastAPI) -> None:
    """Add the pages to ``app`` (their per-app parts are ``services(request).web``)."""
    routes = [
        ("/", _root, ["GET"]),
        ("/desk/signin", desk.signin_page, ["GET"]),
        ("/desk/signin", desk.signin_submit, ["POST"]),
        ("/desk/signout", desk.signout, ["POST"]),
        ("/desk/counter", desk.counter_page, ["GET"]),
        ("/desk/counter", desk.counter_submit, ["POST"]),
        ("/desk", desk.desk_page, ["GET"]),
        # issue 17: before the generic action route (the alarm is not a ticket action)
        ("/desk/api/counters/{counter}/alarm", floor.desk_alarm, ["POST"]),
        ("/desk/api/counters/{counter}/parked", floor.parked_list, ["GET"]),
        ("/desk/api/alarms/{alarm}/clear", floor.clear_alarm, ["POST"]),
        ("/desk/api/counters/{counter}/{action}", desk.counter_action, ["POST"]),
        ("/desk/api/tickets", desk.issue_ticket, ["POST"]),
        ("/desk/api/appointments", triage.book_visit, ["POST"]),  # issue 15: reception triage
        ("/desk/api/appointments/{reference}/slip", triage.print_slip, ["POST"]),  # the slip at a kiosk
        ("/desk/api/kiosks", triage.kiosk_list, ["GET"]),
        ("/manager", manager.manager_page, ["GET"]),
        ("/manager/api/live", manager.live, ["GET"]),
        ("/manager/api/site/{how}", manager.switch_site, ["POST"]),
        ("/manager/api/departments/{department}/{how}", manager.switch_department, ["POST"]),
        ("/messages", feedback.messages_page, ["GET"]),  # issue 16: "you said, we did"
        ("/messages", feedback.messages_submit, ["POST"]),
        ("/tech", tech.tech_page, ["GET"]),
        ("/tech/api/tokens", tech.create_token, ["POST"]),
        ("/tech/api/tokens/{token_id}/revoke", tech.revoke_token, ["POST"]),
        ("/tech/api/users", tech.create_user, ["POST"]),
        ("/tech/api/users/{username}/disable", tech.disable_user, ["POST"]),
        ("/tech/api/devices/{device_id}/identify", tech.identify, ["POST"]),
        ("/tech/api/devices", tech.device_list, ["GET"]),  # issue 13: enrolment and the device list
        ("/tech/api/devices/{device_id}/rename", tech.rename, ["POST"]),
        ("/tech/api/devices/{device_id}/remove", tech.remove, ["POST"]),
        ("/tech/api/enrolments/{code}/approve", tech.approve, ["POST"]),
        ("/tech/api/enrolments/{code}/refuse", tech.refuse, ["POST"]),
        ("/tech/api/config/reload", tech.reload_site_file, ["POST"]),
        ("/tech/api/reset", tech.reset_day, ["POST"]),
        ("/t/{follow}", phone.ticket_page, ["GET"]),  # also on the visitors' port (server/api/public.py)
    ]
    for path, endpoint, methods in routes:
        app.add_route(path, endpoint, methods=methods, include_in_schema=False)
    app.mount("/static/web", StaticFiles(directory=str(STATIC)), name="web-static")
