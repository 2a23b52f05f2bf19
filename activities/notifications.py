"""E-mails to shoppers, rendered from Jinja2 templates in activities/mail/ and sent over SMTP."""

from __future__ import annotations

import asyncio
import smtplib
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import InterfaceError, OperationalError
from temporalio import activity

from activities.base import ActivityBase
from db.models import SentEmail, ShipmentRow
from domain.messages import EmailInput
from domain.money import format_amount

templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "mail"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,  # plain-text mail
)
templates.filters["money"] = lambda amount, currency: format_amount(int(amount), str(currency))


def render(kind: str, context: dict[str, object]) -> tuple[str, str]:
    text = templates.get_template(f"{kind}.txt").render(**context)
    first, _, body = text.partition("\n")
    return first.removeprefix("Subject:").strip(), body.lstrip("\n")


class Notifications(ActivityBase):
    @activity.defn(name="send_email")
    async def send(self, inp: EmailInput) -> None:
        """Once per return and kind: the row is claimed first and marked sent after the relay accepts."""
        key = f"{inp.return_id}:{inp.kind}" + (f":{inp.dedupe}" if inp.dedupe else "")
        context = {"return_id": inp.return_id, "shop_name": self.settings.shop_name,
                   "status_url": f"{self.settings.public_url}/portal/returns/{inp.return_id}", **inp.context}  # fmt: skip
        subject, body = render(inp.kind, context)
        async with self.sessions.begin() as s:
            await s.execute(
                insert(SentEmail)
                .values(key=key, return_id=inp.return_id, kind=inp.kind, recipient=inp.to, subject=subject)
                .on_conflict_do_nothing()
            )
            row = await s.scalar(select(SentEmail).where(SentEmail.key == key))
            if row is not None and row.sent_at is not None:
                return
            label = None
            if inp.attach_label:
                label = await s.scalar(
                    select(ShipmentRow.label_pdf).where(ShipmentRow.tracking_number == inp.attach_label)
                )
            more = []
            for tracking in inp.attach_labels:
                pdf = await s.scalar(select(ShipmentRow.label_pdf).where(ShipmentRow.tracking_number == tracking))
                if pdf:
                    more.append((tracking, pdf))
        msg = EmailMessage()
        msg["From"] = self.settings.mail_from
        msg["To"] = inp.to
        msg["Subject"] = subject
        # A stable Message-ID lets a mail client fold the rare duplicate from a crash after sending.
        # (make_msgid adds the time, pid and a random number: a resend would get a new id, so build our own.)
        msg["Message-ID"] = f"<{key.replace(':', '.')}@reverso.local>"
        msg["X-Reverso-Return"] = inp.return_id
        msg["X-Reverso-Kind"] = inp.kind
        msg.set_content(body)
        if label:
            msg.add_attachment(label, maintype="application", subtype="pdf",
                               filename=f"return-label-{inp.return_id}.pdf")  # fmt: skip
        for tracking, pdf in more:
            msg.add_attachment(pdf, maintype="application", subtype="pdf",
                               filename=f"return-label-{inp.return_id}-{tracking}.pdf")  # fmt: skip
        delivered = False
        try:
            async with self.sessions.begin() as s:
                # Overlapping attempts (one timed out under load but still running beside its retry) take turns
                # on this row lock; the second finds the message sent.
                sent = await s.scalar(select(SentEmail.sent_at).where(SentEmail.key == key).with_for_update())
                if sent is not None:
                    return
                await asyncio.to_thread(self._deliver, msg)
                delivered = True
                await s.execute(update(SentEmail).where(SentEmail.key == key).values(sent_at=datetime.now(UTC)))
        except (OperationalError, InterfaceError):
            if not delivered:
                raise
            await self._mark_sent(key)

    async def _mark_sent(self, key: str) -> None:
        """The relay has the message: record that even through a database restart of a few seconds, or the
        activity's retry would find the row unsent and mail the shopper again (the fault suite saw it)."""
        for pause in (0.2, 0.5, 1, 2, 4, 6, 0):  # about 14 s, inside the activity's 30 s
            try:
                async with self.sessions.begin() as s:
                    await s.execute(update(SentEmail).where(SentEmail.key == key).values(sent_at=datetime.now(UTC)))
                return
            except (OperationalError, InterfaceError):
                if not pause:
                    raise
                await asyncio.sleep(pause)

    def _deliver(self, msg: EmailMessage) -> None:
        with smtplib.SMTP(self.settings.smtp_host, self.settings.smtp_port, timeout=30) as smtp:
            smtp.send_message(msg)
