"""What the portal's and the consoles' HTML pages share: templates, language, and CSRF.

CSRF is double-submit: a random token in an HttpOnly cookie scoped to the area's path, repeated in a
hidden form field; a POST whose two copies are missing or differ is refused with 403.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import UploadFile

from api.formats import page_formats
from api.i18n import LANG_NAMES, LANG_TAGS, choose_lang, translator
from api.reason_words import reason_text
from domain.money import format_amount

LANG_COOKIE = "lang"
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
templates.env.globals["money"] = format_amount


def unbroken(value: object) -> Markup:
    """An id (a return id, an order or tracking number) kept whole on its line: a phone's heading would otherwise
    break R-8K2J4M9QX1 at its hyphen. The `id` class is in portal.css and staff.css."""
    return Markup('<span class="id">{}</span>').format(value)


templates.env.filters["unbroken"] = unbroken


def with_markup(t: Callable[..., str]) -> Callable[..., str]:
    """`t` that takes markup in its {fields} (an `unbroken` id): the text is escaped first and the fields filled in
    after, so the field's tags stay tags while everything else is escaped as before."""

    def say(key: str, **values: object) -> str:
        if any(isinstance(v, Markup) for v in values.values()):
            return escape(t(key)).format(**values)  # Markup.format escapes the plain values
        return t(key, **values)

    return say


def secure(request: Request) -> bool:
    """Whether cookies get `Secure`. A TLS proxy that does not forward the scheme (or is not trusted to,
    REVERSO_FORWARDED_ALLOW_IPS) makes the request look like plain HTTP: the public URL says what shoppers use."""
    return request.url.scheme == "https" or request.app.state.settings.public_url.startswith("https://")


def sign_in_seen(request: Request, who: object) -> None:
    """Remember who the request's session cookie signed in, for the page: its sign-out form and no-store."""
    request.state.signed_in = who is not None


def signed_in(request: Request) -> bool:
    return bool(getattr(request.state, "signed_in", False))


def first(form: dict[str, list[str]], key: str) -> str:
    return (form.get(key) or [""])[0].strip()


# Forms are parsed by hand (parse_qs), so their fields are checked here against the same domain.text types the JSON
# API's models use: a page re-renders the form with the reason instead of passing the value on.
_ADAPTERS: dict[int, TypeAdapter[Any]] = {}


def problem(value: str, kind: Any) -> str | None:
    """Why a form field's `value` is not a `kind` (e.g. domain.text.Note), or None when it is one."""
    adapter = _ADAPTERS.get(id(kind))
    if adapter is None:
        adapter = _ADAPTERS[id(kind)] = TypeAdapter(kind)
    try:
        adapter.validate_python(value)
    except ValidationError as e:
        return first_error(e)
    return None


def first_error(e: ValidationError) -> str:
    """The first error of `e` as one line for a page, "field: why" (pydantic's own text ends in a URL)."""
    error = e.errors()[0]
    where = ".".join(str(x) for x in error["loc"])
    why = error["msg"].removeprefix("Value error, ")
    return f"{where}: {why}" if where else why


def whole_number(text: str, most: int) -> int | None:
    """`text` as an integer from 0 to `most`, else None. ASCII digits only: "²" passes str.isdigit() and then fails
    int(), as do a few thousand digits."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(most)):
        return None
    value = int(text)
    return value if value <= most else None


class Pages:
    """Rendering and form handling for one area of pages (`portal` or `staff`)."""

    def __init__(self, area: str, samesite: Literal["lax", "strict"], no_store: bool = False) -> None:
        """`no_store`: every page of the area; otherwise pages for a signed-in visitor (`signed_in`) only."""
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
        visitor = signed_in(request)
        t = with_markup(translator(lang))
        # words(code, reader): a policy reason said from its code in the page's language (shopper wording unless
        # a staff page asks for "staff").
        ctx = {"t": t, "lang": lang, "lang_tag": LANG_TAGS[lang], "langs": LANG_NAMES, "csrf": csrf,
               "words": lambda c, reader="shopper": reason_text(t, c, reader),
               "signed_in": visitor, **context}  # fmt: skip
        if self.area == "portal":  # a shopper's amounts and dates in their language; staff pages keep theirs
            ctx.update({k: v for k, v in page_formats(lang).items() if k not in context})
        ctx.setdefault("shop", request.app.state.settings.shop_name)
        brand = request.app.state.settings.brand
        ctx.setdefault("brand", brand)
        ctx.setdefault("picture", lambda url: url if brand.shows(url) else "")
        response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
        if self.no_store or visitor:
            # A shared or back-button cache must not keep someone's order, address or return.
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

    async def multipart_of(
        self, request: Request, most: int, most_files: int, file_bytes: int
    ) -> tuple[dict[str, list[str]], dict[str, list[bytes]]]:
        """A form with files (multipart, or url-encoded without any), after the CSRF check: its fields, and each file
        input's non-empty files, read up to `file_bytes` + 1 so a bigger one is seen as too big. 413 above `most`."""
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return await self.form_of(request), {}
        if int(request.headers.get("content-length") or 0) > most:
            raise HTTPException(413, "the form is larger than its photos may be")
        fields: dict[str, list[str]] = {}
        files: dict[str, list[bytes]] = {}
        async with request.form(max_files=most_files, max_fields=1000) as form:
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    data = await value.read(file_bytes + 1)
                    if data:  # a file input left empty sends an empty part
                        files.setdefault(key, []).append(data)
                else:
                    fields.setdefault(key, []).append(value)
        sent, kept = first(fields, "csrf"), request.cookies.get(self.csrf_cookie, "")
        if not sent or not kept or not secrets.compare_digest(sent.encode(), kept.encode()):
            raise HTTPException(403, "csrf: the form's token is missing or does not match")
        return fields, files
