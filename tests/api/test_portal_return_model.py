"""What the shopper's return page is built from (api.portal_return), state by state, without a stack: the steps, the
next action, where the money goes, and a timeline with nothing internal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from api.formats import money
from api.payment_card import Card
from api.portal_return import page_of
from api.views import ReturnView, return_view

AT = datetime(2026, 11, 12, 10, 0, tzinfo=UTC)
VISA = Card("visa", "4242")


def view(status: str, *timeline: tuple[str, str, dict[str, Any]], resolution: str = "refund", **more: Any
         ) -> ReturnView:  # fmt: skip
    """A return's shopper view; `timeline`: (status, code, params) entries."""
    line = {"decision": {"line_id": "L1", "sku": "TEE-M", "title": "Tee, M", "quantity": 2, "unit_price": 2500,
                         "reason": "too_big", "resolution": resolution, "eligible": True, "refund": 5000,
                         "exchange_sku": "TEE-L" if resolution == "exchange" else None,
                         "exchange_title": "Tee, L" if resolution == "exchange" else ""}}  # fmt: skip
    entries = [
        {"seq": i + 1, "at": AT + timedelta(minutes=i), "status": s, "code": c, "params": p}
        for i, (s, c, p) in enumerate(timeline)
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
    v = view("received", ("received", "kept", {}))
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
    rejected = page_of(view("rejected", ("rejected", "rejected", {"reason": "worn item"})), VISA, None, False, False)
    assert (rejected.next, rejected.rejected_reason, rejected.money) == ("rejected", "worn item", [])


def test_a_return_no_label_could_be_made_for_says_so_without_the_carriers_words():
    carrier = "no return label could be made: EasyPost ADDRESS.VERIFY.FAILURE"
    v = view("rejected", ("rejected", "label_unavailable", {"reason": carrier}))
    page = page_of(v, VISA, None, False, False)
    assert (page.next, page.rejected_reason) == ("rejected_no_label", "")
    said = [t.message for t in v.timeline]
    assert said == ["not accepted: no return label could be made for it"], said
    assert v.timeline[0].params == {}  # the carrier's words are for staff


def test_where_the_money_goes_names_the_card_the_credit_and_the_replacement():
    assert page_of(view("in_transit"), VISA, None, False, True).money == [
        {"kind": "refund", "amount": 5000, "card": "Visa 4242"}]  # fmt: skip
    assert page_of(view("in_transit"), None, None, False, True).money[0]["card"] == ""  # the page's fallback words
    exchange = page_of(view("received", resolution="exchange"), VISA, None, False, True)
    assert exchange.money == [{"kind": "exchange", "shipped": False, "titles": "Tee, L"}]
    assert exchange.exchange_only
    credit = page_of(view("in_transit", resolution="store_credit", store_credit_total=5000), VISA, None, False, True)
    assert [m["kind"] for m in credit.money] == ["store_credit"]


def test_the_shoppers_timeline_is_said_from_codes_with_nothing_internal_and_the_pages_money():
    entries = [
        ("awaiting_shipment", "return_requested", {}),
        ("received", "inspected", {"lines": [{"line": "L1", "accepted": 1, "condition": "damaged"}]}),
        ("pending_refund_review", "finance_review", {"reasons": ["line_refused"]}),
        ("received", "refund_approved", {"amount": 2500}),
        ("completed", "completed", {"refund": 2500}),
    ]
    state = {"id": "R-1", "order_number": "A1", "email": "a@example.com", "currency": "EUR", "status": "completed",
             "lines": [], "created_at": AT, "updated_at": AT, "decision_reasons": ["value 50.00 EUR is within the "
             "auto-approve limit of 250.00 EUR"], "decision_codes": [{"code": "within_approval_limit", "params": {
             "value": 5000, "limit": 25000, "currency": "EUR"}}],
             "timeline": [{"seq": i + 1, "at": AT, "status": st, "code": c, "params": p, "by": "Ana Staff",
                           "note": "staff only"} for i, (st, c, p) in enumerate(entries)]}  # fmt: skip
    pt = return_view(state, lang="pt", money=lambda a, c: money(a, c, "pt"))
    said = " | ".join(t.message for t in pt.timeline)
    for internal in ("250", "L1", "Ana Staff", "staff only", "line_refused"):
        assert internal not in said, (internal, said)
    assert "25,00\xa0€" in said and "EUR" not in said
    page = page_of(pt, VISA, None, False, True)
    assert ("refund_set", {"amount": 2500, "currency": "EUR"}) in page.why  # read from the entry's code, not its words
