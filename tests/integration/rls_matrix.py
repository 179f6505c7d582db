"""The row-level security matrix, as data: for every public table, which roles may select,
insert, update and delete a row of tenant A. A new table joins by adding one ``Table`` row.

Roles: ``anon``; ``nonmember`` (authenticated, owner of ANOTHER tenant); ``agent``, ``admin``
and ``owner`` of tenant A; ``service_role``. Every case is one pgTAP assertion (see
test_rls_matrix.py): the operation runs as the role with its JWT claims, PostgREST style,
inside a subtransaction that is rolled back, so the cases never see each other's writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("anon", "nonmember", "agent", "admin", "owner", "service_role")
OPS = ("select", "insert", "update", "delete")

TENANT_A = "00000000-0000-4000-8000-00000000aa01"
TENANT_B = "00000000-0000-4000-8000-00000000bb01"
OWNER = "00000000-0000-4000-8000-00000000aa02"
ADMIN = "00000000-0000-4000-8000-00000000aa03"
AGENT = "00000000-0000-4000-8000-00000000aa04"
NONMEMBER = "00000000-0000-4000-8000-00000000bb02"  # owner of tenant B
NEWBIE = "00000000-0000-4000-8000-00000000aa05"  # a user with no membership yet
INSTANCE = "00000000-0000-4000-8000-00000000aa06"
CONTACT = "00000000-0000-4000-8000-00000000aa07"
CONVERSATION = "00000000-0000-4000-8000-00000000aa08"
MESSAGE = "00000000-0000-4000-8000-00000000aa09"
CUSTOMER = "00000000-0000-4000-8000-00000000aa0a"
MESSAGE2 = "00000000-0000-4000-8000-00000000aa0b"
LEAD = "00000000-0000-4000-8000-00000000aa0c"
ANALYSIS = "00000000-0000-4000-8000-00000000aa0d"
SUGGESTION = "00000000-0000-4000-8000-00000000aa0e"
CORRECTION = "00000000-0000-4000-8000-00000000aa0f"
CONTACT2 = "00000000-0000-4000-8000-00000000aa10"  # a contact without a lead yet
OUTBOX = "00000000-0000-4000-8000-00000000aa11"
TEAM = "00000000-0000-4000-8000-00000000aa12"
NOTE = "00000000-0000-4000-8000-00000000aa13"
CSAT = "00000000-0000-4000-8000-00000000aa14"
UPLOAD = "00000000-0000-4000-8000-00000000aa15"
CAMPAIGN = "00000000-0000-4000-8000-00000000aa60"
RECIPIENT = "00000000-0000-4000-8000-00000000aa61"
CAMPAIGN2 = "00000000-0000-4000-8000-00000000aa62"
HASH_A = "a" * 64
HASH_B = "b" * 64

USERS = {"nonmember": NONMEMBER, "agent": AGENT, "admin": ADMIN, "owner": OWNER}

MEMBERS = frozenset({"agent", "admin", "owner"})
ADMINS = frozenset({"admin", "owner"})
OWNERS = frozenset({"owner"})
NOBODY: frozenset[str] = frozenset()

# Tenant A with its three members, tenant B with its owner, and one row of every table in A.
WORLD = f"""
insert into auth.users (id, email) values
  ('{OWNER}', 'owner@a.test'), ('{ADMIN}', 'admin@a.test'), ('{AGENT}', 'agent@a.test'),
  ('{NONMEMBER}', 'owner@b.test'), ('{NEWBIE}', 'new@a.test');
insert into public.tenants (id, name) values ('{TENANT_A}', 'A'), ('{TENANT_B}', 'B');
insert into public.memberships (tenant_id, user_id, role) values
  ('{TENANT_A}', '{OWNER}', 'owner'), ('{TENANT_A}', '{ADMIN}', 'admin'), ('{TENANT_A}', '{AGENT}', 'agent'),
  ('{TENANT_B}', '{NONMEMBER}', 'owner');
insert into public.whatsapp_instances (id, tenant_id, provider, gateway_instance, webhook_secret_hash)
  values ('{INSTANCE}', '{TENANT_A}', 'evolution', 'a', 'h');
