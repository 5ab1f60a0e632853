"""Drafting candidate test-set questions from a document (eval.draft, `lsn eval
draft`): what is picked, that the drafts pass the checker, LLM-worded questions."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from conftest import CORPUS, clean_settings
from eval.draft import DraftError, draft_questions, key_facts, resolve_doc
from eval.testset import check_testset, load_testset
from fake_openai_server import FakeLLMServer
from lsn_assistant import llm as llm_module
from lsn_assistant.cli import app
from lsn_assistant.llm import get_llm

MASTERPLAN = CORPUS / "lsn-masterplan-2009-de.txt"


@pytest.mark.parametrize(
    "sentence, lang, facts",
    [
        ("Im Jahr 2019 gab es allein 33 Veranstaltungen des LSN e. V.", "de", ["2019", "33", "LSN"]),
        ("8,600 of the total 49,900 employees work in research.", "en", ["8,600", "49,900"]),
        ("The cluster works with Agrotech Valley Forum in Osnabrück.", "en", ["Agrotech Valley Forum", "Osnabrück"]),
        ("Die Mitglieder treffen sich regelmäßig zu Arbeitskreisen.", "de", []),  # German nouns are no names
        ("Es gibt 3 Ziele, 12 Projekte, 40 Partner und 2000 Gäste.", "de", ["12", "40", "2000"]),  # at most three
    ],
)
def test_key_facts(sentence, lang, facts):
    assert key_facts(sentence, lang) == facts


def test_drafts_pass_the_checker(tmp_path):
    settings = clean_settings(data_dir=tmp_path / "data", corpus_dir=CORPUS)
    items = draft_questions(MASTERPLAN, 6, settings)
    assert len(items) == 6
    path = tmp_path / "draft.jsonl"
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    assert check_testset(path, CORPUS) == []
    questions = load_testset(path)
    assert [q.id for q in questions] == [f"lsn-masterplan-2009-de-draft-0{i}" for i in range(1, 7)]
    numeric = [q for q in questions if q.type == "numeric"]
    assert numeric, "sentences with numbers come first"
    for q in questions:
        (doc, quote), = q.evidence
        assert doc == MASTERPLAN.name and q.reference_answer == quote and q.lang == "de"
        assert q.question.startswith("Was steht in „") and all(f not in q.question for f in q.key_facts)


def test_llm_words_the_questions(tmp_path):
    with FakeLLMServer() as server:
        server.reply("Wann wurde die Agentur gegründet?").reply("\n  Wer gehört dem Council an?\nmore")
        llm = get_llm(clean_settings(llm_provider="openai", llm_base_url=server.url, llm_model="fake-model"))
        items = draft_questions(MASTERPLAN, 2, clean_settings(data_dir=tmp_path, corpus_dir=CORPUS), llm)
        prompt = server.chat_requests[0]["body"]["messages"][0]["content"]
    assert [i["question"] for i in items] == ["Wann wurde die Agentur gegründet?", "Wer gehört dem Council an?"]
    assert "in German (Deutsch)" in prompt and items[0]["reference_answer"] in prompt


def test_resolve_doc(tmp_path):
    assert resolve_doc(MASTERPLAN, tmp_path) == MASTERPLAN
    assert resolve_doc(MASTERPLAN.name, CORPUS) == CORPUS / MASTERPLAN.name
    with pytest.raises(DraftError, match="no document 'nope.txt'"):
        resolve_doc("nope.txt", CORPUS)


def test_lsn_eval_draft(tmp_path, monkeypatch):
    monkeypatch.setenv("LSN_CORPUS_DIR", str(CORPUS))
    monkeypatch.setattr(llm_module, "get_llm", lambda settings=None: None)
    out = tmp_path / "d.jsonl"
    result = CliRunner().invoke(app, ["eval", "draft", "--doc", MASTERPLAN.name, "-n", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote 3 candidate question(s)" in result.stderr
    assert len(load_testset(out)) == 3 and check_testset(out, CORPUS) == []
    printed = CliRunner().invoke(app, ["eval", "draft", "--doc", str(MASTERPLAN), "-n", "2", "--no-llm"])
    assert printed.exit_code == 0 and len(printed.stdout.splitlines()) == 2
    missing = CliRunner().invoke(app, ["eval", "draft", "--doc", "nope.txt"])
    assert missing.exit_code == 1 and missing.stderr.startswith("error: no document")
