"""`lsn eval`: evaluate, compare stored runs, check and draft test sets.

    lsn eval TESTSET.jsonl... [--out DIR] [--baseline RUN] [--fail-on-regression DELTA] [--k 10]
    lsn eval compare A B [--out DIR] [--fail-on-regression DELTA]
    lsn eval check TESTSET.jsonl... [--corpus DIR]
    lsn eval draft --doc FILE [-n 20] [--out FILE]

``lsn eval FILES...`` is ``lsn eval run FILES...``: the group runs ``run``
when its first argument names no subcommand. Exit codes: 0 fine, 1 an error
(a bad test set, an empty index, an unreadable run), 2 a usage error, 3 a
measure regressed by more than ``--fail-on-regression``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import click
import typer
from typer.core import TyperGroup

from lsn_assistant.config import get_settings
from lsn_assistant.errors import LSNError

from .runs import default_runs_dir, load_run, new_run_dir, save_run
from .testset import check_testset, load_testset, testset_stats

REGRESSION_EXIT = 3


class RunByDefault(TyperGroup):
    """A group whose first argument, when it names no subcommand, goes to ``run``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["run", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=RunByDefault,
    help="Evaluate the assistant on test sets (lsn eval FILES...), compare runs, check and draft test sets.",
    no_args_is_help=True,
    add_completion=False,
)


def _fail(problem: object, code: int = 1) -> None:
    typer.echo(f"error: {problem}", err=True)
    raise typer.Exit(code)


def _gate(comparison: dict, threshold: Optional[float]) -> None:
    """Exit with REGRESSION_EXIT when a measure regressed by more than ``threshold``."""
    from .compare import regressions  # defers numpy (`lsn --help` loads this module)

    if threshold is None:
        return
    lost = regressions(comparison, threshold)
    for r in lost:
        typer.echo(f"regression: {r['measure']} changed by {r['delta']:+.3f} (more than {threshold:g})", err=True)
    if lost:
        raise typer.Exit(REGRESSION_EXIT)


def _summary_lines(run: dict) -> list[str]:
    from .summary import MEASURES  # defers ir_measures and numpy (`lsn --help` loads this module)

    lines = [f"{'measure':<22} {'value':>6}  {'95% CI':<16} {'n':>7}"]
    for m in MEASURES:
        agg = run["measures"].get(m.key)
        if agg is None:
            continue
        value = "-" if agg["value"] is None else f"{agg['value']:.3f}"
        ci = f"[{agg['ci'][0]:.3f}, {agg['ci'][1]:.3f}]" if agg["ci"] else "-"
        lines.append(f"{m.key:<22} {value:>6}  {ci:<16} {agg['n_scored']:>3}/{agg['n_total']:<3}")
    return lines


