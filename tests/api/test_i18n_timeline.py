"""Every timeline message the workflow writes reads in Portuguese on a pt-PT page."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from api.i18n import timeline_text

HISTORIES = Path(__file__).resolve().parents[1] / "histories"


def written_messages() -> set[str]:
    """The timeline messages in every read-model projection the saved histories scheduled."""
    found: set[str] = set()
    for path in HISTORIES.glob("*.json"):
        for event in json.loads(path.read_text())["events"]:
            attrs = event.get("activityTaskScheduledEventAttributes")
            if not attrs or attrs["activityType"]["name"] != "project_return":
                continue
            state = json.loads(base64.b64decode(attrs["input"]["payloads"][0]["data"]))
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
    assert timeline_text("approved by boss", "en") == "approved by boss"
