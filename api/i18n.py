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
    "portal.sign_out": "Sign out",
    "find.heading": "Find your order",
    "find.intro": "Enter the order number and the e-mail address you used to buy.",
    "find.number": "Order number",
    "find.email": "E-mail",
    "find.submit": "Find my order",
    "find.not_found": "We could not find an order with this number and e-mail. Check both and try again.",
    "find.locked": "Too many tries for this order or from this connection. Please try again in {minutes} minutes: until then even the right order number and e-mail will not work.",
    "find.locked_one": "Too many tries for this order or from this connection. Please try again in 1 minute: until then even the right order number and e-mail will not work.",
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
    "order.resent": "This form was already sent with other choices. Check your returns below, then choose again.",
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
    "return.label": "Print the label (4x6 in, label printer)",
    "return.label_a4": "Print the label (A4, office printer)",
    "return.label_a4_hint": "On A4 the label fills the top-left quarter of the sheet: cut along the dashed line.",
    "return.label_unavailable": "This label can only be printed in the 4x6 format.",
    "return.parcel": "Parcel {n} of {of}:",
    "return.label_pending": "Your label is being prepared…",
    "return.qr": "No printer? Show this code at the drop-off point.",
    "return.qr_alt": "QR code of your return",
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
    "portal.sign_out": "Terminar sessão",
    "find.heading": "Encontrar a sua encomenda",
    "find.intro": "Indique o número da encomenda e o e-mail que usou na compra.",
    "find.number": "Número da encomenda",
    "find.email": "E-mail",
    "find.submit": "Encontrar a encomenda",
    "find.not_found": "Não encontrámos nenhuma encomenda com este número e e-mail. Verifique ambos e tente de novo.",
    "find.locked": "Demasiadas tentativas para esta encomenda ou a partir desta ligação. Por favor, tente de novo daqui a {minutes} minutos: até lá, nem o número da encomenda e o e-mail certos funcionam.",
    "find.locked_one": "Demasiadas tentativas para esta encomenda ou a partir desta ligação. Por favor, tente de novo daqui a 1 minuto: até lá, nem o número da encomenda e o e-mail certos funcionam.",
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
    "order.resent": "Este formulário já foi enviado com outras escolhas. Veja as suas devoluções abaixo e escolha de novo.",
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
    "return.label": "Imprimir a etiqueta (4x6, impressora de etiquetas)",
    "return.label_a4": "Imprimir a etiqueta (A4, impressora de escritório)",
    "return.label_a4_hint": "Em A4 a etiqueta ocupa o quarto superior esquerdo da folha: corte pela linha tracejada.",
    "return.label_unavailable": "Esta etiqueta só pode ser impressa no formato 4x6.",
    "return.parcel": "Volume {n} de {of}:",
    "return.label_pending": "A sua etiqueta está a ser preparada…",
    "return.qr": "Sem impressora? Mostre este código no ponto de entrega.",
    "return.qr_alt": "Código QR da sua devolução",
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
        re.compile(r"^value (.+) \((.+) with the order's other returns\) is within the auto-approve limit of (.+)$"),
        r"o valor \1 (\2 com as outras devoluções da encomenda) está dentro do limite de aprovação automática de \3",
    ),  # fmt: skip
    (
        re.compile(
            r"^value (.+) \((.+) with the order's other returns\) is above the auto-approve limit of (.+): "
            r"a person will review it$"
        ),
        r"o valor \1 (\2 com as outras devoluções da encomenda) está acima do limite de aprovação automática de \3: "
        r"uma pessoa vai analisá-la",
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


# --- staff consoles (api/routers/staff_pages.py) ----------------------------------------------------

EN.update({
    "staff.title": "Reverso staff",
    "staff.nav.warehouse": "Warehouse",
    "staff.nav.finance": "Finance",
    "staff.nav.returns": "Returns",
    "staff.sign_out": "Sign out",
    "staff.credit_code": "Store credit code ending in {last4}",
    "staff.role.admin": "admin",
    "staff.role.warehouse": "warehouse",
    "staff.role.finance": "finance",
    "staff.login.heading": "Staff sign-in",
    "staff.login.intro": "Or paste a staff token (from `reverso token create`).",
    "staff.login.with_password": "Sign in with the e-mail and password of your account",
    "staff.login.token": "Staff token",
    "staff.login.submit": "Sign in",
    "staff.login.refused": "This token is not valid, has been revoked, or has no console.",
    "staff.forbidden.heading": "Not allowed",
    "staff.forbidden.text": "Your role cannot open this page.",
    "staff.notfound.text": "There is no such return.",
    "staff.back": "Back to the console",
    "staff.order": "Order",
    "staff.units": "unit(s)",
    "staff.received_at": "Received",
    "staff.warehouse.heading": "Warehouse",
    "staff.warehouse.scan": "Scan or type a tracking number or return id",
    "staff.warehouse.open": "Open",
    "staff.warehouse.unknown": "Nothing matches “{code}”.",
    "staff.warehouse.queue": "Received, waiting for inspection",
    "staff.warehouse.empty": "No parcel is waiting for inspection.",
    "staff.declared": "Declared by the shopper",
    "staff.inspected": "Inspection",
    "staff.accepted_of": "{accepted} of {quantity} accepted",
    "staff.restock": "restock",
    "staff.dispose": "dispose",
    "staff.condition.new": "New",
    "staff.condition.opened": "Opened",
    "staff.condition.damaged": "Damaged",
    "staff.inspect.heading": "Inspection",
    "staff.inspect.accepted": "Accepted quantity",
    "staff.inspect.condition": "Condition",
    "staff.inspect.restock": "Put back in stock",
    "staff.inspect.note": "Note",
    "staff.inspect.submit": "Record the inspection",
    "staff.whole_number": "Enter a whole number (0 or more).",
    "staff.required": "Required.",
    "staff.finance.heading": "Refunds to review",
    "staff.finance.amount": "Refund",
    "staff.finance.why": "Why review",
    "staff.finance.history": "Shopper's returns in the last 12 months",
    "staff.finance.history_value": "{count} worth {value}",
    "staff.finance.review": "Review",
    "staff.finance.empty": "No refund is waiting for review.",
    "staff.review.heading": "Refund review",
    "staff.review.amount": "Amount to refund ({currency})",
    "staff.review.note": "Note",
    "staff.review.approve": "Approve the refund",
    "staff.review.deny": "Deny the refund",
    "staff.bad_amount": "Enter an amount such as 12.50.",
    "staff.deny_needs_note": "Say why the refund is denied.",
    "staff.amount_too_high": "The most this return can refund is {max}.",
    "staff.decide.heading": "Approval",
    "staff.decide.approve": "Approve",
    "staff.decide.reject": "Reject",
    "staff.decide.reason": "Reason for rejecting",
    "staff.returns.heading": "Returns",
    "staff.returns.any": "Any status",
    "staff.returns.q": "Order, e-mail, tracking or return id",
    "staff.returns.search": "Search",
    "staff.returns.total": "{total} found",
    "staff.returns.prev": "Previous",
    "staff.returns.next": "Next",
    "staff.returns.page": "Page {page}",
    "staff.workflow": "Workflow in Temporal",
    "staff.label": "Label",
    "staff.status.pending_approval": "Pending approval",
    "staff.status.awaiting_shipment": "Awaiting shipment",
    "staff.status.in_transit": "In transit",
    "staff.status.received": "Received",
    "staff.status.pending_refund_review": "Refund review",
    "staff.status.completed": "Completed",
    "staff.status.rejected": "Rejected",
    "staff.status.cancelled": "Cancelled",
    "staff.status.expired": "Expired",
})  # fmt: skip

PT.update({
    "staff.title": "Reverso equipa",
    "staff.nav.warehouse": "Armazém",
    "staff.nav.finance": "Finanças",
    "staff.nav.returns": "Devoluções",
    "staff.sign_out": "Sair",
    "staff.credit_code": "Código de crédito em loja terminado em {last4}",
    "staff.role.admin": "administração",
    "staff.role.warehouse": "armazém",
    "staff.role.finance": "finanças",
    "staff.login.heading": "Entrada da equipa",
    "staff.login.intro": "Ou cole um token de equipa (de `reverso token create`).",
    "staff.login.with_password": "Entrar com o e-mail e a palavra-passe da sua conta",
    "staff.login.token": "Token de equipa",
    "staff.login.submit": "Entrar",
    "staff.login.refused": "Este token não é válido, foi revogado ou não tem consola.",
    "staff.forbidden.heading": "Sem permissão",
    "staff.forbidden.text": "A sua função não pode abrir esta página.",
    "staff.notfound.text": "Esta devolução não existe.",
    "staff.back": "Voltar à consola",
    "staff.order": "Encomenda",
    "staff.units": "unidade(s)",
    "staff.received_at": "Recebida",
    "staff.warehouse.heading": "Armazém",
    "staff.warehouse.scan": "Leia ou escreva um número de seguimento ou de devolução",
    "staff.warehouse.open": "Abrir",
    "staff.warehouse.unknown": "Nada corresponde a “{code}”.",
    "staff.warehouse.queue": "Recebidas, à espera de inspeção",
    "staff.warehouse.empty": "Nenhuma encomenda à espera de inspeção.",
    "staff.declared": "Declarado pelo cliente",
    "staff.inspected": "Inspeção",
    "staff.accepted_of": "{accepted} de {quantity} aceites",
    "staff.restock": "repor em stock",
    "staff.dispose": "descartar",
    "staff.condition.new": "Novo",
    "staff.condition.opened": "Aberto",
    "staff.condition.damaged": "Danificado",
    "staff.inspect.heading": "Inspeção",
    "staff.inspect.accepted": "Quantidade aceite",
    "staff.inspect.condition": "Estado",
    "staff.inspect.restock": "Repor em stock",
    "staff.inspect.note": "Nota",
    "staff.inspect.submit": "Registar a inspeção",
    "staff.whole_number": "Indique um número inteiro (0 ou mais).",
    "staff.required": "Obrigatório.",
    "staff.finance.heading": "Reembolsos a analisar",
    "staff.finance.amount": "Reembolso",
    "staff.finance.why": "Motivo da análise",
    "staff.finance.history": "Devoluções do cliente nos últimos 12 meses",
    "staff.finance.history_value": "{count} no valor de {value}",
    "staff.finance.review": "Analisar",
    "staff.finance.empty": "Nenhum reembolso à espera de análise.",
    "staff.review.heading": "Análise do reembolso",
    "staff.review.amount": "Valor a reembolsar ({currency})",
    "staff.review.note": "Nota",
    "staff.review.approve": "Aprovar o reembolso",
    "staff.review.deny": "Recusar o reembolso",
    "staff.bad_amount": "Indique um valor como 12,50.",
    "staff.deny_needs_note": "Indique porque recusa o reembolso.",
    "staff.amount_too_high": "O máximo que esta devolução pode reembolsar é {max}.",
    "staff.decide.heading": "Aprovação",
    "staff.decide.approve": "Aprovar",
    "staff.decide.reject": "Recusar",
    "staff.decide.reason": "Motivo da recusa",
    "staff.returns.heading": "Devoluções",
    "staff.returns.any": "Qualquer estado",
    "staff.returns.q": "Encomenda, e-mail, seguimento ou devolução",
    "staff.returns.search": "Procurar",
    "staff.returns.total": "{total} encontradas",
    "staff.returns.prev": "Anterior",
    "staff.returns.next": "Seguinte",
    "staff.returns.page": "Página {page}",
    "staff.workflow": "Workflow no Temporal",
    "staff.label": "Etiqueta",
    "staff.status.pending_approval": "À espera de aprovação",
    "staff.status.awaiting_shipment": "À espera de envio",
    "staff.status.in_transit": "Em trânsito",
    "staff.status.received": "Recebida",
    "staff.status.pending_refund_review": "Reembolso em análise",
    "staff.status.completed": "Concluída",
    "staff.status.rejected": "Recusada",
    "staff.status.cancelled": "Cancelada",
    "staff.status.expired": "Expirada",
})  # fmt: skip


# Timeline messages the workflow writes in English, and their Portuguese form. `{}` parts are
# translated again by policy_text (reasons) or by the small tables below.
_PT_CONDITIONS = {"new": "novo", "opened": "aberto", "damaged": "danificado"}
_PT_EVENTS = {"in transit": "em trânsito", "delivered": "entregue", "exception": "problema",
              "pre transit": "etiqueta registada, ainda por enviar", "out for delivery": "em distribuição"}  # fmt: skip
_PT_REVIEW = {"refund is above the review threshold": "o reembolso está acima do limite de revisão",
              "refund with the order's other returns is above the review threshold":
                  "o reembolso, com as outras devoluções da encomenda, está acima do limite de revisão"}  # fmt: skip
# Who did it, as the workflow names roles for shoppers; older entries name the staff member instead ("por ana").
_PT_BY = {"the shop": "pela loja", "the warehouse": "pelo armazém", "shopper": "pelo cliente"}
_PT_AT_REQUEST_OF = {"shopper": "do cliente", "the shop": "da loja"}

_PT_DONE = {"exchange shipped": "troca enviada", "nothing to pay back": "nada a devolver"}


def _pt_by(who: str) -> str:
    return _PT_BY.get(who, f"por {who}")


def _pt_part(part: str) -> str:
    if m := re.match(r"^line (.+) was refused at inspection$", part):
        return f"o artigo {m.group(1)} foi recusado na inspeção"
    if m := re.match(r"^(\S+): (\d+) accepted \((\w+)\)$", part):
        return f"{m.group(1)}: {m.group(2)} aceite(s) ({_PT_CONDITIONS.get(m.group(3), m.group(3))})"
    if m := re.match(r"^refunded (.+)$", part):
        return f"reembolsado {m.group(1)}"
    if m := re.match(r"^store credit (.+)$", part):
        return f"crédito em loja {m.group(1)}"
    return _PT_REVIEW.get(part) or _PT_DONE.get(part) or policy_text(part, "pt")


def _with_note(text: str, note: str | None) -> str:
    return f"{text}: {note}" if note else text


_PT_TIMELINE: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"^return requested: (.*)$"),
     lambda m: "devolução pedida: " + "; ".join(policy_text(x, "pt") for x in m.group(1).split("; "))),
    (re.compile(r"^return label issued, tracking number (\S+)$"),
     lambda m: f"etiqueta de devolução emitida, número de seguimento {m.group(1)}"),
    (re.compile(r"^approved by (.+)$"), lambda m: f"aprovada {_pt_by(m.group(1))}"),
    (re.compile(r"^rejected: (.*)$"), lambda m: f"recusada: {m.group(1)}"),
    (re.compile(r"^cancelled by (.+)$"), lambda m: f"cancelada {_pt_by(m.group(1))}"),
    (re.compile(r"^parcel scanned by the carrier$"), lambda m: "encomenda registada pela transportadora"),
    (re.compile(r"^parcel delivered to the warehouse$"), lambda m: "encomenda entregue no armazém"),
    (re.compile(r"^carrier reported a problem with parcel (\S+)$"),
     lambda m: f"a transportadora comunicou um problema com a encomenda {m.group(1)}"),
    (re.compile(r"^exchange parcel (\S+): (.+)$"),
     lambda m: f"encomenda de troca {m.group(1)}: {_PT_EVENTS.get(m.group(2), m.group(2))}"),
    (re.compile(r"^parcel (\S+): (pre transit|out for delivery)$"),
     lambda m: f"encomenda {m.group(1)}: {_PT_EVENTS[m.group(2)]}"),
    (re.compile(r"^parcel (\S+) was returned to the (shopper|warehouse) by the carrier: contact the shopper$"),
     lambda m: f"a transportadora devolveu a encomenda {m.group(1)} "
               f"{'ao cliente' if m.group(2) == 'shopper' else 'ao armazém'}: contacte o cliente"),
    (re.compile(r"^no carrier scan within (\d+) days$"), lambda m: f"sem registo da transportadora em {m.group(1)} dias"),
    (re.compile(r"^inspected by (.+?): (.*)$"),
     lambda m: f"inspecionada {_pt_by(m.group(1))}: " + ", ".join(_pt_part(x) for x in m.group(2).split(", "))),
    (re.compile(r"^finance review: (.*)$"),
     lambda m: "revisão financeira: " + "; ".join(_pt_part(x) for x in m.group(1).split("; "))),
    (re.compile(r"^refund of (.+?) approved by ([^:]+)(?:: (.*))?$"),
     lambda m: _with_note(f"reembolso de {m.group(1)} aprovado {_pt_by(m.group(2))}", m.group(3))),
    (re.compile(r"^refund denied by ([^:]+)(?:: (.*))?$"),
     lambda m: _with_note(f"reembolso recusado {_pt_by(m.group(1))}", m.group(2))),
    (re.compile(r"^replacement out of stock for (.+): refunded$"),
     lambda m: f"artigo de troca esgotado ({m.group(1)}): reembolsado"),
    (re.compile(r"^completed: (.*)$"), lambda m: "concluída: " + ", ".join(_pt_part(x) for x in m.group(1).split(", "))),
    (re.compile(r"^still .+ after a reminder period$"), lambda m: "ainda à espera, após um lembrete"),
    (re.compile(r"^reminder: still waiting for inspection$"), lambda m: "lembrete: ainda à espera de inspeção"),
]  # fmt: skip


