"""What the shopper's return page is built from (api.portal_return), state by state, without a stack: the steps, the
next action, where the money goes, and a timeline with nothing internal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from api.formats import money
from api.i18n import timeline_text
from api.payment_card import Card
from api.portal_return import minor_units, page_of, shopper_timeline
from api.views import ReturnView, return_view

AT = datetime(2026, 11, 12, 10, 0, tzinfo=UTC)
VISA = Card("visa", "4242")


def view(status: str, *timeline: tuple[str, str], resolution: str = "refund", **more: Any) -> ReturnView:
    line = {"decision": {"line_id": "L1", "sku": "TEE-M", "title": "Tee, M", "quantity": 2, "unit_price": 2500,
                         "reason": "too_big", "resolution": resolution, "eligible": True, "refund": 5000,
                         "exchange_sku": "TEE-L" if resolution == "exchange" else None,
                         "exchange_title": "Tee, L" if resolution == "exchange" else ""}}  # fmt: skip
    entries = [
        {"seq": i, "at": AT + timedelta(minutes=i), "status": s, "message": m} for i, (s, m) in enumerate(timeline)
    ]
    state = {"id": "R-1", "order_number": "A1", "email": "a@example.com", "currency": "EUR", "status": status,
             "lines": [line], "timeline": entries, "refund_total": 5000 if resolution == "refund" else 0,
             "created_at": AT, "updated_at": AT, **more}  # fmt: skip
    return return_view(state)


def steps(v: ReturnView, **kw: Any) -> list[tuple[str, str]]:
    page = page_of(v, VISA, None, False, True, **kw)
    return [(s.key, s.state) for s in page.steps]


def test_steps_follow_the_status_and_stop_for_a_return_that_stopped():
    assert steps(view("awaiting_shipment"))[:3] == [("requested", "done"), ("send", "current"), ("on_way", "todo")]
    assert steps(view("pending_refund_review"))[4] == ("checked", "current")
    assert set(steps(view("completed"))) == {(k, "done") for k in ("requested", "send", "on_way", "received",
                                                                  "checked", "money")}  # fmt: skip
    for stopped in ("rejected", "cancelled", "expired"):
        page = page_of(view(stopped), VISA, None, False, True)
        assert page.steps == [] and page.money == [], stopped


def test_a_keep_it_return_skips_the_parcels_steps():
    v = view("received", ("received", "keep it: no need to send the items back; the refund follows at once"))
    page = page_of(v, VISA, None, False, False)
    assert [(s.key, s.state) for s in page.steps] == [("requested", "done"), ("money", "current")]
    assert page.next == "keep_it" and page.keep_it


def test_next_action_and_deadline_per_state():
    due = AT + timedelta(days=14)
    assert page_of(view("awaiting_shipment"), VISA, due, False, True).next == "ship"
    assert page_of(view("awaiting_shipment"), VISA, due, True, False).next == "new_label"
    assert page_of(view("awaiting_shipment"), VISA, due, False, False).next == "label_pending"
    assert page_of(view("expired"), VISA, due, False, False).next == "expired"
    assert page_of(view("cancelled"), VISA, None, False, False).next == "cancelled"
    problem = view("in_transit", shipments=[{"direction": "inbound", "carrier": "local", "tracking_number": "LC1",
                                             "label_url": "", "status": "exception"}])  # fmt: skip
    page = page_of(problem, VISA, None, False, True)
    assert page.parcel_problem and page.next == "parcel_problem"
    rejected = page_of(view("rejected", ("rejected", "rejected: worn item")), VISA, None, False, False)
    assert (rejected.next, rejected.rejected_reason, rejected.money) == ("rejected", "worn item", [])


def test_where_the_money_goes_names_the_card_the_credit_and_the_replacement():
    assert page_of(view("in_transit"), VISA, None, False, True).money == [
        {"kind": "refund", "amount": 5000, "card": "Visa 4242"}]  # fmt: skip
    assert page_of(view("in_transit"), None, None, False, True).money[0]["card"] == ""  # the page's fallback words
    exchange = page_of(view("received", resolution="exchange"), VISA, None, False, True)
    assert exchange.money == [{"kind": "exchange", "shipped": False, "titles": "Tee, L"}]
    assert exchange.exchange_only
    credit = page_of(view("in_transit", resolution="store_credit", store_credit_total=5000), VISA, None, False, True)
    assert [m["kind"] for m in credit.money] == ["store_credit"]


def test_the_shoppers_timeline_has_no_line_id_sku_or_policy_reasoning_and_writes_money_the_pages_way():
    v = view("completed",
             ("awaiting_shipment", "return requested: every line is within the 30-day return window and returnable; "
                                   "value 50.00 EUR is within the auto-approve limit of 250.00 EUR"),
             ("received", "inspected by the warehouse: L1: 1 accepted (damaged)"),
             ("pending_refund_review", "finance review: line L1 was refused at inspection"),
             ("received", "line L1: price difference of 5.00 EUR paid"),
             ("received", "instant exchange not possible: TEE-L is out of stock"),
             ("completed", "completed: refunded 25.00 EUR"), resolution="exchange")  # fmt: skip
    got = [t.message for t in shopper_timeline(v, lambda a, c: money(a, c, "pt"))]
    assert got == ["return requested", "inspected by the warehouse", "finance review", "",
                   "instant exchange not possible", "completed: refunded 25,00\xa0€"]  # fmt: skip
    assert [timeline_text(m, "pt") for m in got[:3]] == ["devolução pedida", "inspecionada pelo armazém",
                                                         "revisão do reembolso"]  # fmt: skip


def test_amounts_written_by_the_workflow_read_back_in_minor_units():
    assert minor_units("25.00 EUR") == (2500, "EUR")
    assert minor_units("-3.10 EUR") == (-310, "EUR")
    assert minor_units("1200 JPY") == (1200, "JPY")
    assert minor_units("25.00 XYZ") is None and minor_units("approved") is None
