"""The query log in a real PostgreSQL server that the tests start (see conftest), shared by
two app instances the way replicas behind a load balancer share it."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from advisor.api.app import create_app
from advisor.cli import main
from advisor.config import Settings
from advisor.querylog.log import SCHEMA_VERSION, token_hash
from advisor.querylog.postgres import PostgresLog, redact
from advisor.querylog.report import summarize
from advisor.types import Answer, Chunk, Hit

pytestmark = pytest.mark.postgres


def answer(question: str, refused: bool = False) -> Answer:
    chunk = Chunk("c1", "2-Beekeeper", "2. Beekeeper", ("Skills",), "text", 0, 4, 1)
    return Answer(question=question, text="a", citations=(), hits=(Hit(chunk, 0.5, 1),),
                  refused=refused, mode="extractive", query=question,
                  timings={"retrieval_ms": 5.0, "first_token_ms": 6.0, "total_ms": 7.0})


def test_log_feedback_purge_and_report_in_postgres(postgres_url: str) -> None:
    log = PostgresLog(postgres_url)
    try:
        first, token = log.record(answer("What does a beekeeper earn? mail x@y.org"), "2-Beekeeper")
        log.record(answer("Banana bread?", refused=True), None)
        assert log.rows("SELECT question FROM queries WHERE id = ?", first) == [
            ("What does a beekeeper earn? mail [email]",)]
        assert log.rows("SELECT token_hash FROM queries WHERE id = ?", first) == [
            (token_hash(token),)]
        assert log.feedback(token, "up") and log.feedback(token, "down", "second thoughts")
        assert not log.feedback("y" * 32, "up")
        assert log.rows("SELECT rating, comment FROM feedback") == [("down", "second thoughts")]
        summary = summarize(log)
        assert summary["questions"] == 2 and summary["feedback"] == {"up": 0, "down": 1}
        assert summary["uncovered"] == [{"question": "banana bread?", "count": 1}]
        log.rows("UPDATE queries SET ts = ? WHERE id = ?", time.time() - 40 * 86400, first)
        assert log.purge(30) == 1
        assert log.rows("SELECT count(*) FROM feedback") == [(0,)]
    finally:
        log.close()


def test_schema_is_created_once_when_replicas_start_together(postgres_url: str) -> None:
    logs: list[PostgresLog] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            logs.append(PostgresLog(postgres_url))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert not errors and all(log._migrated for log in logs)
        assert logs[0].rows("SELECT version FROM advisor_schema") == [(SCHEMA_VERSION,)]
        ids = {log.record(answer(f"q{i}"), None)[0] for i, log in enumerate(logs)}
        assert len(ids) == 4
    finally:
        for log in logs:
            log.close()


def test_a_database_that_is_down_at_start_is_retried(postgres_server: str) -> None:
    url = postgres_server.rsplit("/", 1)[0] + "/not_created_yet"
    log = PostgresLog(url, timeout=2)
    try:
        assert not log._migrated  # the server said no; the app still starts
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            conn.execute("CREATE DATABASE not_created_yet")
        qid, _ = log.record(answer("now?"), None)
        assert qid == 1 and log._migrated
    finally:
        log.close()
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS not_created_yet WITH (FORCE)")


def test_messages_never_show_the_password() -> None:
    shown = redact("postgresql://advisor:s3cret@db.internal:5433/advisor")
    assert shown == "postgresql://advisor@db.internal:5433/advisor"


def _ask(client: TestClient, question: str) -> dict[str, Any]:
    reply = client.post("/api/chat", json={"question": question, "mode": "extractive"})
    assert reply.status_code == 200, reply.text
    data: dict[str, Any] = reply.json()
    return data


def test_two_instances_share_answers_feedback_and_the_report(
    postgres_url: str, make_service: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(database_url=postgres_url, reload_s=0)
    service = make_service()
    a, b = create_app(service, settings), create_app(service, settings)
    with TestClient(a) as at_a, TestClient(b) as at_b:
        from_a = _ask(at_a, "What does an assistant lighthouse keeper earn?")
        from_b = _ask(at_b, "Why does a glassblower cool pieces slowly?")
        assert from_a["feedback_token"] and from_b["feedback_token"]
        # The answer came from A; the vote goes through B, and replaces itself there.
        vote = {"feedback_token": from_a["feedback_token"], "rating": "down"}
        assert at_b.post("/api/feedback", json=vote).json() == {"ok": True}
        vote["rating"] = "up"
        assert at_b.post("/api/feedback", json=vote).json() == {"ok": True}
        vote = {"feedback_token": from_b["feedback_token"], "rating": "up"}
        assert at_a.post("/api/feedback", json=vote).json() == {"ok": True}
        forged = {"feedback_token": "A" * 32, "rating": "down"}
        assert at_a.post("/api/feedback", json=forged).status_code == 404
    assert main(["report", "--json", "--database-url", postgres_url]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["questions"] == 2
    assert summary["feedback"] == {"up": 2, "down": 0}
    assert summary["per_career"] == {"1-Lighthouse_Keeper": 1, "3-Glassblower": 1}
