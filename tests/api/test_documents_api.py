"""GET/POST/DELETE /api/documents on a real app over a small writable index:
the API key, uploads checked by content (size, type, corrupt and encrypted
PDFs, hostile names), incremental ingest of an upload, and deleting uploaded
and corpus documents without losing files."""

from __future__ import annotations

import io
import zipfile

import pytest
from fastapi.testclient import TestClient

from conftest import STRATEGY_2030, make_pdf, visibility_index
from ingest.pipeline import ingest
from lsn_assistant import Assistant
from lsn_assistant.api import create_app

KEY = "s3cret-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
NOTE = (
    "Bioregion Nord Jahresbericht\n\n"
    "Der Verein Bioregion Nord veranstaltet jedes Jahr im Mai eine Konferenz über Meeresbiotechnologie in Kiel. "
    "An der Konferenz nahmen im letzten Jahr 412 Gäste aus elf Ländern teil.\n"
)


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return visibility_index(tmp_path_factory.mktemp("docs-api"), api_key=KEY, max_upload_mb=0.05, ui=False)


@pytest.fixture(scope="module")
def client(settings):
    with TestClient(create_app(settings, Assistant.open(settings)), raise_server_exceptions=False) as c:
        yield c


def upload(client, name: str, data: bytes, headers=AUTH, **fields):
    return client.post("/api/documents", files={"file": (name, data)}, data=fields, headers=headers)


def docs(client) -> dict[str, dict]:
    r = client.get("/api/documents")
    assert r.status_code == 200
    return {d["doc"]: d for d in r.json()["documents"]}


def test_list_documents(client):
    d = docs(client)[STRATEGY_2030]
    assert d["title"] == "LSN Strategie 2030 (web text)" and d["langs"] == ["de"] and d["chunks"] >= 1
    assert d["source"] == "corpus"


def test_writes_need_the_key(client, settings):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}):
        r = upload(client, "x.txt", NOTE.encode(), headers=headers)
        assert r.status_code == 403 and r.json()["detail"] == "wrong or missing API key"
        assert client.delete(f"/api/documents/{STRATEGY_2030}", headers=headers).status_code == 403
    unkeyed = create_app(settings.model_copy(update={"api_key": None}), Assistant.open(settings))
    with TestClient(unkeyed) as c:
        r = upload(c, "x.txt", NOTE.encode())
        assert r.status_code == 403 and "no API key is configured" in r.json()["detail"]
    assert STRATEGY_2030 in docs(client)


def test_upload_is_ingested_and_searchable_then_deleted(client, settings):
    r = upload(client, "bioregion-2025.txt", NOTE.encode(), title="Bioregion Nord Jahresbericht", year="2025")
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["counts"] == {"added": 1} and report["files"][0]["embedded"] >= 1
    d = docs(client)["bioregion-2025.txt"]
    assert (d["source"], d["title"], d["year"]) == ("upload", "Bioregion Nord Jahresbericht", 2025)
    hits = client.post("/api/search", json={"query": "Konferenz Meeresbiotechnologie Kiel", "k": 1}).json()["results"]
    assert hits[0]["doc"] == "bioregion-2025.txt"
    ans = client.post("/api/ask", json={"question": "Wie viele Gäste kamen zur Konferenz?"}).json()
    assert "412" in ans["answer"] and ans["citations"][0]["doc"] == "bioregion-2025.txt"

    again = upload(client, "bioregion-2025.txt", NOTE.encode(), title="Bioregion Nord Jahresbericht", year="2025")
    assert again.json()["counts"] == {"unchanged": 1}

    r = client.delete("/api/documents/bioregion-2025.txt", headers=AUTH)
    assert r.status_code == 200 and r.json()["source"] == "upload" and r.json()["deleted_chunks"] >= 1
    assert "bioregion-2025.txt" not in docs(client)
    assert not (settings.upload_dir / "bioregion-2025.txt").exists()
    assert client.delete("/api/documents/bioregion-2025.txt", headers=AUTH).status_code == 404


def test_upload_survives_a_default_sync(client, settings):
    assert upload(client, "notiz.md", NOTE.encode()).status_code == 200
    report = ingest(settings=settings, progress=False)
    assert {f.doc: f.status for f in report.files}["notiz.md"] == "unchanged"
    assert client.delete("/api/documents/notiz.md", headers=AUTH).status_code == 200


def _docx(text: str) -> bytes:
    import docx

    d = docx.Document()
    d.add_paragraph(text)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_pdf_and_docx_uploads(client, tmp_path):
    pdf = make_pdf(tmp_path / "a.pdf", [NOTE.replace("ü", "ue")]).read_bytes()
    assert upload(client, "bericht.pdf", pdf).status_code == 200
    assert upload(client, "bericht2.docx", _docx(NOTE)).status_code == 200
    got = docs(client)
    assert got["bericht.pdf"]["pages"] == 1 and got["bericht2.docx"]["chunks"] >= 1
    for name in ("bericht.pdf", "bericht2.docx"):
        assert client.delete(f"/api/documents/{name}", headers=AUTH).status_code == 200


