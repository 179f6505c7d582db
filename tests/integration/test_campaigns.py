"""Campaigns on real PostgreSQL and the fake gateway: audience, preview, approval, the frozen audience,
queue-driven sends that never go twice (duplicate jobs, a crash after the gateway call), pause,
cancel, quiet hours, opt-outs at send time and by reply, automatic pauses, progress broadcasts."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from ponte.domain.campaign_job import CampaignJob
from ponte.domain.gateway import SentMessage
from ponte.domain.realtime import CampaignPayload
from ponte.ports.gateway import Gateway, GatewayFactory, GatewayTarget
from ponte.services.exceptions import ServiceError
from tests.integration.campaign_world import (
    AGENT_CLAIMS,
    CLOUD_INSTANCE,
    CLOUD_NUMBER,
    INSTANCE,
    OTHER_CLAIMS,
    OWNER_CLAIMS,
    TENANT,
    World,
    campaign_world,
    hasher,
    inbound,
    phone,
    segment_request,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def world(db_dsn: str) -> Iterator[World]:
    with campaign_world(db_dsn) as w:
        yield w


def started(world: World, request: dict[str, Any] | None = None) -> str:
    view = world.campaigns.create(OWNER_CLAIMS, request or segment_request())
    preview = world.campaigns.preview(OWNER_CLAIMS, view.id, {})
    world.campaigns.approve(OWNER_CLAIMS, view.id, {"content_hash": preview.content_hash})
    world.campaigns.start(OWNER_CLAIMS, view.id)
    return view.id


def code_of(call: Any) -> str:
    with pytest.raises(ServiceError) as caught:
        call()
    return caught.value.code


def test_preview_counts_exclusions_and_shows_exact_messages(world: World) -> None:
    view = world.campaigns.create(OWNER_CLAIMS, segment_request())
    assert view.status == "draft" and view.actions == ["edit", "preview", "approve", "cancel"]
    preview = world.campaigns.preview(OWNER_CLAIMS, view.id, {"sample_size": 20})
    # open leads: 0-7, 9 (hidden), 10 (opted out), 11 (no phone); 8 is won
    assert preview.audience.candidates == 11 and preview.audience.recipients == 8
    assert preview.audience.excluded == {"hidden": 1, "opted_out": 1, "no_phone": 1}
    first = next(s for s in preview.samples if s.phone_e164 == phone(0))
    assert first.name == "Maria da Silva"  # the ERP record's name wins over the WhatsApp one
    assert first.body == (
        "Olá Maria! Amanhã teremos manutenção na rede das 2h às 4h.\n\n"
        "Para não receber mais mensagens como esta, responda SAIR."
    )
    assert preview.throttle.channel == "unofficial" and preview.throttle.daily_cap == 400
    assert not preview.quiet_now and len(preview.samples) == 8
    assert len(world.campaigns.preview(OWNER_CLAIMS, view.id, {"sample_size": 3}).samples) == 3
    assert world.campaigns.get(OWNER_CLAIMS, view.id).preview_hash == view.content_hash


def test_segment_filters(world: World) -> None:
    def count(**segment: Any) -> int:
        view = world.campaigns.create(OWNER_CLAIMS, segment_request(**segment))
        return world.campaigns.preview(OWNER_CLAIMS, view.id, {}).audience.recipients

    assert count(tags_any=["vip"]) == 4
    assert count(score_min=27, score_max=45) == 3
    assert count(lead_sources=["ctwa_ad"]) == 4
    assert count(customers_only=True) == 1
    assert count(lead_stages=["won"]) == 1
    customers = segment_request()
    customers["audience"]["segment"] = {"source": "customers"}
    customers["message"]["variants"] = ["{{nome}}, sua fatura de {{valor}} vence em {{vencimento}}."]
    view = world.campaigns.create(OWNER_CLAIMS, customers)
    preview = world.campaigns.preview(OWNER_CLAIMS, view.id, {})
    assert preview.audience.recipients == 1
    assert preview.samples[0].body.startswith("Maria, sua fatura de R$ 149,90 vence em 10/12/2026.")


def test_approval_is_for_the_previewed_content_only(world: World) -> None:
    view = world.campaigns.create(OWNER_CLAIMS, segment_request())
    assert code_of(lambda: world.campaigns.approve(OWNER_CLAIMS, view.id, {"content_hash": view.content_hash})) == (
        "not_previewed"
    )
    assert code_of(lambda: world.campaigns.start(OWNER_CLAIMS, view.id)) == "campaign_draft"
    world.campaigns.preview(OWNER_CLAIMS, view.id, {})
    assert code_of(lambda: world.campaigns.approve(OWNER_CLAIMS, view.id, {"content_hash": "0" * 64})) == (
        "content_changed"
    )
    assert code_of(lambda: world.campaigns.approve(AGENT_CLAIMS, view.id, {"content_hash": view.content_hash})) == (
        "admins_only"
    )
    approved = world.campaigns.approve(OWNER_CLAIMS, view.id, {"content_hash": view.content_hash})
    assert approved.status == "approved" and approved.approved_by is not None
    # an edit voids the approval: preview and approve again
    edited = segment_request()
    edited["message"]["variants"] = ["Olá {{nome}}! Manutenção amanhã das 3h às 5h."]
    replaced = world.campaigns.replace(OWNER_CLAIMS, view.id, edited)
    assert replaced.status == "draft" and replaced.approved_at is None and replaced.content_hash != view.content_hash
    assert code_of(lambda: world.campaigns.start(OWNER_CLAIMS, view.id)) == "campaign_draft"
    audit = world.sql("select action from public.campaign_audit where campaign_id = %s order by id", view.id)
    assert [a["action"] for a in audit] == ["created", "previewed", "approved", "edited"]
    # the database itself refuses a running campaign without an approval of its content
    with psycopg.connect(world.dsn) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("update public.campaigns set status = 'running' where id = %s", (view.id,))
    # other tenants see nothing; agents read but do not write
    assert code_of(lambda: world.campaigns.get(OTHER_CLAIMS, view.id)) == "campaign_not_found"
    assert world.campaigns.get(AGENT_CLAIMS, view.id).id == view.id
    assert code_of(lambda: world.campaigns.create(AGENT_CLAIMS, segment_request())) == "admins_only"


def test_csv_audience_reports_bad_rows_and_freezes_at_start(world: World) -> None:
    request = segment_request()
    request["audience"] = {"kind": "csv"}
    request["message"]["variants"] = ["{{nome}}, seu boleto de {{valor}} vence em {{vencimento}}: {{link}}"]
    request["message"]["defaults"] = {"link": "https://pg.example/boleto"}
    request["csv"] = (
        "telefone;nome;valor;vencimento\n"
        f"{phone(0)};Maria;99,90;05/12/2026\n"
        "(11) 98765-0001;João;10,00;06/12/2026\n"
        "123;Zé;1,00;01/01/2027\n"
        f"{phone(9)};Oculta;5,00;01/01/2027\n"  # hidden
        f"{phone(10)};Saiu;5,00;01/01/2027\n"  # opted out
        "11987650099;Sem valor;;01/01/2027\n"  # {{valor}} missing
    )
    view = world.campaigns.create(OWNER_CLAIMS, request)
    assert view.csv is not None and view.csv.rows == 5 and view.csv.invalid_counts == {"invalid_phone": 1}
    assert view.csv.invalid[0].row == 4
    preview = world.campaigns.preview(OWNER_CLAIMS, view.id, {})
    assert preview.audience.recipients == 2
    assert preview.audience.excluded == {"hidden": 1, "opted_out": 1, "missing_variable": 1}
    assert preview.audience.invalid_rows == {"invalid_phone": 1}
    assert preview.samples[1].body.startswith("João, seu boleto de R$ 10,00 vence em 06/12/2026: https://pg.example")
    world.campaigns.approve(OWNER_CLAIMS, view.id, {"content_hash": preview.content_hash})
    running = world.campaigns.start(OWNER_CLAIMS, view.id)
    assert running.status == "running" and running.progress.total == 2 and running.progress.queued == 2
    assert running.audience_report is not None and running.audience_report.recipients == 2
    bad = dict(request, csv="nome\nAna\n")
    assert code_of(lambda: world.campaigns.create(OWNER_CLAIMS, bad)) == "invalid_csv"


def test_sends_once_per_recipient_through_the_outbox_even_when_jobs_come_twice(world: World) -> None:
    campaign_id = started(world)
    world.sender.tick()
    jobs = world.queue.take()
    assert len(jobs) == 8 and all(j.kind == "send" for j in jobs)
    # every job delivered twice, the second copies after the first ones and in reverse order
    for job in [*jobs, *reversed(jobs)]:
        world.handle(job)
    world.drain()
    assert sorted(world.receipts()) == sorted(phone(i).lstrip("+") for i in range(8))
    outbox = world.sql(
        "select origin, idempotency_key, status from public.outbound_messages where tenant_id = %s", TENANT
    )
    assert len(outbox) == 8 and {o["origin"] for o in outbox} == {"campaign"}
    assert all(o["idempotency_key"].startswith(f"campaign:{campaign_id}:") for o in outbox)
    assert all(r.text.endswith("responda SAIR.") for r in world.session.receipts)
    world.sender.tick()
    view = world.campaigns.get(OWNER_CLAIMS, campaign_id)
    assert view.status == "completed" and view.progress.sent == 8 and view.progress.queued == 0


def test_the_throttle_spaces_sends_on_the_instance(db_dsn: str) -> None:
    with campaign_world(db_dsn, time_scale=0.01) as world:
        campaign_id = started(world)
        world.sender.tick()
        world.drain()
        rows = world.sql(
            "select sent_at from public.campaign_recipients where campaign_id = %s order by sent_at", campaign_id
        )
        gaps = [(b["sent_at"] - a["sent_at"]).total_seconds() for a, b in itertools.pairwise(rows)]
        assert len(gaps) == 7 and min(gaps) >= 0.08  # 8 s x 0.01
        assert max(gaps) <= 0.2 + 0.001  # 20 s x 0.01, no long pause before the 20th


def test_a_crash_after_the_gateway_call_never_sends_twice(db_dsn: str) -> None:
    crashes = {"left": 1}

    class Crash(BaseException):
        """The process dies: nothing after the gateway's answer runs."""

    class CrashingGateway(Gateway):
        def __init__(self, inner: Gateway) -> None:
            self.inner = inner

        def send_text(self, to: str, text: str) -> SentMessage:
            sent = self.inner.send_text(to, text)
            if crashes["left"]:
                crashes["left"] -= 1
                raise Crash
            return sent

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def status(self) -> Any:
            return self.inner.status()

        def start(self) -> Any:
            return self.inner.start()

        def restart(self) -> Any:
            return self.inner.restart()

        def logout(self) -> None:
            self.inner.logout()

        def qr(self) -> Any:
            return self.inner.qr()

        def recent_messages(self, to: str, limit: int = 20) -> Any:
            return self.inner.recent_messages(to, limit)

    class CrashingFactory(GatewayFactory):
        def __init__(self, inner: GatewayFactory) -> None:
            self.inner = inner

        def for_instance(self, target: GatewayTarget, *, alternate: bool = False) -> Gateway:
            return CrashingGateway(self.inner.for_instance(target, alternate=alternate))

        def has_alternate(self, target: GatewayTarget) -> bool:
            return self.inner.has_alternate(target)

    with campaign_world(db_dsn, stale_seconds=30, gateways=CrashingFactory) as world:
        campaign_id = started(world)
        world.sender.tick()
        jobs = world.queue.take()
        with pytest.raises(Crash):
            world.handle(jobs[0])
        crashed = world.sql(
            "select r.status, o.status as outbox from public.campaign_recipients r"
            " join public.outbound_messages o on o.idempotency_key = 'campaign:' || r.campaign_id || ':' || r.id"
            " where r.id = %s",
            jobs[0].recipient_id,
        )
        assert crashed == [{"status": "sending", "outbox": "pending"}]
        # SQS redelivers the job while the claim is fresh: it waits for the claim to go stale
        assert world.handle(jobs[0]) == "in_progress"
        for job in jobs[1:]:
            world.handle(job)
        # the claim goes stale: the tick gives the recipient a new job, which finds the first send
        world.clock.advance(31)
        world.sender.tick()
        world.drain()
        counts = Counter(world.receipts())
        assert len(counts) == 8 and set(counts.values()) == {1}
        world.sender.tick()
        view = world.campaigns.get(OWNER_CLAIMS, campaign_id)
        assert view.status == "completed" and view.progress.sent == 8


