"""Reliability under concurrent writes and hostile clients (issue 10):

- a search, an answer, a stream sees one generation of the index while
  uploads and deletes swap in new ones (in-process, and against a real
  `lsn serve` with keep-alive clients: no 5xx, no reset);
- text no encoder can take (unpaired surrogates, control characters) and
  text with nothing visible are a 400, and neither they nor a 500 break the
  next request on the same connection;
- a document is visible only when all its chunks are in every collection: an
  ingest interrupted mid-way is invisible, and a `lsn serve` killed with
  SIGKILL during an upload comes back with the document absent or complete;
- the Documents tab reads only files in Gradio's upload cache, and anonymous
  uploads to Gradio's route are bounded;
- a question in neither German nor English gets an answer saying so.

No assertion depends on time: runs are bounded by counts, waits only have
generous limits."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from conftest import CORPUS, REPO, clean_settings, free_port, visibility_index
from lsn_assistant import Assistant
from lsn_assistant.answer import labels
from lsn_assistant.api import create_app
from lsn_assistant.errors import BadQuery
from lsn_assistant.language import unsupported_language
from lsn_assistant.store import ChunkStore
from lsn_assistant.text import clean_text

KEY = "reliability-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
ONLY_DE_EN = labels("en")["unsupported_language"]


def note(name: str, words: int = 700, start: int = 0, extra: str = "") -> tuple[str, bytes]:
    """An uploadable document made of real corpus text, with a sentence of its own."""
    source = (CORPUS / "lsn-clusterstrategie-2024-de.txt").read_text(encoding="utf-8").split()
    body = " ".join(source[start : start + words])
    text = f"{name}\n\nDas Dokument {name} enthält den Satz über den Kieler Meeresforum-Preis.\n\n{body}\n{extra}"
    return name, text.encode("utf-8")


# ---------------------------------------------------------------- the one validator


@pytest.mark.parametrize(
    "value, message",
    [
        ("\ud800 Sichtbarkeit", "unpaired surrogate"),
        ("Sichtbarkeit \udcff", "unpaired surrogate"),  # what undecodable bytes on a command line become
        ("Sicht\x00barkeit", "control character (U+0000)"),
        ("Sichtbarkeit\x1b[2J", "control character (U+001B)"),
        ("\u200b\u00a0\u2060\ufeff \u3000", "no visible characters"),
        ("\u3164\u2800", "no visible characters"),
        ("   ", "is empty"),
    ],
)
def test_clean_text_refuses(value, message):
    with pytest.raises(BadQuery) as err:
        clean_text(value, "query")
    assert message in str(err.value)


def test_clean_text_normalises_what_it_keeps():
    assert clean_text("Wie viele\u200b Akteure\u00a0vereint LSN?\n", "question") == "Wie viele Akteure vereint LSN?\n"
    assert clean_text("Zeile\teins\r\nzwei", "q") == "Zeile\teins\r\nzwei"
    assert clean_text("Ge\u0301orgia", "q") == "Géorgia"  # NFC
    assert clean_text("🤔", "q") == "🤔" and clean_text("", "history", require_visible=False) == ""


def test_the_command_line_refuses_undecodable_arguments(tmp_path):
    """Bytes that are not UTF-8 reach Python as unpaired surrogates: an error line, not a traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LSN_")}
    env.update(LSN_DATA_DIR=str(tmp_path / "data"), LSN_CORPUS_DIR=str(tmp_path / "corpus"))
    lsn = Path(sys.executable).parent / "lsn"
    out = subprocess.run([os.fsencode(str(lsn)), b"search", b"Sichtbarkeit \xff"], env=env, cwd=tmp_path,
                         capture_output=True, timeout=300)
    assert out.returncode == 1, out
    assert out.stderr.startswith(b"error: the query contains an invalid character (an unpaired surrogate")
    assert b"Traceback" not in out.stderr


# ---------------------------------------------------------------- an index shared by the API tests


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    return visibility_index(tmp_path_factory.mktemp("reliability"), ui=False, api_key=KEY)


