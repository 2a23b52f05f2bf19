"""The languages and their words: gettext catalogs in api/locale (Babel), one per language.

A catalog's msgids are stable keys ("portal.title"); the English catalog holds the English texts. `translator(lang)`
gives `t(key, **values)`: the key's text in that language, else in English, else the key itself; `{name}` fields are
filled after translation (str.format). The languages are the compiled catalogs found in api/locale, English first:
adding a language is adding a catalog (README, "Languages"). The catalogs stay beside the pages that use most of them;
the e-mails (activities/mail) read the same files through this module.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

from babel import Locale
from babel.support import NullTranslations, Translations

__all__ = ["DEFAULT", "LANGS", "LANG_NAMES", "LANG_TAGS", "translator"]

LOCALE_DIR = Path(__file__).resolve().parent.parent / "api" / "locale"
DOMAIN = "messages"
DEFAULT = "en"


def _catalogs() -> dict[str, str]:
    """Page language ("pt", as in ?lang=pt and the cookie) -> catalog locale ("pt_PT"), default language first."""
    found: dict[str, str] = {}
    for mo in sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")):
        locale = mo.parent.parent.name
        found.setdefault(locale.split("_")[0], locale)
    return dict(sorted(found.items(), key=lambda item: item[0] != DEFAULT))


def _name(locale: str) -> str:
    """A language's name in itself, as the language switch shows it ("Português")."""
    name = Locale.parse(locale).language_name or locale
    return name[:1].upper() + name[1:]


CATALOGS = _catalogs()
LANGS = tuple(CATALOGS)
LANG_TAGS = {lang: locale.replace("_", "-") for lang, locale in CATALOGS.items()}
LANG_NAMES = {lang: _name(locale) for lang, locale in CATALOGS.items()}


@cache
def _translations(lang: str) -> NullTranslations:
    """The compiled catalog of `lang`, read once per process; an unknown language has none."""
    locale = CATALOGS.get(lang)
    if locale is None:
        return NullTranslations()
    with (LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.mo").open("rb") as f:
        return Translations(f, domain=DOMAIN)


def translator(lang: str) -> Callable[..., str]:
    chain = [_translations(lang)] + ([_translations(DEFAULT)] if lang != DEFAULT else [])

    def t(key: str, **values: object) -> str:
        # "" is gettext's header entry (the catalog's metadata), never a text.
        for catalog in chain if key else ():
            text = catalog.gettext(key)
            if text and text != key:
                return text.format(**values) if values else text
        if key.startswith("reason."):
            return key.removeprefix("reason.").replace("_", " ").capitalize()
        return key

    return t
