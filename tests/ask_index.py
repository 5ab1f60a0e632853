"""One small index of real excerpts for the answer tests (test_answer.py,
tests/api/test_answers_api.py), built once per test session: four documents, a dozen
chunks. The two 2024 strategy files hold the same paragraph (the ~250
stakeholders) in English and German; the German one also the paragraph on the
Platin/Gold/Silber partner programmes; the Strategy 2030 excerpt lists its
fields of action."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path


from conftest import CORPUS, excerpt, clean_settings

STRATEGY_EN = "lsn-cluster-strategy-2024-en.txt"
STRATEGY_DE = "lsn-clusterstrategie-2024-de.txt"
MASTERPLAN = "lsn-masterplan-2009-de.txt"
STRATEGY_2030 = "lsn-strategie-2030-de.txt"


def passage(doc: str, start: str, end: str) -> str:
    text = excerpt(doc, start, 5000)
    return text[: text.index(end) + len(end)] + "\n"




@lru_cache(maxsize=1)
def build() -> "object":
    """Settings of the shared index (ingested on first use)."""
    from ingest.pipeline import ingest

    root = Path(tempfile.mkdtemp(prefix="lsn-ask-tests-"))
    atexit.register(shutil.rmtree, root, True)
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / STRATEGY_EN).write_text(
        passage(STRATEGY_EN, "This strategy should now be implemented jointly", "into the future as Life Science locations."),
        encoding="utf-8",
    )
    (corpus / STRATEGY_DE).write_text(
        passage(STRATEGY_DE, "Diese Strategie gilt es nunmehr gemeinsam", "erfolgreich in die Zukunft zu führen.")
        + "\n"
        + passage(STRATEGY_DE, "Gestaffelt nach den Edelmetallen", "mit all seinen Akteuren."),
        encoding="utf-8",
    )
    (corpus / MASTERPLAN).write_text(excerpt(MASTERPLAN, "3.2 Das Management von Life Science Nord", 1200), encoding="utf-8")
    (corpus / STRATEGY_2030).write_text(excerpt(STRATEGY_2030, "Strategische Themenfelder und Ziele", 1500), encoding="utf-8")
    shutil.copy(CORPUS / "manifest.toml", corpus)
    settings = clean_settings(data_dir=root / "data", corpus_dir=corpus, chunk_words=80, chunk_max_words=150)
    report = ingest(settings=settings, progress=False)
    assert not report.failed and report.index_size >= 6
    return settings
