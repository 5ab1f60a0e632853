"""Loaders: the file type is decided by content; headings survive as Markdown
headings so the chunker can build section paths."""

from __future__ import annotations

import pytest

from ingest.load import load_document, read_manifest, sniff
from lsn_assistant.errors import IngestError


def test_docx_headings_and_lists(tmp_path):
    import docx

    d = docx.Document()
    d.add_heading("Strategische Ziele", level=1)
    d.add_paragraph("LSN will die Sichtbarkeit des Clusters erhöhen.")
    d.add_heading("Maßnahmen", level=2)
    d.add_paragraph("Ein Leuchtturm-Event pro Jahr", style="List Bullet")
    path = tmp_path / "ziele.docx"
    d.save(path)
    doc = load_document(path)
    text = doc.pages[0].text
    assert "# Strategische Ziele" in text and "## Maßnahmen" in text
    assert "- Ein Leuchtturm-Event pro Jahr" in text
    assert doc.pages[0].number is None and doc.title == "Strategische Ziele"


def test_html_keeps_headings_drops_scripts(tmp_path):
    path = tmp_path / "seite.html"
    path.write_text(
        "<html><head><script>var x=1;</script></head><body><nav>Menü</nav>"
        "<h2>Innovationskraft stärken</h2><p>LSN stärkt die <b>Einbindung</b> von Innovationsakteuren.</p>"
        "<ul><li>Digital Health</li></ul></body></html>",
        encoding="utf-8",
    )
    text = load_document(path).pages[0].text
    assert "## Innovationskraft stärken" in text
    assert "LSN stärkt die Einbindung von Innovationsakteuren." in text
    assert "- Digital Health" in text
    assert "var x" not in text and "Menü" not in text


def test_type_is_sniffed_from_content(tmp_path):
    assert sniff(b"%PDF-1.7 ...", "x.bin") == "pdf"
    assert sniff(b"\x00\x01binary", "x.txt") == "unknown"
    assert sniff("Schlicht Text".encode(), "x.md") == "text"
    zipped = tmp_path / "not-word.docx"
    import zipfile

    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(IngestError, match="not a Word document"):
        load_document(zipped)


def test_cp1252_text_is_decoded(tmp_path):
    path = tmp_path / "alt.txt"
    path.write_bytes("Größe und Übersicht".encode("cp1252"))
    assert load_document(path).pages[0].text == "Größe und Übersicht"


def test_broken_manifest_is_a_clear_error(tmp_path):
    (tmp_path / "manifest.toml").write_text("[documents\ntitle = ", encoding="utf-8")
    with pytest.raises(IngestError, match="manifest is not valid TOML"):
        read_manifest(tmp_path)


def test_manifest_entry_sets_title_year_lang(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("Erste Zeile als Titel\n\nText.", encoding="utf-8")
    doc = load_document(path, {"title": "Masterplan", "year": 2009, "lang": "de", "publisher": "Norgenta"})
    assert (doc.title, doc.year, doc.lang, doc.publisher) == ("Masterplan", 2009, "de", "Norgenta")


def test_manifest_cleaning_profiles_are_checked(tmp_path):
    """``clean = [...]`` in the manifest opts a file into source quirks of
    ingest/clean.py; an unknown name or a wrong type is a clear error."""
    from ingest.load import load_document, read_manifest
    from lsn_assistant.errors import IngestError

    (tmp_path / "a.txt").write_text("Handlungsempfehlungen\nt Vermarktung des Clusters;", encoding="utf-8")
    (tmp_path / "manifest.toml").write_text(
        '[documents."a.txt"]\nclean = ["wingdings-t-bullets"]\n', encoding="utf-8")
    doc = load_document(tmp_path / "a.txt", read_manifest(tmp_path).entries["a.txt"])
    assert doc.clean == ("wingdings-t-bullets",)
    for bad, says in (('["wingdings"]', "unknown cleaning profile 'wingdings'"), ('"wingdings-t-bullets"', "list of profile names")):
        (tmp_path / "manifest.toml").write_text(f'[documents."a.txt"]\nclean = {bad}\n', encoding="utf-8")
        with pytest.raises(IngestError, match=says):
            load_document(tmp_path / "a.txt", read_manifest(tmp_path).entries["a.txt"])
