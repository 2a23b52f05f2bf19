"""Words for the policy's reason codes (domain/reason_codes.py), added to api.i18n's tables in both languages.

`say.<code>` is the staff text (the English one is exactly what the policy wrote before codes); `say.shopper.<code>`
is a shopper's, without the shop's thresholds, tags, SKUs or line ids. `say.param.<name>.<value>` are the words for
a parameter's value (api/reason_words.py). A shopper's code carries no threshold parameter (`STAFF_ONLY_PARAMS`),
so every code with one has a shopper text here."""

from __future__ import annotations

from api.i18n import EN, PT

EN.update({
    "say.on_line": "line {line_id}: {text}",
    "say.shopper.on_line": "{title}: {text}",
    # eligibility (domain/eligibility.py, domain/policy.py)
    "say.final_sale": "final sale: this item cannot be returned",
    "say.not_returnable_tag": "tagged {tag}: this item cannot be returned",
    "say.shopper.not_returnable_tag": "this item cannot be returned",
    "say.not_delivered": "not delivered yet",
    "say.already_returned": "already returned",
    "say.outside_window": "return window of {days} days closed on {closed_on}",
    "say.outside_window_by_tag": "return window of {days} days (tag {tag}) closed on {closed_on}",
    "say.shopper.outside_window_by_tag": "return window of {days} days closed on {closed_on}",
    "say.outside_window_by_category": "return window of {days} days (category {category}) closed on {closed_on}",
    "say.shopper.outside_window_by_category": "return window of {days} days closed on {closed_on}",
    "say.within_window": "return window of {days} days open until {open_until}",
    "say.within_window_by_tag": "return window of {days} days (tag {tag}) open until {open_until}",
    "say.shopper.within_window_by_tag": "return window of {days} days open until {open_until}",
    "say.within_window_by_category": "return window of {days} days (category {category}) open until {open_until}",
    "say.shopper.within_window_by_category": "return window of {days} days open until {open_until}",
    "say.quantity_left": "only {left} of this line can still be returned",
    "say.shopper.quantity_left": "only {left} of this item can still be returned",
    "say.reason_not_allowed": "reason must be one of: {allowed}",
    "say.no_such_line": "no such line in this order",
    "say.shopper.no_such_line": "this item is not part of your order",
    # the decision (domain/policy.py, domain/screening.py)
    "say.within_window_all": "every line is within the {days}-day return window and returnable",
    "say.shopper.within_window_all": "every item is within the {days}-day return window and can be returned",
    "say.within_own_windows": "every line is within its return window and returnable",
    "say.shopper.within_own_windows": "every item is within its return window and can be returned",
    "say.within_approval_limit": "value {value} is within the auto-approve limit of {limit}",
    "say.shopper.within_approval_limit": "approved at once",
    "say.within_approval_limit_with_others":
        "value {value} ({total} with the order's other returns) is within the auto-approve limit of {limit}",
    "say.shopper.within_approval_limit_with_others": "approved at once",
    "say.above_approval_limit": "value {value} is above the auto-approve limit of {limit}: a person will review it",
    "say.shopper.above_approval_limit": "a person at the shop will review this return before it goes ahead",
    "say.above_approval_limit_with_others": "value {value} ({total} with the order's other returns) is above the "
                                            "auto-approve limit of {limit}: a person will review it",
    "say.shopper.above_approval_limit_with_others":
        "a person at the shop will review this return before it goes ahead",
    "say.review_for_screening": "a person will review this return before it goes ahead",
    "say.keep_it": "value is below the keep-it limit of {limit}: keep the items, no need to send them back",
    "say.shopper.keep_it": "keep the items, no need to send them back",
    # fees (domain/fees.py) and inspection
    "say.keep_it_no_fees": "keep it: no return shipping and no restocking fee",
    "say.restocking_fee": "restocking fee {percent} for {reason}: {fee}",
    "say.shopper.restocking_fee": "restocking fee {percent}: {fee}",
    "say.no_restocking_fee": "no restocking fee for {reason}",
    "say.shopper.no_restocking_fee": "no restocking fee",
    "say.shipping_fee_deducted": "return shipping fee deducted: {fee}",
    "say.shipping_fee_waived": "return shipping fee waived for {resolution}",
    "say.store_credit_bonus": "store credit bonus {percent}: {bonus}",
    "say.accepted_at_inspection": "{accepted} of {quantity} accepted at inspection",
    # exchanges (domain/exchanges.py)
    "say.exchange_unavailable": "{sku} cannot be sent in exchange: you get a {fallback}",
    "say.shopper.exchange_unavailable": "the item you chose cannot be sent in exchange: you get a {fallback}",
    "say.exchange_pay_difference": "exchange: you pay the difference of {amount} before it ships",
    "say.exchange_difference_back": "exchange: {amount} comes back to you as {to}",
    "say.exchange_same_price": "exchange: same price, nothing to pay",
    "say.exchange_out_of_stock":
        "{sku} is out of stock now: if it still is when your parcel arrives, you get a {fallback}",
    "say.shopper.exchange_out_of_stock":
        "the item you chose is out of stock now: if it still is when your parcel arrives, you get a {fallback}",
    # parameter values
    "say.param.fallback.refund": "refund",
    "say.param.fallback.store_credit": "store credit",
    "say.param.to.refund": "a refund",
    "say.param.to.store_credit": "store credit",
    "say.param.resolution.refund": "refund",
    "say.param.resolution.store_credit": "store credit",
    "say.param.resolution.exchange": "exchange",
})  # fmt: skip