def timeline_text(text: str | None, lang: str) -> str:
    """A timeline message in the page's language; an unknown one stays as the workflow wrote it."""
    if not text or lang != "pt":
        return text or ""
    for pattern, translate in _PT_TIMELINE:
        if m := pattern.match(text):
            return translate(m)
    return text


# --- parcels: label validity and reissue, stuck parcels, split returns (workflows/shipping.py, workflows/tracking.py) ----------

EN.update({
    "return.label_void": "Your return label was not used in time and no longer works. Get a new one below.",
    "order.parcels": "How many parcels will you send?",
    "order.parcels_hint": "Each parcel gets its own label.",
    "order.bad_parcels": "Choose between 1 and {most} parcels.",
    "return.new_label": "Get a new label",
    "return.new_label_hint": "Lost or damaged your label? A new one replaces it; the old one stops working.",
    "return.label_wait": "You have had as many new labels as we can make in 24 hours. You can ask for another one after {when}.",
    "staff.nav.exceptions": "Exceptions",
    "staff.exceptions.heading": "Exceptions",
    "staff.exceptions.intro": "Returns whose parcel stopped moving or that the carrier reported a problem with.",
    "staff.exceptions.empty": "No return needs attention.",
    "staff.attention": "Needs attention",
    "staff.receive.heading": "Receiving",
    "staff.receive.text": "{delivered} of {parcels} parcels are in. Close receiving to inspect what came; the rest is logged as missing.",
    "staff.receive.submit": "Close receiving",
    "staff.parcel": "parcel {n}/{of}",
})  # fmt: skip

