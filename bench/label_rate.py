"""Labels per second per core: the full return label against a bare page of its format, same run.

PDF: the 4x6 label (embedded DejaVu Sans) against a bare 4x6 ReportLab page. ZPL: the label against a bare
ZPL format with the same fields and no fitting; once with ASCII addresses (printer text fields only) and
once with Polish and Greek ones (drawn as ^GF bitmaps from DejaVu Sans, the costly path).

Run: python bench/label_rate.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from datetime import date
from importlib.metadata import version
from io import BytesIO

from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas

from labels.pdf import LabelData, render_return_label
from labels.zpl import render_zpl

DATA = LabelData(return_id="R-BENCH12345", tracking_number="LC123456789012", carrier="Reverso Local",
                 shop_name="Reverso Demo Shop", ship_from=["Ana Sousa", "Rua das Flores 28", "4050-262 Porto", "PT"],
                 ship_to=["Reverso Returns Centre", "Rua do Armazem 12", "4400-001 Vila Nova de Gaia", "PT"],
                 created=date(2026, 11, 23))  # fmt: skip
NON_LATIN = DATA.model_copy(update={"ship_from": ["Łukasz Żółć", "ul. Piotrkowska 5", "90-001 Łódź", "PL"],
                                    "ship_to": ["Νίκος Παπαδόπουλος", "Οδός Αθηνάς 12", "105 51 Αθήνα", "GR"]})  # fmt: skip


def bare_page() -> bytes:
    out = BytesIO()
    c = Canvas(out, pagesize=(4 * inch, 6 * inch), invariant=1)
    c.drawString(20, 400, "R-BENCH12345")
    c.showPage()
    c.save()
    return out.getvalue()


def bare_zpl() -> bytes:
    fields = [DATA.carrier, "RETURN", DATA.shop_name, *DATA.ship_from, *DATA.ship_to, DATA.return_id]
    text = "".join(f"^FO30,{40 * i}^A0N,30,30^FD{f}^FS" for i, f in enumerate(fields))
    return (f"^XA^CI28{text}^FO60,700^BY3^BCN,200,N,N,N,A^FD{DATA.tracking_number}^FS"
            f"^FO580,930^BQN,2,6^FDMA,{DATA.return_id}^FS^XZ").encode()  # fmt: skip


def rate(fn: Callable[[], bytes], seconds: float) -> float:
    fn()  # warm up: font and module loading are not per-label costs
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(f"machine: {os.cpu_count()} cores, {mem:.1f} GiB, Python {platform.python_version()}, "
          f"reportlab {version('reportlab')}")  # fmt: skip
    baseline = rate(bare_page, args.seconds)
    label = rate(lambda: render_return_label(DATA), args.seconds)
    zpl_baseline = rate(bare_zpl, args.seconds)
    zpl = rate(lambda: render_zpl(DATA), args.seconds)
    zpl_bitmaps = rate(lambda: render_zpl(NON_LATIN), args.seconds)
    print(f"bare 4x6 page       : {baseline:8.1f} per second on one core")
    print(f"return label (PDF)  : {label:8.1f} per second on one core")
    print(f"bare ZPL format     : {zpl_baseline:8.1f} per second on one core")
    print(f"return label (ZPL)  : {zpl:8.1f} per second on one core, ASCII addresses")
    print(f"return label (ZPL)  : {zpl_bitmaps:8.1f} per second on one core, Polish and Greek addresses as bitmaps")
    print(f"summary: PDF labels {label:.0f}/s/core, {label / baseline:.2f} of a bare page (target >= 300/s/core)")
    print(f"summary: ZPL labels {zpl:.0f}/s/core ASCII, {zpl_bitmaps:.0f}/s/core with bitmaps, "
          f"{zpl / zpl_baseline:.3f} and {zpl_bitmaps / zpl_baseline:.3f} of a bare ZPL format")  # fmt: skip


if __name__ == "__main__":
    main()
