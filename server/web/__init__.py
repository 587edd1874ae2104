"""Desk, technician and phone pages, served by the site service itself.

``pages.install(app, services)`` adds them to the FastAPI app made by
``server.api.app.create_app``: plain Starlette routes kept out of ``/openapi.json`` (they are
pages, not the wire API), the static scripts and styles (plain JS modules, no build step). What
they keep per app (sessions signed with a per-site secret beside the ledger, the replay cache,
the sign-in limiter, the accounts seam) is ``parts.WebParts``, reached as
``services(request).web``. Pages:

    /desk/signin, /desk/counter, /desk     sign in, choose a counter, work at it
    /tech                                  devices, tokens, accounts, site file, reset (admin)
    /t/{follow}                            one visitor's ticket, live, on their phone (QR code)
"""
