"""Return ids for POST /api/v1/returns: random, or derived from the caller's Idempotency-Key, so that a retried
submit reaches the return its first attempt filed.

An answer can be lost after the return was filed (a cut connection, a restarted engine, a shopper pressing
"send" twice). With a key, the return id is derived from the order and the key, the workflow is started with
USE_EXISTING, and the update carries an id derived from the request body: Temporal hands a repeated update
the first one's outcome, so a retry files nothing new and answers what the first attempt answered.
"""

from __future__ import annotations

import hashlib
import json
import secrets

from domain.models import ReturnRequest

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: staff type return ids
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # visible ASCII, as an HTTP header value can carry it unencoded
KEY_HELP = ("Any unique string (a UUID) per return the caller means to file: a retry with the same key and "
            "body answers with the return the first attempt filed instead of filing another.")  # fmt: skip
REUSED = "Idempotency-Key: already used for another request on this order; send a new key"


def new_return_id() -> str:
    """A return filed without a key: R- and 10 random characters of ALPHABET."""
    return "R-" + "".join(secrets.choice(ALPHABET) for _ in range(10))


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x00".join(parts).encode()).digest()


def keyed_return_id(order_number: str, key: str) -> str:
    """An id in the shape of a random one (R- and 10 of ALPHABET, 50 bits), the same for the same order and key.

    The order number is part of it, so two shops' scripts or two shoppers using the same key never meet."""
    number = int.from_bytes(_digest("return", order_number, key)[:8])
    chars = []
    for _ in range(10):
        number, i = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[i])
    return "R-" + "".join(chars)


def submit_update_id(body: ReturnRequest) -> str:
    """Equal bodies give equal ids; the same key with another body becomes a second submit, which is refused."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return "submit-" + _digest("submit", canonical).hex()[:32]
