"""The HTML part of every e-mail: the plain text's paragraphs in the shop's frame (logo or name, colour, support
and policy links). One layout for every kind, so the words are written once, in the plain-text templates."""

from __future__ import annotations

import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from domain.brand import BrandSettings
from words.catalogs import LANG_TAGS, translator

_layout = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "mail"), undefined=StrictUndefined, autoescape=True
).get_template("_layout.html")
_URL = re.compile(r"https?://[^\s<>\"']+")


def _paragraph(text: str) -> Markup:
    """One paragraph: escaped first, then its web addresses made links and its lines kept apart."""
    lines = []
    for line in text.split("\n"):
        escaped = str(escape(line))
        lines.append(_URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped))
    return Markup("<br>\n".join(lines))


def html_body(subject: str, text: str, brand: BrandSettings, shop_name: str, lang: str = "en") -> str:
    """`text` (the plain-text part, already in `lang`) as HTML paragraphs in the shop's frame."""
    paragraphs = [_paragraph(p.strip("\n")) for p in re.split(r"\n\s*\n", text) if p.strip()]
    return _layout.render(subject=subject, paragraphs=paragraphs, brand=brand, shop_name=shop_name,
                          lang=LANG_TAGS.get(lang, lang), inverse=brand.inverse(),
                          policy=translator(lang)("mail.policy"))  # fmt: skip
