"""The Exceptions queue's buttons: a person's action on a return that cannot go on by itself, from /staff/exceptions
or the return's page. Each button opens a second step (a <details> form) that asks for the note and confirms;
the same use case as POST /api/v1/returns/{id}/resolve decides (api.services.resolve)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.deps import DbSession, TemporalClient
from api.i18n import choose_lang, translator
from api.pages import first, first_error, templates
from api.routers.staff_pages import detail, not_found
from api.services.errors import ServiceError
from api.services.resolve import ResolveIn, may_take, resolve
from api.staff_console import StaffForm, staff_form, to_minor
from db.models import ReturnRow
from domain.text import ReturnId

router = APIRouter(prefix="/staff", include_in_schema=False)
# Any console role may post; which action is whose is the use case's check (api.services.resolve.ROLES).
StaffFormAny = Annotated[StaffForm, Depends(staff_form())]
templates.env.globals["may_resolve"] = may_take


@router.post("/returns/{rid}/resolve", response_class=HTMLResponse)
async def resolve_page(
    rid: ReturnId, request: Request, sent: StaffFormAny, db: DbSession, temporal: TemporalClient
) -> Response:
    who, form = sent.who, sent.form
    t = translator(choose_lang(request))
    row = await db.get(ReturnRow, rid)
    if row is None:
        return not_found(request, who)
    amount_text = first(form, "amount").strip()
    amount = to_minor(amount_text, row.currency) if amount_text else None
    if amount_text and amount is None:
        return await detail(rid, request, db, who, {"action": t("staff.resolve.bad_amount")}, 422)
    raw = {"action": first(form, "action"), "note": first(form, "note"), "amount": amount,
           "reference": first(form, "reference") or None}  # fmt: skip
    try:
        body = ResolveIn.model_validate(raw)
    except ValidationError as e:
        return await detail(rid, request, db, who, {"action": first_error(e)}, 422)
    if not may_take(who, body.action):
        return await detail(rid, request, db, who, {"action": t("staff.resolve.not_yours")}, 403)
    try:
        await resolve(db, temporal, rid, who, body)
    except ServiceError as e:
        if e.status not in (403, 409, 422):
            raise
        return await detail(rid, request, db, who, {"action": e.text}, e.status)
    back = first(form, "back")
    return RedirectResponse(back if back.startswith("/staff/") and "//" not in back else f"/staff/returns/{rid}",
                            status_code=303)  # fmt: skip
