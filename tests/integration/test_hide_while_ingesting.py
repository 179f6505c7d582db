"""Hide a contact while its messages are being ingested (threads, real PostgreSQL): after the
purge nothing of the contact remains, whatever the interleaving."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from ponte.domain.hidden import ContactRef
from tests.support.privacy import (
    INSTANCE,
    OWNER,
    PHONE,
    TENANT,
    Wired,
    claims,
    contact_rows,
    every_form,
    message,
    seeded_and_wired,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WRITERS = 4
MAX_PER_WRITER = 2000  # writers stop a few messages after the hide starts refusing them
AFTER_REFUSAL = 10


@pytest.fixture
def w(db_dsn: str) -> Iterator[Wired]:
    with seeded_and_wired(db_dsn) as wired:
        yield wired


def test_messages_ingested_during_a_hide_leave_no_trace(w: Wired) -> None:
    forms = every_form()
    stored_before_hide = threading.Event()
    stored: list[int] = [0] * WRITERS
    refused: list[int] = [0] * WRITERS
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(MAX_PER_WRITER):
                if w.store.save_message(TENANT, INSTANCE, message(f"w{n}-{i}", forms[(n + i) % len(forms)])).stored:
                    stored[n] += 1
                else:
                    refused[n] += 1
                    if refused[n] >= AFTER_REFUSAL:
                        return
                if sum(stored) >= 20:
                    stored_before_hide.set()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    # WHEN the owner hides the contact while the writers are still storing
    assert stored_before_hide.wait(30)
    result = w.service.hide(claims(OWNER), ContactRef(phone=PHONE))
    for t in threads:
        t.join(120)
    assert not errors, errors
    # THEN some messages were stored before the hide and purged by it, the rest were refused
    assert refused == [AFTER_REFUSAL] * WRITERS
    assert result.deleted.counts["public.messages"] >= 20
    assert sum(stored) == result.deleted.counts["public.messages"]
    assert set(contact_rows(w, TENANT).values()) == {0}
    # and the scheduled purge finds nothing left either
    sweep = w.service.sweep()
    assert sweep.deleted.total == 0
    assert set(contact_rows(w, TENANT).values()) == {0}