PT.update({
    "return.label_void": "A sua etiqueta de devolução não foi usada a tempo e já não é válida. Peça uma nova abaixo.",
    "order.parcels": "Quantos volumes vai enviar?",
    "order.parcels_hint": "Cada volume tem a sua etiqueta.",
    "order.bad_parcels": "Escolha entre 1 e {most} volumes.",
    "return.new_label": "Pedir uma nova etiqueta",
    "return.new_label_hint": "Perdeu ou estragou a etiqueta? Uma nova substitui-a; a antiga deixa de ser válida.",
    "return.label_wait": "Já recebeu todas as etiquetas novas que podemos emitir em 24 horas. Pode pedir outra depois de {when}.",
    "staff.nav.exceptions": "Exceções",
    "staff.exceptions.heading": "Exceções",
    "staff.exceptions.intro": "Devoluções cuja encomenda parou ou em que a transportadora comunicou um problema.",
    "staff.exceptions.empty": "Nenhuma devolução precisa de atenção.",
    "staff.attention": "Precisa de atenção",
    "staff.receive.heading": "Receção",
    "staff.receive.text": "Chegaram {delivered} de {parcels} volumes. Feche a receção para inspecionar o que chegou; o resto fica registado como em falta.",
    "staff.receive.submit": "Fechar a receção",
    "staff.parcel": "volume {n}/{of}",
})  # fmt: skip

