"""The policy as a YAML document: the shipped default, errors that name the field path, environment overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from domain.policy import PolicySettings
from domain.policy_document import DEFAULT_POLICY_FILE, PolicyError, load_file, parse_yaml, seed_policy
from settings import Settings


def test_the_shipped_default_is_the_policy_everyone_knew():
    assert load_file(DEFAULT_POLICY_FILE) == PolicySettings()


def test_a_bad_value_names_its_field_path():
    with pytest.raises(PolicyError) as e:
        parse_yaml("window_days_by_tag:\n  boots: -3\nrestocking_fee_bps_by_reason: {changed_mind: 20000}\n")
    assert [p for p, _ in e.value.problems] == ["window_days_by_tag.boots", "restocking_fee_bps_by_reason.changed_mind"]
    assert "greater than or equal to 0" in e.value.problems[0][1]


def test_unknown_keys_are_typos_and_not_yaml_is_refused():
    with pytest.raises(PolicyError, match="windw_days: Extra inputs are not permitted"):
        parse_yaml("windw_days: 10")
    with pytest.raises(PolicyError, match="not valid YAML"):
        parse_yaml("window_days: [1,")
    with pytest.raises(PolicyError, match="must be a mapping"):
        parse_yaml("- 1\n- 2")


def test_environment_settings_override_the_file(tmp_path: Path):
    path = tmp_path / "policy.yaml"
    path.write_text("window_days: 45\nauto_approve_limit: 100\nkeep_it_below: 1500\n")
    seeded = seed_policy(path, PolicySettings(auto_approve_limit=999))
    assert (seeded.window_days, seeded.auto_approve_limit, seeded.keep_it_below) == (45, 999, 1500)


def test_a_bad_policy_file_stops_startup_naming_the_file_and_field(tmp_path: Path, monkeypatch):
    path = tmp_path / "policy.yaml"
    path.write_text("serial_max_returns: many\n")
    monkeypatch.setenv("REVERSO_POLICY_FILE", str(path))
    with pytest.raises(ValidationError, match=r"policy\.yaml: serial_max_returns: Input should be a valid integer"):
        Settings()
    monkeypatch.setenv("REVERSO_POLICY_FILE", str(tmp_path / "missing.yaml"))
    with pytest.raises(ValidationError, match="cannot read the file"):
        Settings()
