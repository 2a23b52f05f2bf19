"""What every staff console page shares: rendering, who is signed in, and the dependencies that let a page in.

A page's route declares who may see it (`StaffPage`, `WarehousePage`, ...; a form's POST `AdminForm`, ...): the
dependency answers a visitor who is not signed in with the sign-in page and a role that may not see it with 403, and
the route runs only for someone it may serve. A form's CSRF token is checked before who sent it, as it always was.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import Staff
from api.pages import Pages, sign_in_seen
from api.reads import console_staff_of
from domain.money import CURRENCY_EXPONENTS, format_amount

SESSION_COOKIE = "staff_session"
PAGES = Pages("staff", samesite="strict", no_store=True)
form_of = PAGES.form_of
HOMES = {"warehouse": "/staff/warehouse", "finance": "/staff/finance", "admin": "/staff/returns"}
CONSOLE_ROLES = tuple(HOMES)
STATUSES = ("pending_approval", "awaiting_shipment", "in_transit", "received", "pending_refund_review",
            "completed", "rejected", "cancelled", "expired")  # fmt: skip


def render(
    request: Request, name: str, context: dict[str, Any], who: Staff | None = None, status_code: int = 200
) -> HTMLResponse:
    return PAGES.render(request, name, {"who": who, "statuses": STATUSES, **context}, status_code)


def not_found(request: Request, who: Staff) -> HTMLResponse:
    return render(request, "staff/not_found.html", {}, who, status_code=404)


async def staff_of(request: Request) -> Staff | None:
    session_id = request.cookies.get(SESSION_COOKIE, "")
    who = await console_staff_of(request.app.state.settings, session_id) if 0 < len(session_id) < 200 else None
    who = who if who is not None and who.may(*CONSOLE_ROLES) else None
    sign_in_seen(request, who)
    return who


class PageAnswer(Exception):
    """A page answered before its route ran (sign in first; not for this role): the app sends `response`."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def _send_answer(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageAnswer)
    return exc.response


def staff_page(*roles: str) -> Callable[[Request], Awaitable[Staff]]:
    """The signed-in staff member when one of their roles may see the page (admin may see all; no roles: any console
    role)."""

    async def gate(request: Request) -> Staff:
        who = await staff_of(request)
        if who is None:
            raise PageAnswer(RedirectResponse("/staff/login", status_code=303))
        if not who.may(*roles):
            raise PageAnswer(render(request, "staff/forbidden.html", {}, who, status_code=403))
        return who

    return gate


@dataclass(frozen=True)
class StaffForm:
    """A form posted by a staff member whose role may send it."""

    who: Staff
    form: dict[str, list[str]]


def staff_form(*roles: str) -> Callable[[Request], Awaitable[StaffForm]]:
    gate = staff_page(*roles)

    async def check(request: Request) -> StaffForm:
        form = await form_of(request)  # 403 for a missing or wrong CSRF token, signed in or not
        return StaffForm(await gate(request), form)

    return check


StaffPage = Annotated[Staff, Depends(staff_page())]
WarehousePage = Annotated[Staff, Depends(staff_page("warehouse"))]
FinancePage = Annotated[Staff, Depends(staff_page("finance"))]
AdminForm = Annotated[StaffForm, Depends(staff_form("admin"))]
WarehouseForm = Annotated[StaffForm, Depends(staff_form("warehouse"))]
FinanceForm = Annotated[StaffForm, Depends(staff_form("finance"))]


def install(app: FastAPI) -> None:
    app.add_exception_handler(PageAnswer, _send_answer)


def to_minor(text: str, currency: str) -> int | None:
    """ "12.50" or "12,50" as minor units of the currency; None when it is not a plain non-negative amount."""
    exp = CURRENCY_EXPONENTS.get(currency.upper(), 2)
    try:
        value = Decimal(text.replace(",", ".").replace(" ", "")) * (10**exp)
    except InvalidOperation:
        return None
    if value != value.to_integral_value() or value < 0 or value > 10**12:
        return None
    return int(value)


def major(amount: int, currency: str) -> str:
    return format_amount(amount, currency).rsplit(" ", 1)[0]
