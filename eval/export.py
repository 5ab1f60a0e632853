"""A run in the formats of other evaluation tools.

* ``ragas.jsonl``: one ragas ``SingleTurnSample`` per line, in the run's
  question order: ``user_input`` (question), ``retrieved_contexts`` (texts of
  the ranked chunks), ``response`` (the answer), ``reference`` (reference
  answer), ``reference_contexts`` (the evidence quotes).
  ``EvaluationDataset.from_jsonl`` reads it.
* ``deepeval.json``: a list of test cases with the field names deepeval's
  ``Golden`` and ``LLMTestCase`` share: ``input``, ``actual_output``,
  ``expected_output``, ``retrieval_context`` (ranked chunk texts), ``context``
  (evidence quotes), ``additional_metadata`` (id, type, lang). Read it with
  ``EvaluationDataset.add_test_cases_from_json_file`` (or
  ``add_goldens_from_json_file``), passing these key names.
* ``trec.run`` (``qid Q0 docno rank score tag``) and ``trec.qrels``
  (``qid 0 docno 1``) for trec_eval, ir_measures or ranx: docno is the chunk
  id, the qrels are the gold chunks of the passage matching
  (``eval.retrieval``) and hold only answerable questions. Scores are derived
  from the rank, strictly descending, so a tool that re-sorts by score keeps
  the ranking evaluated here; a repeated chunk keeps its slot under a new id
  (``eval.metrics.run_for``).
"""

from __future__ import annotations

import json
from pathlib import Path

from .metrics import run_for


def _contexts(row: dict) -> list[str]:
    return [c["text"] for c in row["retrieved"]]


def _response(row: dict) -> str:
    return row["answer"]["text"] if row["answer"] else ""


def ragas_samples(run: dict) -> list[dict]:
    return [
        {
            "user_input": r["question"],
            "retrieved_contexts": _contexts(r),
            "response": _response(r),
            "reference": r["reference_answer"],
            "reference_contexts": [e["quote"] for e in r["evidence"]],
        }
        for r in run["rows"]
    ]


def deepeval_cases(run: dict) -> list[dict]:
    return [
        {
            "input": r["question"],
            "actual_output": _response(r),
            "expected_output": r["reference_answer"],
            "retrieval_context": _contexts(r),
            "context": [e["quote"] for e in r["evidence"]],
            "additional_metadata": {"id": r["id"], "type": r["type"], "lang": r["lang"]},
        }
        for r in run["rows"]
    ]


def _answerable(run: dict) -> list[dict]:
    return [r for r in run["rows"] if r["answerable"]]


def trec_run_lines(run: dict, tag: str | None = None) -> list[str]:
    tag = tag or run["manifest"]["name"]
    lines = []
    for r in _answerable(run):
        ranked = run_for(r["id"], [c["chunk_id"] for c in r["retrieved"]], r["gold_chunks"])
        lines += [f"{sd.query_id} Q0 {sd.doc_id} {rank} {sd.score:g} {tag}" for rank, sd in enumerate(ranked, 1)]
    return lines


def trec_qrels_lines(run: dict) -> list[str]:
    return [f"{r['id']} 0 {cid} 1" for r in _answerable(run) for cid in r["gold_chunks"]]


def write_exports(run: dict, out_dir: Path) -> list[Path]:
    """The four export files in ``out_dir/exports``."""
    folder = out_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "ragas.jsonl": "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in ragas_samples(run)),
        "deepeval.json": json.dumps(deepeval_cases(run), ensure_ascii=False, indent=1) + "\n",
        "trec.run": "".join(line + "\n" for line in trec_run_lines(run)),
        "trec.qrels": "".join(line + "\n" for line in trec_qrels_lines(run)),
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return [folder / name for name in files]
