"""The policy's reasons as codes (issue 15): what each code's parameters are, and which a shopper may read.

The policy writes a `Said` where it decides: the code with its parameters is the truth the workflow state, the
read model and the JSON carry; `text` is the same reason in staff English, kept for the workflow's own English
(the timeline's "return requested" entry, e-mails) until those are codes too. Nothing decides by reading `text`.
Words for a person come from the code at the edge (api/wording.py, the `say.*` entries of the catalogs in api/locale).
"""

from __future__ import annotations

from typing import NamedTuple

from domain.codes import Coded, Param, coded

# Parameters that are amounts: integer minor units of the `currency` parameter, formatted at the edge.
AMOUNT_PARAMS = frozenset({"value", "total", "limit", "fee", "bonus", "amount"})
# Parameters a shopper's JSON leaves out: the shop's thresholds and what tells where they lie (the value compared
# with the auto-approve limit), and the shop's own tags and categories. A code with them has a shopper text without.
STAFF_ONLY_PARAMS = frozenset({"limit", "value", "total", "tag", "category"})
# Decision codes about exchanges, shown next to the exchange in the portal's preview.
EXCHANGE_CODES = frozenset(
    {"exchange_unavailable", "exchange_pay_difference", "exchange_difference_back", "exchange_same_price",
     "exchange_out_of_stock"}
)  # fmt: skip


class Said(NamedTuple):
    text: str  # staff English, as before codes: see the module's docstring
    code: Coded


def said(text: str, code: str, **params: Param) -> Said:
    return Said(text, coded(code, **params))


def on_line(item: Said, line_id: str, title: str) -> Said:
    """A line's reason told about the whole return: the same code, naming the line (staff read its id, shoppers
    its title)."""
    params = {**item.code.params, "line_id": line_id, "title": title}
    return Said(f"line {line_id}: {item.text}", Coded(code=item.code.code, params=params))


def for_shopper(item: Coded) -> Coded:
    """The code as a shopper's JSON carries it: without the shop's thresholds."""
    return Coded(code=item.code, params={k: v for k, v in item.params.items() if k not in STAFF_ONLY_PARAMS})
