"""Portuguese for the English texts that domain.policy and the workflows write (policy reasons, timeline entries).

Moved as it was out of api/i18n.py and api/i18n_exceptions.py when the pages' strings went to gettext catalogs
(issue 15); api.i18n re-exports `policy_text` and `timeline_text`. Texts are matched by pattern and translated when
known, else shown as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable

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


# --- the Exceptions queue (moved from api/i18n_exceptions.py) -----

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


# The shopper's timeline keeps the head of a message whose detail is internal (api.portal_return.shopper_timeline).
_PT_TIMELINE.extend([
    (re.compile(r"^return requested$"), lambda m: "devolução pedida"),
    (re.compile(r"^finance review$"), lambda m: "revisão do reembolso"),
    (re.compile(r"^inspected by the warehouse$"), lambda m: "inspecionada pelo armazém"),
    (re.compile(r"^instant exchange not possible$"), lambda m: "troca imediata impossível"),
])  # fmt: skip