def test_pause_resume_and_cancel(world: World) -> None:
    campaign_id = started(world)
    world.sender.tick()
    jobs = world.queue.take()
    for job in jobs[:3]:
        world.handle(job)
    paused = world.campaigns.pause(OWNER_CLAIMS, campaign_id)
    assert paused.status == "paused" and paused.pause_code == "manual" and paused.actions == ["preview", "resume",
                                                                                              "cancel"]  # fmt: skip
    for job in jobs[3:]:  # planned jobs arrive while paused: held back
        assert world.handle(job) == "campaign_paused"
    world.sender.tick()
    assert world.queue.take() == [] and len(world.receipts()) == 3
    assert code_of(lambda: world.campaigns.pause(OWNER_CLAIMS, campaign_id)) == "campaign_paused"
    world.campaigns.resume(OWNER_CLAIMS, campaign_id)
    world.sender.tick()
    resumed = world.queue.take()
    world.handle(resumed[0])
    assert len(world.receipts()) == 4
    cancelled = world.campaigns.cancel(OWNER_CLAIMS, campaign_id)
    assert cancelled.status == "cancelled" and cancelled.progress.cancelled == 4
    for job in resumed[1:]:
        assert world.handle(job) in ("already_cancelled", "campaign_cancelled")
    assert len(world.receipts()) == 4
    assert code_of(lambda: world.campaigns.resume(OWNER_CLAIMS, campaign_id)) == "campaign_cancelled"


