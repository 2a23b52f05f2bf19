"""The pages' language and words. The catalogs and `translator(lang)` are words/catalogs.py (the e-mails use them
too); here, which language a request asks for. Reasons and timeline entries are codes whose words are the catalogs'
`say.*` entries (api/reason_words.py, api/timeline_words.py).
"""

from __future__ import annotations

from starlette.requests import Request

from words import catalogs
from words.catalogs import DEFAULT, LANG_NAMES, LANG_TAGS, LANGS, translator

__all__ = ["LANGS", "LANG_NAMES", "LANG_TAGS", "choose_lang", "translator"]


def choose_lang(request: Request) -> str:
    """`?lang=` first, then the `lang` cookie, then Accept-Language (any pt → pt-PT), else English."""
    langs = catalogs.LANGS
    for value in (request.query_params.get("lang"), request.cookies.get("lang")):
        if value in langs:
            return value
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.split("-")[0] in langs:
            return tag.split("-")[0]
    return DEFAULT
