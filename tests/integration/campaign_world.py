"""A tenant with contacts, leads, an ERP record, a hidden and an opted-out number, an Evolution
instance on the fake gateway, and the campaign services wired to them (real PostgreSQL)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg

from ponte.adapters.gateways.factory import gateway_factory_from_settings
from ponte.adapters.postgres.campaign_sending import PgCampaignSendStore, PgReplyStore
from ponte.adapters.postgres.campaigns import PgCampaignStore
from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.opt_outs import PgOptOutStore
from ponte.adapters.postgres.privacy import PgPrivacySettings
from ponte.adapters.postgres.sending import PgSendStore, PgSuggestions
from ponte.domain.campaign_job import CampaignJob
from ponte.domain.hidden import subject_hash
from ponte.localstack.fake_gateway import FakeGateway, FakeSession
from ponte.localstack.seed import seed_tenant
from ponte.ports.gateway import GatewayFactory
from ponte.services.campaign_consent import ConsentService
from ponte.services.campaign_pacing import InstancePacer, PacedGateways
from ponte.services.campaign_replies import CampaignReplies
from ponte.services.campaign_sender import CampaignSender, SenderTiming
from ponte.services.campaigns import CampaignService
from ponte.services.sending import SendService
from ponte.settings import Settings
from tests.fakes.campaigns import FakeCampaignQueue, FakeRewriter, SettableClock
from tests.fakes.ports import FakeSecrets

TENANT = "00000000-0000-4000-8000-00000000c001"
OWNER = "00000000-0000-4000-8000-00000000c002"
AGENT = "00000000-0000-4000-8000-00000000c003"
INSTANCE = "00000000-0000-4000-8000-00000000c004"
CLOUD_INSTANCE = "00000000-0000-4000-8000-00000000c005"
CLOUD_NUMBER = "100000000000077"
OTHER_TENANT = "00000000-0000-4000-8000-00000000c0b1"
OTHER_OWNER = "00000000-0000-4000-8000-00000000c0b2"
OWNER_CLAIMS = {"role": "authenticated", "sub": OWNER}
AGENT_CLAIMS = {"role": "authenticated", "sub": AGENT}
OTHER_CLAIMS = {"role": "authenticated", "sub": OTHER_OWNER}
KEY = b"audit-key-for-campaign-tests"
# Monday 2026-12-07 10:00 in São Paulo: open for campaigns
MONDAY_MORNING = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)


def phone(i: int) -> str:
    return f"+55119876500{i:02d}"


def hasher(number: str) -> str:
    return subject_hash(KEY, number)


@dataclass
class World:
    db: Database
    dsn: str
    fake: FakeGateway
    session: FakeSession
    gateways: GatewayFactory
    clock: SettableClock
    queue: FakeCampaignQueue
    campaigns: CampaignService
    consent: ConsentService
    sender: CampaignSender
    replies: CampaignReplies
    sending: SendService
    rewriter: FakeRewriter
    contacts: dict[int, str] = field(default_factory=dict)

    def sql(self, query: str, *args: Any) -> list[dict[str, Any]]:
        with self.db.as_service() as conn:
            cursor = conn.execute(query, args)
            return list(cursor.fetchall()) if cursor.description else []

    def drain(self, *, limit: int = 5000) -> dict[str, int]:
        """Run every job on the queue (and those the jobs publish) once."""
        outcomes: dict[str, int] = {}
        for _ in range(limit):
            jobs = self.queue.take()
            if not jobs:
                return outcomes
            for job in jobs:
                outcome = self.handle(job)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
        raise AssertionError("the queue never drained")

    def handle(self, job: CampaignJob) -> str:
        if job.kind == "send":
            return self.sender.handle_send(job)
        return json.dumps(self.replies.handle(job), sort_keys=True)

    def receipts(self) -> list[str]:
        return [r.to for r in self.session.receipts]


def _seed(conn: psycopg.Connection[Any], fake: FakeGateway) -> dict[int, str]:
    seed_tenant(conn, tenant_id=TENANT, name="Provedor Net", user_id=OWNER, email="dona@net.local",
                instance_id=INSTANCE, webhook_secret="x", gateway_instance="loja")  # fmt: skip
    seed_tenant(conn, tenant_id=TENANT, name="Provedor Net", user_id=AGENT, email="agente@net.local", role="agent")
    seed_tenant(conn, tenant_id=OTHER_TENANT, name="Outra", user_id=OTHER_OWNER, email="b@outra.local")
    conn.execute(
        "update public.whatsapp_instances set gateway_base_url = %s, credentials_secret_name = 'gw/loja',"
        " status = 'connected' where id = %s",
        (fake.url, INSTANCE),
    )
    conn.execute(
        "insert into public.whatsapp_instances (id, tenant_id, provider, gateway_instance, webhook_secret_hash,"
        " gateway_base_url, credentials_secret_name, status)"
        " values (%s, %s, 'cloud', %s, 'x', %s, 'cloud', 'connected')",
        (CLOUD_INSTANCE, TENANT, CLOUD_NUMBER, fake.graph_url),
    )
    fake.cloud(CLOUD_NUMBER, access_token="EAAG-test", app_secret="app-secret", waba_id="100000000000099")
    contacts: dict[int, str] = {}
    names = ["maria silva", "João Souza", "Ana", "Bia", "Caio", "Duda", "Edu", "Fabi", "Gabi", "Hugo", "Iara", "Lid"]
    for i, name in enumerate(names):
        number = phone(i) if i != 11 else None
        key = number or f"9{i:011d}@lid"
        contact = conn.execute(
            "insert into public.contacts (tenant_id, identity_key, phone_e164, display_name) values (%s, %s, %s, %s)"
            " returning id::text",
            (TENANT, key, number, name),
        ).fetchone()
        assert contact is not None
        contacts[i] = contact[0]
        stage = "won" if i == 8 else "open"
        conn.execute(
            "insert into public.leads (tenant_id, contact_id, status, score, source) values (%s, %s, %s, %s, %s)",
            (TENANT, contact[0], stage, 9 * i, "ctwa_ad" if i % 2 else "organic"),
        )
        if i < 4:
            conn.execute(
                "insert into public.contact_tags (tenant_id, contact_id, tag) values (%s, %s, 'vip')",
                (TENANT, contact[0]),
            )
    # number 9 is hidden, number 10 opted out, the ERP knows number 0 with a bill
    conn.execute(
        "update public.tenants set settings = jsonb_set(settings, '{hidden_contacts}', %s::jsonb) where id = %s",
        (json.dumps([phone(9), f"{phone(9)[1:]}@s.whatsapp.net"]), TENANT),
    )
    conn.execute(
        "insert into public.opt_outs (tenant_id, phone_hash, source) values (%s, %s, 'keyword')",
        (TENANT, hasher(phone(10))),
    )
    conn.execute(
        "insert into public.customers (tenant_id, external_id, name, phone_e164, sales_summary)"
        " values (%s, 'ERP-1', 'Maria da Silva', %s, %s)",
        (TENANT, phone(0), json.dumps({"due_date": "10/12/2026", "amount_due": "149,90"})),
    )
    return contacts


@contextmanager
def campaign_world(
    db_dsn: str, *, time_scale: float = 0.001, stale_seconds: float = 300.0, gateways: Callable[[GatewayFactory],
    GatewayFactory] | None = None
) -> Iterator[World]:  # fmt: skip
    with FakeGateway() as fake, psycopg.connect(db_dsn) as conn:
        session = fake.evolution("loja", "key-1")
        contacts = _seed(conn, fake)
        conn.commit()
        db = Database(db_dsn, max_size=4)
        try:
            factory: GatewayFactory = gateway_factory_from_settings(
                Settings(gateway_timeout_seconds=1.0),
                FakeSecrets(
                    {
                        "gw/loja": {"api_key": "key-1"},
                        "cloud": {
                            "app_secret": "app-secret",
                            "verify_token": "v",
                            "access_token": "EAAG-test",
                            "waba_id": "100000000000099",
                        },
                    }
                ),
                None,
            )
            if gateways is not None:
                factory = gateways(factory)
            clock = SettableClock(MONDAY_MORNING)
            queue = FakeCampaignQueue()
            sends = PgCampaignSendStore(db)
            pacer = InstancePacer(sends, clock=clock, time_scale=time_scale, sleep=clock.sleep)
            sending = SendService(
                store=PgSendStore(db),
                gateways=PacedGateways(factory, pacer),
                suggestions=PgSuggestions(db),
                stale_pending_seconds=0.0,
            )
            store, opt_outs, replies = PgCampaignStore(db), PgOptOutStore(db), PgReplyStore(db)
            rewriter = FakeRewriter()
            world = World(
                db=db,
                dsn=db_dsn,
                fake=fake,
                session=session,
                gateways=factory,
                clock=clock,
                queue=queue,
                campaigns=CampaignService(
                    store,
                    opt_outs,
                    PgPrivacySettings(db),
                    hasher,
                    rewriter=rewriter,
                    clock=clock,
                    time_scale=time_scale,
                ),
                consent=ConsentService(store, opt_outs, hasher),
                sender=CampaignSender(
                    sends,
                    sending,
                    queue,
                    pacer=pacer,
                    opt_outs=opt_outs,
                    replies=replies,
                    hasher=hasher,
                    rewriter=rewriter,
                    clock=clock,
                    timing=SenderTiming(tick_seconds=60, time_scale=time_scale, stale_seconds=stale_seconds),
                    sleep=clock.sleep,
                ),
                replies=CampaignReplies(replies, opt_outs, sends, sending, hasher),
                sending=sending,
                rewriter=rewriter,
                contacts=contacts,
            )
            yield world
        finally:
            db.close()


def segment_request(**segment: Any) -> dict[str, Any]:
    return {
        "name": "Manutenção programada",
        "instance_id": INSTANCE,
        "audience": {"kind": "segment", "segment": {"lead_stages": ["open"], **segment}},
        "message": {"variants": ["Olá {{nome}}! Amanhã teremos manutenção na rede das 2h às 4h."]},
    }


def inbound(world: World, number: str, text: str, *, at: datetime | None = None) -> str:
    """An inbound text stored as ingest would (contact, conversation, message); its id."""
    with world.db.as_service(TENANT) as conn:
        contact = conn.execute(
            "select id from public.contacts where tenant_id = %s and phone_e164 = %s", (TENANT, number)
        ).fetchone()
        if contact is None:
            contact = conn.execute(
                "insert into public.contacts (tenant_id, identity_key, phone_e164) values (%s, %s, %s) returning id",
                (TENANT, number, number),
            ).fetchone()
        assert contact is not None
        conversation = conn.execute(
            "insert into public.conversations (tenant_id, instance_id, contact_id, chat_key) values (%s, %s, %s, %s)"
            " on conflict (tenant_id, instance_id, chat_key) do update set chat_key = excluded.chat_key returning id",
            (TENANT, INSTANCE, contact["id"], number),
        ).fetchone()
        assert conversation is not None
        row = conn.execute(
            "insert into public.messages (tenant_id, instance_id, conversation_id, contact_id, chat_key,"
            " provider_message_id, direction, kind, body, occurred_at) values (%s, %s, %s, %s, %s, %s, 'in', 'text',"
            " %s, %s) returning id::text",
            (TENANT, INSTANCE, conversation["id"], contact["id"], number, uuid.uuid4().hex, text,
             at or datetime.now(UTC)),
        ).fetchone()  # fmt: skip
    assert row is not None
    return str(row["id"])