def test_quiet_hours_hold_sends_until_morning(world: World) -> None:
    world.clock.at = world.clock.at.replace(hour=23, minute=30)  # 20:30 in São Paulo
    campaign_id = started(world)
    world.sender.tick()
    assert world.queue.take() == []
    world.clock.advance(10 * 3600)  # 06:30: still quiet
    world.sender.tick()
    assert world.queue.take() == []
    world.clock.advance(2 * 3600)  # 08:30
    world.sender.tick()
    assert len(world.queue.jobs) == 8
    world.drain()
    assert len(world.receipts()) == 8
    first = world.sql("select min(sent_at) as at from public.campaign_recipients where campaign_id = %s", campaign_id)
    assert first[0]["at"] >= world.clock.at - timedelta(seconds=60)


def test_opted_out_and_hidden_since_the_start_are_skipped_at_send_time(world: World) -> None:
    started(world)
    world.consent.opt_out(OWNER_CLAIMS, {"phone": phone(1)})
    world.sql(
        "update public.tenants set settings = jsonb_set(settings, '{hidden_contacts}',"
        " settings -> 'hidden_contacts' || %s::jsonb) where id = %s",
        f'["{phone(2)}"]',
        TENANT,
    )
    world.sender.tick()
    world.drain()
    assert sorted(world.receipts()) == sorted(phone(i).lstrip("+") for i in (0, 3, 4, 5, 6, 7))
    skipped = world.sql("select skip_reason from public.campaign_recipients where status = 'skipped' order by 1")
    assert [s["skip_reason"] for s in skipped] == ["hidden", "opted_out"]


