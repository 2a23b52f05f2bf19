"""The policy as a document: YAML (or JSON) text in, a validated PolicySettings out, errors naming the field path.

The same document is what the admin API reads and replaces, and what each version in PostgreSQL holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ConfigDict, ValidationError

from domain.policy import PolicySettings

DEFAULT_POLICY_FILE = Path(__file__).with_name("default_policy.yaml")


class PolicyDocument(PolicySettings):
    """A document from outside: unknown keys are typos, and a typo must not pass silently."""

    model_config = ConfigDict(extra="forbid")


class PolicyError(ValueError):
    """A policy document that cannot be used; `problems` are (field path, reason)."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(f"{path or '(document)'}: {why}" for path, why in problems))


def field_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc)


def parse(data: Any, source: str = "policy") -> PolicySettings:
    """Validate a document; the result is a plain PolicySettings, as the workflow carries it."""
    if not isinstance(data, dict):
        raise PolicyError(source, [("", "the policy must be a mapping of setting names to values")])
    try:
        doc = PolicyDocument.model_validate(data)
    except ValidationError as e:
        raise PolicyError(source, [(field_path(err["loc"]), err["msg"]) for err in e.errors()]) from None
    return PolicySettings.model_validate(doc.model_dump())


def parse_yaml(text: str, source: str = "policy") -> PolicySettings:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise PolicyError(source, [("", f"not valid YAML: {e}")]) from None
    return parse({} if data is None else data, source)


def load_file(path: Path) -> PolicySettings:
    try:
        text = path.read_text()
    except OSError as e:
        raise PolicyError(str(path), [("", f"cannot read the file: {e.strerror}")]) from None
    return parse_yaml(text, str(path))


def seed_policy(path: Path | None, overrides: PolicySettings) -> PolicySettings:
    """The first version: the file, with each setting given in the environment (REVERSO_POLICY__...) on top."""
    base = load_file(path or DEFAULT_POLICY_FILE)
    explicit = overrides.model_dump(include=overrides.model_fields_set)
    return parse({**base.model_dump(), **explicit}, "REVERSO_POLICY__ settings")


def dump(policy: PolicySettings) -> dict[str, Any]:
    return policy.model_dump(mode="json")
