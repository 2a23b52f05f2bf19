"""The portal frame's strings (skip link, navigation, the shop's support and policy links), in both languages."""

from __future__ import annotations

from api.i18n import EN, PT

EN.update({
    "portal.skip": "Skip to the content",
    "portal.nav": "Main",
    "portal.support": "Questions? Write to",
    "portal.policy": "Returns policy",
})  # fmt: skip

PT.update({
    "portal.skip": "Saltar para o conteúdo",
    "portal.nav": "Principal",
    "portal.support": "Dúvidas? Escreva para",
    "portal.policy": "Política de devoluções",
})  # fmt: skip