def test_an_opt_out_reply_stops_the_rest_and_is_confirmed(world: World) -> None:
    first = started(world)
    world.sender.tick()
    jobs = world.queue.take()
    for job in jobs:
        world.handle(job)
    second = started(world, segment_request(tags_any=["vip"]))  # numbers 0-3, queued
    later = world.clock.now() + timedelta(minutes=5)
    message_id = inbound(world, phone(0), "Não quero mais receber essas mensagens!", at=later)
    other = inbound(world, phone(1), "Que horas volta?", at=later)
    counts = world.handle(CampaignJob(kind="inbound", tenant_id=TENANT, message_ids=(message_id, other)))
    assert counts == '{"opted_in": 0, "opted_out": 1, "replies": 2}'
    assert world.sql("select source from public.opt_outs where phone_hash = %s", hasher(phone(0))) == [
        {"source": "clear_request"}
    ]
    consent = world.sql("select action, source from public.consent_records where phone_hash = %s", hasher(phone(0)))
    assert consent == [{"action": "opt_out", "source": "clear_request"}]
    assert world.session.receipts[-1].text.startswith("Pronto! Você não receberá mais")
    progress = world.campaigns.progress(OWNER_CLAIMS, first)
    assert progress.replied == 2 and progress.opted_out == 1
    pending = world.sql(
        "select status, skip_reason from public.campaign_recipients where campaign_id = %s and phone_e164 = %s",
        second,
        phone(0),
    )
    assert pending == [{"status": "skipped", "skip_reason": "opted_out"}]
    replies = world.campaigns.replies(OWNER_CLAIMS, first, {})
    assert {r.phone_e164 for r in replies.items} == {phone(0), phone(1)}
    assert any(r.opted_out and r.body and "Não quero" in r.body for r in replies.items)
    # the same reply redelivered changes nothing and confirms nothing again
    sent_before = len(world.receipts())
    world.handle(CampaignJob(kind="inbound", tenant_id=TENANT, message_ids=(message_id,)))
    assert len(world.receipts()) == sent_before
    # ASSINAR opts the number in again, with a consent record
    again = inbound(world, phone(0), "ASSINAR", at=later + timedelta(minutes=1))
    world.handle(CampaignJob(kind="inbound", tenant_id=TENANT, message_ids=(again,)))
    assert world.sql("select opted_in_at is not null as back from public.opt_outs where phone_hash = %s",
                     hasher(phone(0))) == [{"back": True}]  # fmt: skip
    assert world.session.receipts[-1].text.startswith("Combinado!")


