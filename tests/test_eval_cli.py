"""`lsn eval` end to end on the small real index of tests/ask_index.py: the
run folder (stored by default under <data_dir>/eval-runs), the regression gate's
exit code with --baseline, and `lsn eval check`."""

from __future__ import annotations

import hashlib
import json

import pytest
from typer.testing import CliRunner

from ask_index import MASTERPLAN, STRATEGY_DE, STRATEGY_EN, build
from eval.runs import default_runs_dir, list_runs, load_run, save_run
from lsn_assistant import llm as llm_module
from lsn_assistant.cli import app
from lsn_assistant.config import get_settings
from lsn_assistant.store import ChunkStore

REQUIRED = {"hit@1", "hit@5", "hit@10", "mrr", "ndcg@10", "ctx_fact_recall@5", "answer_fact_recall",
            "citations_valid", "cited_gold", "abstain_unanswerable", "abstain_answerable"}


def item(id, type, lang, question, evidence=(), key_facts=()):
    return {"id": id, "question": question, "lang": lang, "type": type, "reference_answer": f"reference of {id}",
            "key_facts": list(key_facts), "evidence": [{"doc": d, "quote": q} for d, q in evidence]}


VALID = [
    item("e1", "numeric", "en", "How many stakeholders does Life Science Nord e.V. bring together?",
         [(STRATEGY_EN, "This brings together around 250 stakeholders from science, industry and politics")], ["250"]),
    item("e2", "list", "de", "Nach welchen Edelmetallen sind die Partnerprogramme des LSN e. V. gestaffelt?",
         [(STRATEGY_DE, "Gestaffelt nach den Edelmetallen Platin, Gold und Silber")], ["Platin", "Gold", "Silber"]),
    item("e3", "fact", "de", "Wann wurde die Norgenta gegründet?",
         [(MASTERPLAN, "Im April 2004 wurde gemeinsam von den Ländern Hamburg und Schleswig-Holstein")], ["2004"]),
    item("u1", "unanswerable", "en", "How large is the annual budget of the Optence association?"),
]
# a quote no document holds: no gold chunk anywhere, so it misses for sure
NO_GOLD = item("e4", "fact", "de", "Wie viele Zebras leben im Cluster?",
               [(MASTERPLAN, "Im Cluster leben genau siebzehn Zebras")], ["siebzehn"])

runner = CliRunner()


@pytest.fixture(autouse=True)
def no_llm(monkeypatch):
    """Whatever the environment configures: extractive answers, no judge."""
    monkeypatch.setattr(llm_module, "get_llm", lambda settings=None: None)


@pytest.fixture
def use_index(monkeypatch):
    index = build()
    monkeypatch.setenv("LSN_DATA_DIR", str(index.data_dir))
    monkeypatch.setenv("LSN_CORPUS_DIR", str(index.corpus_dir))
    get_settings.cache_clear()
    return index


def write(path, items):
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    return path


