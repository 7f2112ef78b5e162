"""Loading documents (front matter, sections, broken files) and syncing the pinned corpus."""

from __future__ import annotations

import http.server
import json
import logging
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from advisor.config import Settings
from advisor.corpus.chunking import chunk_corpus
from advisor.corpus.documents import load_corpus, parse_document, sha256_bytes
from advisor.corpus.sync import read_manifest, sync_corpus
from advisor.errors import ChecksumError, CorpusError, DocumentError

REPO = Path(__file__).resolve().parents[2]
SITE_URL = Settings.model_fields["site_url"].default
GOOD = (
    "---\nlayout: resource\ntitle: \"9. Clockmaker\"\ndescription: \"Career Path\"\n"
    "permalink: /careers/9-Clockmaker/\n---\n# 9. Clockmaker\n\n## Getting Started:\n"
    "* **Tools:** Loupes and tweezers.\n"
)


def test_front_matter_gives_title_description_and_url(fixture_corpus: Path) -> None:
    doc = parse_document(fixture_corpus / "1-Lighthouse_Keeper.md", site_url=SITE_URL + "/")
    assert doc.doc_id == "1-Lighthouse_Keeper"
    assert doc.file_name == "1-Lighthouse_Keeper.md"
    assert doc.title == "1. Lighthouse Keeper"
    assert doc.description == "Career Path for a Lighthouse Keeper"
    # One slash between the site and the permalink, whatever either side carries.
    assert doc.url == SITE_URL + "/careers/career_paths/1-Lighthouse_Keeper/"
    raw = (fixture_corpus / "1-Lighthouse_Keeper.md").read_bytes()
    assert doc.source == raw.decode("utf-8")
    assert doc.content_hash == sha256_bytes(raw)
    assert doc.source[: doc.body_start].startswith("---") and "layout:" not in doc.source[
        doc.body_start :
    ]


def test_no_site_url_means_no_url(fixture_corpus: Path) -> None:
    assert parse_document(fixture_corpus / "2-Beekeeper.md").url is None


def test_corpus_loads_every_fixture_in_natural_order(fixture_corpus: Path) -> None:
    report = load_corpus(fixture_corpus, site_url=SITE_URL)
    assert report.skipped == ()
    ids = [d.doc_id for d in report.documents]
    assert ids == sorted(ids, key=lambda s: int(s.split("-")[0]))
    assert len(ids) == len(list(fixture_corpus.glob("*.md")))


@pytest.mark.parametrize("residue", ["{:toc}", "* TOC", "layout: resource", "permalink:"])
def test_residue_and_front_matter_are_in_no_chunk(fixture_corpus: Path, residue: str) -> None:
    chunks = chunk_corpus(load_corpus(fixture_corpus).documents)
    assert chunks
    assert not [c.chunk_id for c in chunks if residue in c.text]


def test_sections_have_heading_paths_and_the_repeated_heading_is_merged(
    fixture_corpus: Path,
) -> None:
    doc = parse_document(fixture_corpus / "1-Lighthouse_Keeper.md")
    paths = [s.path for s in doc.sections]
    # "## Role Definition & Responsibilities:" followed at once by the same "###" is one section.
    assert paths.count(("Role Definition & Responsibilities",)) == 1
    assert not any(p.count("Role Definition & Responsibilities") > 1 for p in paths)
    # The H1 that repeats the title is not part of any path; trailing colons are gone.
    assert not any("1. Lighthouse Keeper" in p for p in paths)
    assert ("Getting Started", "Entry-Level Positions") in paths
    assert ("Getting Started", "Key Skills Required") in paths
    assert ("GPT Prompts",) in paths
    for section in doc.sections:
        assert doc.body_start <= section.start < section.end <= len(doc.source)
        assert section.heading == section.path[-1] if section.path else True
    entry = next(s for s in doc.sections if s.path[-1:] == ("Entry-Level Positions",))
    assert "28,500 crowns" in doc.source[entry.start : entry.end]
    assert entry.anchor == "entry-level-positions"


def test_title_with_slash_keeps_both_names(fixture_corpus: Path) -> None:
    doc = parse_document(fixture_corpus / "4-Cartographer.md")
    assert doc.title == "4. Cartographer / Map Maker"
    assert not any("Cartographer / Map Maker" in " ".join(s.path) for s in doc.sections)


# ---------------------------------------------------------------- broken files