def test_an_instance_logged_out_pauses_the_campaign(world: World) -> None:
    campaign_id = started(world)
    world.sender.tick()
    jobs = world.queue.take()
    world.handle(jobs[0])
    world.session.status = "not_logged"
    assert world.handle(jobs[1]) == "failed"
    view = world.campaigns.get(OWNER_CLAIMS, campaign_id)
    assert view.status == "paused" and view.pause_code == "instance_disconnected"
    for job in jobs[2:]:
        assert world.handle(job) == "campaign_paused"
    assert len(world.receipts()) == 1
    audit = world.sql("select action from public.campaign_audit where campaign_id = %s order by id", campaign_id)
    assert audit[-1]["action"] == "auto_paused"


def test_progress_is_broadcast_on_the_tenant_topic(world: World) -> None:
    campaign_id = started(world)
    world.sender.tick()
    world.drain()
    world.sender.tick()
    rows = world.sql(
        "select payload from realtime.messages where topic = %s and event = 'campaign_updated' order by inserted_at",
        f"tenant:{TENANT}",
    )
    payloads = [CampaignPayload.model_validate(r["payload"]) for r in rows]
    assert all(str(p.id) == campaign_id for p in payloads)
    assert [p.status for p in payloads][:1] == ["draft"] and payloads[-1].status == "completed"
    assert payloads[-1].progress.sent == 8 and any(p.status == "running" for p in payloads)


def test_settings_and_the_suppression_list(world: World) -> None:
    view = world.consent.settings(AGENT_CLAIMS, {"tenant_id": TENANT})
    assert view.settings.quiet_hours.start.hour == 20 and view.updated_at is None
    body = {"settings": {**view.settings.model_dump(mode="json"), "opt_out_instruction": "Responda PARE para sair."}}
    assert code_of(lambda: world.consent.save_settings(AGENT_CLAIMS, {"tenant_id": TENANT}, body)) == "admins_only"
    saved = world.consent.save_settings(OWNER_CLAIMS, {}, body)
    assert saved.settings.opt_out_instruction == "Responda PARE para sair." and saved.updated_at is not None
    status = world.consent.check(OWNER_CLAIMS, {"phone": "(11) 98765-0010"})
    assert status.opted_out and status.entry is not None and status.entry.source == "keyword"
    world.consent.opt_in(OWNER_CLAIMS, {"phone": phone(10)})
    assert not world.consent.check(OWNER_CLAIMS, {"phone": phone(10)}).opted_out
    assert code_of(lambda: world.consent.opt_in(OWNER_CLAIMS, {"phone": phone(3)})) == "not_opted_out"
    assert code_of(lambda: world.consent.opt_out(OWNER_CLAIMS, {"phone": "123"})) == "invalid_phone"
    assert code_of(lambda: world.consent.opt_out(OTHER_CLAIMS, {"phone": phone(1), "tenant_id": TENANT})) == (
        "admins_only"
    )
    manual = world.consent.opt_out(OWNER_CLAIMS, {"phone": phone(5)})
    assert manual.opted_out and manual.source == "manual"
    page = world.consent.page(OWNER_CLAIMS, {"limit": "1"})
    assert len(page.items) == 1 and page.next_cursor is not None
    rest = world.consent.page(OWNER_CLAIMS, {"limit": "1", "cursor": page.next_cursor})
    assert len(rest.items) == 1 and rest.items[0].phone_hash != page.items[0].phone_hash
    assert phone(10) not in str(page.model_dump())  # hashes only
    # the instruction now goes with every message
    campaign = world.campaigns.create(OWNER_CLAIMS, segment_request())
    sample = world.campaigns.preview(OWNER_CLAIMS, campaign.id, {}).samples[0]
    assert sample.body.endswith("\n\nResponda PARE para sair.")
    # 10 opted in again, 5 opted out by hand
    assert world.campaigns.preview(OWNER_CLAIMS, campaign.id, {}).audience.excluded["opted_out"] == 1
    assert world.campaigns.preview(OWNER_CLAIMS, campaign.id, {}).audience.recipients == 8


