"""The answer layer's pieces that need no index: sentence spans, follow-up
detection and carry-over, the marker grounding of generated text, and the
answer measures of ``eval.answers``."""

from __future__ import annotations

import pytest

from conftest import excerpt
from eval.answers import CorpusText, check_citations, groundedness, statements
from eval.testset import Question
from lsn_assistant.answer import ground_markers, is_list_question, question_parts
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
    ],
)
def test_list_questions_by_cue_words(question, listy):
    assert is_list_question(question) is listy


def test_question_parts():
    assert question_parts("Wie viele Mitglieder hat medways?") == 1
    assert question_parts("Wer leitet das Cluster, und wer sitzt dem Verein vor?") == 2
    assert question_parts("How big is it? Do both reports give the same figures?") == 2


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


def test_ground_markers_drops_invalid_markers_and_quotes_the_supporting_sentence():
    text = "The cluster brings together around 250 stakeholders [1]. It wants visibility [2] [7]. Made up [0]."
    out, cits = ground_markers(text, _passages(), "en")
    assert "[7]" not in out and "[0]" not in out
    assert [c.n for c in cits] == [1, 2]
    assert cits[0].quote == "This brings together around 250 stakeholders from science and industry."
    assert cits[1].chunk_id == "c2" and cits[1].quote in cits[1].text
    for c in cits:
        assert f"[{c.n}]" in out


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