insert into public.contacts (id, tenant_id, identity_key, phone_e164)
  values ('{CONTACT}', '{TENANT_A}', '+5511987650001', '+5511987650001');
insert into public.contact_aliases (tenant_id, alias, contact_id)
  values ('{TENANT_A}', '5511987650001@s.whatsapp.net', '{CONTACT}');
insert into public.conversations (id, tenant_id, instance_id, contact_id, chat_key)
  values ('{CONVERSATION}', '{TENANT_A}', '{INSTANCE}', '{CONTACT}', '+5511987650001');
insert into public.messages (id, tenant_id, instance_id, conversation_id, contact_id, chat_key,
  provider_message_id, direction, kind, body, occurred_at)
  values ('{MESSAGE}', '{TENANT_A}', '{INSTANCE}', '{CONVERSATION}', '{CONTACT}', '+5511987650001',
  'M1', 'in', 'text', 'oi', now());
insert into public.proxy_diagnostics (tenant_id, instance_id, route, outcome)
  values ('{TENANT_A}', '{INSTANCE}', 'POST /webhooks', 'accepted');
insert into public.customers (id, tenant_id, external_id, name) values ('{CUSTOMER}', '{TENANT_A}', 'erp-1', 'C');
insert into public.privacy_audit (tenant_id, action, actor, subject_hash) values ('{TENANT_A}', 'hide', 'user', 'x');
insert into public.messages (id, tenant_id, instance_id, conversation_id, contact_id, chat_key,
  provider_message_id, direction, kind, body, occurred_at)
  values ('{MESSAGE2}', '{TENANT_A}', '{INSTANCE}', '{CONVERSATION}', '{CONTACT}', '+5511987650001',
  'M0', 'in', 'text', 'quero comprar', now());
insert into public.webhook_quarantine (tenant_id, instance_id, provider, reason_code, raw_payload, payload_bytes)
  values ('{TENANT_A}', '{INSTANCE}', 'evolution', 'missing_key', '{{}}', 2);
insert into public.contacts (id, tenant_id, identity_key) values ('{CONTACT2}', '{TENANT_A}', '+5511987650003');
insert into public.message_media (message_id, tenant_id, conversation_id, state)
  values ('{MESSAGE}', '{TENANT_A}', '{CONVERSATION}', 'pending');
insert into public.media_uploads (id, tenant_id, conversation_id, kind, max_bytes, object_key)
  values ('{UPLOAD}', '{TENANT_A}', '{CONVERSATION}', 'image', 10, 'uploads/a/b');
insert into public.message_templates (tenant_id, instance_id, name, language, status)
  values ('{TENANT_A}', '{INSTANCE}', 'pedido_enviado', 'pt_BR', 'APPROVED');
insert into public.leads (id, tenant_id, contact_id, conversation_id) values ('{LEAD}', '{TENANT_A}', '{CONTACT}',
  '{CONVERSATION}');
insert into public.message_analyses (id, tenant_id, message_id, conversation_id, lead_id, sentiment, sentiment_score,
  intent, intent_confidence, urgency, labels_source, model, score, score_parts, priority, sla_due_at)
  values ('{ANALYSIS}', '{TENANT_A}', '{MESSAGE}', '{CONVERSATION}', '{LEAD}', 'neutral', 0, 'greeting', 0.9, 'low',
  'worker', 'm', 10, '{{}}', 'low', now());
insert into public.reply_suggestions (id, tenant_id, message_id, conversation_id, analysis_id, text, source, model)
  values ('{SUGGESTION}', '{TENANT_A}', '{MESSAGE}', '{CONVERSATION}', '{ANALYSIS}', 'Olá!', 'template', 'm');
insert into public.analysis_corrections (id, tenant_id, message_id, sentiment, corrected_by)
  values ('{CORRECTION}', '{TENANT_A}', '{MESSAGE}', 'positive', '{AGENT}');
insert into public.outbound_messages (id, tenant_id, instance_id, conversation_id, chat_key, recipient,
  idempotency_key, request_hash, body, created_by)
  values ('{OUTBOX}', '{TENANT_A}', '{INSTANCE}', '{CONVERSATION}', '+5511987650001', '5511987650001',
  'key-00000001', 'h', 'olá', '{AGENT}');
