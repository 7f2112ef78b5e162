"""The query log seen through the API: a failing log never breaks an answer, the log can be
off, old questions go at start, and what is stored is scrubbed. On the fakes of conftest."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from advisor.api.app import create_app
from advisor.config import Settings
from advisor.errors import QueryLogError
from advisor.querylog.sqlite import SQLiteLog

QUESTION = "What does an assistant lighthouse keeper earn at the start?"


class BrokenLog(SQLiteLog):
    """A log whose disk went away after it opened."""

    def record(self, *args: Any, **kwargs: Any) -> tuple[int, str]:
        raise QueryLogError("disk I/O error")

    def feedback(self, *args: Any, **kwargs: Any) -> bool:
        raise QueryLogError("disk I/O error")


@pytest.fixture
def service(make_service: Callable[..., Any]) -> Any:
    return make_service()


def metric(client: TestClient, sample: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(sample + " "):
            return float(line.split()[-1])
    return 0.0


def test_a_failing_log_is_counted_and_the_answer_still_goes_out(
    service: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture, read_sse: Any
) -> None:
    app = create_app(service, Settings(reload_s=0), query_log=tmp_path / "q.sqlite")
    with TestClient(app) as client:
        app.state.advisor.querylog.store = BrokenLog(tmp_path / "broken.sqlite")
        whole = client.post("/api/chat", json={"question": QUESTION, "mode": "extractive"})
        assert whole.status_code == 200 and "28,500 crowns" in whole.json()["answer"]
        assert whole.json()["feedback_token"] is None
        streamed = client.post("/api/chat", json={"question": QUESTION, "mode": "extractive",
                                                  "stream": True})
        kinds = [name for name, _ in read_sse(streamed)]
        assert streamed.status_code == 200 and kinds[-1] == "done" and "error" not in kinds
        completion = client.post("/v1/chat/completions",
                                 json={"messages": [{"role": "user", "content": QUESTION}]})
        assert completion.status_code == 200
        assert metric(client, 'advisor_querylog_errors_total{operation="record"}') == 3
        vote = client.post("/api/feedback", json={"feedback_token": "A" * 32, "rating": "up"})
        assert vote.status_code == 503 and "disk" not in vote.text
        assert metric(client, 'advisor_querylog_errors_total{operation="feedback"}') == 1
    assert "query log record failed: disk I/O error" in caplog.text


def test_a_log_that_cannot_be_opened_leaves_the_advisor_answering(
    service: Any, tmp_path: Path
) -> None:
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    app = create_app(service, Settings(reload_s=0), query_log=blocked / "q.sqlite")
    with TestClient(app) as client:
        reply = client.post("/api/chat", json={"question": QUESTION, "mode": "extractive"})
        assert reply.status_code == 200 and reply.json()["feedback_token"] is None
        assert metric(client, 'advisor_querylog_errors_total{operation="open"}') == 1


def test_the_log_can_be_off(service: Any, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ADVISOR_QUERY_LOG", "off")
    settings = Settings(reload_s=0)
    assert settings.query_log == Path("off")
    with TestClient(create_app(service, settings)) as client:
        data = client.post("/api/chat", json={"question": QUESTION, "mode": "extractive"}).json()
        assert data["query_id"] is None and data["feedback_token"] is None
        vote = client.post("/api/feedback", json={"feedback_token": "A" * 32, "rating": "up"})
        assert vote.status_code == 404 and "off" in vote.json()["detail"]
    assert list(tmp_path.iterdir()) == []  # no file written anywhere


def test_old_questions_are_purged_at_start_and_new_ones_kept_scrubbed(
    service: Any, tmp_path: Path
) -> None:
    path = tmp_path / "q.sqlite"
    log = SQLiteLog(path)
    from test_querylog import answer

    log.record(answer("an old question", False, 1.0), None)
    log.record(answer("a recent question", False, 1.0), None)
    log.rows("UPDATE queries SET ts = ? WHERE question = 'an old question'",
             time.time() - 8 * 86400)
    log.close()
    app = create_app(service, Settings(reload_s=0, query_log_days=7), query_log=path)
    with TestClient(app) as client:
        question = "I'm ana.silva@school.lk (077 123 4567), what do lighthouse keepers earn?"
        reply = client.post("/api/chat", json={"question": question, "mode": "extractive"})
        assert reply.status_code == 200
    db = sqlite3.connect(path)
    stored = [q for (q,) in db.execute("SELECT question FROM queries ORDER BY id")]
    db.close()
    assert stored == ["a recent question",
                      "I'm [email] [phone], what do lighthouse keepers earn?"]
