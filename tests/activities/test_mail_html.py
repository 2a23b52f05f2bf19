"""Every e-mail has an HTML part in the shop's frame beside the plain text (issue 19), sent through the real SMTP sink."""

from __future__ import annotations

from temporalio.testing import ActivityEnvironment

from activities.notifications import Notifications
from db.engine import get_sessionmaker
from db.models import ShipmentRow
from domain.brand import BrandSettings
from domain.messages import EmailInput, EmailItem


async def test_an_email_is_plain_text_and_branded_html(settings, mailbox):
    brand = BrandSettings(logo_url="https://cdn.loja.example/logo.png", color="#ffdd00",
                          support_email="ajuda@loja.example", policy_url="https://loja.example/devolucoes")  # fmt: skip
    branded = settings.model_copy(update={"brand": brand, "shop_name": "Loja <da> Ana"})
    inp = EmailInput(return_id="R-HTML1", kind="received", to="a@example.com", context={})
    await ActivityEnvironment().run(Notifications(branded).send, inp)
    msg = mailbox.message("R-HTML1", "received")
    assert msg.get_content_type() == "multipart/alternative"
    text = mailbox.body("R-HTML1", "received")
    html = next(p for p in msg.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert "arrived at our warehouse" in text and "arrived at our warehouse" in html
    assert 'src="https://cdn.loja.example/logo.png" alt="Loja &lt;da&gt; Ana"' in html  # escaped, never markup
    assert "background:#ffdd00;color:#000" in html  # dark text on a light colour
    assert 'href="mailto:ajuda@loja.example"' in html and 'href="https://loja.example/devolucoes"' in html
    assert '<a href="http://127.0.0.1:8000/portal/returns/R-HTML1">' in html  # the status link is a link


async def test_a_label_email_keeps_its_attachment_beside_the_html(settings, mailbox):
    async with get_sessionmaker(settings.resolved_database_url()).begin() as s:
        s.add(ShipmentRow(tracking_number="LCHTML2", return_id="R-HTML2", direction="inbound", carrier="local",
                          status="created", label_pdf=b"%PDF-1.4 label"))  # fmt: skip
    inp = EmailInput(return_id="R-HTML2", kind="label", to="a@example.com", attach_label="LCHTML2",
                     context={"tracking_number": "LCHTML2", "expiry_days": 14, "label_link": ""})  # fmt: skip
    await ActivityEnvironment().run(Notifications(settings).send, inp)
    msg = mailbox.message("R-HTML2", "label")
    kinds = [p.get_content_type() for p in msg.walk()]
    assert kinds == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html", "application/pdf"]
    pdf = next(p for p in msg.walk() if p.get_content_type() == "application/pdf")
    assert pdf.get_payload(decode=True) == b"%PDF-1.4 label" and pdf.get_filename() == "return-label-R-HTML2.pdf"


def _html(msg) -> str:
    return next(p for p in msg.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()


async def test_the_items_are_listed_with_their_pictures_from_the_brands_origins_only(settings, mailbox):
    """Each returned item: its title and quantity in both parts, what comes instead of an exchanged one, and in the HTML
    a small picture beside the title (alt empty: the title says it), only where the brand's image origins serve it."""
    brand = BrandSettings(image_origins=["https://img.loja.example"])
    branded = settings.model_copy(update={"brand": brand})
    items = [EmailItem(title="Camisa <linho>", quantity=2, image_url="https://img.loja.example/camisa.jpg"),
             EmailItem(title="T-shirt, M", quantity=1, image_url="https://elsewhere.example/tee.jpg",
                       exchange_title="T-shirt, L")]  # fmt: skip
    inp = EmailInput(return_id="R-HTML3", kind="received", to="a@example.com", locale="pt-PT", items=items)
    await ActivityEnvironment().run(Notifications(branded).send, inp)
    text = mailbox.body("R-HTML3", "received").replace("\r\n", "\n")
    html = _html(mailbox.message("R-HTML3", "received"))
    assert "Artigos desta devolução:\n- 2 × Camisa <linho>\n- 1 × T-shirt, M\n  Em troca, recebe T-shirt, L\n" in text
    assert '<img src="https://img.loja.example/camisa.jpg" alt="" width="64" height="64"' in html
    assert "elsewhere.example" not in html  # the browser would block it: no broken picture
    assert "<strong>Camisa &lt;linho&gt;</strong>" in html and "Quantidade: 2" in html  # escaped, never markup
    assert "Em troca, recebe T-shirt, L" in html
    assert "- 2 × Camisa" not in html  # the list is drawn once, with the pictures, not also as the text's lines
    # Where the plain text has the list: after what happened, before the next step.
    assert html.index("chegou ao nosso armazém") < html.index("Camisa") < html.index("Acompanhe")


async def test_without_items_or_pictures_nothing_is_drawn_for_them(settings, mailbox):
    items = [EmailItem(title="Mug", quantity=1, image_url="https://img.loja.example/mug.jpg")]
    inp = EmailInput(return_id="R-HTML4", kind="received", to="a@example.com", items=items)
    await ActivityEnvironment().run(Notifications(settings).send, inp)  # no image origins configured
    html = _html(mailbox.message("R-HTML4", "received"))
    assert "<strong>Mug</strong>" in html and "<img" not in html and 'width="64"' not in html
    assert "- 1 × Mug" in mailbox.body("R-HTML4", "received")
    inp = EmailInput(return_id="R-HTML5", kind="received", to="a@example.com")
    await ActivityEnvironment().run(Notifications(settings).send, inp)
    assert "Items in this return" not in mailbox.body("R-HTML5", "received")
    assert "Items in this return" not in _html(mailbox.message("R-HTML5", "received"))
