"""The shopper portal as server-rendered pages (Jinja2 + htmx): find the order, choose, preview, follow.

The pages reuse the JSON API's logic: the session from api.auth, eligibility from domain.policy, and the use
cases the JSON API runs (api.services: preview, file, cancel, reissue label).
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError

from api import portal_access, portal_form
from api.auth import Shopper, close_portal_session
from api.deps import AppSettings, DbSession, TemporalClient
from api.i18n import LANG_TAGS, choose_lang, translator
from api.pages import Pages, first, first_error, secure, sign_in_seen, whole_number
from api.photos import MAX_BYTES
from api.reads import principal_of
from api.reason_words import reason_text
from api.services import shopper_photos
from api.services.errors import ServiceError
from api.services.file import file_return
from api.services.preview import preview as decision_preview
from api.submit_keys import KEY_PATTERN
from db.policy_store import current_policy
from db.queries import get_order
from db.queues import order_returns
from domain.codes import Coded
from domain.models import (
    MAX_PARCELS,
    MAX_PHOTOS,
    MAX_QUANTITY,
    Order,
    ReturnLineRequest,
    ReturnRequest,
)
from domain.reason_codes import EXCHANGE_CODES
from domain.text import unstorable
from workflows.contracts import AlreadySubmitted

router = APIRouter(prefix="/portal", include_in_schema=False)

SESSION_COOKIE = "portal_session"
PAGES = Pages("portal", samesite="lax")
render = PAGES.render
form_of = PAGES.form_of
RESOLUTIONS = ("refund", "store_credit", "exchange")
CANCELLABLE = ("pending_approval", "awaiting_shipment")


# --- plumbing --------------------------------------------------------------------------------------


async def shopper_of(request: Request) -> Shopper | None:
    token = request.cookies.get(SESSION_COOKIE)
    who = await principal_of(request.app.state.settings, token) if token and len(token) < 200 else None
    shopper = who if isinstance(who, Shopper) else None
    sign_in_seen(request, shopper)
    return shopper


def to_find() -> RedirectResponse:
    return RedirectResponse("/portal", status_code=303)


def not_found(request: Request) -> HTMLResponse:
    return render(request, "portal/not_found.html", {}, status_code=404)


# --- find the order --------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
async def find_page(request: Request) -> HTMLResponse:
    return render(request, "portal/find.html", {"number": "", "email": "", "error": False})


@router.post("", response_class=HTMLResponse)
async def find_order(request: Request, db: DbSession, settings: AppSettings) -> Response:
    form = await form_of(request)
    number, addr = first(form, "order_number")[:200], first(form, "email")[:254]
    if unstorable(number) or unstorable(addr):  # no order has it, and the failure could not even be counted
        return render(request, "portal/find.html", {"number": "", "email": "", "error": True}, 422)
    client = request.client.host if request.client else "unknown"
    try:
        # The same checks and limits as POST /api/v1/portal/session.
        token, _ = await portal_access.open_session(db, settings, number, addr, client)
    except ServiceError as e:
        # A locked-out shopper is told how long, and that the right details will not work before then either.
        locked = -(-int(e.headers["Retry-After"]) // 60) if e.status == 429 else 0
        context = {"number": number, "email": addr, "error": not locked, "locked_minutes": locked}
        page = render(request, "portal/find.html", context, e.status)
        page.headers.update(e.headers)
        return page
    response = RedirectResponse("/portal/order", status_code=303)
    response.set_cookie(SESSION_COOKIE, token, max_age=settings.portal_session_hours * 3600, httponly=True,
                        samesite="lax", secure=secure(request), path="/portal")  # fmt: skip
    return response


@router.post("/logout", response_class=HTMLResponse)
async def sign_out(request: Request, db: DbSession) -> Response:
    """The session ends on the server, so the cookie's value is worthless to whoever copied it."""
    await form_of(request)
    if token := request.cookies.get(SESSION_COOKIE):
        await close_portal_session(db, token)
        await db.commit()
    response = to_find()
    response.delete_cookie(SESSION_COOKIE, path="/portal", httponly=True, samesite="lax", secure=secure(request))
    return response


# --- the order, choices and preview ---------------------------------------------------------------


async def order_context(
    db: DbSession, order: Order, settings: AppSettings, form: dict[str, list[str]], errors: dict[str, str] | None = None
) -> dict[str, Any]:  # fmt: skip
    """The order page's form as the shopper has filled it so far (api/portal_form.py)."""
    policy = (await current_policy(db, settings.policy)).policy
    bps = policy.store_credit_bonus_bps
    # A new key per rendered form: sending it twice (a double click, a reload) files one return.
    steps = await portal_form.steps(db, settings, order, policy, form)
    return {"order": order, "returns": await order_returns(db, order.number), "s": steps, "resolutions": RESOLUTIONS,
            "window_days": policy.window_days, "max_parcels": MAX_PARCELS, "errors": errors or {},
            "form": {k: v[0] for k, v in form.items() if v and k not in ("csrf", "submission")}, "message": None,
            "bonus_bps": bps, "bonus_percent": f"{bps / 100:g}", "variant": portal_form.option_words,
            "exchange_codes": EXCHANGE_CODES, "submission": secrets.token_urlsafe(16)}  # fmt: skip


