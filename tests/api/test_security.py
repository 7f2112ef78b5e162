"""Security headers on every reply, HEAD on the pages, and /docs served from this machine
under its own policy (a real uvicorn server on the fakes); the pages and /docs run in Chromium
under those policies (``model``: the real stack, in a browser)."""

from __future__ import annotations

from typing import Any

import pytest
from processes import HTTP

from advisor.api.guard import DOCS_POLICY, PAGE_POLICY


def _directives(policy: str) -> dict[str, str]:
    return {d.split()[0]: d.strip() for d in policy.split(";") if d.strip()}


def test_the_policies_say_what_the_issue_asks() -> None:
    page = _directives(PAGE_POLICY)
    assert page["default-src"] == "default-src 'self'"
    assert page["frame-ancestors"] == "frame-ancestors 'none'"
    assert "unsafe-inline" not in PAGE_POLICY and "unsafe-eval" not in PAGE_POLICY
    docs = _directives(DOCS_POLICY)
    assert docs["default-src"] == "default-src 'self'"
    assert "script-src" not in docs  # scripts only from this server, on /docs too
    assert docs["frame-ancestors"] == "frame-ancestors 'none'"


@pytest.mark.parametrize("path", ["/", "/reference", "/api/careers", "/healthz",
                                  "/static/style.css", "/openapi.json", "/no-such-page"])
def test_every_reply_carries_the_security_headers(fake_server: str, path: str) -> None:
    reply = HTTP.get(fake_server + path, timeout=30)
    assert reply.headers["content-security-policy"] == PAGE_POLICY
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["referrer-policy"] == "no-referrer"
    assert reply.headers["x-frame-options"] == "DENY"


def test_errors_and_refusals_carry_them_too(fake_server: str) -> None:
    too_big = HTTP.post(fake_server + "/api/chat", content=b"x" * 70_000,
                        headers={"content-type": "application/json"})
    invalid = HTTP.post(fake_server + "/api/chat", json={"question": ""})
    for reply in (too_big, invalid):
        assert reply.status_code in (413, 422)
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert reply.headers["content-security-policy"] == PAGE_POLICY


@pytest.mark.parametrize("path", ["/", "/reference", "/healthz", "/docs"])
def test_head_answers_like_get_without_a_body(fake_server: str, path: str) -> None:
    get = HTTP.get(fake_server + path)
    head = HTTP.head(fake_server + path)
    assert head.status_code == get.status_code == 200  # HEAD on / was 405
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == get.headers["content-length"]
    assert "content-security-policy" in head.headers
    assert HTTP.head(fake_server + "/api/chat").status_code == 405  # POST only, as before


def test_docs_are_served_from_this_server(fake_server: str) -> None:
    page = HTTP.get(fake_server + "/docs")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == DOCS_POLICY
    assert "cdn." not in page.text and "https://" not in page.text
    assert "<script>" not in page.text  # no inline script: only <script src=...>
    assets = (("swagger-ui-bundle.js", "text/javascript"), ("swagger-ui.css", "text/css"))
    for asset, kind in assets:
        reply = HTTP.get(f"{fake_server}/docs/assets/{asset}")
        assert reply.status_code == 200 and reply.headers["content-type"].startswith(kind)
        assert len(reply.content) > 10_000
    assert HTTP.get(fake_server + "/docs/assets/index.html").status_code == 404
    assert HTTP.get(fake_server + "/redoc").status_code == 404  # ReDoc would need a CDN


@pytest.mark.model
@pytest.mark.parametrize(("path", "ready"), [
    ("/", "() => document.querySelectorAll('.starter').length >= 3"),
    ("/reference", "() => document.querySelectorAll('#career option').length > 2"),
    ("/docs", "() => document.querySelectorAll('.opblock').length >= 10"),
])
def test_pages_run_under_their_policy_in_chromium(browser: Any, live_server: str, path: str,
                                                  ready: str) -> None:
    page = browser.new_page()
    problems: list[str] = []
    # A missing resource shows as a console error too: those are judged by URL below.
    page.on("console", lambda m: problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith((live_server, "data:")) else None)
    page.add_init_script("document.addEventListener('securitypolicyviolation', e => "
                         "console.error('CSP violation: ' + e.violatedDirective + ' ' + "
                         "e.blockedURI))")
    response = page.goto(live_server + path)
    assert response is not None and "content-security-policy" in response.headers
    page.wait_for_function(ready, timeout=60_000)
    page.wait_for_timeout(300)
    page.close()
    assert problems == [], problems
    assert failed == [], failed
    assert outside == [], outside


@pytest.mark.model
def test_docs_try_it_out_runs_under_the_docs_policy(browser: Any, live_server: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    page.add_init_script("document.addEventListener('securitypolicyviolation', e => "
                         "console.error('CSP violation: ' + e.violatedDirective + ' ' + "
                         "e.blockedURI))")
    page.goto(live_server + "/docs")
    careers = page.locator(
        ".opblock", has=page.locator(".opblock-summary-path[data-path='/api/careers']"))
    careers.locator(".opblock-summary").click()  # expanding draws data: icons
    careers.locator(".try-out__btn").click()
    careers.locator(".execute").click()
    status_cell = careers.locator(".live-responses-table tbody .response-col_status").first
    status_cell.wait_for(timeout=60_000)
    status = status_cell.text_content()
    page.close()
    assert (status or "").strip().startswith("200")
    assert problems == [], problems
