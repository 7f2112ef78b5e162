"""schemathesis against the live OpenAPI document of a real server (127.0.0.1): every
operation, the stream variants included, with all checks but positive_data_acceptance
(tests/api/schemathesis.toml says why), for a bounded time; then the server must still be
healthy."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from processes import HTTP

CONFIG = Path(__file__).resolve().parent / "schemathesis.toml"
SECONDS = 45  # the fuzzing budget; the run ends a few seconds after it
EXAMPLES = 10  # most examples per operation and phase


def _schemathesis() -> str:
    beside = Path(sys.executable).parent / "schemathesis"
    found = str(beside) if beside.is_file() else shutil.which("schemathesis")
    if found is None:
        pytest.skip("schemathesis not installed: pip install schemathesis")
    return found


def test_fuzzing_finds_no_server_error_and_no_schema_violation(
    extractive_server: str, tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    run = subprocess.run(
        [_schemathesis(), "--config-file", str(CONFIG), "run", extractive_server + "/openapi.json",
         "--checks", "all", "--exclude-checks", "positive_data_acceptance",
         "--max-examples", str(EXAMPLES), "--max-time", str(SECONDS), "--workers", "1",
         "--seed", "1", "--request-timeout", "30",
         "--report", "json", "--report-json-path", str(report)],
        cwd=tmp_path, capture_output=True, text=True, timeout=SECONDS + 240, check=False,
    )
    assert report.is_file(), run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads(report.read_text(encoding="utf-8"))
    operations, cases = result["operations"], result["test_cases"]
    print(f"\nschemathesis: {operations['tested']}/{operations['total']} operations, "
          f"{cases['generated']} requests generated, {len(result['failures'])} failures, "
          f"{len(result['errors'])} errors, stop: {result['stop_reason']}")
    assert result["failures"] == [], run.stdout[-6000:]
    assert result["errors"] == [], run.stdout[-6000:]
    assert run.returncode == 0, run.stdout[-6000:]
    paths = {op["path"] for op in _operations(extractive_server)}
    assert operations["tested"] == operations["total"] == len(_operations(extractive_server))
    assert {"/api/chat", "/v1/chat/completions", "/api/search"} <= paths
    assert cases["generated"] >= 10 * operations["total"]

    # Still healthy afterwards: alive, ready, and answering.
    assert HTTP.get(extractive_server + "/healthz", timeout=10).status_code == 200
    assert HTTP.get(extractive_server + "/readyz", timeout=10).status_code == 200
    found = HTTP.post(extractive_server + "/api/search", json={"query": "varroa mites"},
                      timeout=30)
    assert found.status_code == 200 and found.json()["results"][0]["doc_id"] == "2-Beekeeper"


def _operations(url: str) -> list[dict[str, str]]:
    schema = HTTP.get(url + "/openapi.json", timeout=10).json()
    return [{"path": p, "method": m} for p, ops in schema["paths"].items() for m in ops]


def test_the_schema_documents_the_streams_and_error_replies(extractive_server: str) -> None:
    schema = HTTP.get(extractive_server + "/openapi.json", timeout=10).json()
    chat = schema["paths"]["/api/chat"]["post"]
    assert "text/event-stream" in chat["responses"]["200"]["content"]
    assert {"400", "413", "422", "503"} <= set(chat["responses"])
    examples = chat["requestBody"]["content"]["application/json"]["examples"]
    assert examples["stream"]["value"]["stream"] is True
    v1 = schema["paths"]["/v1/chat/completions"]["post"]
    assert "text/event-stream" in v1["responses"]["200"]["content"]
    assert "HTTPValidationError" not in schema["components"]["schemas"]
