"""Ingestion end to end on small real files: loaders, page numbers, incremental
runs (unchanged, changed, removed, interrupted) and per-file errors."""

from __future__ import annotations

import shutil

import pytest

from conftest import CORPUS, excerpt, make_pdf
from ingest.pipeline import ingest
from lsn_assistant import Assistant
from lsn_assistant.config import get_settings
from lsn_assistant.store import ChunkStore

MASTERPLAN = "lsn-masterplan-2009-de.txt"
STRATEGY_EN = "lsn-cluster-strategy-2024-en.txt"


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "masterplan.txt").write_text(excerpt(MASTERPLAN, "3.2 Das Management von Life Science Nord", 2400), encoding="utf-8")
    (folder / "strategy.txt").write_text(excerpt(STRATEGY_EN, "This brings together around 250 stakeholders", 1800), encoding="utf-8")
    (folder / "manifest.toml").write_text(
        '[documents."masterplan.txt"]\ntitle = "Masterplan"\nyear = 2009\nlang = "de"\n'
        '[documents."strategy.txt"]\ntitle = "Strategy"\nyear = 2019\nlang = "en"\n',
        encoding="utf-8",
    )
    return folder


def statuses(report):
    return {f.doc: f.status for f in report.files}


def test_first_run_adds_then_rerun_embeds_nothing(corpus):
    first = ingest(progress=False)
    assert statuses(first) == {"masterplan.txt": "added", "strategy.txt": "added"}
    assert first.embedded > 0 and not first.failed
    size = first.index_size
    assert size == sum(f.chunks for f in first.files)

    again = ingest(progress=False)
    assert statuses(again) == {"masterplan.txt": "unchanged", "strategy.txt": "unchanged"}
    assert again.embedded == 0
    assert again.index_size == size


def test_changed_file_replaces_only_its_changed_chunks(corpus):
    ingest(progress=False)
    before = {c.chunk_id: c for c in ChunkStore(get_settings()).all_chunks()}
    path = corpus / "strategy.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n\nA wholly new closing paragraph about Kiel and Lübeck.\n", encoding="utf-8")
    second = ingest(progress=False)
    assert statuses(second)["strategy.txt"] == "updated"
    assert statuses(second)["masterplan.txt"] == "unchanged"
    report = next(f for f in second.files if f.doc == "strategy.txt")
    # Only the chunk(s) touched by the new paragraph are embedded again, per embedder.
    n_emb = len(get_settings().embedders)
    assert 0 < report.embedded <= 2 * n_emb
    after = ChunkStore(get_settings()).all_chunks()
    assert any("Kiel and Lübeck" in c.text for c in after)
    assert len({c.chunk_id for c in after}) == len(after) == second.index_size
    # the masterplan's chunks are untouched
    assert {c.chunk_id for c in after if c.doc == "masterplan.txt"} == {
        cid for cid, c in before.items() if c.doc == "masterplan.txt"
    }


def test_removed_file_loses_its_chunks(corpus):
    ingest(progress=False)
    (corpus / "strategy.txt").unlink()
    report = ingest(progress=False)
    assert statuses(report)["strategy.txt"] == "removed"
    docs = {c.doc for c in ChunkStore(get_settings()).all_chunks()}
    assert docs == {"masterplan.txt"}


