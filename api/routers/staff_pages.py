"""The staff consoles as server-rendered pages (Jinja2 + htmx): sign-in, warehouse, finance and admin.

Signing in with a staff bearer token (from `reverso token create`) opens a console session: the HttpOnly,
SameSite=Strict cookie holds only its random id, checked again on every request, so signing out or revoking the
token ends it at once. Every change goes through
the JSON API's handlers in api.routers.returns called directly, so the workflow validates it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, select

from api.auth import Staff, close_console_session, open_console_session
from api.deps import AppSettings, DbSession, TemporalClient
from api.i18n import choose_lang, translator
from api.label_files import Direction, Format, Size, label_response, label_row
from api.pages import Pages, first, first_error, problem, secure, sign_in_seen, whole_number
from api.reads import console_staff_of, visible_state
from api.routers.logistics import close_receiving
from api.routers.returns import (
    InspectionIn,
    RejectIn,
    ReviewIn,
    approve_return,
    inspect_return,
    reject_return,
    review_refund,
    workflow_url,
)
from api.views import return_view
from db.models import ReturnRow
from db.policy_store import current_policy, policy_version
from db.queries import list_returns, return_by_tracking
from domain.models import FINAL_STATUSES, MAX_QUANTITY, Condition, InspectionLine, ReturnState
from domain.money import CURRENCY_EXPONENTS, format_amount
from domain.policy import settle
from domain.text import Note, RequiredNote, ReturnId, Search, shown

router = APIRouter(prefix="/staff", include_in_schema=False)

SESSION_COOKIE = "staff_session"
PAGES = Pages("staff", samesite="strict", no_store=True)
form_of = PAGES.form_of
HOMES = {"warehouse": "/staff/warehouse", "finance": "/staff/finance", "admin": "/staff/returns"}
CONSOLE_ROLES = tuple(HOMES)
STATUSES = ("pending_approval", "awaiting_shipment", "in_transit", "received", "pending_refund_review",
            "completed", "rejected", "cancelled", "expired")  # fmt: skip
CONDITIONS: tuple[Condition, ...] = ("new", "opened", "damaged")
PAGE_SIZE = 20
LINE_ERROR = re.compile(r"^lines\[(\d+)\]\.(\w+): (.*)$")


# --- plumbing --------------------------------------------------------------------------------------


def render(
    request: Request, name: str, context: dict[str, Any], who: Staff | None = None, status_code: int = 200
) -> HTMLResponse:
    return PAGES.render(request, name, {"who": who, "statuses": STATUSES, **context}, status_code)


async def staff_of(request: Request) -> Staff | None:
    session_id = request.cookies.get(SESSION_COOKIE, "")
    who = await console_staff_of(request.app.state.settings, session_id) if 0 < len(session_id) < 200 else None
    who = who if who is not None and who.role in CONSOLE_ROLES else None
    sign_in_seen(request, who)
    return who


async def gate(request: Request, *roles: str) -> Staff | Response:
    """The signed-in staff member when their role may see this page (admin may see all); else a response."""
    who = await staff_of(request)
    if who is None:
        return RedirectResponse("/staff/login", status_code=303)
    if roles and who.role not in roles and who.role != "admin":
        return render(request, "staff/forbidden.html", {}, who, status_code=403)
    return who


def not_found(request: Request, who: Staff) -> HTMLResponse:
    return render(request, "staff/not_found.html", {}, who, status_code=404)


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


# --- sign in and out -------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    who = await staff_of(request)
    return RedirectResponse(HOMES[who.role] if who else "/staff/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> HTMLResponse:
    return render(request, "staff/login.html", {"error": False})


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, db: DbSession, settings: AppSettings) -> Response:
    form = await form_of(request)
    token = first(form, "token")[:200]
    opened = await open_console_session(db, token, CONSOLE_ROLES, settings.staff_session_hours) if token else None
    if opened is None:
        return render(request, "staff/login.html", {"error": True}, status_code=401)
    await db.commit()
    who, session_id = opened
    response = RedirectResponse(HOMES[who.role], status_code=303)
    response.set_cookie(SESSION_COOKIE, session_id, max_age=settings.staff_session_hours * 3600, httponly=True,
                        samesite="strict", secure=secure(request), path="/staff")  # fmt: skip
    return response


@router.post("/logout", response_class=HTMLResponse)
async def logout(request: Request, db: DbSession) -> Response:
    await form_of(request)
    if session_id := request.cookies.get(SESSION_COOKIE):
        await close_console_session(db, session_id)
        await db.commit()
    response = RedirectResponse("/staff/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/staff", httponly=True, samesite="strict", secure=secure(request))
    return response


# --- warehouse -------------------------------------------------------------------------------------


@router.get("/warehouse", response_class=HTMLResponse)
async def warehouse(request: Request, db: DbSession, code: str = "") -> Response:
    who = await gate(request, "warehouse")
    if isinstance(who, Response):
        return who
    code = code.strip()[:254]
    if problem(code, Search):  # a scanner's stray control character: no parcel or return has it
        return render(request, "staff/warehouse.html", {"queue": [], "code": shown(code), "unknown": True}, who, 422)
    if code:
        rid = await return_by_tracking(db, code.upper()) or await return_by_tracking(db, code)
        if rid is None and await db.get(ReturnRow, code.upper()) is not None:
            rid = code.upper()
        if rid is not None:
            return RedirectResponse(f"/staff/returns/{rid}", status_code=303)
    queue = await db.scalars(select(ReturnRow).where(ReturnRow.status == "received").order_by(ReturnRow.updated_at))
    return render(request, "staff/warehouse.html", {"queue": list(queue), "code": code, "unknown": bool(code)}, who,
                  status_code=404 if code else 200)  # fmt: skip


# --- finance ---------------------------------------------------------------------------------------


async def review_facts(row: ReturnRow, settings: AppSettings, db: DbSession) -> dict[str, Any]:
    state = ReturnState.model_validate(row.state)
    # Settled under the policy version the return was decided under, as the workflow does.
    stored = await policy_version(db, state.policy_version) if state.policy_version else None
    policy = stored.policy if stored else (await current_policy(db, settings.policy)).policy
    refundable = sum(x.refund for x in settle(state.lines, policy))
    why = [
        e.message.removeprefix("finance review: ") for e in state.timeline if e.message.startswith("finance review:")
    ]
    return {"refundable": refundable, "why": why[-1:] or [], "currency": state.currency}


async def history(db: DbSession, email: str) -> list[tuple[str, int, int]]:
    """(currency, count, value) of this e-mail's returns created in the last 12 months."""
    since = datetime.now(UTC) - timedelta(days=365)
    rows = await db.execute(
        select(ReturnRow.currency, func.count(), func.coalesce(func.sum(ReturnRow.refund_total + ReturnRow.store_credit_total), 0))
        .where(ReturnRow.email == email, ReturnRow.created_at >= since)
        .group_by(ReturnRow.currency)
    )  # fmt: skip
    return [(c, int(n), int(v)) for c, n, v in rows]


