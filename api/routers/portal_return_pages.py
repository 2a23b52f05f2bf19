"""The shopper's own return as pages: its status (polled), its labels and QR code, a new label, cancelling."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.auth import Shopper
from api.deps import DbSession, TemporalClient
from api.formats import date_time
from api.formats import money as format_money
from api.i18n import choose_lang, translator
from api.label_files import UNAVAILABLE, Format, Size, label_response, label_row
from api.pictures import pictures
from api.portal_return import shopper_page
from api.reads import visible_state
from api.routers.portal_pages import CANCELLABLE, form_of, not_found, render, shopper_of, to_find
from api.services.cancel import cancel as cancel_return
from api.services.errors import ServiceError
from api.services.reissue_label import reissue_label
from api.views import return_view
from db.engine import read
from db.queues import inbound_qr
from domain.models import FINAL_STATUSES, ReturnState
from domain.text import ReturnId

router = APIRouter(prefix="/portal", include_in_schema=False)


# --- a return: decision, label, status ------------------------------------------------------------


async def own_return(request: Request, rid: str) -> tuple[Shopper | None, dict[str, Any] | None]:
    """The signed-in shopper, and the return's state if it is theirs."""
    who = await shopper_of(request)
    if who is None:
        return None, None
    return who, await visible_state(request.app.state.settings, rid, who)


async def return_context(request: Request, state: dict[str, Any]) -> dict[str, Any]:
    lang = choose_lang(request)
    # Its timeline in the page's language, amounts as the page writes them.
    view = return_view(state, lang=lang, money=lambda amount, currency: format_money(amount, currency, lang))
    labels = [s for s in view.shipments if s.direction == "inbound" and s.status not in ("voided", "missing")]
    inbound = labels[0] if labels else None
    # Every label voided (unused past its validity) while the return still waits: the shopper gets a new one.
    label_void = (
        view.status == "awaiting_shipment" and not labels and any(s.direction == "inbound" for s in view.shipments)
    )
    return {"r": view, "inbound": inbound, "final": view.status in FINAL_STATUSES,
            "cancellable": view.status in CANCELLABLE, "label_void": label_void,
            "reissuable": view.status == "awaiting_shipment",
            "page": await shopper_page(request.app.state.settings, view, label_void, bool(labels),
                                       choose_lang(request))}  # fmt: skip


async def whole_page_context(request: Request, state: dict[str, Any]) -> dict[str, Any]:
    """The return page's context: the status fragment's, and the items' pictures, which the status poll never shows
    and so never reads."""
    ctx = await return_context(request, state)
    url = request.app.state.settings.resolved_database_url()
    return {**ctx, "pictures": await read(url, lambda conn: pictures(conn, [ctx["r"]]))}


def status_seen(request: Request, ctx: dict[str, Any]) -> str:
    """A digest of the status fragment as its poll answers it: the poll sends it back, and gets 204 while it holds."""
    body = render(request, "portal/_status.html", {**ctx, "seen": "", "oob": True}).body
    return hashlib.sha256(bytes(body)).hexdigest()[:16]


@router.get("/returns/{rid}", response_class=HTMLResponse)
async def return_page(rid: ReturnId, request: Request) -> Response:
    who, state = await own_return(request, rid)
    if who is None:
        return to_find()
    if state is None:
        return not_found(request)
    ctx = await whole_page_context(request, state)
    return render(request, "portal/return.html", {**ctx, "seen": status_seen(request, ctx), "oob": False})


@router.get("/returns/{rid}/status", response_class=HTMLResponse)
async def return_status(rid: ReturnId, request: Request) -> Response:
    who, state = await own_return(request, rid)
    if state is None:
        return not_found(request)
    ctx = await return_context(request, state)
    # Unchanged: htmx swaps nothing on a 204, so the status region changes, and is announced, only when the return does.
    seen = status_seen(request, ctx)
    if request.query_params.get("seen") == seen:
        return Response(status_code=204, headers={"Cache-Control": "no-store"})
    return render(request, "portal/_status.html", {**ctx, "seen": seen, "oob": True})


@router.get("/returns/{rid}/label.pdf", response_class=Response)
async def return_label(
    rid: ReturnId, request: Request, db: DbSession, size: Size = "4x6", parcel: Annotated[int, Query(ge=1, le=99)] = 1
) -> Response:
    return await _label_file(rid, request, db, "a4" if size == "a4" else "pdf", parcel)


@router.get("/returns/{rid}/label.zpl", response_class=Response)
async def return_label_zpl(
    rid: ReturnId, request: Request, db: DbSession, parcel: Annotated[int, Query(ge=1, le=99)] = 1
) -> Response:
    return await _label_file(rid, request, db, "zpl", parcel)


async def _label_file(rid: str, request: Request, db: DbSession, fmt: Format, parcel: int) -> Response:
    who, state = await own_return(request, rid)
    if who is None or state is None:
        return not_found(request)
    try:
        return await label_response(await label_row(db, rid, "inbound", parcel), fmt, "attachment")
    except ServiceError as e:
        unavailable = e.code == UNAVAILABLE  # the label exists, only not in this format
        return render(request, "portal/not_found.html", {"label_unavailable": unavailable}, status_code=404)


@router.get("/returns/{rid}/qr.svg", response_class=Response)
async def return_qr(rid: ReturnId, request: Request, db: DbSession) -> Response:
    who, state = await own_return(request, rid)
    if who is None or state is None:
        return not_found(request)
    svg = await inbound_qr(db, rid)
    if svg is None:
        return not_found(request)
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=3600"})


@router.post("/returns/{rid}/label", response_class=HTMLResponse)
async def new_label(rid: ReturnId, request: Request, db: DbSession, temporal: TemporalClient) -> Response:
    """The shopper asks for a new label (the old one was lost or has expired); the same rules as the API. Past the
    policy's new labels per day, the return page says when another can be asked for."""
    try:
        return await _shopper_action(rid, request, db, temporal, reissue_label)
    except ServiceError as e:
        if e.status != 429:
            raise
        wait = e.headers.get("Retry-After", "60")
    who, state = await own_return(request, rid)
    if who is None or state is None:
        return not_found(request)
    when = datetime.now(UTC) + timedelta(seconds=int(wait))
    lang = choose_lang(request)
    text = translator(lang)("return.label_wait", when=date_time(when, lang) + " UTC")
    context = {**await whole_page_context(request, state), "label_wait": text}
    page = render(request, "portal/return.html", context, status_code=429)
    page.headers["Retry-After"] = wait
    return page


@router.post("/returns/{rid}/cancel", response_class=HTMLResponse)
async def cancel(rid: ReturnId, request: Request, db: DbSession, temporal: TemporalClient) -> Response:
    return await _shopper_action(rid, request, db, temporal, cancel_return)


async def _shopper_action(
    rid: str,
    request: Request,
    db: DbSession,
    temporal: TemporalClient,
    action: Callable[[AsyncSession, Client, str, Shopper], Awaitable[ReturnState]],
) -> Response:
    """A form button on the shopper's own return, through the API's handler; a refusal shows the return as it is."""
    await form_of(request)
    who, state = await own_return(request, rid)
    if who is None:
        return to_find()
    if state is None:
        return not_found(request)
    try:
        await action(db, temporal, rid, who)
    except ServiceError as e:
        if e.status not in (409, 422):
            raise
    return RedirectResponse(f"/portal/returns/{rid}", status_code=303)
