"""The plots of a run report, drawn with matplotlib's Agg renderer (no display,
no pyplot state) as PNG bytes.

* ``recall_at_k.png``: hit@k (some gold passage in the top k) and passage
  recall@k (share of a question's evidence passages in the top k) for k = 1..K,
  over the answerable questions;
* ``by_type.png``: per question type, hit@5, key facts in the answer and cited
  gold, with their 95% bootstrap intervals;
* ``first_gold_rank.png``: how often the first gold chunk stood at each rank,
  and how often at none of the top K.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

TYPE_MEASURES: tuple[str, ...] = ("hit@5", "answer_fact_recall", "cited_gold")
_SIZE = (6.4, 3.4)


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return buf.getvalue()


def _ranked(rows: Sequence[dict]) -> list[dict]:
    """The rows whose ranking was scored (answerable questions)."""
    return [r for r in rows if r["measures"].get("hit@1") is not None]


def recall_at_k(rows: Sequence[dict], k_max: int) -> tuple[list[float], list[float]]:
    """``(hit, recall)``: for k = 1..k_max, the share of questions with a gold
    passage in the top k, and the mean share of their passages in the top k."""
    ranked = _ranked(rows)
    hit, recall = [], []
    for k in range(1, k_max + 1):
        if not ranked:
            hit.append(0.0)
            recall.append(0.0)
            continue
        hit.append(sum(1 for r in ranked if r["first_gold_rank"] is not None and r["first_gold_rank"] <= k) / len(ranked))
        shares = [sum(1 for p in r["passage_ranks"] if p is not None and p <= k) / len(r["passage_ranks"])
                  for r in ranked if r["passage_ranks"]]
        recall.append(sum(shares) / len(shares) if shares else 0.0)
    return hit, recall


def first_gold_counts(rows: Sequence[dict], k_max: int) -> dict[str, int]:
    """Questions by the rank of their first gold chunk: "1".."k_max" and "none"."""
    counts = {str(k): 0 for k in range(1, k_max + 1)} | {"none": 0}
    for r in _ranked(rows):
        rank = r["first_gold_rank"]
        counts[str(rank) if rank is not None and rank <= k_max else "none"] += 1
    return counts


def recall_plot(run: dict) -> bytes:
    k_max = run["manifest"]["options"]["k"]
    hit, recall = recall_at_k(run["rows"], k_max)
    ks = list(range(1, k_max + 1))
    fig = Figure(figsize=_SIZE)
    ax = fig.add_subplot()
    ax.plot(ks, hit, marker="o", label="hit@k (any gold passage)")
    ax.plot(ks, recall, marker="s", label="passage recall@k")
    ax.set(xlabel="k (retrieved chunks)", ylabel="share of answerable questions", ylim=(0, 1.02), xticks=ks,
           title=f"Recall at k (n = {len(_ranked(run['rows']))})")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return _png(fig)


def type_plot(run: dict) -> bytes:
    groups = run["breakdowns"]["type"]
    keys = [k for k in TYPE_MEASURES if k in run["summary"]]
    types = [t for t in groups if any((groups[t]["measures"].get(k) or {}).get("value") is not None for k in keys)]
    fig = Figure(figsize=(_SIZE[0] + 1, _SIZE[1] + 0.4))
    ax = fig.add_subplot()
    width = 0.8 / max(len(keys), 1)
    for i, key in enumerate(keys):
        xs, values, low, high = [], [], [], []
        for j, t in enumerate(types):
            agg = groups[t]["measures"].get(key) or {}
            if agg.get("value") is None:
                continue
            xs.append(j + (i - (len(keys) - 1) / 2) * width)
            values.append(agg["value"])
            low.append(agg["value"] - agg["ci"][0])
            high.append(agg["ci"][1] - agg["value"])
        ax.bar(xs, values, width, yerr=[low, high], capsize=3, label=key)
    ax.set_xticks(range(len(types)), [f"{t}\n(n={groups[t]['n']})" for t in types], fontsize=8)
    ax.set(ylim=(0, 1.22), yticks=[0, 0.2, 0.4, 0.6, 0.8, 1.0], ylabel="mean, 95% CI", title="By question type")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", ncols=max(len(keys), 1), frameon=False)
    fig.tight_layout()
    return _png(fig)


def first_gold_plot(run: dict) -> bytes:
    counts = first_gold_counts(run["rows"], run["manifest"]["options"]["k"])
    fig = Figure(figsize=_SIZE)
    ax = fig.add_subplot()
    names = list(counts)
    ax.bar(names, [counts[n] for n in names], color=["C0"] * (len(names) - 1) + ["C3"])
    ax.set(xlabel="rank of the first gold chunk", ylabel="questions", title="Rank of the first gold chunk")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return _png(fig)


def render_plots(run: dict) -> dict[str, bytes]:
    """Every plot of a run: file name -> PNG bytes."""
    return {
        "recall_at_k.png": recall_plot(run),
        "by_type.png": type_plot(run),
        "first_gold_rank.png": first_gold_plot(run),
    }
