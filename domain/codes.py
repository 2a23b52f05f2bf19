"""Meaning as data: a code and its parameters, never a sentence.

Reasons, decisions, timeline entries and refusals carry `Coded` values in the workflow state, the read model and the
JSON; words for a person are made from them only at the edge (api/wording.py), per reader and language.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

Param = str | int
Reader = Literal["staff", "shopper"]


class Coded(BaseModel):
    code: str  # snake_case, stable: part of the public JSON (for example "outside_window")
    params: dict[str, Param] = {}


def coded(code: str, **params: Param) -> Coded:
    return Coded(code=code, params=params)