def test_interrupted_ingest_is_usable_and_completed_by_next_run(corpus, monkeypatch):
    calls = {"n": 0}
    real_upsert = ChunkStore.upsert

    def failing_upsert(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C mid-run
        return real_upsert(self, *args, **kwargs)

    monkeypatch.setattr(ChunkStore, "upsert", failing_upsert)
    with pytest.raises(KeyboardInterrupt):
        ingest(progress=False)
    partial = ChunkStore(get_settings()).all_chunks()
    assert partial, "what was written before the interruption is kept (the next run reuses it)"
    # ... but a document is searchable only once all its chunks are in every collection
    assert Assistant.open().retriever.size == 0

    monkeypatch.setattr(ChunkStore, "upsert", real_upsert)
    report = ingest(progress=False)
    assert not report.failed
    # the batch written before the interruption is not embedded again
    total = sum(f.chunks for f in report.files) * len(get_settings().embedders)
    assert report.embedded < total
    assert report.index_size == sum(f.chunks for f in report.files)
    assert statuses(ingest(progress=False)) == {"masterplan.txt": "unchanged", "strategy.txt": "unchanged"}


def test_bad_files_get_clear_errors_and_the_rest_is_ingested(corpus):
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage")
    (corpus / "fake.pdf").write_text("I am not a PDF at all", encoding="utf-8")
    (corpus / "empty.txt").write_text("", encoding="utf-8")
    (corpus / "notes.xyz").write_text("unsupported", encoding="utf-8")  # not picked up from a folder
    report = ingest(progress=False)
    st = statuses(report)
    assert st["masterplan.txt"] == "added" and st["strategy.txt"] == "added"
    errors = {f.doc: f.error for f in report.files if f.status == "failed"}
    assert "readable PDF" in errors["broken.pdf"]
    assert "not a PDF" in errors["fake.pdf"]
    assert "empty" in errors["empty.txt"]
    assert "notes.xyz" not in st


def test_unknown_type_named_explicitly_is_refused(corpus):
    other = corpus.parent / "notes.xyz"
    other.write_text("some words", encoding="utf-8")
    report = ingest([other], progress=False)
    assert report.failed and "unsupported file type" in report.failed[0].error


def test_encrypted_pdf_is_refused_clearly(corpus, tmp_path):
    from pypdf import PdfReader, PdfWriter

    plain = make_pdf(tmp_path / "plain.pdf", ["Vertrauliche Seite über Medizintechnik in Kiel."])
    writer = PdfWriter()
    for page in PdfReader(plain).pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", owner_password="owner")
    with open(corpus / "secret.pdf", "wb") as fh:
        writer.write(fh)
    report = ingest(progress=False)
    errors = {f.doc: f.error for f in report.files if f.status == "failed"}
    assert "encrypted" in errors["secret.pdf"]
    assert statuses(report)["masterplan.txt"] == "added"


def test_pdf_page_numbers_reach_search_results(corpus):
    filler = " ".join(
        "Die Mitglieder treffen sich regelmäßig zu Workshops, Netzwerkabenden und Fachtagungen im Norden."
        for _ in range(6)
    )
    make_pdf(
        corpus / "report.pdf",
        [
            "Einleitung\n\nDieser Bericht beschreibt die Arbeit des Clusters in Hamburg und Kiel. " + filler,
            "Finanzierung\n\nDas Clustermanagement wird zu einem Drittel aus Mitgliedsbeiträgen finanziert. "
            "Der Rest stammt aus Projektmitteln des Landes Schleswig-Holstein. " + filler,
            "Ausblick\n\nKünftig sollen Wasserstoff-Tankstellen für Forschungsfahrzeuge gebaut werden. "
            "Geplant sind drei Standorte bis zum Jahr 2030. " + filler,
        ],
    )
    report = ingest(progress=False)
    assert statuses(report)["report.pdf"] == "added"
    results = Assistant.open().search("Wasserstoff-Tankstellen Standorte", k=3, filters={"doc": ["report.pdf"]})
    assert results[0].chunk.doc == "report.pdf"
    assert results[0].chunk.page == 3
    results = Assistant.open().search("Mitgliedsbeiträge Finanzierung", k=1, filters={"doc": ["report.pdf"]})
    assert results[0].chunk.page == 2


def test_copy_of_real_corpus_file_keeps_its_name(corpus):
    shutil.copy(CORPUS / "lsn-strategie-2030-de.txt", corpus)
    report = ingest(progress=False)
    assert statuses(report)["lsn-strategie-2030-de.txt"] == "added"
    hits = Assistant.open().search("Sichtbarkeit von LSN erhöhen", k=3)
    assert hits[0].chunk.doc == "lsn-strategie-2030-de.txt"
