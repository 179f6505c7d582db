"""``ponte token``, ``ponte deeplink`` and ``ponte replay`` against a running local stack: what they print works on
its proxy (a member's token passes RLS as that member; a signed link resolves as signed)."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import httpx
import pytest

from ponte.cli.main import main
from ponte.localstack.local_auth import parse_ttl
from ponte.localstack.seed import DEMO_AGENT_EMAIL
from ponte.localstack.stack import LocalStack

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def last_line(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out.strip().splitlines()[-1]


def me(stack: LocalStack, token: str) -> httpx.Response:
    return httpx.get(f"{stack.proxy_url}/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_ponte_token_mints_a_working_token_for_each_member(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    state = str(stack.state_dir)
    owner = me(stack, last_line(capsys, "token", "--state-dir", state))
    agent = me(stack, last_line(capsys, "token", "--role", "agent", "--ttl", "30m", "--state-dir", state))
    by_mail = me(stack, last_line(capsys, "token", "--user", DEMO_AGENT_EMAIL.upper(), "--state-dir", state))
    assert owner.status_code == agent.status_code == by_mail.status_code == 200, (owner.text, agent.text)
    assert owner.json()["email"] != agent.json()["email"] == by_mail.json()["email"] == DEMO_AGENT_EMAIL
    roles = {m["role"] for m in agent.json()["memberships"]}
    assert roles == {"agent"}


def test_ponte_token_refuses_a_stranger_and_a_bad_ttl(stack: LocalStack, capsys: pytest.CaptureFixture[str]) -> None:
    state = str(stack.state_dir)
    assert main(["token", "--user", "ninguem@loja-demo.local", "--state-dir", state]) == 2
    assert main(["token", "--ttl", "90d", "--state-dir", state]) == 2
    err = capsys.readouterr().err
    assert "no member" in err and "--ttl" in err


def test_ponte_deeplink_resolves_signed_on_the_local_proxy(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    state = str(stack.state_dir)
    query = last_line(
        capsys, "deeplink", "--phone", "(11) 98765-0077", "--text", "Seu pedido chegou", "--state-dir", state
    )
    token = last_line(capsys, "token", "--state-dir", state)
    response = httpx.get(
        f"{stack.proxy_url}/deeplinks/resolve?{query}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["signed"] is True and body["phone_e164"] == "+5511987650077"
    assert body["prefilled_text"] == "Seu pedido chegou"
    # a link altered after signing is not signed any more
    tampered = query.replace("Seu", "Teu")
    again = httpx.get(
        f"{stack.proxy_url}/deeplinks/resolve?{tampered}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert again.status_code != 200 or again.json()["signed"] is False


@pytest.mark.parametrize(("text", "seconds"), [("8h", 28800), ("30m", 1800), ("2d", 172800), ("3600", 3600)])
def test_ttls_read_as_people_write_them(text: str, seconds: int) -> None:
    assert parse_ttl(text) == seconds


def test_ponte_replay_posts_each_provider_as_its_gateway_would(
    stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Evolution with the webhook secret, a Cloud API body signed with the app's secret and routed by
    the demo number's phone_number_id; a WPPConnect file has no instance in the demo: skipped, with why."""
    assert stack.demo is not None
    fixtures = ROOT / "proxy" / "providers"
    for provider, name in (("evolution", "messages.upsert__text-inbound__01.json"),
                           ("wppconnect", "onmessage__chat-text-br-no9th-digit__01.json")):  # fmt: skip
        (tmp_path / "payloads" / provider).mkdir(parents=True)
        shutil.copy(fixtures / provider / "fixtures" / name, tmp_path / "payloads" / provider / name)
    cloud = json.loads((fixtures / "cloud" / "fixtures" / "messages__text-br-no9th-digit__01.json").read_text())
    cloud["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = stack.demo.cloud_phone_number_id
    (tmp_path / "payloads" / "cloud").mkdir()
    (tmp_path / "payloads" / "cloud" / "text.json").write_text(json.dumps(cloud))

    assert main(["replay", str(tmp_path / "payloads"), "--state-dir", str(stack.state_dir)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    rows = {Path(r["file"]).parent.name: r for r in map(json.loads, lines[:-1])}
    assert (rows["evolution"]["status"], rows["cloud"]["status"]) == (200, 200), rows
    assert (rows["wppconnect"]["status"], rows["wppconnect"]["outcome"]) == (None, "skipped")
    assert "no wppconnect instance" in rows["wppconnect"]["reason"]
    assert lines[-1] == "replayed 2 file(s), 0 not accepted, 1 skipped"
    assert stack.db is not None
    wamid = cloud["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    deadline = time.monotonic() + 15
    while True:
        with stack.db.as_service() as conn:
            stored = conn.execute("select 1 from public.messages where provider_message_id = %s", (wamid,)).fetchone()
        if stored or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert stored, "the signed Cloud API message was not stored"
