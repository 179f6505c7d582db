"""``ponte conformance`` over the real payload corpus (../shared/fixtures/payloads, when present).

The table below is the expected outcome of every published payload, as the live edge answers it
under the default privacy policy (group chats are ignored there, so they are here); a new file or a changed
outcome fails the test, as does any crash.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / ".." / "shared" / "fixtures" / "payloads"

EXPECTED = {
    "evolution/connection.update__close-401-loggedout__01.json": ("accepted", None),
    "evolution/connection.update__close-405-reconnect-loop__01.json": ("accepted", None),
    "evolution/connection.update__open-200__01.json": ("accepted", None),
    "evolution/contacts.update__group-array-redacted__01.json": ("ignored", "group_chat"),
    "evolution/contacts.update__v1-edit-via-web-masked__01.json": ("rejected", "invalid_jid"),
    "evolution/contacts.upsert__array-data__01.json": ("accepted", None),
    "evolution/messages.update__status-DELETED-on-edit-php-log__01.json": ("ignored", "no_status"),
    "evolution/messages.upsert__extendedText-reply-quoting-document-fromMe__01.json": ("accepted", None),
    "evolution/messages.upsert__group-text-participant-lid__01.json": ("ignored", "group_chat"),
    "evolution/messages.upsert__group-text-participant-pn__01.json": ("ignored", "group_chat"),
    "evolution/messages.upsert__image-base64-placeholder__01.json": ("accepted", None),
    "evolution/messages.upsert__image-fromMe-base64-truncated__01.json": ("accepted", None),
    "evolution/messages.upsert__image-inbound-base64-truncated__01.json": ("accepted", None),
    "evolution/messages.upsert__image-no-caption__01.json": ("accepted", None),
    "evolution/messages.upsert__listResponseMessage__01.json": ("accepted", None),
    "evolution/messages.upsert__text-fromMe-phone-android-masked__01.json": ("rejected", "invalid_jid"),
    "evolution/messages.upsert__text-fromMe-server-ack__01.json": ("accepted", None),
    "evolution/messages.upsert__text-fromMe__01.json": ("accepted", None),
    "evolution/messages.upsert__text-inbound-ios__01.json": ("accepted", None),
    "evolution/messages.upsert__text-inbound__01.json": ("accepted", None),
    "evolution/qrcode.updated__pairingCode-base64-placeholder__01.json": ("accepted", None),
    "wppconnect/onmessage__chat-text-br-no9th-digit__01.json": ("accepted", None),
    "wppconnect/onreactionmessage__thumbs-up-ms-timestamp__01.json": ("accepted", None),
    "wppconnect/status-find__isLogged-no-session__01.json": ("accepted", None),
}


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared payload corpus is not next to this checkout")
def test_conformance_over_the_real_corpus_has_the_expected_outcome_per_file() -> None:
    # WHEN the console command runs over the corpus
    run = subprocess.run(
        [sys.executable, "-m", "ponte.cli.main", "conformance", str(CORPUS)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # THEN it exits 0 (no crash), prints one line per file and the totals last
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    *files, totals = lines
    got = {
        str(Path(line["file"]).resolve().relative_to(CORPUS.resolve())): (line["outcome"], line["reason"])
        for line in files
    }
    assert got == EXPECTED
    assert totals["totals"]["files"] == len(EXPECTED)
    assert "error" not in totals["totals"]
    # AND messages carry kind, direction, chat identity, id, text and a UTC time
    message = next(e for line in files for e in line.get("events", []) if e["type"] == "message")
    assert set(message) >= {"kind", "direction", "chat", "message_id", "text", "occurred_at"}
    assert message["occurred_at"].endswith("Z")


def test_conformance_never_crashes_on_garbage(tmp_path: Path) -> None:
    folder = tmp_path / "evolution"
    folder.mkdir()
    (folder / "a.json").write_bytes(b"\xff\xfe not json")
    (folder / "b.json").write_text("[1, 2]")
    (folder / "c.json").write_text('{"event": 5}')
    run = subprocess.run(
        [sys.executable, "-m", "ponte.cli.main", "conformance", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    outcomes = [json.loads(line).get("outcome") for line in run.stdout.splitlines()[:-1]]
    assert outcomes == ["rejected", "rejected", "rejected"]


def test_conformance_reads_a_cloud_folder_and_names_the_change_kinds(tmp_path: Path) -> None:
    # GIVEN a folder named after the Cloud API provider with a text, two numbers, a failed status
    # and a field Ponte does not handle
    fixtures = ROOT / "proxy" / "providers" / "cloud" / "fixtures"
    folder = tmp_path / "cloud"
    folder.mkdir()
    for name in (
        "messages__text-br-no9th-digit__01",
        "messages__two-entries-two-numbers-constructed__01",
        "statuses__failed-131047-outside-window-constructed__01",
        "message_template_status_update__approved__01",
        "statuses__read-group__01",
    ):
        (folder / f"{name}.json").write_text((fixtures / f"{name}.json").read_text())
    run = subprocess.run(
        [sys.executable, "-m", "ponte.cli.main", "conformance", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    *lines, totals = [json.loads(line) for line in run.stdout.splitlines()]
    by_file = {Path(line["file"]).stem: line for line in lines}
    assert {name: (line["provider"], line["outcome"], line["reason"]) for name, line in by_file.items()} == {
        "message_template_status_update__approved__01": ("cloud", "ignored", "unsupported_event"),
        "messages__text-br-no9th-digit__01": ("cloud", "accepted", None),
        "messages__two-entries-two-numbers-constructed__01": ("cloud", "accepted", None),
        "statuses__failed-131047-outside-window-constructed__01": ("cloud", "accepted", None),
        "statuses__read-group__01": ("cloud", "ignored", "group_chat"),
    }
    assert by_file["messages__two-entries-two-numbers-constructed__01"]["event"] == "messages+statuses"
    text = by_file["messages__text-br-no9th-digit__01"]["events"][0]
    assert text["chat"]["phone"] == "+5531988880001" and text["kind"] == "text"
    assert totals["totals"] == {"files": 5, "accepted": 3, "ignored": 2}