insert into public.instance_sessions (instance_id, tenant_id) values ('{INSTANCE}', '{TENANT_A}');
insert into public.conversation_reads (tenant_id, conversation_id, user_id, read_at)
  values ('{TENANT_A}', '{CONVERSATION}', '{NEWBIE}', now());
insert into public.instance_qr_codes (instance_id, tenant_id, qr_code) values ('{INSTANCE}', '{TENANT_A}', '2@qr');
insert into public.teams (id, tenant_id, name) values ('{TEAM}', '{TENANT_A}', 'Suporte N1');
insert into public.team_members (tenant_id, team_id, user_id) values ('{TENANT_A}', '{TEAM}', '{AGENT}');
insert into public.agent_presence (tenant_id, user_id, status) values ('{TENANT_A}', '{ADMIN}', 'online');
insert into public.routing_rules (tenant_id, position, name, action, team_id)
  values ('{TENANT_A}', 0, 'billing', 'team', '{TEAM}');
insert into public.operations_settings (tenant_id) values ('{TENANT_A}');
insert into public.conversation_events (tenant_id, conversation_id, instance_id, cycle, kind, action, to_state,
  actor_type) values ('{TENANT_A}', '{CONVERSATION}', '{INSTANCE}', 1, 'transition', 'open', 'bot', 'customer');
insert into public.conversation_notes (id, tenant_id, conversation_id, author_id, body)
  values ('{NOTE}', '{TENANT_A}', '{CONVERSATION}', '{ADMIN}', 'cliente VIP');
insert into public.business_hours (tenant_id, schedule) values ('{TENANT_A}', '{{}}');
insert into public.ops_alerts (tenant_id, kind, key, conversation_id)
  values ('{TENANT_A}', 'sla_warning', 'k1', '{CONVERSATION}');
insert into public.csat_responses (id, tenant_id, conversation_id, cycle, score, answered_at)
  values ('{CSAT}', '{TENANT_A}', '{CONVERSATION}', 1, 5, now());
insert into public.campaigns (id, tenant_id, instance_id, name, audience, message, content_hash, created_by)
  values ('{CAMPAIGN}', '{TENANT_A}', '{INSTANCE}', 'Natal', '{{"kind": "csv"}}', '{{}}', 'h', '{OWNER}'),
  ('{CAMPAIGN2}', '{TENANT_A}', '{INSTANCE}', 'Outra', '{{"kind": "csv"}}', '{{}}', 'h', '{OWNER}');
insert into public.campaign_csv_rows (campaign_id, tenant_id, row_number, phone_e164)
  values ('{CAMPAIGN}', '{TENANT_A}', 2, '+5511987650001');
insert into public.campaign_recipients (id, tenant_id, campaign_id, ordinal, contact_id, phone_e164, body)
  values ('{RECIPIENT}', '{TENANT_A}', '{CAMPAIGN}', 0, '{CONTACT}', '+5511987650001', 'Oi!');
insert into public.campaign_settings (tenant_id) values ('{TENANT_A}');
insert into public.contact_tags (tenant_id, contact_id, tag) values ('{TENANT_A}', '{CONTACT}', 'vip');
insert into public.campaign_pacing (instance_id, tenant_id) values ('{INSTANCE}', '{TENANT_A}');
insert into public.opt_outs (tenant_id, phone_hash, source) values ('{TENANT_A}', '{HASH_A}', 'manual');
insert into public.consent_records (tenant_id, phone_hash, action, source)
  values ('{TENANT_A}', '{HASH_A}', 'opt_out', 'manual');
