"""WhatsApp Cloud API webhooks -> canonical events: a change-field mapper, then a dispatch table.

Envelope: ``{object: "whatsapp_business_account", entry: [{id: <WABA id>, changes: [{field,
value}]}]}``. One body may carry several entries and changes, for several business phone
numbers of the same Meta app: every event names its number (``metadata.phone_number_id``) as
its ``instance``, and the intake routes it to the Ponte instance of that number.

``field = messages`` values carry ``contacts[]`` (profile names, ``wa_id``, the BSUID
``user_id``), ``messages[]`` (inbound, every type), ``statuses[]`` (sent / delivered / read /
played / failed of what the business sent; out of order) and ``errors[]``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ponte.domain.events import (
    AckStatus,
    CanonicalEvent,
    ChatKind,
    ContactsEvent,
    ContactUpdate,
    Direction,
    Identity,
    MessageEvent,
    Provider,
    StatusEvent,
    build,
    template,
    trusted,
)
from ponte.domain.exceptions import AnomalousPayloadError, UnsupportedEventError
from ponte.domain.identity import cloud_identity, is_bsuid
from ponte.domain.meta_errors import meta_error_code
from ponte.domain.outcomes import Normalized, Outcome
from ponte.domain.timestamps import utc_from_timestamp
from proxy.providers.cloud import content
from proxy.providers.common import Handler, obj, run_handler, text

PROVIDER = Provider.CLOUD
OBJECT = "whatsapp_business_account"
MAX_ITEMS = 5000  # entries x changes x items read from one body; the intake caps events too

# Webhook fields of a WhatsApp Business Account app subscription (Meta's webhooks reference).
KNOWN_FIELDS = (
    "messages",
    "account_alerts",
    "account_review_update",
    "account_update",
    "automatic_events",
    "business_capability_update",
    "business_status_update",
    "calls",
    "flows",
    "history",
    "message_echoes",
    "message_template_components_update",
    "message_template_quality_update",
    "message_template_status_update",
    "partner_solutions",
    "payment_configuration_update",
    "phone_number_name_update",
    "phone_number_quality_update",
    "security",
    "smb_app_state_sync",
    "smb_message_echoes",
    "template_category_update",
    "tracking_events",
    "user_id_update",
    "user_preferences",
)
_KNOWN = frozenset(KNOWN_FIELDS)

_STATUS = {
    "sent": AckStatus.SENT,
    "delivered": AckStatus.DELIVERED,
    "read": AckStatus.READ,
    "played": AckStatus.PLAYED,
    "failed": AckStatus.ERROR,
    "deleted": AckStatus.DELETED,
}


def normalize(payload: Any, *, instance: str) -> Normalized:
    """Every change of every entry; ``instance`` (the URL's) is not used: each change names its own."""
    if not isinstance(payload, dict):
        raise AnomalousPayloadError("not_an_object", "payload must be a JSON object")
    if payload.get("object") != OBJECT:
        raise AnomalousPayloadError("not_whatsapp", f"object must be {OBJECT!r}")
    changes = _changes(payload)
    events: list[CanonicalEvent] = []
    names: list[str] = []
    ignored: UnsupportedEventError | None = None
    for field, value in changes:
        if field not in _KNOWN:
            ignored = ignored or UnsupportedEventError(field[:80], code="unknown_event")
            continue
        name = _name(field, value)
        try:
            done = run_handler(name, EVENT_HANDLERS.get(field), value, "")
        except UnsupportedEventError as exc:
            ignored = ignored or exc
            continue
        events.extend(done.events)
        if name not in names:
            names.append(name)
    if not events:
        raise ignored or UnsupportedEventError("messages", code="no_content")
    return build(
        Normalized,
        {"outcome": Outcome.ACCEPTED, "events": tuple(events), "reason": None, "detail": None,
         "event_name": "+".join(names)},
    )  # fmt: skip


def _changes(payload: dict[str, Any]) -> list[tuple[str, Any]]:
    entries = payload.get("entry")
    if not isinstance(entries, list) or not entries:
        raise AnomalousPayloadError("missing_entry", "entry must be a non-empty array")
    found: list[tuple[str, Any]] = []
    for entry in entries:
        changes = obj(entry).get("changes")
        if not isinstance(changes, list):
            raise AnomalousPayloadError("missing_changes", "entry[].changes must be an array")
        for change in changes:
            field = obj(change).get("field")
            if not isinstance(field, str) or not field:
                raise AnomalousPayloadError("missing_field", "entry[].changes[].field is missing")
            found.append((field, obj(change).get("value")))
    if len(found) > MAX_ITEMS:
        raise AnomalousPayloadError("too_many_changes", f"a body may carry at most {MAX_ITEMS} changes")
    return found


def _name(field: str, value: Any) -> str:
    """``messages`` changes are named by what they carry (the diagnostics' ``event``)."""
    if field != "messages":
        return field
    value = obj(value)
    return next((part for part in ("messages", "statuses", "errors") if value.get(part)), field)


# --- the messages field ------------------------------------------------------------------------


def _messages(value: Any, _: str) -> list[CanonicalEvent]:
    value = obj(value) if isinstance(value, dict) else _bad_value()
    number = _phone_number_id(value)
    people = _people(value)
    events: list[CanonicalEvent] = []
    messages, statuses = value.get("messages"), value.get("statuses")
    for item in _items(messages, "messages"):
        events.extend(_message(item, number, people))
    for item in _items(statuses, "statuses"):
        event = _status(item, number, people)
        if event is not None:
            events.append(event)
    if not events and people and not messages and not statuses:
        events.append(_contacts_only(number, people))
    if not events:
        code = "webhook_errors" if value.get("errors") else "no_content"
        raise UnsupportedEventError("messages", code=code)
    return events


def _bad_value() -> dict[str, Any]:
    raise AnomalousPayloadError("bad_data", "changes[].value must be an object")


def _phone_number_id(value: dict[str, Any]) -> str:
    number = obj(value.get("metadata")).get("phone_number_id")
    if isinstance(number, int) and not isinstance(number, bool):
        number = str(number)
    if not isinstance(number, str) or not number.isascii() or not number.isdigit() or len(number) > 30:
        raise AnomalousPayloadError("missing_phone_number_id", "metadata.phone_number_id is missing or not digits")
    return number


def _items(value: Any, what: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise AnomalousPayloadError("bad_data", f"{what} must be an array of objects")
    return value


class _Person:
    __slots__ = ("name", "user_id", "wa_id")

    def __init__(self, wa_id: str | None, user_id: str | None, name: str | None) -> None:
        self.wa_id, self.user_id, self.name = wa_id, user_id, name


def _people(value: dict[str, Any]) -> dict[str, _Person]:
    """``contacts[]`` by ``wa_id`` and by ``user_id``: the profile name and the BSUID of who wrote."""
    people: dict[str, _Person] = {}
    for item in _items(value.get("contacts"), "contacts")[:100]:
        wa_id, user_id = text(item.get("wa_id")), text(item.get("user_id"))
        person = _Person(wa_id, user_id if is_bsuid(user_id) else None, text(obj(item.get("profile")).get("name")))
        for key in (wa_id, person.user_id):
            if key:
                people[key] = person
    return people


def _person(people: dict[str, _Person], wa_id: Any, user_id: Any) -> _Person | None:
    for key in (wa_id, user_id):
        if isinstance(key, str) and key in people:
            return people[key]
    return None


def _identity(number: str, people: dict[str, _Person], wa_id: Any, user_id: Any, field: str) -> Identity:
    person = _person(people, wa_id, user_id)
    found = cloud_identity(
        wa_id if wa_id is not None else (person.wa_id if person else None),
        user_id if is_bsuid(user_id) else (person.user_id if person else None),
        number,
    )
    if found is None:
        problem = "is missing" if wa_id is None and user_id is None else "is not a WhatsApp id"
        raise AnomalousPayloadError("invalid_jid" if wa_id is not None else "missing_jid", f"{field} {problem}")
    return found


def _time(value: Any) -> datetime:
    occurred = utc_from_timestamp(value)
    if occurred is None:
        raise AnomalousPayloadError("bad_timestamp", "timestamp missing or invalid")
    return occurred


def _message(message: dict[str, Any], number: str, people: dict[str, _Person]) -> list[CanonicalEvent]:
    message_id = text(message.get("id"))
    if message_id is None:
        raise AnomalousPayloadError("missing_key", "messages[].id is missing")
    kind = message.get("type")
    if not isinstance(kind, str) or not kind:
        raise AnomalousPayloadError("missing_type", "messages[].type is missing")
    if kind in content.NO_CONTENT_TYPES:
        return []
    sender = _identity(number, people, message.get("from"), message.get("from_user_id"), "messages[].from")
    fields = template(MessageEvent)
    content.READERS.get(kind, content.READERS["unsupported"])(fields, message)
    fields["provider"], fields["instance"], fields["provider_message_id"] = PROVIDER, number, message_id
    fields["direction"], fields["occurred_at"] = Direction.INBOUND, _time(message.get("timestamp"))
    person = _person(people, message.get("from"), message.get("from_user_id"))
    fields["push_name"] = person.name if person else None
    group = text(message.get("group_id"))
    if group is not None:  # Groups API: the chat is the group, the author its sender
        fields["chat"] = Identity(key=f"cloud-group:{group[:200]}", chat_kind=ChatKind.GROUP)
        fields["sender"] = sender
    else:
        fields["chat"] = sender
    context = obj(message.get("context"))
    fields["quoted_message_id"] = text(context.get("id"))
    fields["referral"] = content.referral(message)
    events: list[CanonicalEvent] = [build(MessageEvent, fields)]
    link = _identity_change(message, number, sender) if kind == "system" else None
    if link is not None:
        events.append(link)
    return events


def _identity_change(message: dict[str, Any], number: str, sender: Identity) -> ContactsEvent | None:
    """``user_changed_user_id``: the user's new BSUID becomes an alias of the same contact."""
    system = obj(message.get("system"))
    new_user_id = system.get("user_id") or system.get("new_user_id")
    if system.get("type") != "user_changed_user_id" or not is_bsuid(new_user_id) or sender.phone_e164 is None:
        return None
    identity = cloud_identity(sender.phone_e164.lstrip("+"), new_user_id, number)
    if identity is None:
        return None
    return trusted(
        ContactsEvent, provider=PROVIDER, instance=number, contacts=(trusted(ContactUpdate, identity=identity),)
    )


def _status(status: dict[str, Any], number: str, people: dict[str, _Person]) -> StatusEvent | None:
    message_id = text(status.get("id"))
    if message_id is None:
        raise AnomalousPayloadError("missing_key", "statuses[].id is missing")
    raw = status.get("status")
    if not isinstance(raw, str):
        raise AnomalousPayloadError("unknown_status", "statuses[].status is not a string")
    value = _STATUS.get(raw)
    if value is None:
        return None  # a status this reader does not know (e.g. "warning" on catalog items)
    chat = None
    if status.get("recipient_type") == "group":
        chat = Identity(key=f"cloud-group:{str(status.get('recipient_id'))[:200]}", chat_kind=ChatKind.GROUP)
    elif status.get("recipient_id") is not None or status.get("recipient_user_id") is not None:
        chat = _identity(
            number, people, status.get("recipient_id"), status.get("recipient_user_id"), "statuses[].recipient_id"
        )
    error = None
    if value is AckStatus.ERROR:
        errors = status.get("errors")
        first = obj(errors[0]) if isinstance(errors, list) and errors else {}
        error = meta_error_code(first.get("code"))
    return trusted(
        StatusEvent,
        provider=PROVIDER,
        instance=number,
        provider_message_id=message_id,
        chat=chat,
        from_me=True,  # statuses describe what the business sent
        status=value,
        occurred_at=utc_from_timestamp(status.get("timestamp")),
        error_code=error,
    )


def _contacts_only(number: str, people: dict[str, _Person]) -> ContactsEvent:
    updates = []
    seen: set[str] = set()
    for person in people.values():
        identity = cloud_identity(person.wa_id, person.user_id, number)
        if identity is None or identity.key in seen:
            continue
        seen.add(identity.key)
        updates.append(trusted(ContactUpdate, identity=identity, push_name=person.name))
    if not updates:
        raise AnomalousPayloadError("invalid_jid", "no contact with a usable wa_id or user_id")
    return trusted(ContactsEvent, provider=PROVIDER, instance=number, contacts=tuple(updates))


EVENT_HANDLERS: dict[str, Handler] = {"messages": _messages}
# Known fields without a handler are acknowledged and recorded as ignored.
IGNORED_EVENTS = _KNOWN - EVENT_HANDLERS.keys()
KNOWN_EVENTS = KNOWN_FIELDS
assert EVENT_HANDLERS.keys() <= _KNOWN, "every handled field is a known one"
