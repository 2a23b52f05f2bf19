"""The pages' gettext catalogs (api/locale): compiled as committed, complete in every language, and holding every key
the code and templates use; the translator's fallbacks; a new language is a new catalog"""

from __future__ import annotations

import io
import re
import shutil
import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po
from starlette.requests import Request

from api import i18n
from domain import languages
from words import catalogs

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "api" / "locale"
POS = sorted(LOCALE.glob("*/LC_MESSAGES/messages.po"))


def catalog(locale: str) -> Catalog:
    with (LOCALE / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=locale)


def texts(c: Catalog) -> dict[str, str]:
    return {m.id: m.string for m in c if m.id and isinstance(m.id, str) and isinstance(m.string, str)}


def literal_keys() -> dict[str, str]:
    """Every key code and templates pass literally to t()/ta(), as `pybabel extract -F babel.cfg -k t -k ta` finds
    them (without the English catalog's own keys, which babel.cfg also reads), with where it is used. `pybabel` does
    not see `translator(lang)("key")`: those are found by pattern."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    method_map = [(pattern, method) for pattern, method in method_map if not pattern.startswith("api/locale/")]
    found = {}
    for filename, _, key, _, _ in extract_from_dir(
        str(ROOT), method_map, options_map, keywords={"t": None, "ta": None}
    ):
        found[key if isinstance(key, str) else key[0]] = filename
    for path in (ROOT / "api").rglob("*.py"):
        for key in re.findall(r"""translator\([^()]*(?:\([^()]*\))?\)\(\s*["']([^"']+)["']""", path.read_text()):
            found[key] = str(path.relative_to(ROOT))
    return found


def test_there_is_a_catalog_for_english_and_portuguese():
    assert [p.parent.parent.name for p in POS] == ["en", "pt_PT"]
    assert i18n.LANGS == ("en", "pt")
    assert i18n.LANG_TAGS == {"en": "en", "pt": "pt-PT"}
    assert i18n.LANG_NAMES == {"en": "English", "pt": "Português"}


@pytest.mark.parametrize("po", POS, ids=lambda p: p.parent.parent.name)
def test_the_committed_mo_is_the_compiled_po(po: Path):
    """A .po edited without `pybabel compile -d api/locale` afterwards: the pages would still show the old texts."""
    with po.open("rb") as f:
        source = read_po(f)
    compiled = io.BytesIO()
    write_mo(compiled, source, use_fuzzy=False)
    compiled.seek(0)
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run pybabel compile -d api/locale"
    with mo.open("rb") as f:
        committed = read_mo(f)
    # The messages, not the bytes: the header names the Babel version that compiled it.
    assert texts(committed) == texts(read_mo(compiled)), f"{mo} is stale: run pybabel compile -d api/locale"


def test_every_key_used_literally_is_in_both_catalogs():
    used = literal_keys()
    assert len(used) > 150, "extraction found too little: is jinja2's Babel extractor installed?"
    assert "portal.title" in used and "staff.account.set.heading" in used and "order.none_chosen" in used
    for locale in [p.parent.parent.name for p in POS]:
        have = {k for k, v in texts(catalog(locale)).items() if v}
        missing = {k: where for k, where in used.items() if k not in have}
        assert missing == {}, f"keys used but without a text in {locale}: run pybabel extract/update (README)"


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_english_key_has_a_text():
    en = texts(catalog("en"))
    assert len(en) > 200
    assert [k for k, v in en.items() if not v] == [], "English catalog entries without a text"


@pytest.mark.parametrize("po", [p for p in POS if p.parent.parent.name != "en"], ids=lambda p: p.parent.parent.name)
def test_every_english_text_is_translated_with_the_same_fields(po: Path):
    """Portuguese (and any language added later): every key, a text for each, and the English text's {fields}."""
    en = texts(catalog("en"))
    other = catalog(po.parent.parent.name)
    assert set(texts(other)) == set(en), "this catalog has other keys than the English one"
    untranslated = [m.id for m in other if m.id and (not m.string or m.fuzzy)]
    assert untranslated == [], "keys without a text (or a fuzzy one, which pybabel compile leaves out)"
    differ = {k: v for k, v in texts(other).items() if fields(v) != fields(en[k])}
    assert differ == {}, "texts whose {fields} differ from the English one's"


def test_keys_built_at_run_time_are_in_the_catalogs():
    """pybabel cannot see t("staff.code." ~ code): babel.cfg reads the English catalog's keys so update keeps them."""
    en = texts(catalog("en"))
    for key in (
        "staff.code.refund_refused",
        "staff.status.pending_approval",
        "reason.too_small",
        "resolution.exchange",
    ):
        assert key in en
        assert key not in literal_keys()


def test_the_translator_formats_after_translating_and_falls_back():
    pt, en = i18n.translator("pt"), i18n.translator("en")
    assert pt("order.heading", number="W1") == "Encomenda W1"
    assert en("order.heading", number="W1") == "Order W1"
    assert pt("staff.exceptions.intro").startswith("Devoluções que não avançam sozinhas")  # the later table's text won
    assert pt("no.such.key") == "no.such.key"
    assert pt("") == ""  # not gettext's header entry
    assert pt("reason.size_unlisted") == "Size unlisted"
    assert i18n.translator("fr")("portal.title") == "Returns"


def write_catalog(folder: Path, locale: str, entries: dict[str, str]) -> None:
    c = Catalog(locale=locale, domain="messages", fuzzy=False)
    for key, text in entries.items():
        c.add(key, text)
    (folder / locale / "LC_MESSAGES").mkdir(parents=True)
    with (folder / locale / "LC_MESSAGES" / "messages.po").open("wb") as f:
        write_po(f, c)
    with (folder / locale / "LC_MESSAGES" / "messages.mo").open("wb") as f:
        write_mo(f, c)


def test_a_third_language_is_one_more_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A Spanish catalog with one text: the switch offers Español, and what it lacks reads in English."""
    shutil.copytree(LOCALE, tmp_path, dirs_exist_ok=True)
    write_catalog(tmp_path, "es", {"portal.title": "Devoluciones"})
    monkeypatch.setattr(catalogs, "LOCALE_DIR", tmp_path)
    monkeypatch.setattr(catalogs, "CATALOGS", catalogs._catalogs())
    monkeypatch.setattr(catalogs, "LANGS", tuple(catalogs.CATALOGS))
    catalogs._translations.cache_clear()
    try:
        assert catalogs.CATALOGS == {"en": "en", "es": "es", "pt": "pt_PT"}
        assert catalogs._name("es") == "Español"
        es = catalogs.translator("es")
        assert es("portal.title") == "Devoluciones"
        assert es("order.heading", number="W1") == "Order W1"
        asking = Request({"type": "http", "query_string": b"", "headers": [(b"accept-language", b"es-ES,pt;q=0.8")]})
        assert i18n.choose_lang(asking) == "es"
    finally:
        catalogs._translations.cache_clear()


def test_the_languages_an_order_may_name_are_the_catalogs():
    """domain/languages.py (which checks an order's `locale` and cannot read files) names the catalogs' languages."""
    assert languages.TAGS == catalogs.LANG_TAGS
    assert languages.language_tag("pt_pt") == "pt-PT" and languages.lang_of("pt-PT") == "pt"
