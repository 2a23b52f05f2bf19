"""One service layer under both faces: the JSON API and the pages give the same answer, and the API reads carrier
webhooks without the carrier adapters."""

from __future__ import annotations

import ast
import hashlib
import hmac
import html
import subprocess
import sys
import unicodedata
from pathlib import Path

import easypost
import pytest
from easypost.errors import SignatureVerificationError

from domain.carrier_webhooks import easypost_signature_ok
from tests.api.api_helpers import console_sign_in

API = Path(__file__).resolve().parents[2] / "api"


def test_the_api_imports_no_activity_module() -> None:
    """The design's rule: the API talks to workflows, never to activities (Stripe, EasyPost, SMTP clients)."""
    offenders = []
    for path in sorted(API.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(API.parent)}: {n}" for n in names if n.split(".")[0] == "activities"]
    assert not offenders, offenders


def _sdk_accepts(body: bytes, signature: str, secret: str) -> bool:
    try:
        easypost.validate_webhook(body, {"X-Hmac-Signature": signature}, secret)
    except SignatureVerificationError:
        return False
    except ValueError:
        return True  # the signature matched; the body is not JSON
    return True


def _sign(body: bytes, secret: str) -> str:
    key = unicodedata.normalize("NFKD", secret).encode()
    return "hmac-sha256-hex=" + hmac.new(key, body, hashlib.sha256).hexdigest()


@pytest.mark.parametrize("secret", ["whsec_plain", "ｗｈｓｅｃ_ﬁ_wide"], ids=["ascii", "nfkd"])
@pytest.mark.parametrize("body", [b'{"object":"Event"}', b"not json", b""], ids=["event", "not-json", "empty"])
def test_the_easypost_signature_check_agrees_with_easyposts_own(secret: str, body: bytes) -> None:
    """A delivery EasyPost signed is accepted and any other refused, as the EasyPost SDK's check decides."""
    good = _sign(body, secret)
    for signature in (good, good.upper(), _sign(body + b" ", secret), _sign(body, secret + "x"), "hmac-sha256-hex="):
        for name in ("X-Hmac-Signature", "x-hmac-signature"):
            assert easypost_signature_ok(body, {name: signature}, secret) == _sdk_accepts(body, signature, secret)
    assert easypost_signature_ok(body, {"X-Hmac-Signature": good}, secret)
    assert not easypost_signature_ok(body, {}, secret)
    assert not easypost_signature_ok(body, {"X-Hmac-Signature": good}, None)
    assert not easypost_signature_ok(body, {"X-Hmac-Signature": good + "é"}, secret)


@pytest.mark.asyncio(loop_scope="session")
async def test_a_refusal_reads_the_same_in_the_json_api_and_the_console(client, shop, returns, tokens) -> None:
    ret, _ = await returns.create(await shop.order())  # approved at once: awaiting shipment
    admin = await tokens.staff("admin")
    refused = await client.post(f"/api/v1/returns/{ret['id']}/approve", headers=admin)
    assert refused.status_code == 409, refused.text
    sentence = refused.json()["detail"]
    assert sentence.startswith("status:"), sentence

    await console_sign_in(client, tokens, "admin")
    csrf = client.cookies.get("staff_csrf") or ""
    page = await client.post(f"/staff/returns/{ret['id']}/approve", data={"csrf": csrf})
    assert page.status_code == 409, page.text
    assert sentence in html.unescape(page.text)
    missing = await client.post("/staff/returns/R-NOSUCHRETURN/approve", data={"csrf": csrf})
    assert missing.status_code == 404 and "<html" in missing.text.lower()


def test_the_api_process_loads_no_activity_no_workflow_code_and_no_provider_sdk():
    # The API talks to workflows through workflows.contracts only: loading the app must not bring in the worker's
    # side (activities, the workflow's stages, Stripe, EasyPost, SMTP).
    code = (
        "import sys, api.main\n"
        "bad = ('activities', 'stripe', 'easypost', 'aiosmtpd', 'workflows.return_workflow', 'workflows.context')\n"
        "print(sorted(m for m in sys.modules if m.startswith(bad)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out
