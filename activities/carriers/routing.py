"""Which warehouse a return goes to, and the carrier adapter that warehouse uses; both from settings."""

from __future__ import annotations

from collections.abc import Iterable

import easypost

from activities.carriers.easypost import EasyPostCarrier
from settings import RoutingRule, Settings, WarehouseSettings


def rule_matches(rule: RoutingRule, country: str, skus: Iterable[str]) -> bool:
    if rule.countries and country.upper() not in {c.upper() for c in rule.countries}:
        return False
    if rule.sku_prefixes:
        upper = [s.upper() for s in skus]
        return any(sku.startswith(p.upper()) for sku in upper for p in rule.sku_prefixes)
    return True


def route(settings: Settings, country: str, skus: Iterable[str]) -> WarehouseSettings:
    """First matching rule wins; then default_warehouse; then the first warehouse."""
    warehouses = {w.id: w for w in settings.all_warehouses()}
    skus = list(skus)
    for rule in settings.routing:
        if rule_matches(rule, country, skus):
            return warehouses[rule.warehouse]
    if settings.default_warehouse:
        return warehouses[settings.default_warehouse]
    return settings.all_warehouses()[0]


def warehouse(settings: Settings, warehouse_id: str | None, country: str, skus: Iterable[str]) -> WarehouseSettings:
    """The named warehouse while it is still configured, else the routing's choice."""
    known = {w.id: w for w in settings.all_warehouses()}
    if warehouse_id and warehouse_id in known:
        return known[warehouse_id]
    return route(settings, country, skus)


def easypost_carrier(settings: Settings) -> EasyPostCarrier:
    ep = settings.easypost
    if ep.api_key is None:
        raise RuntimeError("a warehouse uses EasyPost but REVERSO_EASYPOST__API_KEY is not set")
    key = ep.api_key.get_secret_value()
    client = easypost.EasyPostClient(key, api_base=ep.api_base) if ep.api_base else easypost.EasyPostClient(key)
    secret = ep.webhook_secret.get_secret_value() if ep.webhook_secret else None
    return EasyPostCarrier(client, webhook_secret=secret, carriers=ep.carriers, services=ep.services,
                           label_format=ep.label_format)  # fmt: skip
