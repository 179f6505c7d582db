"""The local stack's web inbox files: the page's routes answer index.html, assets their type, nothing
outside the build is reachable, and config.json holds public values only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ponte.localstack.inbox_site import InboxSite

pytestmark = pytest.mark.unit


@pytest.fixture
def site(tmp_path: Path) -> InboxSite:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html><title>Ponte</title>")
    (dist / "app.js").write_text("console.log('ponte')")
    (dist / "styles.css").write_text("body{}")
    (tmp_path / "secret.txt").write_text("outside the build")
    return InboxSite(realtime_url="http://127.0.0.1:54321", anon_key="anon.jwt.value", dist=dist)


def test_the_page_routes_answer_the_page_with_its_security_headers(site: InboxSite) -> None:
    for path in ("/inbox/", "/inbox/conversa/9b2f", "/inbox/link?v=1&t=x&p=11987650001", "/inbox/admin/contatos"):
        response = site.respond(path)
        assert response.status == 200 and response.body.startswith(b"<!doctype html>"), path
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "ws://127.0.0.1:54321" in csp and "frame-ancestors 'none'" in csp
        assert response.headers["Referrer-Policy"] == "no-referrer"
    assert site.respond("/inbox").status == 302 and site.respond("/inbox").headers["Location"] == "/inbox/"


def test_assets_are_served_with_their_type_and_missing_ones_are_404(site: InboxSite) -> None:
    js = site.respond("/inbox/app.js")
    assert (js.status, js.body) == (200, b"console.log('ponte')")
    assert js.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert site.respond("/inbox/styles.css").headers["Content-Type"] == "text/css; charset=utf-8"
    assert site.respond("/inbox/missing.js").status == 404


@pytest.mark.parametrize(
    "path",
    [
        "/inbox/../secret.txt",
        "/inbox/..%2fsecret.txt",
        "/inbox/%2e%2e/secret.txt",
        "/inbox//etc/passwd",
        "/inbox/%00",
        "/inbox/app.js%00.txt",
        "/inbox/" + "a" * 5000 + ".js",
        "/inbox/\ud800.js",
    ],
)
def test_hostile_paths_never_reach_outside_the_build_nor_fail(site: InboxSite, path: str) -> None:
    response = site.respond(path)
    assert response.status in (200, 404)
    assert b"outside the build" not in response.body and b"root:" not in response.body


def test_config_holds_the_public_realtime_url_and_anon_key_only(site: InboxSite) -> None:
    response = site.respond("/inbox/config.json")
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(response.body) == {"supabase_url": "http://127.0.0.1:54321", "anon_key": "anon.jwt.value"}


def test_an_unbuilt_inbox_says_how_to_build_it(tmp_path: Path) -> None:
    site = InboxSite(realtime_url="http://127.0.0.1:1", anon_key="k", dist=tmp_path / "nothing")
    response = site.respond("/inbox/")
    assert response.status == 503 and "make inbox" in response.body.decode()
    assert not site.built()
