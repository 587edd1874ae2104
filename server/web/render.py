"""Templates, language choice and the small helpers every page shares.

The language of a page is, in order: an explicit choice (``?lang=`` or the session), the
browser's ``Accept-Language``, and the site's first language — always one of the site's
languages, because staff and visitors should see the words the site has chosen to support.
Strings for the browser's scripts are rendered into the page as JSON, so there is one source
of translations (the ``web.po`` catalogues) and no build step.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from nummerlapp.common.i18n import catalogue_path, language_name, text_direction, translator
from nummerlapp.server.api.services import services

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

_env = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _tojson_script(value: Any) -> Markup:
    """JSON safe inside a <script type="application/json"> element."""
    text = json.dumps(value, ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


_env.filters["script_json"] = _tojson_script


def site_languages(request: Request) -> tuple[str, ...]:
    return tuple(services(request).settings.site.languages)


def parse_accept_language(header: str | None) -> list[str]:
    """Primary language tags in the browser's order of preference (q-values respected)."""
    if not header:
        return []
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in ("no", "nn"):  # Norwegian without a written standard: bokmål is closest
            primary = "nb"
        if primary and q > 0:
            weighted.append((-q, index, primary))
    return [tag for _, _, tag in sorted(weighted)]


def page_languages(request: Request, domain: str = "web") -> tuple[str, ...]:
    """The site's languages a page of ``domain`` can be shown in: staff pages only in those with
    a staff catalogue (a desk in Arabic would be English words under an Arabic label); the
    visitor's phone page in every site language (``config check`` makes sure of it)."""
    languages = site_languages(request)
    usable = tuple(code for code in languages if code == "en" or catalogue_path(domain, code) is not None)
    return usable or languages[:1]


def choose_language(request: Request, explicit: str | None = None, domain: str = "web") -> str:
    languages = page_languages(request, domain)
    candidates = [explicit, request.query_params.get("lang")]
    candidates += parse_accept_language(request.headers.get("accept-language"))
    for lang in candidates:
        if lang and lang in languages:
            return lang
    return languages[0]


def render(
    request: Request,
    template: str,
    lang: str,
    status_code: int = 200,
    domain: str = "web",
    **context: Any,
) -> HTMLResponse:
    """Render a page in ``lang`` with the shared context (site, languages, ``_``); ``domain`` is
    the catalogue (``phone`` for the visitor's page)."""
    settings = services(request).settings
    _ = translator(domain, lang)
    page = _env.get_template(template).render(
        request=request,
        lang=lang,
        dir=text_direction(lang),
        _=_,
        site=settings.site,
        settings=settings,
        languages=[(code, language_name(code)) for code in page_languages(request, domain)],
        has_reports=any(getattr(r, "path", "") == "/reports" for r in request.app.routes),
        **context,
    )
    response = HTMLResponse(page, status_code=status_code)
    # Pages carry per-user state and CSRF tokens: never cached, never framed by another site.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self' ws: wss:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )
    return response


def department_label(request: Request, department_id: str, lang: str) -> str:
    dep = services(request).settings.department(department_id)
    return dep.label(lang) if dep is not None else department_id
