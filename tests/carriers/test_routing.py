"""Which warehouse a return goes to: settings (env included), rules in order, the default last."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from activities.carriers.routing import route, warehouse
from settings import Settings

US = {"name": "Reverso Returns US", "line1": "388 Townsend St", "city": "San Francisco", "region": "CA",
      "postal_code": "94107", "country": "US"}  # fmt: skip
WAREHOUSES = [
    {"id": "porto", "address_lines": ["Reverso Porto", "Rua do Armazem 12", "4400-001 Gaia", "PT"]},
    {"id": "sf", "carrier": "easypost", "address": US},
    {"id": "shoes", "address_lines": ["Reverso Shoes", "Calle 1", "Madrid", "ES"]},
]
RULES = [
    {"warehouse": "shoes", "sku_prefixes": ["SHOE-"]},  # shoes go to Madrid wherever they come from
    {"warehouse": "sf", "countries": ["us", "CA"]},
    {"warehouse": "porto", "countries": ["PT"], "sku_prefixes": ["TEE-"]},
]


def settings(**kw: object) -> Settings:
    return Settings(warehouses=WAREHOUSES, routing=RULES, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("country", "skus", "expected"),
    [
        ("US", ["SHOE-42"], "shoes"),  # first match wins, before the country rule
        ("US", ["TEE-M"], "sf"),
        ("ca", ["TEE-M"], "sf"),  # countries compare without case
        ("PT", ["tee-m"], "porto"),  # so do SKU prefixes
        ("PT", ["TEE-M", "SHOE-40"], "shoes"),  # any returned line's SKU can match
        ("PT", ["CAP-1"], "porto"),  # no rule matches: the first warehouse
        ("FR", [], "porto"),
    ],
)
def test_rules_in_order_then_the_default(country: str, skus: list[str], expected: str) -> None:
    assert route(settings(), country, skus).id == expected


def test_default_warehouse_is_used_when_no_rule_matches() -> None:
    assert route(settings(default_warehouse="shoes"), "FR", ["CAP-1"]).id == "shoes"
    assert route(settings(default_warehouse="shoes"), "US", ["CAP-1"]).id == "sf"


def test_without_warehouses_the_single_warehouse_address_is_the_default() -> None:
    only = Settings(warehouse_address="Returns\nRua 1\nPorto\nPT")
    chosen = route(only, "US", ["TEE-M"])
    assert (chosen.id, chosen.carrier, chosen.address_lines) == ("main", "local", ["Returns", "Rua 1", "Porto", "PT"])


def test_a_named_warehouse_is_kept_while_it_exists() -> None:
    # A label retried after a settings change keeps the warehouse the return was given, if it still exists.
    assert warehouse(settings(), "porto", "US", []).id == "porto"
    assert warehouse(settings(), "closed-down", "US", []).id == "sf"


def test_structured_address_gives_the_label_lines() -> None:
    sf = route(settings(), "US", []).address_lines
    assert sf == ["Reverso Returns US", "388 Townsend St", "94107 San Francisco", "CA", "US"]


def test_bad_configuration_is_refused_naming_what_is_wrong() -> None:
    with pytest.raises(ValidationError, match="unknown warehouse.*atlantis"):
        Settings(warehouses=WAREHOUSES, routing=[{"warehouse": "atlantis", "countries": ["PT"]}])
    with pytest.raises(ValidationError, match="unknown warehouse.*nowhere"):
        settings(default_warehouse="nowhere")
    with pytest.raises(ValidationError, match="carrier easypost needs a structured `address`"):
        Settings(warehouses=[{"id": "x", "carrier": "easypost", "address_lines": ["X"]}])
    with pytest.raises(ValidationError, match="carrier"):
        Settings(warehouses=[{"id": "x", "carrier": "pigeon", "address_lines": ["X"]}])


def test_warehouses_routing_and_easypost_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVERSO_WAREHOUSES", json.dumps(WAREHOUSES))
    monkeypatch.setenv("REVERSO_ROUTING", json.dumps(RULES))
    monkeypatch.setenv("REVERSO_DEFAULT_WAREHOUSE", "shoes")
    monkeypatch.setenv("REVERSO_EASYPOST__API_KEY", "EZTK_from_env")
    monkeypatch.setenv("REVERSO_EASYPOST__WEBHOOK_SECRET", "whsec_from_env")
    monkeypatch.setenv("REVERSO_EASYPOST__CARRIERS", '["USPS"]')
    s = Settings()
    assert [w.id for w in s.all_warehouses()] == ["porto", "sf", "shoes"]
    assert route(s, "US", ["TEE-M"]).carrier == "easypost" and route(s, "FR", []).id == "shoes"
    assert s.easypost.api_key is not None and s.easypost.api_key.get_secret_value() == "EZTK_from_env"
    assert s.easypost.carriers == ["USPS"]
    assert "whsec_from_env" not in repr(s)  # secrets stay out of logs
