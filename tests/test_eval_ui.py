"""The Eval tab (ui/eval_tab.py): stored runs listed newest first, the two
newest compared on start, and the comparison callbacks."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from eval.runs import default_runs_dir, list_runs, save_run
from test_eval_compare import A, B
from ui.eval_tab import RUN_HEADERS, comparison_view, eval_tab, runs_rows


def store(tmp_path):
    runs_dir = default_runs_dir(SimpleNamespace(data_dir=tmp_path))
    older = dict(A, manifest=dict(A["manifest"], created="2025-01-01T10:00:00+00:00"))
    newer = dict(B, manifest=dict(B["manifest"], created="2025-01-02T10:00:00+00:00"))
    save_run(older, runs_dir / "run-a")
    save_run(newer, runs_dir / "run-b")
    (runs_dir / "broken").mkdir()
    (runs_dir / "broken" / "run.json").write_text("not json", encoding="utf-8")
    return runs_dir


def test_runs_listed_newest_first(tmp_path):
    runs = list_runs(store(tmp_path))
    assert [r.name for r in runs] == ["run-b", "run-a"]  # the unreadable one is left out
    rows = runs_rows(runs)
    assert len(rows[0]) == len(RUN_HEADERS)
    assert rows[0][:4] == ["run-b", "2025-01-02T10:00:00+00:00", "abc1234", "4"]
    assert rows[0][5:7] == ["0.500", "0.625"]  # hit@5 and MRR of B


def test_comparison_view(tmp_path):
    runs_dir = store(tmp_path)
    rows, changes = comparison_view(str(runs_dir / "run-a"), str(runs_dir / "run-b" / "run.json"))
    assert rows[1] == ["mrr", "0.500", "0.833", "+0.333", rows[1][4], "0.750", "3"]
    assert "#### Got worse (1)" in changes and "- q1 (fact, de): hit@5 1.000 → 0.000, mrr 1.000 → 0.500" in changes
    assert "#### Mixed (1)" in changes
    assert comparison_view(None, str(runs_dir / "run-b")) == ([], "Pick two runs to compare (`lsn eval` stores a run each time it evaluates).")
    rows, message = comparison_view(str(runs_dir / "broken"), str(runs_dir / "run-b"))
    assert rows == [] and message.startswith("Cannot compare: ") and "cannot read the run" in message


def test_tab_builds_in_a_blocks_context_and_starts_on_the_two_newest(tmp_path):
    store(tmp_path)
    with gr.Blocks() as demo:
        with gr.Tab("Eval"):
            eval_tab(SimpleNamespace(data_dir=tmp_path))
    components = list(demo.blocks.values())
    dropdowns = [c for c in components if isinstance(c, gr.Dropdown)]
    tables = [c for c in components if isinstance(c, gr.Dataframe)]
    assert [d.label for d in dropdowns] == ["A (baseline)", "B"]
    assert dropdowns[0].value.endswith("run-a/run.json") and dropdowns[1].value.endswith("run-b/run.json")
    assert len(tables) == 2
    assert tables[1].value["data"][1][:4] == ["mrr", "0.500", "0.833", "+0.333"]
    assert any(isinstance(c, gr.Button) and c.value == "Refresh" for c in components)


def test_tab_without_runs(tmp_path):
    with gr.Blocks() as demo:
        with gr.Tab("Eval"):
            eval_tab(SimpleNamespace(data_dir=tmp_path))
    markdown = [c.value for c in demo.blocks.values() if isinstance(c, gr.Markdown)]
    assert any("Pick two runs" in text for text in markdown)
