"""The HTTP and WebSocket API of the site service.

- ``app.py``: the FastAPI factory (``create_app``) that puts the parts below together;
- ``services.py``: what the app holds (:class:`Services`, one typed accessor ``services(request)``);
- ``routes.py``: the endpoints; ``models.py``: their pydantic shapes (→ ``/openapi.json``);
- ``actions.py``: the counter actions, spelled once (routes, access rules and desk buttons);
- ``auth.py``: roles, the one rule table (who may do what), access tokens and staff users;
- ``access.py``: the middleware that applies the table before anything else; ``errors.py``: the
  protocol's error answers;
- ``sockets.py`` + ``hub.py``: the event socket and the fan-out to clients;
- ``runner.py``: the single ledger writer thread (``run(fn)``, group commit); ``mdns.py``:
  advertising the service.

Nothing is imported here: ``server.api.hub`` and ``server.api.auth`` stay usable without FastAPI
being loaded. docs/API.md describes the endpoints.
"""
