"""The admin console's list of returns: a sortable, filtered, paged table, its CSV export, approving several returns
at once (after a confirmation step), and approving or rejecting one return with the answer where it was asked.

A decision sent from the list and refused (a reason missing, the return no longer pending) is shown in the list,
on the return's row with its section open; one sent from the return's page, on that page (api.routers.staff_pages).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.auth import Staff
from api.deps import DbSession, TemporalClient
from api.i18n import choose_lang, translator
from api.pages import first, problem
from api.returns_csv import MOST_ROWS, returns_csv
from api.routers.returns import workflow_url
from api.routers.staff_pages import _back, detail
from api.services.approve import approve as approve_return
from api.services.bulk_approve import MOST_AT_ONCE, BulkApproveIn, bulk_approve
from api.services.errors import ServiceError
from api.services.reject import RejectIn
from api.services.reject import reject as reject_return
from api.staff_console import STATUSES, AdminForm, StaffPage, not_found, render
from db.models import ReturnRow
from db.queries import SORT_KEYS, list_returns
from domain.text import RequiredNote, ReturnId, Search, shown

router = APIRouter(prefix="/staff", include_in_schema=False)

PAGE_SIZE = 20
LIST = "/staff/returns"


@dataclass(frozen=True)
class ListQuery:
    """The list's query as the page keeps it (a value it does not know is dropped, as a browser's filter would)."""

    status: str = ""
    q: str = ""
    attention: bool = False
    sort: str = "-updated_at"
    page: int = 1

    @classmethod
    def of(cls, params: dict[str, str]) -> ListQuery:
        page = params.get("page", "")
        return cls(
            status=params.get("status", "") if params.get("status") in STATUSES else "",
            q=params.get("q", "").strip()[:254],
            attention=params.get("attention") == "true",
            sort=params.get("sort", "") if params.get("sort") in SORT_KEYS else "-updated_at",
            page=max(1, min(int(page), 10**5)) if page.isascii() and page.isdigit() and len(page) < 7 else 1,
        )

    def params(self, **changes: Any) -> str:
        values = asdict(replace(self, **changes))
        values["attention"] = "true" if values["attention"] else ""
        values["sort"] = "" if values["sort"] == "-updated_at" else values["sort"]
        values["page"] = "" if values["page"] == 1 else values["page"]
        return urlencode({k: v for k, v in values.items() if v})

    def link(self, **changes: Any) -> str:
        query = self.params(**changes)
        return f"{LIST}?{query}" if query else LIST

    def sort_link(self, key: str) -> str:
        """The column's header link: by this column, or the other way round when the list is sorted by it."""
        return self.link(sort=key.removeprefix("-") if self.sort == key else key, page=1)


def back_query(back: str) -> ListQuery | None:
    """The list's query when a decision came from the list (its `back`), else None (it came from a return's page)."""
    try:
        url = urlsplit(back)
    except ValueError:  # not a URL at all ("http://[" and the like): not the list's
        return None
    return ListQuery.of(dict(parse_qsl(url.query))) if url.path == LIST else None