def chosen_lines(form: dict[str, list[str]], order: Order) -> tuple[list[ReturnLineRequest], dict[str, str]]:
    """The lines with a quantity above 0, and per-line problems (keyed by line id) with what was sent."""
    chosen, errors = [], {}
    for i, line in enumerate(order.lines):
        qty = first(form, f"l{i}-qty")
        if not qty or qty == "0":
            continue
        quantity = whole_number(qty, MAX_QUANTITY)  # above what can be returned: the policy's refusal, below
        if quantity is None:
            errors[line.id] = "quantity: enter a whole number"
            continue
        exchange = first(form, f"l{i}-exchange") or None
        resolution = first(form, f"l{i}-resolution")
        try:  # validated from the form's strings: resolution and difference_to are checked against their Literals
            chosen.append(ReturnLineRequest.model_validate({
                "line_id": line.id, "quantity": quantity, "reason": first(form, f"l{i}-reason"),
                "resolution": resolution, "exchange_sku": exchange if resolution == "exchange" else None,
                "difference_to": first(form, f"l{i}-difference") or "refund"}))  # fmt: skip
        except ValidationError as e:
            errors[line.id] = "exchange_sku" if "exchange_sku is required" in str(e) else first_error(e)
    return chosen, errors


def line_errors(errors: dict[str, str], lang: str) -> dict[str, str]:
    t = translator(lang)
    return {k: t("line.exchange_needed") if v == "exchange_sku" else v for k, v in errors.items()}


async def _signed_in_order(request: Request, db: DbSession) -> tuple[Shopper | None, Order | None]:
    who = await shopper_of(request)
    return who, await get_order(db, who.order_number) if who else None


@router.get("/order", response_class=HTMLResponse)
async def order_page(request: Request, db: DbSession, settings: AppSettings) -> Response:
    who, order = await _signed_in_order(request, db)
    if order is None:
        return to_find()
    return render(request, "portal/order.html", await order_context(db, order, settings, {}))


@router.post("/order/steps", response_class=HTMLResponse)
async def order_steps(request: Request, db: DbSession, settings: AppSettings) -> Response:
    """The form's steps as they stand after a change (htmx): the next step, the amounts, no old errors."""
    form = await form_of(request)
    who, order = await _signed_in_order(request, db)
    if order is None:
        return not_found(request)
    return render(request, "portal/_steps.html", await order_context(db, order, settings, form))


@router.post("/photos", response_class=HTMLResponse)
async def add_photo(request: Request, db: DbSession, settings: AppSettings) -> Response:
    """A photo chosen for a line (htmx, multipart): kept as POST /api/v1/portal/photos keeps it, its id added to the
    line's; the steps come back with it, or with why it was refused beside the file field."""
    form, files = await PAGES.multipart_of(request, 2 * MAX_BYTES + 1024 * 1024, MAX_PHOTOS, MAX_BYTES)
    who, order = await _signed_in_order(request, db)
    if who is None or order is None:
        return not_found(request)
    t = translator(choose_lang(request))
    errors = {}
    for name, (data, *_) in files.items():
        if not re.fullmatch(r"l\d{1,3}-file", name):
            continue
        line = name.removesuffix("file")
        if len(form.get(line + "photo", [])) >= MAX_PHOTOS:
            errors[name] = t("form.photos_too_many", most=MAX_PHOTOS)
            continue
        try:
            form.setdefault(line + "photo", []).append((await shopper_photos.upload(db, who, data, name)).id)
        except ServiceError as e:
            errors[name] = t("form.photo_too_big") if e.status == 413 else t("form.photo_unreadable")
    return render(request, "portal/_steps.html", await order_context(db, order, settings, form, errors))


REMOVE = re.compile(r"(l\d{1,3}-)([0-9a-f]{32})")  # a Remove button's value: the line's prefix and the photo's id


@router.post("/photos/remove", response_class=HTMLResponse)
async def remove_photo(request: Request, db: DbSession, settings: AppSettings) -> Response:
    """A photo taken off its line before filing (its Remove button): the steps come back without it, with the line's
    file field (focused) since it has room again, and the photo is deleted unless a filed return names it."""
    form, _ = await PAGES.multipart_of(request, 1024 * 1024, 100, 0)  # the form as it stands; no photo comes with it
    who, order = await _signed_in_order(request, db)
    if who is None or order is None:
        return not_found(request)
    focus = ""
    if (chosen := REMOVE.fullmatch(first(form, "remove"))) is not None:
        line, photo_id = chosen.groups()
        if photo_id in form.get(line + "photo", []):
            form[line + "photo"] = [x for x in form[line + "photo"] if x != photo_id]
            await shopper_photos.remove(db, who, photo_id)
            focus = line + "file"
    return render(request, "portal/_steps.html", {**await order_context(db, order, settings, form), "focus": focus})


