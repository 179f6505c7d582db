"""``ponte token`` and ``ponte deeplink`` against a running local stack: what they print works on
its proxy (a member's token passes RLS as that member; a signed link resolves as signed)."""

from __future__ import annotations

import httpx
import pytest

from ponte.cli.main import main
from ponte.localstack.local_auth import parse_ttl
from ponte.localstack.seed import DEMO_AGENT_EMAIL
from ponte.localstack.stack import LocalStack

pytestmark = pytest.mark.e2e


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