insert into public.campaign_audit (tenant_id, campaign_id, action) values ('{TENANT_A}', '{CAMPAIGN}', 'created');
"""


@dataclass(frozen=True)
class Table:
    name: str
    key: str  # identifies the fixture row of tenant A
    insert: str  # a new row of tenant A
    update_set: str  # a harmless assignment
    allowed: dict[str, frozenset[str]] = field(default_factory=dict)  # op -> roles (service_role always)

    def sql(self, op: str) -> str:
        if op == "select":
            return f"select 1 from {self.name} where {self.key}"
        if op == "insert":
            return self.insert
        if op == "update":
            return f"update {self.name} set {self.update_set} where {self.key}"
        return f"delete from {self.name} where {self.key}"

    def may(self, role: str, op: str) -> bool:
        return role == "service_role" or role in self.allowed.get(op, NOBODY)


def _rw(select: frozenset[str], write: frozenset[str]) -> dict[str, frozenset[str]]:
    return {"select": select, "insert": write, "update": write, "delete": write}


TABLES: tuple[Table, ...] = (
    Table(
        "public.tenants",
        f"id = '{TENANT_A}'",
        "insert into public.tenants (name) values ('new')",
        "name = name",
        {"select": MEMBERS, "update": ADMINS},  # tenants are created by the service; settings: see ACTIONS
    ),
    Table(
        "public.memberships",
        f"tenant_id = '{TENANT_A}' and user_id = '{AGENT}'",
        f"insert into public.memberships (tenant_id, user_id, role) values ('{TENANT_A}', '{NEWBIE}', 'agent')",
        "role = role",
        _rw(MEMBERS, OWNERS),
    ),
    Table(
        "public.whatsapp_instances",
        f"id = '{INSTANCE}'",
        "insert into public.whatsapp_instances (tenant_id, provider, gateway_instance, webhook_secret_hash)"
        f" values ('{TENANT_A}', 'wppconnect', 'b', 'h')",
        "status = status",
        _rw(MEMBERS, ADMINS),
    ),
    Table(
        "public.contacts",
        f"id = '{CONTACT}'",
        f"insert into public.contacts (tenant_id, identity_key) values ('{TENANT_A}', '+5511987650002')",
        "display_name = display_name",
        _rw(MEMBERS, MEMBERS),
    ),
    Table(
        "public.contact_aliases",
        f"tenant_id = '{TENANT_A}' and alias = '5511987650001@s.whatsapp.net'",
        "insert into public.contact_aliases (tenant_id, alias, contact_id)"
        f" values ('{TENANT_A}', 'x@lid', '{CONTACT}')",
        "alias = alias",
        _rw(MEMBERS, MEMBERS),
    ),
    Table(
        "public.conversations",
        f"id = '{CONVERSATION}'",
        "insert into public.conversations (tenant_id, instance_id, contact_id, chat_key)"
        f" values ('{TENANT_A}', '{INSTANCE}', '{CONTACT}', 'other')",
        "priority = 'high'",
        _rw(MEMBERS, MEMBERS),
    ),
    Table(
        "public.messages",
        f"id = '{MESSAGE}'",
        "insert into public.messages (tenant_id, instance_id, conversation_id, contact_id, chat_key,"
        " provider_message_id, direction, kind, body, occurred_at)"
        f" values ('{TENANT_A}', '{INSTANCE}', '{CONVERSATION}', '{CONTACT}', '+5511987650001', 'M2', 'out', 'text',"
        " 'olá', now())",
        "status = 'read'",
        _rw(MEMBERS, MEMBERS),
    ),
    Table(
        "public.message_media",
        f"message_id = '{MESSAGE}'",
        "insert into public.message_media (message_id, tenant_id, conversation_id)"
        f" values ('{MESSAGE2}', '{TENANT_A}', '{CONVERSATION}')",
        "state = 'stored'",
        {"select": MEMBERS},  # written by the media function (the service)
    ),
    Table(
        "public.media_uploads",
        f"id = '{UPLOAD}'",
        "insert into public.media_uploads (tenant_id, conversation_id, kind, max_bytes, object_key, created_by)"
        f" values ('{TENANT_A}', '{CONVERSATION}', 'image', 10, 'uploads/a/c', (select auth.uid()))",
        "filename = filename",
        {"select": MEMBERS, "insert": MEMBERS},  # agents create uploads to send; nobody edits one
    ),
    Table(
        "public.message_templates",
        f"instance_id = '{INSTANCE}' and name = 'pedido_enviado'",
        "insert into public.message_templates (tenant_id, instance_id, name, language, status)"
        f" values ('{TENANT_A}', '{INSTANCE}', 'novo', 'pt_BR', 'APPROVED')",
        "status = status",
        {"select": MEMBERS},  # the cache is written by the service (the proxy's template sync)
    ),
    Table(
        "public.proxy_diagnostics",
        f"tenant_id = '{TENANT_A}'",
        f"insert into public.proxy_diagnostics (tenant_id, route, outcome) values ('{TENANT_A}', 'r', 'accepted')",
        "outcome = outcome",
        {"select": ADMINS},  # written by the proxy as the service
    ),
    Table(
        "public.customers",
        f"id = '{CUSTOMER}'",
        f"insert into public.customers (tenant_id, external_id, name) values ('{TENANT_A}', 'erp-2', 'D')",
        "name = name",
        _rw(MEMBERS, ADMINS),
    ),
    Table(
        "public.leads",
        f"id = '{LEAD}'",
        f"insert into public.leads (tenant_id, contact_id) values ('{TENANT_A}', '{CONTACT2}')",
        "status = 'open'",
        {"select": MEMBERS, "update": MEMBERS},  # created and scored by the functions
    ),
    Table(
        "public.message_analyses",
        f"id = '{ANALYSIS}'",
        "insert into public.message_analyses (tenant_id, message_id, conversation_id, sentiment, sentiment_score,"
        " intent, intent_confidence, urgency, labels_source, model, score, score_parts, priority, sla_due_at)"
        f" values ('{TENANT_A}', '{MESSAGE2}', '{CONVERSATION}', 'neutral', 0, 'other', 0.5, 'low', 'fast', 'm', 1,"
        " '{}', 'low', now())",
        "attempts = attempts",
        {"select": MEMBERS},
    ),
    Table(
        "public.reply_suggestions",
        f"id = '{SUGGESTION}'",
        "insert into public.reply_suggestions (tenant_id, message_id, conversation_id, text, source, model)"
        f" values ('{TENANT_A}', '{MESSAGE2}', '{CONVERSATION}', 'Oi!', 'template', 'm')",
        "outcome = 'discarded', decided_at = now()",  # members record what they did with it
        {"select": MEMBERS, "update": MEMBERS},
    ),
    Table(
        "public.analysis_corrections",
        f"id = '{CORRECTION}'",
        f"insert into public.analysis_corrections (tenant_id, message_id, intent) values ('{TENANT_A}', '{MESSAGE2}',"
        " 'complaint')",
        "corrected_by = auth.uid()",  # a correction is signed by whoever makes it
        {"select": MEMBERS, "insert": MEMBERS, "update": MEMBERS},
    ),
    Table(
        "public.webhook_quarantine",
        f"tenant_id = '{TENANT_A}'",
        "insert into public.webhook_quarantine (tenant_id, provider, reason_code, raw_payload, payload_bytes)"
        f" values ('{TENANT_A}', 'evolution', 'x', '{{}}', 2)",
        "replay_reason = replay_reason",
        {"select": ADMINS},  # written and replayed by the service
    ),
    Table(
        "public.outbound_messages",
        f"id = '{OUTBOX}'",
        "insert into public.outbound_messages (tenant_id, instance_id, conversation_id, chat_key, recipient,"
        f" idempotency_key, request_hash, body, created_by) values ('{TENANT_A}', '{INSTANCE}', '{CONVERSATION}',"
        " '+5511987650001', '5511987650001', 'key-00000002', 'h', 'oi', (select auth.uid()))",
        "status = 'unconfirmed'",
        {"select": MEMBERS, "insert": MEMBERS, "update": MEMBERS},  # agents send under their RLS
    ),
    Table(
        "public.instance_sessions",
        f"instance_id = '{INSTANCE}'",
        "with i as (insert into public.whatsapp_instances (tenant_id, provider, gateway_instance, webhook_secret_hash)"
        f" values ('{TENANT_A}', 'evolution', 's2', 'h') returning id, tenant_id)"
        " insert into public.instance_sessions (instance_id, tenant_id) select id, tenant_id from i",
        "last_reason = last_reason",
        {"select": ADMINS},  # the session recovery writes it as the service
    ),
    Table(
        "public.instance_qr_codes",
        f"instance_id = '{INSTANCE}'",
        "with i as (insert into public.whatsapp_instances (tenant_id, provider, gateway_instance, webhook_secret_hash)"
        f" values ('{TENANT_A}', 'evolution', 'q2', 'h') returning id, tenant_id)"
        " insert into public.instance_qr_codes (instance_id, tenant_id, qr_code) select id, tenant_id, '2@new' from i",
        "qr_code = qr_code",
        {"select": ADMINS},  # the session recovery publishes codes as the service
    ),
    Table(
        "public.conversation_reads",
        f"conversation_id = '{CONVERSATION}' and user_id = '{NEWBIE}'",  # another user's read mark
        "insert into public.conversation_reads (tenant_id, conversation_id, user_id, read_at)"
        f" values ('{TENANT_A}', '{CONVERSATION}', coalesce((select auth.uid()), '{OWNER}'), now())"
        " on conflict do nothing",
        "read_at = read_at",
        # a member marks their own reads, and never sees nor moves another's; the purge deletes them
        {"insert": MEMBERS},
    ),
    Table(
        "public.teams",
        f"id = '{TEAM}'",
        f"insert into public.teams (tenant_id, name) values ('{TENANT_A}', 'Financeiro')",
        "name = name",
        _rw(MEMBERS, ADMINS),  # configuration: admins
    ),
    Table(
        "public.team_members",
        f"team_id = '{TEAM}' and user_id = '{AGENT}'",
        f"insert into public.team_members (tenant_id, team_id, user_id) values ('{TENANT_A}', '{TEAM}', '{OWNER}')",
        "last_assigned_at = last_assigned_at",
        _rw(MEMBERS, ADMINS),
    ),
    Table(
        "public.agent_presence",
        f"tenant_id = '{TENANT_A}' and user_id = '{ADMIN}'",  # the admin's own row
        "insert into public.agent_presence (tenant_id, user_id, status)"
        f" values ('{TENANT_A}', coalesce((select auth.uid()), '{OWNER}'), 'away')"
        " on conflict (tenant_id, user_id) do update set status = excluded.status",
        "status = status",
        # every member sees who is online; each moves only their own presence
        {"select": MEMBERS, "insert": MEMBERS, "update": frozenset({"admin"})},
    ),
    Table(
        "public.routing_rules",
        f"tenant_id = '{TENANT_A}'",
        "insert into public.routing_rules (tenant_id, position, name, action)"
        f" values ('{TENANT_A}', 1, 'thanks', 'bot_resolve')",
        "enabled = enabled",
        _rw(MEMBERS, ADMINS),
    ),
    Table(
        "public.operations_settings",
        f"tenant_id = '{TENANT_A}'",
        f"insert into public.operations_settings (tenant_id, settings) values ('{TENANT_A}', '{{}}')"
        " on conflict (tenant_id) do update set settings = excluded.settings",
        "settings = settings",
        _rw(MEMBERS, ADMINS),
    ),
    Table(
        "public.conversation_events",
        f"tenant_id = '{TENANT_A}'",
        "insert into public.conversation_events (tenant_id, conversation_id, instance_id, cycle, kind, actor_type)"
        f" values ('{TENANT_A}', '{CONVERSATION}', '{INSTANCE}', 1, 'reply', 'agent')",
        "reason = reason",
        {"select": MEMBERS},  # the audit trail: written by the lifecycle service only
    ),
    Table(
        "public.kpi_daily",
        f"tenant_id = '{TENANT_A}'",  # the fixture event's day
        "insert into public.kpi_daily (tenant_id, day, instance_id, events, opened, queued, resolved,"
        " resolved_by_automation, assigned, first_responses, replies, sla_breaches, sla_met, csat_count, csat_rated,"
        f" csat_sum) values ('{TENANT_A}', '2020-01-01', '{INSTANCE}', 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)",
        "events = events",
        {"select": MEMBERS},  # counts of the events, kept by their triggers only
    ),
    Table(
        "public.kpi_hourly_opened",
        f"tenant_id = '{TENANT_A}'",
        "insert into public.kpi_hourly_opened (tenant_id, day, hour, instance_id, opened)"
        f" values ('{TENANT_A}', '2020-01-01', 9, '{INSTANCE}', 1)",
        "opened = opened",
        {"select": MEMBERS},
    ),
    Table(
        "public.conversation_notes",
        f"id = '{NOTE}'",  # the admin's note
        "insert into public.conversation_notes (tenant_id, conversation_id, author_id, body)"
        f" values ('{TENANT_A}', '{CONVERSATION}', coalesce((select auth.uid()), '{OWNER}'), 'ligar amanhã')",
        "body = body",
        # members read and write notes as themselves; an author deletes their own; nobody edits one
        {"select": MEMBERS, "insert": MEMBERS, "delete": frozenset({"admin"})},
    ),
    Table(
        "public.business_hours",
        f"tenant_id = '{TENANT_A}'",
        f"insert into public.business_hours (tenant_id, team_id, schedule) values ('{TENANT_A}', '{TEAM}', '{{}}')",
        "schedule = schedule",
        _rw(MEMBERS, ADMINS),
    ),
    Table(
        "public.ops_alerts",
        f"tenant_id = '{TENANT_A}'",
        f"insert into public.ops_alerts (tenant_id, kind, key) values ('{TENANT_A}', 'queue_long', 'k2')",
        "cleared_at = cleared_at",
        {"select": ADMINS},  # raised by the lifecycle's timers, read by owners and admins
    ),
    Table(
        "public.csat_responses",
        f"id = '{CSAT}'",
        "insert into public.csat_responses (tenant_id, conversation_id, cycle, score, answered_at)"
        f" values ('{TENANT_A}', '{CONVERSATION}', 2, 4, now())",
        "score = score",
        {"select": MEMBERS},  # stored by the lifecycle function
    ),
    Table(
        "public.campaign_settings",
        f"tenant_id = '{TENANT_A}'",
        f"insert into public.campaign_settings (tenant_id) values ('{TENANT_A}')"
        " on conflict (tenant_id) do update set settings = excluded.settings",
        "settings = settings",
        _rw(MEMBERS, ADMINS),
    ),
    Table(
        "public.contact_tags",
        f"tenant_id = '{TENANT_A}' and tag = 'vip'",
        f"insert into public.contact_tags (tenant_id, contact_id, tag) values ('{TENANT_A}', '{CONTACT}', 'novo')",
        "tag = tag",
        _rw(MEMBERS, MEMBERS),
    ),
    Table(
        "public.campaigns",
        f"id = '{CAMPAIGN}'",
        "insert into public.campaigns (tenant_id, instance_id, name, audience, message, content_hash, created_by)"
        f" values ('{TENANT_A}', '{INSTANCE}', 'Nova', '{{}}', '{{}}', 'h', (select auth.uid()))",
        "name = name",
        # owners and admins write; a campaign is cancelled, never deleted through the API
        {"select": MEMBERS, "insert": ADMINS, "update": ADMINS},
    ),
    Table(
        "public.campaign_csv_rows",
        f"campaign_id = '{CAMPAIGN}'",
        "insert into public.campaign_csv_rows (campaign_id, tenant_id, row_number, phone_e164)"
        f" values ('{CAMPAIGN}', '{TENANT_A}', 3, '+5511987650002')",
        "vars = vars",
        _rw(ADMINS, ADMINS),
    ),
    Table(
        "public.campaign_recipients",
        f"id = '{RECIPIENT}'",
        "insert into public.campaign_recipients (tenant_id, campaign_id, ordinal, phone_e164, body)"
        f" values ('{TENANT_A}', '{CAMPAIGN2}', 0, '+5511987650002', 'Oi')",
        "status = 'cancelled'",
        # frozen by an admin's start, sent by the campaign function as the service
        {"select": MEMBERS, "insert": ADMINS, "update": ADMINS},
    ),
    Table(
        "public.campaign_pacing",
        f"instance_id = '{INSTANCE}'",
        "with i as (insert into public.whatsapp_instances (tenant_id, provider, gateway_instance, webhook_secret_hash)"
        f" values ('{TENANT_A}', 'evolution', 'p2', 'h') returning id, tenant_id)"
        " insert into public.campaign_pacing (instance_id, tenant_id) select id, tenant_id from i",
        "day_count = day_count",
        {"select": ADMINS},  # the campaign function paces as the service
    ),
    Table(
        "public.opt_outs",
        f"tenant_id = '{TENANT_A}' and phone_hash = '{HASH_A}'",
        f"insert into public.opt_outs (tenant_id, phone_hash, source) values ('{TENANT_A}', '{HASH_B}', 'manual')",
        "opted_in_at = opted_in_at",
        # admins record by hand (an opt-in sets opted_in_at); nobody deletes the list's history
        {"select": MEMBERS, "insert": ADMINS, "update": ADMINS},
    ),
    Table(
        "public.consent_records",
        f"tenant_id = '{TENANT_A}'",
        "insert into public.consent_records (tenant_id, phone_hash, action, source, actor_user_id)"
        f" values ('{TENANT_A}', '{HASH_B}', 'opt_in', 'manual', (select auth.uid()))",
        "source = source",
        {"select": ADMINS, "insert": ADMINS},  # an admin records by hand, signed; nobody rewrites the record
    ),
    Table(
        "public.campaign_audit",
        f"tenant_id = '{TENANT_A}'",
        "insert into public.campaign_audit (tenant_id, campaign_id, action, actor_user_id)"
        f" values ('{TENANT_A}', '{CAMPAIGN}', 'paused', (select auth.uid()))",
        "reason = reason",
        {"select": MEMBERS, "insert": ADMINS},  # written with the action, by its actor
    ),
    Table(
        "public.privacy_audit",
        f"tenant_id = '{TENANT_A}'",
        "insert into public.privacy_audit (tenant_id, action, actor, subject_hash)"
        f" values ('{TENANT_A}', 'erase', 'user', 'y')",
        "total = total",
        {"select": ADMINS},  # written only by the privacy functions
    ),
)


@dataclass(frozen=True)
class Action:
    """A privileged action beyond plain table access, with the roles allowed to do it."""

    name: str
    sql: str
    allowed: frozenset[str]  # taken literally: service_role is listed where it may

    def may(self, role: str) -> bool:
        return role in self.allowed


SERVICE = frozenset({"service_role"})

ACTIONS: tuple[Action, ...] = (
    # tenants.settings holds the hidden list: API users neither read nor write it directly
    Action(
        "read the tenant settings (the hidden list)",
        f"select settings from public.tenants where id = '{TENANT_A}'",
        SERVICE,
    ),
    Action(
        "change the hidden list in tenants.settings",
        "update public.tenants set settings = jsonb_set(settings, '{hidden_contacts}', '[\"+5511987650009\"]')"
        f" where id = '{TENANT_A}'",
        SERVICE,
    ),
    Action(
        "overwrite tenants.settings",
        f"update public.tenants set settings = '{{}}' where id = '{TENANT_A}'",
        SERVICE,
    ),
    Action(
        "read the hidden list (private.hidden_list)",
        f"select private.hidden_list('{TENANT_A}')",
        ADMINS | SERVICE,
    ),
    Action(
        "hide a contact",
        f"select private.hide_contact('{TENANT_A}', '+5511987650001', array['+5511987650001'], 'h')",
        ADMINS | SERVICE,
    ),
    Action(
        "erase a contact",
        f"select private.erase_contact('{TENANT_A}', '+5511987650001', array['+5511987650001'], 'h')",
        ADMINS | SERVICE,
    ),
    Action(
        "unhide a contact",
        f"select private.unhide_contact('{TENANT_A}', '+5511987650001', array['+5511987650001'], 'h')",
        ADMINS | SERVICE,
    ),
    Action(
        "purge without the audit (internal)",
        f"select private.purge_contact_data('{TENANT_A}', array['+5511987650001'])",
        NOBODY,
    ),
    Action(
        "sweep a hidden subject",
        f"select private.sweep_hidden_subject('{TENANT_A}', '+5511987650001', 'h', 'queue')",
        SERVICE,
    ),
    Action(
        "check the ingest guard",
        f"select private.ingest_allowed('{TENANT_A}', array['+5511987650001'])",
        SERVICE,
    ),
)
