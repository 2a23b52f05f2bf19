"""The local peers of `reverso dev`: localstripe keeps its state under the state dir, the SMTP sink keeps mail."""

from __future__ import annotations

import email
import smtplib
import subprocess
import sys
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
import stripe

from tests.support import services


def client(base_url: str) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_x", base_addresses={"api": base_url})


def pay(base_url: str, amount: int = 5000) -> str:
    params = {"amount": amount, "currency": "eur", "payment_method": "pm_card_visa", "confirm": True}
    return client(base_url).v1.payment_intents.create(params=params).id  # type: ignore[arg-type]


def test_stripe_peer_keeps_payment_intents_per_state_dir(tmp_path: Path) -> None:
    with services.localstripe(tmp_path / "a") as a_url:
        pi_id = pay(a_url)
        with services.localstripe(tmp_path / "b") as b_url:  # a second instance, running at the same time
            with pytest.raises(stripe.InvalidRequestError):
                client(b_url).v1.payment_intents.retrieve(pi_id)
            other_id = pay(b_url, 700)

    assert (tmp_path / "a" / "stripe.pickle").exists()
    with services.localstripe(tmp_path / "a") as a_url:  # restarted on the same state dir
        pi = client(a_url).v1.payment_intents.retrieve(pi_id)
        assert (pi.status, pi.amount) == ("succeeded", 5000)
        refund = client(a_url).v1.refunds.create(params={"payment_intent": pi_id, "amount": 1000})
        assert (refund.status, refund.amount) == ("succeeded", 1000)
        with pytest.raises(stripe.InvalidRequestError):
            client(a_url).v1.payment_intents.retrieve(other_id)
        last_id = pay(a_url, 900)  # stopped at once: the store is written at shutdown, not only a moment later

    with services.localstripe(tmp_path / "a") as a_url:
        assert client(a_url).v1.payment_intents.retrieve(last_id).amount == 900


def message(subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "returns@reverso.local", "ana@example.com", subject
    msg.set_content("Your return R-1 is approved.\n.a line starting with a dot\n")
    return msg


def test_smtp_sink_stores_each_message_as_eml(tmp_path: Path) -> None:
    with services.smtp_sink(tmp_path) as port, smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.send_message(message("Retour approuvé — R-1"))
        smtp.send_message(message("Second"))

    files = sorted(tmp_path.glob("*.eml"))
    assert len(files) == 2
    first = email.message_from_bytes(files[0].read_bytes(), policy=default)
    assert first["Subject"] == "Retour approuvé — R-1"
    assert ".a line starting with a dot" in first.get_content()
    assert not list(tmp_path.glob(".*"))  # no temp files left behind


def test_smtp_peer_runs_as_a_process(tmp_path: Path) -> None:
    port, mail = services.free_port(), tmp_path / "mail"
    cmd = [sys.executable, "-m", "devpeers", "smtp", "--port", str(port), "--mail-dir", str(mail)]
    with services._process(cmd, tmp_path / "smtp.log") as proc:
        services._wait_port(port, proc, tmp_path / "smtp.log")
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            smtp.send_message(message("From a process"))
        proc.terminate()
        assert proc.wait(10) == 0
    [eml] = mail.glob("*.eml")
    assert email.message_from_bytes(eml.read_bytes(), policy=default)["Subject"] == "From a process"


def test_stripe_peer_listens_on_loopback_only(tmp_path: Path) -> None:
    with services.localstripe(tmp_path) as url:
        port = url.rsplit(":", 1)[1]
        listening = subprocess.run(["ss", "-Htln", f"sport = :{port}"], capture_output=True, text=True)
        if listening.returncode != 0:
            pytest.skip("ss is not available")
        assert listening.stdout.split()[3] == f"127.0.0.1:{port}"
