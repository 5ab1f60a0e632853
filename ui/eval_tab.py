"""The Eval tab: the stored evaluation runs, and a comparison of two.

``eval_tab(settings)`` builds its components inside the current Gradio
Blocks/Tab context: a table of the runs in ``<data_dir>/eval-runs`` (where
``lsn eval`` stores them), two pickers (A, the baseline, and B), the paired
comparison of the two (``eval.compare``: means, delta, 95% CI, p) and the
questions that got worse, better or mixed. Nothing is evaluated here; ``lsn
eval`` makes the runs. It starts on the two newest runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from eval.compare import DELTA_HEADERS, compare_runs, delta_rows
from eval.report import change_text
from eval.runs import RunError, StoredRun, default_runs_dir, list_runs, load_run

RUN_HEADERS: tuple[str, ...] = ("run", "created", "commit", "questions", "test sets", "hit@5", "mrr", "answer_fact_recall", "cited_gold")


def runs_rows(runs: list[StoredRun]) -> list[list[str]]:
    def num(v: Any) -> str:
        return "-" if v is None else f"{v:.3f}"

    return [
        [
            r.name,
            r.created,
            (r.commit or "-")[:7] + ("+" if r.dirty else ""),
            str(r.n_questions),
            ", ".join(Path(t).name for t in r.testsets),
            *[num(r.summary.get(k)) for k in RUN_HEADERS[5:]],
        ]
        for r in runs
    ]


def run_choices(runs: list[StoredRun]) -> list[tuple[str, str]]:
    return [(r.label, str(r.path)) for r in runs]


def changes_markdown(comparison: dict) -> str:
    parts = [f"**A** {comparison['a']['name']} → **B** {comparison['b']['name']}: {comparison['n_common']} questions in both."]
    for verdict, title in (("worse", "Got worse"), ("better", "Got better"), ("mixed", "Mixed")):
        changed = comparison[verdict]
        parts.append(f"#### {title} ({len(changed)})")
        parts.append("\n".join(f"- {change_text(c)}" for c in changed) or "none")
    return "\n\n".join(parts)


def comparison_view(a: str | None, b: str | None) -> tuple[list[list[str]], str]:
    """The delta table rows and the changed-questions Markdown for runs ``a``
    (baseline) and ``b`` (paths), or a hint when fewer than two are picked."""
    if not a or not b:
        return [], "Pick two runs to compare (`lsn eval` stores a run each time it evaluates)."
    try:
        comparison = compare_runs(load_run(a), load_run(b))
    except RunError as e:
        return [], f"Cannot compare: {e}"
    return delta_rows(comparison), changes_markdown(comparison)


def eval_tab(settings: Any) -> None:
    """Build the tab's components in the current Blocks/Tab context."""
    runs_dir = default_runs_dir(settings)
    runs = list_runs(runs_dir)
    choices = run_choices(runs)
    newest = choices[0][1] if choices else None
    previous = choices[1][1] if len(choices) > 1 else None
    rows, changes = comparison_view(previous, newest)

    gr.Markdown(f"Runs stored by `lsn eval` in `{runs_dir}`.")
    table = gr.Dataframe(value=runs_rows(runs), headers=list(RUN_HEADERS), interactive=False, wrap=True, label="Stored runs")
    with gr.Row():
        pick_a = gr.Dropdown(choices=choices, value=previous, label="A (baseline)")
        pick_b = gr.Dropdown(choices=choices, value=newest, label="B")
        refresh = gr.Button("Refresh", scale=0)
    deltas = gr.Dataframe(value=rows, headers=list(DELTA_HEADERS), interactive=False, label="B − A per measure")
    changed = gr.Markdown(changes)

    def reload() -> tuple[Any, Any, Any]:
        fresh = list_runs(runs_dir)
        options = run_choices(fresh)
        return runs_rows(fresh), gr.Dropdown(choices=options), gr.Dropdown(choices=options)

    refresh.click(reload, outputs=[table, pick_a, pick_b])
    gr.on([pick_a.change, pick_b.change], comparison_view, inputs=[pick_a, pick_b], outputs=[deltas, changed])