@router.get("/finance", response_class=HTMLResponse)
async def finance(request: Request, db: DbSession, settings: AppSettings) -> Response:
    who = await gate(request, "finance")
    if isinstance(who, Response):
        return who
    rows = await db.scalars(
        select(ReturnRow).where(ReturnRow.status == "pending_refund_review").order_by(ReturnRow.updated_at)
    )
    queue = [{"row": row, "r": return_view(row.state, staff=True), **await review_facts(row, settings, db),
              "history": await history(db, row.email)} for row in rows]  # fmt: skip
    return render(request, "staff/finance.html", {"queue": queue}, who)


# --- admin list ------------------------------------------------------------------------------------


@router.get("/returns", response_class=HTMLResponse)
async def returns_list(
    request: Request, db: DbSession, settings: AppSettings, status: str = "", q: str = "", page: int = 1
) -> Response:
    who = await gate(request)
    if isinstance(who, Response):
        return who
    status = status if status in STATUSES else ""
    q, page = q.strip()[:254], max(1, min(page, 10**5))
    refused = problem(q, Search) is not None
    rows: list[ReturnRow]
    if refused:  # nothing can match it, and PostgreSQL would refuse the query: an empty list, shown as typed
        q, total, rows = shown(q), 0, []
    else:
        total, rows = await list_returns(db, status or None, q or None, PAGE_SIZE, (page - 1) * PAGE_SIZE)

    def link(p: int) -> str:
        return "/staff/returns?" + urlencode({k: v for k, v in {"status": status, "q": q, "page": p}.items() if v})

    here = link(page)
    items = [{"row": r, "url": workflow_url(settings, r.id)} for r in rows]
    return render(request, "staff/returns.html", {
        "items": items, "total": total, "status": status, "q": q, "page": page, "here": here,
        "prev": link(page - 1) if page > 1 else None,
        "next": link(page + 1) if page * PAGE_SIZE < total else None,
    }, who, status_code=422 if refused else 200)  # fmt: skip


