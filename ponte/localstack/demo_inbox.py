"""The demo's inbox, made current at each start: Evolution webhooks timed relative to now.

A few conversations per priority (a billing dispute, complaints, purchase interest,
questions, thanks), their messages minutes old so the SLAs are running, and one complaint
five hours old, past its SLA (4 h at medium, 1 h at high): one breached conversation.
Built from the captured Evolution payload in ``demo/evolution`` with fictitious phones
and names; each start adds fresh messages (new ids) to the same demo contacts.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).resolve().parent / "demo" / "evolution" / "messages.upsert__text-inbound-v2__01.json"


@dataclass(frozen=True)
class DemoMessage:
    minutes_ago: int
    phone: str  # digits of a fictitious Brazilian mobile
    name: str
    text: str


DEMO_MESSAGES = (
    DemoMessage(300, "5531987650002", "João Teste", "Bom dia, meu pedido ainda não chegou e já paguei o boleto."),
    DemoMessage(50, "5581987650008", "Rafael Exemplar", "O produto veio com defeito, quero trocar. Estou chateado."),
    DemoMessage(
        40,
        "5561987650006",
        "Pedro Ilustrativo",
        "Preciso de um orçamento de 10 uniformes até amanhã para fechar a compra.",
    ),
    DemoMessage(25, "5551987650005", "Beatriz Amostra", "Obrigada, recebi tudo certinho! Adorei."),
    DemoMessage(12, "5541987650004", "Carlos Modelo", "Qual o prazo de entrega para Curitiba?"),
    DemoMessage(
        8, "5571987650007", "Luiza Demonstração", "Quero fechar hoje o pedido de 3 camisetas, posso pagar no Pix?"
    ),
    DemoMessage(
        6, "5521987650003", "Ana Fictícia", "Fui cobrada duas vezes no cartão! Quero o estorno ainda hoje, é urgente."
    ),
    DemoMessage(
        3, "5511987650001", "Maria Exemplo", "Oi! Vocês têm o tênis de corrida no tamanho 38? Quero comprar hoje."
    ),
)


def demo_payloads(now: datetime) -> list[dict[str, Any]]:
    """One ``messages.upsert`` per demo message, sent ``minutes_ago`` before ``now`` (ids unique to ``now``)."""
    template = json.loads(TEMPLATE.read_text())
    run = f"{int(now.timestamp()):X}"
    payloads = []
    for index, message in enumerate(DEMO_MESSAGES):
        sent = now - timedelta(minutes=message.minutes_ago)
        body = copy.deepcopy(template)
        data = body["data"]
        data["key"] = {"remoteJid": f"{message.phone}@s.whatsapp.net", "fromMe": False, "id": f"DEMO{run}{index:02d}"}
        data["pushName"] = message.name
        data["message"] = {"conversation": message.text}
        data["messageTimestamp"] = int(sent.timestamp())
        body["date_time"] = sent.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        payloads.append(body)
    return payloads
