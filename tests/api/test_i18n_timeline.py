"""Every timeline message the workflow writes reads in Portuguese on a pt-PT page."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from api.i18n import timeline_text

HISTORIES = Path(__file__).resolve().parents[1] / "histories"


def written_messages() -> set[str]:
    """The timeline messages in every read-model projection the saved histories scheduled, and in every state an
    update answered with (projections are local activities now: their input is in no history)."""
    found: set[str] = set()
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
                found |= {entry["message"] for entry in state["timeline"]}
    return found


def test_every_message_from_the_workflow_has_a_portuguese_form():
    messages = written_messages()
    assert len(messages) > 15, messages  # the histories cover every path
    untranslated = sorted(m for m in messages if timeline_text(m, "pt") == m)
    assert untranslated == []


def test_translations_keep_names_amounts_and_notes():
    assert timeline_text("refund of 20.00 EUR approved by fiona: torn on arrival", "pt") == (
        "reembolso de 20.00 EUR aprovado por fiona: torn on arrival"
    )
    assert timeline_text("inspected by wanda: L1: 1 accepted (damaged), L2: 2 accepted (new)", "pt") == (
        "inspecionada por wanda: L1: 1 aceite(s) (danificado), L2: 2 aceite(s) (novo)"
    )
    assert timeline_text("completed: refunded 25.00 EUR, store credit 5.00 EUR", "pt") == (
        "concluída: reembolsado 25.00 EUR, crédito em loja 5.00 EUR"
    )
    assert timeline_text("something new", "pt") == "something new"


def test_roles_read_in_portuguese():
    """The workflow names roles, not people (the person is TimelineEntry.by, for staff only)."""
    assert timeline_text("approved by the shop", "pt") == "aprovada pela loja"
    assert timeline_text("cancelled by the shop", "pt") == "cancelada pela loja"
    assert timeline_text("cancelled by shopper", "pt") == "cancelada pelo cliente"
    assert timeline_text("inspected by the warehouse: L1: 1 accepted (new)", "pt") == (
        "inspecionada pelo armazém: L1: 1 aceite(s) (novo)"
    )
    assert (
        timeline_text("refund of 20.00 EUR approved by the shop", "pt") == "reembolso de 20.00 EUR aprovado pela loja"
    )
    assert timeline_text("refund denied by the shop", "pt") == "reembolso recusado pela loja"
    assert timeline_text("receiving closed by the warehouse; parcels that never arrived: none", "pt") == (
        "receção fechada pelo armazém; volumes que não chegaram: nenhum"
    )
    assert timeline_text("new return label issued at the request of the shop, tracking number LC1", "pt") == (
        "nova etiqueta de devolução emitida a pedido da loja, número de seguimento LC1"
    )
    assert timeline_text("finance review: refund with the order's other returns is above the review threshold",
                         "pt") == (
        "revisão financeira: o reembolso, com as outras devoluções da encomenda, está acima do limite de revisão"
    )  # fmt: skip
    assert timeline_text("approved by boss", "en") == "approved by boss"