BROKEN: dict[str, tuple[bytes, str]] = {
    "5-Empty.md": (b"", "empty"),
    "6-Latin1.md": (GOOD.replace("Loupes", "Loupes \xe9").encode("latin-1"), "UTF-8"),
    "7-No_Front_Matter.md": (b"# 7. Tinker\n\nJust text.\n", "front matter"),
    "8-Broken_Yaml.md": (b"---\ntitle: \"8. Cooper\ndescription: [unclosed\n---\n# 8\n", "YAML"),
    "9-No_Title.md": (b"---\nlayout: resource\ndescription: x\n---\n# Nine\n\ntext\n", "title"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_file_is_named_with_its_reason(tmp_path: Path, name: str) -> None:
    data, reason = BROKEN[name]
    (tmp_path / name).write_bytes(data)
    with pytest.raises(DocumentError) as info:
        parse_document(tmp_path / name)
    assert info.value.path == name
    assert reason.lower() in info.value.reason.lower()
    assert str(info.value).startswith(f"{name}: ")


def test_broken_files_are_skipped_and_the_others_still_load(
    corpus_copy: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for name, (data, _) in BROKEN.items():
        (corpus_copy / name).write_bytes(data)
    good = sorted(p.stem for p in corpus_copy.glob("*.md") if p.name not in BROKEN)
    with caplog.at_level(logging.WARNING, logger="advisor.corpus"):
        report = load_corpus(corpus_copy)
    assert sorted(d.doc_id for d in report.documents) == good
    assert sorted(e.path for e in report.skipped) == sorted(BROKEN)
    for name in BROKEN:
        assert any(name in r.getMessage() for r in caplog.records)


def test_a_folder_without_documents_or_missing_is_a_corpus_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nowhere")
    (tmp_path / "README.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "1-Empty.md").write_bytes(b"  \n")
    with pytest.raises(CorpusError, match="no usable"):
        load_corpus(tmp_path)


# ---------------------------------------------------------------- sync


def _mirror_and_manifest(tmp_path: Path, fixture_corpus: Path) -> tuple[Path, Path]:
    mirror = tmp_path / "mirror"
    shutil.copytree(fixture_corpus, mirror)
    entries = [
        {"file": p.name, "url": f"https://example.invalid/{p.name}",
         "sha256": sha256_bytes(p.read_bytes())}
        for p in sorted(mirror.glob("*.md"))
    ]
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"name": "fixture", "documents": entries}), encoding="utf-8")
    return mirror, manifest


def test_sync_copies_every_file_then_writes_nothing(tmp_path: Path, fixture_corpus: Path) -> None:
    mirror, manifest = _mirror_and_manifest(tmp_path, fixture_corpus)
    target = tmp_path / "corpus"
    written = sync_corpus(manifest, target, source_dir=mirror)
    assert sorted(written) == sorted(p.name for p in mirror.glob("*.md"))
    for name in written:
        assert (target / name).read_bytes() == (mirror / name).read_bytes()
    assert not list(target.glob("*.part"))
    assert sync_corpus(manifest, target, source_dir=mirror) == []


def test_sync_refuses_a_file_whose_sha256_differs(tmp_path: Path, fixture_corpus: Path) -> None:
    mirror, manifest = _mirror_and_manifest(tmp_path, fixture_corpus)
    with (mirror / "2-Beekeeper.md").open("a", encoding="utf-8") as fh:
        fh.write("\nAn edit nobody pinned.\n")
    target = tmp_path / "corpus"
    with pytest.raises(ChecksumError, match="2-Beekeeper.md"):
        sync_corpus(manifest, target, source_dir=mirror)
    assert not (target / "2-Beekeeper.md").exists()
    assert not list(target.glob("2-Beekeeper*"))


def test_sync_refuses_a_missing_file(tmp_path: Path, fixture_corpus: Path) -> None:
    mirror, manifest = _mirror_and_manifest(tmp_path, fixture_corpus)
    (mirror / "3-Glassblower.md").unlink()
    with pytest.raises(ChecksumError, match="3-Glassblower.md"):
        sync_corpus(manifest, tmp_path / "corpus", source_dir=mirror)


def test_sync_replaces_a_stale_local_copy(tmp_path: Path, fixture_corpus: Path) -> None:
    mirror, manifest = _mirror_and_manifest(tmp_path, fixture_corpus)
    target = tmp_path / "corpus"
    sync_corpus(manifest, target, source_dir=mirror)
    (target / "1-Lighthouse_Keeper.md").write_text("stale", encoding="utf-8")
    assert sync_corpus(manifest, target, source_dir=mirror) == ["1-Lighthouse_Keeper.md"]


def test_an_unreadable_manifest_is_a_corpus_error(tmp_path: Path) -> None:
    bad = tmp_path / "manifest.json"
    bad.write_text('{"documents": [{"file": "x.md"}]}', encoding="utf-8")
    with pytest.raises(CorpusError, match="manifest"):
        read_manifest(bad)


def test_committed_manifest_pins_the_shared_corpus(shared_corpus: Path) -> None:
    meta, entries = read_manifest(REPO / "corpus" / "manifest.json")
    sums = {}
    for line in (shared_corpus.parent / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.strip().lstrip("*")] = digest
    assert len(entries) == len(sums) == 35
    assert {e.file: e.sha256 for e in entries} == sums
    assert meta["commit"] in entries[0].url
    for entry in entries:
        assert sha256_bytes((shared_corpus / entry.file).read_bytes()) == entry.sha256


def test_sync_from_the_shared_mirror(tmp_path: Path, shared_corpus: Path) -> None:
    target = tmp_path / "corpus"
    written = sync_corpus(REPO / "corpus" / "manifest.json", target, source_dir=shared_corpus)
    assert len(written) == 35
    report = load_corpus(target)
    assert len(report.documents) == 35 and report.skipped == ()


# ---------------------------------------------------------------- sync: what a manifest may ask


def _manifest(tmp_path: Path, *entries: dict[str, str]) -> Path:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"name": "t", "documents": list(entries)}), encoding="utf-8")
    return manifest