_PT_TIMELINE.extend([
    (re.compile(r"^new return label issued at the request of (.+), tracking number (.+)$"),
     lambda m: f"nova etiqueta de devolução emitida a pedido {_PT_AT_REQUEST_OF.get(m.group(1), 'de ' + m.group(1))}, "
               f"número de seguimento {m.group(2)}"),
    (re.compile(r"^(\d+) return labels issued, tracking numbers (.+)$"),
     lambda m: f"{m.group(1)} etiquetas de devolução emitidas, números de seguimento {m.group(2)}"),
    (re.compile(r"^return label (.+) was not used within (\d+) days and is void; a new one can be requested from the portal$"),
     lambda m: f"a etiqueta de devolução {m.group(1)} não foi usada em {m.group(2)} dias e foi anulada; "
               "pode pedir uma nova no portal"),
    (re.compile(r"^parcel (\S+) has had no carrier scan for (\d+) days: marked as an exception$"),
     lambda m: f"a encomenda {m.group(1)} está há {m.group(2)} dias sem registo da transportadora: marcada como exceção"),
    (re.compile(r"^parcel (\S+) scanned again \((.+)\): exception cleared$"),
     lambda m: f"a encomenda {m.group(1)} voltou a ser registada ({_PT_EVENTS.get(m.group(2), m.group(2))}): "
               "exceção resolvida"),
    (re.compile(r"^parcel (\d+)/(\d+) delivered to the warehouse; waiting for (\d+) more$"),
     lambda m: f"volume {m.group(1)}/{m.group(2)} entregue no armazém; faltam {m.group(3)}"),
    (re.compile(r"^receiving closed by (.+?); parcels that never arrived: (.+)$"),
     lambda m: f"receção fechada {_pt_by(m.group(1))}; volumes que não chegaram: "
               + ("nenhum" if m.group(2) == "none" else m.group(2))),
])  # fmt: skip


