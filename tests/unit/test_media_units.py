"""Media pieces without I/O: the after-commit media job of ingest, base64 files under a cap, types
sniffed from bytes, the service window, Meta's error codes."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from ponte.adapters.gateways.base import base64_media
from ponte.domain.envelope import IngestEnvelope
from ponte.domain.events import Direction, Media, MessageEvent, MessageKind, Provider
from ponte.domain.identity import identity_from_jid
from ponte.domain.media import MediaJob, served_type
from ponte.domain.meta_errors import MetaErrorKind, meta_error
from ponte.domain.service_window import template_route, window_applies, window_open
from ponte.ports.gateway import GatewayRejectedError
from ponte.ports.media import MediaJobQueue
from ponte.services.ingest import IngestService
from ponte.services.media import sniff
from tests.fakes.ports import FakeStore

pytestmark = pytest.mark.unit

AT = datetime(2026, 5, 1, tzinfo=UTC)


class FakeMediaQueue(MediaJobQueue):
    def __init__(self) -> None:
        self.jobs: list[MediaJob] = []

    def enqueue(self, job: MediaJob) -> None:
        self.jobs.append(job)


def envelope(mid: str, kind: MessageKind, media: Media | None) -> IngestEnvelope:
    event = MessageEvent(
        provider=Provider.EVOLUTION,
        instance="demo",
        provider_message_id=mid,
        direction=Direction.INBOUND,
        chat=identity_from_jid("5511987650001@s.whatsapp.net"),
        kind=kind,
        text=None,
        media=media,
        occurred_at=AT,
    )
    return IngestEnvelope(tenant_id="t1", instance_id="i1", received_at=AT, event=event)


def test_ingest_emits_one_media_job_per_newly_stored_media_message_after_the_commit() -> None:
    queue = FakeMediaQueue()
    service = IngestService(FakeStore(), media_queue=queue)
    image = Media(mimetype="image/jpeg", provider_ref="65463453")
    service.handle(envelope("A", MessageKind.IMAGE, image))
    service.handle(envelope("A", MessageKind.IMAGE, image))  # a redelivery: no second job
    service.handle(envelope("B", MessageKind.LOCATION, None))  # nothing to fetch
    service.handle_batch("t1", [envelope("C", MessageKind.VOICE, Media(mimetype="audio/ogg"))])
    assert queue.jobs == [MediaJob(tenant_id="t1", message_id="m1"), MediaJob(tenant_id="t1", message_id="m3")]


def test_a_base64_file_is_decoded_only_under_its_cap() -> None:
    data = b"\x89PNG\r\n\x1a\n" + bytes(100)
    encoded = base64.b64encode(data).decode()
    assert base64_media(encoded, "image/png", 1000).data == data
    assert base64_media(f"data:image/png;base64,{encoded}", None, 1000).declared_type == "image/png"
    too_big = base64_media(encoded, "image/png", 50)
    assert too_big.too_large and too_big.data == b""  # never decoded
    for bad in (None, "", 5, "not base64!!"):
        with pytest.raises(GatewayRejectedError):
            base64_media(bad, None, 1000)


def test_types_come_from_the_bytes_and_never_let_a_browser_run_a_file() -> None:
    assert sniff(b"\x89PNG\r\n\x1a\n" + bytes(32)) == "image/png"
    assert sniff(b"%PDF-1.4\n") == "application/pdf"
    assert sniff(b"<html><script>") is None
    assert served_type(None, "text/html") == "application/octet-stream"
    assert served_type(None, "text/plain; charset=utf-8") == "text/plain"
    assert served_type("image/png", "text/html") == "image/png"


def test_the_service_window_is_24_hours_from_the_contacts_last_message_on_the_cloud_api_only() -> None:
    now = AT
    assert window_applies(Provider.CLOUD) and not window_applies(Provider.EVOLUTION)
    assert window_open(now - timedelta(hours=23, minutes=59), now)
    assert not window_open(now - timedelta(hours=24), now)
    assert not window_open(None, now)  # never wrote: a template first
    assert template_route("c1") == "/conversations/c1/templates"


@pytest.mark.parametrize(
    ("code", "machine", "kind"),
    [
        (131047, "outside_service_window", MetaErrorKind.REFUSED),
        ("131026", "undeliverable", MetaErrorKind.REFUSED),
        (190, "gateway_auth_failed", MetaErrorKind.AUTH),
        (130429, "rate_limited", MetaErrorKind.RATE),
        (131057, "account_maintenance", MetaErrorKind.UNAVAILABLE),
        (999999, "meta_999999", MetaErrorKind.UNKNOWN),
        (True, "provider_error", MetaErrorKind.UNKNOWN),
        ("12345678901", "provider_error", MetaErrorKind.UNKNOWN),
    ],
)
def test_meta_error_codes(code: object, machine: str, kind: MetaErrorKind) -> None:
    assert meta_error(code) == (machine, kind)