async def list_page(
    request: Request, who: Staff, db: DbSession, query: ListQuery, errors: dict[str, dict[str, str]] | None = None,
    notice: str = "", status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    refused = problem(query.q, Search) is not None
    rows: list[ReturnRow]
    if refused:  # nothing can match it, and PostgreSQL would refuse the query: an empty list, shown as typed
        query, total, rows = replace(query, q=shown(query.q)), 0, []
    else:
        total, rows = await list_returns(db, query.status or None, query.q or None, PAGE_SIZE,
                                         (query.page - 1) * PAGE_SIZE, attention=query.attention or None,
                                         sort=query.sort)  # fmt: skip
    settings = request.app.state.settings
    pages = max(1, math.ceil(total / PAGE_SIZE))
    return render(request, "staff/returns.html", {
        "items": [{"row": r, "url": workflow_url(settings, r.id)} for r in rows], "total": total, "pages": pages,
        "query": query, "here": query.link(), "errors": errors or {}, "notice": notice, "sorts": SORT_KEYS,
        "csv": "/staff/returns.csv" + (f"?{query.params(page=1)}" if query.params(page=1) else ""),
        "prev": query.link(page=query.page - 1) if query.page > 1 else None,
        "next": query.link(page=query.page + 1) if query.page * PAGE_SIZE < total else None,
        "pending": any(r.status == "pending_approval" for r in rows),
        "decidable": {r.id for r in rows if r.status == "pending_approval" and who.may("admin")},
    }, who, status_code=422 if refused else status_code)  # fmt: skip


@router.get("/returns", response_class=HTMLResponse)
async def returns_list(request: Request, who: StaffPage, db: DbSession) -> Response:
    return await list_page(request, who, db, ListQuery.of(dict(request.query_params)))


@router.get("/returns.csv", response_class=Response)
async def returns_export(request: Request, who: StaffPage, db: DbSession) -> Response:
    """The Export CSV button: the list's query, every page of it (the API's GET /api/v1/returns.csv for a session)."""
    query = ListQuery.of(dict(request.query_params))
    if problem(query.q, Search) is not None:  # nothing can match it (as the list shows): the header row alone
        return await returns_csv(db, None, None, None, query.sort, 0, 0)
    return await returns_csv(db, query.status or None, query.q or None, query.attention or None, query.sort,
                             MOST_ROWS, 0)  # fmt: skip


@router.post("/returns/bulk-approve", response_class=HTMLResponse)
async def bulk(request: Request, sent: AdminForm, db: DbSession, temporal: TemporalClient) -> Response:
    """First the list of what will be approved and a button to confirm (`confirm=yes`); then each result."""
    who, form = sent.who, sent.form
    t = translator(choose_lang(request))
    query = back_query(first(form, "back")) or ListQuery()
    ids = [x.strip() for x in form.get("id", []) if x.strip()]
    if len(ids) > MOST_AT_ONCE:
        return await list_page(request, who, db, query, notice=t("staff.bulk.too_many", most=MOST_AT_ONCE),
                               status_code=422)  # fmt: skip
    try:
        chosen = BulkApproveIn(ids=ids).ids
    except ValidationError:
        return await list_page(request, who, db, query, notice=t("staff.bulk.none"), status_code=422)
    context = {"back": query.link(), "ids": chosen}
    if first(form, "confirm") != "yes":
        rows = {rid: await db.get(ReturnRow, rid) for rid in chosen}
        return render(request, "staff/bulk_approve.html", {**context, "rows": rows, "results": None}, who)
    results = await bulk_approve(db, temporal, chosen, who)
    approved = sum(r.outcome == "approved" for r in results)
    return render(request, "staff/bulk_approve.html", {**context, "results": results, "approved": approved}, who)


async def _refused_here(
    e: ServiceError, rid: str, request: Request, db: DbSession, who: Staff, back: str, key: str
) -> Response:
    """A decision refused: shown beside the form it came from (the list's row or the return's page)."""
    if e.status == 404:
        return not_found(request, who)
    if e.status not in (409, 422):
        raise e
    return await _answer(request, db, who, rid, back, {key: e.text}, 409)


async def _answer(
    request: Request, db: DbSession, who: Staff, rid: str, back: str, errors: dict[str, str], status_code: int
) -> Response:
    query = back_query(back)
    if query is not None:
        return await list_page(request, who, db, query, {rid: errors}, status_code=status_code)
    return await detail(rid, request, db, who, errors, status_code)


@router.post("/returns/{rid}/approve", response_class=HTMLResponse)
async def approve(
    rid: ReturnId, request: Request, sent: AdminForm, db: DbSession, temporal: TemporalClient
) -> Response:
    back = _back(sent.form, rid)
    try:
        await approve_return(db, temporal, rid, sent.who)
    except ServiceError as e:
        return await _refused_here(e, rid, request, db, sent.who, back, "approve")
    return RedirectResponse(back, status_code=303)


@router.post("/returns/{rid}/reject", response_class=HTMLResponse)
async def reject(rid: ReturnId, request: Request, sent: AdminForm, db: DbSession, temporal: TemporalClient) -> Response:
    who, reason, back = sent.who, first(sent.form, "reason"), _back(sent.form, rid)
    why = translator(choose_lang(request))("staff.required") if not reason else problem(reason, RequiredNote)
    if why:
        return await _answer(request, db, who, rid, back, {"reason": why}, 422)
    try:
        await reject_return(db, temporal, rid, who, RejectIn(reason=reason))
    except ServiceError as e:
        return await _refused_here(e, rid, request, db, who, back, "reason")
    return RedirectResponse(back, status_code=303)
