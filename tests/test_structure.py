"""Structure in the index (ingest/structure.py): small entries for
abbreviations and an imprint's contact lines, on real excerpts of the corpus."""

from __future__ import annotations

from conftest import CORPUS, excerpt
from eval.testset import fold
from ingest.chunk import chunk_document, make_chunk_id
from ingest.clean import clean_text
from ingest.structure import abbreviation_lines, contact_lines, defined_abbreviations, entries, expansion, listed_abbreviations
from lsn_assistant.types import Chunk, Document, Page

STRATEGY_DE = "lsn-clusterstrategie-2024-de.txt"
STRATEGY_EN = "lsn-cluster-strategy-2024-en.txt"


def _chunks(name: str, text: str, lang: str = "de", with_entries: bool = True) -> list[Chunk]:
    """The passages of ``text`` as ingest cuts them, then (``with_entries``) its entries."""
    doc = Document(doc=name, path=name, pages=(Page(None, text),), title=name, lang=lang, content_hash="h")
    chunks = chunk_document(doc, [(None, clean_text(text))], target_words=280, max_words=400)
    if with_entries:
        chunks += entries(chunks, lambda section, body, occ: make_chunk_id(name, section, body, occ))
    return chunks


def _front_matter() -> str:
    """The German 2024 strategy from its cover through the first paragraphs of the foreword."""
    text = (CORPUS / STRATEGY_DE).read_text(encoding="utf-8")
    return text[: text.index("In Zeiten der digitalen Transformation")]


def test_an_abbreviation_introduced_in_parentheses_is_an_entry():
    text = excerpt(STRATEGY_EN, "The regulatory framework for medical devices", 1200)
    (chunk,) = [c for c in _chunks(STRATEGY_EN, text, lang="en", with_entries=False)][:1]
    found = dict((a, s) for a, s in abbreviation_lines(chunk))
    assert {"MDR", "IVDR", "MDSAP"} <= set(found)
    assert "In Vitro Diagnostic Medical Devices Directive (IVDR, EU 2017/746)" in found["IVDR"]
    # the entry is verbatim text of its chunk, so it can be quoted
    assert found["IVDR"] in chunk.text


def test_a_name_with_its_party_or_a_file_type_is_no_definition():
    chunk = Chunk("x", "d.txt", "Gefördert wurde es vom Wirtschaftsminister Harry Glawe (CDU) persönlich. "
                  "Hier downloaden: LSN Strategie 2023 (PDF)", lang="de")
    assert abbreviation_lines(chunk) == []


def test_entries_of_the_german_strategy_front_matter():
    chunks = _chunks(STRATEGY_DE, _front_matter())
    found = {c.section: c for c in chunks if c.section.startswith(("Abkürzungen", "Impressum >"))}
    contact = found["Impressum > Kontakt, Adresse, Telefon"]
    assert contact.text.startswith("Life Science Nord Management GmbH Falkenried 88 20251 Hamburg")
    assert "Falkenried" not in " ".join(c.text for c in found.values() if c is not contact)
    assert found["Abkürzungen > GWHH"].text == "GWHH\n\nGesundheitswirtschaft Hamburg GmbH"
    assert found["Abkürzungen > LSN Management"].text.startswith("LSN Management\n\nLife Science Nord Management GmbH")
    # the foreword after the list is no entry
    assert not any("SEHR GEEHRTE" in c.text for c in found.values())
    parent = next(c for c in chunks if "IMPRESSUM" in c.text and not c.section.startswith("Impressum"))
    # an entry sits where its passage is (the answer layer's neighbour test) and has its own id
    assert contact.position == parent.position and contact.page == parent.page
    assert contact.chunk_id != parent.chunk_id and fold(contact.text) in fold(parent.text)
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_one_entry_per_sentence_and_per_acronym():
    text = excerpt(STRATEGY_DE, "Der regulatorische Rahmen für Medizinprodukte", 1500)
    chunks = _chunks(STRATEGY_DE, text + "\n\nDie MDR (MDR) gilt seit 2021 für alle Hersteller.")
    sections = [c.section for c in chunks if c.section.startswith("Abkürzungen")]
    assert sections.count("Abkürzungen > MDR, IVDR, MDSAP") == 1
    assert not any(s.endswith("> MDR") for s in sections)  # MDR's first definition only


def test_lists_and_contacts_only_under_their_heading():
    lst = Chunk("a", "d.txt", "Vorwort\n\nABKÜRZUNGSVERZEICHNIS\n\nLSN\n\nLife Science Nord", lang="de")
    assert listed_abbreviations(lst) == [("LSN", "LSN\n\nLife Science Nord")]
    body = Chunk("b", "d.txt", "ZUSAMMENFASSUNG\n\nFalkenried 88 20251 Hamburg Tel.: 040.471 96 -400", lang="de")
    assert contact_lines(body) is None
    assert entries([body], lambda s, t, o: f"{s}|{t}") == []


def test_what_an_abbreviation_stands_for():
    # Schwartz & Hearst: the shortest run of final words spelling the letters in order
    assert expansion("LSN", "Workshops für die Mitglieder von Life Science Nord ") == "Life Science Nord"
    assert expansion("IVDR", "and the In Vitro Diagnostic Medical Devices Directive ") == (
        "In Vitro Diagnostic Medical Devices Directive")
    assert expansion("KMU", "70 Prozent der Mitglieder sind kleine und mittlere Unternehmen ") == (
        "kleine und mittlere Unternehmen")
    assert expansion("CDU", "Gefördert wurde es vom Wirtschaftsminister Harry Glawe ") is None
    # from the entries of the German strategy's front matter: its abbreviation list
    chunks = _chunks(STRATEGY_DE, _front_matter())
    defined = dict(pair for c in chunks if c.section.startswith("Abkürzungen >") for pair in defined_abbreviations(c))
    assert defined["LSN"] == "Life Science Nord" and defined["GWHH"] == "Gesundheitswirtschaft Hamburg GmbH"
    # and of a sentence that introduces them in parentheses
    text = excerpt(STRATEGY_EN, "The regulatory framework for medical devices", 1200)
    chunks = _chunks(STRATEGY_EN, text, lang="en")
    defined = dict(pair for c in chunks if c.section.startswith("Abbreviations >") for pair in defined_abbreviations(c))
    assert defined["MDR"] == "Medical Device Regulation"
    assert defined["IVDR"] == "In Vitro Diagnostic Medical Devices Directive"
