"""The `lsn` command. Library errors become clean messages and exit codes here.

The CLI is an interface (the top layer, tests/test_layers.py): it may import
anything below it, including eval's command group (`lsn eval`). The commands
import the stack they run inside their functions, each saying what it defers,
so that `lsn --help` does not load chromadb, the models or the web server.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from eval.cli import app as eval_app  # `lsn eval` and its subcommands live with the evaluation

from .config import get_settings
from .errors import ConfigError, LSNError
from .feedback_cli import app as feedback_app  # `lsn feedback list|export`

app = typer.Typer(
    help="LSN Assistant: ingest the Life Science Nord corpus, search it, serve it, evaluate it.",
    no_args_is_help=True,
    add_completion=False,
)


def _fail(exc: Exception, code: int = 1) -> None:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(code)


@app.command()
def ingest(
    paths: Optional[list[Path]] = typer.Argument(None, help="Files or folders (default: the corpus folder and uploads)"),
    prune: Optional[bool] = typer.Option(None, "--prune/--no-prune", help="Remove indexed documents not among PATHS"),
    as_json: bool = typer.Option(False, "--json", help="Print the ingest report as JSON"),
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing when the index already holds chunks"),
) -> None:
    """Clean, chunk and embed documents into the index, incrementally.

    Example: lsn ingest            (sync the library: corpus folder and uploads)
             lsn ingest new.pdf    (add or update one file)
    """
    from ingest.pipeline import ingest as run_ingest  # defers chromadb and the embedders

    try:
        if if_empty:
            from .store import ChunkStore  # defers chromadb

            size = ChunkStore(get_settings()).count()
            if size:
                if as_json:
                    typer.echo(json.dumps({"files": [], "counts": {}, "embedded": 0, "index_size": size, "skipped": "index not empty"}))
                else:
                    typer.echo(f"index holds {size} chunks; not ingesting (run `lsn ingest` to sync)")
                return
        report = run_ingest(paths or None, prune=prune, progress=sys.stderr.isatty() or not as_json)
        if report.embedded and report.index_size:
            # the answerer's sentence vectors, so that no question pays for them later
            from .assistant import Assistant  # defers chromadb and the models

            report.prepared = Assistant.open(get_settings()).prepare_answers()
    except LSNError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        for f in report.files:
            line = f"{f.status:9} {f.doc}"
            if f.status in ("added", "updated"):
                line += f"  ({f.chunks} chunks, {f.embedded} embedded, {f.deleted} removed)"
            elif f.status == "removed":
                line += f"  ({f.deleted} chunks removed)"
            elif f.error:
                line += f"  error: {f.error}"
            typer.echo(line)
        typer.echo(f"index: {report.index_size} chunks at {report.location}; {report.embedded} embedded in {report.seconds:.1f} s")
    if report.failed:
        raise typer.Exit(2)


@app.command()
def search(
    query: str = typer.Argument(..., help="The question or keywords"),
    k: Optional[int] = typer.Option(None, "--k", help="Number of results (default: LSN_SEARCH_K, 10)"),
    lang: Optional[list[str]] = typer.Option(None, "--lang", help="Only chunks in this language (de, en)"),
    doc: Optional[list[str]] = typer.Option(None, "--doc", help="Only this document (file name)"),
    year: Optional[list[int]] = typer.Option(None, "--year", help="Only documents of this year"),
    as_json: bool = typer.Option(False, "--json", help="Print results as JSON"),
) -> None:
    """Search the index (hybrid dense + BM25).

    Example: lsn search "Wie viele Mitglieder hat medways?" --k 5
    """
    from .assistant import Assistant  # defers chromadb and the models

    try:
        results = Assistant.open().search(query, k=k, filters={"lang": lang, "doc": doc, "year": year})
    except LSNError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps({"results": [r.to_dict() for r in results]}, ensure_ascii=False, indent=2))
        return
    for r in results:
        c = r.chunk
        where = c.doc + (f" p.{c.page}" if c.page else "") + (f" — {c.section}" if c.section else "")
        typer.echo(f"[{r.rank}] {r.score:.4f}  {where}  ({c.lang})")
        text = c.text if len(c.text) < 400 else c.text[:400] + " …"
        typer.echo("    " + text.replace("\n", " "))
    if not results:
        typer.echo("no results")


@app.command()
def ask(
    question: str = typer.Argument(..., help="The question, German or English"),
    k: Optional[int] = typer.Option(None, "--k", help="Passages the answer may draw from (1-20)"),
    lang: Optional[list[str]] = typer.Option(None, "--lang", help="Only passages in this language (de, en)"),
    doc: Optional[list[str]] = typer.Option(None, "--doc", help="Only this document (file name)"),
    year: Optional[list[int]] = typer.Option(None, "--year", help="Only documents of this year"),
    as_json: bool = typer.Option(False, "--json", help="Print the answer structure as JSON"),
) -> None:
    """Answer a question from the documents, with numbered sources.

    Example: lsn ask "Wie viele Mitglieder hat medways?"
    """
    # deferred: chromadb and the models
    from .answer import labels
    from .assistant import Assistant

    try:
        answer = Assistant.open().ask(question, filters={"lang": lang, "doc": doc, "year": year}, k=k)
    except LSNError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return
    lab = labels(answer.language)
    if answer.notice:
        typer.echo(f"({answer.notice})\n")
    typer.echo(answer.text)
    if answer.citations:
        typer.echo(f"\n{lab['sources']}:")
        for c in answer.citations:
            where = c.doc + (f", {lab['page']} {c.page}" if c.page else "") + (f" — {c.section}" if c.section else "")
            typer.echo(f"[{c.n}] {where}")
            typer.echo(f"    „{' '.join(c.quote.split())}“" if answer.language == "de" else f"    \"{' '.join(c.quote.split())}\"")
    if answer.abstained and answer.related:
        typer.echo(f"\n{lab['related']}:")
        for r in answer.related:
            where = r["doc"] + (f", {lab['page']} {r['page']}" if r.get("page") else "") + (f" — {r['section']}" if r.get("section") else "")
            text = " ".join(r["text"].split())
            typer.echo(f"- {where}\n    {text[:300]}{' …' if len(text) > 300 else ''}")


@app.command()
def serve(
    host: Optional[str] = typer.Option(None, help="Interface to bind (default from settings)"),
    port: Optional[int] = typer.Option(None, help="Port (default from settings)"),
    workers: int = typer.Option(1, min=1, max=32, help="Server processes (more than 1 needs LSN_CHROMA_URL)"),
) -> None:
    """Serve the chat UI at /, the API under /api and /v1, its docs at /docs.

    Example: lsn serve --port 8000
             LSN_CHROMA_URL=http://127.0.0.1:8001 lsn serve --workers 4
    """
    import uvicorn

    from .api import create_app  # defers fastapi, gradio and the stack behind them

    settings = get_settings()
    bind = {"host": host or settings.host, "port": port or settings.port}
    if workers == 1:
        uvicorn.run(create_app(settings), **bind)
        return
    if not settings.chroma_url:
        _fail(ConfigError("--workers above 1 needs a Chroma server (LSN_CHROMA_URL): "
                          "processes must not share the embedded store's files"), 2)
    # each worker process builds its own app from the same settings (environment and .env)
    # a worker loads the embedding models before it is ready (seconds to a minute on a busy machine)
    uvicorn.run("lsn_assistant.api:create_app", factory=True, workers=workers, timeout_worker_healthcheck=300, **bind)


@app.command()
def mcp() -> None:
    """Serve the MCP tools (search, ask, list_documents, get_passage) over stdio.

    For MCP clients that start the server themselves; `lsn serve` offers the
    same tools over streamable HTTP at /mcp. Stdout carries the protocol;
    messages go to stderr.

    Example (a client's mcpServers entry): {"command": "/path/to/.venv/bin/lsn", "args": ["mcp"]}
    """
    from .mcp_server import run_stdio  # defers the mcp library and the stack

    run_stdio(get_settings())


app.add_typer(eval_app, name="eval")
app.add_typer(feedback_app, name="feedback")


if __name__ == "__main__":
    app()
