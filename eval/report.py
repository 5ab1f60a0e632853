"""Run and comparison reports: Markdown (plots as PNG files beside it) and one
self-contained HTML file (plots embedded as base64 PNG, no external resources).

A run report holds: what was evaluated (manifest); the summary with 95%
bootstrap intervals and n_scored / n_total per measure, the LLM judge's
measures in a table of their own; latency; the abstention table; the
retrieval x answer table (which questions failed at retrieval, which at
answering); the plots; breakdowns by type, language and document; the
comparison with a baseline when there is one; failures; and a drill-down per
question (question, reference, answer, key facts found or not, ranked chunks
with gold and cited flags, citations, judge verdicts).

Both formats render the same blocks: a heading, a paragraph, a table, a list,
an image; only the drill-down is written per format.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .compare import DELTA_HEADERS, delta_rows
from .metrics import doc_key
from .plots import render_plots
from .summary import GAP_LIMIT, GAP_MEASURES, MEASURES, answer_grade

SNIPPET = 240
PLOT_TITLES: dict[str, str] = {
    "recall_at_k.png": "Recall at k",
    "by_type.png": "Measures by question type (95% CI)",
    "first_gold_rank.png": "Rank of the first gold chunk",
}
BREAKDOWN_TITLES: dict[str, str] = {"type": "By question type", "lang": "By language", "doc": "By evidence document"}


# ---------------------------------------------------------------- blocks


@dataclass
class Table:
    headers: Sequence[str]
    rows: list[Sequence[str]]
    # per cell, an optional tooltip (HTML only): same shape as rows
    tips: list[Sequence[str]] = field(default_factory=list)
    # columns whose cells are comma-separated question ids, linked to their drill-down
    id_cols: Sequence[int] = ()


@dataclass
class Block:
    # "h2" | "h3" | "p" | "table" | "list" | "img" | "links" (a list of
    # (question id, text) items, the id linked to its drill-down)
    kind: str
    content: Any


def anchor(qid: str) -> str:
    """The drill-down's anchor of a question: the same in both formats (the
    Markdown heading ``### id`` gets it from renderers that slug headings, and
    an explicit one)."""
    return "q-" + "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in qid.lower())


def _num(v: float | None, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def _ci(ci: Sequence[float] | None) -> str:
    return "-" if not ci else f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def _summary_table(run: dict, kinds: Sequence[str]) -> Table:
    rows = []
    for m in MEASURES:
        agg = run["measures"].get(m.key)
        if agg is None or m.kind not in kinds:
            continue
        direction = "" if m.higher_is_better else " (lower is better)"
        rows.append([m.key, m.label + direction, _num(agg["value"]), _ci(agg["ci"]), f"{agg['n_scored']} / {agg['n_total']}"])
    return Table(("measure", "meaning", "value", "95% CI", "n scored / total"), rows)


def _breakdown_table(run: dict, name: str) -> Table:
    keys = [m.key for m in MEASURES if m.key in run["measures"]]
    rows, tips = [], []
    for group, agg in run["breakdowns"][name].items():
        cells = [group, str(agg["n"])]
        tip = ["", ""]
        for key in keys:
            a = agg["measures"][key]
            cells.append(_num(a["value"]))
            tip.append(f"{key}: 95% CI {_ci(a['ci'])}, n {a['n_scored']} / {a['n_total']}")
        rows.append(cells)
        tips.append(tip)
    return Table((name, "n", *keys), rows, tips)


def _confusion_table(run: dict) -> Table:
    c = run["confusion"]
    return Table(
        ("", "abstained", "answered"),
        [[kind, str(c[kind]["abstained"]), str(c[kind]["answered"])] for kind in ("unanswerable", "answerable")],
    )


def _hit_answer_table(table: dict) -> Table:
    grades = ("all", "some", "none")
    rows = []
    for side, label in (("hit", "gold in top 5"), ("miss", "no gold in top 5")):
        short = table[side]["some"] + table[side]["none"]
        rows.append([label, *[str(len(table[side][g])) for g in grades], ", ".join(short) or "-"])
    return Table(("retrieval \\ answer key facts", "all", "some", "none", "questions not fully answered"), rows, id_cols=(4,))


def _run_facts(run: dict) -> list[str]:
    m = run["manifest"]
    git = m["git"]
    commit = (git["commit"] or "unknown")[:12] + (" (uncommitted changes)" if git.get("dirty") else "")
    sets = "; ".join(f"{t['path']} ({t['questions']} questions, sha256 {t['sha256'][:12]})" for t in m["testsets"])
    judge = m.get("judge")
    facts = [
        f"created {m['created']}, {m['seconds']:.0f} s",
        f"commit {commit}",
        f"test sets: {sets}",
        f"index {m['index']['fingerprint']} ({m['index']['chunks']} chunks of {m['index']['docs']} documents); "
        f"corpus {m['corpus']['fingerprint']} ({m['corpus']['files']} files in {m['corpus']['dir']})",
        f"settings hash {m['settings']['hash']}; k = {m['options']['k']}; "
        f"bootstrap {m['bootstrap']['resamples']} resamples, seed {m['bootstrap']['seed']}",
        "packages: " + ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v),
    ]
    if judge:
        facts.append(f"LLM judge: {judge['provider']} model {judge['model']!r} (prompts in run.json)")
    return facts


def _latency(run: dict) -> str:
    lat = run.get("latency") or {}
    parts = [f"search p50 {_num(lat.get('search_ms_p50'), 0)} ms, p95 {_num(lat.get('search_ms_p95'), 0)} ms"]
    if lat.get("ask_ms_p50") is not None:
        parts.append(f"ask p50 {_num(lat['ask_ms_p50'], 0)} ms, p95 {_num(lat['ask_ms_p95'], 0)} ms")
    return "Latency: " + "; ".join(parts) + "."


def change_text(change: dict) -> str:
    """One changed question: its id, type, language, its text and the measures that moved."""
    moved = ", ".join(f"{k} {_num(a)} → {_num(b)}" for k, (a, b) in change["changes"].items())
    question = change.get("question") or ""
    return f"{change['id']} ({change['type']}, {change['lang']}): “{_snippet(question, 140)}” — {moved}"


def settings_lines(comparison: dict) -> list[str]:
    """The settings and parameters that differ between the two runs, one line each."""
    diff = comparison.get("settings_diff") or []
    return [f"{d['key']}: {d['a']!r} → {d['b']!r}" for d in diff]


def comparison_blocks(comparison: dict, level: str = "h2") -> list[Block]:
    a, b = comparison["a"], comparison["b"]
    sub = "h3" if level == "h2" else "h2"
    blocks = [
        Block(level, "Comparison with the baseline"),
        Block("p", f"A (baseline): {a['name']} (commit {(a['commit'] or 'unknown')[:12]}, settings {a['settings_hash']}, index {a['index']}); "
                   f"B: {b['name']} (commit {(b['commit'] or 'unknown')[:12]}, settings {b['settings_hash']}, index {b['index']}). "
                   f"{comparison['n_common']} questions in both. Delta = B − A over the questions both scored; "
                   "95% CI by paired bootstrap, p by a paired sign-flip permutation test."),
        Block("table", Table(DELTA_HEADERS, delta_rows(comparison))),
    ]
    if a["settings_hash"] != b["settings_hash"]:
        blocks.append(Block(sub, "Settings that differ"))
        blocks.append(Block("list", settings_lines(comparison) or ["the hashes differ, but no recorded setting does (an older run)"]))
    if comparison.get("splits"):
        blocks.append(Block(sub, "By split"))
        blocks.append(Block("table", _split_delta_table(comparison["splits"])))
    for verdict, title in (("worse", "Got worse"), ("better", "Got better"), ("mixed", "Mixed")):
        changed = comparison[verdict]
        blocks.append(Block(sub, f"{title} ({len(changed)})"))
        blocks.append(Block("list", [change_text(c) for c in changed] or ["none"]))
    for side, label in (("only_a", "Only in A"), ("only_b", "Only in B")):
        if comparison[side]:
            blocks.append(Block("p", f"{label}: {', '.join(comparison[side])}"))
    return blocks


def _split_table(splits: dict) -> Table:
    rows = [["questions", str(splits["n"]["train"]), str(splits["n"]["check"]), "", ""]]
    for m in MEASURES:
        if m.key not in splits["gap"]:
            continue
        gap = splits["gap"][m.key]
        flag = f"gap above {GAP_LIMIT:g}" if m.key in GAP_MEASURES and gap is not None and gap > GAP_LIMIT else ""
        rows.append([m.key, _num(splits["train"][m.key]), _num(splits["check"][m.key]),
                     "-" if gap is None else f"{gap:+.3f}", flag])
    length = splits.get("answer_length") or {}
    if length:
        rows.append(["words per answer (median)", _num(length["train"]["words_p50"], 0), _num(length["check"]["words_p50"], 0), "", ""])
    return Table(("measure", "train", "check", "gap (train − check)", "flag"), rows)


def _split_delta_table(splits: dict) -> Table:
    rows = []
    for key, per in splits.items():
        rows.append([key, *[_num(per[s]["delta"]) if per.get(s) else "-" for s in ("train", "check")]])
    return Table(("measure", "delta on train", "delta on check"), rows)


def failures(run: dict) -> list[tuple[str, str]]:
    """The questions not answered as they should be, as (id, why): key facts
    missing from the answer, an answerable question abstained, an unanswerable
    one answered. Crashed steps are errors, listed apart."""
    out = []
    for r in run["rows"]:
        a, m = r.get("answer"), r["measures"]
        if a is None:
            continue
        why = []
        if r["answerable"] and a["abstained"]:
            why.append("abstained although answerable")
        elif not r["answerable"] and not a["abstained"]:
            why.append("answered although unanswerable")
        recall = m.get("answer_fact_recall")
        if r["answerable"] and recall is not None and recall < 1.0 and not a["abstained"]:
            missing = [f["fact"] for f in a["facts"] if not f["found"]]
            why.append("missing key facts: " + ", ".join(missing))
        if why:
            out.append((r["id"], f"“{_snippet(r['question'], 120)}” — " + "; ".join(why)))
    return out


def run_blocks(run: dict) -> list[Block]:
    """Everything above the drill-down."""
    kinds = ("retrieval", "answer")
    blocks = [
        Block("h2", "Run"),
        Block("list", _run_facts(run)),
        Block("h2", "Summary"),
        Block("p", "Means over n_total questions with 95% bootstrap intervals. A failed search or ask scores "
                   "the worst value and stays in the denominator; n_scored counts the questions that did not fail."),
        Block("table", _summary_table(run, kinds)),
    ]
    length = run.get("answer_length") or {}
    if length.get("n"):
        blocks.append(Block("p", f"Words per answer (answers given, abstentions left out): median {_num(length['words_p50'], 0)}, "
                                 f"mean {_num(length['words_mean'], 1)}, over {length['n']} answers."))
    splits = run.get("splits")
    if splits:
        blocks += [
            Block("h2", "Generalisation: train and check"),
            Block("p", "Each measure on the train split (tuned on) and the check split (held back, scored only as a "
                       "whole), and the gap train − check. A gap above 0.05 on answer key-fact recall or hit@5 "
                       "is flagged: what was tuned on train did not carry over."),
            Block("table", _split_table(splits)),
        ]
        if splits.get("flagged"):
            blocks.append(Block("p", "Flagged: " + ", ".join(splits["flagged"]) + " (gap above 0.05)."))
    judge = run["manifest"].get("judge")
    if judge:
        blocks += [
            Block("h2", "LLM judge"),
            Block("p", f"Graded by {judge['provider']} model {judge['model']!r}: separate from the offline measures above."),
            Block("table", _summary_table(run, ("judge",))),
        ]
    blocks.append(Block("p", _latency(run)))
    if "abstain_answerable" in run["summary"]:
        blocks += [Block("h2", "Abstention"), Block("table", _confusion_table(run))]
    if run.get("hit_vs_answer"):
        blocks += [
            Block("h2", "Retrieval × answer"),
            Block("p", "Answerable questions by whether a gold passage was in the top 5 and how many key facts "
                       "the answer holds. Row 'no gold in top 5': retrieval failures; row 'gold in top 5' with "
                       "some or none: answer failures."),
            Block("table", _hit_answer_table(run["hit_vs_answer"])),
        ]
    blocks.append(Block("h2", "Plots"))
    blocks += [Block("img", name) for name in PLOT_TITLES]
    for name, title in BREAKDOWN_TITLES.items():
        blocks += [Block("h2", title), Block("table", _breakdown_table(run, name))]
    if run.get("comparison"):
        blocks += comparison_blocks(run["comparison"])
    failed = failures(run)
    blocks += [
        Block("h2", f"Failures ({len(failed)})"),
        Block("p", "Questions whose answer misses key facts, or that abstained or answered when they should not have."),
        Block("links", failed) if failed else Block("list", ["none"]),
    ]
    errors = [(r["id"], f"{step} failed: {msg}") for r in run["rows"] for step, msg in r["errors"].items() if msg]
    blocks += [Block("h2", f"Errors ({len(errors)})"), Block("p", "Questions whose search, ask or judge step crashed."),
               Block("links", errors) if errors else Block("list", ["none"])]
    return blocks


# ---------------------------------------------------------------- per question


def _mark(flag: bool) -> str:
    return "✓" if flag else "✗"


def _where(c: dict) -> str:
    return doc_key(c.get("doc")) + (f" p. {c['page']}" if c.get("page") else "")


def _headline(r: dict) -> str:
    bits = [r["type"], r["lang"], Path(r["testset"]).stem]
    m = r["measures"]
    if m.get("hit@5") is not None:
        bits.append(f"hit@5 {_mark(m['hit@5'] >= 1)}")
    if m.get("answer_fact_recall") is not None:
        found = sum(f["found"] for f in r["answer"]["facts"]) if r["answer"] else 0
        bits.append(f"facts {found}/{len(r['key_facts'])} ({answer_grade(m['answer_fact_recall'])})")
    if r["answer"] and r["answer"]["abstained"]:
        bits.append("abstained")
    bits += [f"{step} failed" for step, msg in r["errors"].items() if msg]
    return " · ".join(bits)


def _evidence_lines(r: dict) -> list[str]:
    k = len(r["retrieved"])
    out = []
    for i, e in enumerate(r["evidence"]):
        rank = r["passage_ranks"][i] if i < len(r["passage_ranks"]) else None
        found = f"first at rank {rank}" if rank else f"not in the top {k}"
        out.append(f"{doc_key(e['doc'])}: “{e['quote']}” ({found})")
    return out


def _citation_lines(r: dict) -> list[str]:
    ranks: dict[str, int] = {}
    for c in r["retrieved"]:
        ranks.setdefault(c["chunk_id"], c["rank"])
    out = []
    for c in r["answer"]["citations"] if r["answer"] else []:
        rank = ranks.get(c["chunk_id"])
        where = f"rank {rank}" if rank else "not in the ranked list"
        out.append(f"[{c['n']}] {_where(c)} ({where}; gold {_mark(c['gold'])}): “{' '.join((c['quote'] or '').split())}”")
    return out


def _measure_line(r: dict) -> str:
    return " · ".join(f"{k} {_num(v)}" for k, v in r["measures"].items() if v is not None)


def _judge_lines(r: dict) -> list[str]:
    return [f"{name}: {_num(v['score'])} — {v['reason']}" for name, v in (r.get("judge") or {}).items()]


def _snippet(text: str, n: int = SNIPPET) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n] + " …"


def _chunk_rows(r: dict) -> list[list[str]]:
    return [
        [str(c["rank"]), _where(c), _num(c["score"], 4), _mark(c["gold"]) + (" (duplicate)" if c["duplicate"] else ""),
         _mark(c["cited"]), _snippet(c["text"])]
        for c in r["retrieved"]
    ]


CHUNK_HEADERS = ("rank", "document", "score", "gold", "cited", "text")


# ---------------------------------------------------------------- Markdown


def _md_cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _md_ids(cell: str) -> str:
    ids = [i.strip() for i in str(cell).split(",") if i.strip() and i.strip() != "-"]
    return ", ".join(f"[{i}](#{anchor(i)})" for i in ids) if ids else _md_cell(cell)


def _md_table(t: Table) -> str:
    lines = ["| " + " | ".join(_md_cell(h) for h in t.headers) + " |", "|" + " --- |" * len(t.headers)]
    lines += ["| " + " | ".join(_md_ids(c) if j in t.id_cols else _md_cell(c) for j, c in enumerate(row)) + " |" for row in t.rows]
    return "\n".join(lines)


def _md_blocks(blocks: Sequence[Block], plot_dir: str) -> list[str]:
    out = []
    for b in blocks:
        if b.kind in ("h2", "h3"):
            out.append(("## " if b.kind == "h2" else "### ") + b.content)
        elif b.kind == "p":
            out.append(b.content)
        elif b.kind == "table":
            out.append(_md_table(b.content))
        elif b.kind == "list":
            out.append("\n".join(f"- {_md_cell(item)}" for item in b.content))
        elif b.kind == "links":
            out.append("\n".join(f"- [{qid}](#{anchor(qid)}): {_md_cell(text)}" for qid, text in b.content))
        elif b.kind == "img":
            out.append(f"![{PLOT_TITLES[b.content]}]({plot_dir}/{b.content})")
    return out


def _md_question(r: dict) -> list[str]:
    a = r["answer"]
    out = [f'### {r["id"]} <a id="{anchor(r["id"])}"></a>', f"*{_headline(r)}*"]
    for turn in r.get("history") or []:
        out.append(f"**Earlier {turn['role']} turn:** {turn['content']}")
    out += [f"**Question:** {r['question']}", f"**Reference:** {r['reference_answer']}"]
    if a:
        out.append("**Answer:**" + (" (abstained)" if a["abstained"] else "") + "\n\n" + "\n".join(f"> {line}" for line in (a["text"] or "(empty)").splitlines()))
        if a["facts"]:
            out.append("**Key facts:** " + ", ".join(f"{_mark(f['found'])} {f['fact']}" for f in a["facts"]))
    if r["evidence"]:
        out.append("**Evidence:**\n" + "\n".join(f"- {_md_cell(x)}" for x in _evidence_lines(r)))
    out.append(f"**Measures:** {_measure_line(r)}")
    if r["retrieved"]:
        out.append(_md_table(Table(CHUNK_HEADERS, _chunk_rows(r))))
    if _citation_lines(r):
        out.append("**Citations:**\n" + "\n".join(f"- {_md_cell(x)}" for x in _citation_lines(r)))
    if a and a["citation_problems"]:
        out.append("**Citation problems:** " + "; ".join(a["citation_problems"]))
    if _judge_lines(r):
        out.append("**LLM judge:**\n" + "\n".join(f"- {_md_cell(x)}" for x in _judge_lines(r)))
    return out


def markdown_report(run: dict, plot_dir: str = "plots") -> str:
    """The run report in Markdown; plots are linked from ``plot_dir`` (relative)."""
    parts = [f"# Evaluation run {run['manifest']['name']}", *_md_blocks(run_blocks(run), plot_dir), "## Questions"]
    for r in run["rows"]:
        parts += _md_question(r)
    return "\n\n".join(parts) + "\n"


def comparison_markdown(comparison: dict) -> str:
    parts = [f"# Comparison: {comparison['a']['name']} → {comparison['b']['name']}"]
    parts += _md_blocks(comparison_blocks(comparison), "")
    return "\n\n".join(parts) + "\n"


# ---------------------------------------------------------------- HTML

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}h3{font-size:1.05em}
table{border-collapse:collapse;margin:.6em 0;font-size:13px;display:block;overflow-x:auto}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%;display:block;margin:.5em 0}figure{margin:1em 0}figcaption{color:#555}
details.q{border:1px solid #ddd;border-radius:4px;margin:.4em 0;padding:.3em .7em}
details.q>summary{cursor:pointer}details.q[open]{background:#fcfcfc}
.meta{color:#555}.bad{color:#b00}.good{color:#070}blockquote{margin:.3em 0;padding:.2em .8em;border-left:3px solid #ccc;white-space:pre-wrap}
tr.gold td{background:#eef8ee}.chunk{white-space:pre-wrap;font-size:12px}
"""


