"""Two runs side by side: paired deltas, p-values, the questions that changed,
and the regression gate.

Questions pair by id. For every measure both runs carry, over the questions
both scored on it: the means of A (the baseline) and B, ``delta`` = B - A,
a paired bootstrap 95% interval of the delta and the p-value of a paired
sign-flip permutation test (``eval.stats``). A question got *better* when some
measure moved the right way and none the wrong way, *worse* the other way
round, *mixed* when both happened.

The gate: a measure *regressed* when it moved the wrong way (down, or up for
``abstain_answerable``) by more than a threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .stats import paired_bootstrap_ci, sign_flip_p
from .summary import BY_KEY, MEASURES, Measure

_EPS = 1e-9


def run_info(run: dict) -> dict[str, Any]:
    m = run["manifest"]
    return {
        "name": m.get("name"),
        "created": m.get("created"),
        "commit": (m.get("git") or {}).get("commit"),
        "settings_hash": (m.get("settings") or {}).get("hash"),
        "index": (m.get("index") or {}).get("fingerprint"),
        "n_questions": len(run["rows"]),
    }


def _flatten(record: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(record, dict):
        out: dict[str, Any] = {}
        for k, v in record.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: record}


def settings_diff(a: dict, b: dict) -> list[dict[str, Any]]:
    """The recorded settings and answer parameters that differ between two
    runs: ``[{"key", "a", "b"}]`` (dotted keys; a key one run lacks is None there)."""
    def record(run: dict) -> dict[str, Any]:
        s = dict((run["manifest"].get("settings") or {}))
        s.pop("hash", None)
        return _flatten(s)

    ra, rb = record(a), record(b)
    return [{"key": k, "a": ra.get(k), "b": rb.get(k)} for k in sorted(set(ra) | set(rb)) if ra.get(k) != rb.get(k)]


def split_deltas(a: dict, b: dict, measures: Sequence[Measure]) -> dict[str, dict[str, Any]]:
    """Per measure and split (train, check), the paired delta B - A over the
    questions of that split in both runs; empty when neither run has splits."""
    rows_b = {r["id"]: r for r in b["rows"]}
    out: dict[str, dict[str, Any]] = {}
    splits = sorted({r.get("split") for r in a["rows"] if r.get("split")} & {r.get("split") for r in b["rows"] if r.get("split")})
    if not splits:
        return {}
    for m in measures:
        per: dict[str, Any] = {}
        for split in splits:
            common = [(r, rows_b[r["id"]]) for r in a["rows"] if r.get("split") == split and r["id"] in rows_b]
            xs, ys = _pairs(common, m.key)
            per[split] = _measure_delta(m, xs, ys) if xs else None
        out[m.key] = per
    return out


def _shared_measures(a: dict, b: dict) -> list[Measure]:
    return [m for m in MEASURES if m.key in a["summary"] and m.key in b["summary"]]


def _pairs(common: Sequence[tuple[dict, dict]], key: str) -> tuple[list[float], list[float]]:
    """The values of A and B of the questions both scored on ``key``."""
    xs, ys = [], []
    for ra, rb in common:
        x, y = ra["measures"].get(key), rb["measures"].get(key)
        if x is not None and y is not None:
            xs.append(x)
            ys.append(y)
    return xs, ys


def _measure_delta(m: Measure, xs: list[float], ys: list[float]) -> dict[str, Any]:
    n = len(xs)
    mean_a = sum(xs) / n if n else None
    mean_b = sum(ys) / n if n else None
    ci = paired_bootstrap_ci(xs, ys)
    return {
        "label": m.label,
        "kind": m.kind,
        "higher_is_better": m.higher_is_better,
        "a": mean_a,
        "b": mean_b,
        "delta": None if mean_a is None else mean_b - mean_a,
        "ci": list(ci) if ci else None,
        "p": sign_flip_p(xs, ys),
        "n_pairs": n,
    }


def _question_change(ra: dict, rb: dict, measures: Sequence[Measure]) -> dict[str, Any] | None:
    changes, up, down = {}, [], []
    for m in measures:
        x, y = ra["measures"].get(m.key), rb["measures"].get(m.key)
        if x is None or y is None or abs(y - x) < _EPS:
            continue
        changes[m.key] = [x, y]
        if (y > x) == m.higher_is_better:
            up.append(m.key)
        else:
            down.append(m.key)
    if not changes:
        return None
    verdict = "mixed" if up and down else "better" if up else "worse"
    return {"id": ra["id"], "question": rb["question"], "type": rb["type"], "lang": rb["lang"],
            "verdict": verdict, "improved": up, "worsened": down, "changes": changes}


def compare_runs(a: dict, b: dict) -> dict[str, Any]:
    """Compare run ``b`` with the baseline ``a``.

    Returns ``{"a", "b"`` (name, commit, settings hash, index fingerprint),
    ``"n_common", "only_a", "only_b"`` (question ids), ``"measures"`` (key ->
    label, a, b, delta, ci, p, n_pairs, higher_is_better), and the changed
    questions in ``"better", "worse", "mixed"``.
    """
    rows_b = {r["id"]: r for r in b["rows"]}
    ids_a = {r["id"] for r in a["rows"]}
    common = [(r, rows_b[r["id"]]) for r in a["rows"] if r["id"] in rows_b]
    measures = _shared_measures(a, b)
    deltas = {}
    for m in measures:
        xs, ys = _pairs(common, m.key)
        deltas[m.key] = _measure_delta(m, xs, ys)
    lists: dict[str, list] = {"better": [], "worse": [], "mixed": []}
    for ra, rb in common:
        change = _question_change(ra, rb, measures)
        if change:
            lists[change["verdict"]].append(change)
    return {
        "a": run_info(a),
        "b": run_info(b),
        "n_common": len(common),
        "only_a": [r["id"] for r in a["rows"] if r["id"] not in rows_b],
        "only_b": [r["id"] for r in b["rows"] if r["id"] not in ids_a],
        "measures": deltas,
        "settings_diff": settings_diff(a, b),
        "splits": split_deltas(a, b, measures),
        **lists,
    }


def regressions(comparison: dict, threshold: float) -> list[dict[str, Any]]:
    """The measures that moved the wrong way by more than ``threshold``:
    ``[{"measure", "label", "delta"}]``."""
    out = []
    for key, d in comparison["measures"].items():
        if d["delta"] is None:
            continue
        loss = -d["delta"] if BY_KEY[key].higher_is_better else d["delta"]
        if loss > threshold + _EPS:
            out.append({"measure": key, "label": d["label"], "delta": d["delta"]})
    return out


def _num(v: float | None, signed: bool = False) -> str:
    if v is None:
        return "-"
    return f"{v:+.3f}" if signed else f"{v:.3f}"


def delta_rows(comparison: dict) -> list[list[str]]:
    """One row of cells per measure: measure, A, B, delta, 95% CI, p, pairs."""
    rows = []
    for key, d in comparison["measures"].items():
        ci = d["ci"]
        rows.append([
            key,
            _num(d["a"]),
            _num(d["b"]),
            _num(d["delta"], signed=True),
            f"[{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else "-",
            "-" if d["p"] is None else f"{d['p']:.3f}",
            str(d["n_pairs"]),
        ])
    return rows


DELTA_HEADERS: tuple[str, ...] = ("measure", "A", "B", "delta", "95% CI", "p", "n")


def format_comparison(comparison: dict) -> str:
    """The comparison as fixed-width text: deltas, then the changed questions."""
    a, b = comparison["a"], comparison["b"]
    lines = [f"A (baseline): {a['name']}   B: {b['name']}   {comparison['n_common']} questions in both"]
    if a["settings_hash"] != b["settings_hash"]:
        diff = comparison.get("settings_diff") or []
        lines.append("settings that differ: " + ("; ".join(f"{d['key']} {d['a']!r} -> {d['b']!r}" for d in diff) or "none recorded (an older run)"))
    rows = [list(DELTA_HEADERS), *delta_rows(comparison)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(DELTA_HEADERS))]
    for i, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths))))
        if i == 0:
            lines.append("-" * len(lines[-1]))
    for verdict in ("worse", "better", "mixed"):
        changed = comparison[verdict]
        lines.append(f"{verdict} ({len(changed)}): " + (", ".join(c["id"] for c in changed) or "-"))
    for side, label in (("only_a", "only in A"), ("only_b", "only in B")):
        if comparison[side]:
            lines.append(f"{label}: {', '.join(comparison[side])}")
    return "\n".join(lines)
