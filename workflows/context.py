"""The state one return's stages share: the return as the shopper and staff see it (ReturnState), the books each
stage keeps, and the bookkeeping every stage does (timeline, status, values the database cannot store).

ReturnWorkflow holds one ReturnContext and passes it to the stage modules (submission, shipping, tracking,
inspection, exchanging, resolution); they read and change it and nothing else of the workflow. Rebuilt on replay
like all workflow state. No side effects here: those are activities, called by the stages and by workflows.publish.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import policy as rules
    from domain.messages import ClaimResult, ExchangeResult, ReturnInput
    from domain.models import (
        AttentionCode,
        LineDecision,
        Order,
        RefundReview,
        ResolveAction,
        ReturnState,
        Shipment,
        Status,
        TimelineEntry,
    )
    from domain.text import scrub
    from workflows.contracts import ORDER_KEY, STATUS_KEY, WrongStatus
    from workflows.settlement import PaymentBook


# What staff see of a return's attention: attention, attention_code, attention_reason, resolutions.
Attention = tuple[bool, "AttentionCode | Literal['']", str, list[ResolveAction]]


@dataclass
class ParcelBook:
    """The parcels of the return: how many, their labels' generation and clocks, scans, stuck parcels."""

    parcels: int = 1
    generation: int = 0  # bumped when labels are reissued or voided: the shipment loop recomputes its timers
    labels_from: datetime | None = None  # when the current labels were issued
    last_scan: dict[str, datetime] = field(default_factory=dict)  # tracking -> when it was last scanned
    scans: int = 0
    stuck: set[str] = field(default_factory=set)
    lost: set[str] = field(default_factory=set)  # stuck parcels taken as lost (tracking.LOST_AFTER)
    flags: int = 0  # how many times a parcel was flagged stuck: part of each e-mail's once-only key
    dirty: bool = False  # a scan changed the state and nobody has projected it yet
    reissued: list[datetime] = field(default_factory=list)  # when labels were reissued, within the last 24 hours
    expires_at: datetime | None = None  # when the return expires without a scan; a scan that happened before counts
    late_until: datetime | None = None  # after expiry: till when a late scan still reopens the question
    late: bool = False  # a scan that happened after the expiry came within late_scan_days: a person decides
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one label change (reissue, expiry) at a time


@dataclass
class ExchangeBook:
    """What the return has done about its exchanges so far."""

    instant: list[str] = field(default_factory=list)  # line ids shipped at approval (instant exchange)
    instant_quantity: dict[str, int] = field(default_factory=dict)
    charged: dict[str, int] = field(default_factory=dict)  # line id -> difference paid, never counted twice
    outcome: ExchangeResult | None = None
    hold_key: str = ""


