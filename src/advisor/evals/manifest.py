"""The run manifest: everything needed to say what produced a benchmark figure.

Git commit, settings (secrets left out), the embedder's name and file hashes, the language
model file's sha256, library versions, and the hashes of the corpus and of every input file.
"""

from __future__ import annotations

import hashlib
import json
import platform
import shlex
import subprocess
import time
from collections.abc import Sequence
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from advisor.config import Settings
from advisor.errors import AdvisorError

LIBRARIES = ("advisor", "faiss-cpu", "bm25s", "ranx", "numpy", "sentence-transformers",
             "transformers", "torch", "onnxruntime", "llama-cpp-python", "tiktoken")
#: Settings whose values are never written down (a URL may hold a password).
SECRET = frozenset({"llm_api_key", "database_url"})
_SOURCE = Path(__file__).resolve().parents[3]


@lru_cache(maxsize=64)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, remembered while its size and time are unchanged."""
    stat = path.stat()
    return _file_sha256(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


def git_state(folder: Path = _SOURCE) -> dict[str, Any]:
    """The commit of the source tree and whether it has uncommitted changes."""
    try:
        commit = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"],
                                capture_output=True, text=True, timeout=10, check=True)
        status = subprocess.run(["git", "-C", str(folder), "status", "--porcelain",
                                 "--untracked-files=no"],
                                capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip())}


def library_versions() -> dict[str, str]:
    """Versions of the libraries a figure depends on, and Python's."""
    out = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def public_settings(settings: Settings) -> dict[str, Any]:
    """Every setting as JSON, secrets replaced by whether they are set."""
    values = settings.model_dump(mode="json")
    for key in SECRET & set(values):
        values[key] = "(set)" if values[key] not in (None, "", "not-needed") else values[key]
    return values


def embedder_info(settings: Settings) -> dict[str, Any]:
    """The embedder's name, folder, runtime and the sha256 of each of its files."""
    from advisor.embeddings import resolve_model

    try:
        name, folder = resolve_model(settings.embedder)
    except AdvisorError as exc:
        return {"setting": settings.embedder, "error": str(exc)}
    files = {
        str(p.relative_to(folder)): file_sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".git" not in p.parts and "__pycache__" not in p.parts
    }
    return {"name": name, "path": str(folder), "runtime": settings.embedder_runtime,
            "files": files}


def llm_info(settings: Settings) -> dict[str, Any]:
    """The language model: its GGUF file and sha256, or the remote server it is asked on."""
    if settings.llm_url:
        return {"url": settings.llm_url, "model": settings.llm_remote_model}
    from advisor.llm import default_model_path

    try:
        path = settings.llm_model or default_model_path()
        return {"path": str(path), "sha256": file_sha256(Path(path))}
    except (AdvisorError, OSError) as exc:
        return {"path": str(settings.llm_model or ""), "error": str(exc)}


def corpus_hash(index_manifest: dict[str, Any]) -> dict[str, Any]:
    """The corpus an index was built from: the BEIR file's sha256, or one hash over every
    document's sha256."""
    beir = index_manifest.get("beir")
    if beir:
        return {"kind": "beir", "path": beir.get("corpus"), "sha256": beir.get("corpus_sha256")}
    docs = index_manifest.get("documents", {})
    joined = json.dumps(docs, sort_keys=True).encode()
    return {"kind": "markdown", "documents": len(docs),
            "sha256": hashlib.sha256(joined).hexdigest()}


def run_manifest(
    settings: Settings,
    *,
    argv: Sequence[str],
    inputs: Sequence[Path],
    index_manifest: dict[str, Any] | None = None,
    index_path: Path | None = None,
) -> dict[str, Any]:
    """The manifest of one eval or eval-answers run."""
    out: dict[str, Any] = {
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": shlex.join(["advisor", *argv]),
        "git": git_state(),
        "settings": public_settings(settings),
        "embedder": embedder_info(settings),
        "llm": llm_info(settings),
        "libraries": library_versions(),
        "inputs": {str(p): file_sha256(p) for p in inputs if p.is_file()},
    }
    if index_manifest is not None:
        out["corpus"] = corpus_hash(index_manifest)
        out["index"] = {
            "path": str(index_path) if index_path else None,
            "built_at": index_manifest.get("built_at"),
            "n_chunks": index_manifest.get("n_chunks"),
            "n_sentences": index_manifest.get("n_sentences"),
            "ann": index_manifest.get("ann"),
        }
    return out
