"""The HTTP and WebSocket API of the site service.

- ``app.py``: the FastAPI factory (``create_app``), auth middleware, error answers;
- ``routes.py``: the endpoints; ``models.py``: their pydantic shapes (→ ``/openapi.json``);
- ``sockets.py`` + ``hub.py``: the event socket and the fan-out to clients;
- ``runner.py``: the single ledger writer thread (group commit);
- ``auth.py``: access tokens and staff users; ``mdns.py``: advertising the service.

Nothing is imported here: ``server.api.hub`` and ``server.api.auth`` stay usable without FastAPI
being loaded. docs/API.md describes the endpoints.
"""
