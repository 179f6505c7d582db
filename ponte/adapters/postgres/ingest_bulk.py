"""Set-based ingest: the events of one tenant's queue batch written with one multi-row statement
per table -- contacts, aliases, conversations, messages, parked changes, leads, acks -- instead of
about eight statements per event.

The common case goes through here: a known contact (one, with its phone) or a new one, a message
seen once in the batch, one ack per message. What is rare and order-sensitive keeps the per-event
path (``PgIngestStore``'s own methods, on the same transaction, in the batch's order): contacts a
payload proves to be one person (merges, @lid links), a message delivered twice in one batch,
several acks for one message, edits and revokes, address-book syncs. The results are the same as
storing the events one by one in their order (the ingest tests run through this path).

Rows are written in key order, so that two batches writing the same keys at once take their row
locks in the same order (no deadlock between them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import psycopg

from ponte.adapters.postgres.contacts import ResolvedContact
from ponte.adapters.postgres.ingest_status import ACK_ADVANCES, STATUS_ORDER, best_parked_status, set_parked_status
from ponte.adapters.postgres.outbox_echo import confirm_by_echo
from ponte.domain.envelope import IngestEnvelope
from ponte.domain.events import AckStatus, ContactsEvent, Direction, MessageEvent, MessageKind, StatusEvent
from ponte.domain.leads import lead_origin, phone_variants
from ponte.ports.store import SavedMessage

# (instance, chat key, provider message id, direction): the messages table's dedupe key
_MessageKey = tuple[str, str, str, str]
PerEvent = Callable[[IngestEnvelope], SavedMessage]


@dataclass
class _Person:
    """The message events of one chat identity in the batch."""

    key: str
    phone: str | None
    aliases: set[str] = field(default_factory=set)
    name: str | None = None  # the last inbound push name: what storing one by one leaves
    contact: ResolvedContact | None = None
    found: set[str] = field(default_factory=set)  # ids of the stored contacts its aliases name


@dataclass
class _Row:
    index: int
    instance_id: str
    event: MessageEvent
    person: _Person
    conversation_id: str = ""
    conversation_created: bool = False

    @property
    def key(self) -> _MessageKey:
        assert self.person.contact is not None
        return (self.instance_id, self.person.contact.key, self.event.provider_message_id, self.event.direction.value)


class BulkIngest:
    """One batch of one tenant on one open transaction. ``per_event`` stores an envelope the way a
    lone delivery is stored (the fallback for what is rare); it must use the same transaction."""

    def __init__(self, conn: psycopg.Connection[Any], tenant_id: str, per_event: PerEvent) -> None:
        self._conn = conn
        self._tenant = tenant_id
        self._per_event = per_event
        self._ids: dict[_MessageKey, str] = {}  # the messages this batch wrote set-based, by key

    def run(self, envelopes: Sequence[IngestEnvelope]) -> list[SavedMessage]:
        results: list[SavedMessage | None] = [None] * len(envelopes)
        plain = [
            (i, e, e.event)
            for i, e in enumerate(envelopes)
            if isinstance(e.event, MessageEvent) and e.event.kind not in (MessageKind.EDITED, MessageKind.REVOKED)
        ]
        if _syncs_touch(envelopes, plain):  # an address-book sync among these people: order matters
            return [self._per_event(envelope) for envelope in envelopes]
        rows, complex_rows = self._resolve_people(plain)
        rows, duplicates = _first_of_each_key(rows)
        plan = _Plan.of(envelopes, rows, {*complex_rows, *(row.index for row in duplicates)})
        for i in plan.before:
            results[i] = self._per_event(envelopes[i])
        held = _leads_held(rows, duplicates)
        held_rows: list[_Row] = []
        if rows:
            for row, saved in zip(rows, self._store_messages(rows, held, held_rows), strict=True):
                results[row.index] = saved
        for i in plan.after:
            results[i] = self._per_event(envelopes[i])
        # leads whose contact wrote first through the per-event path: that message creates it, if new
        for key, lead_id in self._create_leads(held_rows, self._ids).items():
            row = next(r for r in held_rows if r.key == key)
            results[row.index] = dataclasses.replace(results[row.index] or SavedMessage(stored=True), lead_id=lead_id)
        # a redelivery stored one by one renamed its contact: the batch's last name is the one that stays
        self._rename_contacts(list({id(row.person): row.person for row in duplicates}.values()))
        self._store_statuses([(i, envelopes[i]) for i in plan.statuses], results)
        return _opened_by_first([saved if saved is not None else SavedMessage(stored=False) for saved in results])

    # -- contacts ------------------------------------------------------------------------------

    def _resolve_people(self, plain: list[tuple[int, IngestEnvelope, MessageEvent]]) -> tuple[list[_Row], list[int]]:
        """Every plain message's contact, found by any alias or created, with its aliases recorded.
        Indexes of the messages whose people need the per-event path (merges, @lid links, an alias
        shared with another identity of the batch) come back apart."""
        people: dict[str, _Person] = {}
        rows: list[_Row] = []
        for i, envelope, event in plain:
            person = people.get(event.chat.key)
            if person is None:
                person = people[event.chat.key] = _Person(key=event.chat.key, phone=event.chat.phone_e164)
            person.aliases |= {event.chat.key, *event.chat.aliases}
            if event.direction is Direction.INBOUND and event.push_name:
                person.name = event.push_name
            rows.append(_Row(i, envelope.instance_id, event, person))
        if not rows:
            return [], []
        stored = self._conn.execute(
            "select a.alias, c.id::text as id, c.identity_key as key, c.phone_e164 as phone"
            " from public.contact_aliases a join public.contacts c on c.id = a.contact_id"
            " where a.tenant_id = %s and c.tenant_id = %s and a.alias = any(%s)"
            " order by c.id for update of c",
            (self._tenant, self._tenant, sorted(set().union(*(p.aliases for p in people.values())))),
        ).fetchall()
        contacts = {r["id"]: r for r in stored}
        by_alias = {r["alias"]: r["id"] for r in stored}
        alias_people: dict[str, int] = {}
        contact_people: dict[str, int] = {}
        for person in people.values():
            person.found = {by_alias[a] for a in person.aliases if a in by_alias}
            for alias in person.aliases:
                alias_people[alias] = alias_people.get(alias, 0) + 1
            for contact_id in person.found:
                contact_people[contact_id] = contact_people.get(contact_id, 0) + 1
        complex_keys = set()
        for person in people.values():
            shared = any(alias_people[a] > 1 for a in person.aliases) or any(
                contact_people[c] > 1 for c in person.found
            )
            if shared or len(person.found) > 1:
                complex_keys.add(person.key)
            elif person.found:
                (contact_id,) = person.found
                row = contacts[contact_id]
                if row["phone"] is None and person.phone:  # an @lid contact learns its phone
                    complex_keys.add(person.key)
                else:
                    person.contact = ResolvedContact(contact_id, row["key"])
        simple = [p for p in people.values() if p.key not in complex_keys]
        self._create_contacts([p for p in simple if p.contact is None])
        self._rename_contacts([p for p in simple if p.found])
        pairs = sorted((alias, p.contact.id) for p in simple if p.contact for alias in p.aliases)
        if pairs:
            self._conn.execute(
                "insert into public.contact_aliases (tenant_id, alias, contact_id)"
                " select %s, a, c from unnest(%s::text[], %s::uuid[]) as v(a, c) on conflict do nothing",
                (self._tenant, [a for a, _ in pairs], [c for _, c in pairs]),
            )
        ready = [row for row in rows if row.person.key not in complex_keys]
        return ready, [row.index for row in rows if row.person.key in complex_keys]

    def _create_contacts(self, people: list[_Person]) -> None:
        if not people:
            return
        people.sort(key=lambda p: p.key)
        created = self._conn.execute(
            "insert into public.contacts (tenant_id, identity_key, phone_e164, display_name)"
            " select %s, k, p, n from unnest(%s::text[], %s::text[], %s::text[]) as v(k, p, n) order by k"
            " on conflict (tenant_id, identity_key) do update"
            " set display_name = coalesce(excluded.display_name, public.contacts.display_name), updated_at = now()"
            " returning id::text as id, identity_key as key",
            (self._tenant, [p.key for p in people], [p.phone for p in people], [p.name for p in people]),
        ).fetchall()
        ids = {r["key"]: r["id"] for r in created}
        for person in people:
            person.contact = ResolvedContact(ids[person.key], person.key)

    def _rename_contacts(self, people: list[_Person]) -> None:
        named = sorted((p.contact.id, p.name) for p in people if p.contact and p.name)
        if named:
            self._conn.execute(
                "update public.contacts c set display_name = v.n, updated_at = now()"
                " from unnest(%s::uuid[], %s::text[]) as v(id, n)"
                " where c.id = v.id and c.display_name is distinct from v.n",
                ([i for i, _ in named], [n for _, n in named]),
            )

    # -- conversations and messages ----------------------------------------------------------

    def _store_messages(self, rows: list[_Row], held: set[str], held_rows: list[_Row]) -> list[SavedMessage]:
        """Conversations and messages, then what new messages bring (parked changes, leads, SLA,
        echoes). Leads of the ``held`` contacts wait: their new inbound rows go to ``held_rows``."""
        self._upsert_conversations(rows)
        rows_by_key = sorted(rows, key=lambda r: r.key)
        written = self._conn.execute(
            "insert into public.messages (tenant_id, instance_id, conversation_id, contact_id, chat_key,"
            " provider_message_id, direction, kind, body, media, quoted_message_id, occurred_at,"
            " target_message_id, status, status_at)"
            " select %s, i, cv, ct, k, p, d, kd, b, md::jsonb, q, t, tg, s, st from unnest("
            "  %s::uuid[], %s::uuid[], %s::uuid[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],"
            "  %s::text[], %s::text[], %s::timestamptz[], %s::text[], %s::text[], %s::timestamptz[])"
            "  as v(i, cv, ct, k, p, d, kd, b, md, q, t, tg, s, st)"
            " on conflict (tenant_id, instance_id, chat_key, provider_message_id, direction) do update"
            f" set status = excluded.status, status_at = excluded.status_at where {ACK_ADVANCES}"
            " returning id::text as id, instance_id::text as instance_id, chat_key, provider_message_id,"
            " direction, (xmax = 0) as inserted",
            (self._tenant, *_message_columns(rows_by_key)),
        ).fetchall()
        outcome = {(r["instance_id"], r["chat_key"], r["provider_message_id"], r["direction"]): r for r in written}
        new = [row for row in rows if row.key in outcome and outcome[row.key]["inserted"]]
        ids = {row.key: str(outcome[row.key]["id"]) for row in new}
        self._apply_parked_changes(new, ids)
        self._ids = ids
        inbound = [row for row in new if row.event.direction is Direction.INBOUND]
        waiting = [row for row in inbound if row.person.contact and row.person.contact.id in held]
        held_rows.extend(waiting)
        leads = self._create_leads([row for row in inbound if all(row is not w for w in waiting)], ids)
        self._after_outbound([row for row in new if row.event.direction is Direction.OUTBOUND], ids)
        unanalysed = self._unanalysed(
            [row for row in rows if row.key not in outcome and row.event.direction is Direction.INBOUND]
        )
        results: list[SavedMessage] = []
        for row in rows:
            message_id: str | None
            if row.key in ids:
                inbound_text = row.event.direction is Direction.INBOUND and is_text(row.event)
                message_id, lead_id, stored, needs_analysis = ids[row.key], leads.get(row.key), True, inbound_text
            elif row.key in outcome:  # known: only its ack moved on
                message_id, lead_id, stored, needs_analysis = str(outcome[row.key]["id"]), None, False, False
            else:
                message_id, lead_id, stored = unanalysed.get(row.key), None, False
                needs_analysis = message_id is not None
            results.append(
                SavedMessage(
                    stored=stored,
                    message_id=message_id,
                    lead_id=lead_id,
                    needs_analysis=needs_analysis,
                    conversation_id=row.conversation_id,
                    conversation_created=row.conversation_created,
                    **(_about(row.event) if stored else {}),
                )
            )
        return results

    def _upsert_conversations(self, rows: list[_Row]) -> None:
        """One row per (instance, chat): its newest message time, and its newest inbound one (the
        inbox's unread filter; greatest() skips the null of a batch with no inbound message)."""
        latest: dict[tuple[str, str], tuple[str, datetime, datetime | None]] = {}
        for row in rows:
            assert row.person.contact is not None
            key = (row.instance_id, row.person.contact.key)
            at = row.event.occurred_at
            inbound_at = at if row.event.direction is Direction.INBOUND else None
            seen = latest.get(key)
            if seen is not None:
                at = max(at, seen[1])
                inbound_at = max(filter(None, (inbound_at, seen[2])), default=None)
            latest[key] = (row.person.contact.id, at, inbound_at)
        keys = sorted(latest)
        upserted = self._conn.execute(
            "insert into public.conversations"
            " (tenant_id, instance_id, contact_id, chat_key, last_message_at, last_inbound_at)"
            " select %s, i, c, k, t, ti from unnest(%s::uuid[], %s::uuid[], %s::text[], %s::timestamptz[],"
            "  %s::timestamptz[]) as v(i, c, k, t, ti) order by i, k"
            " on conflict (tenant_id, instance_id, chat_key) do update"
            " set last_message_at = greatest(public.conversations.last_message_at, excluded.last_message_at),"
            " last_inbound_at = greatest(public.conversations.last_inbound_at, excluded.last_inbound_at)"
            " returning id::text as id, instance_id::text as instance_id, chat_key, (xmax = 0) as created",
            (
                self._tenant,
                [i for i, _ in keys],
                [latest[k][0] for k in keys],
                [k for _, k in keys],
                [latest[k][1] for k in keys],
                [latest[k][2] for k in keys],
            ),
        ).fetchall()
        conversations = {(r["instance_id"], r["chat_key"]): r for r in upserted}
        opened: set[str] = set()
        for row in rows:  # in the batch's order: the first message of a new conversation opened it
            assert row.person.contact is not None
            conversation = conversations[(row.instance_id, row.person.contact.key)]
            row.conversation_id = conversation["id"]
            row.conversation_created = conversation["created"] and conversation["id"] not in opened
            opened.add(conversation["id"])

    def _apply_parked_changes(self, new: list[_Row], ids: dict[_MessageKey, str]) -> None:
        """Acks, revokes and edits that arrived before these messages (two statements for all)."""
        if not new:
            return
        by_id = {(row.instance_id, row.event.provider_message_id, row.event.direction.value): row for row in new}
        keys = sorted(by_id)
        parked = self._conn.execute(
            "delete from private.pending_message_status p using unnest(%s::uuid[], %s::text[], %s::text[])"
            "  as v(i, p, d)"
            " where p.tenant_id = %s and p.instance_id = v.i and p.provider_message_id = v.p"
            " and (p.direction is null or p.direction = v.d)"
            " returning v.i::text as instance_id, v.p as provider_message_id, v.d as direction,"
            " p.status, p.status_at, p.error_code",
            ([k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys], self._tenant),
        ).fetchall()
        waiting: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for r in parked:
            waiting.setdefault((r["instance_id"], r["provider_message_id"], r["direction"]), []).append(r)
        for key, statuses in waiting.items():
            row = by_id[key]
            best = best_parked_status(statuses, row.event.status.value if row.event.status else None)
            if best is not None:
                set_parked_status(self._conn, ids[row.key], best)
        edits = self._conn.execute(
            "delete from private.pending_message_edits p using unnest(%s::uuid[], %s::text[]) as v(i, p)"
            " where p.tenant_id = %s and p.instance_id = v.i and p.provider_message_id = v.p"
            " returning v.i::text as instance_id, v.p as provider_message_id, p.body, p.edited_at",
            (
                [row.instance_id for row in new],
                [row.event.provider_message_id for row in new],
                self._tenant,
            ),
        ).fetchall()
        for edit in edits:
            target = (edit["instance_id"], edit["provider_message_id"])
            for row in new:
                if (row.instance_id, row.event.provider_message_id) == target:
                    self._conn.execute(
                        "update public.messages set body = %s, edited_at = %s where id = %s",
                        (edit["body"], edit["edited_at"], ids[row.key]),
                    )

    def _create_leads(self, inbound: list[_Row], ids: dict[_MessageKey, str]) -> dict[_MessageKey, str]:
        """A lead for each contact whose first inbound message this is (its first in the batch
        creates it), matched to the ERP customer by phone in any form."""
        first: dict[str, _Row] = {}
        for row in inbound:
            assert row.person.contact is not None
            first.setdefault(row.person.contact.id, row)
        if not first:
            return {}
        have = self._conn.execute(
            "select contact_id::text as id from public.leads where tenant_id = %s and contact_id = any(%s::uuid[])",
            (self._tenant, sorted(first)),
        ).fetchall()
        for r in have:
            first.pop(r["id"], None)
        if not first:
            return {}
        contact_ids = sorted(first)
        customers = self._match_customers({c: first[c].event.chat.phone_e164 for c in contact_ids})
        origins = [lead_origin(first[c].event) for c in contact_ids]
        created = self._conn.execute(
            "insert into public.leads (tenant_id, contact_id, customer_id, returning_customer, source, source_id,"
            " source_url, first_message_id, conversation_id)"
            " select %s, c, cu, cu is not null, s, si, su, m, cv"
            " from unnest(%s::uuid[], %s::uuid[], %s::text[], %s::text[], %s::text[], %s::uuid[], %s::uuid[])"
            "  as v(c, cu, s, si, su, m, cv) order by c"
            " on conflict (tenant_id, contact_id) do nothing returning id::text as id, contact_id::text as contact_id",
            (
                self._tenant,
                contact_ids,
                [customers.get(c) for c in contact_ids],
                [o.source.value for o in origins],
                [o.source_id for o in origins],
                [o.source_url for o in origins],
                [ids[first[c].key] for c in contact_ids],
                [first[c].conversation_id for c in contact_ids],
            ),
        ).fetchall()
        return {first[r["contact_id"]].key: r["id"] for r in created}

    def _match_customers(self, phones: dict[str, str | None]) -> dict[str, str]:
        """The ERP customer of each contact (``match_customer``'s rules, one statement for all)."""
        contact_col: list[str] = []
        variant_col: list[str] = []
        exact_col: list[str] = []
        for contact_id, phone in phones.items():
            for variant in phone_variants(phone) if phone else ():
                contact_col.append(contact_id)
                variant_col.append(variant)
                exact_col.append(phone or "")
        if not contact_col:
            return {}
        found = self._conn.execute(
            "select distinct on (v.c) v.c::text as contact_id, cu.id::text as id"
            " from unnest(%s::uuid[], %s::text[], %s::text[]) as v(c, variant, exact)"
            " join public.customers cu on cu.tenant_id = %s and (cu.phone_e164 = v.variant"
            "  or regexp_replace(coalesce(cu.phone_raw, ''), '[^0-9]', '', 'g') = v.variant)"
            " order by v.c, (cu.phone_e164 = v.exact) desc, cu.updated_at desc",
            (contact_col, variant_col, exact_col, self._tenant),
        ).fetchall()
        return {r["contact_id"]: r["id"] for r in found}

    def _after_outbound(self, outbound: list[_Row], ids: dict[_MessageKey, str]) -> None:
        """An agent's answer meets the pending SLA; the echo of a send whose answer was lost
        confirms that send."""
        if not outbound:
            return
        self._conn.execute(
            "update public.conversations set sla_due_at = null where id = any(%s::uuid[]) and sla_due_at is not null",
            (sorted({row.conversation_id for row in outbound}),),
        )
        for row in outbound:
            assert row.person.contact is not None
            confirm_by_echo(
                self._conn,
                self._tenant,
                row.instance_id,
                row.person.contact.key,
                message_id=ids[row.key],
                event=row.event,
            )

    def _unanalysed(self, known: list[_Row]) -> dict[_MessageKey, str]:
        """Stored inbound texts without an analysis yet: a redelivery after the analyze job could not
        be enqueued enqueues it again (the analyze handler is idempotent)."""
        texts = [row for row in known if is_text(row.event)]
        if not texts:
            return {}
        found = self._conn.execute(
            "select m.id::text as id, m.instance_id::text as instance_id, m.chat_key, m.provider_message_id"
            " from unnest(%s::uuid[], %s::text[], %s::text[]) as v(i, k, p)"
            " join public.messages m on m.tenant_id = %s and m.instance_id = v.i and m.chat_key = v.k"
            "  and m.provider_message_id = v.p and m.direction = 'in'"
            " where not exists (select 1 from public.message_analyses a where a.message_id = m.id)",
            (
                [row.key[0] for row in texts],
                [row.key[1] for row in texts],
                [row.key[2] for row in texts],
                self._tenant,
            ),
        ).fetchall()
        return {(r["instance_id"], r["chat_key"], r["provider_message_id"], "in"): r["id"] for r in found}

    # -- acks ----------------------------------------------------------------------------------

    def _store_statuses(self, statuses: list[tuple[int, IngestEnvelope]], results: list[SavedMessage | None]) -> None:
        """Acks move a message forward (a delete or an error always applies); one that overtook its
        message is parked. ``statuses``: one per message, each its message's last change here."""
        single = [(i, envelope, envelope.event) for i, envelope in statuses if isinstance(envelope.event, StatusEvent)]
        if not single:
            return
        advanced = self._advance(single)
        rest = [s for s in single if s[0] not in advanced]
        known = self._known([(envelope.instance_id, event.provider_message_id) for _, envelope, event in rest])
        unknown = [s for s in rest if (s[1].instance_id, s[2].provider_message_id) not in known]
        # known now: it may have been committed (by the proxy's send) since the update looked
        again = self._advance([s for s in rest if (s[1].instance_id, s[2].provider_message_id) in known])
        if unknown:
            self._conn.execute(
                "insert into private.pending_message_status"
                " (tenant_id, instance_id, provider_message_id, direction, status, status_at, error_code)"
                " select %s, i, p, d, s, t, e from unnest(%s::uuid[], %s::text[], %s::text[], %s::text[],"
                "  %s::timestamptz[], %s::text[]) as v(i, p, d, s, t, e) order by i, p on conflict do nothing",
                (
                    self._tenant,
                    [envelope.instance_id for _, envelope, _ in unknown],
                    [event.provider_message_id for _, _, event in unknown],
                    [_direction(event) for _, _, event in unknown],
                    [event.status.value for _, _, event in unknown],
                    [event.occurred_at for _, _, event in unknown],
                    [event.error_code for _, _, event in unknown],
                ),
            )
        for i, _, _ in single:
            results[i] = SavedMessage(stored=i in advanced or i in again)

    def _advance(self, statuses: list[tuple[int, IngestEnvelope, StatusEvent]]) -> set[int]:
        if not statuses:
            return set()
        statuses = sorted(statuses, key=lambda s: (s[1].instance_id, s[2].provider_message_id))
        # the per-event update's rules (``PgIngestStore._advance_status``): forward only; a failure
        # is final and only a deletion follows it; nothing follows a deletion
        moved = self._conn.execute(
            "update public.messages m set status = v.s, status_at = coalesce(v.t, now()), status_error = v.e"
            " from unnest(%s::int[], %s::uuid[], %s::text[], %s::text[], %s::text[], %s::timestamptz[],"
            "  %s::text[]) as v(n, i, p, d, s, t, e)"
            " where m.tenant_id = %s and m.instance_id = v.i and m.provider_message_id = v.p"
            " and (v.d is null or m.direction = v.d) and m.status is distinct from 'deleted'"
            " and (v.s = 'deleted' or m.status is distinct from 'error')"
            " and (v.s in ('deleted', 'error')"
            "  or coalesce(array_position(%s::text[], m.status), 0) < array_position(%s::text[], v.s))"
            " returning v.n",
            (
                [i for i, _, _ in statuses],
                [envelope.instance_id for _, envelope, _ in statuses],
                [event.provider_message_id for _, _, event in statuses],
                [_direction(event) for _, _, event in statuses],
                [event.status.value for _, _, event in statuses],
                [event.occurred_at for _, _, event in statuses],
                [event.error_code if event.status is AckStatus.ERROR else None for _, _, event in statuses],
                self._tenant,
                STATUS_ORDER,
                STATUS_ORDER,
            ),
        ).fetchall()
        return {r["n"] for r in moved}

    def _known(self, targets: list[tuple[str, str]]) -> set[tuple[str, str]]:
        if not targets:
            return set()
        found = self._conn.execute(
            "select distinct v.i::text as instance_id, v.p as provider_message_id"
            " from unnest(%s::uuid[], %s::text[]) as v(i, p)"
            " join public.messages m on m.tenant_id = %s and m.instance_id = v.i and m.provider_message_id = v.p",
            ([t[0] for t in targets], [t[1] for t in targets], self._tenant),
        ).fetchall()
        return {(r["instance_id"], r["provider_message_id"]) for r in found}


def _about(event: MessageEvent) -> dict[str, Any]:
    """What a newly stored message's follow-up jobs need to know of it."""
    return {
        "inbound": event.direction is Direction.INBOUND,
        "kind": event.kind.value,
        "occurred_at": event.occurred_at,
    }


def is_text(event: MessageEvent) -> bool:
    return event.kind is MessageKind.TEXT and bool(event.text and event.text.strip())


def _direction(event: StatusEvent) -> str | None:
    return None if event.from_me is None else ("out" if event.from_me else "in")


def _first_of_each_key(rows: list[_Row]) -> tuple[list[_Row], list[_Row]]:
    """A message delivered twice in one batch: the first is written with the others, the next ones
    one by one after it (an echo at a later ack moves it forward, as a redelivery would). One
    provider id in two chats (an @lid and a phone not linked yet) is stored one by one: an ack
    names the id only, and which of them it finds depends on where it stands between them."""
    seen: set[_MessageKey] = set()
    chats: dict[tuple[str, str], set[_MessageKey]] = {}
    for row in rows:
        chats.setdefault((row.instance_id, row.event.provider_message_id), set()).add(row.key)
    first: list[_Row] = []
    again: list[_Row] = []
    for row in rows:
        alone = row.key not in seen and len(chats[(row.instance_id, row.event.provider_message_id)]) == 1
        (first if alone else again).append(row)
        seen.add(row.key)
    return first, again


def _message_columns(rows: list[_Row]) -> tuple[list[Any], ...]:
    columns: tuple[list[Any], ...] = tuple([] for _ in range(14))
    for row in rows:
        event = row.event
        assert row.person.contact is not None
        media = event.media.model_dump(mode="json", exclude_none=True) if event.media else None
        values = (
            row.instance_id,
            row.conversation_id,
            row.person.contact.id,
            row.person.contact.key,
            event.provider_message_id,
            event.direction.value,
            event.kind.value,
            event.text,
            orjson.dumps(media).decode() if media is not None else None,
            event.quoted_message_id,
            event.occurred_at,
            event.target_message_id,
            event.status.value if event.status else None,
            event.occurred_at if event.status else None,
        )
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    return columns


def _leads_held(rows: list[_Row], one_by_one: list[_Row]) -> set[str]:
    """Contacts with an inbound message stored one by one before their first set-based inbound one:
    where that message is new, it creates the lead, as it would in the batch's order."""
    first: dict[str, int] = {}
    for row in rows:
        if row.event.direction is Direction.INBOUND and row.person.contact is not None:
            first.setdefault(row.person.contact.id, row.index)
    return {
        row.person.contact.id
        for row in one_by_one
        if row.event.direction is Direction.INBOUND
        and row.person.contact is not None
        and row.index < first.get(row.person.contact.id, -1)
    }


def _opened_by_first(results: list[SavedMessage]) -> list[SavedMessage]:
    """A conversation this batch opened was opened by its first message in the batch's order,
    whichever path stored that message first."""
    opened = {r.conversation_id for r in results if r.conversation_created}
    first: dict[str, int] = {}
    for i, r in enumerate(results):
        if r.conversation_id is not None and r.conversation_id in opened:
            first.setdefault(r.conversation_id, i)
    return [
        dataclasses.replace(r, conversation_created=first.get(r.conversation_id or "") == i)
        if r.conversation_created or r.conversation_id in opened
        else r
        for i, r in enumerate(results)
    ]


def _target(event: object) -> str | None:
    """The provider message id an event writes to or changes."""
    if isinstance(event, StatusEvent):
        return event.provider_message_id
    if isinstance(event, MessageEvent):
        if event.kind in (MessageKind.EDITED, MessageKind.REVOKED):
            return event.target_message_id
        return event.provider_message_id
    return None


@dataclass(frozen=True)
class _Plan:
    """In which order the events that are not written set-based are stored, so that every message
    sees its changes in the batch's order:
      * ``before`` the set-based messages: acks, edits and revokes that came before their message
        (stored one by one they park, and the message takes them when it is written);
      * ``after`` them, one by one in the batch's order: everything else that is not set-based;
      * ``statuses``: set-based acks, the only change of their message in the batch after it."""

    before: list[int]
    after: list[int]
    statuses: list[int]

    @classmethod
    def of(cls, envelopes: Sequence[IngestEnvelope], rows: list[_Row], one_by_one: set[int]) -> _Plan:
        written = {row.index for row in rows}
        first: dict[tuple[str, str], int] = {}
        for row in rows:
            first.setdefault((row.instance_id, row.event.provider_message_id), row.index)
        changes: dict[tuple[str, str], int] = {}
        for i, envelope in enumerate(envelopes):
            target = _target(envelope.event)
            if i not in written and target is not None:
                key = (envelope.instance_id, target)
                changes[key] = changes.get(key, 0) + 1
        before: list[int] = []
        after: list[int] = []
        statuses: list[int] = []
        for i, envelope in enumerate(envelopes):
            if i in written:
                continue
            target = _target(envelope.event)
            key = (envelope.instance_id, target or "")
            early = target is not None and key in first and i < first[key] and i not in one_by_one
            if early:
                before.append(i)
            elif isinstance(envelope.event, StatusEvent) and changes[key] == 1:
                statuses.append(i)
            else:
                after.append(i)
        return cls(before, after, statuses)


def _syncs_touch(envelopes: Sequence[IngestEnvelope], plain: list[tuple[int, IngestEnvelope, MessageEvent]]) -> bool:
    """Whether an address-book sync shares the batch with messages: a sync links and renames known
    contacts -- by any alias they have, stored or not -- so where it stands among their messages
    matters. Syncs come as webhooks of their own; such a batch is stored one event at a time."""
    return bool(plain) and any(isinstance(envelope.event, ContactsEvent) for envelope in envelopes)
