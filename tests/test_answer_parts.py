"""The answer layer's pieces that need no index: sentence spans, question
form, follow-up detection and carry-over, how the extractive answer is put
together from answer units (``lsn_assistant.answering.units``), the marker grounding of
generated text, and the answer measures of ``eval.answers``."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import clean_settings, excerpt
from eval.answers import CorpusText, check_citations, groundedness, statements
from eval.testset import Question
from lsn_assistant.assistant import CitationNumbers
from lsn_assistant.answering.question import (
    answer_types,
    is_contact_line,
    is_list_question,
    question_parts,
    typed_match,
)
from lsn_assistant.answering.scorer import Thresholds
from lsn_assistant.answering.select import select
from lsn_assistant.answering.units import Unit, build_units, classify, lines_of, refers_back
from lsn_assistant.answering.wording import compose
from lsn_assistant.conversation import is_follow_up, parse_history, resolve
from lsn_assistant.errors import BadQuery
from lsn_assistant.text import sentence_spans, sentences
from lsn_assistant.types import Chunk, ScoredChunk

STRATEGY_2030 = "lsn-strategie-2030-de.txt"
STRATEGY_EN = "lsn-cluster-strategy-2024-en.txt"


# ---- sentences


def test_sentence_spans_are_verbatim_and_match_the_chunker():
    text = excerpt(STRATEGY_2030, "Strategische Themenfelder und Ziele", 1400)
    text = text.replace("\n\n", "\n\n  ")  # indentation must not shift the spans
    spans = sentence_spans(text, "de")
    got = [text[a:b] for a, b in spans]
    want = [s for par in text.split("\n\n") for s, _ in sentences(par, "de")]
    assert got == want
    assert all(a < b for a, b in spans) and spans == sorted(spans)
    assert "Ziel:" in got and "1. Sichtbarkeit von LSN erhöhen" in got


def test_abbreviations_do_not_end_a_sentence_and_spans_stay_exact():
    text = "Das kostet ca. 3,5 Mio.  Euro pro Jahr, vgl. Abb. 3. Danach  folgt ein zweiter Satz."
    got = [text[a:b] for a, b in sentence_spans(text, "de")]
    assert got == ["Das kostet ca. 3,5 Mio.  Euro pro Jahr, vgl. Abb. 3.", "Danach  folgt ein zweiter Satz."]


def test_ingest_uses_the_shared_splitter():
    import ingest.chunk

    assert ingest.chunk.sentences is sentences


# ---- question form


@pytest.mark.parametrize(
    "question, listy",
    [
        ("Welche Themenfelder nennt die Strategie 2030?", True),
        ("Which new laws and standards are behind the upheaval?", True),
        ("Wie viele Mitglieder hat medways?", False),
        ("How big is BioCon Valley?", False),
        ("Nenne die Ziele der Strategie.", True),
        # "welche"/"which" ask for several things with a plural noun only
        ("In welchen Aufgabenfeldern war die Clusteragentur tätig?", True),
        ("Welche Krankheitsgebiete standen 2009 im Vordergrund?", True),  # compound: Gebiete -> Gebiet
        ("What was the model about, and which stages of the value chain does it cover?", True),
        ("Welche Rolle will LSN bei neuen Technologietrends einnehmen?", False),
        ("Über welches Bundesprogramm sind die Clusterinitiativen verbunden?", False),
        ("Which research institution deserved further funding?", False),
        ("What share of the functions did medtech account for?", False),
    ],
)
def test_list_questions_by_cue_words_or_a_plural_noun(question, listy):
    assert is_list_question(question) is listy


@pytest.mark.parametrize(
    "question, wants",
    [
        ("Wie viel kostet die Platin-Partnerschaft pro Jahr?", {"money"}),
        ("Was kostet das Platin-Partnerprogramm?", {"money"}),
        ("Wie teuer ist das Platin-Partnerprogramm für Mitglieder?", {"money"}),
        ("Welche jährlichen Kosten hat ein Mitglied im Platin-Partnerprogramm?", {"money"}),
        ("What does the platinum programme cost?", {"money"}),
        ("Which fees do members pay?", {"money"}),
        ("Welche Themen kosten die Mitglieder Zeit?", set()),
        ("Wie hat der Verband seine Anfangsjahre finanziert?", set()),
        ("What is the postal address and phone number of LSN Management GmbH?", {"contact"}),  # no count
        ("How many hydrogen filling stations have been built?", {"count"}),
        ("How does LSN want to address the shortage of skilled workers?", set()),  # the verb, not a postal address
    ],
)
def test_what_a_question_asks_for(question, wants):
    assert answer_types(question) == wants


@pytest.mark.parametrize(
    "text, contact",
    [
        ("+49 381 650 70 90 info@bcv.org www.bioconvalley.org", True),
        ("Life Science Nord Management GmbH Falkenried 88 20251 Hamburg Tel.: 040.471 96 -400", True),
        ("Weitere Informationen zum Programm finden Sie unter www.go-cluster.de.", False),
        ("Im Jahr 2019 gab es allein 33 Veranstaltungen und Weiterbildungen.", False),
    ],
)
def test_contact_lines(text, contact):
    assert is_contact_line(text) is contact


def test_question_parts():
    assert question_parts("Wie viele Mitglieder hat medways?") == 1
    assert question_parts("Wer leitet das Cluster, und wer sitzt dem Verein vor?") == 2
    assert question_parts("How big is it? Do both reports give the same figures?") == 2


# ---- answer units (the layout of a passage; lsn_assistant.answering.units)


def units_of(text: str, lang: str = "de", rank: int = 1, doc: str = "doc.txt") -> list[Unit]:
    chunk = Chunk(f"c{rank}-{lang}", doc, text, lang=lang, position=rank)
    hit = ScoredChunk(chunk, 1.0 / rank, rank)
    lines = lines_of(chunk, sentence_spans(text, lang), frozenset())
    return build_units(hit, lines, lines)


LIST_PASSAGE = (
    "Welche Projekte DiWiSH angehen wird, ist klar. Erst kürzlich hat das Team vier Handlungsfelder definiert.\n"
    "- Fachkräfte und Weiterbildung: Wie kommen mehr Fachkräfte ins Land? Wie steigern Mitarbeitende ihr Können?\n"
    "- Sichtbarkeit: Wie kann die Sichtbarkeit der Digitalbranche erhöht werden?\n"
    "- Digitale Transformation: Wie kann die Transformation in der Verwaltung gelingen?\n"
    "- Nachhaltigkeit und Ethik: Wie können erneuerbare Energien verstärkt genutzt werden?\n"
    "Diese und weitere Themen spiegeln sich in den Aktivitäten wider."
)


def test_a_list_is_one_unit_with_its_lead_in_and_every_item():
    (lst,) = [u for u in units_of(LIST_PASSAGE) if u.kind == "list"]
    assert [i.split(":")[0] for i in lst.items] == [
        "Fachkräfte und Weiterbildung", "Sichtbarkeit", "Digitale Transformation", "Nachhaltigkeit und Ethik"
    ]
    assert lst.text.startswith("Erst kürzlich hat das Team vier Handlungsfelder definiert.")
    assert "Wie steigern Mitarbeitende ihr Können?" in lst.text, "an item is quoted whole"
    assert "Diese und weitere Themen" not in lst.text


FIGURE = (
    "Es zeigt die Medizintechnik als tragende Säule des Netzwerks.\n"
    "Medizintechnik 46 % der Funktionen\nBiotechnologie 39 % der Funktionen\nPharma\n15 % der Funktionen\n"
    "Abb. 2: Die Unternehmen lassen sich in ein Modell ordnen."
)


def test_the_lines_of_a_figure_are_one_unit():
    data = [u for u in units_of(FIGURE) if u.kind == "data"]
    assert data and data[0].items[:2] == ("Medizintechnik 46 % der Funktionen", "Biotechnologie 39 % der Funktionen")


@pytest.mark.parametrize(
    "line, cls",
    [
        ("Medizintechnik 46 % der Funktionen", "data"),
        ("15 % der Funktionen", "data"),
        ("6 THE FUTURE GUIDING PHILOSOPHIES OF CLUSTER MANAGEMENT", "furniture"),  # a numbered header: never a unit
        ("5 LIFE SCIENCE NORD CLUSTER STRATEGY 2024", "furniture"),  # a running header with its page number
        ("Figure 7: Philosophies of Cluster Management", "heading"),
        ("Das Netzwerk hat 91 Mitglieder.", "sentence"),  # a sentence, not a line of a figure
    ],
)
def test_line_classes(line, cls):
    chunk = Chunk("c", "doc.txt", line, lang="de")
    assert classify(chunk, 0, len(line), frozenset())[0] == cls


@pytest.mark.parametrize(
    "sentence, refers",
    [
        ("Dabei verbringen junge Unternehmen zwei Stunden auf einem Schiff.", True),
        ("„Damit versuchen wir Venture Capital ins Land zu holen“, sagt Lars Bauer.", True),
        ("Hierunter fallen u.a. Design Thinking und Innovations-Dialoge.", True),
        ("This includes building up own competence.", True),
        ("Das Netzwerk wächst.", False),
        ("Dann folgt die Biotechnologie.", False),
    ],
)
def test_sentences_that_refer_back(sentence, refers):
    assert refers_back(sentence) is refers


def test_a_sentence_that_refers_back_is_quoted_with_the_one_it_points_to():
    text = ("Das Netzwerk setzt auf Themenschwerpunkte in der Medizintechnik. "
            "Dieser Ansatz wird als eigenes Ziel aufgeführt.\n\n"
            "Dies gilt auch für die Biotechnologie.")
    units = {u.text: u for u in units_of(text) if u.kind == "sentence"}
    shown = compose([units["Dieser Ansatz wird als eigenes Ziel aufgeführt."]], "de")[0]
    assert shown == ("Das Netzwerk setzt auf Themenschwerpunkte in der Medizintechnik. "
                     "Dieser Ansatz wird als eigenes Ziel aufgeführt. [1]")
    # scored as itself: the sentence before it adds nothing to its features
    assert units["Dieser Ansatz wird als eigenes Ziel aufgeführt."].parts[0].quote.startswith("Dieser")
    # the first sentence of a paragraph has nothing in it to point to
    assert compose([units["Dies gilt auch für die Biotechnologie."]], "de")[0].startswith("Dies gilt")
    # a connective or an expletive "Es" reads on its own
    plain = {u.text: u for u in units_of("Das Netzwerk wächst. Es gibt 250 Mitglieder. Auch die Zahl der Projekte steigt.")}
    assert compose([plain["Es gibt 250 Mitglieder."]], "de")[0] == "Es gibt 250 Mitglieder. [1]"
    assert compose([plain["Auch die Zahl der Projekte steigt."]], "de")[0].startswith("Auch")
    # the sentence pointed to is not quoted a second time beside it
    lead, back = units["Das Netzwerk setzt auf Themenschwerpunkte in der Medizintechnik."], units[
        "Dieser Ansatz wird als eigenes Ziel aufgeführt."]
    back.prob, lead.prob = 0.9, 0.8
    assert select([lead, back], Thresholds(answer=0.1, select=0.1, relative=0.1, max_units=3), listy=False) == [back]


# ---- follow-ups


def known(word: str, lang: str) -> bool:
    return word.lower() not in {"medways", "biocon", "olec"}


@pytest.mark.parametrize(
    "question, follow",
    [
        ("Und in der Strategie 2030?", True),
        ("And what about BioCon Valley?", True),
        ("Warum?", True),
        ("Wer leitet es?", True),
        ("How does it work?", True),
        ("Gibt es ein Projekt mit Stammzellen?", False),
        ("Is there another cluster similar to LSN?", False),
        ("What was the shipyard model in the masterplan about?", False),
    ],
)
def test_follow_up_detection(question, follow):
    assert is_follow_up(question) is follow


def test_follow_up_naming_a_document_keeps_the_topic_drops_the_old_document():
    history = parse_history(
        [
            {"role": "user", "content": "Welche Rolle will LSN laut Masterplan bei neuen Technologietrends einnehmen?"},
            {"role": "assistant", "content": "…", "citations": [{"doc": "lsn-masterplan-2009-de.txt", "n": 1}]},
        ]
    )
    r = resolve("Und in der Strategie 2030?", history, lambda q: {STRATEGY_2030} if "2030" in q else set(), known, {"masterplan", "2030"})
    assert r.follow_up and r.language == "de"
    assert "Technologietrends" in r.standalone and "Rolle" in r.standalone
    assert "Strategie 2030" in r.standalone and "Masterplan" not in r.standalone
    assert r.carried_docs == []  # it names a document: the previous sources do not bind it


def test_follow_up_with_a_new_subject_replaces_the_old_one_and_keeps_the_sources():
    history = parse_history(
        [
            {"role": "user", "content": "How many members does medways have?"},
            {"role": "assistant", "content": "…", "citations": [{"doc": "go-cluster.txt"}, {"doc": "go-cluster.txt"}]},
        ]
    )
    r = resolve("And what about BioCon Valley?", history, lambda q: set(), known)
    assert r.follow_up and r.language == "en"
    assert "members" in r.standalone and "BioCon Valley" in r.standalone
    assert "medways" not in r.standalone
    assert r.carried_docs == ["go-cluster.txt"]


def test_a_chain_of_follow_ups_keeps_the_first_topic():
    history = parse_history(
        [
            {"role": "user", "content": "Wie viele Mitglieder hat medways?"},
            {"role": "assistant", "content": "…"},
            {"role": "user", "content": "Und OLEC?"},
            {"role": "assistant", "content": "…"},
        ]
    )
    r = resolve("Und BioCon Valley?", history, lambda q: set(), known)
    assert "Mitglieder" in r.standalone and "BioCon Valley" in r.standalone
    assert "OLEC" not in r.standalone and "medways" not in r.standalone


def test_a_standalone_question_is_left_alone():
    history = parse_history([{"role": "user", "content": "Wie viele Mitglieder hat medways?"}])
    r = resolve("Welche Themenfelder nennt die Strategie 2030?", history, lambda q: set(), known)
    assert not r.follow_up and r.standalone == "Welche Themenfelder nennt die Strategie 2030?"


@pytest.mark.parametrize(
    "history, message",
    [
        ("not a list", "must be a list"),
        ([["user", "hi"]], r"history\[0\] must be an object"),
        ([{"role": "system", "content": "x"}], "role must be one of user, assistant"),
        ([{"role": "user"}], "content must be a string"),
        ([{"role": "user", "content": 5}], "content must be a string"),
        ([{"role": "user", "content": "x" * 20001}], "too long"),
        ([{"role": "user", "content": "x"}] * 51, "history is too long"),
    ],
)
def test_bad_history(history, message):
    with pytest.raises(BadQuery, match=message):
        parse_history(history)


# ---- grounding a generated text (the LLM path)


def _passages() -> list[ScoredChunk]:
    a = Chunk("c1", STRATEGY_EN, "Intro sentence here. This brings together around 250 stakeholders from science and industry.",
              title="Strategy", page=2, section="Preface", lang="en")
    b = Chunk("c2", STRATEGY_2030, "Ziel:\nLSN ist eines der sichtbarsten Life Science Cluster. Es gibt sechs Themenfelder.",
              title="2030", section="1. Sichtbarkeit", lang="de")
    return [ScoredChunk(a, 0.5, 1), ScoredChunk(b, 0.4, 2)]


def test_llm_citation_numbers_follow_first_appearance_and_drop_bad_markers():
    numbers = CitationNumbers(_passages())
    first = numbers.renumber("Es gibt sechs Themenfelder [2].")
    second = numbers.renumber(" The cluster brings together around 250 stakeholders [1] [7] [2].")
    assert first == "Es gibt sechs Themenfelder [1]."
    assert second == " The cluster brings together around 250 stakeholders [2] [1]."
    quote = "This brings together around 250 stakeholders from science and industry."
    c1, c2 = numbers.citations({1: quote, 2: "not in the passage"})
    assert (c1.n, c1.chunk_id) == (1, "c2") and c1.quote in c1.text  # a quote not in the passage: its first sentence
    assert (c2.n, c2.chunk_id, c2.quote) == (2, "c1", quote)


# ---- answer measures


def _answer(text: str, quotes: list[tuple[str, str]], doc: str = STRATEGY_EN) -> dict:
    return {
        "answer": text,
        "citations": [{"n": i + 1, "doc": doc, "quote": q, "text": t} for i, (q, t) in enumerate(quotes)],
    }


def test_check_citations_accepts_verbatim_quotes(tmp_path):
    (tmp_path / STRATEGY_EN).write_text("Preface\nThis brings together around 250\nstakeholders.", encoding="utf-8")
    chunk = "This brings together around 250 stakeholders."
    a = _answer("Around 250 stakeholders [1]", [("around 250 stakeholders", chunk)])
    assert check_citations(a, CorpusText(tmp_path)) == []


@pytest.mark.parametrize(
    "answer, problem",
    [
        (_answer("X [2]", [("around 250", "around 250 stakeholders")]), "[2] resolves to no citation"),
        (_answer("X [1]", [("around 250", "around 250"), ("250", "around 250")]), "citation 2 is not referenced"),
        (_answer("X [1]", [("around 300", "around 250 stakeholders")]), "not verbatim in its chunk"),
        (_answer("X [1]", [("", "around 250")]), "empty quote"),
        (_answer("X [1]", [("science", "science")]), "quote not found in"),
        (_answer("X [1]", [("around 250", "around 250")], doc="missing.txt"), "not found in the corpus folder"),
    ],
)
def test_check_citations_finds_each_problem(tmp_path, answer, problem):
    (tmp_path / STRATEGY_EN).write_text("This brings together around 250 stakeholders.", encoding="utf-8")
    problems = check_citations(answer, CorpusText(tmp_path))
    assert any(problem in p for p in problems), problems


def test_statements_skip_framing_lines():
    text = "The evidence is in German only; it is quoted verbatim:\nThe documents list:\n- A b c [1]\n- D e f [2] [3]"
    assert statements(text) == [("- A b c", [1]), ("- D e f", [2, 3])]
    assert statements("One claim [1] Another claim [2]") == [("One claim", [1]), ("Another claim", [2])]


def test_groundedness_counts_supported_statements():
    quote = "LSN brings together around 250 stakeholders from science and industry."
    a = _answer(f"{quote} [1] The cluster was founded on the moon. [1] Unmarked claim about budgets.", [(quote, quote)])
    assert groundedness(a) == pytest.approx(1 / 3)
    assert groundedness(_answer(f"{quote} [1]", [(quote, quote)])) == 1.0


def test_cited_gold_uses_passage_matching():
    from eval.answers import cites_gold

    q = Question("x", "?", "en", "fact", "r", ("250",), ((STRATEGY_EN, "around 250 stakeholders from science"),))
    hit = _answer("A [1]", [("250", "This brings together around 250 stakeholders from science and industry.")])
    assert cites_gold(q, hit)
    miss = _answer("A [1]", [("x", "Something else entirely.")])
    assert not cites_gold(q, miss)


@pytest.mark.parametrize(
    "sentence, counts",
    [
        ("Das Netzwerk verzeichnet aktuell 91 Mitglieder, darunter 44 KMU.", True),
        ("The cluster brings together around 250 members from science and industry.", True),
        ("medways bietet seinen Mitgliedern vier bis fünf Mal im Jahr ein Scouting an.", False),
        ("Die Zahl der Mitglieder ist um 150 Prozent gewachsen.", False),
        ("Seit 20 Jahren betreut der Verein seine Mitglieder.", False),
        ("Die Mitglieder zahlen 5 Mio. Euro im Jahr.", False),
    ],
)
def test_a_count_is_a_number_of_the_counted_things(sentence, counts):
    question = "Wie viele Mitglieder hat das Netzwerk?"
    counted = [{"mitglied", "member"}]
    lang = "en" if sentence.startswith("The") else "de"
    assert typed_match(sentence, answer_types(question), question, counted, lang) is counts


def test_a_table_of_contents_is_no_unit():
    from lsn_assistant.answering.units import build_units, lines_of, stream
    from lsn_assistant.types import ScoredChunk

    text = excerpt("lsn-clusterstrategie-2024-de.txt", "INHALTSVERZEICHNIS", 700)
    chunk = Chunk("toc", "lsn-clusterstrategie-2024-de.txt", text, lang="de")
    lines = lines_of(chunk, sentence_spans(text, "de"), frozenset())
    assert sum(ln.cls == "data" for ln in lines) >= 3  # page-and-chapter lines read as figure lines
    units = build_units(ScoredChunk(chunk, 1.0, 1), stream([lines]), stream([lines]))
    assert not [u for u in units if u.kind == "data"]
    # a figure's lines still are one
    fig = Chunk("fig", "d.txt", "Beschäftigte nach Branche\n\nMedizintechnik 2019 24.000\n\nBiotechnologie 2019 6.500\n\nPharma 2019 14.300",
                lang="de")
    flines = lines_of(fig, sentence_spans(fig.text, "de"), frozenset())
    assert [u.kind for u in build_units(ScoredChunk(fig, 1.0, 1), stream([flines]), stream([flines]))].count("data") == 1


def test_a_count_is_near_its_thing_in_content_words_whatever_the_language():
    """English says with more function words what German says with fewer; the
    window counts content words, so the same distance holds in both."""
    de_q, en_q = "Wie viele Mitglieder hat LSN?", "How many members does LSN have?"
    counted = [{"mitglied", "member"}]
    de = "Rund 250 Akteure aus Wissenschaft und Wirtschaft sind im Cluster als Mitglieder eingebunden."
    en = "Around 250 stakeholders from science and industry are integrated in the cluster as members of LSN e.V."
    assert typed_match(de, answer_types(de_q), de_q, counted, "de", window=6)
    assert typed_match(en, answer_types(en_q), en_q, counted, "en", window=6)
    # too far apart in content words, however few function words stand between
    far = "Around 250 stakeholders, companies, hospitals, universities, institutes, foundations and investors: members."
    assert not typed_match(far, answer_types(en_q), en_q, counted, "en", window=6)
    assert typed_match(far, answer_types(en_q), en_q, counted, "en", window=8)
