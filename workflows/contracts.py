"""What a caller needs to talk to ReturnWorkflow: its names, its message types, its refusals and its search
attributes. No activity and no workflow code is imported from here, so the API process loads neither.

A caller uses the names with a typed result, for example
`await handle.execute_update(APPROVE, by, result_type=ReturnState)`,
`await handle.signal(CARRIER_EVENT, event)`, `await handle.query(GET_STATE, result_type=ReturnState)`,
`await client.start_workflow(RETURN_WORKFLOW, ReturnInput(...), id=..., task_queue=...)`.
"""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey
from temporalio.exceptions import ApplicationError

from domain.messages import ReturnInput, SubmitAnswer, SubmitRequest
from domain.models import CarrierEvent, Inspection, RefundReview, ReturnState

__all__ = [
    "ALREADY_SUBMITTED", "APPROVE", "CANCEL", "CARRIER_EVENT", "CLOSE_RECEIVING", "EXCHANGE_WORKFLOW", "GET_STATE",
    "INELIGIBLE_LINES", "ORDER_KEY", "RATE_LIMITED", "RECORD_INSPECTION", "REFUSAL_CODES", "REISSUE_LABEL", "REJECT",
    "RETURN_WORKFLOW", "RESOLVE", "REVIEW_REFUND", "STATUS_KEY", "SUBMIT", "UPDATE_RESULTS", "AlreadySubmitted",
    "AmountTooLarge", "CarrierEvent", "IneligibleLines", "Inspection", "InvalidField", "LabelUnavailable",
    "RateLimited", "RefundReview", "Refusal", "ReturnInput", "ReturnState", "SubmitAnswer", "SubmitRequest",
    "WrongStatus",
]  # fmt: skip

# Workflow types; the exchange reship runs as a child with id `<return id>-exchange`.
RETURN_WORKFLOW = "ReturnWorkflow"
EXCHANGE_WORKFLOW = "ExchangeWorkflow"

# Updates: their argument, then what they answer (UPDATE_RESULTS).
SUBMIT = "submit"  # SubmitRequest
APPROVE = "approve"  # by: str
REJECT = "reject"  # reason: str
CANCEL = "cancel"  # by: str ("" or "shopper" for the shopper)
RECORD_INSPECTION = "record_inspection"  # Inspection
REVIEW_REFUND = "review_refund"  # RefundReview
REISSUE_LABEL = "reissue_label"  # by: str
CLOSE_RECEIVING = "close_receiving"  # by: str
RESOLVE = "resolve"  # domain.models.ResolveRequest: a person's action on a return in the Exceptions queue
UPDATE_RESULTS: dict[str, type[ReturnState]] = {
    SUBMIT: SubmitAnswer,
    APPROVE: ReturnState,
    REJECT: ReturnState,
    CANCEL: ReturnState,
    RECORD_INSPECTION: ReturnState,
    REVIEW_REFUND: ReturnState,
    REISSUE_LABEL: ReturnState,
    CLOSE_RECEIVING: ReturnState,
    RESOLVE: ReturnState,
}
CARRIER_EVENT = "carrier_event"  # signal: CarrierEvent
GET_STATE = "get_state"  # query: ReturnState | None (None before the submit)

# Refusals: what an update answers when it will not do what was asked. Each is an ApplicationError whose `type` is
# its class name and whose `code` the API answers (its HTTP status is chosen in api/temporal_calls.py, from the type,
# never from the message); the message is the sentence a caller reads as `detail`.
ALREADY_SUBMITTED = "this return was already submitted"  # AlreadySubmitted's message


class Refusal(ApplicationError):
    code = "refused"

    def __init__(self, message: str, *details: Any) -> None:
        super().__init__(message, *details, type=type(self).__name__, non_retryable=True)


class WrongStatus(Refusal):
    """Not in this status (or another action is under way): the return may allow it later or never."""

    code = "wrong_status"


class InvalidField(Refusal):
    """A field of the request does not fit the return (an inspection's lines, for example)."""

    code = "invalid_field"


class AmountTooLarge(Refusal):
    """An amount above what the return can pay back."""

    code = "amount_too_large"


class AlreadySubmitted(Refusal):
    code = "already_submitted"


class IneligibleLines(Refusal):
    """The submit's lines are not returnable; details: the ineligible lines."""

    code = "ineligible_lines"


class ChargeChanged(Refusal):
    """The charge the shopper agreed to (`accept_charge`) is not the one the decision computes; details: the charge."""

    code = "charge_changed"


class RateLimited(Refusal):
    """New labels were asked too often; details: the seconds to wait, and when they can be asked again (ISO)."""

    code = "rate_limited"


class LabelUnavailable(Refusal):
    """The carrier could not make a return label: the return ends rejected."""

    code = "label_unavailable"


REFUSALS: tuple[type[Refusal], ...] = (WrongStatus, InvalidField, AmountTooLarge, AlreadySubmitted, IneligibleLines,
                                       ChargeChanged, RateLimited, LabelUnavailable)  # fmt: skip
REFUSAL_CODES = {x.__name__: x.code for x in REFUSALS}  # ApplicationError type -> code
INELIGIBLE_LINES = IneligibleLines.__name__
RATE_LIMITED = RateLimited.__name__

# Search attributes, kept when the starter registers them.
STATUS_KEY = SearchAttributeKey.for_keyword("ReturnStatus")
ORDER_KEY = SearchAttributeKey.for_keyword("OrderNumber")
