"""The warehouse's new UI strings (issue 18: receiving at the dock, inspection outcomes and photos, scan next), added
to api.i18n's in both languages, and the Portuguese of the timeline message a receipt at the dock writes."""

from __future__ import annotations

import re

from api.i18n import _PT_TIMELINE, EN, PT

EN.update({
    "staff.choose": "Choose…",
    "staff.inspect.outcome": "Outcome",
    "staff.outcome.as_described": "As described",
    "staff.outcome.damaged": "Damaged",
    "staff.outcome.used": "Used",
    "staff.outcome.wrong_item": "Wrong item",
    "staff.outcome.empty_box": "Empty box",
    "staff.inspect.photos": "Photos (up to 3)",
    "staff.photos.hint": "JPEG, PNG or WebP, at most 5 MiB each. Location and camera data are removed.",
    "staff.photos.too_many": "At most {most} photos per line.",
    "staff.photo_of": "Photo {n} of {title}",
    "staff.warehouse.inspected": "Inspection of return {id} recorded. Scan the next parcel.",
    "staff.warehouse.see_it": "See the return",
    "staff.receive.early": "The carrier has not reported this parcel delivered yet. If it is here at the dock, receive it now to inspect it; the carrier's later scans change nothing.",
    "staff.receive.early_submit": "Receive the parcel",
})  # fmt: skip

PT.update({
    "staff.choose": "Escolha…",
    "staff.inspect.outcome": "Resultado",
    "staff.outcome.as_described": "Conforme descrito",
    "staff.outcome.damaged": "Danificado",
    "staff.outcome.used": "Usado",
    "staff.outcome.wrong_item": "Artigo errado",
    "staff.outcome.empty_box": "Caixa vazia",
    "staff.inspect.photos": "Fotografias (até 3)",
    "staff.photos.hint": "JPEG, PNG ou WebP, até 5 MiB cada. Os dados de localização e da câmara são removidos.",
    "staff.photos.too_many": "No máximo {most} fotografias por artigo.",
    "staff.photo_of": "Fotografia {n} de {title}",
    "staff.warehouse.inspected": "Inspeção da devolução {id} registada. Leia a próxima encomenda.",
    "staff.warehouse.see_it": "Ver a devolução",
    "staff.receive.early": "A transportadora ainda não indicou esta encomenda como entregue. Se já está no cais, receba-a agora para a inspecionar; os registos posteriores da transportadora não mudam nada.",
    "staff.receive.early_submit": "Receber a encomenda",
})  # fmt: skip

_PT_TIMELINE.append(
    (re.compile(r"^received at the warehouse before the carrier's delivery scan: (.+)$"),
     lambda m: f"recebida no armazém antes do registo de entrega da transportadora: {m.group(1)}"),
)  # fmt: skip
