"""The web pages in a real browser: Debian's Chromium driven by Playwright, real server.

Screenshots go to tests/artifacts/ (git-ignored); docs/screenshot-chat*.png are copies of
chat-desktop.png and chat-phone.png.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from processes import HTTP

from advisor.api.app import create_app
from advisor.config import Settings

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PHONE = {"width": 390, "height": 844}
#: The app's Content-Security-Policy starts so: nothing inline may run or style a page.
CSP = "default-src 'self'"
HOSTILE = "<img src=x onerror=alert(1)> Puppet Engineer"
HOSTILE_DOC = f"""---
layout: resource
title: "5. {HOSTILE}"
description: "Career Path for a Puppet Engineer"
permalink: /careers/career_paths/5-Puppet_Engineer/
lang: en
---
# 5. {HOSTILE}

## Role Definition & Responsibilities:

### Role Definition & Responsibilities:
* **Definition:** A Puppet Engineer designs, sews and operates puppets for theatres, \
television and children's shows.
* **Who It Suits:** People who enjoy sewing, drawing characters and performing puppet \
shows for children.

## Getting Started:

### Educational Background:
* **Relevant Training:** A one-year course in costume making or a puppetry workshop.

### Entry-Level Positions:

* **Typical Entry-Level Job Titles:** Puppet Builder, Workshop Assistant.
* **Expected Initial Salary Ranges:** A workshop assistant earns about 900 ducats a month.
"""
pytestmark = pytest.mark.model  # the browser fixture skips where Chromium is missing


def watch(page: Any) -> dict[str, list[str]]:
    """Collect the page's dialogs (dismissed), console errors and chat request bodies."""
    seen: dict[str, list[str]] = {"dialogs": [], "errors": [], "chats": []}
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.on("console", lambda m: m.type == "error" and seen["errors"].append(m.text))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("request", lambda r: r.url.endswith("/api/chat") and seen["chats"].append(r.post_data))
    return seen


def answers_done(page: Any, n: int) -> None:
    """Wait until n answers have had their 'done' event."""
    page.wait_for_function(
        f"() => document.querySelectorAll('.msg.bot[data-done]').length === {n}", timeout=120_000)


def test_student_chat_streams_queues_follow_ups_and_stays_inert(browser: Any,
                                                                 live_server: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport=PHONE)
    seen = watch(page)
    page.goto(live_server + "/")
    assert page.locator(".starter").count() >= 3
    assert "30 days" in page.locator("#privacy").text_content()

    # Keyboard only: type, Enter sends; the answer comes first, further quotes collapsed.
    page.locator("#question").focus()
    page.keyboard.type("How much does an assistant lighthouse keeper earn at the start?")
    page.keyboard.press("Enter")
    answers_done(page, 1)
    first = page.locator(".msg.bot").first
    assert "28,500 crowns" in first.locator(".answer").text_content()
    assert first.locator(".cite").count() >= 1
    more = first.locator("details.more")
    assert more.count() == 1 and not more.evaluate("d => d.open")
    assert not more.locator("li").first.is_visible()
    more.locator("summary").click()
    assert more.locator("li").first.is_visible()
    assert more.locator("li .marker").count() == more.locator("li").count()  # each one cited
    page.screenshot(path=str(ARTIFACTS / "chat-phone.png"))
    first.locator(".feedback button").first.click()  # the vote goes out with the answer's token
    first.get_by_text("Thanks for the feedback.").wait_for()

    # A citation marker opens the passage with its heading path and a public link.
    first.locator(".answer .marker").first.click()
    assert "Lighthouse Keeper" in page.locator("#passage-title").text_content()
    assert page.locator("#passage-link").get_attribute("href").startswith("https://")
    page.locator("#close-passage").click()

    # Follow-up chips ask their question.
    chips = first.locator(".suggestions .chip")
    assert 2 <= chips.count() <= 3
    suggestion = chips.first.text_content()
    chips.first.click()
    answers_done(page, 2)
    assert page.locator(".msg.user").last.text_content() == suggestion

    # Enter on a follow-up while an answer still streams: it waits its turn and goes out with
    # the earlier exchange as history, so it is answered, not refused.
    page.locator("#question").fill("I'd like to work as a glassblower.")
    page.locator("#send").click()
    page.locator("#question").fill("and what would I be paid in my first year?")
    page.locator("#question").press("Enter")
    follow_up = page.locator(".msg.user").last
    assert follow_up.get_attribute("data-waited") == "true", "the first answer was already done"
    answers_done(page, 4)
    reply = page.locator(".msg.bot").last
    assert "1,650 florins" in reply.locator(".answer").text_content()
    assert "notice" not in (reply.get_attribute("class") or "")
    sent = json.loads(seen["chats"][-1])
    assert sent["question"] == "and what would I be paid in my first year?"
    assert sent["history"][-2] == {"role": "user", "content": "I'd like to work as a glassblower."}
    assert sent["history"][-1]["role"] == "assistant" and sent["history"][-1]["content"]

    # Markup typed by a user renders as text and runs nothing.
    payload = "<script>alert('owned')</script><img src=x onerror=alert(2)> lighthouse salary?"
    page.locator("#question").fill(payload)
    page.locator("#send").click()
    page.wait_for_function("() => document.querySelectorAll('.msg.user').length === 5")
    assert page.locator(".msg.user").last.text_content() == payload
    assert page.locator("#log img").count() == 0
    answers_done(page, 5)
    assert seen["dialogs"] == [] and seen["errors"] == []
    page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)
    page.close()


