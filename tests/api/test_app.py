"""create_app's start-up in the background: every failure shows in /readyz, with a message a
person can act on (fakes stand in for the index and model loaders)."""

from __future__ import annotations

import errno
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

import advisor.wiring
from advisor.api.app import create_app
from advisor.config import Settings
from advisor.errors import GenerationError


def _readyz_after_start(settings: Settings) -> dict[str, Any]:
    with TestClient(create_app(settings=settings)) as client:
        deadline = time.monotonic() + 30
        while True:
            reply = client.get("/readyz")
            body: dict[str, Any] = reply.json()
            if body["error"] or time.monotonic() > deadline:
                assert reply.status_code == 503
                assert client.get("/healthz").status_code == 200  # alive, not ready
                chat = client.post("/api/chat", json={"question": "what do they earn?"})
                assert chat.status_code == 503 and chat.json()["detail"] == body["error"]
                return body
            time.sleep(0.05)


def test_a_read_only_index_folder_is_named_in_readyz(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "indexes"

    def read_only(settings: Settings, *, build_if_missing: bool = False) -> Any:
        # What a build-if-missing meets on a read-only volume (root ignores chmod, so faked).
        raise OSError(errno.EROFS, "Read-only file system", str(index_dir / ".default.lock"))

    monkeypatch.setattr(advisor.wiring, "open_index", read_only)
    body = _readyz_after_start(Settings(index_dir=index_dir, query_log=tmp_path / "queries.sqlite"))
    assert body["ready"] is False
    error = body["error"]
    # Before: the loader caught only AdvisorError, and /readyz said error: null forever.
    assert error.startswith("the advisor could not start: read-only file system")
    assert "ADVISOR_INDEX_DIR" in error and ".default.lock" in error
    assert "may read it (and write it, to build the index)" in error


def test_an_unexpected_exception_is_shown_without_its_internals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(settings: Settings, *, build_if_missing: bool = False) -> Any:
        raise RuntimeError("segment 0x7f00 of /secret/path is bad")

    monkeypatch.setattr(advisor.wiring, "open_index", broken)
    body = _readyz_after_start(Settings(index_dir=tmp_path, query_log=tmp_path / "queries.sqlite"))
    assert body["error"] == (
        "the advisor could not start: unexpected RuntimeError while loading the index and the "
        "model; the server log has the traceback"
    )


class _FailingService:
    """Stands for a ChatService whose model server is unreachable."""

    def __init__(self, folder: Path) -> None:
        self.generator = None
        self.settings = SimpleNamespace(mode="extractive")
        self.catalog = SimpleNamespace(link=folder, build_id="fake", size=0)

    def stream(self, question: str, history: Any, *, mode: Any = None) -> Any:
        raise GenerationError("cannot reach the model server at http://llm-host:8080/v1: "
                              "ConnectError [Errno 111] /srv/advisor/secret")


def test_a_503_says_what_to_do_and_keeps_urls_and_paths_in_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    service = _FailingService(tmp_path)
    app = create_app(service, Settings(query_log=tmp_path / "q.sqlite"))  # type: ignore[arg-type]
    with TestClient(app) as client:
        reply = client.post("/api/chat", json={"question": "what do data engineers earn?"})
    assert reply.status_code == 503 and reply.headers["retry-after"] == "30"
    detail = reply.json()["detail"]
    assert detail == "the advisor cannot answer right now; please try again in a minute"
    assert "llm-host" in caplog.text  # the details went to the log
