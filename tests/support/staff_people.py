"""People on the staff consoles in the browser tests: invited with `reverso staff invite` as an operator would, the
link read from the e-mail in the stack's SMTP sink, a password chosen on its page, then signed in with it. The
consoles take accounts only; API tokens are for the shop's systems (and for the tests' own set-up over the API).

axe-core checks the set-password and sign-in pages on the way (no violation of any impact)."""

from __future__ import annotations

import email
import email.policy
import re
import subprocess
import sys
import time
import uuid
from typing import Any

from tests.support import services
from tests.support.axe import assert_accessible
from tests.support.services import DevStack

PASSWORD = "forklift pallet tape gun"
HOMES = {"admin": "/staff/returns", "warehouse": "/staff/warehouse", "finance": "/staff/finance"}
LINK = re.compile(r"http\S+/staff/password\?token=rvl_[\w-]+")


def reverso(stack: DevStack, *args: str) -> str:
    """The `reverso` command beside the running stack, as an operator runs it; its standard output."""
    done = subprocess.run([sys.executable, "-m", "cli", *args], env=stack.env, cwd=services.ROOT,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def invitation_link(stack: DevStack, address: str, timeout: float = 30) -> str:
    """The set-password link of the newest invitation e-mail to `address` in the stack's SMTP sink."""
    deadline = time.monotonic() + timeout
    while True:
        found = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                 for p in sorted(stack.mail_dir.glob("*.eml"))]  # fmt: skip
        mine = [m for m in found if m["To"] == address and m["X-Reverso-Kind"] == "staff_invite"]
        if mine:
            body = mine[-1].get_body(preferencelist=("plain",))
            link = LINK.search(body.get_content() if body is not None else "")
            assert link, f"the invitation to {address} carries no link"
            return link.group(0)
        assert time.monotonic() < deadline, f"no invitation e-mail reached {address}"
        time.sleep(0.2)


def invite(stack: DevStack, page: Any, *roles: str, name: str | None = None) -> str:
    """Invite a person with these roles by `reverso staff invite` and choose their password from the e-mailed link
    in `page`; their e-mail address."""
    address = f"{'-'.join(roles)}-{uuid.uuid4().hex[:6]}@shop.example"
    options = [arg for role in roles for arg in ("--role", role)]
    printed = reverso(stack, "staff", "invite", "--email", address, *options,
                      "--name", name or f"{' '.join(roles).title()} Person")  # fmt: skip
    link = invitation_link(stack, address)
    assert printed.strip().splitlines()[-1] == link  # the same link is printed, for when mail is not set up
    page.goto(link)
    assert_accessible(page, "the set-password page")
    page.locator("#password").fill(PASSWORD)
    page.locator("#confirm").fill(PASSWORD)
    page.locator("#save-password").click()
    page.locator("#password-saved").wait_for()
    assert_accessible(page, "the sign-in page after setting a password")
    return address


def sign_in(page: Any, stack: DevStack, address: str, lands: str) -> None:
    """Sign in at /staff/login with the e-mail and PASSWORD, landing on `lands`."""
    page.goto(f"{stack.api_url}/staff/login")
    assert_accessible(page, "the sign-in page")
    page.locator("#email").fill(address)
    page.locator("#password").fill(PASSWORD)
    page.locator("#sign-in").click()
    page.wait_for_url(f"**{lands}")


def person(stack: DevStack, page: Any, *roles: str, name: str | None = None, lands: str | None = None) -> str:
    """A new person with these roles, signed in in `page` (landing on their first role's console); their e-mail."""
    address = invite(stack, page, *roles, name=name)
    sign_in(page, stack, address, lands or HOMES[next(r for r in HOMES if r in roles)])
    return address
