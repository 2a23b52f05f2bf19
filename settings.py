"""Every setting Reverso reads, in one pydantic-settings class (env prefix REVERSO_)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.brand import BrandSettings
from domain.languages import LanguageTag
from domain.models import Address
from domain.policy import PolicySettings
from domain.policy_document import seed_policy


class WarehouseSettings(BaseModel):
    """One place returns are sent to, and the carrier adapter that makes its labels."""

    id: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]
    # The lines printed on labels; left empty, they are made from `address`.
    address_lines: list[str] = []
    # Structured address: required by carriers with an API (EasyPost), optional for `local`.
    address: Address | None = None
    carrier: Literal["local", "easypost"] = "local"

    @model_validator(mode="after")
    def _addressed(self) -> WarehouseSettings:
        if self.carrier != "local" and self.address is None:
            raise ValueError(f"warehouse {self.id}: carrier {self.carrier} needs a structured `address`")
        if not self.address_lines:
            if self.address is None:
                raise ValueError(f"warehouse {self.id}: give address_lines or address")
            a = self.address
            city = " ".join(x for x in (a.postal_code, a.city) if x)
            self.address_lines = [x for x in (a.name, a.line1, a.line2, city, a.region, a.country.upper()) if x]
        return self


class RoutingRule(BaseModel):
    """Send a return to `warehouse` when every given condition holds; empty conditions match anything."""

    warehouse: str
    countries: list[str] = []  # the shopper's country, ISO 3166 alpha-2
    sku_prefixes: list[str] = []  # matches when any returned line's SKU starts with one of these


class EasyPostSettings(BaseModel):
    api_key: SecretStr | None = None
    webhook_secret: SecretStr | None = None  # the HMAC secret set on the EasyPost webhook
    carriers: list[str] = []  # empty: the cheapest rate of any carrier on the account
    services: list[str] = []
    label_format: Literal["PDF", "PNG", "ZPL"] = "PDF"
    # None: EasyPost's API; tests and proxies point it elsewhere.
    api_base: str | None = None


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
    # REVERSO_STAFF_ALERT_EMAIL: one e-mail here per return entering the Exceptions queue; unset: none.
    staff_alert_email: str | None = None
    shop_name: str = "Reverso Demo Shop"
    # REVERSO_SHOP_LOCALE: the language of e-mails to a shopper whose order and return name none (a domain.languages tag).
    shop_locale: LanguageTag = "en"
    # REVERSO_BRAND__LOGO_URL, __COLOR, __SUPPORT_EMAIL, __POLICY_URL, __IMAGE_ORIGINS: the portal's and e-mails' look.
    brand: BrandSettings = BrandSettings()
    # Where shoppers reach the API (links in e-mails). https:// here makes every cookie Secure, also behind a TLS
    # proxy that talks plain HTTP to the API.
    public_url: str = "http://127.0.0.1:8000"

    carrier_webhook_secret: SecretStr | None = None
    warehouse_address: str = "Reverso Returns Centre\nRua do Armazem 12\n4400-001 Vila Nova de Gaia\nPT"

    portal_session_hours: int = 24
    staff_session_hours: int = 12  # a staff console sign-in
    # Failed portal sign-ins allowed per client address and per order number within the window.
    portal_failures_per_client: int = 20
    portal_failures_per_order: int = 5
    portal_failure_window_minutes: int = 15
    policy: PolicySettings = PolicySettings()
    # The policy's first version (YAML); REVERSO_POLICY__* settings override its keys. Unset: the shipped default.
    policy_file: Path | None = None

    @model_validator(mode="after")
    def _policy_from_file(self) -> Settings:
        """Read and check the policy file at startup: a bad one stops the process, naming the field."""
        self.policy = seed_policy(self.policy_file, self.policy)
        return self

    # Warehouses and which returns go where (JSON in env: REVERSO_WAREHOUSES='[{"id": "lis", ...}]').
    # None: one warehouse, id "main", at warehouse_address with the local carrier.
    warehouses: list[WarehouseSettings] | None = None
    routing: list[RoutingRule] = []  # first match wins
    default_warehouse: str | None = None  # when no rule matches; None: the first warehouse
    easypost: EasyPostSettings = EasyPostSettings()

    @model_validator(mode="after")
    def _beside_reverso_dev(self) -> Settings:
        """Commands run next to `reverso dev` find its peers through <state>/dev.json, unless set."""
        dev = self.state_dir / "dev.json"
        if dev.exists():
            for key, value in json.loads(dev.read_text()).items():
                if key in type(self).model_fields and key not in self.model_fields_set:
                    # Not setattr: that would count the value as set by the user, and a `reverso dev` started
                    # after one that crashed would take the old one's public URL as its own.
                    self.__dict__[key] = value
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

    @model_validator(mode="after")
    def _routes_known(self) -> Settings:
        known = {w.id for w in self.all_warehouses()}
        named = [r.warehouse for r in self.routing] + [x for x in [self.default_warehouse] if x]
        unknown = sorted(set(named) - known)
        if unknown:
            raise ValueError(f"routing: unknown warehouse(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return self

    def all_warehouses(self) -> list[WarehouseSettings]:
        if self.warehouses:
            return self.warehouses
        return [WarehouseSettings(id="main", address_lines=self.warehouse_address.splitlines())]

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
