"""What a caller needs to talk to ReturnWorkflow: its names, its message types, its refusals and its search
attributes. No activity and no workflow code is imported from here, so the API process loads neither.

A caller uses the names with a typed result, for example
`await handle.execute_update(APPROVE, by, result_type=ReturnState)`,
`await handle.signal(CARRIER_EVENT, event)`, `await handle.query(GET_STATE, result_type=ReturnState)`,
`await client.start_workflow(RETURN_WORKFLOW, ReturnInput(...), id=..., task_queue=...)`.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

from domain.messages import ReturnInput, SubmitAnswer, SubmitRequest
from domain.models import CarrierEvent, Inspection, RefundReview, ReturnState

__all__ = [
    "ALREADY_SUBMITTED", "APPROVE", "CANCEL", "CARRIER_EVENT", "CLOSE_RECEIVING", "EXCHANGE_WORKFLOW", "GET_STATE",
    "INELIGIBLE_LINES", "ORDER_KEY", "RATE_LIMITED", "RECORD_INSPECTION", "REISSUE_LABEL", "REJECT", "RETURN_WORKFLOW",
    "RESOLVE", "REVIEW_REFUND", "STATUS_KEY", "SUBMIT", "UPDATE_RESULTS", "CarrierEvent", "Inspection", "RefundReview",
    "ReturnInput", "ReturnState", "SubmitAnswer", "SubmitRequest",
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

# Refusals. A second `submit` is refused by its validator with this message.
ALREADY_SUBMITTED = "this return was already submitted"
# ApplicationError types: the submit's lines are not returnable (details: the ineligible lines); new labels were
# asked too often (details: the seconds to wait, and when they can be asked again as an ISO time).
INELIGIBLE_LINES = "IneligibleLines"
RATE_LIMITED = "RateLimited"

# Search attributes, kept when the starter registers them.
STATUS_KEY = SearchAttributeKey.for_keyword("ReturnStatus")
ORDER_KEY = SearchAttributeKey.for_keyword("OrderNumber")
