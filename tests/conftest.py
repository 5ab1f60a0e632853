"""Every test gets its own data directory and settings; nothing touches ./data."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from eval.loadtest import wait_ready
from lsn_assistant.config import get_settings

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    for key in list(os.environ):
        if key.startswith("LSN_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("LSN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LSN_CORPUS_DIR", str(tmp_path / "corpus"))
    monkeypatch.chdir(tmp_path)  # a stray .env in the repo must not leak in
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def clean_settings(**values):
    """Settings from the given values only: no LSN_* variable, no .env file.
    (The autouse isolation is function-scoped; a module-scoped index needs this.)"""
    from lsn_assistant.config import Settings

    with pytest.MonkeyPatch.context() as mp:
        for key in list(os.environ):
            if key.startswith("LSN_"):
                mp.delenv(key)
        return Settings(_env_file=None, **values)


def excerpt(doc: str, start: str, n_chars: int = 1500) -> str:
    """A real passage of a corpus file, beginning at ``start``."""
    text = (CORPUS / doc).read_text(encoding="utf-8")
    i = text.index(start)
    return text[i : i + n_chars]


STRATEGY_2030 = "lsn-strategie-2030-de.txt"


def visibility_index(root: Path, extra: str = "", n_chars: int = 1200, **values):
    """Settings of an ingested one-document index under ``root``: the
    Strategy 2030 passage on LSN's visibility (plus ``extra`` text), with the
    corpus manifest. ``values``: further settings (api_key, ui, ...)."""
    from ingest.pipeline import ingest

    corpus = root / "corpus"
    corpus.mkdir(parents=True)
    text = excerpt(STRATEGY_2030, "1. Sichtbarkeit von LSN erhöhen", n_chars)
    (corpus / STRATEGY_2030).write_text(text + (f"\n\n{extra}\n" if extra else ""), encoding="utf-8")
    (corpus / "manifest.toml").write_text((CORPUS / "manifest.toml").read_text(encoding="utf-8"), encoding="utf-8")
    settings = clean_settings(data_dir=root / "data", corpus_dir=corpus, **values)
    assert not ingest(settings=settings, progress=False).failed
    return settings


def make_pdf(path: Path, pages: list[str]) -> Path:
    """A real PDF with one text page per item (fpdf2, Latin-1 core font)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    pdf.output(str(path))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_chroma(path: Path, port: int):
    """`chroma run` on a loopback port, up and answering (or the test fails)."""
    exe = Path(sys.executable).parent / "chroma"
    proc = subprocess.Popen(
        [str(exe), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    import httpx

    while time.time() < deadline:
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    pytest.fail("chroma run did not come up within 30 s")


def stop(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def chroma_server(tmp_path):
    """A real `chroma run` on a free loopback port (data in tmp_path/chroma-server), stopped after the test."""
    port = free_port()
    proc = start_chroma(tmp_path / "chroma-server", port)
    yield f"http://127.0.0.1:{port}", proc
    stop(proc)


LSN = Path(sys.executable).parent / "lsn"


@contextmanager
def lsn_serve(root: Path, env: dict, seconds: float = 180, args: tuple[str, ...] = ()) -> Iterator[str]:
    """`lsn serve` (API and UI) in ``root`` with ``env`` on a free loopback
    port, logging to ``root/serve.log``; yields its URL once healthy, stops it
    after."""
    port = free_port()
    log = root / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([str(LSN), "serve", *args, "--port", str(port)], cwd=root, env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_ready(proc, url, seconds, str(log))  # eval's: the load test waits the same way
        except RuntimeError as exc:
            pytest.fail(str(exc))
        yield url
    finally:
        stop(proc)
