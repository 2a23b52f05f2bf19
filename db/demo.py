"""Demo data for `reverso demo`: inventory, and orders paid with real PaymentIntents in the payment peer."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

import stripe

from db.engine import get_sessionmaker
from db.queries import upsert_inventory, upsert_order
from domain.models import Order
from settings import Settings

INVENTORY = [
    ("TEE-BLUE-S", "Organic tee, blue, S", 2500, 12),
    ("TEE-BLUE-M", "Organic tee, blue, M", 2500, 12),
    ("TEE-BLUE-L", "Organic tee, blue, L", 2500, 0),
    ("MUG-STONE", "Stoneware mug", 1800, 30),
    ("JACKET-WAX", "Waxed cotton jacket", 32000, 4),
    ("SOCKS-SALE", "Wool socks (final sale)", 900, 50),
]
ADDRESS = {
    "name": "Ana Sousa",
    "line1": "Rua das Flores 28",
    "city": "Porto",
    "postal_code": "4050-262",
    "country": "PT",
}


def _orders(now: datetime, suffix: str) -> list[tuple[str, str, int, list[tuple[str, int]], str]]:
    return [
        (
            f"D{suffix}-1",
            "ana@example.com",
            10,
            [("TEE-BLUE-M", 2), ("MUG-STONE", 1)],
            "delivered 10 days ago",
        ),
        (
            f"D{suffix}-2",
            "bruno@example.com",
            40,
            [("TEE-BLUE-S", 1)],
            "delivered 40 days ago: window closed",
        ),
        (
            f"D{suffix}-3",
            "carla@example.com",
            5,
            [("SOCKS-SALE", 3), ("TEE-BLUE-S", 1)],
            "has a final-sale line",
        ),
        (f"D{suffix}-4", "diogo@example.com", 7, [("JACKET-WAX", 1)], "above the auto-approve limit"),
    ]


def _pay(settings: Settings, amount: int, currency: str) -> str:
    client = stripe.StripeClient(settings.stripe_api_key.get_secret_value(),
                                 base_addresses={"api": settings.stripe_api_base} if settings.stripe_api_base else {})  # fmt: skip
    pi = client.v1.payment_intents.create(
        {"amount": amount, "currency": currency.lower(), "payment_method": "pm_card_visa", "confirm": True}
    )
    return pi.id


async def load_demo(settings: Settings) -> list[tuple[str, str, str]]:
    now = datetime.now(UTC)
    suffix = secrets.token_hex(2).upper()
    prices = {sku: (title, price) for sku, title, price, _ in INVENTORY}
    printed = []
    async with get_sessionmaker(settings.resolved_database_url()).begin() as s:
        for sku, title, price, available in INVENTORY:
            await upsert_inventory(s, sku, title, price, "EUR", available)
        for number, email, days, items, what in _orders(now, suffix):
            total = sum(prices[sku][1] * qty for sku, qty in items)
            reference = await asyncio.to_thread(_pay, settings, total, "EUR")
            lines = [{"id": f"L{i + 1}", "sku": sku, "title": prices[sku][0], "quantity": qty,
                      "unit_price": prices[sku][1], "final_sale": sku.endswith("SALE")}
                     for i, (sku, qty) in enumerate(items)]  # fmt: skip
            order = Order.model_validate({
                "number": number, "email": email, "currency": "EUR", "placed_at": now - timedelta(days=days + 3),
                "delivered_at": now - timedelta(days=days), "payment": {"provider": "stripe", "reference": reference},
                "shipping_address": ADDRESS, "lines": lines,
            })  # fmt: skip
            await upsert_order(s, order)
            printed.append((number, email, what))
    return printed
