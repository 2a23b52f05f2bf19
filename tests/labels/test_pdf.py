"""The return label: decodable barcode, readable text, 4x6 page, stable bytes."""

from __future__ import annotations

import datetime

import pydantic
import pypdfium2 as pdfium
import pytest
import zxingcpp

from labels.pdf import LabelData, render_return_label
from tests.support.scanning import page_codes


def label(**changes: object) -> LabelData:
    data = dict(
        return_id="RMA-2025-000123",
        tracking_number="LOC1Z999AA10123456784",
        carrier="local",
        shop_name="Loja da Maria",
        ship_from=["João São Brás", "Rua das Flores 221, 3º Esq.", "4050-265 Porto", "PT"],
        ship_to=["Reverso Returns Centre", "Rua do Armazem 12", "4400-001 Vila Nova de Gaia", "PT"],
        created=datetime.date(2025, 1, 15),
    )
    return LabelData(**{**data, **changes})


def open_page(pdf: bytes) -> pdfium.PdfPage:
    doc = pdfium.PdfDocument(pdf)
    assert len(doc) == 1
    return doc[0]


def page_text(pdf: bytes) -> str:
    return open_page(pdf).get_textpage().get_text_range()


def barcodes(pdf: bytes) -> set[tuple[zxingcpp.BarcodeFormat, str]]:
    return {(b.format, b.text) for b in page_codes(open_page(pdf))}


@pytest.mark.parametrize("page", ["4x6", "a4"])
@pytest.mark.parametrize(
    "tracking",
    ["LOC1Z999AA10123456784", "00340434161094042587", "JD014600006281234567", "1Z(99)/A-b c\\9"],
)
def test_code128_decodes_to_exactly_the_tracking_number(tracking: str, page: str) -> None:
    data = label(tracking_number=tracking)
    pdf = render_return_label(data, page)  # type: ignore[arg-type]
    # The Code128 carries the tracking number; the QR carries the return id, for drop-off by phone.
    assert barcodes(pdf) == {
        (zxingcpp.BarcodeFormat.Code128, tracking),
        (zxingcpp.BarcodeFormat.QRCode, data.return_id),
    }
    assert tracking in page_text(pdf)  # human-readable copy under the bars


def test_page_is_4_by_6_inches() -> None:
    assert open_page(render_return_label(label())).get_size() == (288.0, 432.0)


def test_a4_page_holds_the_whole_label_in_its_top_left_quarter() -> None:
    page = open_page(render_return_label(label(parcel=2, parcels=2), "a4"))
    width, height = page.get_size()
    assert (round(width), round(height)) == (595, 842)
    textpage = page.get_textpage()
    assert "parcel 2/2" in textpage.get_text_range()
    for i in range(textpage.count_chars()):
        left, bottom, right, top = textpage.get_charbox(i)
        assert 0 <= left <= right <= width / 2 and height / 2 <= bottom <= top <= height


def test_rma_addresses_and_header_are_real_text() -> None:
    data = label(parcel=2, parcels=3)
    text = page_text(render_return_label(data))
    for expected in [data.return_id, "LOCAL", "RETURN", "Loja da Maria", "FROM", "TO", "2025-01-15"]:
        assert expected in text
    for line in data.ship_from + data.ship_to:
        assert line in text
    assert "parcel 2/3" in text


@pytest.mark.parametrize("page", ["4x6", "a4"])
def test_polish_greek_and_portuguese_names_come_out_as_the_same_unicode(page: str) -> None:
    sender = ["Łukasz Żółć", "ul. Piotrkowska 5", "90-001 Łódź", "PL"]
    receiver = ["Νίκος Παπαδόπουλος", "Οδός Αθηνάς 12", "105 51 Αθήνα", "GR"]
    pdf = render_return_label(label(ship_from=sender, ship_to=receiver, shop_name="São João Ωmega"), page)
    text = page_text(pdf)
    for line in [*sender, *receiver, "Return to São João Ωmega"]:
        assert line in text
    assert "?" not in text
    assert (zxingcpp.BarcodeFormat.Code128, "LOC1Z999AA10123456784") in barcodes(pdf)


def test_characters_the_font_lacks_become_question_marks_not_blanks() -> None:
    text = page_text(render_return_label(label(ship_from=["王小明 Wang", "PT"])))
    assert "??? Wang" in text


def test_decomposed_accents_are_composed_not_replaced() -> None:
    text = page_text(render_return_label(label(ship_from=["Sa\u0303o Joa\u0303o", "PT"])))
    assert "São João" in text


def test_long_input_stays_on_the_page_and_the_rma_is_never_cut() -> None:
    rma = "RMA-2025-000123-WITH-A-VERY-LONG-SUFFIX"
    pdf = render_return_label(
        label(
            return_id=rma,
            shop_name="An Extremely Long Shop Name That Would Never Fit On One Line Of A Label " * 2,
            ship_to=[
                "Reverso Returns Centre",
                "Building B " * 12,
                "Line 3",
                "Line 4",
                "Line 5",
                "Line 6",
                "PT",
            ],
        )
    )
    textpage = open_page(pdf).get_textpage()
    text = textpage.get_text_range()
    assert rma in text and "Line 6" not in text and "PT" in text
    for i in range(textpage.count_chars()):
        left, bottom, right, top = textpage.get_charbox(i)
        assert 0 <= left <= right <= 288 and 0 <= bottom <= top <= 432


def test_same_input_same_bytes() -> None:
    assert render_return_label(label()) == render_return_label(label())
    assert render_return_label(label()) != render_return_label(label(parcel=1, parcels=2))


@pytest.mark.parametrize(
    "changes", [{"tracking_number": "LOC1ŁÓDŹ"}, {"tracking_number": ""}, {"parcel": 3, "parcels": 2}]
)
def test_invalid_label_data_is_refused(changes: dict[str, object]) -> None:
    # Code128 would drop the non-ASCII characters and print bars that no longer match the number.
    with pytest.raises(pydantic.ValidationError):
        label(**changes)


def test_latin_labels_use_the_printers_own_font_and_others_embed_dejavu() -> None:
    """Embedding a font costs about half a label's time, so only labels that need the glyphs pay for it."""
    latin = render_return_label(label(ship_from=["Zoë Müller-Šimek", "Rue de l'Église 3", "75004 Paris", "FR"]))
    assert b"/BaseFont /Helvetica" in latin and b"DejaVuSans" not in latin
    assert "Zoë Müller-Šimek" in page_text(latin)
    polish = render_return_label(label(ship_from=["Łucja Wąs", "ul. Piotrkowska 1", "90-001 Łódź", "PL"]))
    assert b"DejaVuSans" in polish
    assert "Łucja Wąs" in page_text(polish)
