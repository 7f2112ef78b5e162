"""Sync the pinned corpus: the documents a manifest lists, from a local mirror or their https
URLs, each checked against its sha256 before it is written."""

from __future__ import annotations

import json
import re
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from advisor.corpus.documents import sha256_bytes
from advisor.errors import ChecksumError, CorpusError

#: A manifest's file names are plain: no folders, no way out of the corpus folder.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}")
#: The largest file a sync downloads (the career documents are 5-30 KB).
MAX_FILE_BYTES = 2 * 1024 * 1024
#: Redirects a download may follow, each to another https URL.
MAX_REDIRECTS = 3


@dataclass(frozen=True)
class ManifestEntry:
    """One pinned document: where it comes from and its sha256."""

    file: str
    url: str
    sha256: str


def read_manifest(path: Path) -> tuple[dict[str, str], tuple[ManifestEntry, ...]]:
    """The corpus manifest's metadata and its entries (plain file names, https URLs)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        entries = tuple(ManifestEntry(e["file"], e["url"], e["sha256"]) for e in raw["documents"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CorpusError(f"corpus manifest {path} is unreadable: {exc}") from exc
    for entry in entries:
        _check_entry(path, entry)
    meta = {k: str(v) for k, v in raw.items() if k != "documents"}
    return meta, entries


def _check_entry(manifest: Path, entry: ManifestEntry) -> None:
    name = str(entry.file)
    if not _PLAIN_NAME.fullmatch(name) or ".." in name:
        raise CorpusError(
            f"corpus manifest {manifest}: file {name!r} is not a plain file name (letters, "
            "digits, '.', '_' and '-'; no '/' and no '..'); fix the manifest"
        )
    url = urlsplit(str(entry.url))
    if url.scheme != "https" or not url.hostname:
        raise CorpusError(
            f"corpus manifest {manifest}: {name} comes from {entry.url!r}, which is not an "
            "https URL; the corpus is only downloaded over https"
        )


def sync_corpus(
    manifest: Path,
    target: Path,
    *,
    source_dir: Path | None = None,
    timeout: float = 30.0,
    max_bytes: int = MAX_FILE_BYTES,
    tls: ssl.SSLContext | None = None,
) -> list[str]:
    """Fill ``target`` with the pinned documents, from a local mirror or their URLs.

    Files already present with the right sha256 are left alone; returns the files written.
    A download is https only (redirects too, at most ``MAX_REDIRECTS``) and at most
    ``max_bytes``; ``tls`` replaces the system's certificate check (tests).
    """
    _, entries = read_manifest(manifest)
    target.mkdir(parents=True, exist_ok=True)
    opener = _opener(tls)
    written: list[str] = []
    for entry in entries:
        dest = target / entry.file
        if dest.is_file() and sha256_bytes(dest.read_bytes()) == entry.sha256:
            continue
        data = _fetch(entry, source_dir, timeout=timeout, max_bytes=max_bytes, opener=opener)
        digest = sha256_bytes(data)
        if digest != entry.sha256:
            raise ChecksumError(
                f"{entry.file}: sha256 {digest[:12]}… does not match the pinned "
                f"{entry.sha256[:12]}…; the file was not written"
            )
        tmp = dest.with_suffix(dest.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(dest)
        written.append(entry.file)
    return written


class _HttpsRedirects(urllib.request.HTTPRedirectHandler):
    """Follows at most ``MAX_REDIRECTS`` redirects, each to an https URL."""

    max_redirections = MAX_REDIRECTS

    def redirect_request(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        if urlsplit(newurl).scheme != "https":
            raise urllib.error.HTTPError(
                newurl, code, f"redirect to {newurl!r} leaves https", headers, fp
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener(tls: ssl.SSLContext | None) -> urllib.request.OpenerDirector:
    handlers: list[Any] = [_HttpsRedirects()]
    if tls is not None:
        handlers.append(urllib.request.HTTPSHandler(context=tls))
    return urllib.request.build_opener(*handlers)


def _fetch(
    entry: ManifestEntry,
    source_dir: Path | None,
    *,
    timeout: float,
    max_bytes: int,
    opener: urllib.request.OpenerDirector,
) -> bytes:
    too_big = f"{entry.file}: larger than {max_bytes} bytes; the file was not written"
    if source_dir is not None:
        path = source_dir / entry.file
        if not path.is_file():
            raise ChecksumError(f"{entry.file}: missing from {source_dir}")
        if path.stat().st_size > max_bytes:
            raise ChecksumError(too_big)
        return path.read_bytes()
    try:
        with opener.open(entry.url, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) > max_bytes:
                raise ChecksumError(too_big)
            data: bytes = response.read(max_bytes + 1)
    except OSError as exc:  # URLError and HTTPError are OSErrors
        reason = getattr(exc, "reason", None) or exc
        raise ChecksumError(f"{entry.file}: download from {entry.url} failed ({reason})") from exc
    if len(data) > max_bytes:
        raise ChecksumError(too_big)
    return data
