"""The local stack with the real inference worker: a webhook's text ends as an analysis made by it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from ponte.localstack.stack import LocalStack
from tests.e2e.test_leads_analysis import payload, post, rows, wait_for

pytestmark = pytest.mark.e2e


def test_webhook_text_is_analysed_by_the_worker_in_the_stack(db_dsn: str, tmp_path: Path) -> None:
    # GIVEN the stack with its own worker (packaged model, label path, template replies)
    stack = LocalStack(
        state_dir=tmp_path / "state", database_url=db_dsn, proxy_port=0, keep_data=False, run_worker=True
    ).start()
    try:
        assert stack.worker is not None
        assert httpx.get(f"{stack.worker.url}/health").json()["model"] == "smollm2-135m-instruct-q4_1"
        # WHEN a customer disputes a charge
        text = "fui cobrado duas vezes no cartão! quero o estorno ainda hoje"
        body = payload("E2E-W1", "5521987650000@s.whatsapp.net", text, datetime.now(UTC))
        assert post(stack, body).json()["outcome"] == "accepted"
        # THEN the stored analysis comes from the worker's label path, not the degraded fallback
        analyses = wait_for(
            lambda: rows(
                stack,
                "select a.intent, a.sentiment, a.urgency, a.labels_source, a.degraded, s.text as suggestion"
                " from public.message_analyses a"
                " left join public.reply_suggestions s on s.message_id = a.message_id",
            ),
            lambda r: len(r) == 1 and not r[0]["degraded"],
            timeout=90,
        )
        [analysis] = analyses
        assert not analysis["degraded"]
        assert analysis["labels_source"].startswith("knn+linear:")
        assert (analysis["intent"], analysis["sentiment"], analysis["urgency"]) == (
            "billing_dispute",
            "negative",
            "high",
        )
        assert analysis["suggestion"]
    finally:
        stack.stop()
