"""The warehouse's inspection form (issue 18): each line's accepted quantity, condition and outcome chosen by the
person (nothing preset), and up to 3 photos per line sent with it (multipart); once recorded, the warehouse page
confirms and its scan field waits for the next parcel. Photos are shown to staff at /staff/returns/{id}/photos/{pid}.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api import photos
from api.auth import Staff
from api.deps import DbSession, TemporalClient
from api.i18n import choose_lang, translator
from api.pages import first, first_error, problem, whole_number
from api.routers.staff_pages import detail
from api.services import photos as photo_service
from api.services.errors import ServiceError
from api.services.inspection import InspectionIn
from api.services.inspection import inspect as inspect_return
from api.staff_console import PAGES, StaffPage, not_found, staff_page
from db.models import ReturnRow
from domain.models import MAX_PHOTOS, MAX_QUANTITY, Condition, InspectionLine, Outcome, ReturnState
from domain.text import Note, ReturnId

router = APIRouter(prefix="/staff", include_in_schema=False)

CONDITIONS: tuple[Condition, ...] = ("new", "opened", "damaged")
OUTCOMES: tuple[Outcome, ...] = ("as_described", "damaged", "used", "wrong_item", "empty_box")
LINE_ERROR = re.compile(r"^lines\[(\d+)\]\.(\w+): (.*)$")
FIELDS = {"accepted_quantity": "accepted", "photos": "photos"}  # the workflow's and service's names -> the form's
MAX_FORM = MAX_PHOTOS * photos.MAX_BYTES * 4 + 1024 * 1024  # a few lines' photos; beyond, refused before parsing
warehouse_gate = staff_page("warehouse")


def inspection_errors(message: str, t: Any) -> dict[str, str]:
    """The workflow's "lines[i].field: why" messages keyed "l{i}-field"; anything else under "action"."""
    errors: dict[str, str] = {}
    for part in message.split("; "):
        m = LINE_ERROR.match(part)
        if m and m.group(2) in FIELDS:
            key = f"l{m.group(1)}-{FIELDS[m.group(2)]}"
            errors[key] = errors.get(key, "") + m.group(3)
        else:
            errors["action"] = (errors.get("action", "") + "; " + part).lstrip("; ")
    return errors


async def _multipart_of(request: Request) -> tuple[dict[str, list[str]], dict[str, list[bytes]]]:
    """The form's fields and files (multipart or url-encoded), after the same CSRF check as every staff form."""
    return await PAGES.multipart_of(request, MAX_FORM, 100 * MAX_PHOTOS, photos.MAX_BYTES)


def _choice(options: tuple[str, ...], given: str) -> Any:
    return next((x for x in options if x == given), None)


@router.post("/returns/{rid}/inspection", response_class=HTMLResponse)
async def inspect(rid: ReturnId, request: Request, db: DbSession, temporal: TemporalClient) -> Response:
    form, files = await _multipart_of(request)  # 403 for a missing or wrong CSRF token, signed in or not
    who = await warehouse_gate(request)
    row = await db.get(ReturnRow, rid)
    if row is None:
        return not_found(request, who)
    t = translator(choose_lang(request))
    sent = {k: v[0] for k, v in form.items() if k != "csrf"}
    lines, errors = [], {}
    stored: list[str] = []
    state = ReturnState.model_validate(row.state)
    for i, line in enumerate(state.lines):
        accepted, note = whole_number(first(form, f"l{i}-accepted"), MAX_QUANTITY), first(form, f"l{i}-note")
        condition = _choice(CONDITIONS, first(form, f"l{i}-condition"))
        outcome = _choice(OUTCOMES, first(form, f"l{i}-outcome"))
        if accepted is None:
            errors[f"l{i}-accepted"] = t("staff.whole_number")
        if condition is None:
            errors[f"l{i}-condition"] = t("staff.required")
        if outcome is None:
            errors[f"l{i}-outcome"] = t("staff.required")
        if len(files.get(f"l{i}-photos", [])) > MAX_PHOTOS:
            errors[f"l{i}-photos"] = t("staff.photos.too_many", most=MAX_PHOTOS)
        if why := problem(note, Note):  # the form shows no error beside a note: named in the page's alert
            errors["action"] = f"lines[{i}].note: {why}"
        if errors or accepted is None or condition is None:
            continue
        try:
            lines.append(InspectionLine(line_id=line.decision.line_id, accepted_quantity=accepted,
                                        condition=condition, outcome=outcome,
                                        restock=first(form, f"l{i}-restock") == "on", note=note))  # fmt: skip
        except ValidationError as e:
            errors[f"l{i}-accepted"] = first_error(e)
    if not errors:
        try:
            lines = await _with_photos(db, rid, who, lines, files, stored)
            await inspect_return(db, temporal, rid, who, InspectionIn(lines=lines))
            return RedirectResponse(f"/staff/warehouse?inspected={rid}", status_code=303)
        except ServiceError as e:
            if e.status not in (409, 413, 422):
                raise
            errors = inspection_errors(e.text, t)
            await photos.drop(db, stored)  # the form goes back without them: the person sends them again
            await db.commit()
    return await detail(rid, request, db, who, errors, 422, sent)


async def _with_photos(
    db: DbSession, rid: str, who: Staff, lines: list[InspectionLine], files: dict[str, list[bytes]], stored: list[str]
) -> list[InspectionLine]:
    """Each line with the photos sent for it, kept first (their ids go to `stored`); a refused one names its line."""
    out = []
    for i, line in enumerate(lines):
        ids = []
        for data in files.get(f"l{i}-photos", []):
            try:
                ids.append((await photo_service.upload(db, rid, who, line.line_id, data, f"lines[{i}].photos")).id)
            except ServiceError as e:
                if e.status == 413:  # as the API says it, under the form's field
                    raise ServiceError(422, e.text) from e
                raise
            stored.append(ids[-1])
        out.append(line.model_copy(update={"photos": ids}))
    return out


@router.get("/returns/{rid}/photos/{photo_id}", response_class=Response)
async def photo(rid: ReturnId, photo_id: str, request: Request, who: StaffPage, db: DbSession) -> Response:
    """An inspection photo for the consoles (warehouse, finance, admin)."""
    try:
        return await photo_service.photo_response(db, rid, who, photo_id[:64])
    except ServiceError as e:
        if e.status != 404:
            raise
        return not_found(request, who)
