"""UI strings of the web pages in English and Portuguese (pt-PT), and how a language is chosen.

Keys are stable names; `translator(lang)` gives `t(key, **values)`. Texts that come from the policy or
the workflow (English) are translated by pattern when known, else shown as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.requests import Request

LANGS = ("en", "pt")
LANG_TAGS = {"en": "en", "pt": "pt-PT"}
LANG_NAMES = {"en": "English", "pt": "Português"}

EN: dict[str, str] = {
    "portal.title": "Returns",
    "find.heading": "Find your order",
    "find.intro": "Enter the order number and the e-mail address you used to buy.",
    "find.number": "Order number",
    "find.email": "E-mail",
    "find.submit": "Find my order",
    "find.not_found": "We could not find an order with this number and e-mail. Check both and try again.",
    "order.heading": "Order {number}",
    "order.delivered": "Delivered on {date}",
    "order.not_delivered": "Not delivered yet",
    "order.window": "Returns are accepted within {days} days of delivery.",
    "order.quantity_bought": "Bought",
    "order.unit_price": "Unit price",
    "order.returnable": "Can return",
    "order.not_eligible": "Cannot be returned",
    "order.choose": "Choose what to return",
    "order.nothing": "Nothing in this order can be returned.",
    "order.none_chosen": "Choose a quantity for at least one item.",
    "order.existing": "Your returns",
    "order.sign_out": "Use another order",
    "line.quantity": "Quantity to return",
    "line.reason": "Reason",
    "line.resolution": "What would you like?",
    "line.exchange_sku": "Exchange for",
    "line.exchange_none": "— choose a variant —",
    "line.exchange_unavailable": "No other variant is in stock, so an exchange is not possible.",
    "line.exchange_needed": "Choose the variant you want in exchange.",
    "resolution.refund": "Refund",
    "resolution.store_credit": "Store credit",
    "resolution.exchange": "Exchange",
    "preview.button": "Preview",
    "preview.heading": "What comes back",
    "preview.value": "Value of the items",
    "preview.refund": "Refund",
    "preview.fees": "Fees deducted",
    "preview.store_credit": "Store credit",
    "preview.exchange": "Exchange: {title} for {sku}",
    "preview.auto": "This return is approved at once and you get a label to print.",
    "preview.review": "A person will review this return before you get a label.",
    "submit.button": "Request the return",
    "return.heading": "Return {id}",
    "return.decision": "Decision",
    "return.approved": "Approved",
    "return.waiting": "Waiting for review",
    "return.status": "Status",
    "return.label": "Download the return label (PDF)",
    "return.label_pending": "Your label is being prepared…",
    "return.tracking": "Tracking number",
    "return.timeline": "Timeline",
    "return.cancel": "Cancel this return",
    "return.back": "Back to the order",
    "return.amounts": "Amounts",
    "return.items": "Items",
    "notfound.heading": "Not found",
    "notfound.text": "There is nothing here for your order.",
    "notfound.back": "Back to the portal",
    "csrf.refused": "This form has expired. Reload the page and try again.",
    "lang.switch": "Language",
    "status.pending_approval": "waiting for approval",
    "status.awaiting_shipment": "waiting for you to ship it",
    "status.in_transit": "in transit",
    "status.received": "received at the warehouse",
    "status.pending_refund_review": "refund under review",
    "status.completed": "completed",
    "status.rejected": "rejected",
    "status.cancelled": "cancelled",
    "status.expired": "expired",
    "reason.too_small": "Too small",
    "reason.too_big": "Too big",
    "reason.changed_mind": "Changed my mind",
    "reason.defective": "Defective or damaged",
    "reason.wrong_item": "Wrong item sent",
    "reason.not_as_described": "Not as described",
}

PT: dict[str, str] = {
    "portal.title": "Devoluções",
    "find.heading": "Encontrar a sua encomenda",
    "find.intro": "Indique o número da encomenda e o e-mail que usou na compra.",
    "find.number": "Número da encomenda",
    "find.email": "E-mail",
    "find.submit": "Encontrar a encomenda",
    "find.not_found": "Não encontrámos nenhuma encomenda com este número e e-mail. Verifique ambos e tente de novo.",
    "order.heading": "Encomenda {number}",
    "order.delivered": "Entregue a {date}",
    "order.not_delivered": "Ainda não entregue",
    "order.window": "Aceitamos devoluções até {days} dias após a entrega.",
    "order.quantity_bought": "Comprado",
    "order.unit_price": "Preço unitário",
    "order.returnable": "Pode devolver",
    "order.not_eligible": "Não pode ser devolvido",
    "order.choose": "Escolha o que quer devolver",
    "order.nothing": "Nenhum artigo desta encomenda pode ser devolvido.",
    "order.none_chosen": "Escolha uma quantidade para pelo menos um artigo.",
    "order.existing": "As suas devoluções",
    "order.sign_out": "Usar outra encomenda",
    "line.quantity": "Quantidade a devolver",
    "line.reason": "Motivo",
    "line.resolution": "O que prefere?",
    "line.exchange_sku": "Trocar por",
    "line.exchange_none": "— escolha uma variante —",
    "line.exchange_unavailable": "Não há outra variante em stock, por isso não é possível trocar.",
    "line.exchange_needed": "Escolha a variante que quer receber em troca.",
    "resolution.refund": "Reembolso",
    "resolution.store_credit": "Crédito na loja",
    "resolution.exchange": "Troca",
    "preview.button": "Pré-visualizar",
    "preview.heading": "O que recebe",
    "preview.value": "Valor dos artigos",
    "preview.refund": "Reembolso",
    "preview.fees": "Taxas descontadas",
    "preview.store_credit": "Crédito na loja",
    "preview.exchange": "Troca: {title} por {sku}",
    "preview.auto": "Esta devolução é aprovada de imediato e recebe uma etiqueta para imprimir.",
    "preview.review": "Uma pessoa vai analisar esta devolução antes de receber a etiqueta.",
    "submit.button": "Pedir a devolução",
    "return.heading": "Devolução {id}",
    "return.decision": "Decisão",
    "return.approved": "Aprovada",
    "return.waiting": "À espera de análise",
    "return.status": "Estado",
    "return.label": "Descarregar a etiqueta de devolução (PDF)",
    "return.label_pending": "A sua etiqueta está a ser preparada…",
    "return.tracking": "Número de seguimento",
    "return.timeline": "Cronologia",
    "return.cancel": "Cancelar esta devolução",
    "return.back": "Voltar à encomenda",
    "return.amounts": "Valores",
    "return.items": "Artigos",
    "notfound.heading": "Não encontrado",
    "notfound.text": "Não há nada aqui para a sua encomenda.",
    "notfound.back": "Voltar ao portal",
    "csrf.refused": "Este formulário expirou. Recarregue a página e tente de novo.",
    "lang.switch": "Idioma",
    "status.pending_approval": "à espera de aprovação",
    "status.awaiting_shipment": "à espera do seu envio",
    "status.in_transit": "em trânsito",
    "status.received": "recebida no armazém",
    "status.pending_refund_review": "reembolso em análise",
    "status.completed": "concluída",
    "status.rejected": "recusada",
    "status.cancelled": "cancelada",
    "status.expired": "expirada",
    "reason.too_small": "Demasiado pequeno",
    "reason.too_big": "Demasiado grande",
    "reason.changed_mind": "Mudei de ideias",
    "reason.defective": "Com defeito ou danificado",
    "reason.wrong_item": "Artigo errado",
    "reason.not_as_described": "Diferente do descrito",
}

MESSAGES: dict[str, dict[str, str]] = {"en": EN, "pt": PT}

# Texts produced in English by domain.policy, and their Portuguese form.
_PT_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^final sale: this item cannot be returned$"), "venda final: este artigo não pode ser devolvido"),
    (re.compile(r"^not delivered yet$"), "ainda não foi entregue"),
    (re.compile(r"^already returned$"), "já foi devolvido"),
    (re.compile(r"^return window of (\d+) days closed on (\S+)$"), r"o prazo de devolução de \1 dias terminou a \2"),
    (re.compile(r"^only (\d+) of this line can still be returned$"), r"só \1 deste artigo ainda pode ser devolvido"),
    (re.compile(r"^line (.+?): (.*)$"), r"artigo \1: \2"),
    (
        re.compile(r"^every line is within the (\d+)-day return window and returnable$"),
        r"todos os artigos estão dentro do prazo de \1 dias e podem ser devolvidos",
    ),  # fmt: skip
    (
        re.compile(r"^value (.+) is within the auto-approve limit of (.+)$"),
        r"o valor \1 está dentro do limite de aprovação automática de \2",
    ),  # fmt: skip
    (
        re.compile(r"^value (.+) is above the auto-approve limit of (.+): a person will review it$"),
        r"o valor \1 está acima do limite de aprovação automática de \2: uma pessoa vai analisá-la",
    ),  # fmt: skip
]


def choose_lang(request: Request) -> str:
    """`?lang=` first, then the `lang` cookie, then Accept-Language (any pt → pt-PT), else English."""
    for value in (request.query_params.get("lang"), request.cookies.get("lang")):
        if value in LANGS:
            return value
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag == "pt" or tag.startswith("pt-"):
            return "pt"
        if tag == "en" or tag.startswith("en-"):
            return "en"
    return "en"


def policy_text(text: str | None, lang: str) -> str:
    """A policy explanation in the page's language (line prefixes translated recursively)."""
    if not text or lang != "pt":
        return text or ""
    for pattern, replacement in _PT_PATTERNS:
        m = pattern.match(text)
        if m:
            out = m.expand(replacement)
            if pattern.pattern.startswith("^line "):
                out = f"artigo {m.group(1)}: {policy_text(m.group(2), lang)}"
            return out
    return text


def translator(lang: str) -> Callable[..., str]:
    table = MESSAGES.get(lang, EN)

    def t(key: str, **values: object) -> str:
        text = table.get(key) or EN.get(key)
        if text is None:
            if key.startswith("reason."):
                return key.removeprefix("reason.").replace("_", " ").capitalize()
            return key
        return text.format(**values) if values else text

    return t
