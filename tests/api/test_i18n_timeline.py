"""Every timeline entry the workflow writes is a code with parameters, and reads in words at the edge: staff's
English as before, a shopper's wording (no staff names, no limits), and Portuguese on a pt-PT page."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from api.i18n import translator
from api.timeline_words import SHOPPER_HIDDEN, entry_text
from domain.codes import Reader
from tests.i18n.test_catalogs import catalog, texts

HISTORIES = Path(__file__).resolve().parents[1] / "histories"

EN, PT = texts(catalog("en")), texts(catalog("pt_PT"))


def written_entries() -> list[dict[str, Any]]:
    """The timeline entries in every read-model projection the saved histories scheduled, and in every state an
    update answered with (projections are local activities now: their input is in no history); each with its
    return's currency."""
    found: dict[str, dict[str, Any]] = {}
    for path in HISTORIES.glob("*.json"):
        for event in json.loads(path.read_text())["events"]:
            if (attrs := event.get("activityTaskScheduledEventAttributes")) is not None:
                if attrs["activityType"]["name"] != "project_return":
                    continue
                payloads = attrs["input"]["payloads"]
            elif (done := event.get("workflowExecutionUpdateCompletedEventAttributes")) is not None:
                payloads = done["outcome"].get("success", {}).get("payloads", [])
            else:
                continue
            state = json.loads(base64.b64decode(payloads[0]["data"])) if payloads else None
            if isinstance(state, dict) and "timeline" in state:
                for entry in state["timeline"]:
                    key = json.dumps([entry["code"], entry["params"], entry["by"]], sort_keys=True)
                    found[key] = entry | {"currency": state["currency"]}
    return list(found.values())


def words(entry: dict[str, Any], reader: Reader, lang: str) -> str:
    return entry_text(translator(lang), entry["code"], entry["params"], entry["currency"], reader, lambda: "")


def test_every_entry_the_workflow_writes_is_a_code_with_words_in_both_languages():
    entries = written_entries()
    codes = {x["code"] for x in entries}
    assert len(codes) > 15, codes  # the histories cover every path
    assert all(x["code"] and not x["message"] for x in entries)  # no sentence in the workflow's state
    assert sorted(c for c in codes if f"say.{c}" not in EN or f"say.{c}" not in PT) == []
    for entry in entries:
        for reader in ("staff", "shopper"):
            english, portuguese = words(entry, reader, "en"), words(entry, reader, "pt")
            assert "{" not in english and "{" not in portuguese, (entry, english, portuguese)
            assert portuguese != english, f"no Portuguese for {english!r}"


def test_a_shopper_reads_no_staff_name_and_no_limit():
    for entry in written_entries():
        for lang in ("en", "pt"):
            said = words(entry, "shopper", lang)
            assert not entry["by"] or entry["by"] not in said, (entry, said)
            for hidden in SHOPPER_HIDDEN.get(entry["code"], ()):
                value = entry["params"].get(hidden)
                assert value in (None, "", []) or str(value) not in said.split(), (entry, said)


def test_every_timeline_word_has_its_portuguese():
    keys = {k for k in EN if k.startswith("say.")}
    assert sorted(keys - set(PT)) == []


def say(code: str, reader: Reader = "staff", lang: str = "en", **params: Any) -> str:
    return entry_text(translator(lang), code, params, "EUR", reader, lambda: "final sale")


def test_staff_read_todays_english():
    assert say("refund_approved", amount=2000) == "refund of 20.00 EUR approved by the shop"
    lines = [{"line": "L1", "accepted": 1, "condition": "damaged"}, {"line": "L2", "accepted": 2, "condition": "new"}]
    assert say("inspected", lines=lines) == "inspected by the warehouse: L1: 1 accepted (damaged), L2: 2 accepted (new)"
    assert say("completed", refund=2500, store_credit=500, exchanged=0) == (
        "completed: refunded 25.00 EUR, store credit 5.00 EUR"
    )
    assert say("completed", refund=0, store_credit=0, exchanged=0) == "completed: nothing to pay back"
    assert say("receiving_closed", missing=[]) == "receiving closed by the warehouse; parcels that never arrived: none"
    assert say("return_requested") == "return requested: final sale"
    assert say("parcel_event", tracking="LC1", event="out_for_delivery") == "parcel LC1: out for delivery"
    assert say("finance_review", reasons=[{"code": "review_above_threshold", "params": {}}]) == (
        "finance review: refund is above the review threshold"
    )


def test_roles_and_parts_read_in_portuguese():
    assert say("approved", lang="pt") == "aprovada pela loja"
    assert say("cancelled_by_shopper", lang="pt") == "cancelada pelo cliente"
    assert say("inspected", lang="pt", lines=[{"line": "L1", "accepted": 1, "condition": "new"}]) == (
        "inspecionada pelo armazém: L1: 1 aceite(s) (novo)"
    )
    assert say("completed", lang="pt", refund=2500, store_credit=500) == (
        "concluída: reembolsado 25.00 EUR, crédito em loja 5.00 EUR"
    )
    assert say("finance_review", lang="pt", reasons=[{"code": "review_above_threshold_with_others", "params": {}}]) == (
        "revisão financeira: o reembolso com as outras devoluções da encomenda está acima do limite de revisão"
    )  # fmt: skip


def test_a_shopper_reads_no_threshold_or_reason_for_staff():
    why = [{"code": "review_above_threshold", "params": {}}]
    assert say("finance_review", "shopper", reasons=why) == "the refund is being reviewed by the shop"
    assert say("finance_review", "shopper", "pt", reasons=why) == "o reembolso está a ser analisado pela loja"
    assert say("expired", "shopper", days=14) == "no carrier scan in time"
    assert "7" not in say("parcel_stuck", "shopper", tracking="LC1", days=7)