@app.command("run")
def run_cmd(
    testsets: list[Path] = typer.Argument(..., help="Test sets (JSONL, see eval/testsets)"),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder for the run (default: <data_dir>/eval-runs/<name>)"),
    baseline: Optional[Path] = typer.Option(None, "--baseline", help="A stored run (run.json or its folder) to compare with"),
    fail_on_regression: Optional[float] = typer.Option(
        None, "--fail-on-regression", min=0.0, help="With --baseline: exit 3 when a measure drops by more than this"
    ),
    k: int = typer.Option(10, "--k", min=1, max=100, help="Results retrieved per question"),
    answers: bool = typer.Option(True, "--answers/--no-answers", help="Also ask every question and score the answers"),
    judge: Optional[bool] = typer.Option(
        None, "--judge/--no-judge", help="LLM-judged measures (default: on when an LLM is configured)"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the run JSON instead of the summary"),
) -> None:
    """Evaluate: search and ask every question, write run, reports and exports.

    Writes to --out: run.json (manifest, summary, a row per question),
    report.md and plots/*.png, report.html (self-contained), and exports/
    (ragas.jsonl, deepeval.json, trec.run, trec.qrels).

    Example: lsn eval eval/testsets/*.jsonl --baseline data/eval-runs/<name> --fail-on-regression 0.05
    """
    # deferred: numpy, ir_measures, matplotlib and the Assistant (chromadb,
    # models) load when an evaluation runs, not on every `lsn` start
    from .compare import compare_runs, format_comparison
    from .export import write_exports
    from .judge import get_judge
    from .report import write_reports
    from .runner import run_eval

    if fail_on_regression is not None and baseline is None:
        raise typer.BadParameter("needs --baseline", param_hint="--fail-on-regression")
    try:
        settings = get_settings()
        base = load_run(baseline) if baseline else None
        grader = None
        if answers and judge is not False:
            grader = get_judge(settings)
            if judge and grader is None:
                raise LSNError("--judge needs an LLM: set LSN_LLM_PROVIDER (README, 'LLM (optional)')")
        run = run_eval(testsets, k=k, answers=answers, judge=grader, progress=sys.stderr.isatty() or not as_json)
    except (LSNError, ValueError, OSError) as exc:
        _fail(exc)
    if base is not None:
        run["comparison"] = compare_runs(base, run)
    folder = out or new_run_dir(default_runs_dir(settings), run["manifest"]["name"])
    written = [save_run(run, folder), *write_reports(run, folder), *write_exports(run, folder)]
    if as_json:
        typer.echo(json.dumps(run, ensure_ascii=False, indent=2))
    else:
        typer.echo("\n".join(_summary_lines(run)))
        if base is not None:
            typer.echo("\n" + format_comparison(run["comparison"]))
        typer.echo(f"\nwrote {len(written)} files to {folder}: " + ", ".join(str(p.relative_to(folder)) for p in written))
    if base is not None:
        _gate(run["comparison"], fail_on_regression)


@app.command("compare")
def compare_cmd(
    a: Path = typer.Argument(..., help="Baseline run (run.json or its folder)"),
    b: Path = typer.Argument(..., help="Run to compare with it"),
    out: Optional[Path] = typer.Option(None, "--out", help="Also write compare.json, compare.md and compare.html here"),
    fail_on_regression: Optional[float] = typer.Option(
        None, "--fail-on-regression", min=0.0, help="Exit 3 when a measure of B drops by more than this"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as JSON"),
) -> None:
    """Compare two stored runs: paired deltas, CIs, p-values, changed questions.

    Example: lsn eval compare data/eval-runs/A data/eval-runs/B
    """
    # deferred: numpy and matplotlib load when a comparison runs
    from .compare import compare_runs, format_comparison
    from .report import write_comparison

    try:
        comparison = compare_runs(load_run(a), load_run(b))
    except LSNError as exc:
        _fail(exc)
    if out:
        write_comparison(comparison, out)
        (out / "compare.json").write_text(json.dumps(comparison, ensure_ascii=False, indent=1), encoding="utf-8")
    typer.echo(json.dumps(comparison, ensure_ascii=False, indent=2) if as_json else format_comparison(comparison))
    _gate(comparison, fail_on_regression)


@app.command("check")
def check_cmd(
    testsets: list[Path] = typer.Argument(..., help="Test sets (JSONL)"),
    corpus: Optional[Path] = typer.Option(None, "--corpus", help="Corpus folder (default: the configured one)"),
    strict: bool = typer.Option(False, "--strict", help="Every key fact must stand in the evidence quotes themselves"),
    stats: bool = typer.Option(False, "--stats", help="Also print type shares, stem overlap and duplicates over all files"),
) -> None:
    """Validate test sets against the corpus (exit 1 on problems).

    Checks fields, types and unique ids, that every quote is found in its
    document and every key fact in an evidence document (--strict: in an
    evidence quote). --stats prints the figures a set is written to: type and
    language shares, follow-ups, the median share of a monolingual question's
    content stems that also stand in its quotes, and duplicate questions.

    Example: lsn eval check eval/testsets/*/*.jsonl --strict --stats
    """
    corpus = corpus or get_settings().corpus_dir
    if not corpus.is_dir():
        _fail(f"no corpus folder {corpus}")
    bad = 0
    for path in testsets:
        problems = check_testset(path, corpus, strict=strict)
        for p in problems:
            typer.echo(p)
        typer.echo(f"{path}: {len(problems)} problem(s)")
        bad += len(problems)
    if stats and not bad:
        questions = [q for path in testsets for q in load_testset(path)]
        typer.echo(json.dumps(testset_stats(questions), ensure_ascii=False, indent=1))
    if bad:
        raise typer.Exit(1)


@app.command("draft")
def draft_cmd(
    doc: Path = typer.Option(..., "--doc", help="The document (a path, or a file name in the corpus folder)"),
    n: int = typer.Option(20, "-n", min=1, help="How many candidate questions"),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the JSONL here instead of printing it"),
    llm: bool = typer.Option(True, "--llm/--no-llm", help="Let the configured LLM word the questions"),
) -> None:
    """Draft candidate questions with gold quotes from a document's chunks.

    Prints test-set JSONL for a person to edit (then `lsn eval check` it).

    Example: lsn eval draft --doc lsn-masterplan-2009-de.txt -n 20 --out draft.jsonl
    """
    # deferred: the LLM client, the lexicon, BM25 and numpy load when a draft is made
    from lsn_assistant.llm import get_llm

    from .draft import draft_questions

    try:
        settings = get_settings()
        items = draft_questions(doc, n, settings, get_llm(settings) if llm else None)
    except (LSNError, ValueError) as exc:
        _fail(exc)
    text = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)
    if out:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {len(items)} candidate question(s) to {out}", err=True)
    else:
        typer.echo(text, nl=False)
