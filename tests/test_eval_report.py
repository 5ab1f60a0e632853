"""Run reports (eval.report) and their plots (eval.plots) from the scripted
run of test_eval_runner: what the Markdown and the self-contained HTML show."""

from __future__ import annotations

import re

import pytest

from eval.compare import compare_runs
from eval.plots import first_gold_counts, recall_at_k, render_plots
from eval.report import html_report, markdown_report, write_reports
from test_eval_runner import scripted_run

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return scripted_run(tmp_path_factory.mktemp("report"))


def test_recall_at_k_hand_computed(run):
    # ranked: q1 (first gold 2; passages [2]), q2 (1; [3, 1]), q4 (failed; [None]), q5 (empty; [None])
    hit, recall = recall_at_k(run["rows"], 4)
    assert hit == [0.25, 0.5, 0.5, 0.5]
    assert recall == pytest.approx([0.5 / 4, 1.5 / 4, 2 / 4, 2 / 4])
    assert first_gold_counts(run["rows"], 3) == {"1": 1, "2": 1, "3": 0, "none": 2}


def test_plots_are_pngs(run):
    plots = render_plots(run)
    assert set(plots) == {"recall_at_k.png", "by_type.png", "first_gold_rank.png"}
    assert all(png.startswith(PNG) and len(png) > 5000 for png in plots.values())


def test_markdown_report(run):
    md = markdown_report(run)
    assert md.startswith(f"# Evaluation run {run['manifest']['name']}")
    # summary: value, 95% CI, n_scored / n_total; failures stay in the denominator
    ci = run["measures"]["hit@1"]["ci"]
    assert f"| hit@1 | hit@1 | 0.250 | [{ci[0]:.3f}, {ci[1]:.3f}] | 3 / 4 |" in md
    assert "| abstain_answerable | abstained when answerable (lower is better) | 0.250 |" in md
    assert "| groundedness | statements supported | 0.800 | " in md and "| 4 / 5 |" in md
    # abstention and the retrieval x answer table
    assert "| unanswerable | 1 | 1 |" in md and "| answerable | 0 | 4 |" in md
    assert "| gold in top 5 | 1 | 1 | 0 | [q2](#q-q2) |" in md  # ids link to their drill-down
    assert "| no gold in top 5 | 1 | 0 | 1 | [q5](#q-q5) |" in md
    # plots as files beside the report; breakdowns
    assert "![Recall at k](plots/recall_at_k.png)" in md
    for title in ("## By question type", "## By language", "## By evidence document"):
        assert title in md
    assert re.search(r"\| multi-doc \| 1 \| 1\.000 \|", md)
    # errors (crashed steps) apart from failures (answers short of key facts, wrong abstention)
    errors = md[md.index("## Errors (2)"):]
    assert "- [q4](#q-q4): search failed: RuntimeError: index offline" in errors
    assert "- [q5](#q-q5): ask failed: RuntimeError: llm down" in errors
    failures = md[md.index("## Failures ("):md.index("## Errors")]
    assert "- [q2](#q-q2): “Members and seat?” — missing key facts: Lübeck" in failures
    assert "[q6](#q-q6): “Wer leitet das Netzwerk?” — answered although unanswerable" in failures
    assert "q1" not in failures and "q3" not in failures
    assert '### q1 <a id="q-q1"></a>' in md
    assert "## LLM judge" not in md and "## Comparison" not in md


def test_markdown_drill_down(run):
    md = markdown_report(run)
    q1 = md[md.index("### q1"):md.index("### q2")]
    assert "*fact · de · scripted · hit@5 ✓ · facts 2/2 (all)*" in q1
    assert "**Key facts:** ✓ 2019, ✓ 33" in q1
    assert "(first at rank 2)" in q1
    assert "| 2 | a.txt | 0.5000 | ✓ | ✓ | Rückblick. Im Jahr 2019 gab es 33 Veranstaltungen. |" in q1
    assert "| 3 | a.txt | 0.5000 | ✗ (duplicate) | ✓ |" in q1
    assert "[1] a.txt (rank 2; gold ✓)" in q1
    q2 = md[md.index("### q2"):md.index("### q3")]
    assert "✓ Kiel, ✗ Lübeck" in q2 and "gold ✗" in q2 and "(first at rank 3)" in q2 and "(first at rank 1)" in q2
    q5 = md[md.index("### q5"):md.index("### q6")]
    assert "ask failed" in q5 and "not in the top 0" in q5


def test_html_report_is_self_contained_and_escaped(run):
    plots = render_plots(run)
    page = html_report(run, plots)
    assert page.startswith("<!DOCTYPE html>")
    assert page.count('src="data:image/png;base64,') == 3
    assert not re.search(r'(src|href)="(?!data:|#)', page)  # nothing fetched from elsewhere
    assert "<link" not in page and "<script src" not in page
    assert "Who is the &lt;b&gt;chair&lt;/b&gt;?" in page and "<b>chair</b>" not in page
    assert page.count('<details class="q"') == 6 and 'id="q-q1"' in page
    assert '<a href="#q-q2">q2</a>' in page  # table cells and lists link to the drill-down
    assert '<tr class="gold">' in page
    assert 'title="hit@1: 95% CI' in page  # intervals of the breakdown cells as tooltips


def test_reports_with_a_comparison_and_files(run, tmp_path):
    with_cmp = dict(run, comparison=compare_runs(run, run))
    md = markdown_report(with_cmp)
    assert "## Comparison with the baseline" in md and "### Got worse (0)" in md
    written = write_reports(with_cmp, tmp_path)
    names = sorted(str(p.relative_to(tmp_path)) for p in written)
    assert names == ["plots/by_type.png", "plots/first_gold_rank.png", "plots/recall_at_k.png", "report.html", "report.md"]
    assert (tmp_path / "plots" / "by_type.png").read_bytes().startswith(PNG)
    assert "Comparison with the baseline" in (tmp_path / "report.html").read_text(encoding="utf-8")
