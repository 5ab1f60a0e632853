"""POST and GET /api/feedback (api/routes/feedback.py): every answer (asked,
streamed or through chat completions) carries an id that can be rated; the
list needs the API key; bad feedback is a clear 4xx."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

import lsn_assistant.llm as llm_module
from ask_index import build
from lsn_assistant import Assistant
from lsn_assistant.api import create_app


@pytest.fixture(scope="module")
def client():
    settings = build().model_copy(update={"api_key": "secret-key"})
    original = llm_module.get_llm
    llm_module.get_llm = lambda settings=None: None  # extractive answers only
    try:
        with TestClient(create_app(settings, Assistant.open(settings))) as c:
            yield c
    finally:
        llm_module.get_llm = original


def test_every_answer_has_an_id_and_can_be_rated(client):
    question = "Wie viele Akteure vereint der Life Science Nord e. V.?"
    answer = client.post("/api/ask", json={"question": question}).json()
    assert len(answer["answer_id"]) == 32
    again = client.post("/api/ask", json={"question": question}).json()
    assert again["answer_id"] != answer["answer_id"]
    done = client.post("/api/feedback", json={"answer_id": answer["answer_id"], "rating": "down", "comment": "Zahl fehlt"})
    assert done.status_code == 201 and isinstance(done.json()["id"], int)
    # streamed answers and chat completions carry ids that can be rated too
    events = [line for line in client.post("/api/ask/stream", json={"question": question}).text.split("\n\n") if line]
    streamed = json.loads(events[-1][len("data: "):])["answer"]["answer_id"]
    assert client.post("/api/feedback", json={"answer_id": streamed, "rating": "up"}).status_code == 201
    chat = client.post("/v1/chat/completions", json={"model": "lsn", "messages": [{"role": "user", "content": question}]}).json()
    assert client.post("/api/feedback", json={"answer_id": chat["answer_id"], "rating": "up"}).status_code == 201
    # the list needs the key and holds what was rated, newest first
    assert client.get("/api/feedback").status_code == 403
    listed = client.get("/api/feedback", params={"rating": "down"}, headers={"Authorization": "Bearer secret-key"}).json()
    mine = [i for i in listed["feedback"] if i["answer_id"] == answer["answer_id"]]
    assert mine and mine[0]["question"] == question and mine[0]["comment"] == "Zahl fehlt"
    assert mine[0]["answer"] == answer["answer"] and mine[0]["mode"] == "extractive" and len(mine[0]["index_fingerprint"]) == 16
    assert listed["counts"]["down"] >= 1 and listed["counts"]["up"] >= 2


@pytest.mark.parametrize(("body", "status", "mentions"), [
    ({"answer_id": "unknown", "rating": "up"}, 404, "no answer with id"),
    ({"answer_id": "x", "rating": "meh"}, 422, "rating"),
    ({"answer_id": "x", "rating": "up", "comment": "x" * 2001}, 422, "comment"),
    ({"answer_id": "x", "rating": "up", "comment": "bad \u0007 bell"}, 400, "control"),
    ({"rating": "up"}, 422, "answer_id"),
])
def test_bad_feedback_is_a_clear_4xx(client, body, status, mentions):
    r = client.post("/api/feedback", json=body)
    assert r.status_code == status, r.text
    assert mentions in json.dumps(r.json()["detail"])
