"""LLM-judged measures (eval.judge) against the scripted OpenAI-compatible
server: separate judge_* keys, failures scored as failures, the judge's model
and prompts in the manifest, and `--judge` without an LLM."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from conftest import clean_settings
from eval.judge import CORRECTNESS, SYSTEM, Judge, JudgeError, get_judge, parse_verdict
from eval.report import markdown_report
from fake_openai_server import FakeLLMServer
from lsn_assistant.cli import app
from lsn_assistant.llm import get_llm
from test_eval_runner import scripted_run


@pytest.fixture
def server():
    with FakeLLMServer() as s:
        yield s


def judge_on(server) -> Judge:
    return Judge(get_llm(clean_settings(llm_provider="openai", llm_base_url=server.url, llm_model="fake-model")))


@pytest.mark.parametrize(
    "reply, score, reason",
    [
        ("SCORE: 1\nREASON: Same facts.", 1.0, "Same facts."),
        ("score: 0.5\nreason: half of it", 0.5, "half of it"),
        ("**SCORE:** 0\nREASON: contradicts", 0.0, "contradicts"),
        ("SCORE: .5", 0.5, ""),
    ],
)
def test_parse_verdict(reply, score, reason):
    assert parse_verdict(reply) == {"score": score, "reason": reason}


@pytest.mark.parametrize("reply", ["", "I think it is fine.", "SCORE: 7\nREASON: out of range"])
def test_parse_verdict_rejects_unreadable_replies(reply):
    with pytest.raises(JudgeError, match="no SCORE between 0 and 1"):
        parse_verdict(reply)


def test_no_llm_no_judge():
    assert get_judge(clean_settings()) is None


def test_judged_run(server, tmp_path):
    # requests in row order: q1 correctness + faithfulness; q2 both; q3 (abstained)
    # correctness only; q4 an unreadable verdict (its faithfulness is not asked);
    # q5 none (its ask failed); q6 both
    for text in ("SCORE: 1\nREASON: agrees", "SCORE: 1\nREASON: supported",
                 "SCORE: 0.5\nREASON: partly", "SCORE: 1\nREASON: supported",
                 "SCORE: 1\nREASON: says it does not know",
                 "no idea",
                 "SCORE: 0\nREASON: wrong", "SCORE: 0.5\nREASON: mostly"):
        server.reply(text)
    judge = judge_on(server)
    run = scripted_run(tmp_path, judge=judge)
    assert len(server.chat_requests) == 8
    first = server.chat_requests[0]["body"]["messages"]
    assert first[0] == {"role": "system", "content": SYSTEM}
    assert "Reference answer: reference of q1" in first[1]["content"]
    assert "Passages:\n[1] Rückblick. Im Jahr 2019" in server.chat_requests[1]["body"]["messages"][1]["content"]

    rows = {r["id"]: r for r in run["rows"]}
    assert rows["q1"]["judge"] == {"correctness": {"score": 1.0, "reason": "agrees"},
                                   "faithfulness": {"score": 1.0, "reason": "supported"}}
    assert rows["q4"]["errors"]["judge"].startswith("JudgeError: no SCORE")
    assert rows["q5"]["judge"] == {} and rows["q5"]["errors"]["judge"] is None
    assert rows["q3"]["measures"]["judge_faithfulness"] is None  # an abstention states nothing

    m = run["measures"]
    # correctness: q1 1, q2 0.5, q3 1, q4 0 (judge failed), q5 0 (ask failed), q6 0
    assert m["judge_correctness"] == {"value": pytest.approx(2.5 / 6), "ci": m["judge_correctness"]["ci"], "n_scored": 4, "n_total": 6}
    # faithfulness over the five not abstained: q1 1, q2 1, q4 0, q5 0, q6 0.5
    assert (m["judge_faithfulness"]["value"], m["judge_faithfulness"]["n_scored"], m["judge_faithfulness"]["n_total"]) == (0.5, 3, 5)
    # the offline measures are untouched by the judge
    assert run["summary"]["answer_fact_recall"] == 0.625 and run["summary"]["citations_valid"] == pytest.approx(5 / 6)

    j = run["manifest"]["judge"]
    assert (j["provider"], j["model"], j["url"]) == ("openai", "fake-model", server.url)
    assert j["system"] == SYSTEM and j["prompts"]["correctness"] == CORRECTNESS
    assert run["manifest"]["options"]["judge"] is True

    md = markdown_report(run)
    offline, judged = md.split("## LLM judge")
    assert "judge_correctness" not in offline.split("## Summary")[1]
    assert "Graded by openai model 'fake-model'" in judged
    assert "| judge_correctness | LLM judge: correctness | 0.417 |" in judged and "| 4 / 6 |" in judged


def test_unreachable_judge_fails_each_question_but_not_the_run(tmp_path):
    dead = Judge(get_llm(clean_settings(llm_provider="openai", llm_base_url="http://127.0.0.1:9/v1",
                                         llm_model="m", llm_timeout_s=1)))
    run = scripted_run(tmp_path, judge=dead)
    assert all(r["errors"]["judge"].startswith("LLMUnavailable") for r in run["rows"] if r["id"] != "q5")
    assert run["summary"]["judge_correctness"] == 0.0 and run["measures"]["judge_correctness"]["n_scored"] == 0


def test_judge_flag_without_an_llm_is_a_clean_error(tmp_path):
    result = CliRunner().invoke(app, ["eval", str(tmp_path / "x.jsonl"), "--judge", "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: --judge needs an LLM")