def test_rewrites_are_checked_and_optional(world: World) -> None:
    request = segment_request()
    request["message"]["personalize"] = "llm"
    view = world.campaigns.create(OWNER_CLAIMS, request)
    sample = world.campaigns.preview(OWNER_CLAIMS, view.id, {"sample_size": 1}).samples[0]
    assert sample.rewrite is not None and sample.rewrite.source == "unavailable"  # the worker is down
    world.rewriter.answer = lambda text: text.replace("Olá", "Oi").replace("manutenção", "manutenção programada")
    sample = world.campaigns.preview(OWNER_CLAIMS, view.id, {"sample_size": 1}).samples[0]
    assert sample.rewrite is not None and sample.rewrite.source == "llm"
    assert sample.rewrite.text is not None and sample.rewrite.text.endswith("responda SAIR.")
    world.rewriter.answer = "Oi Maria! Manutenção amanhã, com desconto garantido de 50%."
    sample = world.campaigns.preview(OWNER_CLAIMS, view.id, {"sample_size": 1}).samples[0]
    assert sample.rewrite is not None and sample.rewrite.source == "template"
    assert "numbers_changed" in sample.rewrite.violations and "forbidden:garantid" in sample.rewrite.violations


def test_hostile_bodies_get_a_4xx(world: World) -> None:
    view = world.campaigns.create(OWNER_CLAIMS, segment_request())
    bad_bodies: list[Any] = [
        None,
        [],
        "x",
        {"name": "x"},
        {**segment_request(), "instance_id": "not-a-uuid"},
        {**segment_request(), "name": "\x00" * 200},
        {**segment_request(), "extra": 1},
        {**segment_request(), "message": {"variants": ["a"] * 1000}},
    ]
    for body in bad_bodies:
        assert code_of(lambda b=body: world.campaigns.create(OWNER_CLAIMS, b)) in ("invalid_body", "invalid_json")
    assert code_of(lambda: world.campaigns.get(OWNER_CLAIMS, "nope")) == "invalid_campaign_id"
    other = segment_request()
    other["instance_id"] = "00000000-0000-4000-8000-00000000ffff"
    assert code_of(lambda: world.campaigns.create(OWNER_CLAIMS, other)) == "instance_not_found"
    assert code_of(lambda: world.campaigns.approve(OWNER_CLAIMS, view.id, {"content_hash": "xyz"})) == "invalid_body"
    assert code_of(lambda: world.campaigns.preview(OWNER_CLAIMS, view.id, {"sample_size": 999})) == "invalid_body"
    assert code_of(lambda: world.campaigns.page(OWNER_CLAIMS, {"cursor": "!!"})) == "invalid_cursor"
    assert INSTANCE  # the campaign's own instance is fine


def test_sends_use_the_models_rewrite_only_when_it_passes_the_checks(world: World) -> None:
    request = segment_request(tags_any=["vip"])  # numbers 0-3
    request["message"]["personalize"] = "llm"

    def rewrite(text: str) -> str:
        if "Maria" in text:  # an invented promise: refused, the template goes out
            return text.replace("manutenção", "manutenção com desconto garantido")
        return text.replace("Olá", "Oi").replace("Amanhã teremos", "Amanhã haverá")

    world.rewriter.answer = rewrite
    started(world, request)
    world.sender.tick()
    world.drain()
    texts = {r.to: r.text for r in world.session.receipts}
    assert texts[phone(0)[1:]].startswith("Olá Maria! Amanhã teremos manutenção")
    assert texts[phone(1)[1:]].startswith("Oi João! Amanhã haverá manutenção na rede das 2h às 4h.")
    assert all(t.endswith("\n\nPara não receber mais mensagens como esta, responda SAIR.") for t in texts.values())
    sources = world.sql("select phone_e164, body_source from public.campaign_recipients order by phone_e164")
    assert [s["body_source"] for s in sources] == ["template", "llm", "llm", "llm"]
    # the worker down: template texts, nothing held back
    world.rewriter.answer = None
    started(world, segment_request(tags_any=["vip"]) | {"message": request["message"]})
    world.sender.tick()
    world.drain()
    assert len(world.receipts()) == 8


