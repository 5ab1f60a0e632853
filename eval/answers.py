"""Answer evaluation: run ``ask`` over a test set and score the answers.

Per question (``evaluate_answers``):

* ``answer_fact_recall``: share of the key facts found, folded, in the answer
  text (answerable questions; an abstention scores 0).
* ``citations_valid``: every ``[n]`` in the text resolves to a citation, every
  citation is referenced, and every quote is non-empty, verbatim in its
  chunk's text and, folded, in its document file in the corpus folder.
* ``cited_gold``: some citation's chunk holds a gold passage (``eval.metrics``
  matching: the folded quote, or half of it at a chunk boundary); answerable
  questions only, an abstention scores 0.
* ``abstained``; ``language_ok`` (the answer's language is the question's).
* ``groundedness``: share of the answer's statements supported by their
  citations. A statement is a line, or a sentence closed by markers; framing
  lines (no marker, ending in ':' or one of the known framing messages) are
  not statements. A statement is supported when it has markers that resolve
  and the content words of their quotes cover at least ``SUPPORT_SHARE`` of
  its own content words. (For extractive answers the statements are the
  quotes themselves; the measure is written for generated text too.)

Summary: means of these over the answerable questions, ``abstain_unanswerable``
(share of the unanswerable that abstained), ``abstain_answerable`` (share of
the answerable that wrongly did), the confusion table, and ask latency.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eval.metrics import doc_key, key_fact_recall, match_passages, mean
from eval.retrieval import render_blocks
from eval.testset import TYPES, Question, fold
from ingest.load import load_document
from lsn_assistant.answer import LABELS
from lsn_assistant.answering.corpus import SourceTexts
from lsn_assistant.lexical import analyze

AskFn = Callable[[Question], dict]
SUPPORT_SHARE = 0.6
_MARKER = re.compile(r"\[(\d+)\]")
_STATEMENT_END = re.compile(r"((?:\s*\[\d+\])+)")


# ---------------------------------------------------------------- corpus documents


class CorpusText(SourceTexts):
    """Folded text of the corpus files: the answer layer's reader
    (``SourceTexts``: text files, cached by modification time) and, for the
    other formats (PDF, DOCX, HTML), the loader's extracted text, read once."""

    def __init__(self, corpus_dir: str | Path | None):
        super().__init__(Path(corpus_dir) if corpus_dir else None)
        self._extracted: dict[str, str | None] = {}

    def folded(self, doc: str) -> str | None:
        name = doc_key(doc)
        if name.lower().endswith(self.TEXT_SUFFIXES):
            return super().folded(name)
        if name not in self._extracted:
            self._extracted[name] = self._extract(name)
        return self._extracted[name]

    def _extract(self, name: str) -> str | None:
        if self.dir is None or not (self.dir / name).is_file():
            return None
        try:  # PDF, DOCX, HTML: the loader's extracted text
            return fold("\n".join(p.text for p in load_document(self.dir / name).pages))
        except Exception:  # noqa: BLE001 - an unreadable file fails validation below
            return None


# ---------------------------------------------------------------- per-answer checks


def check_citations(answer: dict, corpus: CorpusText) -> list[str]:
    """Problems with an answer's markers and quotes; empty when all are valid."""
    problems: list[str] = []
    text = answer.get("answer") or ""
    cits = {c.get("n"): c for c in answer.get("citations") or []}
    used = {int(n) for n in _MARKER.findall(text)}
    for n in sorted(used - set(cits)):
        problems.append(f"[{n}] resolves to no citation")
    for n in sorted(set(cits) - used):
        problems.append(f"citation {n} is not referenced in the text")
    for n, c in cits.items():
        quote, chunk = c.get("quote") or "", c.get("text") or ""
        if not quote.strip():
            problems.append(f"citation {n}: empty quote")
            continue
        if quote not in chunk:
            problems.append(f"citation {n}: quote is not verbatim in its chunk")
        doc_text = corpus.folded(c.get("doc") or "")
        if doc_text is None:
            problems.append(f"citation {n}: document {c.get('doc')!r} not found in the corpus folder")
        elif fold(quote) not in doc_text:
            problems.append(f"citation {n}: quote not found in {c.get('doc')}")
    return problems


