"""The create_label / void_label activities on an EasyPost warehouse: bought at most once, resumed after a crash,
refunded on void; real PostgreSQL, EasyPost replayed from the recordings."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, select
from temporalio.testing import ActivityEnvironment

from activities.carriers.local import LocalCarrier
from db.engine import get_sessionmaker
from db.models import CarrierPurchase, ShipmentRow
from domain.messages import LabelRequest
from domain.models import Address
from settings import Settings
from tests.carriers.conftest import TRACKING
from tests.carriers.test_easypost_adapter import BOUGHT_SHIPMENT, resume_cassette
from tests.carriers.test_easypost_returns import US_SHOPPER, refund_of_bought_label, replay

pytestmark = pytest.mark.asyncio(loop_scope="session")


def request(rid: str) -> LabelRequest:
    return LabelRequest(return_id=rid, direction="inbound", country="US", skus=["TEE-M"],
                        shopper_address=Address(**US_SHOPPER), shopper_email="jack@example.com")  # fmt: skip


async def test_a_retry_after_a_crash_resumes_the_created_shipment_and_never_buys_twice(
    ep_settings: Settings, tmp_path: Path, recorded_label_is_free
) -> None:
    sessions = get_sessionmaker(ep_settings.resolved_database_url())
    rid = "R-ACT" + tmp_path.name[-6:].upper()
    # An earlier attempt created the EasyPost shipment, wrote it down, and died (before or after paying).
    async with sessions.begin() as s:
        s.add(CarrierPurchase(key=f"{rid}:inbound", return_id=rid, carrier="easypost", warehouse_id="sf",
                              provider_shipment_id=BOUGHT_SHIPMENT))  # fmt: skip
    carrier, env = LocalCarrier(ep_settings), ActivityEnvironment()
    with replay.use_cassette(resume_cassette(tmp_path, bought=True)) as cassette:
        first = await env.run(carrier.create_label, request(rid))
        again = await env.run(carrier.create_label, request(rid))  # a later retry: the row answers, no HTTP
    assert cassette.play_count == 1  # one GET of that shipment; no new shipment, no purchase
    assert first == again and (first.tracking_number, first.warehouse_id) == (TRACKING, "sf")
    assert first.provider_shipment_id == BOUGHT_SHIPMENT

    with replay.use_cassette(refund_of_bought_label(tmp_path)) as cassette:
        await env.run(carrier.void_label, TRACKING)
        await env.run(carrier.void_label, TRACKING)  # retried: already voided, EasyPost is not asked again
    assert cassette.play_count == 1
    async with sessions() as s:
        assert (await s.get(ShipmentRow, TRACKING)).status == "voided"  # type: ignore[union-attr]
        # A reissued label for this return will be bought afresh, not resumed from the voided one.
        assert await s.scalar(select(CarrierPurchase).where(CarrierPurchase.return_id == rid)) is None
        await s.execute(delete(ShipmentRow).where(ShipmentRow.tracking_number == TRACKING))
        await s.commit()


async def test_an_easypost_warehouse_without_an_api_key_fails_loudly(ep_settings: Settings) -> None:
    no_key = ep_settings.model_copy(update={"easypost": ep_settings.easypost.model_copy(update={"api_key": None})})
    with pytest.raises(RuntimeError, match="REVERSO_EASYPOST__API_KEY"):
        await ActivityEnvironment().run(LocalCarrier(no_key).create_label, request("R-NOKEY"))
