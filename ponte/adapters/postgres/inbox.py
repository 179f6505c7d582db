"""The inbox read API's queries, each one statement under the caller's RLS (``Database.as_user``).

The inbox page walks ``conversations_inbox_idx`` in order and stops at the page's end; per row,
the last message, the latest analysis and the unread count are index look-ups (LATERAL), so
the cost of a page does not grow with the tenant's history.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ponte.adapters.postgres.db import Database
from ponte.domain.gateway_api import CustomerCard, scalar_map
from ponte.domain.inbox import (
    HEADLINE_FROM,
    HEADLINE_TO,
    MARK_END,
    MARK_START,
    UNREAD_CAP,
    AnalysisBrief,
    ContactSummary,
    ConversationDetail,
    ConversationSummary,
    InboxContact,
    InstanceSummary,
    LastMessage,
    LeadBrief,
    LeadDetail,
    LeadSummary,
    MessageHit,
    MessageView,
    ReadReceipt,
    SearchHit,
    SendState,
    SuggestionView,
    preview_of,
    snippet_html,
)
from ponte.ports.inbox import Claims, ContactQuery, InboxQuery, InboxReader, LeadQuery

DUE_SOON = timedelta(hours=1)

_ACTIVITY = "coalesce(c.last_message_at, c.created_at)"

_SUMMARY = f"""
select c.id::text, c.instance_id::text, c.status, c.priority, c.sla_due_at, {_ACTIVITY} as activity,
  c.state, c.team_id::text as team_id, c.assigned_to::text as assigned_to, c.protocol, c.snoozed_until,
  k.id::text as contact_id, k.display_name, k.phone_e164, k.picture_url,
  lm.id::text as lm_id, lm.direction as lm_direction, lm.kind as lm_kind, lm.body as lm_body,
  lm.media ->> 'caption' as lm_caption, lm.occurred_at as lm_at,
  l.id::text as lead_id, l.status as lead_stage, l.score as lead_score,
  l.source as lead_source, l.returning_customer, l.score_parts as lead_parts, l.customer_id,
  la.sentiment, la.intent, la.urgency, la.priority as a_priority,
  (select count(*) from (select 1 from public.messages u
     where u.conversation_id = c.id and u.direction = 'in' and u.occurred_at > coalesce(r.read_at, '-infinity')
     limit {UNREAD_CAP}) unread) as unread
from public.conversations c
join public.contacts k on k.id = c.contact_id
left join public.leads l on l.tenant_id = c.tenant_id and l.contact_id = c.contact_id
left join public.conversation_reads r on r.conversation_id = c.id and r.user_id = (select auth.uid())
left join lateral (
  select m.id, m.direction, m.kind, m.body, m.media, m.occurred_at from public.messages m
  where m.conversation_id = c.id order by m.occurred_at desc, m.id desc limit 1
) lm on true
left join lateral (
  select coalesce(x.sentiment, a.sentiment) as sentiment, coalesce(x.intent, a.intent) as intent, a.urgency,
    a.priority
  from public.message_analyses a left join public.analysis_corrections x on x.message_id = a.message_id
  where a.conversation_id = c.id order by a.created_at desc limit 1
) la on true
"""

_MESSAGES = """
select m.id::text, m.conversation_id::text, m.direction, m.kind, m.body, m.status, m.occurred_at, m.media,
  m.quoted_message_id, coalesce(x.sentiment, a.sentiment) as sentiment, coalesce(x.intent, a.intent) as intent,
  a.urgency, a.priority as a_priority, o.status as send_status, o.error_code as send_error, o.origin as send_origin
from public.messages m
left join public.message_analyses a on a.message_id = m.id
left join public.analysis_corrections x on x.message_id = m.id
left join lateral (
  select ob.status, ob.error_code, ob.origin from public.outbound_messages ob where ob.message_id = m.id
  order by ob.created_at desc limit 1
) o on true
where m.conversation_id = %s {before}
order by m.occurred_at desc, m.id desc
limit %s
"""


_HEADLINE = f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=24, MinWords=8"

_LEADS = """
select l.id::text, l.status as stage, l.score, l.priority, l.source, l.returning_customer, l.created_at,
  l.conversation_id::text, k.id::text as contact_id, k.display_name, k.phone_e164, k.picture_url
