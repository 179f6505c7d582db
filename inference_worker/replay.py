"""The corrections replay behind ``ponte eval FILE --learn-from N``.

For each shuffle of a labelled file, a fresh tenant's agent corrects the first N messages through
the real correction path (the messages are ingested by ``IngestService``, corrected by
``FeedbackService.correct`` under the agent's row-level security, exactly what
``POST /messages/{id}/analysis/correction`` runs), then the rest of the file is scored three ways:

* before: no tenant examples;
* after: with the examples the analyze function reads for that tenant (``PgAnalysisStore.context``,
  its newest corrections);
* another tenant: with the examples read for a second tenant that corrected nothing, which must
  equal *before* label for label (a correction never crosses tenants).

Needs a migrated PostgreSQL (the CLI starts a throwaway one).
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

from inference_worker.evaluation import Item, Report, folds_for
from inference_worker.labels.labeler import Labeler
from ponte.adapters.postgres.analysis_store import PgAnalysisStore
from ponte.adapters.postgres.db import Database
from ponte.adapters.postgres.feedback import PgFeedbackStore
from ponte.adapters.postgres.ingest_store import PgIngestStore
from ponte.domain.analysis import LabeledExample
from ponte.domain.analyze_job import AnalyzeJob
from ponte.domain.envelope import IngestEnvelope
from ponte.domain.events import Direction, MessageEvent, MessageKind, Provider
from ponte.domain.identity import identity_from_jid
from ponte.localstack.seed import seed_tenant
from ponte.ports.analysis import AnalyzeJobQueue
from ponte.services.feedback import FeedbackService
from ponte.services.ingest import IngestService


class _Jobs(AnalyzeJobQueue):
    """Ingest enqueues analyze jobs; the replay reads the example memory directly instead."""

    def __init__(self) -> None:
        self.jobs: list[AnalyzeJob] = []

    def enqueue(self, job: AnalyzeJob, *, delay_seconds: int = 0) -> None:
        self.jobs.append(job)


@dataclass(frozen=True)
class ShuffleResult:
    seed: int
    corrections: int
    examples_read: int
    other_tenant_examples: int
    before: Report
    after: Report
    other_tenant: Report

    @property
    def gain(self) -> float:
        return self.after.macro_f1 - self.before.macro_f1

    @property
    def other_tenant_unchanged(self) -> bool:
        return self.other_tenant.predicted == self.before.predicted


@dataclass
class _Tenant:
    tenant_id: str
    agent_id: str
    instance_id: str
    phone_base: int

    @property
    def claims(self) -> dict[str, str]:
        return {"sub": self.agent_id, "role": "authenticated"}


def _new_tenant(dsn: str, label: str, phone_base: int) -> _Tenant:
    tenant = _Tenant(str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4()), phone_base)
    with psycopg.connect(dsn) as conn:
        seed_tenant(
            conn,
            tenant_id=tenant.tenant_id,
            name=f"Replay {label}",
            user_id=tenant.agent_id,
            email=f"agent-{tenant.agent_id[:8]}@replay.local",
            role="agent",
            instance_id=tenant.instance_id,
            webhook_secret=uuid.uuid4().hex,
        )
    return tenant


def _ingest(db: Database, ingest: IngestService, tenant: _Tenant, n: int, text: str) -> str:
    provider_id = f"REPLAY-{uuid.uuid4().hex[:12]}"
    event = MessageEvent(
        provider=Provider.EVOLUTION,
        instance="replay",
        provider_message_id=provider_id,
        direction=Direction.INBOUND,
        chat=identity_from_jid(f"55119{tenant.phone_base + n:08d}@s.whatsapp.net"),
        kind=MessageKind.TEXT,
        text=text,
        occurred_at=datetime.now(UTC),
    )
    now = datetime.now(UTC)
    ingest.handle(
        IngestEnvelope(tenant_id=tenant.tenant_id, instance_id=tenant.instance_id, received_at=now, event=event)
    )
    with db.as_service(tenant.tenant_id) as conn:
        row = conn.execute(
            "select id::text from public.messages where tenant_id = %s and provider_message_id = %s",
            (tenant.tenant_id, provider_id),
        ).fetchone()
    assert row is not None, "the replay message was not stored"
    return str(row["id"])


def _examples(db: Database, ingest: IngestService, tenant: _Tenant) -> tuple[LabeledExample, ...]:
    """The examples the analyze function sends for this tenant's next message."""
    probe = _ingest(db, ingest, tenant, 99_999, "mensagem de controle")
    context = PgAnalysisStore(db).context(tenant.tenant_id, probe)
    assert context is not None
    return context.examples


def _score(
    labeler: Labeler, task: str, classes: tuple[str, ...], items: Sequence[Item], examples: Sequence[LabeledExample]
) -> Report:
    report = Report(task=task, classes=classes)
    folds = folds_for(items, task)
    for item in items:
        labels = labeler.label(item.text, examples)
        predicted = str(labels.sentiment if task == "sentiment" else labels.intent)
        report.add(item, folds.get(predicted, predicted), 0.0)
    return report


def replay(
    dsn: str,
    items: Sequence[Item],
    *,
    task: str,
    classes: tuple[str, ...],
    learn_from: int,
    seeds: Sequence[int] = (1, 2, 3),
    labeler: Labeler,
) -> list[ShuffleResult]:
    if not 0 < learn_from < len(items):
        raise ValueError(f"--learn-from must be between 1 and {len(items) - 1}")
    db = Database(dsn, max_size=2)
    results = []
    try:
        ingest = IngestService(PgIngestStore(db), _Jobs())
        feedback = FeedbackService(PgFeedbackStore(db))
        for number, seed in enumerate(seeds):
            order = list(items)
            random.Random(seed).shuffle(order)  # noqa: S311 - a reproducible shuffle, not a secret
            taught, held_out = order[:learn_from], order[learn_from:]
            learner = _new_tenant(dsn, f"learner {seed}", phone_base=number * 2_000_000)
            bystander = _new_tenant(dsn, f"bystander {seed}", phone_base=number * 2_000_000 + 1_000_000)
            for n, item in enumerate(taught):
                message_id = _ingest(db, ingest, learner, n, item.text)
                body = json.dumps({task: item.label}).encode()
                feedback.correct(learner.claims, message_id, body)
            learned = _examples(db, ingest, learner)
            bystanders = _examples(db, ingest, bystander)
            results.append(
                ShuffleResult(
                    seed=seed,
                    corrections=len(taught),
                    examples_read=len(learned),
                    other_tenant_examples=len(bystanders),
                    before=_score(labeler, task, classes, held_out, ()),
                    after=_score(labeler, task, classes, held_out, learned),
                    other_tenant=_score(labeler, task, classes, held_out, bystanders),
                )
            )
    finally:
        db.close()
    return results
