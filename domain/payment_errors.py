"""What the payment activities (activities/payments.py) raise when Stripe has answered, once and for all, no.

Each is the `type` of a non-retryable `temporalio.exceptions.ApplicationError`; its details are one dict with the
Stripe `code` (and `decline_code`, `status`, `cancellation_reason` where Stripe gave them), so the workflow can
tell staff what happened. A charge or hold that cannot be made (declined, under the currency's minimum, a
payment method that cannot be used again or none at all) is not raised: the activity answers
`PaymentResult(status="failed", reason="<Stripe code>: <message>")`, the answer the workflow falls back on.
"""

from __future__ import annotations

from typing import Final

# Stripe refused a refund: nothing or not that much left on the payment (`charge_already_refunded`,
# `amount_too_large`), a dispute (`charge_disputed`), an idempotency key reused with another amount
# (`idempotency_error`), an unknown payment (`resource_missing`).
REFUND_REFUSED: Final = "PaymentRefundRefused"
# A hold was to be captured but Stripe had already cancelled it: its authorization lapsed (Stripe's 7 days,
# `cancellation_reason: "automatic"`) or it was cancelled in the dashboard. Nothing was captured.
HOLD_EXPIRED: Final = "PaymentHoldExpired"
# Any other definitive refusal to capture or release a hold (an amount Stripe refuses, an unknown intent).
HOLD_REFUSED: Final = "PaymentHoldRefused"
# Stripe could not answer now (network, 5xx, 429, `lock_timeout`, a key still in use): retried with backoff.
PAYMENT_UNAVAILABLE: Final = "PaymentProviderUnavailable"

# Stripe codes that mean "ask again later" even on a 4xx status.
TRANSIENT_CODES: Final = frozenset({"lock_timeout", "rate_limit", "idempotency_key_in_use"})
