"""The Eval tab: the stored evaluation runs, and a comparison of two.

``eval_tab(settings)`` builds its components inside the current Gradio
Blocks/Tab context: a table of the runs in ``<data_dir>/eval-runs`` (where
``lsn eval`` stores them), two pickers (A, the baseline, and B), the paired
comparison of the two (``eval.compare``: means, delta, 95% CI, p) and the
questions that got worse, better or mixed. Nothing is evaluated here; ``lsn
eval`` makes the runs. Each page load reads the runs folder again and starts
on the two newest runs.

Its words are in ``ui/i18n.py``: the labels as ``gr.I18n`` keys, the tables'
headers and the comparison in the language of the request; the measures keep
their names (hit@5, mrr, …), as in the reports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from eval.compare import DELTA_HEADERS, compare_runs, delta_rows
from eval.report import change_text
from eval.report import settings_lines
from eval.runs import RunError, StoredRun, default_runs_dir, list_runs, load_run, stored_run, testsets_label

from lsn_assistant.errors import LSNError
from lsn_assistant.feedback import FeedbackStore, feedback_path

from .i18n import DEFAULT, I18N, request_language, text

RUN_HEADERS: tuple[str, ...] = ("run", "created (UTC)", "commit", "questions", "test sets", "hit@5", "mrr", "answer_fact_recall", "cited_gold")
MEASURE_COLUMNS = 5  # RUN_HEADERS[5:] are measures, named as in the reports
# Fits a 1400-px window without scrolling sideways: the run's name and the
# test sets get the room, the numbers little.
RUN_COLUMN_WIDTHS: tuple[str, ...] = ("20%", "12%", "7%", "7%", "19%", "7%", "7%", "12%", "9%")
PRIVATE = "private"  # the UI's events are not an API


def run_headers(lang: str = DEFAULT) -> list[str]:
    words = [text(lang, f"eval_col_{key}") for key in ("run", "created", "commit", "questions", "testsets")]
    return [*words, *RUN_HEADERS[MEASURE_COLUMNS:]]


def delta_headers(lang: str = DEFAULT) -> list[str]:
    """DELTA_HEADERS (measure, A, B, delta, 95% CI, p, n) in ``lang``."""
    words = {"measure": "eval_col_measure", "delta": "eval_col_delta", "95% CI": "eval_col_ci"}
    return [text(lang, words[h]) if h in words else h for h in DELTA_HEADERS]


def runs_rows(runs: list[StoredRun]) -> list[list[str]]:
    def num(v: Any) -> str:
        return "-" if v is None else f"{v:.3f}"

    return [
        [
            r.name,
            r.created.replace("T", " ")[:16],
            (r.commit or "-")[:7] + ("+" if r.dirty else ""),
            str(r.n_questions),
            testsets_label(r.testsets),
            *[num(r.summary.get(k)) for k in RUN_HEADERS[MEASURE_COLUMNS:]],
        ]
        for r in runs
    ]


def run_choices(runs: list[StoredRun], lang: str = DEFAULT) -> list[tuple[str, str]]:
    """(label, path) per run; the label names the run, its questions and test sets."""

    def label(r: StoredRun) -> str:
        sets = testsets_label(r.testsets)
        return f"{r.name} ({text(lang, 'eval_questions', n=r.n_questions)}{': ' + sets if sets else ''})"

    return [(label(r), str(r.path)) for r in runs]


def changes_markdown(comparison: dict, lang: str = DEFAULT) -> str:
    a, b = comparison["a"]["name"], comparison["b"]["name"]
    parts = [f"**A** {a} → **B** {b}: {text(lang, 'eval_in_both', n=comparison['n_common'])}"]
    if comparison["a"]["settings_hash"] != comparison["b"]["settings_hash"]:
        lines = settings_lines(comparison) or [text(lang, "eval_settings_unknown")]
        parts.append(f"#### {text(lang, 'eval_settings_differ')}")
        parts.append("\n".join(f"- `{line}`" for line in lines))
    for verdict in ("worse", "better", "mixed"):
        changed = comparison[verdict]
        parts.append(f"#### {text(lang, f'eval_{verdict}')} ({len(changed)})")
        parts.append("\n".join(f"- {change_text(c)}" for c in changed) or text(lang, "eval_none"))
    for side in ("only_a", "only_b"):
        if comparison[side]:
            parts.append(f"{text(lang, f'eval_{side}')}: {', '.join(comparison[side])}")
    return "\n\n".join(parts)


def comparison_view(a: str | None, b: str | None, lang: str = DEFAULT) -> tuple[list[list[str]], str]:
    """The delta table rows and the changed-questions Markdown for runs ``a``
    (baseline) and ``b`` (paths), or a hint when fewer than two are picked."""
    if not a or not b:
        return [], text(lang, "eval_pick_two")
    try:
        comparison = compare_runs(load_run(a), load_run(b))
    except RunError as e:
        return [], text(lang, "eval_cannot_compare", error=e)
    return delta_rows(comparison), changes_markdown(comparison, lang)


def newest_two(choices: list[tuple[str, str]]) -> tuple[str | None, str | None]:
    """(A, B): the second newest and the newest run."""
    newest = choices[0][1] if choices else None
    previous = choices[1][1] if len(choices) > 1 else None
    return previous, newest


FEEDBACK_SHOWN = 50  # disliked answers listed in the tab
FEEDBACK_COLUMN_WIDTHS: tuple[str, ...] = ("13%", "27%", "38%", "22%")


def feedback_headers(lang: str = DEFAULT) -> list[str]:
    return [text(lang, f"eval_col_{key}") for key in ("when", "question", "answer", "comment")]


def feedback_view(data_dir: Any, lang: str = DEFAULT) -> tuple[str, list[list[str]]]:
    """Counts by rating and the disliked answers, newest first (a line and rows)."""
    path = feedback_path(data_dir)
    if not path.exists():
        return text(lang, "eval_feedback_none"), []
    try:
        store = FeedbackStore(path)
        try:
            counts, down = store.counts(), store.list(rating="down", limit=FEEDBACK_SHOWN)
        finally:
            store.close()
    except (LSNError, OSError) as e:
        return str(e), []
    if not counts["up"] and not counts["down"]:
        return text(lang, "eval_feedback_none"), []

    def short(s: str, n: int = 300) -> str:
        s = " ".join(s.split())
        return s if len(s) <= n else s[:n] + " …"

    rows = [[i["created"].replace("T", " ")[:16], short(i["question"]), short(i["answer"]), short(i["comment"])] for i in down]
    return text(lang, "eval_feedback_counts", up=counts["up"], down=counts["down"]), rows


def open_run(path: str, opened: list[str], lang: str = DEFAULT) -> tuple[list[str], str, str | None]:
    """Add a run folder given by path to the ones this page shows: the new
    list, a message, and the run's path (None when it is no run). Only a
    folder holding an `lsn eval` run is taken."""
    path = (path or "").strip()
    if not path:
        return opened, "", None
    try:
        run = stored_run(Path(path).expanduser())
    except RunError as e:
        return opened, text(lang, "eval_cannot_open", path=path, error=str(e).split(": ", 1)[-1]), None
    kept = opened if str(run.path) in opened else [*opened, str(run.path)]
    return kept, text(lang, "eval_opened", name=run.name), str(run.path)


def eval_tab(settings: Any) -> None:
    """Build the tab's components in the current Blocks/Tab context."""
    runs_dir = default_runs_dir(settings)
    runs = list_runs(runs_dir)
    choices = run_choices(runs)
    previous, newest = newest_two(choices)
    rows, changes = comparison_view(previous, newest)

    gr.Markdown(I18N("eval_intro") + f" `{runs_dir}`.")
    opened = gr.State([])  # run folders this page opened by path
    with gr.Row():
        path_box = gr.Textbox(label=I18N("eval_open_path"), placeholder=I18N("eval_open_placeholder"), scale=4, elem_id="lsn-eval-path")
        open_button = gr.Button(I18N("eval_open"), scale=0, elem_id="lsn-eval-open")
    open_status = gr.Markdown("", elem_id="lsn-eval-open-status")
    table = gr.Dataframe(
        value=runs_rows(runs), headers=run_headers(), interactive=False, wrap=True, label=I18N("eval_runs"),
        column_widths=list(RUN_COLUMN_WIDTHS), elem_id="lsn-eval-runs",
    )
    with gr.Row():
        pick_a = gr.Dropdown(choices=choices, value=previous, label=I18N("eval_a"), elem_id="lsn-eval-a")
        pick_b = gr.Dropdown(choices=choices, value=newest, label=I18N("eval_b"), elem_id="lsn-eval-b")
        refresh = gr.Button(I18N("refresh"), scale=0, elem_id="lsn-eval-refresh")
    deltas = gr.Dataframe(value=rows, headers=delta_headers(), interactive=False, label=I18N("eval_deltas"), elem_id="lsn-eval-deltas")
    changed = gr.Markdown(changes, elem_id="lsn-eval-changes")
    with gr.Accordion(I18N("eval_feedback"), open=True):
        counts_line, disliked_rows = feedback_view(settings.data_dir)
        feedback_line = gr.Markdown(counts_line, elem_id="lsn-eval-feedback-counts")
        disliked = gr.Dataframe(
            value=disliked_rows, headers=feedback_headers(), interactive=False, wrap=True,
            column_widths=list(FEEDBACK_COLUMN_WIDTHS), elem_id="lsn-eval-feedback",
        )

    def compared(a: str | None, b: str | None, lang: str) -> tuple[dict, str]:
        rows, markdown = comparison_view(a, b, lang)
        return {"headers": delta_headers(lang), "data": rows}, markdown

    def feedback_now(lang: str) -> tuple:
        line, down = feedback_view(settings.data_dir, lang)
        return line, {"headers": feedback_headers(lang), "data": down}

    def on_load(request: gr.Request) -> tuple:
        """Runs as stored now, the two newest compared, the feedback, in the request's language."""
        lang = request_language(request)
        fresh = list_runs(runs_dir)
        options = run_choices(fresh, lang)
        a, b = newest_two(options)
        return (
            {"headers": run_headers(lang), "data": runs_rows(fresh)},
            gr.update(choices=options, value=a),
            gr.update(choices=options, value=b),
            *compared(a, b, lang),
            *feedback_now(lang),
        )

    def on_refresh(extra: list[str], request: gr.Request) -> tuple:
        """The runs as stored now (and those opened by path), the feedback; the picks stay."""
        lang = request_language(request)
        fresh = list_runs(runs_dir, extra)
        options = run_choices(fresh, lang)
        return (
            {"headers": run_headers(lang), "data": runs_rows(fresh)}, gr.update(choices=options), gr.update(choices=options),
            *feedback_now(lang),
        )

    def on_open(path: str, extra: list[str], request: gr.Request) -> tuple:
        """Open a run folder by path: into the table and the pickers, as B."""
        lang = request_language(request)
        extra, message, picked = open_run(path, extra, lang)
        fresh = list_runs(runs_dir, extra)
        options = run_choices(fresh, lang)
        return (
            extra,
            message,
            {"headers": run_headers(lang), "data": runs_rows(fresh)},
            gr.update(choices=options),
            gr.update(choices=options, value=picked) if picked else gr.update(choices=options),
        )

    def on_pick(a: str | None, b: str | None, request: gr.Request) -> tuple:
        return compared(a, b, request_language(request))

    gr.on(None, on_load, outputs=[table, pick_a, pick_b, deltas, changed, feedback_line, disliked], api_visibility=PRIVATE)  # on page load
    refresh.click(on_refresh, inputs=[opened], outputs=[table, pick_a, pick_b, feedback_line, disliked], api_visibility=PRIVATE)
    gr.on(
        [open_button.click, path_box.submit], on_open, inputs=[path_box, opened],
        outputs=[opened, open_status, table, pick_a, pick_b], api_visibility=PRIVATE,
    )
    gr.on([pick_a.input, pick_b.input], on_pick, inputs=[pick_a, pick_b], outputs=[deltas, changed], api_visibility=PRIVATE)
