"""The Exceptions queue's UI strings (attention codes, resolution buttons), added to api.i18n's in both languages.

Imported by api.routers.staff_exceptions; kept apart because api.i18n is already long."""

from __future__ import annotations

import re

from api.i18n import _PT_EVENTS, _PT_TIMELINE, EN, PT

EN.update({
    "staff.exceptions.intro": "Returns that cannot go on by themselves: each says why and offers what you may do now. "
                              "Finished returns stay listed while they carry something a person should look at.",
    "staff.code.refund_refused": "Refund refused",
    "staff.code.charge_failed": "Charge failed",
    "staff.code.hold_expired": "Card hold expired",
    "staff.code.parcel_lost": "Parcel lost",
    "staff.code.parcel_stuck": "Parcel not moving",
    "staff.code.returned_to_sender": "Returned to the shopper",
    "staff.code.label_unavailable": "No label could be made",
    "staff.code.late_scan": "Scanned after expiry",
    "staff.code.activity_stalled": "A step keeps failing",
    "staff.code.bad_data": "Data that could not be stored",
    "staff.resolve.action.retry": "Retry",
    "staff.resolve.action.store_credit": "Pay as store credit",
    "staff.resolve.action.refund_outside": "Refunded outside Reverso",
    "staff.resolve.action.refund_without_receipt": "Refund without receipt",
    "staff.resolve.action.close": "Close",
    "staff.resolve.action.reopen": "Reopen",
    "staff.resolve.explain.retry": "Try the refused step again now.",
    "staff.resolve.explain.store_credit": "Pay what is still owed as store credit.",
    "staff.resolve.explain.refund_outside": "Record a refund made outside Reverso; nothing is paid again.",
    "staff.resolve.explain.refund_without_receipt": "The parcel will not come: refund or credit as filed, without inspection.",
    "staff.resolve.explain.close": "End the return with nothing more paid.",
    "staff.resolve.explain.reopen": "The parcel did arrive: the return becomes received and goes to inspection.",
    "staff.resolve.confirm.retry": "Confirm: retry",
    "staff.resolve.confirm.store_credit": "Confirm: pay as store credit",
    "staff.resolve.confirm.refund_outside": "Confirm: record the outside refund",
    "staff.resolve.confirm.refund_without_receipt": "Confirm: refund without receipt",
    "staff.resolve.confirm.close": "Confirm: close the return",
    "staff.resolve.confirm.reopen": "Confirm: reopen as received",
    "staff.resolve.note": "Why (staff only)",
    "staff.resolve.amount": "Amount in {currency} (empty: all that is owed)",
    "staff.resolve.reference": "Reference of the outside refund",
    "staff.resolve.bad_amount": "amount: write a plain amount such as 12.50",
    "staff.resolve.not_yours": "Your role cannot take this action.",
})  # fmt: skip

PT.update({
    "staff.exceptions.intro": "Devoluções que não avançam sozinhas: cada uma diz porquê e o que pode fazer agora. "
                              "As terminadas continuam na lista enquanto tiverem algo que alguém deva ver.",
    "staff.code.refund_refused": "Reembolso recusado",
    "staff.code.charge_failed": "Cobrança falhada",
    "staff.code.hold_expired": "Cativação expirada",
    "staff.code.parcel_lost": "Encomenda perdida",
    "staff.code.parcel_stuck": "Encomenda parada",
    "staff.code.returned_to_sender": "Devolvida ao cliente",
    "staff.code.label_unavailable": "Sem etiqueta possível",
    "staff.code.late_scan": "Registada após expirar",
    "staff.code.activity_stalled": "Um passo continua a falhar",
    "staff.code.bad_data": "Dados que não se puderam guardar",
    "staff.resolve.action.retry": "Tentar de novo",
    "staff.resolve.action.store_credit": "Pagar em crédito na loja",
    "staff.resolve.action.refund_outside": "Reembolsado fora do Reverso",
    "staff.resolve.action.refund_without_receipt": "Reembolsar sem receção",
    "staff.resolve.action.close": "Fechar",
    "staff.resolve.action.reopen": "Reabrir",
    "staff.resolve.explain.retry": "Tentar já de novo o passo recusado.",
    "staff.resolve.explain.store_credit": "Pagar o que falta em crédito na loja.",
    "staff.resolve.explain.refund_outside": "Registar um reembolso feito fora do Reverso; nada é pago de novo.",
    "staff.resolve.explain.refund_without_receipt": "A encomenda não vai chegar: reembolsar ou creditar como pedido, sem inspeção.",
    "staff.resolve.explain.close": "Terminar a devolução sem pagar mais nada.",
    "staff.resolve.explain.reopen": "A encomenda chegou: a devolução passa a recebida e segue para inspeção.",
    "staff.resolve.confirm.retry": "Confirmar: tentar de novo",
    "staff.resolve.confirm.store_credit": "Confirmar: pagar em crédito na loja",
    "staff.resolve.confirm.refund_outside": "Confirmar: registar o reembolso externo",
    "staff.resolve.confirm.refund_without_receipt": "Confirmar: reembolsar sem receção",
    "staff.resolve.confirm.close": "Confirmar: fechar a devolução",
    "staff.resolve.confirm.reopen": "Confirmar: reabrir como recebida",
    "staff.resolve.note": "Porquê (só para a equipa)",
    "staff.resolve.amount": "Montante em {currency} (vazio: tudo o que falta)",
    "staff.resolve.reference": "Referência do reembolso externo",
    "staff.resolve.bad_amount": "amount: escreva um montante simples, como 12,50",
    "staff.resolve.not_yours": "A sua função não pode tomar esta ação.",
})  # fmt: skip

