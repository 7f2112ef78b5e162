"""Loading documents (front matter, sections, broken files) and syncing the pinned corpus."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from advisor.chunking import chunk_corpus
from advisor.config import Settings
from advisor.corpus import (
    load_corpus,
    parse_document,
    read_manifest,
    sha256_bytes,
    sync_corpus,
)
from advisor.errors import ChecksumError, CorpusError, DocumentError

REPO = Path(__file__).resolve().parents[1]
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
