"""domain.text.scrub: the workflows' backstop for characters PostgreSQL cannot store, whatever let them in."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.models import LineDecision, ReturnLineState, ReturnState, TimelineEntry
from domain.text import scrub

AT = datetime(2026, 12, 1, tzinfo=UTC)


def hostile_state() -> ReturnState:
    decision = LineDecision(line_id="L1", quantity=1, reason="defective", resolution="refund", eligible=True)
    return ReturnState(id="R-1", order_number="O-1", email="a@example.com", currency="EUR", status="received",
                       lines=[ReturnLineState(decision=decision, note="torn\x00"),
                              ReturnLineState(decision=decision, note="fine\tline\nbreak \x07 bell")],
                       timeline=[TimelineEntry(seq=1, at=AT, status="received", message="ok", by="ana\ud83d")],
                       created_at=AT, updated_at=AT)  # fmt: skip


def test_scrub_names_each_field_and_cleans_it_in_place():
    state = hostile_state()
    same, found = scrub(state)
    assert same is state and found == ["lines[0].note", "timeline[0].by"]
    assert state.lines[0].note == "torn\ufffd" and state.timeline[0].by == "ana\ufffd"
    # What PostgreSQL stores stays as it was: other control characters are the edge's business, not the backstop's.
    assert state.lines[1].note == "fine\tline\nbreak \x07 bell"
    assert scrub(state) == (state, [])


def test_scrub_takes_plain_strings_and_dicts_under_a_path():
    assert scrub("a\x00b", "approve.by") == ("a\ufffdb", ["approve.by"])
    context = {"reason": "worn\ud800", "lines": [{"sku": "X\x00"}], "amount": 5}
    assert scrub(context, "email.rejected") == (
        {"reason": "worn\ufffd", "lines": [{"sku": "X\ufffd"}], "amount": 5},
        ["email.rejected.reason", "email.rejected.lines[0].sku"],
    )
