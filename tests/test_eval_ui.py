"""The Eval tab (ui/eval_tab.py): stored runs listed newest first, the two
newest compared on start, and the comparison callbacks."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import gradio as gr

from eval.runs import default_runs_dir, list_runs, save_run
from test_eval_compare import A, B
from ui.eval_tab import (
    RUN_COLUMN_WIDTHS,
    RUN_HEADERS,
    comparison_view,
    delta_headers,
    eval_tab,
    open_run,
    run_choices,
    run_headers,
    runs_rows,
)
from ui.i18n import I18N


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
    assert rows[0][:4] == ["run-b", "2025-01-02 10:00", "abc1234", "4"]
    assert rows[0][5:7] == ["0.500", "0.625"]  # hit@5 and MRR of B
    assert run_headers("en") == list(RUN_HEADERS)
    assert run_headers("de")[:5] == ["Lauf", "erstellt (UTC)", "Commit", "Fragen", "Testsets"] and run_headers("de")[5] == "hit@5"
    assert [label for label, _ in run_choices(runs, "de")] == ["run-b (4 Fragen)", "run-a (4 Fragen)"]
    assert run_choices(runs)[0] == ("run-b (4 questions)", str(runs[0].path))
    with_sets = dataclasses.replace(runs[0], testsets=("eval/testsets/fakten.jsonl", "x/b.jsonl"), n_questions=1)
    assert run_choices([with_sets], "de")[0][0] == "run-b (1 Frage: fakten, b)"
    split_sets = ("eval/testsets/train/a.jsonl", "eval/testsets/train/b.jsonl", "eval/testsets/check/a.jsonl")
    assert runs_rows([dataclasses.replace(runs[0], testsets=split_sets)])[0][4] == "train (2 files), check"


def test_a_run_folder_opened_by_path(tmp_path):
    """A run written with --out elsewhere is opened by its path; anything else is refused with a message."""
    store(tmp_path)
    elsewhere = tmp_path / "elsewhere" / "my-run"
    save_run(dict(A, manifest=dict(A["manifest"], created="2025-01-03T10:00:00+00:00")), elsewhere)
    opened, message, picked = open_run(str(elsewhere), [])
    assert opened == [str(elsewhere / "run.json")] and picked == str(elsewhere / "run.json")
    assert message == "Opened my-run: it is in the table and the pickers."
    runs = list_runs(default_runs_dir(SimpleNamespace(data_dir=tmp_path)), opened)
    assert [r.name for r in runs] == ["my-run", "run-b", "run-a"]
    assert open_run(str(elsewhere / "run.json"), opened)[0] == opened  # not listed twice
    for bad in (str(tmp_path / "nowhere"), str(tmp_path / "elsewhere")):
        kept, message, picked = open_run(bad, opened, "de")
        assert kept == opened and picked is None and message.startswith(f"{bad} kann nicht geöffnet werden: ")
    assert open_run("  ", opened) == (opened, "", None)


def test_comparison_view(tmp_path):
    runs_dir = store(tmp_path)
    rows, changes = comparison_view(str(runs_dir / "run-a"), str(runs_dir / "run-b" / "run.json"))
    assert rows[1] == ["mrr", "0.500", "0.833", "+0.333", rows[1][4], "0.750", "3"]
    assert "#### Got worse (1)" in changes and "- q1 (fact, de): “question q1?” — hit@5 1.000 → 0.000, mrr 1.000 → 0.500" in changes
    assert "#### Mixed (1)" in changes
    assert changes.startswith("**A** A → **B** B: 3 questions in both.") and "Only in A: qa" in changes and "Only in B: qb" in changes
    rows_de, changes_de = comparison_view(str(runs_dir / "run-a"), str(runs_dir / "run-b"), "de")
    assert rows_de == rows and "3 Fragen in beiden." in changes_de and "Nur in A: qa" in changes_de
    assert "#### Schlechter geworden (1)" in changes_de and "#### Besser geworden (1)" in changes_de and "#### Gemischt (1)" in changes_de
    assert delta_headers("de") == ["Maß", "A", "B", "Differenz", "95-%-KI", "p", "n"]
    assert comparison_view("", None, "de")[1].startswith("Zwei Läufe zum Vergleich wählen")
    assert comparison_view(None, str(runs_dir / "run-b")) == ([], "Pick two runs to compare (`lsn eval` stores a run each time it evaluates).")
    rows, message = comparison_view(str(runs_dir / "broken"), str(runs_dir / "run-b"))
    assert rows == [] and message.startswith("Cannot compare: ") and "cannot read the run" in message
    assert comparison_view(str(runs_dir / "broken"), str(runs_dir / "run-b"), "de")[1].startswith("Vergleich nicht möglich: ")


def test_tab_builds_in_a_blocks_context_and_starts_on_the_two_newest(tmp_path):
    store(tmp_path)
    with gr.Blocks() as demo:
        with gr.Tab("Eval"):
            eval_tab(SimpleNamespace(data_dir=tmp_path))
    components = list(demo.blocks.values())
    dropdowns = [c for c in components if isinstance(c, gr.Dropdown)]
    tables = [c for c in components if isinstance(c, gr.Dataframe)]
    assert [d.label.key for d in dropdowns] == ["eval_a", "eval_b"]
    assert dropdowns[0].value.endswith("run-a/run.json") and dropdowns[1].value.endswith("run-b/run.json")
    assert len(tables) == 3  # runs, deltas, disliked answers
    assert tables[1].value["data"][1][:4] == ["mrr", "0.500", "0.833", "+0.333"]
    assert any(isinstance(c, gr.Button) and c.value == str(I18N("refresh")) for c in components)
    assert len(demo.get_config_file()["dependencies"]) == 4  # page load, refresh, open by path, the pickers
    assert tables[0].column_widths == list(RUN_COLUMN_WIDTHS)


def test_tab_without_runs(tmp_path):
    with gr.Blocks() as demo:
        with gr.Tab("Eval"):
            eval_tab(SimpleNamespace(data_dir=tmp_path))
    markdown = [c.value for c in demo.blocks.values() if isinstance(c, gr.Markdown)]
    assert any("Pick two runs" in text for text in markdown)


def test_feedback_counts_and_disliked_answers_newest_first(tmp_path):
    from lsn_assistant.feedback import FeedbackStore, feedback_path
    from ui.eval_tab import feedback_view

    assert feedback_view(tmp_path)[0].startswith("No ratings yet")
    store = FeedbackStore(feedback_path(tmp_path))
    for n, rating in enumerate(("down", "up", "down")):
        store.remember(f"a{n}", {"question": f"Frage {n}?", "language": "de", "answer": f"Antwort {n}."}, None, "i")
        store.add(f"a{n}", rating, f"Kommentar {n}")
    store.close()
    line, rows = feedback_view(tmp_path, "de")
    assert line.startswith("Bisher 1 👍 und 2 👎.")
    assert [r[1:] for r in rows] == [["Frage 2?", "Antwort 2.", "Kommentar 2"], ["Frage 0?", "Antwort 0.", "Kommentar 0"]]
