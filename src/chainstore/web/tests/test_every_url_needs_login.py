"""Every page and API endpoint refuses an anonymous visitor: pages redirect to the login,
the API answers 401 with the error shape. Walks the real URL configuration, so a new URL
without authentication fails this test."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

# /api/v1/ itself is a 404; /pos/sw.js is the till's service worker script (no data in it)
PUBLIC = {"/login/", "/logout/", "/i18n/setlang/", "/api/v1/", "/pos/sw.js"}
# Carrier webhooks authenticate the sender by the carrier's HMAC signature, not a user
# (an unknown carrier code is a 404); see test_carrier_webhooks_need_a_signature.
SIGNED = {"/api/v1/fulfilment/carriers/1/webhook"}
_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _walk(patterns: list, prefix: str = "") -> Iterator[str]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def _concrete(route: str) -> str:
    route = route.lstrip("^").rstrip("$")
    samples = {"int": "1", None: "1", "transfer_number": "TR1"}
    return "/" + _CONVERTER.sub(lambda m: samples.get(m.group(1), "x"), route)


def _urls() -> list[str]:
    urls = sorted({_concrete(r) for r in _walk(get_resolver().url_patterns)})
    return [u for u in urls if u not in PUBLIC and not u.startswith("/static/")]


def test_the_walk_finds_the_pages_and_the_api():
    urls = _urls()
    assert "/" in urls and "/receiving/" in urls and "/api/v1/inventory/issues" in urls
    assert len(urls) > 60


@pytest.mark.parametrize("url", _urls())
def test_anonymous_visitors_are_refused(client, url):
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        if url in SIGNED:
            assert response.status_code in (404, 405), (method, url, response.status_code)
            continue
        if url.startswith("/api/v1/") and not url.startswith(("/api/v1/docs", "/api/v1/openapi")):
            assert response.status_code in (401, 405), (method, url, response.status_code)
            if response.status_code == 401:
                assert response.json()["code"] == "not_authenticated"
        else:
            assert response.status_code in (302, 405), (method, url, response.status_code)
            if response.status_code == 302:
                assert response["Location"].startswith("/login/"), (method, url)


def test_carrier_webhooks_need_a_signature(client):
    response = client.post(
        "/api/v1/fulfilment/carriers/sim/webhook", b"{}", content_type="application/json"
    )
    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"


def test_the_openapi_document_is_served_to_a_token_or_a_session(client, admin):
    from chainstore.accounts.services import issue_token

    _, secret = issue_token(user=admin, name="docs")
    by_token = client.get("/api/v1/openapi.json", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert by_token.status_code == 200
    assert "/api/v1/inventory/issues" in by_token.json()["paths"]
    assert client.get("/api/v1/openapi.json", HTTP_AUTHORIZATION="Bearer wrong").status_code == 302
    client.force_login(admin)
    assert client.get("/api/v1/docs").status_code == 200
