"""The SQLite query log (scrubbing, feedback tokens, retention, a corrupt file) and
``advisor report``."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from advisor.cli import main
from advisor.errors import InputError
from advisor.querylog import open_query_log
from advisor.querylog.log import scrub, token_hash
from advisor.querylog.report import printable, summarize_log
from advisor.querylog.sqlite import SQLiteLog
from advisor.types import Answer, Chunk, Hit


def answer(question: str, refused: bool, total: float) -> Answer:
    chunk = Chunk("c1", "2-Beekeeper", "2. Beekeeper", ("Skills",), "text", 0, 4, 1)
    return Answer(question=question, text="a", citations=(), hits=(Hit(chunk, 0.5, 1),),
                  refused=refused, mode="generative", query=question,
                  timings={"retrieval_ms": 10.0, "first_token_ms": total / 2, "total_ms": total})


def test_log_report_and_feedback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "var" / "queries.sqlite"
    log = SQLiteLog(path)
    first, token = log.record(answer("How do beekeepers work?", False, 1000.0), "2-Beekeeper")
    log.record(answer("Banana bread?", True, 100.0), None)
    log.record(answer("banana bread? ", True, 120.0), None)
    assert log.feedback(token, "up") and not log.feedback("x" * 32, "down")
    stored = log.rows("SELECT question, career, chunks FROM queries WHERE id = ?", first)[0]
    assert stored[1] == "2-Beekeeper" and json.loads(stored[2])[0]["id"] == "c1"
    log.close()
    summary = summarize_log(path)
    assert summary["questions"] == 3
    assert summary["per_career"]["2-Beekeeper"] == 1
    assert summary["refusal_rate"] == pytest.approx(2 / 3, abs=1e-3)
    assert summary["uncovered"][0] == {"question": "banana bread?", "count": 2}
    assert summary["feedback"] == {"up": 1, "down": 0}
    assert main(["report", "--log", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["questions"] == 3
    assert main(["report", "--log", str(path)]) == 0
    assert "add these to the corpus" in capsys.readouterr().out


def test_report_on_a_missing_log_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        summarize_log(tmp_path / "nothing.sqlite")
    assert main(["report", "--log", str(tmp_path / "nothing.sqlite")]) == 2


def test_report_when_the_log_is_off(monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ADVISOR_QUERY_LOG", "off")
    monkeypatch.delenv("ADVISOR_DATABASE_URL", raising=False)
    assert main(["report"]) == 2
    assert "the query log is off" in capsys.readouterr().err
    assert open_query_log(path=Path("off"), database_url=None) is None
    # Off wins over a database URL: the chat page says nothing is kept, and nothing is.
    assert open_query_log(path=Path("off"), database_url="postgresql://x@127.0.0.1:9/x") is None


@pytest.mark.parametrize(("said", "kept"), [
    ("mail me at nimal.perera+cv@gmail.com please", "mail me at [email] please"),
    ("call +94 77 123 4567 after 5", "call [phone] after 5"),
    ("my number is (555) 123-4567.", "my number is [phone]."),
    ("077-1234567 is mine", "[phone] is mine"),
    ("student id 200212345678, NIC 851234567V", "student id [number], NIC [number]V"),
    ("(id 20231234567) and (0771234567)", "(id [number]) and ([number])"),
    ("(555)1234567 or 555 1234, not 55 12", "[phone] or [phone], not 55 12"),
    # Salaries, ranges, years and small figures stay: the report needs them.
    ("is $60,000 - $80,000 good for a junior?", "is $60,000 - $80,000 good for a junior?"),
    ("LKR 150,000 per month in 2024", "LKR 150,000 per month in 2024"),
    ("between 2020 and 2024, 3.5 years", "between 2020 and 2024, 3.5 years"),
    ("28,500 crowns at the start", "28,500 crowns at the start"),
])
def test_scrub_removes_contact_details_and_ids(said: str, kept: str) -> None:
    assert scrub(said) == kept


def test_questions_are_scrubbed_before_they_are_stored(tmp_path: Path) -> None:
    log = SQLiteLog(tmp_path / "q.sqlite")
    qa = answer("I'm kamal@uni.lk, 0771234567: what do DBAs earn?", False, 10.0)
    _, token = log.record(qa, None)
    log.feedback(token, "down", "write to me at kamal@uni.lk")
    (question, query), = log.rows("SELECT question, query FROM queries")
    assert question == query == "I'm [email], [number]: what do DBAs earn?"
    assert log.rows("SELECT comment FROM feedback") == [("write to me at [email]",)]
    raw = (tmp_path / "q.sqlite").read_bytes() + (tmp_path / "q.sqlite-wal").read_bytes()
    assert b"kamal@uni.lk" not in raw and b"0771234567" not in raw
    log.close()


def test_tokens_are_unguessable_stored_hashed_and_a_second_vote_replaces_the_first(
    tmp_path: Path,
) -> None:
    log = SQLiteLog(tmp_path / "q.sqlite")
    ids_tokens = [log.record(answer(f"question {i}", False, 1.0), None) for i in range(50)]
    tokens = [t for _, t in ids_tokens]
    assert len(set(tokens)) == 50 and all(len(t) >= 32 for t in tokens)
    stored = {h for (h,) in log.rows("SELECT token_hash FROM queries")}
    assert not stored & set(tokens) and token_hash(tokens[0]) in stored
    assert log.feedback(tokens[3], "up")
    assert log.feedback(tokens[3], "down", "changed my mind")
    assert log.rows("SELECT query_id, rating, comment FROM feedback") == [
        (ids_tokens[3][0], "down", "changed my mind")]
    assert not log.feedback(tokens[3][:-1] + ("A" if tokens[3][-1] != "A" else "B"), "up")
    log.close()


def test_purge_drops_old_questions_and_their_votes(tmp_path: Path) -> None:
    log = SQLiteLog(tmp_path / "q.sqlite")
    _, old = log.record(answer("old question", False, 1.0), None)
    log.record(answer("new question", False, 1.0), None)
    log.feedback(old, "up")
    log.rows("UPDATE queries SET ts = ? WHERE question = 'old question'", time.time() - 31 * 86400)
    assert log.purge(30) == 1
    assert log.rows("SELECT question FROM queries") == [("new question",)]
    assert log.rows("SELECT count(*) FROM feedback") == [(0,)]
    assert log.purge(30) == 0
    log.close()


def test_a_corrupt_log_is_moved_aside_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "queries.sqlite"
    path.write_bytes(b"this is not a database, it was cut off in a crash" * 100)
    log = SQLiteLog(path)
    assert log.moved_aside is not None and log.moved_aside.read_bytes().startswith(b"this is not")
    assert "moved it aside" in caplog.text
    qid, _ = log.record(answer("still logging?", False, 1.0), None)
    assert qid == 1
    log.close()


def test_a_log_of_the_previous_version_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE queries (id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL,
            question TEXT NOT NULL, query TEXT NOT NULL, career TEXT, chunks TEXT NOT NULL,
            refused INTEGER NOT NULL, mode TEXT NOT NULL, retrieval_ms REAL,
            first_token_ms REAL, total_ms REAL);
        CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL,
            query_id INTEGER NOT NULL REFERENCES queries(id), rating TEXT NOT NULL,
            comment TEXT NOT NULL DEFAULT '');
        INSERT INTO queries VALUES (1, 1.0, 'q', 'q', NULL, '[]', 0, 'generative', 1, 1, 1);
        INSERT INTO feedback VALUES (1, 1.0, 1, 'up', ''), (2, 2.0, 1, 'up', ''),
                                    (3, 3.0, 1, 'down', '');
    """)
    db.commit()
    db.close()
    for _ in range(2):  # twice: the migration is idempotent
        log = SQLiteLog(path)
        assert log.rows("SELECT id, rating FROM feedback") == [(3, "down")]
        assert log.rows("PRAGMA user_version") == [(2,)]
        log.close()
    log = SQLiteLog(path)
    _, token = log.record(answer("new", False, 1.0), None)
    assert log.feedback(token, "up")
    log.close()


def test_report_strips_control_and_bidi_characters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "q.sqlite"
    log = SQLiteLog(path)
    nasty = "salary\x1b[2J\x1b[31m of a \u202eenihcam\u202c keeper\u200b?\r\n\x07"
    log.record(answer(nasty, True, 1.0), None)
    log.close()
    assert main(["report", "--log", str(path)]) == 0
    out = capsys.readouterr().out
    for bad in ("\x1b", "\u202e", "\u202c", "\u200b", "\r", "\x07"):
        assert bad not in out
    assert "salary [2j [31m of a enihcam keeper ?" in out
    assert main(["report", "--log", str(path), "--json"]) == 0
    question = json.loads(capsys.readouterr().out)["uncovered"][0]["question"]
    assert question == printable(nasty.lower().strip())
    assert "\u202e" not in question and "\x1b" not in question