@contextmanager
def served(app):
    """``app`` under a real uvicorn on a free loopback port, in a thread."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(6000):  # up to ~10 minutes for the models to load on a busy machine
        if server.started or not thread.is_alive():
            break
        time.sleep(0.1)
    assert server.started, "uvicorn did not start"
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join()


def boom(_: dict) -> dict:
    raise RuntimeError("a bug")


@pytest.fixture(scope="module")
def server_port(index):
    app = create_app(index, Assistant.open(index))
    app.add_api_route("/api/boom", boom, methods=["POST"])
    app.router.routes.insert(0, app.router.routes.pop())  # before the JSON 404 catch-all under /api
    with served(app) as port:
        yield port


BAD_BODIES = [
    ("/api/search", b'{"query": "\\ud800 Sichtbarkeit"}', "unpaired surrogate"),
    ("/api/search", '{"query": "Sichtbarkeit \ud800"}'.encode("utf-8", "surrogatepass"), "unpaired surrogate"),
    ("/api/search", b'{"query": "Sichtbarkeit \xff"}', "not valid UTF-8"),
    ("/api/search", b'{"query": "Sicht\\u0000barkeit"}', "control character"),
    ("/api/search", b'{"query": "\\u200b\\u00a0\\u2060"}', "no visible characters"),
    ("/api/search", b'{"query": "LSN", "filters": {"doc": ["\\udc80.txt"]}}', "unpaired surrogate"),
    ("/api/ask", b'{"question": "\\udfff?"}', "unpaired surrogate"),
    ("/api/ask", b'{"question": "Wie?\\u0007"}', "control character"),
    ("/api/ask", b'{"question": "\\u200b\\u200b"}', "no visible characters"),
    ("/api/ask", b'{"question": "Und?", "history": [{"role": "user", "content": "\\ud83d"}]}', "unpaired surrogate"),
    ("/api/ask/stream", b'{"question": "\\u00a0\\ufeff"}', "no visible characters"),
    ("/api/ask/stream", b'{"question": "\\ud800"}', "unpaired surrogate"),
    ("/v1/chat/completions", b'{"messages": [{"role": "user", "content": "\\ud800 LSN"}]}', "unpaired surrogate"),
    ("/v1/chat/completions", b'{"messages": [{"role": "user", "content": "\\u200b"}], "stream": true}',
     "no visible characters"),
]


def exchange(conn: http.client.HTTPConnection, path: str, body: bytes) -> tuple[int, dict, str | None]:
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    raw = r.read()
    return r.status, (json.loads(raw) if r.getheader("content-type", "").startswith("application/json") else {}), \
        r.getheader("connection")


def test_bad_text_is_a_400_and_the_connection_goes_on(server_port):
    conn = http.client.HTTPConnection("127.0.0.1", server_port, timeout=300)
    good = json.dumps({"query": "Sichtbarkeit von LSN", "k": 2}).encode()
    assert exchange(conn, "/api/search", good)[0] == 200
    sock = conn.sock
    for path, body, message in BAD_BODIES:
        status, payload, connection = exchange(conn, path, body)
        assert status == 400 and message in payload["detail"], (path, body, status, payload)
        assert connection != "close"
        status, payload, _ = exchange(conn, "/api/search", good)  # the same connection serves the next request
        assert status == 200 and payload["results"], (path, body)
        assert conn.sock is sock
    conn.close()


def test_a_500_does_not_break_the_connection(server_port):
    """Starlette re-raises a handled 500 for the server to log, and uvicorn
    then closed the connection: the next request on it was reset."""
    conn = http.client.HTTPConnection("127.0.0.1", server_port, timeout=300)
    good = json.dumps({"query": "Sichtbarkeit", "k": 1}).encode()
    assert exchange(conn, "/api/search", good)[0] == 200
    sock = conn.sock
    for _ in range(3):
        status, payload, connection = exchange(conn, "/api/boom", b"{}")
        assert status == 500 and payload == {"detail": "internal error (RuntimeError); the server log has the details"}
        assert connection != "close"
        assert exchange(conn, "/api/search", good)[0] == 200
        assert conn.sock is sock
    conn.close()


# ---------------------------------------------------------------- one generation per search


def test_a_search_uses_the_snapshot_it_started_with(tmp_path):
    settings = visibility_index(tmp_path, api_key=KEY)
    a = Assistant.open(settings)
    before = a.retriever.index
    name, data = note("meeresforum.txt", words=300)
    a.add_document(name, data)
    after = a.retriever.index
    assert after is not before and name in {c.doc for c in after.chunks} and name not in set(before.doc)
    # a search that took the old snapshot sees the old generation to its end, however the store changed
    old = a.retriever.search("Kieler Meeresforum-Preis", k=5, index=before)
    assert old and all(h.chunk.chunk_id in before.by_id for h in old)
    new = a.retriever.search("Kieler Meeresforum-Preis", k=5)
    assert new[0].chunk.doc == name
    a.delete_document(name)
    assert name in {h.chunk.doc for h in a.retriever.search("Kieler Meeresforum-Preis", k=5, index=after)}
    assert name not in {h.chunk.doc for h in a.retriever.search("Kieler Meeresforum-Preis", k=5)}
    with pytest.raises(TypeError):  # nothing in a snapshot can be changed in place
        after.by_id["x"] = None
    with pytest.raises(ValueError):
        after.lang[0] = "xx"


def test_readers_racing_uploads_and_deletes_in_process(tmp_path):
    """8 threads searching and asking while one thread uploads, re-uploads and
    deletes: no exception (it used to be KeyError in collapse_duplicates or a
    broadcast error in lexical_ranking, when a search straddled a reload)."""
    settings = visibility_index(tmp_path, api_key=KEY)
    a = Assistant.open(settings)
    questions = ["Wie wird die Sichtbarkeit von LSN erhöht?", "Kieler Meeresforum-Preis", "How is LSN made visible?"]
    errors: list[BaseException] = []
    done = threading.Event()

    def reader(i: int) -> None:
        n = 0
        while not done.is_set() or n < 3:
            q = questions[(i + n) % len(questions)]
            try:
                if n % 3 == 0:
                    a.search(q, k=5)
                elif n % 3 == 1:
                    a.ask(q)
                else:
                    list(a.ask_stream(q))
            except BaseException as exc:  # noqa: BLE001 - every failure counts
                errors.append(exc)
            n += 1

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    try:
        for round_ in range(4):
            a.add_document(*note("meeresforum.txt", words=250, start=round_ * 100))
            a.add_document(*note("zweites.txt", words=200, start=round_ * 200))
            a.delete_document("meeresforum.txt")
        a.delete_document("zweites.txt")
    finally:
        done.set()
        for t in threads:
            t.join()
    assert not errors, errors[:3]


def test_readers_racing_uploads_and_deletes_against_lsn_serve(tmp_path):
    """Keep-alive clients searching, asking, streaming and chatting against a
    real `lsn serve` while a writer uploads, re-uploads and deletes: no 5xx,
    no reset, no broken stream; a bounded number of writes."""
    from eval.loadtest import serve
    from eval.soak import read, write

    settings = visibility_index(tmp_path)
    questions = ["Wie wird die Sichtbarkeit von LSN erhöht?", "Kieler Meeresforum-Preis", "How is LSN made visible?",
                 "Welche Veranstaltungen plant LSN?"]
    kinds = ("search", "ask", "stream", "chat", "chat_stream")
    results: list[tuple[str, dict]] = []
    lock = threading.Lock()
    done = threading.Event()
    with serve(settings, ui=False, extra_env={"LSN_API_KEY": KEY}) as server:
        def reader(i: int) -> None:
            with httpx.Client(base_url=server["url"], timeout=300) as client:
                n = 0
                while not done.is_set() or n < len(kinds):
                    kind = kinds[(i + n) % len(kinds)]
                    res = read(client, kind, questions[(i + n) % len(questions)])
                    with lock:
                        results.append((kind, res))
                    n += 1

        threads = [threading.Thread(target=reader, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        writes = []
        try:
            with httpx.Client(base_url=server["url"], timeout=600, headers=AUTH) as client:
                for round_ in range(3):
                    for name, words in (("meeresforum.txt", 400), ("zweites.txt", 300)):
                        n, data = note(name, words=words, start=round_ * 150)
                        writes.append(write(client, "upload", n, data.decode()))
                    writes.append(write(client, "delete", "meeresforum.txt", ""))
                writes.append(write(client, "delete", "zweites.txt", ""))
        finally:
            done.set()
            for t in threads:
                t.join()
    assert all(w["ok"] for w in writes), writes
    failed = [(kind, r["error"]) for kind, r in results if not r["ok"]]
    assert not failed, failed[:10]
    assert {kind for kind, _ in results} == set(kinds)


# ---------------------------------------------------------------- visible only when complete


def test_an_interrupted_version_stays_invisible_and_recovery_rolls_it_back_or_finishes_it(tmp_path, monkeypatch):
    from ingest import pipeline
    from ingest.pipeline import ingest, recover

    settings = visibility_index(tmp_path, api_key=KEY)
    a = Assistant.open(settings)
    before = {c.chunk_id for c in a.retriever.chunks}
    store = ChunkStore(settings)
    upload_dir = settings.upload_dir
    upload_dir.mkdir(parents=True, exist_ok=True)
    name, data = note("meeresforum.txt", words=900)
    (upload_dir / name).write_bytes(data)

    # killed after the first batch: written, pending, not visible
    real_upsert, calls = ChunkStore.upsert, {"n": 0}

    def upsert_then_die(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real_upsert(self, *args, **kwargs)

    monkeypatch.setattr(ChunkStore, "upsert", upsert_then_die)
    with pytest.raises(KeyboardInterrupt):
        ingest([upload_dir / name], settings, store, progress=False)
    monkeypatch.setattr(ChunkStore, "upsert", real_upsert)
    pub = store.publication(name)
    assert pub.pending and not pub.published and store.ids_of_doc("e5", name)
    a.refresh()
    assert {c.chunk_id for c in a.retriever.chunks} == before and a.retriever.index.pending == (name,)
    assert a.health()["ingest"]["pending"][0]["doc"] == name

    assert recover(store) == []  # its writer (this process) is alive: left alone
    monkeypatch.setattr(pipeline, "writer_alive", lambda pub, now=None: False)
    done = recover(store)
    assert [(r.doc, r.action) for r in done] == [(name, "rolled_back")]
    assert "not in the index" in done[0].detail
    assert store.publication(name) is None
    assert all(not store.ids_of_doc(emb, name) for emb in store.embedders)

    # killed after every chunk was written, before it was published: recovery finishes it
    real_publish = pipeline._publish

    def die_before_publishing(store_, pub_):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "_publish", die_before_publishing)
    with pytest.raises(KeyboardInterrupt):
        ingest([upload_dir / name], settings, store, progress=False)
    monkeypatch.setattr(pipeline, "_publish", real_publish)
    a.refresh()
    assert name not in {c.doc for c in a.retriever.chunks}
    done = recover(store)
    assert [(r.doc, r.action) for r in done] == [(name, "finished")]
    a.refresh()
    expected = store.publication(name).ids
    assert {c.chunk_id for c in a.retriever.chunks if c.doc == name} == expected and expected
    assert a.search("Kieler Meeresforum-Preis", k=1)[0].chunk.doc == name


def test_an_index_from_before_the_ledger_is_adopted_as_it_is(tmp_path):
    settings = visibility_index(tmp_path)
    store = ChunkStore(settings)
    ids = {c.chunk_id for c in store.all_chunks()}
    store.client.delete_collection(f"{settings.collection_prefix}_documents")  # as an older version left it
    assert ChunkStore(settings).ledger() is None
    assert {c.chunk_id for c in Assistant.open(settings).retriever.chunks} == ids  # all visible, as before
    ledger = ChunkStore(settings).ensure_ledger()
    assert {cid for pub in ledger.values() for cid in pub.ids} == ids
    assert {c.chunk_id for c in Assistant.open(settings).retriever.chunks} == ids


def health(url: str) -> dict:
    return httpx.get(f"{url}/health", timeout=60).json()


@contextmanager
def lsn_serve(settings, log: Path, extra: dict[str, str]):
    """A real `lsn serve` (killed by the test, or terminated after it)."""
    from eval.bench import settings_env
    from eval.loadtest import wait_ready

    port = free_port()
    env = {**settings_env(settings), "LSN_UI": "false", **extra}
    cmd = [sys.executable, "-m", "lsn_assistant.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=log.parent)
    try:
        wait_ready(proc, f"http://127.0.0.1:{port}", 600, str(log))
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_sigkill_during_an_upload_leaves_the_document_absent_or_complete(tmp_path):
    settings = visibility_index(tmp_path)
    extra = {"LSN_API_KEY": KEY, "LSN_CHUNK_WORDS": "60", "LSN_CHUNK_MAX_WORDS": "100"}
    log = tmp_path / "serve.log"
    name, data = note("grosses-dokument.txt", words=6000)
    with lsn_serve(settings, log, extra) as (proc, url):
        before = {d["doc"]: d["chunks"] for d in httpx.get(f"{url}/api/documents", timeout=60).json()["documents"]}

        def upload() -> None:
            try:
                httpx.post(f"{url}/api/documents", files={"file": (name, data)}, headers=AUTH, timeout=900)
            except httpx.HTTPError:
                pass  # the server dies under it

        uploader = threading.Thread(target=upload, daemon=True)
        uploader.start()
        progress = None
        for _ in range(6000):  # until some of its chunks are written, not all
            pending = [p for p in health(url)["ingest"]["pending"] if p["doc"] == name]
            if pending and 16 <= pending[0]["written"] <= pending[0]["of"] - 32:
                progress = pending[0]
                break
            assert uploader.is_alive(), "the upload finished before it could be killed: make the document bigger"
            time.sleep(0.1)
        assert progress, "the upload never got under way"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        uploader.join()

    with lsn_serve(settings, log, extra) as (proc, url):
        h = health(url)
        assert h["ingest"]["pending"] == []
        recovered = h["ingest"]["recovered"]
        assert [(r["doc"], r["action"]) for r in recovered] in ([(name, "rolled_back")], [(name, "finished")])
        docs = {d["doc"]: d["chunks"] for d in httpx.get(f"{url}/api/documents", timeout=60).json()["documents"]}
        hits = httpx.post(f"{url}/api/search", json={"query": "Kieler Meeresforum-Preis", "k": 10}, timeout=300).json()
    text = log.read_text(errors="replace")
    assert "interrupted ingest" in text and name in text

    store = ChunkStore(settings)
    pub = store.publication(name)
    if recovered[0]["action"] == "rolled_back":
        assert docs == before and name not in {r["doc"] for r in hits["results"]}
        assert pub is None and all(not store.ids_of_doc(emb, name) for emb in store.embedders)
    else:
        assert docs[name] == len(pub.ids) and all(store.ids_of_doc(emb, name) == pub.ids for emb in store.embedders)


# ---------------------------------------------------------------- the UI's uploads


class Stub:
    """The little of an Assistant that building the UI asks for."""

    def documents(self):
        return []

    def health(self):
        return {"status": "ok", "llm": {"mode": "extractive"}}


@pytest.fixture
def gradio_app(tmp_path, monkeypatch):
    from ui import app as ui_app

    cache = tmp_path / "gradio-cache"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(cache))
    settings = clean_settings(data_dir=tmp_path / "data", max_upload_mb=0.5, ui_upload_cache_mb=0.8)
    app = ui_app.mount_ui(FastAPI(), Stub, settings)
    with TestClient(app) as client:
        yield client, cache, app


def test_mounted_ui_checks_input_files_and_empties_its_cache(gradio_app):
    from gradio.routes import App

    from ui import app as ui_app

    _, _, app = gradio_app
    blocks = next(r.app for r in app.routes if isinstance(getattr(r, "app", None), App)).get_blocks()
    assert blocks.has_launched  # Gradio's own check: an event's input file must be one a user uploaded
    assert blocks.delete_cache == ui_app.CACHE_CLEANUP


def test_the_documents_tab_refuses_a_server_path_sent_as_its_file(tmp_path, monkeypatch):
    """The attack of issue 10 through Gradio's own protocol: the upload
    event's file input names a file of the server instead of an upload.
    Mounted (not launch()ed), Gradio used to copy that file into its cache and
    hand it to the event, which added it to the index."""
    from gradio.routes import App

    from ui import app as ui_app

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio-cache"))
    secret = tmp_path / "secret.md"
    secret.write_text("# Geheim\n\nNicht für den Index.", encoding="utf-8")
    added = []

    class Library(Stub):
        def add_document(self, name, data):
            added.append((name, data))
            return {"files": [{"doc": name, "status": "added", "chunks": 1}], "index_size": 1}

    library = Library()
    app = ui_app.mount_ui(FastAPI(), lambda: library, clean_settings(data_dir=tmp_path / "data", api_key=KEY))
    blocks = next(r.app for r in app.routes if isinstance(getattr(r, "app", None), App)).get_blocks()
    fn_index = next(i for i, f in blocks.fns.items() if f.name == "on_upload")

    def run_upload(client, path: str) -> dict:
        file = {"path": path, "orig_name": Path(path).name, "meta": {"_type": "gradio.FileData"}}
        join = client.post("/gradio_api/queue/join", json={"data": [KEY, file], "fn_index": fn_index,
                                                             "session_hash": "s1", "event_data": None, "trigger_id": None})
        assert join.status_code == 200, join.text
        with client.stream("GET", "/gradio_api/queue/data?session_hash=s1") as events:
            for line in events.iter_lines():
                if line.startswith("data:") and json.loads(line[5:]).get("msg") == "process_completed":
                    return json.loads(line[5:])
        raise AssertionError("the event did not complete")

    with TestClient(app) as client:
        refused = run_upload(client, str(secret))
        assert refused["success"] is False and "not uploaded by a user" in refused["output"]["error"]
        assert added == []
        stored = client.post("/gradio_api/upload", files={"files": ("notiz.txt", b"Eine Notiz.", "text/plain")}).json()[0]
        accepted = run_upload(client, stored)
        assert accepted["success"] is True and "notiz.txt" in accepted["output"]["data"][0]
    assert added == [("notiz.txt", b"Eine Notiz.")]
    assert not Path(stored).exists()  # in the library now: out of the cache


def test_anonymous_gradio_uploads_are_bounded(gradio_app):
    client, cache, _ = gradio_app
    kb = 1024

    sent = {"n": 0}

    def upload(size: int, name: str = "a.txt"):
        sent["n"] += 1  # each its own content: Gradio stores the same bytes once
        return client.post("/gradio_api/upload", files={"files": (name, bytes([65 + sent["n"]]) * size, "text/plain")})

    r = upload(300 * kb)
    assert r.status_code == 200, r.text
    stored = [Path(p) for p in r.json()]
    assert all(p.resolve().is_relative_to(cache.resolve()) for p in stored)
    # one request bigger than a document: refused before its body is read
    big = upload(700 * kb)
    assert big.status_code == 413 and "limit" in big.json()["detail"]
    # a body without a declared size
    chunked = client.post("/gradio_api/upload", content=iter([b"--x\r\n", b"x" * 10]),
                          headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert chunked.status_code == 411
    # the cache holds at most ui_upload_cache_mb: 300 + 300 + 300 kB > 0.8 MB
    assert upload(300 * kb).status_code == 200
    full = upload(300 * kb)
    assert full.status_code == 429 and "upload cache is full" in full.json()["detail"]
    assert full.headers["retry-after"]
    total = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file())
    assert total <= 0.8 * 1024 * kb
    # files leave the cache (added to the library, or by age): room again
    for p in stored:
        p.unlink()
    assert upload(300 * kb).status_code == 200


def test_upload_rate_per_client():
    import asyncio

    from ui.upload_guard import UploadGuard

    async def ok(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"[]"})

    guard = UploadGuard(ok, max_file_bytes=1000, budget_bytes=10**6, cached_files=list, per_minute=2)

    def call(client: str) -> int:
        sent = []

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": "/gradio_api/upload", "client": (client, 1),
                 "headers": [(b"content-length", b"10")]}
        asyncio.run(guard(scope, None, send))
        return sent[0]["status"]

    assert [call("10.0.0.1") for _ in range(3)] == [200, 200, 429]
    assert call("10.0.0.2") == 200  # another client has its own allowance


# ---------------------------------------------------------------- other languages


def dev_questions() -> list[str]:
    return [json.loads(line)["question"] for path in sorted((REPO / "eval" / "testsets").rglob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_no_dev_question_is_taken_for_another_language():
    questions = dev_questions()
    assert len(questions) >= 50
    assert [q for q in questions if unsupported_language(q)] == []
    for q in ["Wie viele?", "Warum?", "und was kostet das", "what about funding", "medways", "2030?",
              "Optence Veranstaltungen 2019", "Cluster management excellence label gold", "BioCon Valley Kooperation"]:
        assert unsupported_language(q) is None, q


@pytest.mark.parametrize(
    "question, lang",
    [("这个集群有多少成员？", "zh"), ("🤔🤔❓", "und"), ("Сколько членов в Life Science Nord?", None),
     ("Combien de membres compte le cluster Life Science Nord?", "fr"),
     ("¿Cuántos miembros tiene Life Science Nord?", "es")],
)
def test_other_languages_are_recognised(question, lang):
    found = unsupported_language(question)
    assert found and (lang is None or found == lang)


@pytest.fixture(scope="module")
def ask_client():
    import lsn_assistant.llm as llm_module
    from ask_index import build

    settings = build()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(llm_module, "get_llm", lambda settings=None: None)
        with TestClient(create_app(settings, Assistant.open(settings))) as c:
            yield c


@pytest.mark.parametrize("question", ["这个集群有多少成员？", "🤔🤔", "Combien de membres compte le cluster Life Science Nord?"])
def test_a_question_in_another_language_gets_the_only_german_and_english_answer(ask_client, question):
    d = ask_client.post("/api/ask", json={"question": question}).json()
    assert d["answer"] == ONLY_DE_EN and d["language"] == "en" and d["abstained"] is True
    assert d["citations"] == [] and d["related"] == [] and d["evidence"]["unsupported_language"]
    stream = ask_client.post("/api/ask/stream", json={"question": question}).text
    done = json.loads([c for c in stream.split("\n\n") if c][-1][len("data: "):])
    assert done["type"] == "done" and done["answer"]["answer"] == ONLY_DE_EN
    chat = ask_client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": question}]}).json()
    assert chat["choices"][0]["message"]["content"] == ONLY_DE_EN and chat["citations"] == []
    assert "German and English" in ONLY_DE_EN


def test_german_and_english_questions_are_still_answered(ask_client):
    for q in ["Wie viele Akteure vereint der Life Science Nord e. V.?", "How many stakeholders does LSN bring together?"]:
        d = ask_client.post("/api/ask", json={"question": q}).json()
        assert d["answer"] != ONLY_DE_EN and d["language"] in ("de", "en"), d["answer"]
