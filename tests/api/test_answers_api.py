"""POST /api/ask and /api/ask/stream through FastAPI's TestClient on the
small answer index (tests/ask_index.py): the documented shapes, server-sent
events in order, and bad requests that get a 4xx with a JSON ``detail``."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

import lsn_assistant.llm as llm_module
from ask_index import STRATEGY_DE, build
from lsn_assistant import Assistant
from lsn_assistant.api import create_app
from lsn_assistant.config import get_settings

QUESTION = "Wie viele Akteure vereint der Life Science Nord e. V.?"
CITATION_KEYS = {"n", "chunk_id", "doc", "title", "page", "section", "quote", "text"}


@pytest.fixture(autouse=True)
def no_llm(monkeypatch):
    monkeypatch.setattr(llm_module, "get_llm", lambda settings=None: None)


@pytest.fixture(scope="module")
def client():
    settings = build()
    with TestClient(create_app(settings, Assistant.open(settings))) as c:
        yield c


def events_of(response) -> list[dict]:
    assert response.headers["content-type"].startswith("text/event-stream")
    chunks = [c for c in response.text.split("\n\n") if c]
    assert all(c.startswith("data: ") for c in chunks), chunks
    return [json.loads(c[len("data: "):]) for c in chunks]


def test_ask_shape(client):
    r = client.post("/api/ask", json={"question": QUESTION})
    assert r.status_code == 200, r.text
    d = r.json()
    assert {"answer", "language", "abstained", "citations", "timings_ms", "mode", "notice", "related"} <= set(d)
    assert d["language"] == "de" and d["abstained"] is False and d["mode"] == "extractive"
    assert "rund 250 Akteure" in d["answer"]
    assert d["citations"] and all(CITATION_KEYS <= set(c) for c in d["citations"])
    for c in d["citations"]:
        assert c["quote"] in c["text"] and f"[{c['n']}]" in d["answer"]
    assert STRATEGY_DE in {c["doc"] for c in d["citations"]}
    assert {"retrieve", "total"} <= set(d["timings_ms"])


def test_ask_with_history_filters_and_k(client):
    body = {
        "question": "Und aus welchen Bereichen kommen sie?",
        "history": [
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": "…", "citations": [{"n": 1, "doc": STRATEGY_DE}]},
        ],
        "filters": {"lang": ["de"]},
        "k": 4,
    }
    r = client.post("/api/ask", json=body)
    assert r.status_code == 200, r.text
    d = r.json()
    assert "Akteure" in d["standalone"] and not d["abstained"]
    assert {c["doc"] for c in d["citations"]} == {STRATEGY_DE}


def test_ask_abstains_with_related_passages(client):
    r = client.post("/api/ask", json={"question": "How much does the platinum partner programme cost per year?"})
    assert r.status_code == 200
    d = r.json()
    assert d["abstained"] is True and d["answer"] == "The documents do not answer this." and d["citations"] == []
    assert d["related"] and {"doc", "text", "chunk_id", "rank"} <= set(d["related"][0])


def test_ask_stream_events(client):
    r = client.post("/api/ask/stream", json={"question": QUESTION})
    assert r.status_code == 200
    events = events_of(r)
    kinds = [e["type"] for e in events]
    assert kinds[-2:] == ["citations", "done"] and set(kinds[:-2]) == {"delta"}
    done = events[-1]["answer"]
    assert "".join(e["text"] for e in events[:-2]) == done["answer"]
    assert events[-2]["citations"] == done["citations"]
    assert all(CITATION_KEYS <= set(c) for c in done["citations"])


@pytest.mark.parametrize(
    "body, status, mentions",
    [
        ({"question": ""}, 400, "empty"),
        ({"question": "x" * 3000}, 400, "too long"),
        ({}, 422, "question"),
        ({"question": 42}, 422, "question"),
        ({"question": "Life Science Nord", "k": 0}, 422, "k"),
        ({"question": "Life Science Nord", "k": 500}, 422, "k"),
        ({"question": "Life Science Nord", "history": "hello"}, 422, "history"),
        ({"question": "Life Science Nord", "history": [{"role": "system", "content": "x"}]}, 422, "role"),
        ({"question": "Life Science Nord", "history": [{"role": "user"}]}, 422, "content"),
        ({"question": "Life Science Nord", "history": [{"role": "user", "content": "x"}] * 51}, 422, "history"),
        ({"question": "Life Science Nord", "filters": {"author": ["x"]}}, 422, "author"),
        ({"question": "Life Science Nord", "temperature": 1}, 422, "temperature"),
    ],
)
@pytest.mark.parametrize("path", ["/api/ask", "/api/ask/stream"])
def test_bad_requests_get_4xx_json(client, path, body, status, mentions):
    r = client.post(path, json=body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert mentions in json.dumps(r.json()["detail"])


def test_not_json_is_a_4xx(client):
    r = client.post("/api/ask", content=b"question=hi", headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 422 and "detail" in r.json()


def test_empty_index_is_503():
    with TestClient(create_app(get_settings())) as c:
        for path in ("/api/ask", "/api/ask/stream"):
            r = c.post(path, json={"question": QUESTION})
            assert r.status_code == 503 and "lsn ingest" in r.json()["detail"]