# --- policy as data: rules by tag and category, fees by reason, keep it, manual review (domain/policy.py) -----

_PT_PATTERNS.extend([
    (re.compile(r"^every line is within its return window and returnable$"),
     "todos os artigos estão dentro do respetivo prazo de devolução e podem ser devolvidos"),
    (re.compile(r"^return window of (\d+) days \(tag (.+)\) closed on (\S+)$"),
     r"o prazo de devolução de \1 dias (etiqueta \2) terminou a \3"),
    (re.compile(r"^return window of (\d+) days \(tag (.+)\) open until (\S+)$"),
     r"prazo de devolução de \1 dias (etiqueta \2), aberto até \3"),
    (re.compile(r"^return window of (\d+) days \(category (.+)\) closed on (\S+)$"),
     r"o prazo de devolução de \1 dias (categoria \2) terminou a \3"),
    (re.compile(r"^return window of (\d+) days \(category (.+)\) open until (\S+)$"),
     r"prazo de devolução de \1 dias (categoria \2), aberto até \3"),
    (re.compile(r"^return window of (\d+) days open until (\S+)$"), r"prazo de devolução de \1 dias, aberto até \2"),
    (re.compile(r"^tagged (.+): this item cannot be returned$"), r"marcado \1: este artigo não pode ser devolvido"),
    (re.compile(r"^a person will review this return before it goes ahead$"),
     "uma pessoa vai analisar esta devolução antes de avançar"),
    # Returns decided before screening reasons became staff-only review notes still show these.
    (re.compile(r"^e-mail (\S+) is on the block list: a person will review it$"),
     r"o e-mail \1 está na lista de bloqueio: uma pessoa vai analisá-la"),
    (re.compile(r"^(\d+) returns in the last (\d+) days, more than the (\d+) allowed: a person will review it$"),
     r"\1 devoluções nos últimos \2 dias, mais do que as \3 permitidas: uma pessoa vai analisá-la"),
    (re.compile(r"^returns worth (.+) in the last (\d+) days, more than (.+): a person will review it$"),
     r"devoluções no valor de \1 nos últimos \2 dias, mais do que \3: uma pessoa vai analisá-la"),
    (re.compile(r"^value is below the keep-it limit of (.+): keep the items, no need to send them back$"),
     r"o valor está abaixo do limite de \1: fique com os artigos, não precisa de os devolver"),
    (re.compile(r"^keep it: no return shipping and no restocking fee$"),
     "fique com o artigo: sem custos de envio nem taxa de reposição"),
    (re.compile(r"^restocking fee (\S+) for (\S+): (.+)$"), r"taxa de reposição de \1 por \2: \3"),
    (re.compile(r"^no restocking fee for (\S+)$"), r"sem taxa de reposição por \1"),
    (re.compile(r"^return shipping fee deducted: (.+)$"), r"custo de envio da devolução descontado: \1"),
    (re.compile(r"^return shipping fee waived for (.+)$"), r"custo de envio da devolução dispensado (\1)"),
    (re.compile(r"^store credit bonus (\S+): (.+)$"), r"bónus de crédito em loja de \1: \2"),
    (re.compile(r"^(\d+) of (\d+) accepted at inspection$"), r"\1 de \2 aceite(s) na inspeção"),
])  # fmt: skip

