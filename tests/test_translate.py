"""Lexical query translation (lsn_assistant/translate.py) on domain cases."""

from __future__ import annotations

import gzip

import pytest

from lsn_assistant.translate import DATA_FILE, STOP_DE, STOP_EN, Lexicon, expand_query, tokenize


@pytest.fixture(scope="module")
def lex() -> Lexicon:
    return Lexicon.default()


def terms(lex: Lexicon, text: str, src: str, tgt: str, **kw) -> dict[str, float]:
    """translation as {lower-cased term: weight}"""
    return {t.lower(): w for t, w in lex.translate(text, src, tgt, **kw)}


# ---- the packaged file


def test_lexicon_file_is_packaged_small_and_licensed():
    assert DATA_FILE.exists(), "run scripts/build_lexicon.py"
    assert DATA_FILE.stat().st_size < 3_500_000
    with gzip.open(DATA_FILE, "rt", encoding="utf-8") as fh:
        head = [next(fh) for _ in range(4)]
    text = "".join(head)
    assert "FreeDict" in text and "GPL" in text


def test_default_is_cached_and_complete():
    lex = Lexicon(DATA_FILE)
    assert len(lex.maps["de"]) > 50_000 and len(lex.maps["en"]) > 50_000
    assert Lexicon.default() is Lexicon.default()


# ---- English -> German


def test_boat_gives_schiff_and_boot(lex):
    got = terms(lex, "an event format on a boat", "en", "de")
    assert "boot" in got and "schiff" in got


def test_investors_gives_investoren(lex):
    got = terms(lex, "to attract investors", "en", "de")
    assert "investoren" in got
    assert "investor" in got  # via the lemma too


def test_multiword_medical_technology(lex):
    got = lex.translate("Which medical technology companies exhibited?", "en", "de")
    assert got[0][0] == "Medizintechnik" and got[0][1] == 1.0
    # the single words are still there, with less weight
    d = {t.lower(): w for t, w in got}
    assert d.get("technologie", 0) < 1.0


def test_members_and_universities_en_de(lex):
    got = terms(lex, "members of universities", "en", "de")
    assert "mitglieder" in got
    assert "universitäten" in got or "hochschulen" in got


def test_names_pass_through_unchanged(lex):
    got = lex.translate("BioCon Valley and OLEC in Regensburg", "en", "de")
    d = dict(got)
    assert d.get("BioCon") == 1.0 and d.get("OLEC") == 1.0
    assert d.get("Regensburg") == 1.0
    # a capitalised word inside an English sentence is kept as a name; its
    # dictionary translation ("Tal") gets half weight at most
    assert d.get("Valley") == 1.0
    assert d.get("Tal", 0.0) <= 0.5


def test_acronyms_are_names_not_words(lex):
    # "IT" is not the stop word "it"; "WHO" not the question word
    d = dict(lex.translate("IT companies and the WHO", "en", "de"))
    assert d.get("IT") == 1.0 and d.get("WHO") == 1.0


def test_numbers_pass_through(lex):
    assert ("2017", 1.0) in lex.translate("Which members joined in 2017?", "en", "de")


def test_stop_words_dropped(lex):
    got = terms(lex, "How does it work and what is the idea of it?", "en", "de")
    for w in ("how", "does", "it", "and", "what", "is", "the", "of", "wie", "es", "und", "was", "ist"):
        assert w not in got
    assert got  # the content words remain
    assert lex.translate("the of and with", "en", "de") == []


def test_english_possessive_and_inflection(lex):
    got = terms(lex, "the masterplan's hospitals", "en", "de")
    assert "masterplan" in got  # unknown -> passed through without "'s"
    assert "krankenhäuser" in got or "krankenhaus" in got


# ---- German -> English


def test_weiterbildung_is_education_or_training(lex):
    got = terms(lex, "Weiterbildung", "de", "en")
    assert any("education" in t or "training" in t for t in got)


def test_mitglieder_members(lex):
    got = lex.translate("Wie viele Mitglieder hat der Verein?", "de", "en")
    d = {t.lower(): w for t, w in got}
    assert d.get("members") == 1.0
    assert "wie" not in d and "viele" not in d and "der" not in d


def test_hochschulen_universities(lex):
    got = terms(lex, "Hochschulen", "de", "en")
    assert "universities" in got or "colleges" in got


def test_noun_reading_of_capitalised_german_word(lex):
    # "Unternehmen" (companies) is also the verb "unternehmen" (to undertake)
    first = lex.translate("Welche Unternehmen?", "de", "en")[0][0]
    assert first.lower() in {"company", "companies", "enterprise", "business"}
    # and a noun is not lemmatised into a verb: Schiff -/-> schiffen
    got = terms(lex, "Schiff", "de", "en")
    assert "ship" in got and "navigate" not in got