@pytest.mark.parametrize("name", ["../escape.md", "sub/dir.md", "..", "/etc/passwd", "a\\b.md",
                                  ".hidden.md", "two..dots.md", ""])
def test_a_manifest_file_name_must_be_plain(tmp_path: Path, name: str) -> None:
    manifest = _manifest(tmp_path, {"file": name, "url": "https://example.invalid/x.md",
                                    "sha256": "0" * 64})
    with pytest.raises(CorpusError, match="not a plain file name"):
        sync_corpus(manifest, tmp_path / "corpus", source_dir=tmp_path)
    assert not (tmp_path / "corpus").exists() and not (tmp_path / "escape.md").exists()


@pytest.mark.parametrize("url", ["http://example.invalid/x.md", "file:///etc/passwd",
                                 "ftp://example.invalid/x.md", "https:///no-host.md"])
def test_a_manifest_url_must_be_https(tmp_path: Path, url: str) -> None:
    manifest = _manifest(tmp_path, {"file": "x.md", "url": url, "sha256": "0" * 64})
    with pytest.raises(CorpusError, match="not an https URL"):
        read_manifest(manifest)


def test_a_mirror_file_over_the_size_cap_is_refused(tmp_path: Path, fixture_corpus: Path) -> None:
    mirror, manifest = _mirror_and_manifest(tmp_path, fixture_corpus)
    with pytest.raises(ChecksumError, match="larger than 1000 bytes"):
        sync_corpus(manifest, tmp_path / "corpus", source_dir=mirror, max_bytes=1000)


DOC = b"---\ntitle: \"1. Test\"\n---\n# 1. Test\n\nSome text.\n"


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves the sync's download cases over https on 127.0.0.1."""

    def do_GET(self) -> None:  # noqa: N802 - the http.server hook
        port = self.server.server_address[1]
        if self.path == "/doc.md":
            self._send(200, DOC, length=True)
        elif self.path == "/big-declared.md":
            self._send(200, b"x" * 5000, length=True)
        elif self.path == "/big-undeclared.md":
            self._send(200, b"x" * 5000, length=False)
        elif self.path.startswith("/hop"):  # /hop3 -> /hop2 -> /hop1 -> /hop0 -> /doc.md
            left = int(self.path[4:].split(".")[0])
            self._redirect(f"https://127.0.0.1:{port}/" + (f"hop{left - 1}.md" if left else
                                                           "doc.md"))
        elif self.path == "/to-http.md":
            self._redirect(f"http://127.0.0.1:{port}/doc.md")
        else:
            self._send(404, b"no", length=True)

    def _send(self, status: int, body: bytes, *, length: bool) -> None:
        self.send_response(status)
        if length:
            self.send_header("Content-Length", str(len(body)))
        else:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, where: str) -> None:
        self.send_response(302)
        self.send_header("Location", where)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ssl.SSLContext]]:
    """An https server on 127.0.0.1 with a throwaway self-signed certificate."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl to make a test certificate (apt-get install openssl)")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    server.socket = server_tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", ssl.create_default_context(
            cafile=str(cert))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _fetch_one(tmp_path: Path, https_server: tuple[str, ssl.SSLContext], path: str) -> list[str]:
    base, tls = https_server
    tmp_path.mkdir(exist_ok=True)
    manifest = _manifest(tmp_path, {"file": "doc.md", "url": base + path,
                                    "sha256": sha256_bytes(DOC)})
    return sync_corpus(manifest, tmp_path / "corpus", tls=tls, max_bytes=1000, timeout=20)


def test_sync_downloads_over_https(
    tmp_path: Path, https_server: tuple[str, ssl.SSLContext]
) -> None:
    assert _fetch_one(tmp_path, https_server, "/doc.md") == ["doc.md"]
    assert (tmp_path / "corpus" / "doc.md").read_bytes() == DOC


@pytest.mark.parametrize("path", ["/big-declared.md", "/big-undeclared.md"])
def test_a_download_over_the_size_cap_is_refused(
    tmp_path: Path, https_server: tuple[str, ssl.SSLContext], path: str
) -> None:
    with pytest.raises(ChecksumError, match="larger than 1000 bytes"):
        _fetch_one(tmp_path, https_server, path)
    assert not list((tmp_path / "corpus").iterdir())


def test_a_download_follows_at_most_three_redirects(
    tmp_path: Path, https_server: tuple[str, ssl.SSLContext]
) -> None:
    assert _fetch_one(tmp_path, https_server, "/hop2.md") == ["doc.md"]  # 3 redirects
    with pytest.raises(ChecksumError, match="redirect"):
        _fetch_one(tmp_path / "again", https_server, "/hop3.md")  # 4 redirects


def test_a_redirect_to_http_is_refused(
    tmp_path: Path, https_server: tuple[str, ssl.SSLContext]
) -> None:
    with pytest.raises(ChecksumError, match="leaves https"):
        _fetch_one(tmp_path, https_server, "/to-http.md")