_PT_TIMELINE.extend([
    (re.compile(r"^keep it: no need to send the items back; the refund follows at once$"),
     lambda m: "fique com os artigos: não precisa de os devolver; o reembolso segue de imediato"),
])  # fmt: skip


# --- exchanges: other products, price differences, fallbacks, instant exchange (domain/exchanges.py) -----

EN.update({
    "line.exchange_variants": "Other sizes and colours",
    "line.exchange_others": "Other products",
    "line.difference_to": "If the new item costs less, the difference comes back as",
    "line.difference_refund": "a refund",
    "line.difference_store_credit": "store credit",
    "preview.exchange_price": "New item: {title}",
    "preview.exchange_pay": "You pay the difference",
    "preview.exchange_back": "Difference back to you",
    "staff.exchange": "Exchange of {line} for {sku} at {price} each: difference {difference} (above 0 the shopper pays)",
    "staff.exchange_money": "Exchange: {charged} charged, {hold} on hold",
})  # fmt: skip

PT.update({
    "line.exchange_variants": "Outros tamanhos e cores",
    "line.exchange_others": "Outros produtos",
    "line.difference_to": "Se o novo artigo custar menos, a diferença é devolvida como",
    "line.difference_refund": "reembolso",
    "line.difference_store_credit": "crédito na loja",
    "preview.exchange_price": "Novo artigo: {title}",
    "preview.exchange_pay": "Paga a diferença",
    "preview.exchange_back": "Diferença a devolver",
    "staff.exchange": "Troca de {line} por {sku} a {price} cada: diferença {difference} (acima de 0 paga o cliente)",
    "staff.exchange_money": "Troca: {charged} cobrados, {hold} cativos",
})  # fmt: skip

