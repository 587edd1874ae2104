"""Visitor feedback and the boards' messages over HTTP (PROTOCOL.md v1.1, "Visitor feedback").

    POST /api/v1/feedback                    feedback token: the exit terminal's answers → 201;
                                             an ``Idempotency-Key`` header stores a visit once
    POST /api/v1/follow/{follow}/feedback    public (the follow secret is the key): a phone's
                                             answers, once per ticket, after it is done → 201
    GET  /api/v1/site/messages               manager, admin: every stored line, ``until`` included
    PUT  /api/v1/site/messages               manager, admin: replace them → 200 and ``site.changed``

Who may call the protected ones is the one rule table (server/api/auth.py), checked by the
middleware (server/api/access.py) before the body is read. The public route is in
:data:`public_router` so the phones' port (issue 14) can serve it too; the main app includes
both routers. Every write goes through the ledger's writer thread.

``Idempotency-Key`` (the standard header; PROTOCOL.md's body stays as it is): the exit terminal's
outbox gives each visit a random key and sends it with every attempt, so a POST whose 201 was lost
and is sent again is stored once and answered 201 again (server/ledger/feedback.py keeps the
key's hash with the answers). Optional; a malformed one is 422 ``invalid_idempotency_key`` before
the ledger is touched.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse

from nummerlapp.common import protocol as P
from nummerlapp.config.model import Settings
from nummerlapp.server.api.access import principal
from nummerlapp.server.api.errors import documented, error_response
from nummerlapp.server.api.services import services
from nummerlapp.server.ledger.feedback import KEY_DAYS, FeedbackKey

router = APIRouter()
public_router = APIRouter()
BEARER: dict[str, Any] = {"security": [{"HTTPBearer": []}]}

IDEMPOTENCY_KEY = "Idempotency-Key"
KEY_MAX = 100
# 1 to 100 printable ASCII characters, not starting or ending with a space (HTTP would strip it).
_KEY = rf"[!-~](?:[ -~]{{0,{KEY_MAX - 2}}}[!-~])?"
KEY_RE = re.compile(_KEY)
KEY_PARAMETER: dict[str, Any] = {
    "name": IDEMPOTENCY_KEY,
    "in": "header",
    "required": False,
    "description": (
        "One random key per visit, the same on every attempt to send it (the exit terminal's "
        "outbox makes one per visit): a repeat with a key this terminal used before stores "
        "nothing and answers 201 as the first did. 1 to 100 printable ASCII characters, no space "
        "first or last; another "
        f"value is 422 `invalid_idempotency_key`. Keys are remembered for {KEY_DAYS} days."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": KEY_MAX, "pattern": f"^{_KEY}$"},
}


def document(schema: dict[str, Any], settings: Settings) -> None:
    """Narrow /openapi.json to this site: a board message's keys are the site's languages (the
    protocol's class says "2-3 lowercase letters"; the ledger refuses others), and the feedback
    answers' keys are the site's question ids."""
    shapes = schema.get("components", {}).get("schemas", {})
    message = shapes.get("BoardMessage")
    if message is not None and "patternProperties" in message:
        languages = "|".join(re.escape(lang) for lang in settings.site.languages)
        (text,) = message["patternProperties"].values()
        message["patternProperties"] = {f"^({languages})$": text}
    body = shapes.get("FeedbackBody", {}).get("properties", {}).get("answers")
    if body is not None and settings.feedback.questions:
        ids = "|".join(re.escape(q.id) for q in settings.feedback.questions)
        body["propertyNames"] = {"pattern": f"^({ids})$"}


def _answer(shape: P.Wire, status_code: int = 200) -> JSONResponse:
    return JSONResponse(shape.encode(), status_code=status_code)


@router.post(
    "/feedback",
    status_code=201,
    response_model=P.FeedbackAnswer,
    responses=documented(401, 403, 422),
    tags=["feedback"],
    openapi_extra={**BEARER, "parameters": [KEY_PARAMETER]},
)
async def give_feedback(request: Request, body: P.FeedbackBody) -> JSONResponse:
    """The exit terminal's answers of one visit (feedback token): question id → 1–5, or 1/0 for yes/no.

    422 for an unknown question or an answer off its scale. Stored without a department. With an
    `Idempotency-Key` header the visit is stored once, however often it is sent."""
    keys = request.headers.getlist(IDEMPOTENCY_KEY)
    if len(keys) > 1 or (keys and not KEY_RE.fullmatch(keys[0])):
        return error_response(
            422,
            "invalid_idempotency_key",
            f"{IDEMPOTENCY_KEY} must be one value of 1 to {KEY_MAX} printable ASCII characters, "
            "not beginning or ending with a space",
        )
    once = None
    if keys:
        who = principal(request)
        once = FeedbackKey(keys[0], who.kind, who.id)
    stored = await services(request).runner.run(
        lambda ledger: ledger.record_feedback(body.answers, body.lang, once=once)
    )
    return _answer(P.FeedbackAnswer(stored=stored), 201)


@public_router.post(
    "/follow/{follow}/feedback",
    status_code=201,
    response_model=P.FeedbackAnswer,
    responses=documented(404, 409, 422),
    tags=["public"],
)
async def follow_feedback(
    request: Request, body: P.FeedbackBody, follow: str = Path(max_length=64)
) -> JSONResponse:
    """A phone's answers for the ticket it follows: once per ticket (409 `already_answered`), only
    when the ticket is done (409 `not_done`). Stored with the ticket's department, the hour and
    the wait band, never with the ticket's id, number or follow secret."""

    stored = await services(request).runner.run(
        lambda ledger: ledger.record_follow_feedback(follow, body.answers, body.lang)
    )
    return _answer(P.FeedbackAnswer(stored=stored), 201)


@router.get(
    "/site/messages",
    response_model=P.BoardMessagesAnswer,
    responses=documented(401, 403),
    tags=["site"],
    openapi_extra=BEARER,
)
async def get_messages(request: Request) -> JSONResponse:
    """The boards' "you said, we did" lines as stored, expired ones included (manager, admin)."""
    messages = await services(request).runner.run(lambda ledger: ledger.board_messages())
    return _answer(P.BoardMessagesAnswer(messages=messages))


@router.put(
    "/site/messages",
    response_model=P.BoardMessagesAnswer,
    responses=documented(401, 403, 422),
    tags=["site"],
    openapi_extra=BEARER,
)
async def put_messages(request: Request, body: P.BoardMessagesBody) -> JSONResponse:
    """Replace the boards' lines (manager, admin): each a text per site language and an optional
    `until` (the last day shown). Boards get them at once through `site.changed`."""
    messages = list(body.messages)
    stored = await services(request).runner.run(lambda ledger: ledger.set_board_messages(messages))
    return _answer(P.BoardMessagesAnswer(messages=stored))