def test_a_cloud_api_campaign_sends_its_template_and_obeys_metas_codes(world: World) -> None:
    request = segment_request(tags_any=["vip"])  # numbers 0-3
    request["instance_id"] = CLOUD_INSTANCE
    assert code_of(lambda: world.campaigns.create(OWNER_CLAIMS, request)) == "cloud_template_required"
    # an approved template of the fake Meta account ("Olá {{1}}, seu pedido {{2}} saiu para entrega.")
    request["message"]["cloud_template"] = {"name": "pedido_enviado", "body_parameters": ["nome", "nome_completo"]}
    view = world.campaigns.create(OWNER_CLAIMS, request)
    preview = world.campaigns.preview(OWNER_CLAIMS, view.id, {"sample_size": 4})
    assert preview.throttle.channel == "cloud" and preview.throttle.daily_unique_recipients == 250
    assert sorted(s.template_params[0] for s in preview.samples if s.template_params) == ["Ana", "Bia", "João", "Maria"]
    world.campaigns.approve(OWNER_CLAIMS, view.id, {"content_hash": preview.content_hash})
    world.campaigns.start(OWNER_CLAIMS, view.id)
    cloud = world.fake.cloud_numbers[CLOUD_NUMBER]
    cloud.fail_next.extend([131050])  # the first recipient stopped marketing messages
    world.sender.tick()
    jobs = world.queue.take()
    outcomes = [world.handle(job) for job in jobs[:3]]
    assert outcomes == ["failed", "sent", "sent"]
    sent = cloud.sent
    assert len(sent) == 2 and all(m["type"] == "template" for m in sent)
    assert sent[0]["template"]["name"] == "pedido_enviado" and sent[0]["template"]["language"] == {"code": "pt_BR"}
    parameters = sent[0]["template"]["components"][0]["parameters"]
    assert [p["type"] for p in parameters] == ["text", "text"] and parameters[0]["text"] in (
        "Ana",
        "Bia",
        "João",
        "Maria",
    )
    opted = world.sql("select source from public.opt_outs where source = 'meta_131050'")
    assert len(opted) == 1  # 131050: out for good
    cloud.fail_next.append(131048)  # spam rate: the campaign pauses at once
    assert world.handle(jobs[3]) == "failed"
    paused = world.campaigns.get(OWNER_CLAIMS, view.id)
    assert paused.status == "paused" and paused.pause_code == "meta_limit"
    outbox = world.sql("select origin, kind from public.outbound_messages where instance_id = %s", CLOUD_INSTANCE)
    assert {(o["origin"], o["kind"]) for o in outbox} == {("campaign", "template")}


def test_a_failed_status_after_the_send_opts_out_or_pauses(world: World) -> None:
    campaign_id = started(world)
    world.sender.tick()
    world.drain()
    with world.db.as_service() as conn:
        conn.execute(
            "update public.messages m set status = 'error', status_error = case r.phone_e164 when %s"
            " then 'marketing_opt_out' else 'spam_rate_limited' end from public.campaign_recipients r"
            " where r.message_id = m.id and r.phone_e164 in (%s, %s)",
            (phone(0), phone(0), phone(1)),
        )
        conn.execute(
            "update public.campaigns set status = 'running', completed_at = null where id = %s", (campaign_id,)
        )
    world.sender.tick()
    assert world.sql("select count(*) as n from public.opt_outs where source = 'meta_131050'") == [{"n": 1}]
    view = world.campaigns.get(OWNER_CLAIMS, campaign_id)
    assert view.status == "paused" and view.pause_code == "meta_limit" and view.progress.opted_out == 1
    world.sender.tick()  # each failure is seen once
    assert world.sql("select count(*) as n from public.consent_records where source = 'meta_131050'") == [{"n": 1}]
