"""E-mails to shoppers (and the Exceptions queue's alert to staff), rendered from Jinja2 templates in
activities/mail/ and sent over SMTP."""

from __future__ import annotations

import asyncio
import smtplib
import socket
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache
from pathlib import Path
from typing import cast

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import InterfaceError, OperationalError
from temporalio import activity

from activities.base import ActivityBase, bad_data_is_final
from activities.mail_html import html_body
from db.models import SentEmail, ShipmentRow
from domain.keys import email_key
from domain.languages import lang_of
from domain.messages import EmailInput, EmailItem
from words.catalogs import DEFAULT, translator
from words.formats import long_date, money, number

# The e-mail to staff when a return enters the Exceptions queue (REVERSO_STAFF_ALERT_EMAIL); the rest go to shoppers.
STAFF_ALERT = "staff_alert"


@cache
def templates(lang: str) -> Environment:
    """The mail templates of one language: `t(key, **values)` over the catalogs (words/catalogs.py), amounts and
    dates as that language writes them (words/formats.py)."""
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "mail"),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # plain-text mail; the HTML part escapes it (mail_html.py)
    )
    env.globals["t"] = translator(lang)
    env.filters["money"] = lambda amount, currency: money(int(amount), str(currency), lang)
    env.filters["date"] = lambda value: long_date(value, lang)
    env.filters["number"] = lambda value: number(int(value), lang)
    return env


def items_text(items: list[EmailItem], lang: str = DEFAULT) -> str:
    """The returned items as the plain text lists them (`{{ items_text }}` in the templates), a blank line after;
    "" when there are none. The HTML part draws this paragraph with the items' pictures (mail_html.py)."""
    if not items:
        return ""
    return templates(lang).get_template("_items.txt").render(items=items).rstrip("\n") + "\n\n"


def render(kind: str, context: dict[str, object], lang: str = DEFAULT) -> tuple[str, str]:
    """The subject and plain-text body of the e-mail `kind` in `lang` (a page language: "en", "pt")."""
    text = templates(lang).get_template(f"{kind}.txt").render(**context)
    first, _, body = text.partition("\n")
    return first.removeprefix("Subject:").strip(), body.lstrip("\n")


SENT_EMAILS, SHIPMENTS = (cast(Table, m.__table__) for m in (SentEmail, ShipmentRow))
# Built once, their values (for CLAIM_EMAIL and RECORD_SENT the row's columns) bound at execution: an e-mail
# activity runs several times for every return.
CLAIM_EMAIL = insert(SENT_EMAILS).on_conflict_do_nothing().returning(SENT_EMAILS.c.key)
LOCK_EMAIL = select(SENT_EMAILS.c.sent_at).where(SENT_EMAILS.c.key == bindparam("email")).with_for_update()
MARK_SENT = update(SENT_EMAILS).where(SENT_EMAILS.c.key == bindparam("email")).values(sent_at=func.clock_timestamp())
# After a failed commit the claim is gone with it: the row is written anew, already sent.
RECORD_SENT = (
    insert(SENT_EMAILS)
    .values(sent_at=func.clock_timestamp())
    .on_conflict_do_update(index_elements=[SENT_EMAILS.c.key], set_={"sent_at": func.clock_timestamp()})
)
LABEL_PDF = select(SHIPMENTS.c.label_pdf).where(SHIPMENTS.c.tracking_number == bindparam("tracking"))


@cache
def ehlo_name() -> str:
    # smtplib asks the resolver for this machine's name at every connection unless told; it does not change.
    return socket.getfqdn()