def _back(form: dict[str, list[str]], rid: str) -> str:
    back = first(form, "back")
    return back if back.startswith("/staff/") and "//" not in back else f"/staff/returns/{rid}"


@router.post("/returns/{rid}/approve", response_class=HTMLResponse)
async def approve(rid: ReturnId, request: Request, db: DbSession, temporal: TemporalClient) -> Response:
    form = await form_of(request)
    who = await gate(request, "admin")
    if isinstance(who, Response):
        return who
    try:
        await approve_return(rid, who, db, temporal)
    except HTTPException as e:
        if e.status_code == 404:
            return not_found(request, who)
        if e.status_code not in (409, 422):
            raise
        return await detail(rid, request, db, who, {"action": str(e.detail)}, 409)
    return RedirectResponse(_back(form, rid), status_code=303)


@router.post("/returns/{rid}/reject", response_class=HTMLResponse)
async def reject(rid: ReturnId, request: Request, db: DbSession, temporal: TemporalClient) -> Response:
    form = await form_of(request)
    who = await gate(request, "admin")
    if isinstance(who, Response):
        return who
    reason = first(form, "reason")
    if not reason:
        return await detail(rid, request, db, who, {"reason": translator(choose_lang(request))("staff.required")}, 422)
    if why := problem(reason, RequiredNote):
        return await detail(rid, request, db, who, {"reason": why}, 422)
    try:
        await reject_return(rid, RejectIn(reason=reason), who, db, temporal)
    except HTTPException as e:
        if e.status_code == 404:
            return not_found(request, who)
        if e.status_code not in (409, 422):
            raise
        return await detail(rid, request, db, who, {"action": str(e.detail)}, 409)
    return RedirectResponse(_back(form, rid), status_code=303)


# --- one return: details, inspection, refund review ------------------------------------------------


async def detail(
    rid: str, request: Request, db: DbSession, who: Staff, errors: dict[str, str] | None = None,
    status_code: int = 200, sent: dict[str, str] | None = None,
) -> HTMLResponse:  # fmt: skip
    row = await db.get(ReturnRow, rid)
    if row is None:
        return not_found(request, who)
    settings = request.app.state.settings
    r = return_view(row.state, workflow_url(settings, rid), staff=True)
    inspectable = r.status == "received" and all(x.accepted_quantity is None for x in r.lines)
    can = {"inspect": inspectable and who.role in ("warehouse", "admin"),
           "review": r.status == "pending_refund_review" and who.role in ("finance", "admin"),
           "decide": r.status == "pending_approval" and who.role == "admin"}  # fmt: skip
    ctx: dict[str, Any] = {"r": r, "row": row, "can": can, "errors": errors or {}, "sent": sent or {},
                           "final": r.status in FINAL_STATUSES, "conditions": CONDITIONS}  # fmt: skip
    if can["review"] or r.status == "pending_refund_review":
        ctx.update(await review_facts(row, settings, db), history=await history(db, row.email))
        ctx["refundable_major"] = major(ctx["refundable"], r.amounts.currency)
    return render(request, "staff/return.html", ctx, who, status_code=status_code)


