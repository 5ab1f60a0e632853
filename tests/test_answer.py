"""Answers through ``Assistant.ask`` / ``ask_stream`` and ``lsn ask``, on one
small index of real excerpts (tests/ask_index.py): citations that resolve to
verbatim quotes, abstention in the question's language with related passages,
German/English framing, lists, follow-ups, streaming, the LLM hook, bad input;
which sentences are candidates."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

import lsn_assistant.llm as llm_module
from ask_index import MASTERPLAN, STRATEGY_2030, STRATEGY_DE, STRATEGY_EN, build
from eval.answers import CorpusText, check_citations
from lsn_assistant import Assistant
from lsn_assistant.config import get_settings
from lsn_assistant.conversation import parse_history
from lsn_assistant.errors import BadQuery, IndexEmpty

EN_STAKEHOLDERS = "How many stakeholders does Life Science Nord e.V. bring together?"
DE_STAKEHOLDERS = "Wie viele Akteure vereint der Life Science Nord e. V.?"
ABSTAIN_DE = "Dazu finden sich in den Dokumenten keine Angaben."
ABSTAIN_EN = "The documents do not answer this."
MARKER = re.compile(r"\[(\d+)\]")


@pytest.fixture(scope="module")
def index():
    return build()


@pytest.fixture(scope="module")
def assistant(index) -> Assistant:
    return Assistant.open(index)


@pytest.fixture(autouse=True)
def no_llm(monkeypatch):
    """Whatever the environment configures, these tests are about the extractive path."""
    monkeypatch.setattr(llm_module, "get_llm", lambda settings=None: None)


def assert_grounded(answer, index):
    """Every marker resolves, every citation is used, every quote is verbatim
    in its chunk and (folded) in its corpus file."""
    d = answer.to_dict()
    assert check_citations(d, CorpusText(index.corpus_dir)) == []
    used = {int(n) for n in MARKER.findall(answer.text)}
    assert used == {c.n for c in answer.citations}
    for c in answer.citations:
        assert c.quote and c.quote in c.text
        assert c.doc and c.title and c.chunk_id


# ---- answers with citations


def test_english_answer_quotes_the_english_passage(assistant, index):
    a = assistant.ask(EN_STAKEHOLDERS)
    assert not a.abstained and a.language == "en" and a.mode == "extractive"
    assert "250 stakeholders" in a.text  # the number as the source writes it
    assert_grounded(a, index)
    docs = {c.doc for c in a.citations}
    assert STRATEGY_EN in docs and STRATEGY_DE not in docs, "the German twin says the same: the English one is quoted"
    assert not a.text.startswith("The evidence is in German only"), a.text


def test_german_answer_quotes_the_german_passage(assistant, index):
    a = assistant.ask(DE_STAKEHOLDERS)
    assert not a.abstained and a.language == "de"
    assert "rund 250 Akteure" in a.text
    assert_grounded(a, index)
    docs = {c.doc for c in a.citations}
    assert STRATEGY_DE in docs and STRATEGY_EN not in docs
    assert a.timings_ms["total"] >= a.timings_ms["retrieve"] > 0


def test_answer_text_is_the_quotes_with_markers(assistant):
    a = assistant.ask(DE_STAKEHOLDERS)
    for c in a.citations:
        assert f"{' '.join(c.quote.split())} [{c.n}]" in a.text


def test_evidence_only_in_the_other_language_is_quoted_with_a_note(assistant, index):
    a = assistant.ask("What is the common goal of the Life Science Nord e.V.?", filters={"lang": ["de"]})
    assert not a.abstained and a.language == "en"
    assert a.text.splitlines()[0] == "The evidence is in German only; it is quoted verbatim:"
    assert {c.lang for c in a.citations} == {"de"}
    assert_grounded(a, index)
    b = assistant.ask("Was ist das gemeinsame Ziel des Life Science Nord e. V.?", filters={"lang": ["en"]})
    assert not b.abstained and b.language == "de"
    assert b.text.splitlines()[0] == "Die Belege liegen nur auf Englisch vor; sie werden im Wortlaut zitiert:"
    assert_grounded(b, index)


def test_list_question_gets_a_bulleted_list(assistant, index):
    a = assistant.ask("Welche Partnerprogramme gibt es für die Mitglieder?")
    assert not a.abstained
    lines = a.text.splitlines()
    # one sentence naming all of them is the answer; several units are bullets
    if len(a.citations) > 1:
        assert lines[0] == "Die Dokumente nennen:"
        items = lines[1:]
        assert len(items) == len(a.citations)
        assert all(re.fullmatch(r"- .+ \[\d+\]", item) for item in items), items
    assert "Platin, Gold und Silber" in a.text
    assert_grounded(a, index)


def test_english_list_intro(assistant):
    a = assistant.ask("Which partner programmes are offered to members?")
    assert not a.abstained
    assert a.text.splitlines()[0] in ("The documents list:", "The evidence is in German only; it is quoted verbatim:")
    assert "Platin, Gold und Silber" in a.text
    # a list question answered by several sentences: they are bullets under the intro
    from lsn_assistant.answering.units import Part, Unit
    from lsn_assistant.answering.wording import compose
    from lsn_assistant.types import Chunk, ScoredChunk

    chunk = Chunk("e1", "x.txt", "Members can choose Platinum. Members can choose Gold.", lang="en")
    units = [Unit("sentence", (Part(chunk, start, end, (i,)),), ScoredChunk(chunk, 1.0, 1))
             for i, (start, end) in enumerate(((0, 28), (29, 53)))]
    text = compose(units, "en", listy=True)[0]
    assert text.splitlines() == ["The documents list:", "- Members can choose Platinum. [1]", "- Members can choose Gold. [2]"]


def test_short_list_items_are_candidates_and_a_repeated_sentence_is_not_an_overlap(assistant):
    from lsn_assistant.types import Chunk, ScoredChunk

    first = Chunk("t1", "x.txt", "Die Maßnahmen betreffen vier Bereiche:\n- inhaltliche Ausrichtung;\n- Vermarktung.\n"
                  "Kurz so.\nDie Umsetzung erfolgt langfristig.", lang="de", position=1)
    overlap = Chunk("t2", "x.txt", "Die Umsetzung erfolgt langfristig.\nEin neuer Absatz folgt.", lang="de", position=2)
    later = Chunk("t3", "x.txt", "Ein Projekt folgt.\nDie Umsetzung erfolgt langfristig.", lang="de", position=7)
    hits = [ScoredChunk(c, 1.0, i) for i, c in enumerate((first, overlap, later), start=1)]
    units, _ = assistant.answerer.units(hits, assistant.retriever.index)
    quotes = [(u.kind, u.parts[0].chunk.chunk_id, u.text) for u in units]
    lists = [u for u in units if u.kind == "list"]
    assert lists and lists[0].items == ("inhaltliche Ausrichtung;", "Vermarktung."), "short items belong to their list"
    assert ("item", "t1", "- inhaltliche Ausrichtung;") in quotes
    assert not any(text == "Kurz so." for _, _, text in quotes)  # a fragment that is no list item
    # a sentence is quoted once, wherever the document repeats it (overlap of chunks, or said again)
    assert sum(text == "Die Umsetzung erfolgt langfristig." for _, _, text in quotes) == 1


def test_filters_apply_to_answers(assistant):
    a = assistant.ask("Welche Aufgaben hat das Management von Life Science Nord?", filters={"doc": [MASTERPLAN]})
    assert a.citations and {c.doc for c in a.citations} == {MASTERPLAN}


# ---- abstention


@pytest.mark.parametrize(
    "question, lang, message",
    [
        ("Wie viel kostet die Platin-Partnerschaft pro Jahr?", "de", ABSTAIN_DE),
        ("Was kostet das Platin-Partnerprogramm?", "de", ABSTAIN_DE),  # no amount anywhere: no answer
        ("Wie teuer ist die Platin-Partnerschaft für Mitglieder?", "de", ABSTAIN_DE),
        ("How much does the platinum partner programme cost per year?", "en", ABSTAIN_EN),
        ("Wie lautet die Postanschrift des Life Science Nord e. V.?", "de", ABSTAIN_DE),  # no contact details
        ("How do I bake bread?", "en", ABSTAIN_EN),
    ],
)
def test_unanswerable_question_abstains_in_its_language(assistant, question, lang, message):
    a = assistant.ask(question)
    assert a.abstained, a.text
    assert a.language == lang and a.text == message
    assert a.citations == () and not MARKER.search(a.text)
    assert a.related, "the closest passages are offered"
    for r in a.related:
        assert {"doc", "chunk_id", "text", "page", "section", "score"} <= set(r)


def test_abstention_reason_is_inspectable(assistant):
    a = assistant.ask("Wie viel kostet die Platin-Partnerschaft pro Jahr?")
    assert a.evidence["answer_types"] == ["money"] and a.evidence["missing_types"] == ["money"]


def test_no_passages_at_all_abstains(assistant):
    a = assistant.ask(DE_STAKEHOLDERS, filters={"doc": ["no-such-file.txt"]})
    assert a.abstained and a.text == ABSTAIN_DE and a.related == ()


# ---- conversation


def test_follow_up_carries_the_topic_and_the_sources(assistant, index):
    first = assistant.ask(DE_STAKEHOLDERS)
    history = [
        {"role": "user", "content": DE_STAKEHOLDERS},
        {"role": "assistant", "content": first.text, "citations": [c.to_dict() for c in first.citations]},
    ]
    a = assistant.ask("Und aus welchen Bereichen kommen sie?", history=history)
    assert "Akteure" in a.standalone and "vereint" in a.standalone
    assert not a.abstained and a.language == "de"
    assert {c.doc for c in a.citations} == {STRATEGY_DE}  # the previous answer's document
    assert "Wissenschaft, Wirtschaft und Politik" in a.text
    assert_grounded(a, index)


def test_follow_up_naming_a_document_is_not_bound_to_the_previous_sources(assistant):
    history = [
        {"role": "user", "content": "Welche Aufgaben hatte die Norgenta laut Masterplan?"},
        {"role": "assistant", "content": "…", "citations": [{"doc": MASTERPLAN}]},
    ]
    resolved = assistant.resolve("Und in der Strategie 2030?", parse_history(history))
    assert resolved.follow_up and resolved.carried_docs == []
    assert "Aufgaben" in resolved.standalone and "Masterplan" not in resolved.standalone
    a = assistant.ask("Und in der Strategie 2030?", history=history)
    assert a.citations == () or any(c.doc == STRATEGY_2030 for c in a.citations)


def test_a_standalone_question_ignores_the_history(assistant):
    history = [{"role": "user", "content": "Welche Partnerprogramme gibt es?"}, {"role": "assistant", "content": "…"}]
    a = assistant.ask(EN_STAKEHOLDERS, history=history)
    assert a.standalone == EN_STAKEHOLDERS and "250 stakeholders" in a.text


# ---- streaming


def test_stream_events_in_order(assistant):
    events = [e.to_dict() for e in assistant.ask_stream(DE_STAKEHOLDERS)]
    kinds = [e["type"] for e in events]
    assert kinds[-2:] == ["citations", "done"] and set(kinds[:-2]) == {"delta"} and len(kinds) >= 3
    done = events[-1]["answer"]
    assert "".join(e["text"] for e in events if e["type"] == "delta") == done["answer"]
    assert events[-2]["citations"] == done["citations"] and done["citations"]
    asked = assistant.ask(DE_STAKEHOLDERS).to_dict()
    assert done == asked | {"timings_ms": done["timings_ms"], "answer_id": done["answer_id"]}
    assert len(done["answer_id"]) == 32 and done["answer_id"] != asked["answer_id"]  # each answer its own id


def test_stream_of_an_abstention(assistant):
    events = [e.to_dict() for e in assistant.ask_stream("How do I bake bread?")]
    assert [e["type"] for e in events] == ["delta", "citations", "done"]
    assert events[0]["text"] == ABSTAIN_EN and events[1]["citations"] == []
    assert events[2]["answer"]["abstained"] is True


def test_stream_rejects_bad_input_before_the_first_event(assistant):
    with pytest.raises(BadQuery):
        assistant.ask_stream("   ")


# ---- the LLM hook (the LLM path itself: test_ask_llm.py)


def test_a_broken_llm_set_up_falls_back_to_the_extractive_answer_with_a_notice(index, monkeypatch):
    def broken(settings=None):
        raise ValueError("bad llm_url")

    monkeypatch.setattr(llm_module, "get_llm", broken)
    a = Assistant.open(index).ask(EN_STAKEHOLDERS)
    assert a.mode == "extractive" and not a.abstained and "250 stakeholders" in a.text
    assert "bad llm_url" in a.notice and a.notice.startswith("The language model")


# ---- bad input


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"question": ""}, "empty"),
        ({"question": "  \n "}, "empty"),
        ({"question": "x" * 2001}, "too long"),
        ({"question": "Life Science Nord", "k": 0}, "k must be between 1 and 20"),
        ({"question": "Life Science Nord", "k": 21}, "k must be between 1 and 20"),
        ({"question": "Life Science Nord", "history": {"role": "user"}}, "history must be a list"),
        ({"question": "Life Science Nord", "history": [{"role": "bot", "content": "x"}]}, "role must be one of"),
        ({"question": "Life Science Nord", "filters": {"author": "x"}}, "unknown filter"),
    ],
)
def test_bad_input(assistant, kwargs, message):
    with pytest.raises(BadQuery, match=message):
        assistant.ask(**kwargs)


def test_ask_on_empty_index_says_to_ingest():
    with pytest.raises(IndexEmpty, match="lsn ingest"):
        Assistant.open(get_settings()).ask("Life Science Nord")


# ---- lsn ask


@pytest.fixture
def use_index(index, monkeypatch):
    monkeypatch.setenv("LSN_DATA_DIR", str(index.data_dir))
    monkeypatch.setenv("LSN_CORPUS_DIR", str(index.corpus_dir))
    get_settings.cache_clear()
    return index


def test_cli_ask_prints_answer_and_numbered_sources(use_index):
    from lsn_assistant.cli import app

    result = CliRunner().invoke(app, ["ask", DE_STAKEHOLDERS])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "rund 250 Akteure" in out and "\nQuellen:\n" in out
    assert re.search(r"^\[1\] lsn-clusterstrategie-2024-de\.txt", out, re.M), out
    assert "„" in out  # the quote, in German quotation marks


def test_cli_ask_json_and_abstention(use_index):
    from lsn_assistant.cli import app

    result = CliRunner().invoke(app, ["ask", "How do I bake bread?", "--json"])
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert d["abstained"] is True and d["answer"] == ABSTAIN_EN and d["related"]
    assert {"answer", "language", "abstained", "citations", "timings_ms", "mode", "notice"} <= set(d)
    plain = CliRunner().invoke(app, ["ask", "How do I bake bread?"])
    assert ABSTAIN_EN in plain.stdout and "The closest passages:" in plain.stdout


def test_cli_ask_bad_input_is_a_clean_error(use_index):
    from lsn_assistant.cli import app

    result = CliRunner().invoke(app, ["ask", "Life Science Nord", "--k", "99"])
    assert result.exit_code == 1 and result.stderr.startswith("error: ") and "Traceback" not in result.output
