"""Issue 16's pages: the managers' "you said, we did" page, and the phone page's questions.

    GET  /messages     a manager or admin writes the boards' lines (one text per site language,
                       an optional last day); the page lists what the boards show today
    POST /messages     the form, with the session's CSRF token → the ledger (``site.changed``)

The phone page (server/web/phone.py, ``/t/{follow}``) gets :func:`phone_boot`: the site's
questions in the page's language and whether this ticket's phone answered already; its script
``phone-feedback.js`` asks them once the ticket is done and posts to
``POST /api/v1/follow/{follow}/feedback`` (server/api/feedback.py).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from nummerlapp.common import protocol as P
from nummerlapp.common.errors import LedgerError
from nummerlapp.common.i18n import Translate, language_name, translator
from nummerlapp.common.protocol.feedback import MAX_MESSAGES, UNTIL
from nummerlapp.server.api.auth import Permission
from nummerlapp.server.api.services import services
from nummerlapp.server.web.context import Ctx, backend, page_user, redirect
from nummerlapp.server.web.render import render
from nummerlapp.server.web.session import CSRF_FIELD, csrf_ok

EMPTY_ROWS = 2  # blank lines below the stored ones, for new messages
FACES = ("Very bad", "Bad", "OK", "Good", "Very good")


# -- the phone page ---------------------------------------------------------------------------


def phone_strings(_: Translate) -> dict[str, Any]:
    return {
        "title": _("How was your visit?"),
        "intro": _("A few quick questions. Anonymous: we never know who answered."),
        "faces": [_(f) for f in FACES],
        "yes": _("Yes"),
        "no": _("No"),
        "send": _("Send"),
        "skip": _("No, thanks"),
        "thanks": _("Thank you for your answers!"),
        "failed": _("Your answers could not be sent. Try again."),
    }


async def phone_boot(request: Request, follow: str, lang: str) -> dict[str, Any]:
    """What the phone page's feedback part needs: questions in ``lang``, and whether answered."""
    settings = services(request).settings
    questions = settings.feedback.questions
    given = bool(questions) and await backend(request).run(lambda ledger: ledger.feedback_given(follow))
    return {
        "answered": given,
        "questions": [{"id": q.id, "scale": q.scale, "text": q.label(lang)} for q in questions],
        "strings": phone_strings(translator("phone", lang)),
    }


# -- the managers' page ------------------------------------------------------------------------


def _rows(lines: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The form's rows: each stored (or just typed) line, then empty ones for new lines."""
    rows = [
        {"text": {k: v for k, v in line.items() if k != UNTIL}, "until": line.get(UNTIL, "")}
        for line in lines
    ]
    rows += [{"text": {}, "until": ""} for _ in range(EMPTY_ROWS)]
    return rows


def _page(
    request: Request,
    ctx: Ctx,
    messages: list[P.BoardMessage],
    typed: list[dict[str, str]] | None = None,
    **extra: Any,
) -> Response:
    """The page: the form shows ``typed`` (a refused submission, kept to correct) or the stored lines."""
    settings = services(request).settings
    today = services(request).clock().astimezone(settings.site.tz).date()
    page = render(
        request,
        "messages.html",
        ctx.lang,
        csrf=ctx.session.csrf,
        user=ctx.user,
        show_desk_link=True,
        csrf_field=CSRF_FIELD,
        site_langs=[(code, language_name(code)) for code in settings.site.languages],
        rows=_rows(typed if typed is not None else [m.root for m in messages]),
        shown=[P.label(m.text, ctx.lang) for m in messages if m.in_force(today)],
        today=today.isoformat(),
        on_messages=True,
        **extra,
    )
    return ctx.save(page)


async def _allowed(request: Request) -> tuple[Ctx, Response | None]:
    return await page_user(
        request,
        "/messages",
        Permission.EDIT_BOARD_MESSAGES,
        lambda _: _("Only a manager or an administrator may open this page."),
    )


async def messages_page(request: Request) -> Response:
    ctx, refused = await _allowed(request)
    if refused is not None:
        return refused
    messages = await backend(request).run(lambda ledger: ledger.board_messages())
    saved = request.query_params.get("saved") == "1"
    return _page(request, ctx, messages, saved=saved, problem="")


async def messages_submit(request: Request) -> Response:
    ctx, refused = await _allowed(request)
    if refused is not None:
        return refused
    form = await request.form()
    _ = ctx._
    settings = services(request).settings
    if not csrf_ok(ctx.session, str(form.get(CSRF_FIELD) or "")):
        messages = await backend(request).run(lambda ledger: ledger.board_messages())
        return _page(
            request,
            ctx,
            messages,
            saved=False,
            problem=_("This page is out of date. Reload it and try again."),
        )
    raw: list[dict[str, str]] = []
    for i in range(MAX_MESSAGES):
        line = {lang: str(form.get(f"m{i}-{lang}") or "").strip() for lang in settings.site.languages}
        line = {k: v for k, v in line.items() if v}
        until = str(form.get(f"m{i}-until") or "").strip()
        if not line:
            continue  # an empty row: nothing to keep (a line cleared by hand is taken away)
        if until:
            line[UNTIL] = until
        raw.append(line)
    try:
        body = P.BoardMessagesBody.model_validate({"messages": raw})
        messages = list(body.messages)
        await backend(request).run(lambda ledger: ledger.set_board_messages(messages))
    except (ValidationError, LedgerError) as exc:
        problem = _("A message could not be saved: check the texts and the dates (YYYY-MM-DD).")
        detail = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        stored = await backend(request).run(lambda ledger: ledger.board_messages())
        return _page(request, ctx, stored, typed=raw, saved=False, problem=f"{problem} ({detail})")
    return ctx.save(redirect("/messages?saved=1"))
