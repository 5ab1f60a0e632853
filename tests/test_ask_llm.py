"""Assistant.ask / ask_stream with an LLM configured, against the scripted
OpenAI-compatible server (tests/fake_openai_server.py) on the small answer
index: condensing follow-ups, retrieval with the translated question, citation
numbers as the user sees them, streaming, and the extractive fallback with a
notice when the server fails before or during the answer."""

from __future__ import annotations

import time

import pytest

from ask_index import build
from conftest import free_port
from fake_openai_server import FakeLLMServer
from lsn_assistant import Assistant
from lsn_assistant.text import sentence_spans

QUESTION = "Wie viele Akteure vereint der Life Science Nord e. V.?"
K = 4


@pytest.fixture
def server():
    with FakeLLMServer() as srv:
        yield srv


def assistant_for(srv: FakeLLMServer | None, timeout: float = 5, url: str | None = None) -> Assistant:
    settings = build()
    settings = settings.model_copy(update={
        "llm_provider": "openai",
        "llm_base_url": url or srv.url,
        "llm_model": "fake-model",
        "llm_timeout_s": timeout,
    })
    return Assistant.open(settings)


def first_sentence(text: str, lang: str) -> str:
    a, b = sentence_spans(text, lang)[0]
    return text[a:b]


def scripted_answer(a: Assistant) -> tuple[str, list]:
    """A reply citing passage 2, then passage 1 (prompt numbers), plus a marker naming no passage."""
    hits = a.retriever.search(QUESTION, k=K)
    s2 = first_sentence(hits[1].chunk.text, hits[1].chunk.lang)
    s1 = first_sentence(hits[0].chunk.text, hits[0].chunk.lang)
    return f"{s2} [2] [9]\n{s1} [1]", hits


def test_llm_answer_renumbers_citations_in_order_of_appearance(server):
    a = assistant_for(server)
    reply, hits = scripted_answer(a)
    server.reply(QUESTION)  # the translation: the same words, so one retrieval
    server.reply(reply)
    ans = a.ask(QUESTION, k=K)
    assert ans.mode == "llm" and not ans.abstained and ans.notice is None
    assert "[9]" not in ans.text and "[1]" in ans.text and "[2]" in ans.text
    assert ans.text.index("[1]") < ans.text.index("[2]")
    c1, c2 = ans.citations
    assert (c1.n, c1.chunk_id) == (1, hits[1].chunk.chunk_id)
    assert (c2.n, c2.chunk_id) == (2, hits[0].chunk.chunk_id)
    for c in ans.citations:
        assert c.quote and c.quote in c.text
    kinds = [r["body"]["messages"][0]["content"] for r in server.chat_requests]
    assert "Translate" in kinds[0] and "numbered passages" in kinds[1]


def test_stream_pieces_are_the_final_text(server):
    a = assistant_for(server)
    reply, _ = scripted_answer(a)
    server.reply(QUESTION)
    server.reply(reply, chunk_chars=3)
    events = [e.to_dict() for e in a.ask_stream(QUESTION, k=K)]
    types = [e["type"] for e in events]
    assert types[-2:] == ["citations", "done"] and "reset" not in types
    text = "".join(e["text"] for e in events if e["type"] == "delta")
    done = events[-1]["answer"]
    assert text.strip() == done["answer"] and done["mode"] == "llm"
    assert [c["n"] for c in events[-2]["citations"]] == [1, 2]


def test_translated_question_retrieves_too(server):
    a = assistant_for(server)
    server.reply("How many stakeholders does Life Science Nord e. V. unite?")
    server.reply("NO_ANSWER")
    ans = a.ask(QUESTION, k=6)
    assert ans.abstained and ans.mode == "llm" and ans.text == "Dazu finden sich in den Dokumenten keine Angaben."
    prompt = server.chat_requests[1]["body"]["messages"][-1]["content"]
    # the English edition's paragraph came in through the translated question
    assert "stakeholders" in prompt and "Akteure" in prompt
    assert ans.related


