"""What the portal's and the consoles' HTML pages share: templates, language, and CSRF.

CSRF is double-submit: a random token in an HttpOnly cookie scoped to the area's path, repeated in a
hidden form field; a POST whose two copies are missing or differ is refused with 403.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.i18n import LANG_NAMES, LANG_TAGS, choose_lang, policy_text, timeline_text, translator
from domain.money import format_amount

LANG_COOKIE = "lang"
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
templates.env.globals["money"] = format_amount


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


def first(form: dict[str, list[str]], key: str) -> str:
    return (form.get(key) or [""])[0].strip()


class Pages:
    """Rendering and form handling for one area of pages (`portal` or `staff`)."""

    def __init__(self, area: str, samesite: Literal["lax", "strict"], no_store: bool = False) -> None:
        self.area, self.samesite, self.no_store = area, samesite, no_store
        self.csrf_cookie = f"{area}_csrf"

    def csrf_token(self, request: Request) -> str:
        token = request.cookies.get(self.csrf_cookie) or getattr(request.state, self.csrf_cookie, None)
        if not token:
            token = secrets.token_urlsafe(32)
            setattr(request.state, self.csrf_cookie, token)
        return token

    def render(self, request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
        """A page in the request's language, with the CSRF and language cookies kept in place."""
        lang = choose_lang(request)
        csrf = self.csrf_token(request)
        ctx = {"t": translator(lang), "lang": lang, "lang_tag": LANG_TAGS[lang], "langs": LANG_NAMES, "csrf": csrf,
               "policy_text": lambda s: policy_text(s, lang), "timeline_text": lambda s: timeline_text(s, lang),
               **context}  # fmt: skip
        response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
        if self.no_store:
            response.headers["Cache-Control"] = "no-store"
        if request.cookies.get(self.csrf_cookie) != csrf:
            response.set_cookie(self.csrf_cookie, csrf, httponly=True, samesite=self.samesite,
                                secure=secure(request), path=f"/{self.area}")  # fmt: skip
        if request.query_params.get("lang") in LANG_NAMES and request.cookies.get(LANG_COOKIE) != lang:
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", secure=secure(request))
        return response

    async def form_of(self, request: Request) -> dict[str, list[str]]:
        """The url-encoded form, after the CSRF check (403 when missing or different)."""
        body = (await request.body()).decode("utf-8", errors="replace")
        form = parse_qs(body, keep_blank_values=True)
        sent, kept = first(form, "csrf"), request.cookies.get(self.csrf_cookie, "")
        if not sent or not kept or not secrets.compare_digest(sent.encode(), kept.encode()):
            raise HTTPException(403, "csrf: the form's token is missing or does not match")
        return form
