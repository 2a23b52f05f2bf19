"""The payment peer (`python -m devpeers stripe`, localstripe behind devpeers_stripe) answers as Stripe does where
Reverso's money depends on it, and the official `stripe` SDK raises what it raises against Stripe."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe

from tests.support import services

DAY = 24 * 3600


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A peer of this module's own: its clock is moved, which would expire the holds of other tests."""
    with services.localstripe(tmp_path_factory.mktemp("peer")) as url:
        yield url


def client(url: str) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_peer", base_addresses={"api": url}, max_network_retries=0)


def pay(url: str, amount: int = 5000, currency: str = "eur", key: str | None = None, **extra: Any) -> Any:
    params = {"amount": amount, "currency": currency, "payment_method": "pm_card_visa", "confirm": True, **extra}
    return client(url).v1.payment_intents.create(params, {"idempotency_key": key} if key else None)  # type: ignore[arg-type]


def hold(url: str, amount: int = 5000) -> Any:
    return pay(url, amount, capture_method="manual")


def tagged(url: str, tag: str) -> list[Any]:
    found = client(url).v1.payment_intents.list({"limit": 100}).auto_paging_iter()
    return [pi for pi in found if pi.metadata and pi.metadata.to_dict().get("tag") == tag]


def advance(url: str, seconds: int) -> dict[str, Any]:
    answer = httpx.post(f"{url}/_peer/clock", json={"advance_seconds": seconds})
    answer.raise_for_status()
    return answer.json()


def error_of(e: pytest.ExceptionInfo[stripe.StripeError]) -> dict[str, Any]:
    body = e.value.json_body
    assert isinstance(body, dict)
    return body["error"]


# --- Idempotency-Key ----------------------------------------------------------------------------------


def test_same_key_and_body_is_the_same_payment_and_another_body_is_refused(peer: str) -> None:
    key, tag = f"k-{uuid.uuid4()}", uuid.uuid4().hex
    first = pay(peer, key=key, metadata={"tag": tag})
    again = pay(peer, key=key, metadata={"tag": tag})
    assert again.id == first.id and [pi.id for pi in tagged(peer, tag)] == [first.id]

    with pytest.raises(stripe.IdempotencyError) as refused:
        pay(peer, 6000, key=key, metadata={"tag": tag})
    assert refused.value.http_status == 400 and error_of(refused)["type"] == "idempotency_error"
    assert len(tagged(peer, tag)) == 1


def test_a_refund_sent_twice_with_one_key_refunds_once(peer: str) -> None:
    paid, refunds = pay(peer), client(peer).v1.refunds
    for _ in range(2):
        refunds.create({"payment_intent": paid.id, "amount": 1000}, {"idempotency_key": f"refund-{paid.id}"})
    assert [r.amount for r in refunds.list({"payment_intent": paid.id}).data] == [1000]


# --- minimum charge -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("currency", "least"), [("eur", 50), ("usd", 50), ("gbp", 30), ("jpy", 50)])
def test_a_payment_under_the_currency_minimum_is_refused(peer: str, currency: str, least: int) -> None:
    tag = uuid.uuid4().hex
    with pytest.raises(stripe.InvalidRequestError) as refused:
        pay(peer, least - 1, currency, metadata={"tag": tag})
    assert (refused.value.http_status, refused.value.code, refused.value.param) == (400, "amount_too_small", "amount")
    assert error_of(refused)["type"] == "invalid_request_error"
    assert tagged(peer, tag) == []
    assert pay(peer, least, currency).status == "succeeded"


# --- refunds ------------------------------------------------------------------------------------------


def test_a_refund_above_what_is_left_is_refused(peer: str) -> None:
    paid, refunds = pay(peer, 5000), client(peer).v1.refunds
    refunds.create({"payment_intent": paid.id, "amount": 4000})  # as from the provider's dashboard
    with pytest.raises(stripe.InvalidRequestError) as too_large:
        refunds.create({"payment_intent": paid.id, "amount": 5000})
    assert (too_large.value.http_status, too_large.value.code, too_large.value.param) == (
        400,
        "amount_too_large",
        "amount",
    )
    assert refunds.create({"payment_intent": paid.id, "amount": 1000}).amount == 1000
    with pytest.raises(stripe.InvalidRequestError) as nothing_left:
        refunds.create({"payment_intent": paid.id, "amount": 1})
    assert (nothing_left.value.http_status, nothing_left.value.code) == (400, "charge_already_refunded")
    assert sorted(r.amount for r in refunds.list({"payment_intent": paid.id}).data) == [1000, 4000]


def test_a_refund_without_an_amount_refunds_what_is_left(peer: str) -> None:
    paid, refunds = pay(peer, 5000), client(peer).v1.refunds
    refunds.create({"payment_intent": paid.id, "amount": 1500})
    assert refunds.create({"payment_intent": paid.id}).amount == 3500