@router.get("/returns/{rid}", response_class=HTMLResponse)
async def return_page(rid: ReturnId, request: Request, db: DbSession) -> Response:
    who = await gate(request)
    if isinstance(who, Response):
        return who
    return await detail(rid, request, db, who)


@router.get("/returns/{rid}/status", response_class=HTMLResponse)
async def return_status(rid: ReturnId, request: Request, seen: str = "") -> Response:
    who = await gate(request)
    if isinstance(who, Response):
        return who
    state = await visible_state(request.app.state.settings, rid, who)
    if state is None:
        return not_found(request, who)
    r = return_view(state, staff=True)
    page = render(request, "staff/_status.html", {"r": r, "final": r.status in FINAL_STATUSES}, who)
    if seen and seen != r.status:
        page.headers["HX-Refresh"] = "true"  # the actions on the page belong to the old status: reload it
    return page


@router.get("/returns/{rid}/label.pdf", response_class=Response)
async def label_pdf(
    rid: ReturnId, request: Request, db: DbSession, size: Size = "4x6", direction: Direction = "inbound",
    parcel: Annotated[int, Query(ge=1, le=99)] = 1,
) -> Response:  # fmt: skip
    return await _label_file(rid, request, db, "a4" if size == "a4" else "pdf", direction, parcel)


@router.get("/returns/{rid}/label.zpl", response_class=Response)
async def label_zpl(
    rid: ReturnId, request: Request, db: DbSession, direction: Direction = "inbound",
    parcel: Annotated[int, Query(ge=1, le=99)] = 1,
) -> Response:  # fmt: skip
    return await _label_file(rid, request, db, "zpl", direction, parcel)


async def _label_file(
    rid: str, request: Request, db: DbSession, fmt: Format, direction: Direction, parcel: int
) -> Response:
    who = await gate(request)
    if isinstance(who, Response):
        return who
    try:
        return await label_response(await label_row(db, rid, direction, parcel), fmt)
    except HTTPException as e:  # staff read the reason: which format cannot be made, and why
        return render(request, "staff/not_found.html", {"reason": e.detail}, who, status_code=404)


def inspection_errors(message: str, t: Any) -> dict[str, str]:
    """The workflow's "lines[i].field: why" messages keyed "l{i}-field"; anything else under "action"."""
    errors: dict[str, str] = {}
    for part in message.split("; "):
        m = LINE_ERROR.match(part)
        if m and m.group(2) == "accepted_quantity":
            key = f"l{m.group(1)}-accepted"
            errors[key] = errors.get(key, "") + m.group(3)
        else:
            errors["action"] = (errors.get("action", "") + "; " + part).lstrip("; ")
    return errors


@router.post("/returns/{rid}/inspection", response_class=HTMLResponse)
async def inspect(rid: ReturnId, request: Request, db: DbSession, temporal: TemporalClient) -> Response:
    form = await form_of(request)
    who = await gate(request, "warehouse")
    if isinstance(who, Response):
        return who
    row = await db.get(ReturnRow, rid)
    if row is None:
        return not_found(request, who)
    t = translator(choose_lang(request))
    sent = {k: v[0] for k, v in form.items() if k != "csrf"}
    lines, errors = [], {}
    for i, line in enumerate(ReturnState.model_validate(row.state).lines):
        qty, given = first(form, f"l{i}-accepted"), first(form, f"l{i}-condition")
        condition = next((c for c in CONDITIONS if c == given), None)  # the form's string as a Condition
        accepted, note = whole_number(qty, MAX_QUANTITY), first(form, f"l{i}-note")
        if accepted is None:
            errors[f"l{i}-accepted"] = t("staff.whole_number")
        if condition is None:
            errors[f"l{i}-condition"] = t("staff.required")
        if why := problem(note, Note):  # the form shows no error beside a note: named in the page's alert
            errors["action"] = f"lines[{i}].note: {why}"
        if errors or accepted is None or condition is None:
            continue
        try:
            lines.append(InspectionLine(line_id=line.decision.line_id, accepted_quantity=accepted,
                                        condition=condition,
                                        restock=first(form, f"l{i}-restock") == "on", note=note))  # fmt: skip
        except ValidationError as e:
            errors[f"l{i}-accepted"] = first_error(e)
    if not errors:
        try:
            await inspect_return(rid, InspectionIn(lines=lines), who, db, temporal)
            return RedirectResponse(f"/staff/returns/{rid}", status_code=303)
        except HTTPException as e:
            if e.status_code not in (409, 422):
                raise
            errors = inspection_errors(str(e.detail), t)
    return await detail(rid, request, db, who, errors, 422, sent)