from public.leads l join public.contacts k on k.id = l.contact_id
"""


class PgInboxReader(InboxReader):
    def __init__(self, db: Database) -> None:
        self._db = db

    def conversations(self, claims: Claims, query: InboxQuery) -> list[ConversationSummary]:
        sql, args = conversations_sql(query)
        with self._db.as_user(claims) as conn:
            rows = conn.execute(sql, args).fetchall()
        return [_summary(row, query.now) for row in rows]

    def conversation(self, claims: Claims, conversation_id: str, now: datetime) -> ConversationDetail | None:
        with self._db.as_user(claims) as conn:
            row = conn.execute(f"{_SUMMARY} where c.id = %s", (conversation_id,)).fetchone()
            if row is None:
                return None
            customer = None
            if row["customer_id"] is not None:
                customer = conn.execute(
                    "select id::text, external_id, name, photo_url, sales_summary from public.customers where id = %s",
                    (row["customer_id"],),
                ).fetchone()
            suggestions = conn.execute(
                "select id::text, text, created_at, message_id::text from public.reply_suggestions"
                " where conversation_id = %s and outcome is null order by created_at desc limit 5",
                (conversation_id,),
            ).fetchall()
        summary = _summary(row, now)
        lead = None
        if summary.lead is not None:
            lead = LeadDetail(
                **summary.lead.model_dump(),
                source=row["lead_source"],
                returning_customer=row["returning_customer"],
                score_parts=row["lead_parts"],
            )
        return ConversationDetail(
            **(summary.model_dump() | {"lead": lead}),
            customer=_customer(customer) if customer else None,
            suggestions=[SuggestionView(**s) for s in suggestions],
        )

    def messages(
        self, claims: Claims, conversation_id: str, before: tuple[datetime, str] | None, limit: int
    ) -> list[MessageView] | None:
        cut = "and (m.occurred_at, m.id) < (%s, %s::uuid)" if before else ""
        args: list[Any] = [conversation_id, *(before or ()), limit + 1]
        with self._db.as_user(claims) as conn:
            if conn.execute("select 1 from public.conversations where id = %s", (conversation_id,)).fetchone() is None:
                return None
            rows = conn.execute(_MESSAGES.format(before=cut), args).fetchall()
        return [_message(row) for row in rows]

    def mark_read(self, claims: Claims, conversation_id: str) -> ReadReceipt | None:
        with self._db.as_user(claims) as conn:
            row = conn.execute(
                "insert into public.conversation_reads (tenant_id, conversation_id, user_id, read_at)"
                " select c.tenant_id, c.id, (select auth.uid()), greatest(now(),"
                "   (select max(m.occurred_at) from public.messages m where m.conversation_id = c.id))"
                " from public.conversations c where c.id = %s"
                " on conflict (conversation_id, user_id)"
                " do update set read_at = greatest(public.conversation_reads.read_at, excluded.read_at)"
                " returning conversation_id::text, read_at",
                (conversation_id,),
            ).fetchone()
        return (
            ReadReceipt(conversation_id=row["conversation_id"], unread_count=0, read_at=row["read_at"]) if row else None
        )

    def contacts(self, claims: Claims, query: ContactQuery) -> list[ContactSummary]:
        where: list[str] = ["true"]
        args: list[Any] = []
        match: list[str] = []
        if query.text:
            match.append("public.search_folded(k.display_name) like %s")
            args.append("%" + _like(query.text) + "%")
        if query.phones:
            match.append("k.phone_e164 = any(%s)")
            args.append(list(query.phones))
        if query.digits:
            match.append("k.phone_e164 like %s")
            args.append("%" + _like(query.digits) + "%")
        if match:
            where.append("(" + " or ".join(match) + ")")
        if query.after is not None:
            where.append("(k.updated_at, k.id) < (%s, %s::uuid)")
            args.extend(query.after)
        sql = (
            "select k.id::text as contact_id, k.display_name, k.phone_e164, k.picture_url, k.updated_at,"
            " array(select c.id::text from public.conversations c where c.contact_id = k.id order by c.created_at)"
            " as conversation_ids"
            f" from public.contacts k where {' and '.join(where)} order by k.updated_at desc, k.id desc limit %s"
        )
        with self._db.as_user(claims) as conn:
            rows = conn.execute(sql, [*args, query.limit + 1]).fetchall()
        return [
            ContactSummary(
                **_contact(r).model_dump(), conversation_ids=r["conversation_ids"], updated_at=r["updated_at"]
            )
            for r in rows
        ]

    def leads(self, claims: Claims, query: LeadQuery) -> list[LeadSummary]:
        where: list[str] = ["true"]
        args: list[Any] = []
        for clause, value in (
            ("l.status = %s", query.stage),
            ("l.source = %s", query.source),
            ("l.score >= %s", query.score_min),
            ("l.score <= %s", query.score_max),
        ):
            if value is not None:
                where.append(clause)
                args.append(value)
        if query.after is not None:
            where.append("(l.created_at, l.id) < (%s, %s::uuid)")
            args.extend(query.after)
        sql = f"{_LEADS} where {' and '.join(where)} order by l.created_at desc, l.id desc limit %s"
        with self._db.as_user(claims) as conn:
            rows = conn.execute(sql, [*args, query.limit + 1]).fetchall()
        return [_lead(r) for r in rows]

    def instances(self, claims: Claims) -> list[InstanceSummary]:
        with self._db.as_user(claims) as conn:
            rows = conn.execute(
                "select id::text, provider, gateway_instance, status, created_at from public.whatsapp_instances"
                " order by created_at, id limit 200"
            ).fetchall()
        return [InstanceSummary.model_validate(r) for r in rows]

    def search(
        self, claims: Claims, text: str, before: tuple[datetime, str] | None, limit: int, now: datetime
    ) -> list[SearchHit]:
        # public.search_messages: the caller's tenants as an explicit filter, so the indexes serve the
        # text match (under the row policy `@@`, not leakproof, would be checked row by row)
        with self._db.as_user(claims) as conn:
            hits = conn.execute(
                "select h.id::text, h.conversation_id::text, h.occurred_at,"
                " ts_headline('public.pt_unaccent', translate(h.body, %s, %s),"
                " websearch_to_tsquery('public.pt_unaccent', %s), %s) as headline"
                " from public.search_messages(%s, %s, %s, %s::uuid) h order by h.occurred_at desc, h.id desc",
                [HEADLINE_FROM, HEADLINE_TO, text, _HEADLINE, text, limit + 1, *(before or (None, None))],
            ).fetchall()
            ids = sorted({h["conversation_id"] for h in hits})
            rows = conn.execute(f"{_SUMMARY} where c.id = any(%s::uuid[])", (ids,)).fetchall() if ids else []
        conversations = {r["id"]: _summary(r, now) for r in rows}
        return [
            SearchHit(
                conversation=conversations[h["conversation_id"]],
                message=MessageHit(id=h["id"], snippet=snippet_html(h["headline"]), occurred_at=h["occurred_at"]),
            )
            for h in hits
            if h["conversation_id"] in conversations
        ]


def conversations_sql(query: InboxQuery) -> tuple[str, list[Any]]:
    """An inbox page's statement and arguments: the page's ids first (filters, order and limit on the
    conversations' own index), then the last message, analysis and unread count of those rows only."""
    where, args = _filters(query)
    sql = (
        "with page as materialized (select c.id from public.conversations c"
        " left join public.leads l on l.tenant_id = c.tenant_id and l.contact_id = c.contact_id"
        " left join public.conversation_reads r on r.conversation_id = c.id and r.user_id = (select auth.uid())"
        f" where {' and '.join(where)} order by {_ACTIVITY} desc, c.id desc limit %s)"
        f"{_SUMMARY} where c.id in (select id from page) order by {_ACTIVITY} desc, c.id desc"
    )
    return sql, [*args, query.limit + 1]


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filters(query: InboxQuery) -> tuple[list[str], list[Any]]:
    where: list[str] = ["true"]
    args: list[Any] = []
    simple = {"c.status": query.status, "c.priority": query.priority, "c.instance_id": query.instance_id,
              "l.status": query.lead_stage, "c.state": query.state, "c.team_id": query.team_id}  # fmt: skip
    for column, value in simple.items():
        if value is not None:
            where.append(f"{column} = %s")
            args.append(value)
    if query.assigned_to == "none":
        where.append("c.assigned_to is null")
    elif query.assigned_to == "me":
        where.append("c.assigned_to = (select auth.uid())")
    elif query.assigned_to is not None:
        where.append("c.assigned_to = %s")
        args.append(query.assigned_to)
    if query.sla == "breached":
        where.append("c.sla_due_at < %s")
        args.append(query.now)
    elif query.sla == "due_soon":
        where.append("c.sla_due_at >= %s and c.sla_due_at < %s")
        args.extend((query.now, query.now + DUE_SOON))
    if query.unread:
        # the newest inbound message's time, kept on the conversation: no look into the messages
        where.append("c.last_inbound_at > coalesce(r.read_at, '-infinity')")
    if query.updated_since is not None:
        where.append(f"{_ACTIVITY} >= %s")
        args.append(query.updated_since)
    if query.after is not None:
        where.append(f"({_ACTIVITY}, c.id) < (%s, %s::uuid)")
        args.extend(query.after)
    return where, args


def _analysis(row: dict[str, Any]) -> AnalysisBrief | None:
    if row["sentiment"] is None:
        return None
    return AnalysisBrief(
        sentiment=row["sentiment"], intent=row["intent"], urgency=row["urgency"], priority=row["a_priority"]
    )


def _summary(row: dict[str, Any], now: datetime) -> ConversationSummary:
    last = None
    if row["lm_id"] is not None:
        last = LastMessage(
            id=row["lm_id"],
            direction=row["lm_direction"],
            kind=row["lm_kind"],
            preview=preview_of(row["lm_body"], row["lm_caption"]),
            occurred_at=row["lm_at"],
        )
    lead = None
    if row["lead_id"] is not None:
        lead = LeadBrief(id=row["lead_id"], stage=row["lead_stage"], score=row["lead_score"])
    due = row["sla_due_at"]
    return ConversationSummary(
        id=row["id"],
        instance_id=row["instance_id"],
        status=row["status"],
        contact=_contact(row),
        last_message=last,
        last_activity_at=row["activity"],
        unread_count=row["unread"],
        lead=lead,
        analysis=_analysis(row),
        priority=row["priority"],
        sla_due_at=due,
        sla_breached=due is not None and due < now,
        state=row["state"],
        team_id=row["team_id"],
        assigned_to=row["assigned_to"],
        protocol=row["protocol"],
        snoozed_until=row["snoozed_until"],
    )


def _message(row: dict[str, Any]) -> MessageView:
    return MessageView(
        id=row["id"],
        conversation_id=row["conversation_id"],
        direction=row["direction"],
        kind=row["kind"],
        body=row["body"],
        status=row["status"],
        occurred_at=row["occurred_at"],
        media=scalar_map(row["media"]),
        quoted_message_id=row["quoted_message_id"],
        analysis=_analysis(row),
        send=SendState(status=row["send_status"], error_code=row["send_error"], origin=row["send_origin"])
        if row["send_status"]
        else None,
    )


def _customer(row: dict[str, Any]) -> CustomerCard:
    return CustomerCard(
        id=row["id"],
        external_id=row["external_id"],
        name=row["name"],
        photo_url=row["photo_url"],
        sales_summary=scalar_map(row["sales_summary"]) or {},
    )


def _contact(row: dict[str, Any]) -> InboxContact:
    return InboxContact(
        id=row["contact_id"], display_name=row["display_name"], phone=row["phone_e164"], picture_url=row["picture_url"]
    )


def _lead(row: dict[str, Any]) -> LeadSummary:
    return LeadSummary(
        id=row["id"],
        stage=row["stage"],
        score=row["score"],
        priority=row["priority"],
        source=row["source"],
        returning_customer=row["returning_customer"],
        contact=_contact(row),
        conversation_id=row["conversation_id"],
        created_at=row["created_at"],
    )
