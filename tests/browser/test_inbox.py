"""The reference web inbox (frontend_contract/reference_inbox) in Chromium, on the local stack: what
an agent and an admin do with it, each step through the real proxy, queues, database and realtime."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import psycopg
import pytest
from playwright.sync_api import Page, expect

from ponte.localstack.demo_inbox import DEMO_MESSAGES
from ponte.localstack.stack import LocalStack
from tests.browser.conftest import InboxSession, axe_violations, screenshot
from tests.e2e.test_leads_analysis import payload, post

pytestmark = pytest.mark.browser

DIAGNOSTICS_PAGE = 20  # the page size of the diagnostics screen


def say(stack: LocalStack, phone: str, text: str, *, name: str = "Cliente Novo", later: int = 0) -> None:
    """A customer's WhatsApp text, as the gateway's webhook posts it (``later`` seconds from now)."""
    at = datetime.now(UTC) + timedelta(seconds=later)
    body = json.loads(payload(uuid.uuid4().hex[:20].upper(), f"{phone}@s.whatsapp.net", text, at))
    body["data"]["pushName"] = name
    assert post(stack, json.dumps(body).encode()).status_code == 200


def sql(stack: LocalStack, query: str, *args: Any) -> list[dict[str, Any]]:
    assert stack.db is not None
    with stack.db.as_service() as conn:
        return list(conn.execute(query, args).fetchall())


def row(page: Page, name: str) -> Any:
    return page.locator("li.conversation", has_text=name)


def test_signing_in_from_the_fragment_shows_the_demo_inbox(inbox: InboxSession) -> None:
    # GIVEN the owner's magic-link style URL, <inbox_url>#access_token=<JWT>
    page = inbox.open()
    # THEN the eight demo conversations are listed, newest activity first, and the token left the address bar
    expect(page.locator("li.conversation")).to_have_count(len(DEMO_MESSAGES))
    names = page.locator("li.conversation .name").all_inner_texts()
    assert names[0] == DEMO_MESSAGES[-1].name and names[-1] == DEMO_MESSAGES[0].name
    assert "access_token" not in page.url
    # AND the complaint five hours old is past its SLA, in red, while the others count down
    expect(row(page, "João Teste").locator(".sla.breached")).to_contain_text("SLA estourado há")
    expect(row(page, "Maria Exemplo").locator(".sla")).to_contain_text(re.compile(r"SLA em (\d+ h )?\d+ min"))
    expect(row(page, "Ana Fictícia").locator(".pill")).to_have_text("Prioridade crítica")
    # AND axe finds nothing serious on the page
    assert axe_violations(page) == []
    screenshot(page, "inbox")


def test_without_a_token_the_page_says_how_to_get_one(inbox: InboxSession) -> None:
    page = inbox.open(token="", live=False)
    expect(page.get_by_role("alert")).to_have_text("Você ainda não entrou.")
    expect(page.locator("main")).to_contain_text("ponte token")
    assert axe_violations(page) == []


def conversation_id(page: Page) -> str:
    match = re.search(r"/conversa/([0-9a-f-]{36})", page.url)
    assert match, page.url
    return match.group(1)


def test_a_new_message_appears_without_reload_and_its_analysis_chips_arrive(inbox: InboxSession) -> None:
    stack = inbox.stack
    page = inbox.open()
    expect(row(page, "Maria Exemplo")).to_be_visible()
    page.evaluate("window.__sameDocument = true")
    # WHEN a new customer writes, and a demo customer writes again
    say(stack, "5511987650201", "Oi! Vocês aceitam Pix? Quero comprar duas camisetas hoje.", name="Paulo Novo")
    first = page.locator("li.conversation").first
    expect(first).to_contain_text("Paulo Novo")
    expect(first).to_contain_text("Quero comprar duas camisetas")
    say(stack, "5541987650004", "Alguma novidade sobre o prazo para Curitiba?", name="Carlos Modelo", later=1)
    # THEN each lands at the top with its preview and an unread badge, without a reload
    expect(first).to_contain_text("Carlos Modelo")
    expect(first).to_contain_text("Alguma novidade sobre o prazo")
    expect(first.locator(".badge")).to_contain_text("2")
    assert page.evaluate("window.__sameDocument") is True
    # WHEN the agent opens the new conversation and that customer writes once more
    row(page, "Paulo Novo").click()
    expect(page.locator(".message.inbound")).to_have_count(1)
    dispute = "Fui cobrado duas vezes no cartão! Quero o estorno ainda hoje"
    say(stack, "5511987650201", dispute, name="Paulo Novo", later=2)
    message = page.locator(".message.inbound", has_text="estorno")
    # THEN the message shows up, then its analysis chips as analysis_ready arrives
    expect(message).to_be_visible()
    expect(message.locator('[data-chip="intent"]')).to_have_text("Intenção: contestação de cobrança")
    expect(message.locator('[data-chip="sentiment"]')).to_have_text("Sentimento: negativo")
    expect(message.locator('[data-chip="urgency"]')).to_have_text("Urgência: alta")
    assert page.evaluate("window.__sameDocument") is True


def test_filters_and_search_narrow_the_inbox(inbox: InboxSession) -> None:
    page = inbox.open()
    expect(row(page, "Maria Exemplo")).to_be_visible()
    # WHEN the agent keeps the breached SLAs only
    page.get_by_label("SLA").select_option("breached")
    expect(page.locator("li.conversation .name")).to_have_text(["João Teste"])
    # WHEN the priority filter asks for what nothing has, the page says so
    page.get_by_label("SLA").select_option("")
    page.get_by_label("Prioridade").select_option("critical")
    expect(page.locator("li.conversation .pill")).not_to_have_count(0)
    assert set(page.locator("li.conversation .pill").all_inner_texts()) == {"Prioridade crítica"}
    page.get_by_label("Prioridade").select_option("")
    # WHEN the agent searches the messages (accents ignored), the match is highlighted
    page.get_by_label("Buscar nas mensagens").fill("tenis corrida")
    page.get_by_role("button", name="Buscar", exact=True).click()
    hit = page.locator("li.conversation.hit")
    expect(hit).to_have_count(1)
    expect(hit).to_contain_text("Maria Exemplo")
    expect(hit.locator("mark").first).to_have_text("tênis")
    page.get_by_role("button", name="Limpar busca").click()
    expect(page.locator("li.conversation.hit")).to_have_count(0)
    expect(row(page, "João Teste")).to_be_visible()


def test_older_history_loads_as_the_agent_scrolls_up(inbox: InboxSession) -> None:
    stack = inbox.stack
    # GIVEN a customer who wrote more than one page of history (30 messages a page)
    for n in range(35):
        say(stack, "5511987650301", f"Mensagem número {n + 1}", name="Rita Historia", later=n - 40)
    count = "select count(*) as n from public.messages m join public.contacts c on c.id = m.contact_id"
    count += " where c.phone_e164 = '+5511987650301'"
    deadline = time.monotonic() + 30
    while sql(stack, count)[0]["n"] < 35 and time.monotonic() < deadline:
        time.sleep(0.2)
    page = inbox.open()
    row(page, "Rita Historia").click()
    messages = page.locator(".message")
    # THEN the newest page shows, newest at the bottom
    expect(messages.last).to_contain_text("Mensagem número 35")
    # WHEN the agent scrolls to the top, the older page comes in above, by cursor
    page.locator(".history-wrap").evaluate("el => { el.scrollTop = 0 }")
    expect(messages).to_have_count(35)
    expect(messages.first).to_contain_text("Mensagem número 1")
    expect(page.get_by_role("button", name="Carregar mensagens anteriores")).to_be_hidden()


def test_the_agent_edits_the_suggestion_sends_it_and_sees_the_ticks_reach_read(inbox: InboxSession) -> None:
    stack = inbox.stack
    page = inbox.open()
    row(page, "Luiza Demonstração").click()
    reply = page.get_by_label("Resposta")
    # GIVEN the worker's reply suggestion in the reply box, and nothing sent on its own
    expect(reply).to_have_value(re.compile(r"^Olá, Luiza!"))
    conversation = conversation_id(page)
    outbox = "select body, suggestion_id, suggestion_outcome from public.outbound_messages where conversation_id = %s"
    assert sql(stack, outbox, conversation) == []
    # every state the outbound message's ticks go through, as the page renders them
    page.evaluate(
        """() => { window.__ticks = []; new MutationObserver(() => {
             const t = document.querySelector('.message.outbound:last-child .ticks');
             if (t && window.__ticks.at(-1) !== t.dataset.status) window.__ticks.push(t.dataset.status);
           }).observe(document.querySelector('.history'), { childList: true, subtree: true }); }"""
    )
    # WHEN the agent edits it and presses Enviar
    edited = reply.input_value() + " Aceitamos Pix, sim!"
    reply.fill(edited)
    page.get_by_role("button", name="Enviar", exact=True).click()
    # THEN the message shows, and its ticks move to read from the gateway's acks over realtime
    sent = page.locator(".message.outbound", has_text="Aceitamos Pix, sim!")
    expect(sent.locator(".ticks")).to_have_attribute("data-status", "read")
    expect(sent.locator(".ticks")).to_contain_text("Lida")
    expect(reply).to_have_value("")
    ticks = page.evaluate("window.__ticks")
    assert ticks[-1] == "read" and "delivered" in ticks, ticks
    # AND the outbox recorded the edited suggestion with its final text
    [stored] = sql(stack, outbox, conversation)
    assert stored["body"] == edited and stored["suggestion_outcome"] == "edited" and stored["suggestion_id"]
    assert axe_violations(page) == []
    screenshot(page, "conversation")


def test_a_deep_link_opens_the_conversation_with_the_reminder_in_the_reply_box(inbox: InboxSession) -> None:
    stack = inbox.stack
    assert stack.demo is not None
    # GIVEN an unsigned link to a customer the tenant already talks to (honoured for a signed-in member)
    reminder = "Carlos, seu pedido saiu para entrega hoje!"
    query = urlencode({"v": "1", "t": stack.demo.tenant_id, "p": "(41) 98765-0004", "m": reminder})
    page = inbox.open(f"/link?{query}")
    # THEN the conversation opens with the reminder ready to edit and send
    expect(page.locator(".conversation-view h2")).to_have_text("Carlos Modelo")
    expect(page.get_by_label("Resposta")).to_have_value(reminder)
    assert "/conversa/" in page.url


def test_a_deep_link_to_a_new_number_is_a_virtual_conversation_until_the_agent_sends(inbox: InboxSession) -> None:
    stack = inbox.stack
    assert stack.demo is not None
    # GIVEN the ERP knows a customer the tenant never talked to, and a signed campaign link to her
    with psycopg.connect(stack.dsn) as conn:
        conn.execute(
            "insert into public.customers (tenant_id, external_id, name, phone_raw, phone_e164, sales_summary)"
            " values (%s, 'ERP-0100', 'Paula Vitrine', '(11) 98765-0100', '+5511987650100', '{\"orders\": 7}')",
            (stack.demo.tenant_id,),
        )
    reminder = "Paula, a coleção nova chegou. Quer ver?"
    created = httpx.post(
        f"{stack.proxy_url}/deeplinks",
        json={"phone": "11987650100", "text": reminder, "ttl_seconds": 600},
        headers={"Authorization": f"Bearer {inbox.token()}"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    page = inbox.open(f"/link?{created.json()['query']}")
    # THEN the virtual conversation shows her ERP card and the reminder, and nothing is stored yet
    expect(page.get_by_role("heading", level=1)).to_have_text("Nova conversa com Paula Vitrine")
    expect(page.locator(".erp-card")).to_contain_text("ERP-0100")
    expect(page.get_by_label("Primeira mensagem")).to_have_value(reminder)
    phone_rows = "select id from public.contacts where phone_e164 = '+5511987650100'"
    assert sql(stack, phone_rows) == []
    assert axe_violations(page) == []
    # WHEN the agent sends, the conversation exists and opens with the message on its way
    page.get_by_role("button", name="Enviar e abrir a conversa").click()
    expect(page.locator(".message.outbound", has_text="coleção nova").locator(".ticks")).to_have_attribute(
        "data-status", "read"
    )
    assert len(sql(stack, phone_rows)) == 1


def test_hiding_a_contact_says_what_goes_and_its_conversation_vanishes_for_everyone(inbox: InboxSession) -> None:
    # GIVEN an agent watching the inbox, and the owner on Beatriz's conversation
    agent = inbox.open(role="agent")
    expect(row(agent, "Beatriz Amostra")).to_be_visible()
    page = inbox.open()
    row(page, "Beatriz Amostra").click()
    # WHEN the owner asks to hide her: the confirmation says what will be deleted
    page.get_by_role("button", name="Ocultar do CRM").click()
    dialog = page.get_by_role("dialog", name="Ocultar Beatriz Amostra do CRM?")
    expect(dialog).to_contain_text("todas as conversas e mensagens")
    expect(dialog).to_contain_text("o lead e a pontuação")
    expect(dialog).to_contain_text("novas mensagens desta pessoa são descartadas")
    assert axe_violations(page) == []
    dialog.get_by_role("button", name="Ocultar e apagar").click()
    # THEN the page reports what was deleted, and the conversation is gone from both inboxes
    expect(page.locator(".conversation-view")).to_contain_text(re.compile(r"Contato ocultado\. Apagados \d+ registros"))
    expect(page.locator(".conversation-view")).to_contain_text("mensagens: 1")
    expect(row(page, "Beatriz Amostra")).to_have_count(0)
    expect(row(agent, "Beatriz Amostra")).to_have_count(0)  # conversation_deleted over realtime
    # AND the admins' list shows her hidden, until unhidden
    page.get_by_role("link", name="Contatos ocultos").click()
    hidden = page.locator("[data-hidden]")
    expect(hidden).to_have_count(1)
    hidden.get_by_role("button", name="Reexibir").click()
    expect(page.locator(".hidden-list")).to_have_text("Nenhum contato oculto.")


def test_an_agent_has_no_admin_screen_and_the_api_refuses_anyway(inbox: InboxSession) -> None:
    stack = inbox.stack
    assert stack.demo is not None
    page = inbox.open(role="agent")
    expect(page.locator("header")).to_contain_text("(atendente)")
    expect(page.get_by_role("navigation", name="Seções").get_by_role("link")).to_have_text(["Caixa de entrada"])
    # an admin address typed by hand shows no admin screen
    page.goto(f"{stack.inbox_url}/admin/instancias")
    expect(page.get_by_role("alert")).to_have_text("Esta área é só para proprietários e administradores.")
    # and what the screens would call is refused by the API itself
    headers = {"Authorization": f"Bearer {inbox.token('agent')}"}
    status = httpx.get(f"{stack.proxy_url}/instances/{stack.demo.instance_id}/status", headers=headers, timeout=10)
    hide = httpx.post(f"{stack.proxy_url}/contacts/hide", json={"phone": "5511987650001"}, headers=headers, timeout=10)
    assert (status.status_code, status.json()["code"]) == (404, "instance_not_found")
    assert (hide.status_code, hide.json()["code"]) == (403, "not_privacy_admin")


def test_the_admin_pages_the_diagnostics_log_with_filters(inbox: InboxSession) -> None:
    stack = inbox.stack
    # GIVEN more ignored webhooks (group chats, which Ponte never stores) than one page holds
    for n in range(DIAGNOSTICS_PAGE + 1):
        group = payload(f"GROUP{n:04d}", "120363000000000001@g.us", "mensagem de grupo", datetime.now(UTC))
        assert post(stack, group).json()["outcome"] == "ignored"
    page = inbox.open("/admin/diagnosticos")
    rows = page.locator("table.diagnostics tbody tr")
    expect(rows.first).to_be_visible()
    # WHEN the admin keeps the ignored ones only, then asks for older ones
    page.get_by_label("Resultado").select_option("ignored")
    expect(rows).to_have_count(DIAGNOSTICS_PAGE)
    assert set(rows.evaluate_all("rs => rs.map(r => r.dataset.outcome)")) == {"ignored"}
    page.get_by_role("button", name="Mais antigos").click()
    expect(rows).to_have_count(DIAGNOSTICS_PAGE + 1)
    expect(page.get_by_role("button", name="Mais antigos")).to_be_hidden()
    assert axe_violations(page) == []


def test_a_reset_shows_the_new_qr_and_a_send_then_fails_in_words(inbox: InboxSession) -> None:
    # Last: the demo instance stays logged out after it.
    page = inbox.open("/admin/instancias")
    # the demo's Evolution number (its Cloud API number has no QR: Meta keeps that session)
    assert inbox.stack.demo is not None
    card = page.locator(f'[data-instance="{inbox.stack.demo.instance_id}"]')
    expect(card.locator("[data-instance-status]")).to_be_visible()
    # WHEN the admin confirms a reset total
    page.once("dialog", lambda d: d.accept())
    card.get_by_role("button", name="Reset total (novo QR code)").click()
    # THEN the QR to scan and the pairing code show
    expect(card.locator("img.qr")).to_be_visible()
    expect(card.locator("[data-pairing-code]")).to_have_text(re.compile(r"^FAKE\d{4}$"))
    expect(card.locator("[data-instance-status]")).not_to_have_text("conectada")
    assert axe_violations(page) == []
    # AND a send while the session is down is refused, and the agent reads why
    inbox.expect_console_error("status of 503")
    page.get_by_role("link", name="Caixa de entrada").click()
    row(page, "Pedro Ilustrativo").click()
    page.get_by_label("Resposta").fill("Seu orçamento fica pronto amanhã.")
    page.get_by_role("button", name="Enviar", exact=True).click()
    notice = page.locator(".conversation-view .notice")
    expect(notice).to_contain_text("A sessão do WhatsApp desta instância está desconectada")


def test_a_crm_on_another_origin_reads_and_writes_through_cors(inbox: InboxSession) -> None:
    """A CRM's own web app (here: a page on http://localhost, another origin than the API's
    http://127.0.0.1) lists the inbox, marks a conversation read (a JSON POST: the browser sends a
    preflight first) and reads a refusal's code -- Chromium itself enforces CORS."""
    stack = inbox.stack
    api = stack.proxy_url
    assert api.startswith("http://127.0.0.1:")
    context = inbox.browser.new_context()
    page = context.new_page()
    try:
        page.goto(api.replace("127.0.0.1", "localhost") + "/health")
        outcome = page.evaluate(
            """async ({api, token}) => {
                 const auth = {Authorization: `Bearer ${token}`};
                 const list = await fetch(`${api}/conversations?limit=2`, {headers: auth});
                 const items = (await list.json()).items;
                 const read = await fetch(`${api}/conversations/${items[0].id}/read`, {
                   method: 'POST', headers: {...auth, 'Content-Type': 'application/json'}, body: '{}'});
                 const refused = await fetch(`${api}/contacts/hide`, {
                   method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{}'});
                 return {origin: location.origin, list: list.status, count: items.length, read: read.status,
                         refused: refused.status, code: (await refused.json()).code};
               }""",
            {"api": api, "token": inbox.token()},
        )
    finally:
        context.close()
    assert outcome["origin"] != api
    assert (outcome["list"], outcome["count"], outcome["read"]) == (200, 2, 200)
    assert (outcome["refused"], outcome["code"]) == (401, "unauthorized")
