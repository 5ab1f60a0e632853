"""Fit the extractive answerer's scorer and thresholds on the TRAIN split.

    LSN_DATA_DIR=/tmp/x .venv/bin/python scripts/fit_answerer.py [--out lsn_assistant/data/answer-model.json]

For every train question the assistant retrieves as ``ask`` does
(``Assistant.answer_inputs``), the answerer builds its units and features,
and a unit is labelled positive when it holds (or lies inside) one of the
question's gold quotes (folded, at least half of the quote as in
``eval.metrics.quote_in_chunk``). A logistic regression (scikit-learn) is
cross-validated with folds grouped by question; the thresholds (answer or
abstain, which further units join) are chosen on the out-of-fold
probabilities by the held-out objective: key-fact recall of the answerable
questions, plus abstentions of the unanswerable ones, minus abstentions of the
answerable ones, with the median answer held to 80 words. The model, its scaler, the thresholds
and a training report go into one small JSON file; run time needs only numpy.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import itertools
import json
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.metrics import doc_key, key_fact_recall, quote_in_chunk  # noqa: E402
from eval.runner import answer_words  # noqa: E402
from eval.testset import fold, load_testset  # noqa: E402
from lsn_assistant import Assistant  # noqa: E402
from lsn_assistant.answering import FEATURES, Scorer, Thresholds  # noqa: E402
from lsn_assistant.answering.features import QUESTION_FEATURES, question_features  # noqa: E402
from lsn_assistant.answering.question import COUNT_WINDOW  # noqa: E402
from lsn_assistant.answering.scorer import MODEL_PATH  # noqa: E402
from lsn_assistant.answering.select import missing_types, select  # noqa: E402
from lsn_assistant.answering.wording import compose  # noqa: E402
from lsn_assistant.conversation import parse_history  # noqa: E402

W_UNANSWERABLE = 0.3  # weight of an unanswerable question abstaining, against key-fact recall
W_ANSWERABLE = 0.3  # cost of an answerable question abstaining (beyond its lost recall)
LABEL_KEY_FACTS = False  # see ``positive``: tried, held-out objective 0.483 against 0.524
W_WORDS = 1.0  # per word of the median answer beyond MAX_WORDS: in effect a bound (the goal)
MAX_WORDS = 80
STAGE2_CANDIDATES = 20  # selection thresholds tried again with each abstention rule
TYPE_RULE_SLACK = 0.01  # held-out objective the answer-type abstention rule may cost and still be kept
PASSAGES = (6, 10, 15, 20)  # sizes of the retrieved pool the answer draws from, tried in turn
PASSAGES_SLACK = 0.01  # held-out objective a larger pool must gain over a smaller one to be kept
COUNT_WINDOWS = (4, 6, 8, 10, 12)  # content words between a count and the counted thing, tried at the chosen pool


LIST_KINDS = ("list", "headings", "data")


def positive(unit, evidence: list[tuple[str, str]], key_facts: list[str] = (), all_facts: list[str] = ()) -> bool:
    """The unit holds (or lies inside) a gold quote; or, with ``key_facts``, it
    stands in a passage holding a gold quote and states one of the key facts;
    or it is a list (lead-in and items) from a gold document whose items state
    at least two of the question's key facts (``all_facts``) and at least half
    of them: a list answers a list question even where the gold quote is a
    sentence that names the same things."""
    if all_facts and unit.kind in LIST_KINDS and any(doc == doc_key(p.chunk.doc) for p in unit.parts for doc, _ in evidence):
        text = fold(unit.text)
        found = sum(fold(f) in text for f in all_facts)
        if found >= 2 and 2 * found >= len(all_facts):
            return True
    if key_facts:
        text = fold(unit.text)
        for part in unit.parts:
            chunk = fold(part.chunk.text)
            gold = any(doc == doc_key(part.chunk.doc) and quote_in_chunk(q, chunk) for doc, q in evidence)
            if gold and any(fold(f) in text for f in key_facts):
                return True
    for part in unit.parts:
        text = fold(part.quote)
        for doc, quote in evidence:
            if doc != doc_key(part.chunk.doc):
                continue
            if quote_in_chunk(quote, text) or (len(text) >= 30 and text in quote):
                return True
    return False


def collect(assistant: Assistant, paths: list[Path], passages: int):
    """Per question: its units, feature matrix, labels, and what to score answers with."""
    answerer = assistant.answerer
    index = assistant.retriever.index
    out = []
    for path in paths:
        for q in load_testset(path):
            resolved = assistant.resolve(q.question, parse_history(list(q.history)), index)
            query, hits = assistant.answer_inputs(resolved, None, passages, index)
            units, x, ctx = answerer.candidates(query, hits)
            evidence = [(doc_key(d), fold(quote)) for d, quote in q.evidence]
            facts = list(q.key_facts) if LABEL_KEY_FACTS else []
            y = np.array([positive(u, evidence, facts, list(q.key_facts)) for u in units], dtype=int)
            out.append({"id": q.id, "answerable": q.answerable, "key_facts": list(q.key_facts), "units": units,
                        "x": x, "y": y, "listy": ctx.listy, "ctx": ctx, "top_fused": hits[0].score if hits else 0.0,
                        "composed": {},
                        "pool_facts": key_fact_recall(q.key_facts, [h.chunk.text for h in hits]) if q.answerable else None})
    return out


def simulate(data, probs: list[np.ndarray], th: Thresholds, qprobs: np.ndarray | None = None) -> dict:
    recall, abst_a, abst_u, words = [], [], [], []
    for k, (d, p) in enumerate(zip(data, probs)):
        for u, pr in zip(d["units"], p):
            u.prob = float(pr)
        chosen = select(d["units"], th, d["listy"], d["ctx"].parts)
        if (qprobs is not None and qprobs[k] < th.abstain) or missing_types(d["units"], d["ctx"], th.type_top):
            chosen = []
        # the answer as the user reads it and `lsn eval` counts it (framing,
        # bullets; markers left out), composed once per distinct choice
        key = tuple(id(u) for u in chosen)
        if key not in d["composed"]:
            shown = compose(chosen, d["ctx"].lang, d["listy"])[0] if chosen else ""
            d["composed"][key] = (fold(shown), answer_words(shown))
        text, n_words = d["composed"][key]
        if d["answerable"]:
            abst_a.append(not chosen)
            facts = d["key_facts"]
            recall.append(sum(fold(f) in text for f in facts) / len(facts) if facts and chosen else (0.0 if facts else 1.0))
            if chosen:
                words.append(n_words)
        else:
            abst_u.append(not chosen)
    m = lambda v: float(np.mean(v)) if v else 0.0  # noqa: E731
    med = statistics.median(words) if words else 0
    objective = m(recall) + W_UNANSWERABLE * m(abst_u) - W_ANSWERABLE * m(abst_a) - W_WORDS * max(0, med - MAX_WORDS)
    return {"objective": round(objective, 4), "recall": round(m(recall), 4), "abstain_answerable": round(m(abst_a), 4),
            "abstain_unanswerable": round(m(abst_u), 4), "words_median": med}


def fit_at(assistant: Assistant, testsets: list[Path], passages: int, folds: int, count_window: int = COUNT_WINDOW) -> dict:
    """Everything fitted for one size of the retrieved pool the answer draws
    from and one count window: the unit model (C by grouped CV), the selection
    thresholds and the question model, with the held-out objective they reach."""
    # the window decides the features (whether a unit holds a count of the asked thing)
    assistant.answerer._scorer = dataclasses.replace(Scorer.untrained(), thresholds=Thresholds(count_window=count_window))
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss, roc_auc_score
    from sklearn.model_selection import GroupKFold, StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    data = collect(assistant, testsets, passages)
    x = np.vstack([d["x"] for d in data if len(d["x"])])
    y = np.concatenate([d["y"] for d in data if len(d["x"])])
    groups = np.concatenate([[i] * len(d["x"]) for i, d in enumerate(data) if len(d["x"])])
    pool = [d["pool_facts"] for d in data if d["pool_facts"] is not None]
    pool_facts = round(float(np.mean(pool)), 4) if pool else 0.0  # the material the answer has
    print(f"passages={passages}, count window {count_window}: {len(data)} questions, {len(y)} units, {int(y.sum())} positive, "
          f"key facts in the passages {pool_facts}", file=sys.stderr)

    def model(c: float):
        return LogisticRegression(C=c, max_iter=2000)

    cv = GroupKFold(n_splits=folds)
    best = None
    for c in (0.03, 0.1, 0.3):
        oof = np.zeros(len(y))
        for tr, te in cv.split(x, y, groups):
            sc = StandardScaler().fit(x[tr])
            oof[te] = model(c).fit(sc.transform(x[tr]), y[tr]).predict_proba(sc.transform(x[te]))[:, 1]
        auc, ll = roc_auc_score(y, oof), log_loss(y, oof)
        print(f"  C={c}: CV AUC {auc:.4f}, log-loss {ll:.4f}", file=sys.stderr)
        if best is None or auc > best[1]:
            best = (c, auc, ll, oof)
    c, auc, ll, oof = best
    # the same features in gradient-boosted trees, for comparison: kept out
    # (CV AUC 0.819 against the regression's 0.833 when first tried), the
    # regression stays while the trees do not beat it held out
    from sklearn.ensemble import HistGradientBoostingClassifier

    gbm_oof = np.zeros(len(y))
    for tr, te in cv.split(x, y, groups):
        trees = HistGradientBoostingClassifier(max_depth=3, learning_rate=0.05, max_iter=300, l2_regularization=1.0,
                                               min_samples_leaf=40, random_state=0)
        gbm_oof[te] = trees.fit(x[tr], y[tr]).predict_proba(x[te])[:, 1]
    gbm_auc = roc_auc_score(y, gbm_oof)
    print(f"  gradient-boosted trees (compared, not used): CV AUC {gbm_auc:.4f}", file=sys.stderr)

    # thresholds on the out-of-fold probabilities
    probs, at = [], 0
    for d in data:
        probs.append(oof[at : at + len(d["x"])])
        at += len(d["x"])
    # A list question answered by sentences gets at most 3 of them (the
    # issue: "most answers are one to three units"). The word bound is on the
    # median answer, and list questions are a sixth of the set: without this
    # cap the fit may let their answers grow to five loosely related
    # sentences (180 words), which the median never sees.
    grid = itertools.product((0.02, 0.05, 0.1, 0.2), (0.05, 0.1, 0.2), (0.2, 0.3, 0.5), (2, 3, 4),
                             (0.2, 0.3, 0.5, 1.01), (0, 1, 2), (2, 3))
    scored = []
    for a, s, r, n, la, pp, nl in grid:
        th = Thresholds(answer=a, select=max(a, s), relative=r, max_units=n, list_answer=la, per_part=pp,
                        max_list_units=nl, passages=passages, count_window=count_window)
        scored.append((simulate(data, probs, th), th))
    stage1 = scored
    res, th = max(scored, key=lambda t: t[0]["objective"])
    for n in (1, 2, 3):
        print(f"  always answer, top {n}:", simulate(data, probs, Thresholds(answer=0.0, select=0.0, relative=0.0, max_units=n, list_answer=1.01, per_part=0, max_list_units=n)), file=sys.stderr)
    print(f"  thresholds {th}: {res}", file=sys.stderr)

    # whether the passages answer the question at all: a question-level model on
    # the out-of-fold unit probabilities, its abstention threshold by the same objective
    qx = np.vstack([question_features(d["units"], p, d["ctx"], d["top_fused"]) for d, p in zip(data, probs)])
    qy = np.array([d["answerable"] for d in data], dtype=int)

    def qmodel():
        return LogisticRegression(C=0.1, class_weight="balanced", max_iter=2000)

    qoof = np.zeros(len(qy))
    for tr, te in StratifiedKFold(n_splits=folds, shuffle=True, random_state=0).split(qx, qy):
        qs = StandardScaler().fit(qx[tr])
        qoof[te] = qmodel().fit(qs.transform(qx[tr]), qy[tr]).predict_proba(qs.transform(qx[te]))[:, 1]
    q_auc = roc_auc_score(qy, qoof)
    print(f"  question model: CV AUC {q_auc:.4f}", file=sys.stderr)
    # jointly with the selection thresholds (the best few of them): abstaining
    # changes which answers the word median counts
    firsts = [t for _, t in sorted(stage1, key=lambda rt: -rt[0]["objective"])[:STAGE2_CANDIDATES]]
    scored = []
    for base, t, top in itertools.product(firsts, (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7), (0, 5, 10, 20)):
        th2 = dataclasses.replace(base, abstain=t, type_top=top)
        scored.append((simulate(data, probs, th2, qoof), th2))
    # The issue asks to abstain when the asked kind of answer is absent: that
    # rule (type_top > 0) stays unless it costs more than TYPE_RULE_SLACK.
    for top in (0, 5, 10, 20):
        r, t = max(((r, t) for r, t in scored if t.type_top == top), key=lambda rt: rt[0]["objective"])
        print(f"  best with type_top={top}, abstain={t.abstain}: {r}", file=sys.stderr)
    top_objective = max(r["objective"] for r, _ in scored)
    typed = [(r, t) for r, t in scored if t.type_top and r["objective"] >= top_objective - TYPE_RULE_SLACK]
    res, th = max(typed or scored, key=lambda t: t[0]["objective"])
    print(f"  with abstention {th}: {res}", file=sys.stderr)
    qs = StandardScaler().fit(qx)
    qfinal = qmodel().fit(qs.transform(qx), qy)
    sc = StandardScaler().fit(x)
    final = model(c).fit(sc.transform(x), y)
    return {"passages": passages, "count_window": count_window, "res": res, "th": th, "c": c, "auc": auc, "ll": ll, "q_auc": q_auc, "gbm_auc": gbm_auc,
            "qs": qs, "qfinal": qfinal, "sc": sc, "final": final, "questions": len(data), "units": int(len(y)),
            "positives": int(y.sum()), "pool_facts": pool_facts}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--testsets", nargs="*", type=Path, default=sorted((ROOT / "eval/testsets/train").glob("*.jsonl")))
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--passages", nargs="*", type=int, default=list(PASSAGES),
                    help="sizes of the retrieved pool to try; the best held out is kept")
    ap.add_argument("--count-windows", nargs="*", type=int, default=list(COUNT_WINDOWS),
                    help="count windows (content words) to try at the chosen pool")
    args = ap.parse_args()

    assistant = Assistant.open()
    fits = [fit_at(assistant, args.testsets, p, args.folds) for p in args.passages]
    for f in fits:
        print(f"passages={f['passages']}: held out {f['res']}", file=sys.stderr)
    # the smallest pool within PASSAGES_SLACK of the best held out: a larger
    # pool costs time on every answer and must earn it
    top = max(f["res"]["objective"] for f in fits)
    best = min((f for f in fits if f["res"]["objective"] >= top - PASSAGES_SLACK), key=lambda f: f["passages"])
    # then the count window at that pool; another window replaces the default only when strictly better
    windows = [best] + [fit_at(assistant, args.testsets, best["passages"], args.folds, w)
                        for w in args.count_windows if w != COUNT_WINDOW]
    for f in windows:
        print(f"count window {f['count_window']}: held out {f['res']}", file=sys.stderr)
    best = max(windows, key=lambda f: f["res"]["objective"])
    th, res, sc, final, qs, qfinal = best["th"], best["res"], best["sc"], best["final"], best["qs"], best["qfinal"]
    digest = hashlib.sha256()
    for p in args.testsets:
        digest.update(Path(p).read_bytes())
    out = {
        "format": "lsn-answer-model/1",
        "model": "sklearn.linear_model.LogisticRegression",
        "features": list(FEATURES),
        "scaler": {"mean": sc.mean_.round(6).tolist(), "scale": sc.scale_.round(6).tolist()},
        "coef": final.coef_[0].round(6).tolist(),
        "intercept": round(float(final.intercept_[0]), 6),
        "thresholds": dataclasses.asdict(th),  # read back by Thresholds(**…)
        "question": {
            "model": "sklearn.linear_model.LogisticRegression (class_weight=balanced)",
            "features": list(QUESTION_FEATURES),
            "scaler": {"mean": qs.mean_.round(6).tolist(), "scale": qs.scale_.round(6).tolist()},
            "coef": qfinal.coef_[0].round(6).tolist(),
            "intercept": round(float(qfinal.intercept_[0]), 6),
            "cv_auc": round(best["q_auc"], 4),
        },
        "report": {
            "command": "LSN_DATA_DIR=<data dir> .venv/bin/python scripts/fit_answerer.py",
            "testsets": [str(Path(p).relative_to(ROOT)) if Path(p).is_absolute() else str(p) for p in args.testsets],
            "testsets_sha256": digest.hexdigest(),
            "questions": best["questions"],
            "units": best["units"],
            "positives": best["positives"],
            "C": best["c"],
            "cv": {"folds": args.folds, "grouped_by": "question", "auc": round(best["auc"], 4),
                   "log_loss": round(best["ll"], 4), "gradient_boosting_auc": round(best["gbm_auc"], 4)},
            "held_out_selection": res,
            "passages_tried": {str(f["passages"]): {**f["res"], "key_facts_in_passages": f["pool_facts"]} for f in fits},
            "count_windows_tried": {str(f["count_window"]): f["res"] for f in windows},
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
