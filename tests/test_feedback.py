"""The feedback store (lsn_assistant.feedback): ratings kept with what they
rate, across processes and a killed writer, schema versioned, and rated
answers turned into test-set candidates that `lsn eval check` accepts once a
person fills in the key facts."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

from eval.testset import check_testset
from lsn_assistant.feedback import (
    SCHEMA_VERSION,
    FeedbackError,
    FeedbackSchemaError,
    FeedbackStore,
    UnknownAnswer,
    candidate,
    new_answer_id,
)

QUOTE = "Life Science Nord"
ANSWER = {
    "question": "Wie heißt das Cluster?",
    "language": "de",
    "answer": "Es heißt Life Science Nord. [1]",
    "abstained": False,
    "mode": "extractive",
    "citations": [{"n": 1, "chunk_id": "c1", "doc": "lsn-masterplan-2009-de.txt", "page": 3, "section": "", "quote": QUOTE,
                   "text": "a long passage that is not kept"}],
}


@pytest.fixture
def store(tmp_path):
    s = FeedbackStore(tmp_path / "feedback.sqlite3")
    yield s
    s.close()


def test_a_rating_is_stored_with_what_it_rates(store):
    aid = new_answer_id()
    store.remember(aid, ANSWER, [{"role": "user", "content": "Hallo"}], "idx123")
    fid = store.add(aid, "down", "  Es fehlt das Gründungsjahr.  ")
    (item,) = store.list()
    assert item["id"] == fid and item["rating"] == "down" and item["comment"] == "Es fehlt das Gründungsjahr."
    assert (item["question"], item["answer"], item["mode"], item["index_fingerprint"]) == (
        "Wie heißt das Cluster?", "Es heißt Life Science Nord. [1]", "extractive", "idx123")
    assert item["citations"][0]["quote"] == QUOTE and "text" not in item["citations"][0]
    assert item["history"] == [{"role": "user", "content": "Hallo"}]
    store.add(aid, "up")
    assert store.counts() == {"up": 1, "down": 1}
    assert [i["rating"] for i in store.list()] == ["up", "down"]  # newest first
    assert [i["rating"] for i in store.list(rating="down")] == ["down"]


def test_bad_ratings_are_refused(store):
    aid = new_answer_id()
    store.remember(aid, ANSWER, None, "idx")
    with pytest.raises(UnknownAnswer):
        store.add("nope", "up")
    with pytest.raises(FeedbackError, match="rating must be one of up, down"):
        store.add(aid, "meh")
    with pytest.raises(FeedbackError, match="too long"):
        store.add(aid, "down", "x" * 2001)
    assert store.counts() == {"up": 0, "down": 0}


def test_unrated_answers_are_pruned_rated_ones_kept(tmp_path):
    store = FeedbackStore(tmp_path / "f.sqlite3", keep_answers=3)
    ids = [new_answer_id() for _ in range(6)]
    store.remember(ids[0], ANSWER, None, "i")
    store.add(ids[0], "up")
    for aid in ids[1:]:
        store.remember(aid, ANSWER, None, "i")
    with pytest.raises(UnknownAnswer):
        store.add(ids[1], "up")  # the oldest unrated ones went
    store.add(ids[5], "up")
    assert store.counts()["up"] == 2 and len(store.list()) == 2
    store.close()


def test_schema_is_versioned_and_wal(tmp_path):
    path = tmp_path / "f.sqlite3"
    FeedbackStore(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(FeedbackSchemaError, match="newer than this version"):
        FeedbackStore(path)


def test_a_rating_survives_a_killed_writer_and_is_seen_by_another_process(tmp_path):
    path = tmp_path / "f.sqlite3"
    code = f"""
import json, os
from lsn_assistant.feedback import FeedbackStore
s = FeedbackStore({str(path)!r})
s.remember("a1", json.loads({json.dumps(ANSWER)!r}), None, "i")
s.add("a1", "down", "kept")
os._exit(9)  # no close, no clean shutdown
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 9, done.stderr
    again = FeedbackStore(path)
    assert [(i["answer_id"], i["comment"]) for i in again.list()] == [("a1", "kept")]
    again.close()


def test_candidates_pass_the_checker_once_key_facts_are_filled(store, tmp_path):
    aid = new_answer_id()
    store.remember(aid, ANSWER, None, "idx")
    store.add(aid, "down", "zu knapp")
    (item,) = [candidate(i) for i in store.list(rating="down")]
    assert item["source"] == "feedback" and item["key_facts"] == [] and item["feedback"]["comment"] == "zu knapp"
    assert item["evidence"] == [{"doc": "lsn-masterplan-2009-de.txt", "quote": QUOTE}]
    path = tmp_path / "candidates.jsonl"
    path.write_text(json.dumps(item, ensure_ascii=False) + "\n", encoding="utf-8")
    from pathlib import Path

    corpus = Path(__file__).resolve().parent.parent / "corpus"
    (problem,) = check_testset(path, corpus)
    assert "key facts to be filled in" in problem
    path.write_text(json.dumps(dict(item, key_facts=["Life Science Nord"]), ensure_ascii=False) + "\n", encoding="utf-8")
    assert check_testset(path, corpus) == []


def test_lsn_feedback_list_and_export(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from lsn_assistant.cli import app
    from lsn_assistant.config import get_settings
    from lsn_assistant.feedback import feedback_path

    monkeypatch.setenv("LSN_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    runner = CliRunner()
    assert "no feedback yet" in runner.invoke(app, ["feedback", "list"]).output
    store = FeedbackStore(feedback_path(tmp_path))
    for n, rating in enumerate(("down", "up")):
        store.remember(f"a{n}", dict(ANSWER, question=f"Frage {n}?"), None, "i")
        store.add(f"a{n}", rating, "")
    store.close()
    listed = runner.invoke(app, ["feedback", "list", "--json"])
    assert [i["question"] for i in json.loads(listed.stdout)] == ["Frage 1?", "Frage 0?"]
    out = tmp_path / "c.jsonl"
    done = runner.invoke(app, ["feedback", "export", "--rating", "down", "--out", str(out)])
    assert done.exit_code == 0 and "wrote 1 candidate(s)" in done.output
    (item,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert item["question"] == "Frage 0?" and item["source"] == "feedback"
    assert runner.invoke(app, ["feedback", "export", "--rating", "meh", "--out", str(out)]).exit_code == 2
    get_settings.cache_clear()