_PT_TIMELINE.extend([
    (re.compile(r"^refund without receipt approved by the shop: (.+) paid as filed, without inspection$"),
     lambda m: f"reembolso sem receção aprovado pela loja: {m.group(1)} pagos como pedido, sem inspeção"),
    (re.compile(r"^closed by the shop with nothing more paid$"), lambda m: "fechada pela loja sem pagar mais nada"),
    (re.compile(r"^completed: closed by the shop, nothing more paid$"),
     lambda m: "concluída: fechada pela loja, sem pagar mais nada"),
    (re.compile(r"^reopened by the warehouse: the parcel arrived after the return expired$"),
     lambda m: "reaberta pelo armazém: a encomenda chegou depois de a devolução expirar"),
    (re.compile(r"^parcel (\S+) has had no carrier scan for (\d+) days: it is taken as lost$"),
     lambda m: f"a encomenda {m.group(1)} está há {m.group(2)} dias sem registo da transportadora: dada como perdida"),
    (re.compile(r"^a carrier scan of parcel (\S+) \((.+)\) from (.+) UTC, before the expiry, arrived late: the return goes on$"),
     lambda m: f"um registo da transportadora da encomenda {m.group(1)} ({_PT_EVENTS.get(m.group(2), m.group(2))}) "
               f"de {m.group(3)} UTC, anterior ao fim do prazo, chegou tarde: a devolução continua"),
    (re.compile(r"^parcel (\S+) scanned \((.+)\) on (\S+), after the return expired$"),
     lambda m: f"encomenda {m.group(1)} registada ({_PT_EVENTS.get(m.group(2), m.group(2))}) em {m.group(3)}, "
               "depois de a devolução expirar"),
])  # fmt: skip

# The payments' messages (workflows.resolution, workflows.exchanging).
_PT_NAMING = {"original shipping": "portes de envio originais", "card hold captured": "cativação cobrada"}
_PT_TIMELINE.extend([
    (re.compile(r"^(.+) paid as store credit instead$"), lambda m: f"{m.group(1)} pagos em crédito na loja"),
    (re.compile(r"^(.+) refunded outside Reverso \(reference (.*)\)$", re.S),
     lambda m: f"{m.group(1)} reembolsados fora do Reverso (referência {m.group(2)})"),
    (re.compile(r"^refund of (.+) \((.+)\) refused by the card's bank or Stripe: the shop will look into it$"),
     lambda m: f"reembolso de {m.group(1)} ({_pt_naming(m.group(2))}) recusado pelo banco do cartão ou pela Stripe: "
               "a loja vai analisar"),
    (re.compile(r"^refund tried again: (.+) refunded$"), lambda m: f"reembolso tentado de novo: {m.group(1)} reembolsados"),
    (re.compile(r"^the card hold could not be settled after 6 days, before the card's authorization ends$"),
     lambda m: "não foi possível acertar a cativação no cartão ao fim de 6 dias, antes de a autorização terminar"),
    (re.compile(r"^the card hold could not be settled after (.+)$"),
     lambda m: f"não foi possível acertar a cativação no cartão após {m.group(1)}"),
    (re.compile(r"^what the inspection accepts is refunded from this capture$"),
     lambda m: "o que a inspeção aceitar é reembolsado a partir desta cobrança"),
])  # fmt: skip


def _pt_naming(what: str) -> str:
    if what.startswith("line "):
        return "artigo " + what[5:]
    return _PT_NAMING.get(what, what)
