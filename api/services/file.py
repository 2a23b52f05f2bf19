"""File a return: a shopper submits lines of their order, and the return's workflow decides it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.auth import Shopper
from api.exchange_quotes import unknown_exchange_skus
from api.services.errors import ServiceError
from api.services.preview import preview
from api.services.shopper_photos import foreign_photos
from api.submit_keys import REUSED, keyed_return_id, new_return_id, submit_update_id
from api.temporal_calls import call
from db.queries import get_order
from domain.line_rules import as_field_errors, line_problems
from domain.messages import ReturnInput, SubmitAnswer, SubmitRequest
from domain.models import ReturnRequest
from domain.policy import PolicySettings
from workflows.contracts import ORDER_KEY, RETURN_WORKFLOW, STATUS_KEY, SUBMIT, AlreadySubmitted, IneligibleLines

NO_ORDER = "order_number: no such order for this session"


async def file_return(
    db: AsyncSession, temporal: Client, task_queue: str, policy: PolicySettings, who: Shopper, body: ReturnRequest,
    key: str | None = None, locale: str | None = None,
) -> SubmitAnswer:  # fmt: skip
    """The workflow's answer to the submit. `key`: the caller's Idempotency-Key (api.submit_keys), with which a
    retried submit answers what its first attempt did instead of filing another return. `locale`: the language the
    portal was read in (a tag of domain.languages); None, and the return takes the body's, else the order's."""
    if body.order_number != who.order_number:
        raise ServiceError(404, NO_ORDER)
    order = await get_order(db, body.order_number)
    if order is None:
        raise ServiceError(404, NO_ORDER)
    # What the policy's reasons ask of each line (issue 19), and photos that are this order's: 422 naming the field.
    if problems := line_problems(order, body.lines, policy) + await foreign_photos(db, order.number, body.lines):
        raise ServiceError(422, as_field_errors(problems))
    rid = keyed_return_id(order.number, key) if key else new_return_id()
    # A quick answer for what is plainly ineligible; the workflow decides again under a lock. A retried keyed
    # submit must not be refused for the units its own first attempt claimed.
    early = await preview(db, order, body.lines, policy, excluding=rid, full=False)
    if early.ineligible:
        # The lines carry their refusal as a code too (refusal_code, reason_codes), as the workflow's refusal does.
        raise ServiceError(422, {"message": "; ".join(early.reasons),
                                 "reason_codes": [x.model_dump() for x in early.reason_codes],
                                 "lines": [x.model_dump() for x in early.ineligible]},
                           code=IneligibleLines.code)  # fmt: skip
    if unknown := await unknown_exchange_skus(db, body.lines):
        raise ServiceError(422, "; ".join(unknown))
    start: WithStartWorkflowOperation[Any, str] = WithStartWorkflowOperation(
        RETURN_WORKFLOW,
        ReturnInput(return_id=rid, order_number=order.number),
        id=rid,
        task_queue=task_queue,
        result_type=str,
        # Keyed: a retry joins the running return, and a finished one is never started again under its id.
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING if key else WorkflowIDConflictPolicy.FAIL,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE if key else WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        search_attributes=TypedSearchAttributes(
            [SearchAttributePair(ORDER_KEY, order.number), SearchAttributePair(STATUS_KEY, "pending_approval")]
        ),
    )
    update_id = submit_update_id(body) if key else None
    # The charge agreed to is checked by the workflow, where the replacements are priced and reserved under the order's
    # lock: a price or stock change after the shopper's preview is refused there (ChargeChanged, 422 accept_charge).
    submit = SubmitRequest(
        lines=body.lines, parcels=body.parcels, locale=locale or body.locale, accept_charge=body.accept_charge
    )
    try:
        return await call(temporal.execute_update_with_start_workflow(
            SUBMIT, submit, start_workflow_operation=start, id=update_id, result_type=SubmitAnswer), db)  # fmt: skip
    except ServiceError as e:
        if key and e.code == AlreadySubmitted.code:
            raise ServiceError(422, REUSED, code=AlreadySubmitted.code) from e
        raise
    except WorkflowAlreadyStartedError:  # keyed, and the return it filed has finished since: answer as then
        assert update_id is not None
        return await _first_answer(temporal, rid, update_id)


async def _first_answer(temporal: Client, rid: str, update_id: str) -> SubmitAnswer:
    """The outcome (answer or refusal) of the submit a finished keyed return was filed with.

    None by that id: the key was used with another body, or its return never got its submit."""
    handle = temporal.get_workflow_handle(rid).get_update_handle(update_id, result_type=SubmitAnswer)
    try:
        return await call(handle.result())
    except ServiceError as e:
        if e.status == 404:
            raise ServiceError(422, REUSED, code=AlreadySubmitted.code) from e
        raise