@router.get("/photos/{photo_id}", response_class=Response)
async def shopper_photo(photo_id: str, request: Request, db: DbSession) -> Response:
    """A photo the signed-in shopper added, for its thumbnail in the form: their own order's only, any other 404."""
    who = await shopper_of(request)
    if who is None:
        return not_found(request)
    try:
        return await shopper_photos.photo_response(db, who, photo_id[:64])
    except ServiceError:
        return not_found(request)


@router.post("/preview", response_class=HTMLResponse)
async def preview(request: Request, db: DbSession, settings: AppSettings) -> Response:
    form = await form_of(request)
    who = await shopper_of(request)
    order = await get_order(db, who.order_number) if who else None
    if order is None:
        return not_found(request)
    lang = choose_lang(request)
    chosen, errors = chosen_lines(form, order)
    decision = None
    if chosen:
        decision = await decision_preview(db, order, chosen, (await current_policy(db, settings.policy)).policy)
    return render(request, "portal/_preview.html", {"decision": decision, "errors": line_errors(errors, lang),
                                                    "order": order, "exchange_codes": EXCHANGE_CODES})  # fmt: skip


@router.post("/returns", response_class=HTMLResponse)
async def submit_return(request: Request, db: DbSession, settings: AppSettings, temporal: TemporalClient) -> Response:
    form = await form_of(request)
    who, order = await _signed_in_order(request, db)
    if who is None or order is None:
        return to_find()
    lang = choose_lang(request)
    t = translator(lang)
    policy = (await current_policy(db, settings.policy)).policy
    s = await portal_form.steps(db, settings, order, policy, form)
    errors = {k: t(v) for k, v in portal_form.missing(s).items()}
    message = errors.pop("form", None)
    parcels = parcels_of(form)
    if parcels is None:
        message = t("order.bad_parcels", most=MAX_PARCELS)
    key = first(form, "submission")
    if not errors and not message and parcels:
        accept = whole_number(first(form, "accept_charge") or "0", 10**12) if s.consent else None
        try:
            asked = ReturnRequest(order_number=order.number, lines=s.requests(), parcels=parcels,
                                  accept_charge=accept)  # fmt: skip
            created = await file_return(db, temporal, settings.task_queue, policy, who, asked,
                                        key if key and re.fullmatch(KEY_PATTERN, key) else None,
                                        locale=LANG_TAGS[lang])  # fmt: skip
            return RedirectResponse(f"/portal/returns/{created.id}", status_code=303)
        except ServiceError as e:
            if e.status != 422:
                raise
            errors, message = _refused(e, s, lang)
    context = await order_context(db, order, settings, form, errors)
    return render(request, "portal/order.html", {**context, "message": message}, status_code=422)


def _refused(e: ServiceError, s: portal_form.Steps, lang: str) -> tuple[dict[str, str], str | None]:
    """A refused submit's errors by the form's fields, in the shopper's words."""
    t = translator(lang)
    if e.code == AlreadySubmitted.code:  # the Idempotency-Key was used for another request
        return {}, t("order.resent")
    if isinstance(e.detail, list):  # field errors: the policy's reasons, photos, the charge agreed to
        rules = [(x["field"], "line_rule." + x["type"], _count(x["reason"])) for x in e.detail]
        return {portal_form.field_of(s, at): t(rule, n=n) for at, rule, n in rules}, None
    if isinstance(e.detail, dict):  # lines the policy refuses
        by_id = {x.line.id: x.p for x in s.picked}
        return {by_id.get(x["line_id"], "l0-") + "line": refusal_words(x, lang) for x in e.detail.get("lines", [])
                }, None  # fmt: skip
    return {}, e.text


def _count(reason: str) -> int:
    found = re.search(r"\d+", reason)
    return int(found.group()) if found else 0


def refusal_words(line: dict[str, Any], lang: str) -> str:
    """A refused line of the 422 in the shopper's words, from its code."""
    code = line.get("refusal_code")
    return reason_text(translator(lang), Coded.model_validate(code), "shopper") if code else line.get("refusal") or ""


def parcels_of(form: dict[str, list[str]]) -> int | None:
    """How many parcels the shopper ships in (1 when not asked); None when it is not a number in range."""
    parcels = whole_number(first(form, "parcels") or "1", MAX_PARCELS)
    return parcels or None


def install(app: FastAPI) -> None:
    """Add the portal pages and the vendored static files (/static) to the app."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=Path(__file__).resolve().parents[1] / "static"), name="static")
