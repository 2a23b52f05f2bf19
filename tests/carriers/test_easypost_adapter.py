"""The EasyPost adapter against EasyPost's real recorded API answers (vcrpy, replay only, no network)."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import easypost
import pytest
import requests
import vcr
import yaml
from pydantic import ValidationError

from activities.carriers.base import Carrier, LabelPurchase, ReturnLabelRequest, WebhookError, map_easypost_status
from activities.carriers.easypost import EasyPostCarrier
from domain.models import Address

CASSETTES = Path(__file__).parents[1] / "fixtures" / "easypost"
SECRET = "whsec_reverso_test"
# The recordings were made with another key (redacted); matching ignores it and the body, so a request
# is answered by the recording of the same method and path.
replay = vcr.VCR(cassette_library_dir=str(CASSETTES), record_mode="none", match_on=["method", "path"])

SHOPPER = Address(name="Ana Łukasiewicz", line1="179 N Harbor Dr", city="Redondo Beach", region="CA",
                  postal_code="90277", country="US")  # fmt: skip
WAREHOUSE = Address(name="Reverso Returns", line1="388 Townsend St", line2="Apt 20", city="San Francisco",
                    region="CA", postal_code="94107", country="US")  # fmt: skip
REQUEST = ReturnLabelRequest(return_id="R-1001", from_address=SHOPPER, to_address=WAREHOUSE, from_email="a@example.com")


def carrier(**kw: Any) -> EasyPostCarrier:
    return EasyPostCarrier(easypost.EasyPostClient("EZTK_not_a_real_key"), webhook_secret=SECRET, **kw)


def recorded(cassette: str, method: str, path: str) -> dict[str, Any]:
    """The JSON body EasyPost answered to one recorded request."""
    for it in yaml.safe_load((CASSETTES / cassette).read_text())["interactions"]:
        if it["request"]["method"] == method and it["request"]["uri"].split("?")[0].endswith(path):
            return json.loads(it["response"]["body"]["string"])
    raise LookupError(f"{method} {path} not in {cassette}")


TRACKER = recorded("test_tracker_create.yaml", "POST", "/v2/trackers")
LABEL_URL = "https://easypost-files.s3.us-west-2.amazonaws.com/files/postage_label/20250307/e813a2cf6d079c4ea49714758be7711be0.png"
REFUNDED_SHIPMENT = "shp_700d2963c43b4847883c955eeb846b13"


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, Any]]:
    """What the adapter sent: (method, path, JSON body), seen above vcrpy, which answers below."""
    calls: list[tuple[str, str, Any]] = []
    original = requests.Session.request

    def spy(self: requests.Session, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        calls.append((method.upper(), requests.utils.urlparse(url).path, kwargs.get("json")))
        return original(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", spy)
    return calls


def webhook_body(description: str = "tracker.updated", tracker: dict[str, Any] | None = None) -> bytes:
    """A recorded Event envelope around the recorded Tracker, as EasyPost POSTs it."""
    event = dict(recorded("test_event_retrieve_payload.yaml", "GET", "/v2/events")["events"][0])
    event["description"] = description
    event["result"] = TRACKER if tracker is None else tracker
    return json.dumps(event).encode()


def sign(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"X-Hmac-Signature": "hmac-sha256-hex=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


def test_easypost_statuses_map_onto_ours_and_unknown_ones_never_crash() -> None:
    expected = {
        "pre_transit": "pre_transit", "in_transit": "in_transit", "out_for_delivery": "out_for_delivery",
        "delivered": "delivered", "available_for_pickup": "exception", "return_to_sender": "returned_to_sender",
        "failure": "exception", "cancelled": "exception", "error": "exception", "unknown": "pre_transit",
    }  # fmt: skip
    assert {s: map_easypost_status(s) for s in expected} == expected
    assert map_easypost_status(" Delivered ") == "delivered"
    # Never seen before: no crash, and nothing that would move a return forward.
    assert [map_easypost_status(s) for s in ("teleported", "", None)] == ["pre_transit"] * 3


async def test_return_label_buys_the_lowest_rate_and_returns_the_recorded_label(sent: list) -> None:
    with replay.use_cassette("test_shipment_buy.yaml") as cassette:
        label = await carrier().create_return_label(REQUEST)
    assert cassette.all_played
    assert label.tracking_number == "9400100208303109505657"
    assert label.label_url == LABEL_URL and label.provider_shipment_id == "shp_16578f588f9546ec914afd2474e24ff5"
    assert (label.carrier, label.service) == ("USPS", "GroundAdvantage")
    assert (label.cost_minor, label.currency, label.label_format) == (607, "USD", "PNG")
    (_, create_path, create), (_, buy_path, buy) = sent
    shipment = create["shipment"]
    assert create_path == "/v2/shipments" and shipment["is_return"] is True and shipment["reference"] == "R-1001"
    # is_return: EasyPost swaps the addresses, so the shopper goes in as to_address.
    assert shipment["to_address"]["name"] == SHOPPER.name and shipment["from_address"]["street2"] == "Apt 20"
    assert shipment["parcel"] == {"weight": 35.3, "length": 11.8, "width": 7.9, "height": 3.9}
    # USPS GroundAdvantage at 6.07 is the cheapest of the three recorded rates.
    assert buy_path.endswith("/buy") and buy == {"rate": {"id": "rate_4d1f36fa716c4b1292cacbdf19227c2d"}}


async def test_a_configured_service_is_bought_instead_of_the_cheapest(sent: list) -> None:
    with replay.use_cassette("test_shipment_buy.yaml"):
        await carrier(carriers=["usps"], services=["Priority"]).create_return_label(REQUEST)
    assert sent[-1][2] == {"rate": {"id": "rate_5b67424f63314af1b997aa72d45e41be"}}


async def test_void_refunds_the_unused_label(sent: list) -> None:
    with replay.use_cassette("test_shipment_refund.yaml") as cassette:
        assert await carrier().void_label(REFUNDED_SHIPMENT) is True
    assert [(m, p) for m, p, _ in sent] == [("POST", f"/v2/shipments/{REFUNDED_SHIPMENT}/refund")]
    assert cassette.play_count == 1


@pytest.mark.parametrize(
    ("refund_status", "accepted"), [("refunded", True), ("rejected", False), ("not_applicable", False)]
)
async def test_void_reports_a_refused_refund(tmp_path: Path, refund_status: str, accepted: bool) -> None:
    # The recording only holds "submitted"; the other documented answers are the same recording, edited.
    data = yaml.safe_load((CASSETTES / "test_shipment_refund.yaml").read_text())
    body = data["interactions"][1]["response"]["body"]
    body["string"] = json.dumps(json.loads(body["string"]) | {"refund_status": refund_status})
    (tmp_path / "refund.yaml").write_text(yaml.safe_dump(data))
    with replay.use_cassette(str(tmp_path / "refund.yaml")):
        assert await carrier().void_label(REFUNDED_SHIPMENT) is accepted


async def test_track_polls_a_tracker_into_normalized_events() -> None:
    with replay.use_cassette("test_tracker_create.yaml"):
        events = await carrier().track("EZ1000000001")
    assert [(e.tracking_number, e.status, e.carrier) for e in events] == [("EZ1000000001", "pre_transit", "USPS")] * 2
    assert [e.description for e in events] == ["Pre-Shipment Info Sent to USPS", "Shipping Label Created"]


def test_a_tracker_webhook_parses_into_normalized_events_with_stable_ids() -> None:
    body = webhook_body()
    events = carrier().parse_webhook(body, sign(body))
    assert [(e.status, e.occurred_at) for e in events] == [
        ("pre_transit", datetime(2025, 2, 6, 19, 48, 26, tzinfo=UTC)),
        ("pre_transit", datetime(2025, 2, 7, 8, 25, 26, tzinfo=UTC)),
    ]
    assert {e.tracking_number for e in events} == {"EZ1000000001"} and len({e.event_id for e in events}) == 2
    # EasyPost redelivers the whole history: the same scans must keep the same ids so duplicates drop out.
    assert [e.event_id for e in carrier().parse_webhook(body, {})] == [e.event_id for e in events]


def test_later_scans_map_including_statuses_we_do_not_know() -> None:
    tracker = copy.deepcopy(TRACKER)
    scan = tracker["tracking_details"][-1]
    tracker["tracking_details"] += [
        scan | {"status": "delivered", "datetime": "2025-02-09T10:00:00Z", "message": "Delivered"},
        scan | {"status": "teleported", "datetime": "2025-02-08T10:00:00Z", "message": ""},
    ]
    events = carrier().parse_webhook(webhook_body(tracker=tracker), {})
    assert [e.status for e in events] == ["pre_transit", "pre_transit", "pre_transit", "delivered"]  # sorted by time
    assert events[2].description == "EasyPost status teleported"


def test_a_tracker_without_scans_still_reports_its_status() -> None:
    tracker = TRACKER | {"tracking_details": [], "status": "unknown"}
    [event] = carrier().parse_webhook(webhook_body(tracker=tracker), {})
    assert (event.status, event.occurred_at) == ("pre_transit", datetime(2025, 3, 6, 19, 48, 26, tzinfo=UTC))


def test_other_events_carry_no_tracking_news_and_garbage_is_a_clear_error() -> None:
    assert carrier().parse_webhook(webhook_body("batch.updated"), {}) == []
    bad = [b"not json", b"[]", json.dumps({"object": "Event", "description": "tracker.updated"}).encode(),
           webhook_body(tracker=TRACKER | {"tracking_code": None})]  # fmt: skip
    for body in bad:
        with pytest.raises(WebhookError):
            carrier().parse_webhook(body, {})


def test_only_a_correctly_signed_webhook_verifies() -> None:
    body, ep = webhook_body(), carrier()
    assert ep.verify_webhook(body, sign(body))
    assert ep.verify_webhook(body, {k.lower(): v for k, v in sign(body).items()})  # header names are case-insensitive
    assert not ep.verify_webhook(body.replace(b"EZ1000000001", b"EZ1000000002"), sign(body))  # tampered
    assert not ep.verify_webhook(body, sign(body, "whsec_someone_else"))
    assert not ep.verify_webhook(body, {})
    unconfigured = EasyPostCarrier(easypost.EasyPostClient("EZTK_x"), webhook_secret=None)
    assert not unconfigured.verify_webhook(body, sign(body))


def test_labels_travel_through_json_and_need_a_label() -> None:
    assert isinstance(carrier(), Carrier)
    pdf = LabelPurchase(provider="local", carrier="Reverso Local", tracking_number="LC1", provider_shipment_id="LC1",
                        label_bytes=b"%PDF-1.4\xff\x00")  # fmt: skip
    assert LabelPurchase.model_validate_json(pdf.model_dump_json()) == pdf  # binary survives Temporal's JSON
    with pytest.raises(ValidationError):
        LabelPurchase(provider="x", carrier="x", tracking_number="1", provider_shipment_id="1")


BOUGHT_SHIPMENT = "shp_16578f588f9546ec914afd2474e24ff5"


def resume_cassette(tmp_path: Path, bought: bool) -> str:
    """The recorded create/buy answers, with the create answer served to a GET of that shipment instead: what
    EasyPost returns when a retried activity looks up the shipment an earlier attempt created."""
    data = yaml.safe_load((CASSETTES / "test_shipment_buy.yaml").read_text())
    create, buy = data["interactions"]
    lookup = copy.deepcopy(buy if bought else create)
    lookup["request"] |= {"method": "GET", "uri": f"https://api.easypost.com/v2/shipments/{BOUGHT_SHIPMENT}",
                          "body": None}  # fmt: skip
    data["interactions"] = [lookup] + ([] if bought else [buy])
    (tmp_path / "resume.yaml").write_text(yaml.safe_dump(data))
    return str(tmp_path / "resume.yaml")


async def test_a_created_shipment_is_remembered_before_it_is_paid_for(sent: list) -> None:
    remembered: list[tuple[str, int]] = []

    async def remember(shipment_id: str) -> None:
        remembered.append((shipment_id, len(sent)))  # how many calls had gone out at that moment

    with replay.use_cassette("test_shipment_buy.yaml"):
        label = await carrier().create_return_label(REQUEST, on_created=remember)
    assert remembered == [(BOUGHT_SHIPMENT, 1)] and len(sent) == 2  # after the create, before the buy
    assert label.provider_shipment_id == BOUGHT_SHIPMENT


async def test_a_retry_of_a_bought_label_gets_the_same_label_without_paying_again(tmp_path: Path, sent: list) -> None:
    with replay.use_cassette(resume_cassette(tmp_path, bought=True)) as cassette:
        label = await carrier().create_return_label(REQUEST, resume_shipment_id=BOUGHT_SHIPMENT)
    assert cassette.all_played
    assert [(m, p) for m, p, _ in sent] == [("GET", f"/v2/shipments/{BOUGHT_SHIPMENT}")]  # no create, no buy
    assert (label.tracking_number, label.label_url) == ("9400100208303109505657", LABEL_URL)


async def test_a_retry_of_an_unpaid_shipment_buys_that_shipment(tmp_path: Path, sent: list) -> None:
    with replay.use_cassette(resume_cassette(tmp_path, bought=False)) as cassette:
        label = await carrier().create_return_label(REQUEST, resume_shipment_id=BOUGHT_SHIPMENT)
    assert cassette.all_played
    assert [(m, p) for m, p, _ in sent] == [("GET", f"/v2/shipments/{BOUGHT_SHIPMENT}"),
                                             ("POST", f"/v2/shipments/{BOUGHT_SHIPMENT}/buy")]  # fmt: skip
    assert label.tracking_number == "9400100208303109505657"


def test_hostile_signed_bodies_and_signatures_are_refused_not_raised() -> None:
    # A non-ASCII signature made compare_digest raise TypeError (a 500); it is simply not a valid signature.
    body = webhook_body()
    assert carrier().verify_webhook(body, {"X-Hmac-Signature": "hmac-sha256-hex=\xff\xfe"}) is False
    # JSON nested past the parser's depth raised RecursionError from the signature check and the parse.
    deep = b"[" * 100_000 + b"]" * 100_000
    assert carrier().verify_webhook(deep, sign(deep)) is True
    with pytest.raises(WebhookError) as refused:
        carrier().parse_webhook(deep, sign(deep))
    assert refused.value.field == "body"


def test_a_webhook_error_names_the_field_it_could_not_read() -> None:
    with pytest.raises(WebhookError) as refused:
        carrier().parse_webhook(webhook_body(tracker={"object": "Shipment"}), {})
    assert refused.value.field == "body.result.object"
    tracker = copy.deepcopy(TRACKER)
    tracker["tracking_details"][1]["datetime"] = "not a time"
    with pytest.raises(WebhookError) as refused:
        carrier().parse_webhook(webhook_body(tracker=tracker), {})
    assert refused.value.field == "body.result.tracking_details.1.datetime"