def _h(text: Any) -> str:
    return html.escape(str(text))


def _is_number(text: str) -> bool:
    return text.replace(".", "", 1).replace("-", "", 1).replace("+", "", 1).isdigit()


def _html_ids(cell: str) -> str:
    ids = [i.strip() for i in str(cell).split(",") if i.strip() and i.strip() != "-"]
    return ", ".join(f'<a href="#{anchor(i)}">{_h(i)}</a>' for i in ids) if ids else _h(cell)


def _html_table(t: Table) -> str:
    head = "".join(f"<th>{_h(h)}</th>" for h in t.headers)
    body = []
    for i, row in enumerate(t.rows):
        tips = t.tips[i] if i < len(t.tips) else ()
        cells = []
        for j, c in enumerate(row):
            tip = f' title="{_h(tips[j])}"' if j < len(tips) and tips[j] else ""
            cls = ' class="n"' if _is_number(str(c)) else ""
            cells.append(f"<td{cls}{tip}>{_html_ids(c) if j in t.id_cols else _h(c)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _html_blocks(blocks: Sequence[Block], plots: dict[str, bytes]) -> list[str]:
    out = []
    for b in blocks:
        if b.kind in ("h2", "h3"):
            out.append(f"<{b.kind}>{_h(b.content)}</{b.kind}>")
        elif b.kind == "p":
            out.append(f"<p>{_h(b.content)}</p>")
        elif b.kind == "table":
            out.append(_html_table(b.content))
        elif b.kind == "list":
            out.append("<ul>" + "".join(f"<li>{_h(item)}</li>" for item in b.content) + "</ul>")
        elif b.kind == "links":
            out.append("<ul>" + "".join(f'<li><a href="#{anchor(qid)}">{_h(qid)}</a>: {_h(text)}</li>' for qid, text in b.content) + "</ul>")
        elif b.kind == "img":
            data = base64.b64encode(plots[b.content]).decode("ascii")
            title = PLOT_TITLES[b.content]
            out.append(f'<figure><img alt="{_h(title)}" src="data:image/png;base64,{data}"><figcaption>{_h(title)}</figcaption></figure>')
    return out


def _html_chunks(r: dict) -> str:
    """The ranked chunks; gold rows shaded, each text a snippet that opens to the whole chunk."""
    head = "".join(f"<th>{_h(h)}</th>" for h in CHUNK_HEADERS)
    body = []
    for c, row in zip(r["retrieved"], _chunk_rows(r)):
        cells = "".join(f"<td>{_h(cell)}</td>" for cell in row[:-1])
        text = f"<details><summary>{_h(_snippet(c['text'], 160))}</summary><div class='chunk'>{_h(c['text'])}</div></details>"
        cls = ' class="gold"' if c["gold"] else ""
        body.append(f"<tr{cls}>{cells}<td>{text}</td></tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _html_question(r: dict) -> str:
    a = r["answer"]
    failed = any(r["errors"].values())
    parts = [f'<details class="q" id="{_h(anchor(r["id"]))}"><summary><b>{_h(r["id"])}</b> '
             f'<span class="meta{" bad" if failed else ""}">{_h(_headline(r))}</span> — {_h(r["question"])}</summary>']
    for turn in r.get("history") or []:
        parts.append(f"<p class='meta'><b>Earlier {_h(turn['role'])} turn:</b> {_h(turn['content'])}</p>")
    parts.append(f"<p><b>Reference:</b> {_h(r['reference_answer'])}</p>")
    if a:
        parts.append("<p><b>Answer</b>" + (" (abstained)" if a["abstained"] else "") + f" <span class='meta'>{_h(a['mode'] or '')}, {_h(a['language'] or '')}, {_num(a['ms'], 0)} ms</span></p>")
        parts.append(f"<blockquote>{_h(a['text'] or '(empty)')}</blockquote>")
        if a["facts"]:
            facts = " ".join(f'<span class="{"good" if f["found"] else "bad"}">{_mark(f["found"])} {_h(f["fact"])}</span>' for f in a["facts"])
            parts.append(f"<p><b>Key facts:</b> {facts}</p>")
    if r["evidence"]:
        parts.append("<p><b>Evidence:</b></p><ul>" + "".join(f"<li>{_h(x)}</li>" for x in _evidence_lines(r)) + "</ul>")
    parts.append(f"<p class='meta'><b>Measures:</b> {_h(_measure_line(r))}</p>")
    if r["retrieved"]:
        parts.append(_html_chunks(r))
    if _citation_lines(r):
        parts.append("<p><b>Citations:</b></p><ul>" + "".join(f"<li>{_h(x)}</li>" for x in _citation_lines(r)) + "</ul>")
    if a and a["citation_problems"]:
        parts.append(f"<p class='bad'><b>Citation problems:</b> {_h('; '.join(a['citation_problems']))}</p>")
    if _judge_lines(r):
        parts.append("<p><b>LLM judge:</b></p><ul>" + "".join(f"<li>{_h(x)}</li>" for x in _judge_lines(r)) + "</ul>")
    for step, msg in r["errors"].items():
        if msg:
            parts.append(f"<p class='bad'><b>{_h(step)} failed:</b> {_h(msg)}</p>")
    return "".join(parts) + "</details>"


# A link to a question opens its drill-down (a closed <details> would hide it).
_OPEN_TARGET = (
    "<script>function openTarget(){var e=location.hash&&document.getElementById(location.hash.slice(1));"
    "if(e&&e.tagName==='DETAILS'){e.open=true;e.scrollIntoView();}}"
    "addEventListener('hashchange',openTarget);openTarget();</script>"
)


def _page(title: str, body: Sequence[str]) -> str:
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_h(title)}</title>"
            f"<style>{_CSS}</style></head><body><h1>{_h(title)}</h1>{''.join(body)}{_OPEN_TARGET}</body></html>\n")


