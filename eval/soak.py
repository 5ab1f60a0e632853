"""A soak test of `lsn serve` on loopback: reads racing writes, for minutes.

    python -m eval.soak --data-dir data                     # 16 clients, 10 minutes (make soak)
    python -m eval.soak --data-dir data --duration 60       # a short run

The server is started on a free loopback port over a copy of the index in
``--data-dir`` (uploads and deletes must not change the real one), with an API
key made up for the run. ``--clients`` clients (threads with one keep-alive
``httpx.Client`` each) send requests back to back for ``--duration`` seconds:
one of them is the writer, which uploads documents made of corpus passages,
uploads them again changed, and deletes them, in turn, with a pause between
writes; the others rotate through POST /api/search, /api/ask, /api/ask/stream
and /v1/chat/completions (plain and streamed) with the test-set questions. A
request started before the deadline is waited for and counted.

Reported: requests and errors per kind (errors must be 0: a 5xx, a reset, a
timeout, an incomplete stream or an unexpected status all count), latency
p50/p95 of the successful ones, the writes done, and the server's resident
memory (the process and its children) at the start of the load, in the
middle and at the end, with a sample every few seconds in the JSON: growth
should flatten. Exit code 1 when any request failed.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx

from lsn_assistant.config import Settings, get_settings

from .perf.common import machine_info, stats_ms
from .loadtest import request as read_request
from .loadtest import serve, tree_rss_mb

DEFAULT_OUT = Path("bench/results-soak.json")
TESTSETS = Path(__file__).resolve().parent / "testsets"
READS = ("search", "ask", "stream", "chat", "chat_stream")
WRITE_PAUSE_S = 2.0  # between two writes: the writer stresses, it does not starve the readers


def questions_of(root: Path = TESTSETS) -> list[str]:
    """The questions of every test set under ``root`` (any folder depth)."""
    out: list[str] = []
    for path in sorted(root.rglob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line)["question"])
    return out


def documents_to_upload(corpus: Path, n: int = 3, words: int = 900) -> list[tuple[str, str]]:
    """(file name, text) of ``n`` documents made of real corpus passages, each
    with a sentence of its own that a search can find."""
    texts = sorted(p for p in corpus.glob("*.txt"))
    if not texts:
        raise SystemExit(f"no .txt files in {corpus} to make soak documents from")
    out = []
    for i in range(n):
        source = texts[i % len(texts)].read_text(encoding="utf-8").split()
        start = (i * 1500) % max(1, len(source) - words)
        body = " ".join(source[start : start + words])
        out.append((f"soak-{i}.txt", f"Soak-Dokument {i}\n\nDas Soak-Dokument {i} wurde im Lasttest hochgeladen.\n\n{body}\n"))
    return out


# ---------------------------------------------------------------- one request


def chat_request(client: httpx.Client, question: str, stream: bool) -> dict[str, Any]:
    body = {"model": "lsn-assistant", "messages": [{"role": "user", "content": question}], "stream": stream}
    t = time.perf_counter()
    out: dict[str, Any] = {"ok": False, "error": None, "ms": None}
    try:
        if not stream:
            r = client.post("/v1/chat/completions", json=body)
            if r.status_code != 200:
                out["error"] = f"http_{r.status_code}"
            elif not r.json().get("choices"):
                out["error"] = "bad_body"
        else:
            with client.stream("POST", "/v1/chat/completions", json=body) as r:
                if r.status_code != 200:
                    out["error"] = f"http_{r.status_code}"
                else:
                    done = False
                    for line in r.iter_lines():
                        if line == "data: [DONE]":
                            done = True
                        elif line.startswith("data: ") and '"error"' in line and json.loads(line[6:]).get("type") == "error":
                            out["error"] = "sse_error"
                    if not done and out["error"] is None:
                        out["error"] = "sse_incomplete"
    except httpx.TimeoutException:
        out["error"] = "timeout"
    except httpx.TransportError:
        out["error"] = "transport"
    except ValueError:
        out["error"] = "bad_body"
    out["ms"] = (time.perf_counter() - t) * 1000
    out["ok"] = out["error"] is None
    return out


def read(client: httpx.Client, kind: str, question: str) -> dict[str, Any]:
    if kind in ("chat", "chat_stream"):
        return chat_request(client, question, stream=kind == "chat_stream")
    return read_request(client, kind, question)


def write(client: httpx.Client, kind: str, name: str, text: str) -> dict[str, Any]:
    """An upload (``kind`` upload) or a delete; a 404 for a delete of a
    document not there is no error (the writer's own bookkeeping decides)."""
    t = time.perf_counter()
    out: dict[str, Any] = {"ok": False, "error": None, "ms": None}
    try:
        if kind == "upload":
            r = client.post("/api/documents", files={"file": (name, text.encode("utf-8"), "text/plain")})
            if r.status_code != 200:
                out["error"] = f"http_{r.status_code}"
        else:
            r = client.delete(f"/api/documents/{name}")
            if r.status_code != 200:
                out["error"] = f"http_{r.status_code}"
    except httpx.TimeoutException:
        out["error"] = "timeout"
    except httpx.TransportError:
        out["error"] = "transport"
    out["ms"] = (time.perf_counter() - t) * 1000
    out["ok"] = out["error"] is None
    return out


# ---------------------------------------------------------------- the run


def run_soak(url: str, key: str, questions: list[str], docs: list[tuple[str, str]], *, clients: int = 16,
             duration: float = 600.0, pid: int | None = None, timeout: float = 120.0,
             progress: bool = True) -> dict[str, Any]:
    """``clients`` threads until ``duration`` is up: one writer, the rest readers."""
    records: list[tuple[str, dict[str, Any]]] = []
    lock = threading.Lock()
    t0 = time.perf_counter()
    deadline = t0 + duration

    def keep(kind: str, res: dict[str, Any]) -> None:
        with lock:
            records.append((kind, res))

    def reader(i: int) -> None:
        with httpx.Client(base_url=url, timeout=timeout) as client:
            n = 0
            while time.perf_counter() < deadline:
                kind = READS[(i + n) % len(READS)]
                keep(kind, read(client, kind, questions[(i * 7 + n) % len(questions)]))
                n += 1

    def writer() -> None:
        headers = {"Authorization": f"Bearer {key}"}
        present: set[str] = set()
        with httpx.Client(base_url=url, timeout=timeout, headers=headers) as client:
            n = 0
            while time.perf_counter() < deadline:
                name, text = docs[n % len(docs)]
                if name in present and n % 2:
                    keep("delete", write(client, "delete", name, ""))
                    present.discard(name)
                else:  # a new document, or a new version of one (a sentence more)
                    version = text + f"\nFassung {n}: dieser Absatz ändert das Dokument.\n" * (n % 3)
                    res = write(client, "upload", name, version)
                    keep("upload", res)
                    if res["ok"]:
                        present.add(name)
                n += 1
                time.sleep(WRITE_PAUSE_S)

    rss: list[tuple[float, float]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            value = tree_rss_mb(pid) if pid else None
            if value is not None:
                rss.append((round(time.perf_counter() - t0, 1), value))
            stop.wait(5.0)

    threads = [threading.Thread(target=writer, daemon=True)]
    threads += [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(clients - 1)]
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    for th in threads:
        th.start()
    while any(th.is_alive() for th in threads):
        time.sleep(5.0)
        if progress:
            with lock:
                errors = sum(not r["ok"] for _, r in records)
                done = len(records)
            last = f", RSS {rss[-1][1]:.0f} MB" if rss else ""
            print(f"[soak] {time.perf_counter() - t0:5.0f} s: {done} requests, {errors} errors{last}",
                  file=sys.stderr, flush=True)
    for th in threads:
        th.join()
    stop.set()
    sampler.join()
    elapsed = time.perf_counter() - t0
    return summarize(records, rss, elapsed, clients, duration)


def rss_at(samples: list[tuple[float, float]], share: float) -> float | None:
    """The sample nearest to ``share`` of the run (0 start, 0.5 middle, 1 end)."""
    if not samples:
        return None
    at = samples[-1][0] * share
    return min(samples, key=lambda s: abs(s[0] - at))[1]


def summarize(records: list[tuple[str, dict[str, Any]]], rss: list[tuple[float, float]], elapsed: float,
              clients: int, duration: float) -> dict[str, Any]:
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for kind, res in records:
        by_kind[kind].append(res)

    def block(items: list[dict[str, Any]]) -> dict[str, Any]:
        ok = [r for r in items if r["ok"]]
        return {"requests": len(items), "errors": len(items) - len(ok),
                "errors_by_kind": dict(Counter(r["error"] for r in items if r["error"])),
                "latency_ms": stats_ms([r["ms"] for r in ok])}

    reads = [r for kind, r in records if kind in READS]
    memory = {"start_mb": rss_at(rss, 0.0), "middle_mb": rss_at(rss, 0.5), "end_mb": rss_at(rss, 1.0),
              "max_mb": max((v for _, v in rss), default=None), "samples": rss}
    if memory["start_mb"] and memory["middle_mb"] and memory["end_mb"]:
        memory["growth_first_half_mb"] = round(memory["middle_mb"] - memory["start_mb"], 1)
        memory["growth_second_half_mb"] = round(memory["end_mb"] - memory["middle_mb"], 1)
    return {
        "clients": clients,
        "duration_s": duration,
        "elapsed_s": round(elapsed, 1),
        "overall": block([r for _, r in records]),
        "reads": block(reads),
        "kinds": {kind: block(items) for kind, items in sorted(by_kind.items())},
        "memory": memory,
    }


def copy_index(source: Path, target: Path) -> None:
    """The index and answer caches of ``source`` into ``target`` (not uploads,
    eval runs or feedback: the run starts from the index as it is)."""
    if not (source / "chroma").is_dir():
        raise SystemExit(f"{source} holds no index: run `lsn ingest` first (make soak does)")
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source / "chroma", target / "chroma")
    if (source / "cache").is_dir():
        shutil.copytree(source / "cache", target / "cache")


def soak(settings: Settings, *, clients: int, duration: float, ui: bool = True, progress: bool = True) -> dict[str, Any]:
    questions = questions_of()
    if not questions:
        raise SystemExit(f"no test-set questions under {TESTSETS}")
    key = secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory(prefix="lsn-soak-") as tmp:
        data = Path(tmp) / "data"
        copy_index(Path(settings.data_dir), data)
        run_settings = settings.model_copy(update={"data_dir": data, "chroma_url": None})
        if progress:
            print(f"[soak] starting `lsn serve` on a copy of {settings.data_dir} ...", file=sys.stderr, flush=True)
        with serve(run_settings, ui=ui, extra_env={"LSN_API_KEY": key}) as server:
            # the first request of each kind pays for lazy loads: not part of the soak
            with httpx.Client(base_url=server["url"], timeout=120) as client:
                for kind in READS:
                    read(client, kind, questions[0])
            if progress:
                print(f"[soak] {clients} clients for {duration:.0f} s against {server['url']} ...", file=sys.stderr,
                      flush=True)
            result = run_soak(server["url"], key, questions, documents_to_upload(Path(settings.corpus_dir)),
                              clients=clients, duration=duration, pid=server["pid"], progress=progress)
            result["server"] = {"startup_s": server["startup_s"], "ui": ui, "data": "a copy of " + str(settings.data_dir)}
    return result


def format_table(result: dict[str, Any]) -> str:
    f = lambda v: "-" if v is None else f"{v:.0f}"  # noqa: E731
    lines = [f"  soak: {result['clients']} clients for {result['duration_s']:.0f} s "
             f"({result['elapsed_s']:.0f} s to the last answer)",
             f"    {'kind':<14}{'requests':>9}{'errors':>8}{'p50':>9}{'p95':>9}  ms"]
    for kind, b in [*result["kinds"].items(), ("all reads", result["reads"]), ("all", result["overall"])]:
        lat = b["latency_ms"]
        lines.append(f"    {kind:<14}{b['requests']:>9}{b['errors']:>8}{f(lat['p50']):>9}{f(lat['p95']):>9}")
    o = result["overall"]
    if o["errors"]:
        lines.append(f"    errors: {o['errors_by_kind']}")
    m = result["memory"]
    lines.append(f"    server RSS: start {f(m['start_mb'])} MB, middle {f(m['middle_mb'])} MB, end {f(m['end_mb'])} MB "
                 f"(max {f(m['max_mb'])} MB)")
    lines.append(f"    target: 0 errors: {o['errors']} {'PASS' if o['errors'] == 0 else 'FAIL'}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m eval.soak", description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", type=Path, default=None, help="Index to copy and serve (default: LSN_DATA_DIR, ./data)")
    p.add_argument("--clients", type=int, default=16, help="Concurrent clients, one of them the writer")
    p.add_argument("--duration", type=float, default=600.0, help="Seconds of load (default 600)")
    p.add_argument("--no-ui", action="store_true", help="Start the server without the Gradio UI")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON result (default: bench/results-soak.json)")
    p.add_argument("--quiet", action="store_true", help="No progress output on stderr")
    args = p.parse_args(argv)
    if args.clients < 2 or args.duration <= 0:
        p.error("--clients must be at least 2 (a writer and a reader) and --duration positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    base = get_settings()
    settings = base.model_copy(update={"data_dir": args.data_dir}) if args.data_dir else base
    result = {"machine": machine_info(),
              **soak(settings, clients=args.clients, duration=args.duration, ui=not args.no_ui, progress=not args.quiet)}
    result["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(format_table(result))
    print(f"\nwritten: {args.out}")
    return 0 if result["overall"]["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
