"""POST /v1/chat/completions: what an OpenAI chat client sends and expects,
checked with the real ``openai`` client library over the app (plain and
streamed), plus the citations that ride along and the errors."""

from __future__ import annotations

import json

import openai
import pytest
from fastapi.testclient import TestClient

import lsn_assistant.llm as llm_module
from ask_index import build
from lsn_assistant import Assistant
from lsn_assistant.api import create_app, with_sources

QUESTION = "Wie viele Akteure vereint der Life Science Nord e. V.?"


@pytest.fixture(autouse=True)
def no_llm(monkeypatch):
    monkeypatch.setattr(llm_module, "get_llm", lambda settings=None: None)


@pytest.fixture(scope="module")
def client():
    settings = build().model_copy(update={"ui": False})
    with TestClient(create_app(settings, Assistant.open(settings))) as c:
        yield c


@pytest.fixture
def oai(client):
    return openai.OpenAI(base_url="http://testserver/v1", api_key="unused", http_client=client, max_retries=0)


def test_openai_client_gets_answer_with_sources_and_citations(oai, client):
    resp = oai.chat.completions.create(
        model="lsn-assistant",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": QUESTION}],
    )
    text = resp.choices[0].message.content
    assert resp.choices[0].finish_reason == "stop" and resp.model == "lsn-assistant"
    assert "250" in text and "\n\nQuellen:\n[1] " in text
    extra = resp.model_extra
    assert extra["abstained"] is False and extra["citations"][0]["n"] == 1
    for c in extra["citations"]:
        assert c["quote"] in c["text"] and f"[{c['n']}]" in text
    direct = client.post("/api/ask", json={"question": QUESTION}).json()
    assert text == with_sources(direct)


def test_openai_client_streams_the_same_text(oai, client):
    stream = oai.chat.completions.create(model="lsn-assistant", messages=[{"role": "user", "content": QUESTION}], stream=True)
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop" and chunks[-1].model_extra["citations"]
    direct = client.post("/api/ask", json={"question": QUESTION}).json()
    assert text == with_sources(direct)


def test_history_makes_follow_ups_work(oai):
    first = oai.chat.completions.create(model="x", messages=[{"role": "user", "content": "Welche Partnerprogramme gibt es?"}])
    follow = oai.chat.completions.create(
        model="x",
        messages=[
            {"role": "user", "content": "Welche Partnerprogramme gibt es?"},
            {"role": "assistant", "content": first.choices[0].message.content},
            {"role": "user", "content": [{"type": "text", "text": "Was kostet Platin?"}]},
        ],
    )
    assert follow.choices[0].message.content


def test_abstention_reads_as_such(oai):
    resp = oai.chat.completions.create(model="x", messages=[{"role": "user", "content": "Wie hoch ist der Eintrittspreis des Hamburger Zoos?"}])
    assert resp.model_extra["abstained"] is True and resp.model_extra["citations"] == []
    assert resp.choices[0].message.content.startswith("Dazu finden sich in den Dokumenten keine Angaben.")


def test_models_lists_the_assistant(oai):
    assert [m.id for m in oai.models.list()] == ["lsn-assistant"]


@pytest.mark.parametrize(
    "body, status, words",
    [
        ({"messages": []}, 422, "at least 1"),
        ({"messages": [{"role": "assistant", "content": "Hallo"}]}, 400, "last message must be the user's"),
        ({"messages": [{"role": "user", "content": "   "}]}, 400, "empty"),
        ({"messages": [{"role": "wizard", "content": "x"}]}, 422, "role"),
        ({"messages": "Hallo"}, 422, "messages"),
    ],
)
def test_bad_chat_requests(client, body, status, words):
    r = client.post("/v1/chat/completions", json=body)
    assert r.status_code == status
    assert words in json.dumps(r.json()["detail"])
