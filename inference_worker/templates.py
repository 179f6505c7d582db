"""Intent-keyed reply suggestions in Brazilian Portuguese, for the agent to send, edit or discard."""

from __future__ import annotations

from ponte.domain.analysis import MAX_REPLY_CHARS, Intent, Sentiment

TEMPLATES: dict[Intent, str] = {
    Intent.PURCHASE_INTEREST: (
        "{hello} Que bom que você se interessou! Vou conferir disponibilidade, valores e prazo de entrega "
        "e já te passo tudo por aqui."
    ),
    Intent.SUPPORT_REQUEST: (
        "{hello} Claro, vou te ajudar com isso. Pode me passar o número do pedido ou o CPF do cadastro?"
    ),
    Intent.BILLING_PAYMENT: (
        "{hello} Vou verificar o seu pagamento agora. Se precisar do boleto ou da chave Pix, já te envio por aqui."
    ),
    Intent.BILLING_NEGOTIATION: (
        "{hello} Entendo a situação. Vou ver as opções de parcelamento e desconto disponíveis e te mando uma proposta."
    ),
    Intent.BILLING_DISPUTE: (
        "{hello} Sinto muito pelo transtorno com essa cobrança. Vou analisar o lançamento agora e te dou um retorno "
        "ainda hoje. Pode me enviar o comprovante?"
    ),
    Intent.COMPLAINT: (
        "{hello} Sinto muito pelo ocorrido. Quero resolver isso para você: pode me contar o número do pedido e, "
        "se possível, mandar uma foto?"
    ),
    Intent.CANCELLATION: (
        "{hello} Entendi que você quer cancelar. Vou verificar o seu pedido ou plano agora: pode me passar o número "
        "do pedido ou o CPF do cadastro?"
    ),
    Intent.GREETING: "{hello} Tudo bem? Como posso te ajudar hoje?",
    Intent.OTHER: "{hello} Obrigado pela mensagem! Se precisar de algo, é só chamar por aqui.",
}
POSITIVE_OTHER = "{hello} Ficamos muito felizes com o seu retorno! Obrigado pela confiança."


def _hello(contact_name: str | None) -> str:
    first = (contact_name or "").strip().split(" ")[0][:40]
    return f"Olá, {first}!" if first else "Olá!"


def template_reply(intent: Intent, sentiment: Sentiment, contact_name: str | None = None) -> str:
    text = TEMPLATES[intent]
    if intent is Intent.OTHER and sentiment is Sentiment.POSITIVE:
        text = POSITIVE_OTHER
    return text.format(hello=_hello(contact_name))[:MAX_REPLY_CHARS]