def test_compound_split_with_linking_s(lex):
    assert lex.split_compound("Gemeinschaftsstand") == ["gemeinschaft", "stand"]
    got = lex.translate("Gemeinschaftsstand", "de", "en")
    d = {t.lower(): w for t, w in got}
    assert "community" in d and "stand" in d
    assert d["stand"] > d["community"]  # the head carries the meaning
    assert "gemeinschaftsstand" in d  # and the compound itself is kept


def test_compound_split_three_parts_and_plural_head(lex):
    parts = lex.split_compound("Investorenveranstaltungen")
    assert parts is not None and parts[0] == "investoren" and parts[-1].startswith("veranstaltung")
    got = terms(lex, "Investorenveranstaltungen", "de", "en")
    assert "investors" in got and ("events" in got or "event" in got)


def test_no_split_for_unknown_material(lex):
    assert lex.split_compound("Xyzqwv") is None
    assert lex.translate("Xyzqwv", "de", "en") == [("Xyzqwv", 1.0)]


def test_medizintechnik_to_english(lex):
    got = terms(lex, "Medizintechnik", "de", "en")
    assert "medical technology" in got


# ---- API details


def test_weights_ranked_and_bounded(lex):
    got = lex.translate("investors on a boat", "en", "de")
    ws = [w for _, w in got]
    assert ws == sorted(ws, reverse=True)
    assert all(0 < w <= 1.0 for w in ws)


def test_max_per_word_limits_translations(lex):
    one = lex.translate("boat", "en", "de", max_per_word=1)
    assert len(one) == 1
    assert len(lex.translate("boat", "en", "de", max_per_word=3)) > 1


def test_token_list_input(lex):
    assert dict(lex.translate(["Mitglieder"], "de", "en")).get("members") == 1.0


def test_same_language_rejected(lex):
    with pytest.raises(ValueError):
        lex.translate("boat", "en", "en")


def test_expand_query_repeats_best_terms():
    q = expand_query("investors on a boat", "en", "de")
    toks = q.split()
    assert "Boot" in toks and "Investoren" in toks
    assert toks.count("Investoren") == 2  # weight 1.0 -> twice
    assert toks.count("Schiff") == 1  # a lower-ranked translation once
    assert toks[0] in {"Boot", "Investoren", "Anleger"}


def test_tokenize_marks_sentence_starts():
    toks = tokenize("The plan. It works? yes")
    assert toks == [("The", True), ("plan", False), ("It", True), ("works", False), ("yes", True)]


def test_stopword_lists_have_no_content_words():
    for w in ("boat", "member", "investor", "university", "cluster"):
        assert w not in STOP_EN
    for w in ("schiff", "mitglied", "hochschule", "cluster", "forschung"):
        assert w not in STOP_DE


# ---- supplements


def test_a_supplement_adds_headwords_but_never_overrides(tmp_path):
    import gzip as gz

    sup = tmp_path / "sup.tsv.gz"
    sup.write_bytes(gz.compress(
        "# test supplement\n@de-en\nbiotechnologie\tbiotechnology\nmitglied\tlimb\n@en-de\nbioeconomy\tBioökonomie\n".encode()
    ))
    base = Lexicon(DATA_FILE, supplements=[])
    more = Lexicon(DATA_FILE, supplements=[sup])
    assert "biotechnologie" not in base.maps["de"]
    assert more.lookup("Biotechnologie", "de") == ["biotechnology"]
    assert more.lookup("bioeconomy", "en") == ["Bioökonomie"]
    assert more.lookup("Mitglied", "de") == base.lookup("Mitglied", "de")  # the main file's entry stands
    assert any("test supplement" in h for h in more.header)


def test_a_missing_supplement_names_the_script_that_builds_it(tmp_path):
    from lsn_assistant.errors import ConfigError

    lex = Lexicon(DATA_FILE, supplements=[tmp_path / "missing.tsv.gz"])
    with pytest.raises(ConfigError, match="build_lexicon"):
        lex.maps


# ---- document-side translation (measured in scripts/retrieval_lab.py and dropped: README, issue 11)


def test_document_side_translation_gives_a_german_passage_english_words():
    """``passage_terms``: a German passage's content words in English, the
    second BM25 field the retrieval lab measured. On a real excerpt of the
    go-cluster report, an English question's words about it are among them."""
    import sys

    from conftest import REPO, excerpt

    sys.path.insert(0, str(REPO / "scripts"))
    from retrieval_lab import passage_terms

    text = excerpt("go-cluster-expedition-clusterinitiative-2-de.txt", "Wenn man sich dem Technologiepark", 900)
    terms = {t.lower() for t in passage_terms(Lexicon.default(), text, "de", "en")}
    # "What is at the Weinberg campus near Halle? A technology park with institutes and companies"
    assert {"campus", "technology", "park", "institute", "companies", "materials science"} <= terms
    assert {"zscheile", "bioeconomy", "gmbh"} <= terms  # names pass through
    assert not {"wenn", "sich", "man", "dem", "when", "oneself"} & terms  # function words give nothing
    assert not passage_terms(Lexicon.default(), "", "de", "en")