def _framing_messages() -> set[str]:
    out = set()
    for lab in LABELS.values():
        for key in ("abstain", "list_intro", "other_all", "other_some", "llm_failed"):
            for other in ("German", "English", "Deutsch", "Englisch"):
                out.add(fold(lab[key].format(other=other, reason="")))
    return out


_FRAMING = _framing_messages()


def statements(text: str) -> list[tuple[str, list[int]]]:
    """The answer's statements with their marker numbers (framing lines left out)."""
    out: list[tuple[str, list[int]]] = []
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        if not _MARKER.search(line):
            if line.endswith(":") or fold(line) in _FRAMING:
                continue
            out.append((line, []))
            continue
        parts = _STATEMENT_END.split(line)
        # parts: text, markers, text, markers, ..., tail
        for i in range(0, len(parts), 2):
            body = parts[i].strip()
            markers = [int(n) for n in _MARKER.findall(parts[i + 1])] if i + 1 < len(parts) else []
            if not body:
                continue
            out.append((body, markers))
    return out


def _content(text: str) -> set[str]:
    return set(analyze(text, "de")) | set(analyze(text, "en"))


def groundedness(answer: dict) -> float | None:
    """Share of statements supported by their cited quotes; None without statements."""
    cits = {c.get("n"): c for c in answer.get("citations") or []}
    stmts = statements(answer.get("answer") or "")
    if not stmts:
        return None
    supported = 0
    for body, markers in stmts:
        quotes = [cits[n]["quote"] for n in markers if n in cits]
        if not quotes:
            continue
        want = _content(re.sub(r"^[\-–•*]\s+", "", body))
        if not want:
            supported += 1
            continue
        have = set().union(*(_content(q) for q in quotes))
        if len(want & have) / len(want) >= SUPPORT_SHARE:
            supported += 1
    return supported / len(stmts)


def cites_gold(question: Question, answer: dict) -> bool:
    return any(match_passages(question, c) for c in answer.get("citations") or [])


# ---------------------------------------------------------------- the run

MEASURES: tuple[str, ...] = (
    "answer_fact_recall",
    "citations_valid",
    "cited_gold",
    "abstained",
    "language_ok",
    "groundedness",
    "ask_ms",
)


def _aggregate(rows: Sequence[dict]) -> dict[str, Any]:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    out: dict[str, Any] = {"n": len(rows), "n_answerable": len(answerable), "n_unanswerable": len(unanswerable)}
    out["answer_fact_recall"] = mean(r["answer_fact_recall"] for r in answerable)
    out["citations_valid"] = mean(float(r["citations_valid"]) for r in rows)
    out["cited_gold"] = mean(float(r["cited_gold"]) for r in answerable)
    out["abstain_unanswerable"] = mean(float(r["abstained"]) for r in unanswerable)
    out["abstain_answerable"] = mean(float(r["abstained"]) for r in answerable)
    out["language_ok"] = mean(float(r["language_ok"]) for r in rows)
    out["groundedness"] = mean(r["groundedness"] for r in rows if r["groundedness"] is not None)
    out["answer_words"] = mean(r["answer_words"] for r in answerable if not r["abstained"])
    out["ask_ms"] = mean(r["ask_ms"] for r in rows if r["ask_ms"] is not None)
    return out


def confusion(rows: Sequence[dict]) -> dict[str, dict[str, int]]:
    table = {"unanswerable": {"abstained": 0, "answered": 0}, "answerable": {"abstained": 0, "answered": 0}}
    for r in rows:
        table["answerable" if r["answerable"] else "unanswerable"]["abstained" if r["abstained"] else "answered"] += 1
    return table


