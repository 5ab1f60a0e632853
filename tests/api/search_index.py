"""Fixtures shared by the search and health route tests: one small index of
real excerpts (the English strategy's closing paragraph, the Strategie 2030's
first Themenfeld) and a TestClient on it. A module, not a conftest.py: the
route tests import tests/conftest.py by name, which a second conftest would
shadow."""

from __future__ import annotations

import shutil

import pytest
from fastapi.testclient import TestClient

from conftest import CORPUS, excerpt, clean_settings
from ingest.pipeline import ingest
from lsn_assistant import Assistant
from lsn_assistant.api import create_app
from lsn_assistant.config import Settings

STRATEGY_EN = "lsn-cluster-strategy-2024-en.txt"
STRATEGY_2030 = "lsn-strategie-2030-de.txt"


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> Settings:
    root = tmp_path_factory.mktemp("api-index")
    corpus = root / "corpus"
    corpus.mkdir()
    text = excerpt(STRATEGY_EN, "This strategy should now be implemented jointly", 1000)
    (corpus / STRATEGY_EN).write_text(text[: text.index("Life Science locations.") + 23] + "\n", encoding="utf-8")
    (corpus / STRATEGY_2030).write_text(excerpt(STRATEGY_2030, "1. Sichtbarkeit von LSN erhöhen", 1200), encoding="utf-8")
    shutil.copy(CORPUS / "manifest.toml", corpus)
    settings = clean_settings(data_dir=root / "data", corpus_dir=corpus)
    report = ingest(settings=settings, progress=False)
    assert not report.failed and report.index_size >= 2
    return settings


@pytest.fixture(scope="module")
def client(index):
    app = create_app(index, Assistant.open(index))
    # an unhandled error must show up as the 500 a user would get, not as a test crash
    return TestClient(app, raise_server_exceptions=False)