_PT_FALLBACK = {"refund": "reembolso", "store credit": "crédito na loja", "a refund": "reembolso",
                "store_credit": "crédito na loja"}  # fmt: skip

_PT_PATTERNS.extend([
    (re.compile(r"^exchange: you pay the difference of (.+) before it ships$"),
     r"troca: paga a diferença de \1 antes do envio"),
    (re.compile(r"^exchange: (.+) comes back to you as store credit$"), r"troca: \1 é devolvido em crédito na loja"),
    (re.compile(r"^exchange: (.+) comes back to you as a refund$"), r"troca: \1 é reembolsado"),
    (re.compile(r"^exchange: same price, nothing to pay$"), "troca: mesmo preço, nada a pagar"),
    (re.compile(r"^(\S+) cannot be sent in exchange: you get a refund$"), r"\1 não pode ser enviado em troca: recebe um reembolso"),
    (re.compile(r"^(\S+) cannot be sent in exchange: you get a store credit$"),
     r"\1 não pode ser enviado em troca: recebe crédito na loja"),
    (re.compile(r"^(\S+) is out of stock now: if it still is when your parcel arrives, you get a refund$"),
     r"\1 está esgotado: se continuar quando a sua encomenda chegar, recebe um reembolso"),
    (re.compile(r"^(\S+) is out of stock now: if it still is when your parcel arrives, you get a store credit$"),
     r"\1 está esgotado: se continuar quando a sua encomenda chegar, recebe crédito na loja"),
])  # fmt: skip