def test_a_partly_captured_hold_refunds_only_what_was_captured(peer: str) -> None:
    held = hold(peer, 5000)
    client(peer).v1.payment_intents.capture(held.id, {"amount_to_capture": 2000})
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client(peer).v1.refunds.create({"payment_intent": held.id, "amount": 2001})
    assert refused.value.code == "amount_too_large"


# --- capture and cancel -------------------------------------------------------------------------------


def test_a_captured_intent_cannot_be_captured_or_cancelled_again(peer: str) -> None:
    intents = client(peer).v1.payment_intents
    held = hold(peer, 5000)
    assert (held.status, held.amount_capturable) == ("requires_capture", 5000)
    captured = intents.capture(held.id, {"amount_to_capture": 3000})
    assert (captured.status, captured.amount_received) == ("succeeded", 3000)
    for again in (lambda: intents.capture(held.id), lambda: intents.cancel(held.id)):
        with pytest.raises(stripe.InvalidRequestError) as refused:
            again()
        assert (refused.value.http_status, refused.value.code) == (400, "payment_intent_unexpected_state")
        assert error_of(refused)["payment_intent"]["status"] == "succeeded"


def test_a_cancelled_intent_cannot_be_captured_or_cancelled_again(peer: str) -> None:
    intents = client(peer).v1.payment_intents
    held = hold(peer)
    assert intents.cancel(held.id).status == "canceled"
    for again in (lambda: intents.capture(held.id), lambda: intents.cancel(held.id)):
        with pytest.raises(stripe.InvalidRequestError) as refused:
            again()
        assert refused.value.code == "payment_intent_unexpected_state"
    assert intents.retrieve(held.id).latest_charge.captured is False  # type: ignore[union-attr]


def test_a_declined_card_is_a_card_error(peer: str) -> None:
    card = client(peer).v1.payment_methods.create(
        {"type": "card", "card": {"number": "4000000000000341", "exp_month": 12, "exp_year": 2030, "cvc": "123"}}  # type: ignore[typeddict-item]
    )
    with pytest.raises(stripe.CardError) as declined:
        pay(peer, payment_method=card.id)
    assert (declined.value.http_status, declined.value.code, error_of(declined)["type"]) == (
        402,
        "card_declined",
        "card_error",
    )


# --- the authorization window and the peer's clock -----------------------------------------------------


def test_an_uncaptured_hold_lapses_after_7_days_of_the_peers_clock(peer: str) -> None:
    intents = client(peer).v1.payment_intents
    lapsing, captured_in_time = hold(peer), hold(peer, 4000)
    key = f"k-{uuid.uuid4()}"
    pay(peer, 700, key=key)

    advance(peer, 6 * DAY)
    assert intents.retrieve(lapsing.id).status == "requires_capture"
    assert intents.capture(captured_in_time.id).status == "succeeded"

    clock = advance(peer, DAY)
    assert clock["offset_seconds"] >= 7 * DAY
    lapsed = intents.retrieve(lapsing.id)
    assert (lapsed.status, lapsed.cancellation_reason) == ("canceled", "automatic")
    with pytest.raises(stripe.InvalidRequestError) as refused:
        intents.capture(lapsing.id)
    assert refused.value.code == "payment_intent_unexpected_state"
    assert intents.retrieve(captured_in_time.id).status == "succeeded"
    assert pay(peer, 900, key=key).amount == 900  # keys are kept 24 hours, as Stripe keeps them
    assert httpx.get(f"{peer}/_peer/clock").json()["offset_seconds"] == clock["offset_seconds"]


def test_the_clock_only_moves_forward(peer: str) -> None:
    assert httpx.post(f"{peer}/_peer/clock", json={"advance_seconds": -60}).status_code == 400


# --- failures on demand, as Stripe fails when it cannot answer now -----------------------------------------


def test_the_peer_fails_the_next_requests_on_demand(peer: str) -> None:
    httpx.post(f"{peer}/_peer/fail", json={"status": 429, "code": "lock_timeout", "count": 1}).raise_for_status()
    with pytest.raises(stripe.RateLimitError) as busy:
        pay(peer)
    assert error_of(busy)["code"] == "lock_timeout"
    httpx.post(f"{peer}/_peer/fail", json={"status": 503}).raise_for_status()
    with pytest.raises(stripe.APIError):
        pay(peer)
    assert pay(peer).status == "succeeded"


# --- what the peer keeps ------------------------------------------------------------------------------------


def test_keys_clock_and_holds_survive_a_restart(tmp_path: Path) -> None:
    key = f"k-{uuid.uuid4()}"
    with services.localstripe(tmp_path) as url:
        first, held = pay(url, key=key), hold(url)
        advance(url, DAY // 2)
    with services.localstripe(tmp_path) as url:
        assert pay(url, key=key).id == first.id
        with pytest.raises(stripe.IdempotencyError):
            pay(url, 100, key=key)
        assert httpx.get(f"{url}/_peer/clock").json()["offset_seconds"] == DAY // 2
        advance(url, 7 * DAY)
        assert client(url).v1.payment_intents.retrieve(held.id).status == "canceled"
