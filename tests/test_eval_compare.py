"""Comparing two runs (eval.compare) on hand-built runs, the regression gate,
and `lsn eval compare` with its exit codes."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from eval.compare import compare_runs, format_comparison, regressions
from eval.runs import save_run
from eval.summary import summarize
from lsn_assistant.cli import app

runner = CliRunner()


def row(qid: str, **measures: float) -> dict:
    return {
        "id": qid, "question": f"question {qid}?", "type": "fact", "lang": "de", "answerable": True,
        "evidence": [], "errors": {"search": None, "ask": None}, "answer": None, "measures": measures,
    }


def make_run(name: str, rows: list[dict]) -> dict:
    manifest = {"name": name, "created": "2025-01-01T00:00:00+00:00", "git": {"commit": "abc1234def", "dirty": False},
                "settings": {"hash": "s" + name}, "index": {"fingerprint": "i" + name}}
    return {"manifest": manifest, **summarize(rows), "rows": rows}


# A (baseline) and B share q1-q3. q1 got worse, q2 better, q3 mixed (MRR up,
# but it now abstains although answerable); qa is only in A, qb only in B.
A = make_run("A", [
    row("q1", **{"hit@5": 1.0, "mrr": 1.0, "abstain_answerable": 0.0}),
    row("q2", **{"hit@5": 0.0, "mrr": 0.0, "abstain_answerable": 0.0}),
    row("q3", **{"hit@5": 1.0, "mrr": 0.5, "abstain_answerable": 0.0}),
    row("qa", **{"hit@5": 1.0, "mrr": 1.0, "abstain_answerable": 0.0}),
])
B = make_run("B", [
    row("q1", **{"hit@5": 0.0, "mrr": 0.5, "abstain_answerable": 0.0}),
    row("q2", **{"hit@5": 1.0, "mrr": 1.0, "abstain_answerable": 0.0}),
    row("q3", **{"hit@5": 1.0, "mrr": 1.0, "abstain_answerable": 1.0}),
    row("qb", **{"hit@5": 0.0, "mrr": 0.0, "abstain_answerable": 0.0}),
])


def test_paired_deltas_hand_computed():
    c = compare_runs(A, B)
    assert (c["n_common"], c["only_a"], c["only_b"]) == (3, ["qa"], ["qb"])
    assert list(c["measures"]) == ["hit@5", "mrr", "abstain_answerable"]
    hit5, mrr, abst = (c["measures"][k] for k in ("hit@5", "mrr", "abstain_answerable"))
    # hit@5 over q1-q3: 2/3 both; d = (-1, 1, 0), mean 0: p 1
    assert (hit5["a"], hit5["b"], hit5["delta"], hit5["p"], hit5["n_pairs"]) == pytest.approx((2 / 3, 2 / 3, 0.0, 1.0, 3))
    # MRR: 0.5 -> 2.5/3; d = (-0.5, 1, 0.5): 6 of 8 sign patterns reach |mean| 1/3
    assert (mrr["a"], mrr["b"], mrr["delta"], mrr["p"]) == pytest.approx((0.5, 2.5 / 3, 1 / 3, 0.75))
    assert mrr["ci"][0] <= 1 / 3 <= mrr["ci"][1]
    assert (abst["delta"], abst["higher_is_better"]) == (pytest.approx(1 / 3), False)
    assert (c["a"]["name"], c["b"]["name"], c["b"]["settings_hash"]) == ("A", "B", "sB")


def test_better_worse_and_mixed_questions():
    c = compare_runs(A, B)
    (worse,), (better,), (mixed,) = c["worse"], c["better"], c["mixed"]
    assert worse["id"] == "q1" and worse["changes"] == {"hit@5": [1.0, 0.0], "mrr": [1.0, 0.5]}
    assert worse["worsened"] == ["hit@5", "mrr"] and worse["improved"] == []
    assert better["id"] == "q2" and better["improved"] == ["hit@5", "mrr"]
    assert mixed["id"] == "q3" and mixed["improved"] == ["mrr"] and mixed["worsened"] == ["abstain_answerable"]
    text = format_comparison(c)
    assert "worse (1): q1" in text and "better (1): q2" in text and "mixed (1): q3" in text
    assert "only in A: qa" in text and "only in B: qb" in text


def test_regression_gate_follows_each_measures_direction():
    forward = compare_runs(A, B)
    # abstain_answerable rose by 1/3: lower is better, so that is the regression
    assert [r["measure"] for r in regressions(forward, 0.2)] == ["abstain_answerable"]
    assert regressions(forward, 0.34) == []
    backward = compare_runs(B, A)  # now MRR drops by 1/3 and abstention falls
    assert [r["measure"] for r in regressions(backward, 0.2)] == ["mrr"]
    assert regressions(backward, 1 / 3) == []  # "more than": equal is allowed
    assert regressions(compare_runs(A, A), 0.0) == []


def test_measures_only_one_run_has_are_not_compared():
    judged = make_run("J", [row("q1", **{"hit@5": 1.0, "judge_correctness": 1.0})])
    plain = make_run("P", [row("q1", **{"hit@5": 1.0})])
    assert list(compare_runs(plain, judged)["measures"]) == ["hit@5"]


def test_lsn_eval_compare_cli_and_exit_codes(tmp_path):
    save_run(A, tmp_path / "A")
    save_run(B, tmp_path / "B")
    ok = runner.invoke(app, ["eval", "compare", str(tmp_path / "A"), str(tmp_path / "B" / "run.json"),
                             "--fail-on-regression", "0.5", "--out", str(tmp_path / "cmp")])
    assert ok.exit_code == 0, ok.output
    assert "worse (1): q1" in ok.stdout
    assert json.loads((tmp_path / "cmp" / "compare.json").read_text())["worse"][0]["id"] == "q1"
    md = (tmp_path / "cmp" / "compare.md").read_text()
    assert "| mrr | 0.500 | 0.833 | +0.333 |" in md and "## Got worse (1)" in md
    assert "<table>" in (tmp_path / "cmp" / "compare.html").read_text()

    gate = runner.invoke(app, ["eval", "compare", str(tmp_path / "A"), str(tmp_path / "B"), "--fail-on-regression", "0.2"])
    assert gate.exit_code == 3, gate.output
    assert "regression: abstain_answerable changed by +0.333 (more than 0.2)" in gate.stderr

    as_json = runner.invoke(app, ["eval", "compare", str(tmp_path / "A"), str(tmp_path / "B"), "--json"])
    assert as_json.exit_code == 0 and json.loads(as_json.stdout)["n_common"] == 3


def test_lsn_eval_compare_unreadable_run_is_a_clean_error(tmp_path):
    (tmp_path / "bad.json").write_text("{}", encoding="utf-8")
    result = runner.invoke(app, ["eval", "compare", str(tmp_path / "bad.json"), str(tmp_path / "missing")])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and "not an `lsn eval` run" in result.stderr


def test_settings_that_differ_are_named():
    """Not only that the hashes differ: which settings, from what to what."""
    def with_settings(run, **values):
        return dict(run, manifest=dict(run["manifest"], settings={
            "settings": {"rrf_k": 10, "embedders": ["e5", "use"], **values}, "answer_params": {"passages": 6}, "hash": str(values)}))

    a, b = with_settings(A), with_settings(B, rrf_k=20, chunk_words=120)
    c = compare_runs(a, b)
    assert c["settings_diff"] == [
        {"key": "settings.chunk_words", "a": None, "b": 120},
        {"key": "settings.rrf_k", "a": 10, "b": 20},
    ]
    assert "settings that differ: settings.chunk_words None -> 120; settings.rrf_k 10 -> 20" in format_comparison(c)
    assert compare_runs(a, with_settings(A))["settings_diff"] == []
    old = compare_runs(A, B)  # runs that recorded only a hash
    assert old["settings_diff"] == [] and "none recorded (an older run)" in format_comparison(old)


def test_deltas_per_split():
    def split(run, where):
        return dict(run, rows=[dict(r, split=where(r["id"])) for r in run["rows"]])

    def where(qid):
        return "check" if qid == "q1" else "train"

    c = compare_runs(split(A, where), split(B, where))
    assert c["splits"]["hit@5"]["check"]["delta"] == -1.0  # q1 lost its hit
    assert c["splits"]["hit@5"]["train"]["delta"] == pytest.approx(0.5)  # q2 gained, q3 kept
    assert compare_runs(A, B)["splits"] == {}
