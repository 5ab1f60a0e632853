"""German decompounding for BM25 (lsn_assistant/decompound.py, lexical.py) on
words and passages of the corpus."""

from __future__ import annotations

import pytest

from conftest import excerpt
from ingest.clean import clean_text
from lsn_assistant.decompound import compound_parts
from lsn_assistant.lexical import LexicalIndex, analyze, compound_stems, query_terms


@pytest.mark.parametrize(
    "word, parts",
    [
        ("Fachkräftemangel", ("fachkräfte", "mangel")),
        ("Gründungsförderung", ("gründung", "förderung")),  # linking -s-
        ("Landesförderung", ("land", "förderung")),  # linking -es-
        ("Gesundheitswirtschaft", ("gesundheit", "wirtschaft")),
        ("Innovationsstrategie", ("innovation", "strategie")),
        ("Clusterarbeit", ("cluster", "arbeit")),
        ("Wasserstoffantrieben", ("wasserstoff", "antrieb")),  # inflected head, by its lemma
        ("Life-Science-Branche", ("life", "science", "branche")),  # hyphens
    ],
)
def test_compounds_of_the_corpus_split_into_their_parts(word, parts):
    assert compound_parts(word) == parts


@pytest.mark.parametrize(
    "word",
    [
        "Entscheidung",  # not Ente + Scheidung: parts have 4 letters, and a known head
        "Mitgliedschaft",  # -schaft is a suffix, not a head
        "Diskussionen",  # -ionen neither
        "Unternehmen",
        "Förderung",
        "wichtiger",  # not a noun
        "WIRTSCHAFT",  # capitals: a heading or an acronym, not a noun to split
    ],
)
def test_words_that_are_not_compounds_stay_whole(word):
    assert compound_parts(word) == ()


def test_a_question_typed_in_lower_case_is_split_too():
    assert compound_parts("fachkräftemangel") == ()
    assert compound_parts("fachkräftemangel", any_case=True) == ("fachkräfte", "mangel")
    assert "mangel" in compound_stems("was tun gegen fachkräftemangel")


def test_passage_is_indexed_with_the_parts_of_its_compounds():
    text = excerpt("lsn-clusterstrategie-2024-de.txt", "Das Cluster LSN mit seinen rund 500 Unternehmen", 600)
    plain = analyze(text, "de")
    split = analyze(text, "de", compounds=True)
    assert split[: len(plain)] == plain  # the words as before, then the parts
    # Forschungseinrichtungen -> Forschung + Einrichtungen, Fachhochschulen -> Fach + Hochschulen
    assert "forschung" not in plain and "hochschul" not in plain
    assert "forschung" in split and "hochschul" in split


def test_compound_question_finds_the_passage_that_writes_it_apart():
    """'Landesförderung' and 'Förderung des Landes' meet only through the parts."""
    passages = [
        clean_text(excerpt("go-cluster-expedition-clusterinitiative-2-de.txt", "eine Förderung aus EFRE-Mitteln", 190)),
        clean_text(excerpt("lsn-masterplan-2009-de.txt", "3.2 Das Management von Life Science Nord", 300)),
    ]
    assert "Förderung" in passages[0] and "des Landes" in passages[0]
    plain = LexicalIndex(passages, ["de", "de"])
    split = LexicalIndex(passages, ["de", "de"], compounds=True)
    q = "Gibt es Landesförderung?"
    assert plain.scores(query_terms(q, "de"))[0] == 0
    scores = split.scores(query_terms(q, "de", compounds=True, part_weight=0.5))
    assert scores[0] > scores[1]


def test_part_weight_is_applied_to_parts_only():
    terms = query_terms("Welche Maßnahmen gegen den Fachkräftemangel?", "de", compounds=True, part_weight=0.25)
    assert terms["fachkraftemangel"] == 1.0
    assert terms["mangel"] == 0.25 and terms["fachkraft"] == 0.25
