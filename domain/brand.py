"""The shop's brand on the shopper's pages and e-mails, as settings checked once at start-up.

Every value ends up in a page, a stylesheet or the Content-Security-Policy header, so each is held to a shape that
cannot break out of where it goes: a colour is a hex triplet, an image origin is scheme://host[:port] and nothing
more (a `;` or a space would add a CSP directive), URLs are http(s).
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, Field, HttpUrl

from domain.text import Email

HexColour = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]
DEFAULT_COLOUR = "#1b6b5f"
_ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$")


def _origin(value: str) -> str:
    value = value.strip().lower().rstrip("/")
    if not _ORIGIN.fullmatch(value):
        raise ValueError("an image origin is scheme://host[:port], for example https://cdn.example.com")
    return value


Origin = Annotated[str, AfterValidator(_origin)]


class BrandSettings(BaseModel):
    logo_url: HttpUrl | None = None
    color: HexColour = DEFAULT_COLOUR
    support_email: Email | None = None
    policy_url: HttpUrl | None = None
    # Where product pictures and the logo are served from: added to the CSP's img-src (the server fetches nothing).
    image_origins: list[Origin] = []

    def img_sources(self) -> list[str]:
        """The image origins the pages may load from: the listed ones and the logo's own."""
        found = list(self.image_origins)
        if self.logo_url is not None:
            parts = urlsplit(str(self.logo_url))
            logo = _origin(f"{parts.scheme}://{parts.netloc}")
            if logo not in found:
                found.append(logo)
        return found

    def shows(self, url: str | None) -> bool:
        """Whether a page may show the picture at `url`: the CSP lets the browser load it only from these origins."""
        if not url:
            return False
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}".lower() in self.img_sources()

    def inverse(self) -> str:
        """Black or white, whichever reads better on the colour (WCAG's relative luminance)."""
        return "#000" if _luminance(self.color) > 0.179 else "#fff"

    def stylesheet(self) -> str:
        """Pico's colour variables set to the shop's colour (served as /brand.css: the CSP allows no inline style).

        Text on the colour is `inverse()`; hover is the colour a shade darker; links are the colour on white, so a
        light colour is darkened until it reads (4.5:1 on white needs a luminance under 0.18)."""
        c = self.color.lower()
        rgb = _rgb(c)
        dark = "#" + "".join(f"{int(x * 0.82):02x}" for x in rgb)
        text = c if _luminance(c) <= 0.179 else "#" + "".join(f"{int(x * 0.45):02x}" for x in rgb)
        inverse = self.inverse()
        return (
            ":root{"
            f"--pico-primary:{text};--pico-primary-background:{c};--pico-primary-border:{c};"
            f"--pico-primary-underline:{c}80;--pico-primary-hover:{dark};--pico-primary-hover-background:{dark};"
            f"--pico-primary-hover-border:{dark};--pico-primary-focus:{c}40;--pico-primary-inverse:{inverse};"
            f"--brand-colour:{c};--brand-inverse:{inverse}"
            "}\n"
        )


def _rgb(colour: str) -> list[int]:
    return [int(colour[i : i + 2], 16) for i in (1, 3, 5)]


def _luminance(colour: str) -> float:
    return sum(w * _linear(x) for w, x in zip((0.2126, 0.7152, 0.0722), _rgb(colour), strict=True))


def _linear(channel: int) -> float:
    x = channel / 255
    return x / 12.92 if x <= 0.04045 else float(((x + 0.055) / 1.055) ** 2.4)