def lsn(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_lsn_eval_stores_the_run_with_reports_and_exports(use_index, tmp_path):
    testset = write(tmp_path / "small.jsonl", [*VALID, NO_GOLD])
    result = lsn("eval", testset)  # no --out: stored in <data_dir>/eval-runs/<name>
    assert result.exit_code == 0, (result.output, result.exception)
    (stored,) = [r for r in list_runs(default_runs_dir(use_index)) if str(testset) in r.testsets]
    folder = stored.path.parent
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert files == ["exports/deepeval.json", "exports/ragas.jsonl", "exports/trec.qrels", "exports/trec.run",
                     "plots/by_type.png", "plots/first_gold_rank.png", "plots/recall_at_k.png",
                     "report.html", "report.md", "run.json"]
    assert f"wrote 10 files to {folder}" in result.stdout
    assert result.stdout.startswith("measure ") and "\nhit@1 " in result.stdout

    run = load_run(folder)
    assert REQUIRED <= set(run["summary"])
    assert run["measures"]["hit@1"]["n_total"] == 4 and run["measures"]["abstain_unanswerable"]["n_total"] == 1
    rows = {r["id"]: r for r in run["rows"]}
    assert list(rows) == ["e1", "e2", "e3", "u1", "e4"]
    assert rows["e1"]["measures"]["hit@10"] == 1.0 and rows["e1"]["gold_chunks"]
    assert rows["e4"]["gold_chunks"] == [] and rows["e4"]["measures"]["hit@10"] == 0.0
    assert rows["u1"]["retrieved"] and rows["u1"]["measures"]["mrr"] is None

    m = run["manifest"]
    assert m["index"]["chunks"] == ChunkStore(use_index).count() and m["index"]["docs"] == 4
    assert m["testsets"] == [{"path": str(testset), "sha256": hashlib.sha256(testset.read_bytes()).hexdigest(), "questions": 5}]
    assert m["corpus"]["dir"] == str(use_index.corpus_dir) and m["judge"] is None
    assert {"commit", "dirty"} <= set(m["git"]) and m["settings"]["hash"] and m["packages"]["lsn-assistant"]
    assert "<h2>Retrieval × answer</h2>" in (folder / "report.html").read_text(encoding="utf-8")


def test_regression_gate_exit_code(use_index, tmp_path):
    testset = write(tmp_path / "small.jsonl", [*VALID, NO_GOLD])
    first = lsn("eval", testset, "--out", tmp_path / "A", "--no-answers")
    assert first.exit_code == 0, first.output

    # the same configuration again: nothing drops
    same = lsn("eval", testset, "--out", tmp_path / "B", "--no-answers", "--baseline", tmp_path / "A", "--fail-on-regression", "0")
    assert same.exit_code == 0, same.output
    assert "A (baseline): " in same.stdout and "worse (0): -" in same.stdout

    # a baseline in which e4 was found at rank 1: hit@1 now drops by 1/4
    baseline = load_run(tmp_path / "A")
    for r in baseline["rows"]:
        if r["id"] == "e4":
            r["measures"].update({"hit@1": 1.0, "mrr": 1.0})
    save_run(baseline, tmp_path / "A-better")
    gated = lsn("eval", testset, "--out", tmp_path / "C", "--no-answers",
                "--baseline", tmp_path / "A-better", "--fail-on-regression", "0.1")
    assert gated.exit_code == 3, gated.output
    assert "regression: hit@1 changed by -0.250 (more than 0.1)" in gated.stderr
    assert "regression: mrr changed by -0.250" in gated.stderr
    assert "worse (1): e4" in gated.stdout
    assert "## Comparison with the baseline" in (tmp_path / "C" / "report.md").read_text(encoding="utf-8")
    assert load_run(tmp_path / "C")["comparison"]["worse"][0]["id"] == "e4"
    # a looser gate lets it pass
    loose = lsn("eval", testset, "--out", tmp_path / "D", "--no-answers",
                "--baseline", tmp_path / "A-better", "--fail-on-regression", "0.3")
    assert loose.exit_code == 0, loose.output


def test_gate_needs_a_baseline(tmp_path):
    result = lsn("eval", tmp_path / "x.jsonl", "--fail-on-regression", "0.1")
    assert result.exit_code == 2 and "needs --baseline" in result.output


def test_bad_testset_is_a_clean_error(use_index, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n', encoding="utf-8")
    result = lsn("eval", bad, "--out", tmp_path / "out")
    assert result.exit_code == 1 and result.stderr.startswith("error: ") and "missing field(s)" in result.stderr
    assert not (tmp_path / "out").exists()


def test_lsn_eval_check(use_index, tmp_path):
    good = lsn("eval", "check", write(tmp_path / "good.jsonl", VALID))
    assert good.exit_code == 0, good.output
    assert good.stdout.strip().endswith("good.jsonl: 0 problem(s)")
    bad = lsn("eval", "check", write(tmp_path / "bad.jsonl", [*VALID, NO_GOLD]))
    assert bad.exit_code == 1
    assert "(e4): quote not found (or too short) in lsn-masterplan-2009-de.txt" in bad.stdout
    assert "(e4): key fact 'siebzehn' does not occur in any evidence document" in bad.stdout
    assert bad.stdout.strip().endswith("bad.jsonl: 2 problem(s)")