@dataclass
class ReturnContext:
    input: ReturnInput
    claim: ClaimResult | None = None  # the order, policy and decision, from the submit
    current: ReturnState | None = None  # None until the submit has a decision
    submit_started: bool = False
    submitted: bool = False  # set when `submit` has finished, label included
    invalid: bool = False  # the submit was refused: the workflow ends
    kept: bool = False  # a "keep it" return: refunded without coming back
    approving: bool = False  # from here on a second approve (a retried request) is refused
    approved_by: str = ""
    reject_reason: str = ""  # the shop's, to the shopper
    label_refused: bool = False  # rejected because the carrier could not make a label
    inspected: bool = False
    review: RefundReview | None = None
    seen_events: set[str] = field(default_factory=set)  # carrier scans already taken, by id and by content
    # Values that reached the workflow with characters the database cannot store, cleaned (domain.text.scrub):
    # where they were. Staff see them as the return's attention until it ends.
    bad_data: list[str] = field(default_factory=list)
    parcels: ParcelBook = field(default_factory=ParcelBook)
    exchange: ExchangeBook = field(default_factory=ExchangeBook)
    payments: PaymentBook = field(default_factory=PaymentBook)
    # A person's decision on a parcel that will not come (refund_without_receipt, close; workflows.exceptions),
    # carried out by the stage that waits for the parcel: (action, amount).
    decided: tuple[str, int | None] | None = None
    alerts: int = 0  # how many times the return entered the Exceptions queue: staff were e-mailed once each time
    alerted: bool = False  # staff were e-mailed about the return's current stay in the queue
    stalled: int = 0  # activities retrying past their bounded attempts right now (workflows.options)
    stall_changes: int = 0  # how many times a stall was flagged or unflagged: publish.project shows each
    before_stall: Attention | None = None  # the attention a stall covered, to put back
    # The workflow task (by the history's length when it began) in which an update handler last began: until that
    # task completes, nothing of the update is durable (workflows.publish.project).
    update_task: int = -1

    # --- what the submit established ---------------------------------------------------------------

    @property
    def state(self) -> ReturnState:
        assert self.current is not None
        return self.current

    @property
    def policy(self) -> rules.PolicySettings:
        assert self.claim is not None
        return self.claim.policy

    @property
    def order(self) -> Order:
        assert self.claim is not None
        return self.claim.order

    def status(self) -> str:
        return self.state.status

    def require(self, *allowed: str) -> None:
        """For update validators: refuse unless the return is in one of `allowed`."""
        if self.current is None or self.current.status not in allowed:
            current = self.current.status if self.current else "not submitted"
            raise WrongStatus(f"status: the return is {current}; this needs {' or '.join(allowed)}")

    def settled(self) -> list[LineDecision]:
        """What each line pays back after inspection, before any finance review."""
        return rules.settle(self.state.lines, self.policy)

    # --- updates not yet durable -----------------------------------------------------------------------

    def update_begins(self) -> None:
        """Called first by every update handler. An update is accepted, and its effects kept, only when the
        workflow task that runs its handler completes; a task lost before that (the engine restarted, the worker
        died) leaves no trace of it in the history, and the replayed workflow never made the change."""
        self.update_task = workflow.info().get_current_history_length()

    def update_uncommitted(self) -> bool:
        """Whether this workflow task carries an update: what the state shows now may never have happened."""
        return self.update_task == workflow.info().get_current_history_length()

    # --- parcels ----------------------------------------------------------------------------------

    def inbound(self) -> list[Shipment]:
        return [s for s in self.state.shipments if s.direction == "inbound"]

    def valid_labels(self) -> list[Shipment]:
        return [s for s in self.inbound() if s.status not in ("voided", "missing")]

    # --- the timeline -----------------------------------------------------------------------------

    def touch(self) -> None:
        state = self.state
        state.updated_at = workflow.now()
        state.version += 1

    def log(self, status: str, code: str, by: str = "", note: str = "", **params: Any) -> None:
        """A timeline entry: what happened as a code and its parameters (the words are made at the edge, per
        reader and language: api/timeline_words.py); `by` the person who did it and `note` theirs, for staff."""
        state = self.state
        state.timeline.append(TimelineEntry(seq=len(state.timeline) + 1, at=workflow.now(), status=status,
                                            code=code, params=params, by=by, note=note))  # fmt: skip
        self.touch()

    def transition(self, status: Status, code: str, by: str = "", **params: Any) -> None:
        self.state.status = status
        self.log(status, code, by=by, **params)
        self.publish_status()

    def publish_status(self) -> None:
        # Kept only when the starter registered them (the time-skipping test server has none).
        if ORDER_KEY in workflow.info().typed_search_attributes:
            workflow.upsert_search_attributes([STATUS_KEY.value_set(self.status())])

    # --- values the database cannot store (domain.text.scrub) -------------------------------------

    def storable(self, value: str, path: str) -> str:
        clean, bad = scrub(value, path)
        self.note_bad_data(bad)
        return clean

    def note_bad_data(self, paths: list[str]) -> None:
        """Remember where such values were; once the return exists, flag it for staff (and keep it flagged)."""
        new = [x for x in paths if x not in self.bad_data]
        self.bad_data += new
        if new and self.current is not None:
            self.calm()

    def need_person(self, code: AttentionCode, reason: str, resolutions: Sequence[ResolveAction] = ()) -> None:
        """Put the return in the Exceptions queue: why (a code), in words for staff, and what staff may do now."""
        state = self.state
        if self.stalled and code != "activity_stalled":  # what shows once the stalled activity goes through
            self.before_stall = (True, code, reason, list(resolutions))
            return
        if not state.attention or state.attention_code != code:
            self.alerted = False  # entering the queue (again, or for another reason): staff get an e-mail
        state.attention, state.attention_code, state.attention_reason = True, code, reason
        state.resolutions = list(resolutions)

    def calm(self) -> None:
        """The attention that stays once a problem is over: the bad data, if any."""
        bad = ("bad_data: " + ", ".join(self.bad_data)) if self.bad_data else ""
        calm: Attention = (bool(self.bad_data), "bad_data" if self.bad_data else "", bad, [])
        if self.stalled:
            self.before_stall = calm
            return
        self._show(calm)

    def stall(self, reason: str) -> None:
        """An activity keeps failing (workflows.options.call): staff see it while retrying goes on."""
        state = self.state
        if not self.stalled:
            self.before_stall = (state.attention, state.attention_code, state.attention_reason, state.resolutions)
            self.alerted = False
        self.stalled += 1
        self.stall_changes += 1
        state.attention, state.attention_code, state.attention_reason = True, "activity_stalled", reason
        state.resolutions = []

    def unstall(self) -> None:
        """The stalled activity went through: the attention it covered (or what came meanwhile) shows again."""
        self.stalled -= 1
        self.stall_changes += 1
        if not self.stalled and self.before_stall is not None:
            self._show(self.before_stall)
            self.before_stall = None

    def _show(self, attention: Attention) -> None:
        state = self.state
        state.attention, state.attention_code, state.attention_reason = attention[0], attention[1], attention[2]
        state.resolutions = list(attention[3])