_PT_TIMELINE.extend([
    (re.compile(r"^line (\S+): price difference of (.+) paid$"), lambda m: f"artigo {m.group(1)}: diferença de {m.group(2)} paga"),
    (re.compile(r"^line (\S+): the price difference could not be charged \((.*)\)$"),
     lambda m: f"artigo {m.group(1)}: não foi possível cobrar a diferença ({m.group(2)})"),
    (re.compile(r"^replacement not available for (.+): (a refund|store credit)$"),
     lambda m: f"artigo de troca indisponível ({m.group(1)}): {_PT_FALLBACK[m.group(2)]}"),
    (re.compile(r"^instant exchange not possible: (\S+) is out of stock$"),
     lambda m: f"troca imediata impossível: {m.group(1)} esgotado"),
    (re.compile(r"^instant exchange not possible: the card hold was declined$"),
     lambda m: "troca imediata impossível: a cativação no cartão foi recusada"),
    (re.compile(r"^instant exchange shipped; (.+) held on the card until the return is inspected$"),
     lambda m: f"troca imediata enviada; {m.group(1)} cativos no cartão até à inspeção da devolução"),
    (re.compile(r"^(.+) of the card hold captured after (.+)$"),
     lambda m: f"{m.group(1)} da cativação cobrados após {_pt_after(m.group(2))}"),
    (re.compile(r"^card hold released after (.+)$"), lambda m: f"cativação no cartão libertada após {_pt_after(m.group(1))}"),
])  # fmt: skip


def _pt_after(why: str) -> str:
    return {"the inspection": "a inspeção", "the return expired": "a devolução expirar",
            "the return cancelled": "o cancelamento", "the return rejected": "a recusa"}.get(why, why)  # fmt: skip


# The Exceptions queue's and the staff accounts' strings live in modules of their own that add to these tables;
# loaded with this one, so no reader of a page or a timeline depends on which router was imported first.
import api.i18n_admin  # noqa: E402, F401  (issue 18: the admin list's and the finance review's strings)
from api import i18n_accounts, i18n_exceptions  # noqa: E402, F401