class Notifications(ActivityBase):
    @activity.defn(name="send_email")
    @bad_data_is_final  # a lone surrogate in the body cannot be encoded, at any attempt
    async def send(self, inp: EmailInput) -> None:
        """Once per return and kind: one transaction claims the row, sends, and marks it sent; its row lock makes
        overlapping attempts (one timed out under load but still running beside its retry) take turns, and the
        second finds the message sent. A crash before the commit rolls the claim back with it."""
        key = email_key(inp.return_id, inp.kind, inp.dedupe)
        if inp.kind == STAFF_ALERT:  # to the shop's staff, when the shop named an address (settings)
            if not self.settings.staff_alert_email:
                return
            inp = inp.model_copy(update={"to": self.settings.staff_alert_email})
        context = {"return_id": inp.return_id, "shop_name": self.settings.shop_name,
                   "status_url": f"{self.settings.public_url}/portal/returns/{inp.return_id}",
                   "staff_url": f"{self.settings.public_url}/staff/returns/{inp.return_id}", **inp.context}  # fmt: skip
        # The shopper's language (the return's); the staff alert, and a return that names none, the shop's.
        lang = lang_of(inp.locale if inp.kind != STAFF_ALERT else "") or lang_of(self.settings.shop_locale) or DEFAULT
        context["items_text"] = listed = items_text(inp.items, lang)
        subject, body = render(inp.kind, context, lang)
        row = dict(key=key, return_id=inp.return_id, kind=inp.kind, recipient=inp.to, subject=subject)
        delivered = False
        try:
            async with self.engine.begin() as conn:
                claimed = await conn.scalar(CLAIM_EMAIL, row)
                if claimed is None and await conn.scalar(LOCK_EMAIL, dict(email=key)) is not None:
                    return
                # The single label of a return keeps the file name it always had; several get their tracking numbers.
                wanted = [(inp.return_id, inp.attach_label)] if inp.attach_label else []
                wanted += [(f"{inp.return_id}-{tracking}", tracking) for tracking in inp.attach_labels]
                labels = []
                for name, tracking in wanted:
                    pdf = await conn.scalar(LABEL_PDF, dict(tracking=tracking))
                    if pdf:
                        labels.append((name, pdf))
                msg = self._message(inp, key, subject, body, labels, lang, listed)
                await asyncio.to_thread(self._deliver, msg)
                delivered = True
                await conn.execute(MARK_SENT, dict(email=key))
        except (OperationalError, InterfaceError):
            if not delivered:
                raise
            await self._record_sent(row)

    def _message(
        self, inp: EmailInput, key: str, subject: str, body: str, labels: list[tuple[str, bytes]], lang: str,
        listed: str = "",
    ) -> EmailMessage:  # fmt: skip
        msg = EmailMessage()
        msg["From"] = self.settings.mail_from
        msg["To"] = inp.to
        msg["Subject"] = subject
        msg["Date"] = format_datetime(datetime.now(UTC))  # RFC 5322 requires it; smtplib does not add one
        # A stable Message-ID lets a mail client fold the rare duplicate from a crash after sending.
        # (make_msgid adds the time, pid and a random number: a resend would get a new id, so build our own.)
        msg["Message-ID"] = f"<{key.replace(':', '.')}@reverso.local>"
        msg["X-Reverso-Return"] = inp.return_id
        msg["X-Reverso-Kind"] = inp.kind
        msg.set_content(body)
        html = html_body(subject, body, self.settings.brand, self.settings.shop_name, lang, inp.items, listed)
        msg.add_alternative(html, subtype="html")
        for name, pdf in labels:
            msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"return-label-{name}.pdf")
        return msg

    async def _record_sent(self, row: dict[str, str]) -> None:
        """The relay has the message: record that even through a database restart of a few seconds, or the
        activity's retry would find no sent row and mail the shopper again (the fault suite saw it)."""
        for pause in (0.2, 0.5, 1, 2, 4, 6, 0):  # about 14 s, inside the activity's 30 s
            try:
                async with self.engine.begin() as conn:
                    await conn.execute(RECORD_SENT, row)
                return
            except (OperationalError, InterfaceError):
                if not pause:
                    raise
                await asyncio.sleep(pause)

    def _deliver(self, msg: EmailMessage) -> None:
        with smtplib.SMTP(
            self.settings.smtp_host, self.settings.smtp_port, local_hostname=ehlo_name(), timeout=30
        ) as smtp:
            smtp.send_message(msg)