@router.post("/returns/{rid}/review", response_class=HTMLResponse)
async def review(rid: ReturnId, request: Request, db: DbSession, temporal: TemporalClient) -> Response:
    form = await form_of(request)
    who = await gate(request, "finance")
    if isinstance(who, Response):
        return who
    row = await db.get(ReturnRow, rid)
    if row is None:
        return not_found(request, who)
    t = translator(choose_lang(request))
    sent = {k: v[0] for k, v in form.items() if k != "csrf"}
    approve_it, note = first(form, "decision") == "approve", first(form, "note")
    amount = to_minor(first(form, "amount"), row.currency) if first(form, "amount") else None
    errors = {}
    if approve_it and first(form, "amount") and amount is None:
        errors["amount"] = t("staff.bad_amount")
    if not approve_it and not note:
        errors["note"] = t("staff.deny_needs_note")
    elif why := problem(note, Note):
        errors["note"] = why
    if not errors:
        try:
            body = ReviewIn(approve=approve_it, amount=amount if approve_it else None, note=note)
            await review_refund(rid, body, who, db, temporal)
            return RedirectResponse(f"/staff/returns/{rid}", status_code=303)
        except HTTPException as e:
            if e.status_code not in (409, 422):
                raise
            detail_text = str(e.detail)
            if detail_text.startswith("amount:"):
                refundable = (await review_facts(row, request.app.state.settings, db))["refundable"]
                errors["amount"] = t("staff.amount_too_high", max=format_amount(refundable, row.currency))
            else:
                errors["action"] = detail_text
    return await detail(rid, request, db, who, errors, 422, sent)


# --- parcels: the Exceptions queue and closing receiving of a split return --------------------------


@router.get("/exceptions", response_class=HTMLResponse)
async def exceptions(request: Request, db: DbSession, settings: AppSettings, page: int = 1) -> Response:
    who = await gate(request)
    if isinstance(who, Response):
        return who
    page = max(1, min(page, 10**5))
    total, rows = await list_returns(db, None, None, PAGE_SIZE, (page - 1) * PAGE_SIZE, attention=True)
    items = [{"row": r, "r": return_view(r.state, staff=True), "url": workflow_url(settings, r.id)} for r in rows]
    return render(request, "staff/exceptions.html", {
        "items": items, "total": total, "page": page,
        "prev": f"/staff/exceptions?page={page - 1}" if page > 1 else None,
        "next": f"/staff/exceptions?page={page + 1}" if page * PAGE_SIZE < total else None,
    }, who)  # fmt: skip


@router.post("/returns/{rid}/receive", response_class=HTMLResponse)
async def receive(rid: ReturnId, request: Request, db: DbSession, temporal: TemporalClient) -> Response:
    await form_of(request)
    who = await gate(request, "warehouse")
    if isinstance(who, Response):
        return who
    try:
        await close_receiving(rid, who, db, temporal)
    except HTTPException as e:
        if e.status_code == 404:
            return not_found(request, who)
        if e.status_code not in (409, 422):
            raise
        return await detail(rid, request, db, who, {"action": str(e.detail)}, 409)
    return RedirectResponse(f"/staff/returns/{rid}", status_code=303)


def install(app: FastAPI) -> None:
    """Add the staff consoles (static files are mounted by the portal's install)."""
    app.include_router(router)
