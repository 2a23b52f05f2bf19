"""What a shopper must give with each line, as the policy's reasons ask (issue 19): a reason the item's category
offers (`reasons_by_category`), and the comment and photos a reason asks for (`reason_requirements`).

Checked at filing, before anything reaches a workflow: each problem names its field (`lines.0.comment`) so a form
can put it beside that field. Pure: the API and the portal's pages call it with the policy in force."""

from __future__ import annotations

from typing import NamedTuple

from domain.models import Order, ReturnLineRequest
from domain.policy import PolicySettings


class LineProblem(NamedTuple):
    field: str  # lines.<i>.reason | lines.<i>.comment | lines.<i>.photo_ids
    code: str  # reason_not_offered | comment_required | photos_required | photo_named_twice
    photos: int = 0  # photos_required: how many


def line_problems(order: Order, lines: list[ReturnLineRequest], policy: PolicySettings) -> list[LineProblem]:
    problems: list[LineProblem] = []
    seen: set[str] = set()
    for i, req in enumerate(lines):
        line = order.line(req.line_id)
        if line is None:  # the policy's own refusal (no_such_line) says it
            continue
        if req.reason not in policy.reasons_for(line.category):
            problems.append(LineProblem(f"lines.{i}.reason", "reason_not_offered"))
            continue
        need = policy.requirement(req.reason)
        if need.comment and not req.comment.strip():
            problems.append(LineProblem(f"lines.{i}.comment", "comment_required"))
        if len(req.photo_ids) < need.photos:
            problems.append(LineProblem(f"lines.{i}.photo_ids", "photos_required", need.photos))
        if seen & set(req.photo_ids) or len(set(req.photo_ids)) != len(req.photo_ids):
            problems.append(LineProblem(f"lines.{i}.photo_ids", "photo_named_twice"))
        seen |= set(req.photo_ids)
    return problems


# Each problem in staff English for the JSON's `reason` (pages say it in the reader's language: `line_rule.<code>`).
WORDS = {
    "reason_not_offered": "this reason is not offered for this item",
    "comment_required": "this reason needs a comment",
    "photos_required": "this reason needs at least {count} photo(s)",
    "photo_named_twice": "a photo is named twice",
    "photo_not_yours": "not a photo uploaded for this order",
}


def as_field_errors(problems: list[LineProblem]) -> list[dict[str, str]]:
    """The 422's `detail`, as the API's validation errors are: [{field, reason, type}]."""
    return [{"field": p.field, "reason": WORDS[p.code].format(count=p.photos), "type": p.code} for p in problems]
