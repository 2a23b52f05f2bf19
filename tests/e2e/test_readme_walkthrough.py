"""The README's curl walk-through, run exactly as written against a fresh `reverso dev`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pypdfium2 as pdfium

from tests.support import services
from tests.support.scanning import page_codes

README = Path(__file__).resolve().parents[2] / "README.md"


def walkthrough() -> str:
    text = README.read_text()
    block = re.search(r"<!-- walkthrough:start -->\n```bash\n(.*?)```\n<!-- walkthrough:end -->", text, re.S)
    assert block, "README has no walk-through block"
    return block.group(1)


def test_readme_walkthrough_takes_a_return_to_its_refund():
    with services.scratch_dir() as tmp, services.dev_stack(tmp / "stack") as stack:
        env = {**stack.env, "API": stack.api_url, "STRIPE": stack.stripe_url,
               "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}  # fmt: skip
        script = "set -euo pipefail\n" + walkthrough()
        done = subprocess.run(["bash", "-c", script], cwd=tmp, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.strip().splitlines()[-2:] == ["completed", "2500"], done.stdout
        page = pdfium.PdfDocument((tmp / "label.pdf").read_bytes())[0]
        codes = [b.text for b in page_codes(page)]
        assert sorted(c[:2] for c in codes) == ["LC", "R-"]  # the tracking number's Code128 and the RMA's QR
