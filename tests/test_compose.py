"""The production topology (docker-compose.yml, Dockerfile) checked as data: no Docker needed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from settings import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
# Images whose releases are numbered major.minor; everything else needs major.minor.patch, so
# "postgres:15.10" and "python:3.11.10-slim-bookworm" pass but "postgres:15" and "python:3.11-slim" do not.
TWO_PART_VERSIONS = {"postgres"}


def environment(service: dict[str, Any]) -> dict[str, Any]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the "KEY=value" form
        return dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return env


def unknown_setting(name: str) -> str | None:
    """Why a REVERSO_ variable would be silently ignored by Settings (extra="ignore"), or None."""
    model: type[BaseModel] = Settings
    path = name.removeprefix("REVERSO_").lower().split("__")
    for depth, part in enumerate(path):
        if part not in model.model_fields:
            return f"{name}: {model.__name__} has no field {part!r}"
        annotation = model.model_fields[part].annotation
        if depth < len(path) - 1:
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                return f"{name}: {part!r} is not a nested model"
            model = annotation
    return None


def image_tag_problem(image: str) -> str | None:
    if "$" in image:
        return f"{image}: the tag must be written here, not interpolated"
    if "@sha256:" in image:
        return None
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:
        return f"{image}: no tag, which means latest"
    dots = 1 if name.rsplit("/", 1)[-1] in TWO_PART_VERSIONS else 2
    if not re.fullmatch(rf"\d+(\.\d+){{{dots},}}(-[\w.-]+)?", tag):
        return f"{image}: {tag!r} is not an exact version"
    return None


def test_the_services_exist() -> None:
    expected = {"postgres", "temporal", "temporal-setup", "temporal-ui", "migrate", "api", "worker"}
    assert expected <= set(SERVICES)


def test_every_image_is_pinned() -> None:
    images = [s["image"] for s in SERVICES.values() if "image" in s]
    assert len(images) >= 4
    assert [p for p in map(image_tag_problem, images) if p] == []
    for name in ("migrate", "api", "worker"):
        assert SERVICES[name]["build"] == ".", name


def test_the_pin_check_catches_floating_tags() -> None:
    floating = [
        "postgres",
        "postgres:latest",
        "postgres:15",
        "python:3.11-slim",
        "temporalio/ui:${V:-2.31.2}",
    ]
    for image in floating:
        assert image_tag_problem(image), image
    assert image_tag_problem("registry.local:5000/temporalio/ui:2.31.2") is None


def test_healthchecks() -> None:
    for name in ("postgres", "temporal", "api"):
        check = SERVICES[name].get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), name
    assert "pg_isready" in str(SERVICES["postgres"]["healthcheck"]["test"])
    assert "/healthz" in str(SERVICES["api"]["healthcheck"]["test"])


def test_start_order() -> None:
    for name in ("api", "worker"):
        deps = SERVICES[name]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully", name
        assert deps["temporal"]["condition"] == "service_healthy", name
    assert SERVICES["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert SERVICES["temporal"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert SERVICES["migrate"]["restart"] == "no"
    commands = {name: SERVICES[name]["command"] for name in ("migrate", "api", "worker")}
    assert commands == {n: ["reverso", n] for n in ("migrate", "api", "worker")}


def test_temporal_runs_on_postgres_and_gets_the_search_attributes() -> None:
    env = environment(SERVICES["temporal"])
    assert env["DB"] == "postgres12" and env["POSTGRES_SEEDS"] == "postgres"
    setup = " ".join(SERVICES["temporal-setup"]["command"])
    for attribute in ("ReturnStatus", "OrderNumber"):
        assert f"--name {attribute} --type Keyword" in setup
    assert "temporal:7233" in setup
    assert environment(SERVICES["temporal-ui"])["TEMPORAL_ADDRESS"] == "temporal:7233"


def test_every_reverso_variable_is_a_real_setting() -> None:
    names = [n for s in SERVICES.values() for n in environment(s) if n.startswith("REVERSO_")]
    names += re.findall(r"\b(REVERSO_\w+)=", DOCKERFILE)
    assert len(names) > 10
    assert [p for p in map(unknown_setting, sorted(set(names))) if p] == []


@pytest.mark.parametrize("name", ["REVERSO_FOO", "REVERSO_POLICY__NOPE", "REVERSO_API_HOST__X"])
def test_the_setting_check_catches_typos(name: str) -> None:
    assert unknown_setting(name)


def test_the_api_environment_loads_into_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # Resolve ${VAR:-default} to its default and ${VAR:?message} to a placeholder, as compose would.
    def interpolate(value: object) -> str:
        text = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(value))
        return re.sub(r"\$\{\w+:\?[^}]*\}", "required-value", text)

    for name, value in environment(SERVICES["api"]).items():
        monkeypatch.setenv(name, interpolate(value))
    settings = Settings()
    assert settings.api_host == "0.0.0.0" and settings.api_port == 8000
    assert settings.temporal_address == "temporal:7233"
    assert settings.policy.auto_approve_limit == 25_000
    assert settings.resolved_database_url().startswith("postgresql+psycopg://")


def test_secrets_are_interpolated_never_written() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert not re.search(r"sk_(live|test)_[A-Za-z0-9]{6,}", text)
    secrets = {
        "api": ["REVERSO_STRIPE_API_KEY", "REVERSO_CARRIER_WEBHOOK_SECRET"],
        "postgres": ["POSTGRES_PASSWORD"],
        "temporal": ["POSTGRES_PWD"],
    }
    for service, names in secrets.items():
        for name in names:
            assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", environment(SERVICES[service])[name]), name


def test_dockerfile_is_pinned_and_not_root() -> None:
    lines = [line.strip() for line in DOCKERFILE.splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    stages: set[str] = set()
    for line in lines:
        if line.upper().startswith("FROM "):
            words = [w for w in line.split()[1:] if not w.startswith("--")]
            if words[0] not in stages:
                assert image_tag_problem(words[0]) is None, line
            if len(words) == 3 and words[1].upper() == "AS":
                stages.add(words[2])
    assert any(line.upper().startswith("FROM ") for line in lines)
    users = [line.split()[1] for line in lines if line.upper().startswith("USER ")]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert any(re.match(r"RUN pip install \.(\s|$)", line) for line in lines)
    assert not any("[test]" in line for line in lines)  # runtime dependencies only
    assert lines[-1] == 'CMD ["reverso", "api"]'
