"""UI strings of the staff account pages (api/routers/staff_accounts.py) in English and Portuguese (pt-PT).

Same shape as api.i18n's EN/PT tables, kept apart until they are merged there; `translator(lang)` looks here first,
then in api.i18n, so the account pages' templates use one `ta(key, **values)`.
"""

from __future__ import annotations

from collections.abc import Callable

from api import i18n

EN: dict[str, str] = {
    "staff.account.email": "E-mail",
    "staff.account.password": "Password",
    "staff.account.login.heading": "Sign in",
    "staff.account.login.submit": "Sign in",
    "staff.account.login.refused": "This e-mail and password do not match an account. Check both and try again.",
    "staff.account.login.locked": "Too many wrong passwords for this account. Try again in {minutes} minutes: until then even the right password will not work.",
    "staff.account.login.locked_one": "Too many wrong passwords for this account. Try again in 1 minute: until then even the right password will not work.",
    "staff.account.login.forgot": "Forgot your password?",
    "staff.account.set.heading": "Choose your password",
    "staff.account.set.intro": "For {email}. At least 12 characters; a few unrelated words are easy to remember and hard to guess.",
    "staff.account.set.new": "New password",
    "staff.account.set.confirm": "The same password again",
    "staff.account.set.submit": "Save password",
    "staff.account.set.mismatch": "The two passwords are not the same.",
    "staff.account.set.too_short": "The password must have at least 12 characters.",
    "staff.account.set.too_long": "The password may have at most 256 characters.",
    "staff.account.set.repeated": "The password may not be one character repeated.",
    "staff.account.set.invalid": "The password may not contain control characters.",
    "staff.account.set.done": "Your password is saved. Sign in with your e-mail and the new password.",
    "staff.account.link.gone.heading": "This link does not work any more",
    "staff.account.link.gone": "A link to set a password works once and for a limited time. Ask for a new one below, or ask an admin to invite you again.",
    "staff.account.forgot.heading": "Reset your password",
    "staff.account.forgot.intro": "Enter the e-mail address of your account. We send a link to choose a new password.",
    "staff.account.forgot.submit": "Send the link",
    "staff.account.forgot.sent": "If an account has this e-mail address, a link to reset its password is on its way. It works once, for 1 hour.",
    "staff.account.back": "Back to sign-in",
}

PT: dict[str, str] = {
    "staff.account.email": "E-mail",
    "staff.account.password": "Palavra-passe",
    "staff.account.login.heading": "Entrar",
    "staff.account.login.submit": "Entrar",
    "staff.account.login.refused": "Este e-mail e esta palavra-passe não correspondem a uma conta. Verifique ambos e tente de novo.",
    "staff.account.login.locked": "Demasiadas palavras-passe erradas para esta conta. Tente de novo dentro de {minutes} minutos: até lá nem a palavra-passe certa funciona.",
    "staff.account.login.locked_one": "Demasiadas palavras-passe erradas para esta conta. Tente de novo dentro de 1 minuto: até lá nem a palavra-passe certa funciona.",
    "staff.account.login.forgot": "Esqueceu-se da palavra-passe?",
    "staff.account.set.heading": "Escolha a sua palavra-passe",
    "staff.account.set.intro": "Para {email}. Pelo menos 12 caracteres; algumas palavras sem relação entre si são fáceis de lembrar e difíceis de adivinhar.",
    "staff.account.set.new": "Nova palavra-passe",
    "staff.account.set.confirm": "A mesma palavra-passe outra vez",
    "staff.account.set.submit": "Guardar palavra-passe",
    "staff.account.set.mismatch": "As duas palavras-passe não são iguais.",
    "staff.account.set.too_short": "A palavra-passe tem de ter pelo menos 12 caracteres.",
    "staff.account.set.too_long": "A palavra-passe pode ter no máximo 256 caracteres.",
    "staff.account.set.repeated": "A palavra-passe não pode ser um só carácter repetido.",
    "staff.account.set.invalid": "A palavra-passe não pode ter caracteres de controlo.",
    "staff.account.set.done": "A sua palavra-passe foi guardada. Entre com o seu e-mail e a nova palavra-passe.",
    "staff.account.link.gone.heading": "Esta ligação já não funciona",
    "staff.account.link.gone": "Uma ligação para escolher a palavra-passe funciona uma vez e durante um tempo limitado. Peça uma nova abaixo, ou peça a um administrador que o convide de novo.",
    "staff.account.forgot.heading": "Repor a palavra-passe",
    "staff.account.forgot.intro": "Indique o endereço de e-mail da sua conta. Enviamos uma ligação para escolher uma nova palavra-passe.",
    "staff.account.forgot.submit": "Enviar a ligação",
    "staff.account.forgot.sent": "Se existir uma conta com este endereço de e-mail, vai receber uma ligação para repor a palavra-passe. Funciona uma vez, durante 1 hora.",
    "staff.account.back": "Voltar a entrar",
}

MESSAGES: dict[str, dict[str, str]] = {"en": EN, "pt": PT}
# The sign-in page (staff/login.html, api.i18n's `t`) shows the account form too.
i18n.EN.update(EN)
i18n.PT.update(PT)


def translator(lang: str) -> Callable[..., str]:
    table, fallback = MESSAGES.get(lang, EN), i18n.translator(lang)

    def ta(key: str, **values: object) -> str:
        text = table.get(key) or EN.get(key)
        if text is None:
            return fallback(key, **values)
        return text.format(**values) if values else text

    return ta
