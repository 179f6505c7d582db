"""The corrections replay (``ponte eval --learn-from``) on real PostgreSQL: corrections go through
the real correction path, change the correcting tenant's labels and never another tenant's."""

from __future__ import annotations

import pytest

from inference_worker.evaluation import INTENTS, Item
from inference_worker.labels import default_labeler
from inference_worker.replay import replay

pytestmark = pytest.mark.integration

# A tenant whose customers ask "tá na mão?" / "chegou no pé?" to know where their order is:
# project-written phrasings the shipped examples do not read as support requests.
JARGON = [
    "e aí, tá na mão já?",
    "tá na mão ou ainda não?",
    "já tá na mão o meu?",
    "meu pacote já tá na mão?",
    "quando fica na mão?",
    "o meu tá na mão hoje?",
    "e o meu, tá na mão?",
    "consegue ver se já tá na mão?",
    "tá na mão do entregador já?",
    "o kit já tá na mão?",
]


def test_corrections_change_the_correcting_tenant_only(db_dsn: str) -> None:
    # GIVEN a file whose labels are the tenant's meaning of its jargon
    items = [Item(text, "support_request") for text in JARGON]
    labeler = default_labeler()
    # WHEN an agent of one tenant corrects the first 5 through the correction path, on two shuffles
    results = replay(db_dsn, items, task="intent", classes=INTENTS, learn_from=5, seeds=(1, 2), labeler=labeler)
    for result in results:
        # THEN the analyze function reads the 5 corrections for that tenant and none for the other
        assert (result.corrections, result.examples_read, result.other_tenant_examples) == (5, 5, 0)
        # AND the held-out messages of the correcting tenant follow the corrections
        assert result.before.accuracy < 0.5
        assert result.after.accuracy == 1.0
        assert result.gain > 0
        # AND the other tenant's labels are exactly those before any correction
        assert result.other_tenant_unchanged
        assert result.other_tenant.predicted == result.before.predicted


def test_learn_from_must_leave_something_to_score(db_dsn: str) -> None:
    items = [Item(text, "support_request") for text in JARGON[:3]]
    with pytest.raises(ValueError, match="between 1 and 2"):
        replay(db_dsn, items, task="intent", classes=INTENTS, learn_from=3, labeler=default_labeler())
