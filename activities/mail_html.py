"""The HTML part of every e-mail: the plain text's paragraphs in the shop's frame (logo or name, colour, support
and policy links). One layout for every kind, so the words are written once, in the plain-text templates; the one
paragraph drawn otherwise is the returned items', which gets each item's picture beside its title."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from domain.brand import BrandSettings
from domain.messages import EmailItem
from words.catalogs import LANG_TAGS, translator
from words.formats import number

_layout = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "mail"), undefined=StrictUndefined, autoescape=True
).get_template("_layout.html")
_URL = re.compile(r"https?://[^\s<>\"']+")
# A return id ("R-3RCZMNGTRJ") is read and typed whole: a narrow screen must not break it at its hyphen.
_RETURN_ID = re.compile(r"\bR-[A-Z0-9]{4,}\b")


def _whole_ids(escaped: str) -> str:
    return _RETURN_ID.sub(lambda m: f'<span style="white-space:nowrap">{m.group(0)}</span>', escaped)


def _paragraph(text: str) -> Markup:
    """One paragraph: escaped first, then its web addresses made links (their ids left as they are: a link wraps
    where it must) and its lines kept apart."""
    lines = []
    for line in text.split("\n"):
        escaped, parts, at = str(escape(line)), [], 0
        for m in _URL.finditer(escaped):
            parts += [_whole_ids(escaped[at : m.start()]), f'<a href="{m.group(0)}">{m.group(0)}</a>']
            at = m.end()
        lines.append("".join([*parts, _whole_ids(escaped[at:])]))
    return Markup("<br>\n".join(lines))


def html_body(
    subject: str, text: str, brand: BrandSettings, shop_name: str, lang: str = "en",
    items: Sequence[EmailItem] = (), items_text: str = "",
) -> str:  # fmt: skip
    """`text` (the plain-text part, already in `lang`) as HTML paragraphs in the shop's frame. The paragraph that is
    `items_text` (the items as the plain text lists them) becomes a list of `items` with their pictures: only those
    the brand's image origins serve, as the portal shows them (BrandSettings.shows)."""
    listed = items_text.strip()
    paragraphs: list[Markup | None] = [
        None if items and p.strip() == listed else _paragraph(p.strip("\n"))
        for p in re.split(r"\n\s*\n", text) if p.strip()
    ]  # fmt: skip
    shown = [{"title": x.title, "quantity": number(x.quantity, lang), "exchange_title": x.exchange_title,
              "picture": x.image_url if brand.shows(x.image_url) else ""} for x in items]  # fmt: skip
    return _layout.render(subject=subject, heading=Markup(_whole_ids(str(escape(subject)))), paragraphs=paragraphs, brand=brand, shop_name=shop_name,
                          lang=LANG_TAGS.get(lang, lang), inverse=brand.inverse(), t=translator(lang),
                          items=shown, pictures=any(x["picture"] for x in shown))  # fmt: skip
