"""The staff consoles as server-rendered pages (Jinja2 + htmx): sign-in, warehouse, finance and admin.

People sign in with their account's e-mail and password (api.routers.staff_accounts; API tokens open no console):
the HttpOnly, SameSite=Strict cookie holds only the session's random id, checked again on every request, so signing
out or disabling the account ends it at once. An account may have several roles: its pages are those of each. Who may see a page is declared by its dependency (api.staff_console). Every change goes
through the use cases the JSON API runs (api.services), so the workflow validates it.
"""

from __future__ import annotations

from typing import Annotated, Any, get_args

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api import staff_console
from api.auth import Staff, close_console_session
from api.deps import AppSettings, DbSession, TemporalClient
from api.finance_view import review_extras
from api.i18n import choose_lang, translator
from api.label_files import Direction, Format, Size, label_response, label_row
from api.pages import first, problem, secure
from api.pictures import pictures
from api.reads import visible_state
from api.routers.returns import workflow_url
from api.services.errors import ServiceError
from api.services.receive import close_receiving
from api.services.review import ReviewIn, review_facts
from api.services.review import review as review_refund
from api.staff_console import (
    HOMES,
    SESSION_COOKIE,
    FinanceForm,
    FinancePage,
    StaffPage,
    WarehouseForm,
    WarehousePage,
    form_of,
    major,
    not_found,
    render,
    staff_of,
    to_minor,
)
from api.views import return_view
from db.models import ReturnRow
from db.queries import list_returns, return_by_tracking
from db.queues import queue, year_of_returns
from domain.models import FINAL_STATUSES, Condition, Outcome
from domain.money import format_amount
from domain.text import Note, ReturnId, Search, shown
from workflows.contracts import AmountTooLarge

router = APIRouter(prefix="/staff", include_in_schema=False)

CONDITIONS: tuple[Condition, ...] = ("new", "opened", "damaged")
PAGE_SIZE = 20


# --- sign in and out -------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    who = await staff_of(request)
    return RedirectResponse(HOMES[who.role] if who else "/staff/login", status_code=303)


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
async def warehouse(
    request: Request, who: WarehousePage, db: DbSession, code: str = "", inspected: str = ""
) -> Response:
    code = code.strip()[:254]
    # After an inspection (api.routers.staff_inspection): confirmed here, the scan field ready for the next parcel.
    known = inspected and problem(inspected, ReturnId) is None and await db.get(ReturnRow, inspected) is not None
    done = inspected if known else ""
    if problem(code, Search):  # a scanner's stray control character: no parcel or return has it
        return render(request, "staff/warehouse.html", {"queue": [], "code": shown(code), "unknown": True}, who, 422)
    if code:
        rid = await return_by_tracking(db, code.upper()) or await return_by_tracking(db, code)
        if rid is None and await db.get(ReturnRow, code.upper()) is not None:
            rid = code.upper()
        if rid is not None:
            return RedirectResponse(f"/staff/returns/{rid}", status_code=303)
    received = await queue(db, "received")
    return render(request, "staff/warehouse.html", {"queue": received, "code": code, "unknown": bool(code),
                  "inspected": done}, who, status_code=404 if code else 200)  # fmt: skip


# --- finance ---------------------------------------------------------------------------------------


@router.get("/finance", response_class=HTMLResponse)
async def finance(request: Request, who: FinancePage, db: DbSession, settings: AppSettings) -> Response:
    rows = await queue(db, "pending_refund_review")
    held = [{"row": row, "r": return_view(row.state, staff=True, lang=choose_lang(request)), **await review_facts(db, row, settings.policy),
             "history": await year_of_returns(db, row.email)} for row in rows]  # fmt: skip
    for item in held:  # issue 18: the order, its payment and refunds beside each review
        item.update(await review_extras(db, settings, item["row"], item["why"], choose_lang(request)))
    shown = await pictures(db, [item["r"] for item in held])  # the whole queue's in two queries
    return render(request, "staff/finance.html", {"queue": held, "pictures": shown}, who)


# --- admin: the list, approving and rejecting are in api.routers.staff_admin ------------------------


def _back(form: dict[str, list[str]], rid: str) -> str:
    back = first(form, "back")
    return back if back.startswith("/staff/") and "//" not in back else f"/staff/returns/{rid}"


async def _refused(e: ServiceError, rid: str, request: Request, db: DbSession, who: Staff) -> Response:
    """A decision the return's status (or a field) does not allow, shown on the return's page; a return that is not
    there is the not-found page; anything else (the engine unreachable) is the API's answer."""
    if e.status == 404:
        return not_found(request, who)
    if e.status not in (409, 422):
        raise e
    return await detail(rid, request, db, who, {"action": e.text}, 409)


# --- one return: details, inspection, refund review ------------------------------------------------


async def detail(
    rid: str, request: Request, db: DbSession, who: Staff, errors: dict[str, str] | None = None,
    status_code: int = 200, sent: dict[str, str] | None = None,
) -> HTMLResponse:  # fmt: skip
    row = await db.get(ReturnRow, rid)
    if row is None:
        return not_found(request, who)
    settings = request.app.state.settings
    r = return_view(row.state, workflow_url(settings, rid), staff=True, lang=choose_lang(request))
    inspectable = r.status == "received" and all(x.accepted_quantity is None for x in r.lines)
    can = {"inspect": inspectable and who.may("warehouse"),
           "review": r.status == "pending_refund_review" and who.may("finance"),
           "decide": r.status == "pending_approval" and who.may("admin")}  # fmt: skip
    ctx: dict[str, Any] = {"r": r, "row": row, "can": can, "errors": errors or {}, "sent": sent or {},
                           "final": r.status in FINAL_STATUSES, "conditions": CONDITIONS,
                           "outcomes": get_args(Outcome), "pictures": await pictures(db, [r])}  # fmt: skip
    if can["review"] or r.status == "pending_refund_review":
        ctx.update(await review_facts(db, row, settings.policy), history=await year_of_returns(db, row.email))
        ctx["refundable_major"] = major(ctx["refundable"], r.amounts.currency)
        ctx.update(await review_extras(db, settings, row, ctx["why"], choose_lang(request)))  # issue 18
    return render(request, "staff/return.html", ctx, who, status_code=status_code)


