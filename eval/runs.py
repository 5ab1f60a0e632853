"""Stored runs: where they live, writing one, reading one, listing them.

A run is a folder holding ``run.json`` (``eval.runner``) with its reports and
exports. ``lsn eval`` stores each run in ``<data_dir>/eval-runs/<name>/``
unless ``--out`` says otherwise; ``<name>`` is the run's start time (UTC) and
short commit. The Eval tab of the UI and ``lsn eval compare`` read them back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsn_assistant.errors import LSNError

RUN_FILE = "run.json"
RUNS_DIR_NAME = "eval-runs"


class RunError(LSNError, ValueError):
    """A stored run cannot be read."""


def default_runs_dir(settings: Any) -> Path:
    return Path(settings.data_dir) / RUNS_DIR_NAME


def new_run_dir(runs_dir: Path, name: str) -> Path:
    """A fresh folder for a run named ``name`` (``name-2``, ... if taken)."""
    path, n = Path(runs_dir) / name, 1
    while path.exists():
        n += 1
        path = Path(runs_dir) / f"{name}-{n}"
    return path


def save_run(run: dict, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / RUN_FILE
    path.write_text(json.dumps(run, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def run_path(path: str | Path) -> Path:
    """``run.json`` of a run folder, or the file itself."""
    path = Path(path)
    return path / RUN_FILE if path.is_dir() else path


def load_run(path: str | Path) -> dict:
    """A stored run; RunError names the file when it is missing or not a run."""
    path = run_path(path)
    try:
        run = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RunError(f"{path}: cannot read the run: {e}") from e
    if not isinstance(run, dict) or not {"manifest", "summary", "rows"} <= set(run):
        raise RunError(f"{path}: not an `lsn eval` run (no manifest, summary and rows)")
    return run


@dataclass(frozen=True)
class StoredRun:
    """One run of a runs folder, as a list shows it."""

    path: Path
    name: str
    created: str
    commit: str | None
    dirty: bool | None
    testsets: tuple[str, ...]
    n_questions: int
    summary: dict

    @property
    def label(self) -> str:
        return f"{self.name} ({self.n_questions} questions: {testsets_label(self.testsets)})"


def testsets_label(paths: tuple[str, ...] | list[str]) -> str:
    """Test sets in few words: the files of a split folder as the folder
    ("train (3 files), check (5 files)"), other files by name."""
    groups: dict[str, list[str]] = {}
    for t in paths:
        p = Path(t)
        key = p.parent.name if p.parent.name in ("train", "check") else p.stem
        groups.setdefault(key, []).append(p.stem)
    return ", ".join(
        f"{key} ({len(files)} files)" if key in ("train", "check") and len(files) > 1 else key for key, files in groups.items()
    )


def stored_run(path: str | Path) -> StoredRun:
    """A run folder (or its run.json) as a list shows it; RunError when it is no run."""
    path = run_path(path)
    run = load_run(path)
    m = run["manifest"]
    return StoredRun(
        path=path,
        name=path.parent.name,
        created=m.get("created") or "",
        commit=(m.get("git") or {}).get("commit"),
        dirty=(m.get("git") or {}).get("dirty"),
        testsets=tuple(t["path"] for t in m.get("testsets") or []),
        n_questions=len(run["rows"]),
        summary=run["summary"],
    )


def list_runs(runs_dir: str | Path, extra: list[str] | tuple[str, ...] = ()) -> list[StoredRun]:
    """The readable runs in ``runs_dir`` (one level of folders) and the run
    folders in ``extra`` (runs written elsewhere with ``--out``), newest first."""
    runs_dir = Path(runs_dir)
    paths = sorted(runs_dir.glob(f"*/{RUN_FILE}")) if runs_dir.is_dir() else []
    paths += [run_path(p) for p in extra]
    out: dict[Path, StoredRun] = {}
    for path in paths:
        try:
            run = stored_run(path)
        except RunError:
            continue
        out.setdefault(run.path.resolve(), run)
    return sorted(out.values(), key=lambda r: (r.created, r.name), reverse=True)