PT.update({
    "say.on_line": "artigo {line_id}: {text}",
    "say.shopper.on_line": "{title}: {text}",
    "say.final_sale": "venda final: este artigo não pode ser devolvido",
    "say.not_returnable_tag": "marcado {tag}: este artigo não pode ser devolvido",
    "say.shopper.not_returnable_tag": "este artigo não pode ser devolvido",
    "say.not_delivered": "ainda não foi entregue",
    "say.already_returned": "já foi devolvido",
    "say.outside_window": "o prazo de devolução de {days} dias terminou a {closed_on}",
    "say.outside_window_by_tag": "o prazo de devolução de {days} dias (etiqueta {tag}) terminou a {closed_on}",
    "say.shopper.outside_window_by_tag": "o prazo de devolução de {days} dias terminou a {closed_on}",
    "say.outside_window_by_category": "o prazo de devolução de {days} dias (categoria {category}) terminou a {closed_on}",
    "say.shopper.outside_window_by_category": "o prazo de devolução de {days} dias terminou a {closed_on}",
    "say.within_window": "prazo de devolução de {days} dias, aberto até {open_until}",
    "say.within_window_by_tag": "prazo de devolução de {days} dias (etiqueta {tag}), aberto até {open_until}",
    "say.shopper.within_window_by_tag": "prazo de devolução de {days} dias, aberto até {open_until}",
    "say.within_window_by_category": "prazo de devolução de {days} dias (categoria {category}), aberto até {open_until}",
    "say.shopper.within_window_by_category": "prazo de devolução de {days} dias, aberto até {open_until}",
    "say.quantity_left": "só {left} deste artigo ainda pode ser devolvido",
    "say.shopper.quantity_left": "só {left} deste artigo ainda pode ser devolvido",
    "say.reason_not_allowed": "o motivo tem de ser um de: {allowed}",
    "say.no_such_line": "este artigo não existe nesta encomenda",
    "say.shopper.no_such_line": "este artigo não faz parte da sua encomenda",
    "say.within_window_all": "todos os artigos estão dentro do prazo de {days} dias e podem ser devolvidos",
    "say.shopper.within_window_all": "todos os artigos estão dentro do prazo de {days} dias e podem ser devolvidos",
    "say.within_own_windows": "todos os artigos estão dentro do respetivo prazo de devolução e podem ser devolvidos",
    "say.shopper.within_own_windows":
        "todos os artigos estão dentro do respetivo prazo de devolução e podem ser devolvidos",
    "say.within_approval_limit": "o valor {value} está dentro do limite de aprovação automática de {limit}",
    "say.shopper.within_approval_limit": "aprovada de imediato",
    "say.within_approval_limit_with_others": "o valor {value} ({total} com as outras devoluções da encomenda) está "
                                             "dentro do limite de aprovação automática de {limit}",
    "say.shopper.within_approval_limit_with_others": "aprovada de imediato",
    "say.above_approval_limit":
        "o valor {value} está acima do limite de aprovação automática de {limit}: uma pessoa vai analisá-la",
    "say.shopper.above_approval_limit": "uma pessoa da loja vai analisar esta devolução antes de avançar",
    "say.above_approval_limit_with_others": "o valor {value} ({total} com as outras devoluções da encomenda) está "
                                            "acima do limite de aprovação automática de {limit}: uma pessoa vai analisá-la",
    "say.shopper.above_approval_limit_with_others": "uma pessoa da loja vai analisar esta devolução antes de avançar",
    "say.review_for_screening": "uma pessoa vai analisar esta devolução antes de avançar",
    "say.keep_it": "o valor está abaixo do limite de {limit}: fique com os artigos, não precisa de os devolver",
    "say.shopper.keep_it": "fique com os artigos, não precisa de os devolver",
    "say.keep_it_no_fees": "fique com o artigo: sem custos de envio nem taxa de reposição",
    "say.restocking_fee": "taxa de reposição de {percent} por {reason}: {fee}",
    "say.shopper.restocking_fee": "taxa de reposição de {percent}: {fee}",
    "say.no_restocking_fee": "sem taxa de reposição por {reason}",
    "say.shopper.no_restocking_fee": "sem taxa de reposição",
    "say.shipping_fee_deducted": "custo de envio da devolução descontado: {fee}",
    "say.shipping_fee_waived": "custo de envio da devolução dispensado ({resolution})",
    "say.store_credit_bonus": "bónus de crédito em loja de {percent}: {bonus}",
    "say.accepted_at_inspection": "{accepted} de {quantity} aceite(s) na inspeção",
    "say.exchange_unavailable": "{sku} não pode ser enviado em troca: recebe {fallback}",
    "say.shopper.exchange_unavailable": "o artigo escolhido não pode ser enviado em troca: recebe {fallback}",
    "say.exchange_pay_difference": "troca: paga a diferença de {amount} antes do envio",
    "say.exchange_difference_back": "troca: {amount} é devolvido {to}",
    "say.exchange_same_price": "troca: mesmo preço, nada a pagar",
    "say.exchange_out_of_stock": "{sku} está esgotado: se continuar quando a sua encomenda chegar, recebe {fallback}",
    "say.shopper.exchange_out_of_stock":
        "o artigo escolhido está esgotado: se continuar quando a sua encomenda chegar, recebe {fallback}",
    "say.param.fallback.refund": "um reembolso",
    "say.param.fallback.store_credit": "crédito na loja",
    "say.param.to.refund": "como reembolso",
    "say.param.to.store_credit": "em crédito na loja",
    "say.param.resolution.refund": "reembolso",
    "say.param.resolution.store_credit": "crédito na loja",
    "say.param.resolution.exchange": "troca",
})  # fmt: skip