@router.get("/returns/{rid}", response_class=HTMLResponse)
async def return_page(rid: ReturnId, request: Request, who: StaffPage, db: DbSession) -> Response:
    return await detail(rid, request, db, who)


@router.get("/returns/{rid}/status", response_class=HTMLResponse)
async def return_status(rid: ReturnId, request: Request, who: StaffPage, db: DbSession, seen: str = "") -> Response:
    state = await visible_state(request.app.state.settings, rid, who)
    if state is None:
        return not_found(request, who)
    r = return_view(state, staff=True, lang=choose_lang(request))
    if seen and seen != r.status:
        # The actions on the page belong to the old status: the page's <main> is swapped for the new one. Not a
        # reload: a reload would cancel a form the person has just sent (an inspection whose own change of status
        # this poll saw first), leaving them on this page instead of where the form leads (the next scan).
        page = await detail(rid, request, db, who)
        page.headers.update({"HX-Retarget": "main", "HX-Reswap": "outerHTML", "HX-Reselect": "main"})
        return page
    return render(request, "staff/_status.html", {"r": r, "final": r.status in FINAL_STATUSES}, who)


@router.get("/returns/{rid}/label.pdf", response_class=Response)
async def label_pdf(
    rid: ReturnId, request: Request, who: StaffPage, db: DbSession, size: Size = "4x6", direction: Direction = "inbound",
    parcel: Annotated[int, Query(ge=1, le=99)] = 1,
) -> Response:  # fmt: skip
    return await _label_file(rid, request, who, db, "a4" if size == "a4" else "pdf", direction, parcel)


@router.get("/returns/{rid}/label.zpl", response_class=Response)
async def label_zpl(
    rid: ReturnId, request: Request, who: StaffPage, db: DbSession, direction: Direction = "inbound",
    parcel: Annotated[int, Query(ge=1, le=99)] = 1,
) -> Response:  # fmt: skip
    return await _label_file(rid, request, who, db, "zpl", direction, parcel)


async def _label_file(
    rid: str, request: Request, who: Staff, db: DbSession, fmt: Format, direction: Direction, parcel: int
) -> Response:
    try:
        return await label_response(await label_row(db, rid, direction, parcel), fmt)
    except ServiceError as e:  # staff read the reason: which format cannot be made, and why
        return render(request, "staff/not_found.html", {"reason": e.detail}, who, status_code=404)


@router.post("/returns/{rid}/review", response_class=HTMLResponse)
async def review(
    rid: ReturnId, request: Request, posted: FinanceForm, db: DbSession, temporal: TemporalClient
) -> Response:
    who, form = posted.who, posted.form
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
            await review_refund(db, temporal, rid, who, body)
            return RedirectResponse(f"/staff/returns/{rid}", status_code=303)
        except ServiceError as e:
            if e.status not in (409, 422):
                raise
            if e.code == AmountTooLarge.code:
                refundable = (await review_facts(db, row, request.app.state.settings.policy))["refundable"]
                errors["amount"] = t("staff.amount_too_high", max=format_amount(refundable, row.currency))
            else:
                errors["action"] = e.text
    return await detail(rid, request, db, who, errors, 422, sent)


# --- parcels: the Exceptions queue and closing receiving of a split return --------------------------


@router.get("/exceptions", response_class=HTMLResponse)
async def exceptions(request: Request, who: StaffPage, db: DbSession, settings: AppSettings, page: int = 1) -> Response:
    page = max(1, min(page, 10**5))
    total, rows = await list_returns(db, None, None, PAGE_SIZE, (page - 1) * PAGE_SIZE, attention=True)
    items = [
        {
            "row": r,
            "r": return_view(r.state, staff=True, lang=choose_lang(request)),
            "url": workflow_url(settings, r.id),
        }
        for r in rows
    ]
    return render(request, "staff/exceptions.html", {
        "items": items, "total": total, "page": page,
        "prev": f"/staff/exceptions?page={page - 1}" if page > 1 else None,
        "next": f"/staff/exceptions?page={page + 1}" if page * PAGE_SIZE < total else None,
    }, who)  # fmt: skip


@router.post("/returns/{rid}/receive", response_class=HTMLResponse)
async def receive(
    rid: ReturnId, request: Request, posted: WarehouseForm, db: DbSession, temporal: TemporalClient
) -> Response:
    try:
        await close_receiving(db, temporal, rid, posted.who)
    except ServiceError as e:
        return await _refused(e, rid, request, db, posted.who)
    return RedirectResponse(f"/staff/returns/{rid}", status_code=303)


def install(app: FastAPI) -> None:
    """Add the staff consoles (static files are mounted by the portal's install)."""
    from api.routers import (  # they build on this module's pages
        staff_admin,
        staff_exceptions,
        staff_inspection,
    )

    staff_console.install(app)
    app.include_router(staff_admin.router)  # /staff/returns.csv and the list before /staff/returns/{rid}
    app.include_router(router)
    app.include_router(staff_exceptions.router)
    app.include_router(staff_inspection.router)