def test_desktop_chat_screenshot(browser: Any, live_server: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1100, "height": 820})
    page.goto(live_server + "/")
    page.locator(".starter").first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "chat-start.png"))
    page.locator("#question").fill("What does an assistant lighthouse keeper earn at first?")
    page.locator("#question").press("Enter")
    answers_done(page, 1)
    page.locator("details.more summary").first.click()
    page.locator(".msg.bot .answer .marker").first.click()
    assert page.locator("#passage").is_visible()
    page.screenshot(path=str(ARTIFACTS / "chat-desktop.png"), full_page=True)
    page.close()


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory, build_fixture_index: Any,
                   embedder: Any, chunker: Any, fixture_service: Any) -> Iterator[str]:
    """A server over a copy of the fixture corpus plus a document with a hostile
    title (the shared fixture corpus keeps its four documents); the rest as fixture_service."""
    import uvicorn

    from advisor.answer.chat import ChatService
    from advisor.index import load_index
    from advisor.retrieval.retriever import Retriever

    root = tmp_path_factory.mktemp("hostile")
    corpus = root / "corpus"
    shutil.copytree(Path(__file__).resolve().parents[1] / "fixtures" / "corpus", corpus)
    (corpus / "5-Puppet_Engineer.md").write_text(HOSTILE_DOC, encoding="utf-8")
    build_fixture_index(root / "indexes", corpus, embedder=embedder)
    index = load_index(root / "indexes", "default", embedder=embedder, chunker=chunker)
    service = ChatService(retriever=Retriever(index=index, embedder=embedder),
                          prompts=fixture_service.prompts, generator=fixture_service.generator,
                          settings=fixture_service.settings)
    app = create_app(service, query_log=root / "queries.sqlite")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not server.started:
        time.sleep(0.1)
    try:
        assert server.started, "the hostile test server did not start"
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def test_hostile_career_title_shows_as_text_under_csp(browser: Any, hostile_server: str) -> None:
    assert HTTP.get(hostile_server + "/").headers["content-security-policy"].startswith(CSP)
    page = browser.new_page(viewport=PHONE)
    seen = watch(page)
    page.goto(hostile_server + "/")
    page.locator("#question").fill(
        "I enjoy sewing, drawing characters and performing puppet shows for children. "
        "Which career fits me?")
    page.locator("#question").press("Enter")
    answers_done(page, 1)
    bubble = page.locator(".msg.bot").first
    chip = bubble.locator(".careers .chip").first
    assert chip.text_content() == f"Tell me more about {HOSTILE}"
    assert any(HOSTILE in c for c in bubble.locator(".cite").all_text_contents())
    chip.click()
    answers_done(page, 2)
    assert page.locator(".msg.user").last.text_content() == f"Tell me more about {HOSTILE}"
    assert page.locator("img").count() == 0
    page.wait_for_timeout(300)
    assert seen["dialogs"] == []
    assert seen["errors"] == [], "a console error (a CSP violation?)"
    page.close()


def test_counselor_reference_search_and_compare(browser: Any, live_server: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_server + "/reference")
    page.wait_for_function("() => document.querySelectorAll('#career option').length > 2")
    page.locator("#q").fill("varroa mites")
    page.locator("#search button").click()
    page.locator("#results li strong").first.wait_for()
    assert "Beekeeper" in page.locator("#results li strong").first.text_content()

    page.select_option("#cmp-a", "2-Beekeeper")
    page.select_option("#cmp-b", "3-Glassblower")
    page.locator("#compare button").click()
    page.locator("#comparison tbody tr").first.wait_for()
    table = page.locator("#comparison").text_content()
    assert "silver marks" in table and "florins" in table
    page.screenshot(path=str(ARTIFACTS / "reference.png"), full_page=True)
    page.close()


@pytest.mark.parametrize(("log", "expected"), [
    ("var/q.sqlite", "for 7 days"),
    ("off", "your questions are not kept"),
])
def test_privacy_line_says_what_is_kept_and_how_long(log: str, expected: str) -> None:
    app = create_app(settings=Settings(query_log=Path(log), query_log_days=7))
    page = TestClient(app).get("/")  # no lifespan: the page needs no service
    assert page.status_code == 200
    line = page.text.split('id="privacy"', 1)[1].split("</p>", 1)[0]
    assert expected in " ".join(line.split())


@pytest.mark.parametrize("path", ["/", "/reference"])
def test_pages_have_nothing_inline_that_a_strict_policy_blocks(path: str) -> None:
    html = TestClient(create_app(settings=Settings())).get(path).text
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []  # inline script
    assert re.findall(r"\son[a-z]+\s*=", html) == []  # event handler attributes
    assert re.findall(r"<style|\sstyle\s*=", html) == []  # inline styles
    assert re.findall(r"(?:src|href)\s*=\s*\"(?:javascript|data):", html) == []