def evaluate_answers(questions: Sequence[Question], ask: AskFn, corpus_dir: str | Path | None) -> dict[str, Any]:
    """Ask every question (``ask(question) -> Answer.to_dict()``) and score it.

    Returns ``{"summary", "confusion", "by_type", "by_lang", "questions"}``. A
    question whose ask fails counts as a wrong answer (not abstained, facts 0,
    citations invalid); the run goes on.
    """
    corpus = CorpusText(corpus_dir)
    rows: list[dict[str, Any]] = []
    for q in questions:
        error = None
        t = time.perf_counter()
        try:
            a = ask(q)
        except Exception as e:  # noqa: BLE001 - one failing question must not stop the run
            error = f"{type(e).__name__}: {e}"
            a = {"answer": "", "language": None, "abstained": False, "citations": []}
        ms = (time.perf_counter() - t) * 1000
        text = a.get("answer") or ""
        problems = check_citations(a, corpus) if not error else [error]
        abstained = bool(a.get("abstained"))
        row = {
            "id": q.id,
            "lang": q.lang,
            "type": q.type,
            "question": q.question,
            "answerable": q.answerable,
            "abstained": abstained,
            "answer_fact_recall": (0.0 if abstained or error else key_fact_recall(q.key_facts, [text])) if q.answerable else None,
            "citations_valid": not problems,
            "citation_problems": problems,
            "cited_gold": (not abstained and not error and cites_gold(q, a)) if q.answerable else None,
            "language_ok": a.get("language") == q.lang,
            "groundedness": None if abstained or error else groundedness(a),
            "answer_words": len(re.sub(r"\[\d+\]", "", text).split()),
            "n_citations": len(a.get("citations") or []),
            "ask_ms": round(ms, 1),
            "missing_facts": [f for f in q.key_facts if fold(f) not in fold(text)] if q.answerable else [],
            "answer": text,
            "cited_docs": [c.get("doc") for c in a.get("citations") or []],
            "evidence": a.get("evidence") or {},
            "error": error,
        }
        rows.append(row)

    def group(key: str, order: Sequence[str]) -> dict[str, dict]:
        groups: dict[str, list[dict]] = {}
        for r in rows:
            groups.setdefault(r[key], []).append(r)
        rank = {k: i for i, k in enumerate(order)}
        return {k: _aggregate(groups[k]) for k in sorted(groups, key=lambda k: (rank.get(k, len(rank)), k))}

    summary = _aggregate(rows)
    ms = [r["ask_ms"] for r in rows]
    if ms:
        p50, p95 = np.percentile(np.asarray(ms), [50, 95])
        summary["ask_ms_p50"], summary["ask_ms_p95"] = round(float(p50), 1), round(float(p95), 1)
    summary["n_errors"] = sum(1 for r in rows if r["error"])
    return {
        "summary": summary,
        "confusion": confusion(rows),
        "by_type": group("type", TYPES),
        "by_lang": group("lang", ("de", "en")),
        "questions": rows,
    }


_COLS: tuple[tuple[str, str], ...] = (
    ("answer_fact_recall", "facts"),
    ("citations_valid", "cite_ok"),
    ("cited_gold", "gold"),
    ("abstain_answerable", "abst_ans"),
    ("abstain_unanswerable", "abst_una"),
    ("language_ok", "lang_ok"),
    ("groundedness", "grounded"),
    ("answer_words", "words"),
)


def format_table(result: dict[str, Any]) -> str:
    """Answer measures as a fixed-width table (overall, by type, by language),
    then the abstention confusion table."""
    blocks = [("", [("overall", result["summary"])]), ("by type", list(result["by_type"].items())),
              ("by language", list(result["by_lang"].items()))]
    def fmt(v: Any, key: str) -> str:
        if not isinstance(v, (int, float)):
            return "-"
        return f"{v:.0f}" if key == "answer_words" else f"{v:.3f}"

    lines = render_blocks(blocks, _COLS, corner="answers", fmt=fmt)
    rule = lines[1]
    lines.append(rule)
    c = result["confusion"]
    lines.append("abstention      abstained  answered")
    for kind in ("unanswerable", "answerable"):
        lines.append(f"  {kind:<13} {c[kind]['abstained']:>9} {c[kind]['answered']:>9}")
    s = result["summary"]
    lines.append(
        f"ask latency ms: mean {s.get('ask_ms') or 0:.0f}, p50 {s.get('ask_ms_p50') or 0:.0f}, "
        f"p95 {s.get('ask_ms_p95') or 0:.0f} (one pass; sentences not yet in the cache are embedded in it); "
        f"{s.get('n_errors', 0)} error(s)"
    )
    return "\n".join(lines)
