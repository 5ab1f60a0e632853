"""`lsn feedback`: the members' ratings, listed and exported as test-set candidates.

    lsn feedback list [--rating down] [--json]
    lsn feedback export --out FILE.jsonl [--rating down]

The candidates are in the test-set format (eval/testsets), with ``source:
feedback`` and empty key facts: a person checks the type, the evidence and the
reference, fills in the key facts, and `lsn eval check FILE` then accepts it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from .config import get_settings
from .errors import LSNError
from .feedback import RATINGS, FeedbackStore, candidate, feedback_path

app = typer.Typer(help="Members' ratings of answers: list them, export them as test-set candidates.", no_args_is_help=True)


def _store() -> FeedbackStore:
    path = feedback_path(get_settings().data_dir)
    if not path.exists():
        typer.echo(f"no feedback yet ({path} does not exist)", err=True)
        raise typer.Exit(0)
    return FeedbackStore(path)


def _rating(rating: Optional[str]) -> Optional[str]:
    if rating is not None and rating not in RATINGS:
        raise typer.BadParameter(f"one of {', '.join(RATINGS)}", param_hint="--rating")
    return rating


@app.command("list")
def list_cmd(
    rating: Optional[str] = typer.Option(None, "--rating", help="Only 'up' or only 'down'"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """The ratings with the answers they rate, newest first.

    Example: lsn feedback list --rating down
    """
    store = _store()
    try:
        items = store.list(rating=_rating(rating))
    except LSNError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1)
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps(items, ensure_ascii=False, indent=1))
        return
    for i in items:
        comment = f" — {i['comment']}" if i["comment"] else ""
        typer.echo(f"{i['created']} {i['rating']:>4} #{i['id']}: {i['question']}{comment}")
    typer.echo(f"{len(items)} rating(s)", err=True)


@app.command("export")
def export_cmd(
    out: Path = typer.Option(..., "--out", help="The JSONL file to write"),
    rating: Optional[str] = typer.Option(None, "--rating", help="Only 'up' or only 'down'"),
) -> None:
    """Rated answers as test-set candidates (JSONL): key facts for a person to fill in.

    Example: lsn feedback export --rating down --out eval/testsets/new/feedback.jsonl
    """
    store = _store()
    try:
        items = [candidate(i) for i in store.list(rating=_rating(rating))]
    except LSNError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1)
    finally:
        store.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    typer.echo(f"wrote {len(items)} candidate(s) to {out}; fill in their key facts, then `lsn eval check {out}`", err=True)
