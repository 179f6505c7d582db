"""The reference web inbox in a real browser: Debian's Chromium driven by Playwright, on one local
stack shared by the module (the demo inbox posted once, the inference worker running, so analyses
and reply suggestions are the real ones)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, expect, sync_playwright

from ponte.cli.up import run_demo
from ponte.localstack.jwt_tokens import mint_token
from ponte.localstack.seed import DEMO_AGENT_EMAIL, DEMO_AGENT_ID
from ponte.localstack.stack import LocalStack
from tests.conftest import TEMPLATE_DB

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "js" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "frontend_contract" / "reference_inbox" / "screenshots"
CHROMIUM = os.environ.get("PONTE_CHROMIUM", "/usr/bin/chromium")
# Debian's chromium, headless, with nothing that would reach out of the machine
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

expect.set_options(timeout=20_000)


@pytest.fixture(scope="module")
def inbox_db(pg_admin_dsn: str, template_dsn: str) -> Iterator[str]:
    """One database for the module's stack, cloned from the migrated template."""
    name = f"ponte_browser_{os.getpid()}"
    with psycopg.connect(pg_admin_dsn, autocommit=True) as conn:
        conn.execute(f"drop database if exists {name} with (force)")
        conn.execute(f"create database {name} template {TEMPLATE_DB}")
    try:
        yield psycopg.conninfo.make_conninfo(pg_admin_dsn, dbname=name)
    finally:
        with psycopg.connect(pg_admin_dsn, autocommit=True) as conn:
            conn.execute(f"drop database if exists {name} with (force)")


@pytest.fixture(scope="module")
def inbox_stack(inbox_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """`ponte up --demo` as a fixture: the stack with its worker, the eight demo conversations analysed."""
    stack = LocalStack(
        state_dir=tmp_path_factory.mktemp("inbox") / "state",
        database_url=inbox_db,
        proxy_port=0,
        keep_data=False,
        run_worker=True,
    )
    try:
        stack.start()
        assert stack.inbox_built(), "the web inbox is not built: make inbox"
        run_demo(stack)
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    assert shutil.which(CHROMIUM), f"{CHROMIUM} is missing: make chromium (apt-get install chromium)"
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@dataclass
class InboxSession:
    """Opens the inbox in fresh browser contexts and records what went wrong in them."""

    stack: LocalStack
    browser: Browser
    errors: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)
    _pages: list[Page] = field(default_factory=list)

    def token(self, role: str = "owner") -> str:
        assert self.stack.demo is not None
        if role == "agent":
            return mint_token(self.stack.secrets.jwt_secret, sub=DEMO_AGENT_ID, email=DEMO_AGENT_EMAIL)
        return self.stack.demo_token()

    def open(self, path: str = "", *, role: str = "owner", token: str | None = None, live: bool = True) -> Page:
        """``<inbox_url><path>#access_token=<JWT>``, as a Supabase magic link hands the session over."""
        context = self.browser.new_context(
            viewport={"width": 1280, "height": 800}, locale="pt-BR", timezone_id="America/Sao_Paulo"
        )
        page = context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("console", self._console)
        self._pages.append(page)
        fragment = "" if token == "" else f"#access_token={token or self.token(role)}"
        page.goto(f"{self.stack.inbox_url}{path}{fragment}")
        if live:
            expect(page.locator('.live[data-live="live"]')).to_be_visible()
        return page

    def expect_console_error(self, text: str) -> None:
        """A console error the test causes on purpose (the browser logs every refused request)."""
        self.expected.append(text)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not any(text in message.text for text in self.expected):
            self.errors.append(f"console: {message.text}")

    def close(self) -> None:
        for page in self._pages:
            page.context.close()


@pytest.fixture
def inbox(inbox_stack: LocalStack, browser: Browser) -> Iterator[InboxSession]:
    session = InboxSession(inbox_stack, browser)
    try:
        yield session
    finally:
        session.close()
    assert not session.errors, session.errors


def axe_violations(page: Page, *, context: str = "document") -> list[dict[str, Any]]:
    """axe-core run in the page (WCAG 2.1 A/AA and best practices): the serious and critical findings."""
    page.evaluate(AXE.read_text())
    result: dict[str, Any] = page.evaluate(
        """async (context) => await axe.run(context === 'document' ? document : document.querySelector(context), {
             runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
           })""",
        context,
    )
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def screenshot(page: Page, name: str) -> None:
    """Rewrites the README's screenshots only when asked (PONTE_SCREENSHOTS=1), so test runs leave the tree clean."""
    if os.environ.get("PONTE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
