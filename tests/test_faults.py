"""Faults the index must survive: `lsn ingest` killed with SIGKILL mid-run, a
full disk, a read-only data directory. Each ends with a clear error and an
index that the next run completes, never a corrupt one.

The disk faults mount a small tmpfs (root only; skipped elsewhere)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import CORPUS, clean_settings, excerpt
from ingest.pipeline import ingest
from lsn_assistant import Assistant
from lsn_assistant.errors import StoreUnavailable
from lsn_assistant.store import ChunkStore

LSN = str(Path(sys.executable).parent / "lsn")
DOCS = {
    "lsn-masterplan-2009-de.txt": "3.2 Das Management von Life Science Nord",
    "lsn-strategie-2030-de.txt": "Strategische Themenfelder und Ziele",
    "lsn-cluster-strategy-2024-en.txt": "This strategy should now be implemented jointly",
}


def write_corpus(folder: Path, n_chars: int = 2500) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for doc, start in DOCS.items():
        (folder / doc).write_text(excerpt(doc, start, n_chars), encoding="utf-8")
    (folder / "manifest.toml").write_text((CORPUS / "manifest.toml").read_text(encoding="utf-8"), encoding="utf-8")
    return folder


def env_for(data: Path, corpus: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LSN_")}
    return {**env, "LSN_DATA_DIR": str(data), "LSN_CORPUS_DIR": str(corpus), "LSN_CHUNK_WORDS": "60", "LSN_CHUNK_MAX_WORDS": "100"}


def assert_complete(settings) -> None:
    """Every document has all its chunks, with one hash, in every collection."""
    store = ChunkStore(settings)
    for emb in store.embedders:
        states = store.doc_states(emb)
        assert set(states) == set(DOCS), (emb, set(states))
        for doc, st in states.items():
            assert len(st.hashes) == 1 and st.count == st.expected, (emb, doc, st)


def test_sigkill_during_ingest_then_rerun_completes(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    data = tmp_path / "data"
    env = env_for(data, corpus)
    proc = subprocess.Popen([LSN, "ingest"], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # kill as soon as the first batch is written: tqdm's bar shows progress on stderr
    os.set_blocking(proc.stderr.fileno(), False)
    seen, deadline = b"", time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        seen += proc.stderr.read() or b""
        if b"embedding:" in seen and b"| 0/" not in seen.rsplit(b"embedding:", 1)[-1]:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "ingest finished before it could be killed: make the corpus bigger"
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    settings = clean_settings(data_dir=data, corpus_dir=corpus, chunk_words=60, chunk_max_words=100)
    partial = ChunkStore(settings).count()
    assert partial < 100  # some written, not all (the full run makes more)

    out = subprocess.run([LSN, "ingest", "--json"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert not report["counts"].get("failed")
    assert_complete(settings)
    again = ingest(settings=settings, progress=False)
    assert {f.status for f in again.files} == {"unchanged"} and again.embedded == 0
    assert Assistant.open(settings).search("Management von Life Science Nord", k=1)


@pytest.fixture
def small_disk(tmp_path):
    """A 700 kB tmpfs: too small for the index of the test corpus."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=700k", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def remount(mnt: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(mnt)], check=True)


def test_full_disk_is_a_clear_error_and_the_next_run_completes(tmp_path, small_disk):
    corpus = write_corpus(tmp_path / "corpus")
    settings = clean_settings(data_dir=small_disk / "data", corpus_dir=corpus, chunk_words=60, chunk_max_words=100)
    with pytest.raises(StoreUnavailable) as err:
        ingest(settings=settings, progress=False)
    assert "cannot be written" in str(err.value) and "free disk space" in str(err.value)

    remount(small_disk, "size=64m")  # space freed
    report = ingest(settings=settings, progress=False)
    assert not report.failed
    assert_complete(settings)
    assert Assistant.open(settings).search("Themenfelder", k=1)


def test_read_only_data_dir_is_a_clear_error_and_loses_nothing(tmp_path, small_disk):
    remount(small_disk, "size=64m")
    corpus = write_corpus(tmp_path / "corpus")
    settings = clean_settings(data_dir=small_disk / "data", corpus_dir=corpus, chunk_words=60, chunk_max_words=100)
    env = env_for(settings.data_dir, corpus)
    # in a child process: a store open in this one would keep files open for writing (remount refused)
    first = subprocess.run([LSN, "ingest", "--json"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    before = json.loads(first.stdout)["index_size"]

    remount(small_disk, "ro")
    (corpus / "neu.txt").write_text("Ein neues Dokument über das Meeresforum in Kiel.\n", encoding="utf-8")
    out = subprocess.run([LSN, "ingest"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode != 0
    assert out.stderr.startswith("error: ") and "readonly" in out.stderr and "Traceback" not in out.stderr

    remount(small_disk, "rw")
    assert ChunkStore(settings).count() == before
    report = ingest(settings=settings, progress=False)
    assert {f.doc: f.status for f in report.files}["neu.txt"] == "added"