def test_follow_up_is_condensed_by_the_llm(server):
    a = assistant_for(server)
    history = [
        {"role": "user", "content": "Was sind die Partnerprogramme?"},
        {"role": "assistant", "content": "Es gibt Platin, Gold und Silber [1].", "citations": []},
    ]
    server.reply("Was kostet das Platin-Partnerprogramm?")  # condensed
    server.reply("Was kostet das Platin-Partnerprogramm?")  # translation: unchanged
    server.reply("NO_ANSWER")
    ans = a.ask("Und was kostet Platin?", history=history, k=K)
    assert ans.standalone == "Was kostet das Platin-Partnerprogramm?"
    condense = server.chat_requests[0]["body"]["messages"]
    assert "standalone" in condense[0]["content"] and "Partnerprogramme" in condense[1]["content"]


def test_unreachable_llm_answers_extractively_with_a_notice():
    a = assistant_for(None, url=f"http://127.0.0.1:{free_port()}/v1")
    ans = a.ask(QUESTION, k=K)
    assert ans.mode == "extractive" and not ans.abstained and ans.citations
    assert ans.notice.startswith("Das Sprachmodell war nicht verfügbar") and "cannot connect" in ans.notice


def test_llm_failing_mid_stream_withdraws_what_was_streamed(server):
    a = assistant_for(server, timeout=1)
    reply, _ = scripted_answer(a)
    server.reply(QUESTION)
    server.reply(reply + " " + reply, chunk_chars=5, stall_after=40, stall=3)
    events = [e.to_dict() for e in a.ask_stream(QUESTION, k=K)]
    types = [e["type"] for e in events]
    assert "reset" in types
    after = types.index("reset")
    text = "".join(e["text"] for e in events[after:] if e["type"] == "delta")
    done = events[-1]["answer"]
    assert done["mode"] == "extractive" and text.strip() == done["answer"]
    assert "nicht verfügbar" in done["notice"]


def test_health_reports_the_llm(server):
    a = assistant_for(server)
    h = a.health()
    assert h["llm"]["mode"] == "llm" and h["llm"]["reachable"] is True and h["llm"]["model"] == "fake-model"
    plain = Assistant.open(build())
    assert plain.health()["llm"] == {"mode": "extractive"}


def test_ask_results_do_not_depend_on_llm_object_reuse(server):
    """The LLM client is built once per Assistant and serves every question."""
    a = assistant_for(server)
    for _ in range(2):
        server.reply(QUESTION)
        server.reply("NO_ANSWER")
        assert a.ask(QUESTION, k=K).abstained
    assert a._llm()[0] is a._llm()[0]
    assert len(server.chat_requests) == 4


def test_slow_llm_answers_extractively_within_the_timeout(server):
    a = assistant_for(server, timeout=1)
    server.reply(QUESTION, delay=5)  # the translation request hangs
    t0 = time.perf_counter()
    ans = a.ask(QUESTION, k=K)
    assert time.perf_counter() - t0 < 4
    assert ans.mode == "extractive" and ans.citations and "timeout" in ans.notice


def test_the_question_and_its_translation_are_fused_by_the_one_rrf():
    """``fuse_ranked`` (the LLM path's hits for a question and its
    translation) is ``retrieve.rrf`` with each list weighted 1: scores
    1/(k + rank), a passage in both lists first, ranks renumbered."""
    from lsn_assistant.assistant import fuse_ranked
    from lsn_assistant.types import Chunk, ScoredChunk

    def hit(cid: str, rank: int) -> ScoredChunk:
        return ScoredChunk(Chunk(chunk_id=cid, doc="d.txt", text=cid, title="D"), score=0.0, rank=rank)

    a = [hit("x", 1), hit("y", 2)]
    b = [hit("y", 1), hit("z", 2)]
    fused = fuse_ranked([a, b], k=3, rrf_k=10)
    assert [h.chunk.chunk_id for h in fused] == ["y", "x", "z"]
    assert [h.rank for h in fused] == [1, 2, 3]
    assert fused[0].score == pytest.approx(1 / 12 + 1 / 11) and fused[1].score == pytest.approx(1 / 11)
    assert fuse_ranked([a], k=1) == a[:1]
