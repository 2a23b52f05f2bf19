"""Every idempotency key, built in one place: the ledgers' unique rows and the providers' Idempotency-Key.

Existing ledger rows carry these exact strings: a key's shape never changes once written, or a retry would no
longer find its row and would pay, grant, reserve or send a second time.
"""

from __future__ import annotations


def refund_key(return_id: str, line_id: str) -> str:
    """One refund per returned line."""
    return f"{return_id}:refund:{line_id}"


def credit_key(return_id: str) -> str:
    """One store-credit grant per return (all its store-credit lines together)."""
    return f"{return_id}:credit"


def credit_bonus_key(grant_key: str) -> str:
    """The bonus of a grant: an entry of its own, written with the grant."""
    return f"{grant_key}:bonus"


def exchange_reserve_key(return_id: str, line_id: str) -> str:
    """The stock held for a line's replacement, from the reserve at submit to the reship that consumes it."""
    return f"{return_id}:exchange:{line_id}"


def exchange_hold_key(return_id: str) -> str:
    """The card hold of an instant exchange."""
    return f"{return_id}:exchange-hold"


def exchange_charge_key(return_id: str, line_id: str) -> str:
    """The price difference paid for a line's dearer replacement."""
    return f"{return_id}:exchange-charge:{line_id}"


def hold_settlement_key(hold_key: str, capture: bool) -> str:
    """Stripe's Idempotency-Key for capturing or releasing the hold made under `hold_key`."""
    return f"{hold_key}:capture" if capture else f"{hold_key}:release"


def email_key(return_id: str, kind: str, dedupe: str = "") -> str:
    """One e-mail per return and kind; `dedupe` tells apart the kinds sent more than once (a reissued label)."""
    return f"{return_id}:{kind}" + (f":{dedupe}" if dedupe else "")


def label_purchase_key(return_id: str, direction: str, parcel: int) -> str:
    """One label bought from a carrier API per return, direction and parcel (the first parcel has no suffix)."""
    return f"{return_id}:{direction}" + (f":{parcel}" if parcel > 1 else "")


def resolution_key(return_id: str, seq: int, what: str) -> str:
    """A payment a person's resolution makes: the `seq`th resolution of the return, for `what` (a line id, "credit",
    "shipping", "hold")."""
    return f"{return_id}:resolve:{seq}:{what}"


def shipping_refund_key(order_number: str) -> str:
    """The order's original shipping, refunded once per order whichever of its returns pays it."""
    return f"order:{order_number}:refund:shipping"


def hold_refund_key(hold_key: str) -> str:
    """What goes back from a hold captured before its authorization lapsed, once the inspection has accepted it."""
    return f"{hold_key}:refund"