def html_report(run: dict, plots: dict[str, bytes]) -> str:
    """The run report as one HTML file; ``plots``: file name -> PNG bytes."""
    body = _html_blocks(run_blocks(run), plots)
    body.append(f"<h2>Questions ({len(run['rows'])})</h2><p class='meta'>Click a question for its answer, key facts and ranked chunks (gold rows green).</p>")
    body += [_html_question(r) for r in run["rows"]]
    return _page(f"Evaluation run {run['manifest']['name']}", body)


def comparison_html(comparison: dict) -> str:
    return _page(f"Comparison: {comparison['a']['name']} → {comparison['b']['name']}", _html_blocks(comparison_blocks(comparison), {}))


# ---------------------------------------------------------------- files


def write_reports(run: dict, out_dir: Path) -> list[Path]:
    """``report.md`` with ``plots/*.png``, and ``report.html``, in ``out_dir``."""
    plots = render_plots(run)
    plot_dir = out_dir / "plots"
    plot_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, png in plots.items():
        (plot_dir / name).write_bytes(png)
        written.append(plot_dir / name)
    md = out_dir / "report.md"
    md.write_text(markdown_report(run, "plots"), encoding="utf-8")
    page = out_dir / "report.html"
    page.write_text(html_report(run, plots), encoding="utf-8")
    return [md, page, *written]


def write_comparison(comparison: dict, out_dir: Path) -> list[Path]:
    """``compare.md`` and ``compare.html`` in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    md, page = out_dir / "compare.md", out_dir / "compare.html"
    md.write_text(comparison_markdown(comparison), encoding="utf-8")
    page.write_text(comparison_html(comparison), encoding="utf-8")
    return [md, page]
