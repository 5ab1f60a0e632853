"""Structure-aware chunking on real excerpts of the corpus."""

from __future__ import annotations

from conftest import CORPUS, excerpt
from eval.testset import fold
from ingest.chunk import chunk_document, heading_level, sentences
from ingest.clean import clean_text
from lsn_assistant.types import Document, Page


def _doc(name: str, text: str, lang: str = "de") -> Document:
    return Document(doc=name, path=name, pages=(Page(None, text),), title=name, lang=lang, content_hash="h")


def _chunks(name: str, text: str, lang: str = "de", **kw):
    cleaned = clean_text(text)
    return cleaned, chunk_document(_doc(name, text, lang), [(None, cleaned)], **kw)


def test_headings_are_recognised():
    assert heading_level("3.2 Das Management von Life Science Nord") == 2
    assert heading_level("3 Akteure, Clustermanagement und Kompetenzen von Life Science Nord") == 1
    assert heading_level("## Strategische Themenfelder") == 2
    assert heading_level("Die Mitglieder von Life Science Nord verfügen über eine lange Tradition.") == 0
    assert heading_level("- ein Listenpunkt ohne Punkt") == 0


def test_section_path_follows_the_masterplan_headings():
    text = excerpt("lsn-masterplan-2009-de.txt", "3 Akteure, Clustermanagement", 4000)
    _, chunks = _chunks("masterplan.txt", text)
    sections = [c.section for c in chunks]
    assert any(s.startswith("3 Akteure") and s.endswith("3.2 Das Management von Life Science Nord") for s in sections)
    norgenta = next(c for c in chunks if "Norgenta ist in fünf wesentlichen Bereichen aktiv" in c.text)
    assert "3.2 Das Management" in norgenta.section


def test_chunks_do_not_cut_sentences_and_lose_nothing():
    text = excerpt("go-cluster-expedition-clusterinitiative-2-de.txt", "Wie funktioniert eigentlich", 6000)
    text = text[: text.rindex(".") + 1]  # the excerpt itself must not end mid-sentence
    cleaned, chunks = _chunks("gc.txt", text, target_words=80, max_words=140)
    assert len(chunks) >= 4
    for c in chunks:
        assert len(c.text.split()) <= 140
        # every chunk ends at a sentence end or a heading/list line, never mid-sentence
        last = c.text.rstrip().splitlines()[-1]
        assert last.endswith((".", "!", "?", ":", "“", "\"", "”", ")")) or heading_level(last) or len(last.split()) < 12, last
    # folded, every sentence of the cleaned text is inside some chunk
    folded_chunks = [fold(c.text) for c in chunks]
    for par in cleaned.split("\n\n"):
        for sent, _ in sentences(par, "de"):
            assert any(fold(sent) in fc for fc in folded_chunks), sent


def test_overlap_repeats_one_sentence_and_ids_are_stable():
    text = excerpt("lsn-cluster-strategy-2024-en.txt", "This brings together around 250 stakeholders", 3000)
    _, a = _chunks("s.txt", text, lang="en", target_words=60, max_words=120, overlap_sentences=1)
    _, b = _chunks("s.txt", text, lang="en", target_words=60, max_words=120, overlap_sentences=1)
    assert [c.chunk_id for c in a] == [c.chunk_id for c in b]
    assert len({c.chunk_id for c in a}) == len(a)
    shared = 0
    for first, second in zip(a, a[1:]):
        last_sentence = sentences(first.text.splitlines()[-1], "en")[-1][0]
        shared += second.text.startswith(last_sentence)
    assert shared >= 1


def test_every_gold_quote_of_the_dev_sets_lands_in_a_chunk():
    """Headings, figure labels and numbered lists stay in the chunk text: the
    evaluation (and a citation) must find them."""
    import json

    from eval.metrics import quote_in_chunk

    chunks_by_doc = {}
    for path in CORPUS.glob("*.txt"):
        text = path.read_text(encoding="utf-8")
        lang = "en" if path.name.endswith("-en.txt") else "de"
        _, chunks = _chunks(path.name, text, lang=lang)
        chunks_by_doc[path.name] = [fold(c.text) for c in chunks]
    missing = []
    for testset in (CORPUS.parent / "eval" / "testsets" / "train").glob("dev-*.jsonl"):
        for line in testset.read_text(encoding="utf-8").splitlines():
            q = json.loads(line)
            for ev in q["evidence"]:
                quote = fold(ev["quote"])
                if not any(quote_in_chunk(quote, fc) for fc in chunks_by_doc[ev["doc"]]):
                    missing.append((q["id"], ev["quote"][:60]))
    assert not missing
