"""Commands run beside `reverso dev` find its peers through <state>/dev.json; what the user sets wins."""

from __future__ import annotations

import json
from pathlib import Path

from settings import Settings

PEERS = {"public_url": "http://127.0.0.1:18000", "temporal_address": "127.0.0.1:17233", "smtp_port": 18025}


def test_a_command_beside_reverso_dev_reaches_its_api_and_peers(tmp_path: Path):
    (tmp_path / "dev.json").write_text(json.dumps(PEERS))
    s = Settings(state_dir=tmp_path)
    assert (s.public_url, s.temporal_address, s.smtp_port) == tuple(PEERS.values())


def test_what_the_user_sets_wins_over_dev_json(tmp_path: Path):
    (tmp_path / "dev.json").write_text(json.dumps(PEERS))
    assert Settings(state_dir=tmp_path, public_url="https://returns.example.com").public_url == (
        "https://returns.example.com"
    )


def test_a_stale_dev_json_does_not_pass_for_the_users_choice(tmp_path: Path):
    # `reverso dev` keeps a public URL only when the user set one; a file left by a crashed run is not that.
    (tmp_path / "dev.json").write_text(json.dumps(PEERS))
    assert "public_url" not in Settings(state_dir=tmp_path).model_fields_set
