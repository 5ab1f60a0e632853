"""Chroma server mode (LSN_CHROMA_URL) against a real `chroma run`: ingest and
search through the server, nothing stored locally, and clear errors when the
server is not there or goes away."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
from fastapi.testclient import TestClient

from conftest import start_chroma, stop, CORPUS, excerpt, free_port, clean_settings
from ingest.pipeline import ingest
from lsn_assistant import Assistant
from lsn_assistant.api import create_app
from lsn_assistant.config import get_settings
from lsn_assistant.errors import StoreUnavailable

STRATEGY_EN = "lsn-cluster-strategy-2024-en.txt"
MASTERPLAN = "lsn-masterplan-2009-de.txt"
LSN = Path(sys.executable).parent / "lsn"




def write_corpus(folder: Path, masterplan: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = excerpt(STRATEGY_EN, "This strategy should now be implemented jointly", 1000)
    (folder / STRATEGY_EN).write_text(text[: text.index("Life Science locations.") + 23] + "\n", encoding="utf-8")
    if masterplan:
        (folder / MASTERPLAN).write_text(excerpt(MASTERPLAN, "3.2 Das Management von Life Science Nord", 1300), encoding="utf-8")
    shutil.copy(CORPUS / "manifest.toml", folder)
    return folder


def chroma_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def unreachable_url() -> str:
    return f"http://127.0.0.1:{free_port()}"  # a free port: nothing listens there


# ---- a running server


def test_ingest_and_search_through_a_chroma_server(chroma_server, tmp_path, monkeypatch):
    url, _proc = chroma_server
    write_corpus(tmp_path / "corpus")  # the test's LSN_CORPUS_DIR
    monkeypatch.setenv("LSN_CHROMA_URL", url)
    get_settings.cache_clear()
    settings = get_settings()
    assert settings.chroma_url == url

    first = ingest(progress=False)
    assert {f.doc: f.status for f in first.files} == {STRATEGY_EN: "added", MASTERPLAN: "added"}
    assert first.location == url
    assert first.index_size == sum(f.chunks for f in first.files) >= 2
    assert first.embedded == first.index_size * len(settings.embedders)

    assistant = Assistant.open()
    assert assistant.health()["store"] == "server"
    assert assistant.health()["index_size"] == first.index_size
    # (filtered: ranking across languages is test_search's business)
    hits = assistant.search("How many stakeholders does Life Science Nord e.V. bring together?", k=1, filters={"lang": ["en"]})
    assert hits[0].chunk.doc == STRATEGY_EN and "250 stakeholders" in hits[0].chunk.text
    hits = assistant.search("Norgenta Norddeutsche Life Science Agentur", k=1, filters={"lang": ["de"]})
    assert hits[0].chunk.doc == MASTERPLAN and "Norgenta" in hits[0].chunk.text

    again = ingest(progress=False)
    assert {f.status for f in again.files} == {"unchanged"}
    assert again.embedded == 0
    assert again.index_size == first.index_size

    # the data lives in the server: nothing of Chroma's in the local data dir ...
    assert chroma_files(settings.data_dir / "chroma") == []
    # ... another client with the same URL (and another data dir) sees all of it ...
    other = Assistant.open(clean_settings(data_dir=tmp_path / "elsewhere", chroma_url=url))
    assert other.retriever.size == first.index_size
    assert {c.chunk_id for c in other.retriever.chunks} == {c.chunk_id for c in assistant.retriever.chunks}
    assert other.search("Norgenta Agentur", k=1, filters={"year": [2009]})[0].chunk.doc == MASTERPLAN
    assert chroma_files(tmp_path / "elsewhere") == []
    # ... Chroma's own client finds the collections there ...
    import chromadb

    parsed = urlparse(url)
    raw = chromadb.HttpClient(host=parsed.hostname, port=parsed.port)
    for emb in settings.embedders:
        assert raw.get_collection(f"{settings.collection_prefix}_{emb}").count() == first.index_size
    # ... and the embedded store at the same data dir is empty
    local = Assistant.open(clean_settings(data_dir=settings.data_dir))
    assert local.retriever.size == 0


def test_server_stopped_during_use(chroma_server, tmp_path):
    url, proc = chroma_server
    settings = clean_settings(data_dir=tmp_path / "data", corpus_dir=write_corpus(tmp_path / "corpus", masterplan=False), chroma_url=url)
    assert ingest(settings=settings, progress=False).index_size >= 1
    assistant = Assistant.open(settings)
    assert assistant.search("Life Science Nord stakeholders", k=1)
    client = TestClient(create_app(settings, assistant), raise_server_exceptions=False)
    assert client.post("/api/search", json={"query": "Life Science Nord"}).status_code == 200

    proc.terminate()
    proc.wait(timeout=10)

    with pytest.raises(StoreUnavailable) as err:
        assistant.search("Life Science Nord stakeholders", k=1)
    assert url in str(err.value)

    r = client.post("/api/search", json={"query": "Life Science Nord"})
    assert r.status_code == 503
    assert url in r.json()["detail"]

    with pytest.raises(StoreUnavailable):
        ingest(settings=settings, progress=False)

    # the server comes back: the same app serves again, without a restart
    port = int(url.rsplit(":", 1)[1])
    back = start_chroma(tmp_path / "chroma-server", port)
    try:
        r = client.post("/api/search", json={"query": "Life Science Nord"})
        assert r.status_code == 200 and r.json()["results"]
        assert client.get("/health").json()["status"] == "ok"
    finally:
        stop(back)


def test_processes_sharing_a_server_see_each_others_writes(chroma_server, tmp_path, monkeypatch):
    """Two API processes on one Chroma server (two Assistants here): an upload
    through one is searchable through the other after its next freshness check."""
    import lsn_assistant.assistant as assistant_module

    monkeypatch.setattr(assistant_module, "REFRESH_EVERY_S", 0.0)
    url, _ = chroma_server
    corpus = write_corpus(tmp_path / "corpus", masterplan=False)
    a_settings = clean_settings(data_dir=tmp_path / "a", corpus_dir=corpus, chroma_url=url, api_key="k")
    b_settings = clean_settings(data_dir=tmp_path / "b", corpus_dir=corpus, chroma_url=url)
    ingest(settings=a_settings, progress=False)
    a, b = Assistant.open(a_settings), Assistant.open(b_settings)
    assert {d["doc"] for d in b.documents()} == {d["doc"] for d in a.documents()}
    note = "Kieler Meeresforum\n\nDas Kieler Meeresforum zählte 2025 genau 377 Teilnehmende aus der Meeresbiotechnologie.\n"
    a.add_document("meeresforum.txt", note.encode())
    hits = b.search("Kieler Meeresforum Teilnehmende", k=1)
    assert hits[0].chunk.doc == "meeresforum.txt"
    a.delete_document("meeresforum.txt")
    assert "meeresforum.txt" not in {d["doc"] for d in b.documents()}


def test_health_reports_a_stopped_server(chroma_server, tmp_path):
    url, proc = chroma_server
    settings = clean_settings(data_dir=tmp_path / "data", corpus_dir=write_corpus(tmp_path / "corpus", masterplan=False), chroma_url=url)
    ingest(settings=settings, progress=False)
    client = TestClient(create_app(settings, Assistant.open(settings)), raise_server_exceptions=False)
    assert client.get("/health").json()["status"] == "ok"
    proc.terminate()
    proc.wait(timeout=10)
    r = client.get("/health")
    # searches now fail with 503; a health check that still says "ok" misleads a load balancer
    assert r.status_code == 503, r.json()
    assert r.json()["status"] == "unavailable" and url in r.json()["detail"]


# ---- no server


def test_unreachable_server_on_open():
    url = unreachable_url()
    with pytest.raises(StoreUnavailable) as err:
        Assistant.open(clean_settings(data_dir=get_settings().data_dir, chroma_url=url))
    message = str(err.value)
    assert url in message
    assert "chroma run" in message and "LSN_CHROMA_URL" in message  # what to do about it
    assert chroma_files(get_settings().data_dir) == []


def test_unreachable_server_on_ingest(tmp_path):
    url = unreachable_url()
    settings = clean_settings(data_dir=tmp_path / "data", corpus_dir=write_corpus(tmp_path / "corpus", masterplan=False), chroma_url=url)
    with pytest.raises(StoreUnavailable, match=url.replace(".", r"\.")):
        ingest(settings=settings, progress=False)


def test_unreachable_server_from_the_command_line(tmp_path):
    """The real `lsn` executable: an error line and exit code 1, no traceback."""
    url = unreachable_url()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LSN_")}
    env.update(LSN_CHROMA_URL=url, LSN_DATA_DIR=str(tmp_path / "data"), LSN_CORPUS_DIR=str(tmp_path / "corpus"))
    proc = subprocess.run([str(LSN), "search", "Life Science Nord"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and url in errors[0], proc.stderr


@pytest.mark.parametrize("args", [["search", "Life Science Nord", "--json"], ["ingest"], ["ingest", "--if-empty"], ["ingest", "--json"]])
def test_unreachable_server_from_cli_commands(tmp_path, monkeypatch, args):
    from typer.testing import CliRunner

    from lsn_assistant.cli import app

    url = unreachable_url()
    write_corpus(tmp_path / "corpus", masterplan=False)
    monkeypatch.setenv("LSN_CHROMA_URL", url)
    get_settings.cache_clear()
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stderr.startswith("error: ") and url in result.stderr
    assert result.stdout == ""
