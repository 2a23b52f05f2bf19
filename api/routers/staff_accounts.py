"""Staff account pages: sign in with e-mail and password, set a password from a link, ask for a reset link.

Forms carry the staff area's CSRF token (api.staff_console.form_of), as every other console form. Signing in here is
the only way into the consoles: API tokens are for the JSON API (the shop's systems and scripts). `/staff/login` and
the older `/staff/login/password` are the same page.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError
from starlette.background import BackgroundTask

from api import staff_accounts as accounts
from api.deps import AppSettings, DbSession
from api.i18n import choose_lang, translator
from api.pages import first, secure
from api.staff_console import SESSION_COOKIE, form_of, render
from domain.passwords import MAX_LENGTH, Password
from settings import Settings

router = APIRouter(prefix="/staff", include_in_schema=False)
log = logging.getLogger(__name__)
_PASSWORD: TypeAdapter[str] = TypeAdapter(Password)


def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    return render(request, f"staff/{name}.html", {"ta": translator(choose_lang(request)), **context},
                  status_code=status_code)  # fmt: skip


def password_problem(password: str) -> str | None:
    """The key of the account pages' text saying why `password` is refused, or None when it is a Password."""
    try:
        _PASSWORD.validate_python(password)
    except ValidationError as e:
        kind = e.errors()[0]["type"]
        if kind in ("string_too_short", "string_too_long"):
            return "staff.account.set." + kind.removeprefix("string_")
        return "staff.account.set." + ("repeated" if "repeated" in e.errors()[0]["msg"] else "invalid")
    return None


# --- sign in -------------------------------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
@router.get("/login/password", response_class=HTMLResponse)
async def login_form(request: Request) -> HTMLResponse:
    return page(request, "password_login", {"email": ""})


@router.post("/login", response_class=HTMLResponse)
@router.post("/login/password", response_class=HTMLResponse)
async def login(request: Request, db: DbSession, settings: AppSettings) -> Response:
    form = await form_of(request)
    email, password = first(form, "email")[:254], (form.get("password") or [""])[0][: MAX_LENGTH + 1]
    try:
        account = await accounts.authenticate(db, email, password)
    except accounts.Locked as locked:
        refusal = page(request, "password_login", {"email": email, "locked": locked.minutes}, status_code=429)
        refusal.headers["Retry-After"] = str(locked.seconds)
        return refusal
    except accounts.WrongPair:
        return page(request, "password_login", {"email": email, "refused": True}, status_code=401)
    _, session_id = await accounts.open_account_session(db, account, settings.staff_session_hours)
    await db.commit()
    response = RedirectResponse("/staff", status_code=303)
    response.set_cookie(SESSION_COOKIE, session_id, max_age=settings.staff_session_hours * 3600, httponly=True,
                        samesite="strict", secure=secure(request), path="/staff")  # fmt: skip
    return response


# --- set a password from a link ------------------------------------------------------------------------------------


@router.get("/password", response_class=HTMLResponse)
async def set_form(request: Request, db: DbSession, token: str = "") -> HTMLResponse:
    opened = await accounts.link_account(db, token.strip())
    if opened is None:
        return page(request, "password_gone", {}, status_code=410)
    return page(request, "password_set", {"token": token.strip(), "email": opened[0].email})


@router.post("/password", response_class=HTMLResponse)
async def set_password(request: Request, db: DbSession, token: str = "") -> HTMLResponse:
    form = await form_of(request)
    token = (first(form, "token") or token.strip())[:100]
    password, again = ((form.get(k) or [""])[0][: MAX_LENGTH + 1] for k in ("password", "confirm"))
    opened = await accounts.link_account(db, token)
    if opened is None:
        return page(request, "password_gone", {}, status_code=410)
    why = password_problem(password) or (None if password == again else "staff.account.set.mismatch")
    if why:
        return page(request, "password_set", {"token": token, "email": opened[0].email, "problem": why}, 422)
    account = await accounts.set_password(db, token, password)
    if account is None:
        return page(request, "password_gone", {}, status_code=410)
    await db.commit()
    return page(request, "password_login", {"email": account.email, "done": True})


# --- forgotten password --------------------------------------------------------------------------------------------


@router.get("/password/forgot", response_class=HTMLResponse)
async def forgot_form(request: Request) -> HTMLResponse:
    return page(request, "password_forgot", {"sent": False})


@router.post("/password/forgot", response_class=HTMLResponse)
async def forgot(request: Request, db: DbSession, settings: AppSettings) -> HTMLResponse:
    """The same page whether or not the address has an account; the e-mail goes out after the answer."""
    form = await form_of(request)
    reset = await accounts.start_reset(db, first(form, "email")[:254])
    response = page(request, "password_forgot", {"sent": True})
    if reset is not None:
        await db.commit()
        response.background = BackgroundTask(_mail_reset, settings, *reset)
    return response


async def _mail_reset(settings: Settings, account: accounts.Account, token: str) -> None:
    try:
        await accounts.mail_link(settings, account, "reset", token)
    except OSError:
        log.exception("could not e-mail a password reset link to staff account %s", account.id)
