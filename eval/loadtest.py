"""A bounded load test of `lsn serve` on loopback.

    python -m eval.loadtest --data-dir data                  # start `lsn serve` on a free port
    python -m eval.loadtest --url http://127.0.0.1:8000      # a server already running (no RSS)
    python -m eval.loadtest --data-dir data --clients 4 --duration 10   # a short run

``--clients`` concurrent clients (threads, one ``httpx.Client`` each; default
16) send requests back to back for ``--duration`` seconds (default 60),
rotating through POST /api/search, /api/ask and /api/ask/stream (server-sent
events, read to the ``done`` event) with the dev-set questions. A request
started before the deadline is waited for and counted.

Reported: per kind and overall the requests, errors (by kind: ``http_<status>``,
``timeout``, ``transport``, ``bad_body``, ``sse_error``, ``sse_incomplete``),
latency p50/p95/p99 of the successful ones (for the stream also the time to its
first answer piece) and throughput (successful requests per second). When the
server is started here: its start-up time and its resident memory (VmRSS of
the process and its children, from /proc) after start-up, at rest after a
warm-up (each kind for three questions), sampled under load, and after.

The load generator runs on the same machine as the server and takes some of
its CPU: the figures are what one box does serving and being loaded at once.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import httpx

from lsn_assistant.config import Settings, get_settings

from .perf.common import default_queries, load_questions, machine_info, settings_env, stats_ms

DEFAULT_OUT = Path("bench/results-load.json")
KINDS = ("search", "ask", "stream")
PATHS = {"search": "/api/search", "ask": "/api/ask", "stream": "/api/ask/stream"}


# ---------------------------------------------------------------- the server and its memory


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_tree(pid: int) -> list[int]:
    """The process and all its descendants (from /proc/<pid>/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            try:
                todo.extend(int(c) for c in task.read_text().split())
            except OSError:
                pass
    return out


def tree_rss_mb(pid: int) -> float | None:
    """Resident memory of a process and its descendants, in MB (None if gone)."""
    total = None
    for p in process_tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total = (total or 0.0) + int(line.split()[1]) / 1024
        except OSError:
            continue
    return None if total is None else round(total, 1)


class RSSSampler:
    """Samples a process tree's RSS every ``interval`` seconds in a thread."""

    def __init__(self, pid: int, interval: float = 0.5):
        self.pid = pid
        self.interval = interval
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = tree_rss_mb(self.pid)
            if rss is not None:
                self.samples.append(rss)
            self._stop.wait(self.interval)

    def __enter__(self) -> "RSSSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, Any]:
        s = self.samples
        return {"samples": len(s), "mean_mb": round(sum(s) / len(s), 1) if s else None,
                "max_mb": max(s) if s else None}


@contextmanager
def serve(settings: Settings, ui: bool = True, timeout: float = 300,
          extra_env: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
    """`lsn serve` on a free loopback port against ``settings.data_dir``; yields
    {"url", "pid", "startup_s"} once /health answers 200, stops it after. Its
    output goes to a temporary log, quoted when it fails to start.
    ``extra_env``: more settings for the server (an API key for writes)."""
    port = free_port()
    env = settings_env(settings)
    env["LSN_UI"] = "true" if ui else "false"
    env.update(extra_env or {})
    log = tempfile.NamedTemporaryFile(prefix="lsn-serve-", suffix=".log", delete=False)
    cmd = [sys.executable, "-m", "lsn_assistant.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(proc, url, timeout, log.name)
        yield {"url": url, "pid": proc.pid, "startup_s": round(time.perf_counter() - t, 2)}
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        os.unlink(log.name)


def wait_ready(proc: subprocess.Popen, url: str, timeout: float, log: str) -> None:
    """Until ``lsn serve`` at ``url`` answers /health; a RuntimeError with the
    tail of its log when it exits or does not answer within ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"`lsn serve` exited with {proc.returncode}:\n{_tail(log)}")
        try:
            if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"`lsn serve` did not answer /health within {timeout:.0f} s:\n{_tail(log)}")


def _tail(path: str, n: int = 20) -> str:
    return "\n".join(Path(path).read_text(errors="replace").splitlines()[-n:])


# ---------------------------------------------------------------- one request


def request(client: httpx.Client, kind: str, question: str) -> dict[str, Any]:
    """One request of a kind: {"ok", "error", "ms", "first_ms" (stream only)}."""
    body = {"query": question, "k": 10} if kind == "search" else {"question": question}
    t = time.perf_counter()
    out: dict[str, Any] = {"ok": False, "error": None, "ms": None, "first_ms": None}
    try:
        if kind == "stream":
            out["error"] = _read_stream(client, body, t, out)
        else:
            r = client.post(PATHS[kind], json=body)
            if r.status_code != 200:
                out["error"] = f"http_{r.status_code}"
            elif ("results" if kind == "search" else "answer") not in r.json():
                out["error"] = "bad_body"
    except httpx.TimeoutException:
        out["error"] = "timeout"
    except httpx.TransportError:
        out["error"] = "transport"
    except ValueError:  # a body that is not the JSON it should be
        out["error"] = "bad_body"
    except Exception as exc:  # noqa: BLE001 - whatever else fails is an error of its own kind, not a lost client
        out["error"] = type(exc).__name__
    out["ms"] = (time.perf_counter() - t) * 1000
    out["ok"] = out["error"] is None
    return out


def _read_stream(client: httpx.Client, body: dict, t: float, out: dict[str, Any]) -> str | None:
    """Read an /api/ask/stream response to its end; the error kind or None."""
    with client.stream("POST", PATHS["stream"], json=body) as r:
        if r.status_code != 200:
            return f"http_{r.status_code}"
        done = False
        for line in r.iter_lines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line[len("data: "):])
            if event.get("type") == "delta" and out["first_ms"] is None:
                out["first_ms"] = (time.perf_counter() - t) * 1000
            elif event.get("type") == "error":
                return "sse_error"
            elif event.get("type") == "done":
                done = "answer" in event
    return None if done else "sse_incomplete"


# ---------------------------------------------------------------- the load


def run_load(url: str, questions: list[str], clients: int = 16, duration: float = 60.0,
             timeout: float = 60.0) -> dict[str, Any]:
    """``clients`` threads sending requests back to back until ``duration`` is up."""
    if not questions:
        raise ValueError("no questions to send")
    records: list[tuple[str, dict[str, Any]]] = []
    lock = threading.Lock()

    def client_loop(i: int) -> None:
        with httpx.Client(base_url=url, timeout=timeout) as client:
            n = 0
            while time.perf_counter() < deadline:
                kind = KINDS[(i + n) % len(KINDS)]
                res = request(client, kind, questions[(i * 7 + n) % len(questions)])
                with lock:
                    records.append((kind, res))
                n += 1

    threads = [threading.Thread(target=client_loop, args=(i,), daemon=True) for i in range(clients)]
    t0 = time.perf_counter()
    deadline = t0 + duration
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t0
    return summarize(records, elapsed, clients, duration)


def summarize(records: list[tuple[str, dict[str, Any]]], elapsed: float, clients: int, duration: float) -> dict[str, Any]:
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for kind, res in records:
        by_kind[kind].append(res)

    def block(items: list[dict[str, Any]]) -> dict[str, Any]:
        ok = [r for r in items if r["ok"]]
        return {
            "requests": len(items),
            "errors": len(items) - len(ok),
            "errors_by_kind": dict(Counter(r["error"] for r in items if r["error"])),
            "latency_ms": stats_ms([r["ms"] for r in ok]),
            "throughput_rps": round(len(ok) / elapsed, 2) if elapsed > 0 else None,
        }

    kinds = {kind: block(by_kind[kind]) for kind in KINDS if by_kind[kind]}
    if "stream" in kinds:
        kinds["stream"]["first_piece_ms"] = stats_ms([r["first_ms"] for r in by_kind["stream"]
                                                      if r["ok"] and r["first_ms"] is not None])
    return {"clients": clients, "duration_s": duration, "elapsed_s": round(elapsed, 2),
            "overall": block([r for _, r in records]), "kinds": kinds}


def warm(url: str, questions: list[str], n: int = 3, timeout: float = 60.0) -> int:
    """Each kind once for each of the first ``n`` questions (what the first
    requests would otherwise pay for); returns the errors."""
    errors = 0
    with httpx.Client(base_url=url, timeout=timeout) as client:
        for q in questions[:n]:
            for kind in KINDS:
                errors += not request(client, kind, q)["ok"]
    return errors


def run_loadtest(
    *,
    settings: Settings | None = None,
    url: str | None = None,
    questions: list[str] | None = None,
    clients: int = 16,
    duration: float = 60.0,
    ui: bool = True,
    progress: bool = True,
) -> dict[str, Any]:
    """The load test against ``url``, or against a server started here on
    ``settings.data_dir`` (then with its start-up time and memory)."""
    questions = questions or load_questions(default_queries())
    if url:
        _say(progress, f"{clients} clients for {duration:.0f} s against {url} ...")
        return {"url": url, "server": None, "warm_up_errors": warm(url, questions),
                **run_load(url, questions, clients, duration)}
    settings = settings or get_settings()
    _say(progress, f"starting `lsn serve` on {settings.data_dir} ...")
    with serve(settings, ui=ui) as server:
        pid = server["pid"]
        memory = {"after_start_mb": tree_rss_mb(pid)}
        warm_errors = warm(server["url"], questions)
        time.sleep(2)
        memory["at_rest_mb"] = tree_rss_mb(pid)
        _say(progress, f"{clients} clients for {duration:.0f} s against {server['url']} ...")
        with RSSSampler(pid) as sampler:
            load = run_load(server["url"], questions, clients, duration)
        memory["under_load"] = sampler.summary()
        memory["after_load_mb"] = tree_rss_mb(pid)
    return {
        "url": server["url"],
        "server": {"data_dir": str(settings.data_dir), "ui": ui, "startup_s": server["startup_s"],
                   "processes": "lsn serve and its children", "memory": memory},
        "warm_up_errors": warm_errors,
        **load,
    }


def format_table(result: dict[str, Any]) -> str:
    o = result["overall"]
    lines = [f"  load: {result['clients']} clients for {result['duration_s']:.0f} s against {result['url']} "
             f"({result['elapsed_s']:.1f} s to the last answer)",
             f"    {'kind':<22}{'requests':>9}{'errors':>8}{'req/s':>8}{'p50':>9}{'p95':>9}{'p99':>9}  ms"]

    def row(label: str, b: dict[str, Any]) -> None:
        lat = b["latency_ms"]
        f = lambda v: "-" if v is None else f"{v:.0f}"  # noqa: E731
        lines.append(f"    {label:<22}{b['requests']:>9}{b['errors']:>8}{b['throughput_rps']:>8.1f}"
                     f"{f(lat['p50']):>9}{f(lat['p95']):>9}{f(lat['p99']):>9}")

    for kind, b in result["kinds"].items():
        row(PATHS[kind], b)
        if kind == "stream" and b["first_piece_ms"]["n"]:
            fp = b["first_piece_ms"]
            lines.append(f"    {'  first answer piece':<22}{'':>25}{fp['p50']:>9.0f}{fp['p95']:>9.0f}{fp['p99']:>9.0f}")
    row("all", o)
    if o["errors"]:
        lines.append(f"    errors: {o['errors_by_kind']}")
    server = result.get("server")
    if server:
        m = server["memory"]
        lines.append(f"    server: up in {server['startup_s']:.1f} s (UI {'on' if server['ui'] else 'off'}); RSS after "
                     f"start {m['after_start_mb']:.0f} MB, at rest {m['at_rest_mb']:.0f} MB, under load mean "
                     f"{m['under_load']['mean_mb']:.0f} / max {m['under_load']['max_mb']:.0f} MB, after "
                     f"{m['after_load_mb']:.0f} MB")
    lines.append(f"    target: 0 errors under load: {o['errors']} {'PASS' if o['errors'] == 0 else 'FAIL'}")
    return "\n".join(lines)


def _say(on: bool, msg: str) -> None:
    if on:
        print(f"[load] {msg}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m eval.loadtest", description=__doc__.split("\n\n")[0])
    where = p.add_mutually_exclusive_group()
    where.add_argument("--data-dir", type=Path, default=None,
                       help="Start `lsn serve` on this data dir (default: LSN_DATA_DIR, ./data)")
    where.add_argument("--url", default=None, help="Load a server already running at this URL instead")
    p.add_argument("--clients", type=int, default=16, help="Concurrent clients")
    p.add_argument("--duration", type=float, default=60.0, help="Seconds of load")
    p.add_argument("--no-ui", action="store_true", help="Start the server without the Gradio UI")
    p.add_argument("--queries", type=Path, nargs="+", default=None,
                   help="Test sets whose questions are sent (default: eval/testsets/*.jsonl)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON result (default: bench/results-load.json)")
    p.add_argument("--quiet", action="store_true", help="No progress output on stderr")
    args = p.parse_args(argv)
    if args.clients < 1 or args.duration <= 0:
        p.error("--clients must be at least 1 and --duration positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    base = get_settings()
    settings = base.model_copy(update={"data_dir": args.data_dir}) if args.data_dir else base
    result = {
        "machine": machine_info(),
        **run_loadtest(settings=settings, url=args.url, questions=load_questions(args.queries or default_queries()),
                       clients=args.clients, duration=args.duration, ui=not args.no_ui, progress=not args.quiet),
    }
    result["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(format_table(result))
    print(f"\nwritten: {args.out}")
    return 0 if result["overall"]["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
