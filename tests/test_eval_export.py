"""Exports of a run (eval.export): ragas and deepeval field names, and TREC
run/qrels files that trec_eval-style tools (here ir_measures) read and score
exactly as the run did."""

from __future__ import annotations

import json

import ir_measures
import pytest
from ir_measures import RR, nDCG

from eval.export import write_exports
from test_eval_runner import scripted_run


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    run = scripted_run(root)
    files = write_exports(run, root)
    return run, {p.name: p for p in files}


def test_files(exported):
    _, files = exported
    assert sorted(files) == ["deepeval.json", "ragas.jsonl", "trec.qrels", "trec.run"]


def test_ragas_single_turn_samples(exported):
    run, files = exported
    samples = [json.loads(line) for line in files["ragas.jsonl"].read_text(encoding="utf-8").splitlines()]
    assert len(samples) == 6
    assert all(set(s) == {"user_input", "retrieved_contexts", "response", "reference", "reference_contexts"} for s in samples)
    q2 = samples[1]
    assert q2["user_input"] == "Members and seat?"
    assert q2["retrieved_contexts"][0] == "agentur sitzt in Hamburg und Kiel. Ende."
    assert q2["response"] == "Kiel ist schön. [1]"
    assert q2["reference"] == "reference of q2"
    assert q2["reference_contexts"] == ["Das Netzwerk hat rund 130 Mitglieder", "Die Clusteragentur sitzt in Hamburg und Kiel"]
    assert samples[4]["response"] == "" and samples[4]["retrieved_contexts"] == []  # q5: ask failed, nothing retrieved


def test_deepeval_test_cases(exported):
    _, files = exported
    cases = json.loads(files["deepeval.json"].read_text(encoding="utf-8"))
    assert len(cases) == 6
    fields = {"input", "actual_output", "expected_output", "retrieval_context", "context", "additional_metadata"}
    assert all(set(c) == fields for c in cases)
    q1 = cases[0]
    assert (q1["input"], q1["expected_output"]) == ("Wie viele Veranstaltungen gab es 2019?", "reference of q1")
    assert q1["actual_output"].startswith("Im Jahr 2019") and len(q1["retrieval_context"]) == 4
    assert q1["context"] == ["Im Jahr 2019 gab es 33 Veranstaltungen"]
    assert cases[2]["context"] == [] and cases[2]["additional_metadata"] == {"id": "q3", "type": "unanswerable", "lang": "en"}


def test_trec_files_score_as_the_run_did(exported):
    run, files = exported
    lines = files["trec.run"].read_text().splitlines()
    # q1: a3 a1 a1 b3 -> the repeated a1 keeps rank 3 under another id; descending scores
    assert lines[:4] == [f"q1 Q0 a3 1 4 {run['manifest']['name']}", f"q1 Q0 a1 2 3 {run['manifest']['name']}",
                         f"q1 Q0 a1#dup2 3 2 {run['manifest']['name']}", f"q1 Q0 b3 4 1 {run['manifest']['name']}"]
    assert not any(line.startswith(("q3 ", "q6 ", "q4 ")) for line in lines)  # unanswerable; failed search
    # every gold chunk of the index, also for q4 (search failed) and q5 (nothing retrieved)
    assert files["trec.qrels"].read_text().splitlines() == [
        "q1 0 a1 1", "q2 0 a2 1", "q2 0 b1 1", "q2 0 b2 1", "q4 0 a2 1", "q5 0 b1 1", "q5 0 b2 1"
    ]
    qrels = list(ir_measures.read_trec_qrels(str(files["trec.qrels"])))
    scores = {(m.query_id, str(m.measure)): m.value for m in ir_measures.iter_calc(
        [RR, nDCG @ 10], qrels, list(ir_measures.read_trec_run(str(files["trec.run"]))))}
    rows = {r["id"]: r for r in run["rows"]}
    for qid in ("q1", "q2"):
        assert scores[(qid, "RR")] == pytest.approx(rows[qid]["measures"]["mrr"])
        assert scores[(qid, "nDCG@10")] == pytest.approx(rows[qid]["measures"]["ndcg@10"])