def test_the_original_file_of_an_indexed_document(client, settings, tmp_path):
    """GET /api/documents/{doc}/file: the file as ingested, for the UI's PDF
    page viewer; only names the index holds, whatever else is on disk."""
    pdf = make_pdf(tmp_path / "a.pdf", ["Erste Seite. " + NOTE.replace("ü", "ue"), "Zweite Seite. Nur ein Satz hier."]).read_bytes()
    assert upload(client, "seiten.pdf", pdf).status_code == 200
    try:
        r = client.get("/api/documents/seiten.pdf/file")
        assert r.status_code == 200 and r.content == pdf
        assert r.headers["content-type"] == "application/pdf"
        assert r.headers["content-disposition"] == 'inline; filename="seiten.pdf"'
        assert r.headers["x-content-type-options"] == "nosniff" and "content-security-policy" not in r.headers
        part = client.get("/api/documents/seiten.pdf/file", headers={"Range": "bytes=0-4"})  # pdf.js reads in ranges
        assert part.status_code == 206 and part.content == b"%PDF-"
    finally:
        assert client.delete("/api/documents/seiten.pdf", headers=AUTH).status_code == 200
    gone = client.get("/api/documents/seiten.pdf/file")
    assert gone.status_code == 404 and gone.json() == {"detail": "no document named 'seiten.pdf' in the index"}

    text = client.get(f"/api/documents/{STRATEGY_2030}/file")  # a corpus document, text
    assert text.status_code == 200 and text.content == (settings.corpus_dir / STRATEGY_2030).read_bytes()
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert text.headers["content-security-policy"] == "sandbox"  # shown, never run, on this origin


@pytest.mark.parametrize("doc", ["manifest.toml", ".hidden", "nope.pdf", "..%2Fcorpus%2Fmanifest.toml", "..", "%2Fetc%2Fpasswd"])
def test_only_indexed_documents_are_served(client, doc):
    r = client.get(f"/api/documents/{doc}/file")
    assert r.status_code == 404 and r.json()["detail"].startswith(("no document named", "no such endpoint"))


def test_a_document_only_the_index_knows_has_no_file(client, settings):
    assert upload(client, "verschwunden.txt", NOTE.encode()).status_code == 200
    (settings.upload_dir / "verschwunden.txt").unlink()
    r = client.get("/api/documents/verschwunden.txt/file")
    assert r.status_code == 404 and "only the index knows" in r.json()["detail"]
    assert client.delete("/api/documents/verschwunden.txt", headers=AUTH).status_code == 200


def _encrypted_pdf(tmp_path) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_encryption(owner_password="owner", user_password="user")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, "Geheim. " * 20)
    path = tmp_path / "enc.pdf"
    pdf.output(str(path))
    return path.read_bytes()


def _bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"<w:document>" + b" " * 40_000_000 + b"</w:document>")
    return buf.getvalue()


@pytest.mark.parametrize(
    "name, make, status, words",
    [
        ("report.pdf", lambda tmp: NOTE.encode(), 415, "named .pdf but holds text content"),
        ("report.docx", lambda tmp: b"%PDF-1.4 not really", 415, "holds pdf content"),
        ("tool.exe", lambda tmp: b"MZ\x90\x00", 415, ".exe files are not accepted"),
        ("empty.txt", lambda tmp: b"   \n", 400, "the file is empty"),
        ("big.txt", lambda tmp: b"Wort " * 20_000, 413, "the limit is 0.05 MB"),
        ("broken.pdf", lambda tmp: b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\ngarbage", 422, "not a readable PDF"),
        ("secret.pdf", _encrypted_pdf, 422, "encrypted"),
        ("bomb.docx", lambda tmp: _bomb(), 422, "too large when unpacked"),
        (STRATEGY_2030, lambda tmp: NOTE.encode(), 409, "already has a document named"),
        ("...", lambda tmp: NOTE.encode(), 400, "no usable name"),
    ],
)
def test_bad_uploads_are_refused_and_change_nothing(client, settings, tmp_path, name, make, status, words):
    before = docs(client)
    r = upload(client, name, make(tmp_path))
    assert r.status_code == status, r.text
    assert words in r.json()["detail"]
    assert docs(client) == before
    assert not settings.upload_dir.exists() or not any(p.name.startswith(".upload-") for p in settings.upload_dir.iterdir())


def test_hostile_file_name_stays_in_the_upload_folder(client, settings):
    r = upload(client, "../../../etc/evil name.txt", NOTE.encode())
    assert r.status_code == 200
    assert r.json()["files"][0]["doc"] == "evil name.txt"
    assert (settings.upload_dir / "evil name.txt").is_file()
    assert client.delete("/api/documents/evil name.txt", headers=AUTH).status_code == 200


@pytest.mark.parametrize("doc", ["..%2Fcorpus%2Fmanifest.toml", "manifest.toml", ".hidden", "nope.txt"])
def test_delete_unknown_or_hostile_name_is_404(client, settings, doc):
    r = client.delete(f"/api/documents/{doc}", headers=AUTH)
    assert r.status_code == 404 and r.json()["detail"].startswith(("no document named", "no such endpoint"))
    assert (settings.corpus_dir / "manifest.toml").is_file()


def test_missing_file_field(client):
    r = client.post("/api/documents", data={"title": "x"}, headers=AUTH)
    assert r.status_code == 400 and "'file' field" in r.json()["detail"]
    r = client.post("/api/documents", json={"file": "x"}, headers=AUTH)
    assert r.status_code == 400


def test_deleting_a_corpus_document_keeps_its_file(client, settings):
    r = client.delete(f"/api/documents/{STRATEGY_2030}", headers=AUTH)
    assert r.status_code == 200 and r.json()["source"] == "corpus"
    assert (settings.corpus_dir / STRATEGY_2030).is_file()
    assert STRATEGY_2030 not in docs(client)
    ingest(settings=settings, progress=False)  # a default sync does not bring it back
    assert Assistant.open(settings).documents() == []
    report = ingest([settings.corpus_dir / STRATEGY_2030], settings=settings, progress=False)  # naming it does
    assert report.files[0].status == "added"
    assert ingest(settings=settings, progress=False).files[0].status == "unchanged"
