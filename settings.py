"""Every setting Reverso reads, in one pydantic-settings class (env prefix REVERSO_)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.policy import PolicySettings


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REVERSO_", env_nested_delimiter="__", extra="ignore")

    state_dir: Path = Path(".reverso")
    # Unset in dev: `reverso dev` writes the embedded server's URL to <state>/database_url.
    database_url: str | None = None

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "reverso"
    temporal_ui_url: str = "http://127.0.0.1:8233"

    api_host: str = "127.0.0.1"
    # Addresses of trusted reverse proxies whose X-Forwarded-For is believed (e.g. "10.0.0.5"); unset: none.
    forwarded_allow_ips: str | None = None
    api_port: int = 8000
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    stripe_port: int = 8420
    smtp_port: int = 8025

    stripe_api_key: SecretStr = SecretStr("sk_test_reverso_dev")
    # None means the real Stripe API; dev and tests point it at localstripe.
    stripe_api_base: str | None = None

    smtp_host: str = "127.0.0.1"
    mail_from: str = "Reverso Returns <returns@reverso.local>"
    shop_name: str = "Reverso Demo Shop"
    public_url: str = "http://127.0.0.1:8000"

    carrier_webhook_secret: SecretStr | None = None
    warehouse_address: str = "Reverso Returns Centre\nRua do Armazem 12\n4400-001 Vila Nova de Gaia\nPT"

    portal_session_hours: int = 24
    # Failed portal sign-ins allowed per client address and per order number within the window.
    portal_failures_per_client: int = 20
    portal_failures_per_order: int = 5
    portal_failure_window_minutes: int = 15
    policy: PolicySettings = PolicySettings()

    @model_validator(mode="after")
    def _beside_reverso_dev(self) -> Settings:
        """Commands run next to `reverso dev` find its peers through <state>/dev.json, unless set."""
        dev = self.state_dir / "dev.json"
        if dev.exists():
            for key, value in json.loads(dev.read_text()).items():
                if key in type(self).model_fields and key not in self.model_fields_set:
                    setattr(self, key, value)
        return self

    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL: explicit setting first, else the one `reverso dev` wrote."""
        if self.database_url:
            return sqlalchemy_url(self.database_url)
        written = self.state_dir / "database_url"
        if written.exists():
            return sqlalchemy_url(written.read_text().strip())
        raise RuntimeError(
            f"no database: set REVERSO_DATABASE_URL or start `reverso dev` with state dir {self.state_dir}"
        )

    def webhook_secret(self) -> str:
        if self.carrier_webhook_secret:
            return self.carrier_webhook_secret.get_secret_value()
        written = self.state_dir / "carrier_webhook_secret"
        if written.exists():
            return written.read_text().strip()
        raise RuntimeError("no carrier webhook secret: set REVERSO_CARRIER_WEBHOOK_SECRET")


def sqlalchemy_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
