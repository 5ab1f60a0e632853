"""Answer-quality test sets: loading, validation and the shared text fold.

A test set is a JSONL file, one question per line (see /work/shared/eval/FORMAT.md):
``id, question, lang, type, reference_answer, key_facts, evidence[{doc, quote}]``.

``fold`` is the one normalisation every comparison uses (quotes against chunks,
key facts against contexts and answers). It is exactly the fold of the shared
``check_testset.py``: lower case, then keep only ``0-9 a-z ä ö ü ß``. So a quote the
checker accepts is also found by the metrics here, and line breaks, hyphenation,
bullet glyphs, typographic quotes and superscript footnote markers from PDF
extraction do not matter.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from lsn_assistant.errors import LSNError

TYPES: tuple[str, ...] = (
    "fact",
    "numeric",
    "list",
    "comparison",
    "multi-doc",
    "cross-lingual",
    "unanswerable",
)
LANGS: tuple[str, ...] = ("de", "en")
FIELDS: tuple[str, ...] = ("id", "question", "lang", "type", "reference_answer", "key_facts", "evidence")
MIN_QUOTE_CHARS = 12  # folded; as check_testset.py

_FOLD_RE = re.compile(r"[^0-9a-zäöüß]+")


def fold(s: str) -> str:
    """Lower case, letters and digits only (``0-9a-zäöüß``), as check_testset.py.

    >>> fold("Größe – Ü-30\\nStraße!")
    'größeü30straße'
    """
    return _FOLD_RE.sub("", s.lower())


class TestsetError(LSNError, ValueError):
    """A test-set file is malformed. The message names the file and line(s)."""

    __test__ = False  # not a pytest test class


@dataclass(frozen=True)
class Question:
    """One test question. ``evidence`` is a tuple of ``(doc, quote)`` pairs."""

    id: str
    question: str
    lang: str
    type: str
    reference_answer: str
    key_facts: tuple[str, ...]
    evidence: tuple[tuple[str, str], ...]

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable"

    @property
    def evidence_docs(self) -> tuple[str, ...]:
        """The distinct evidence documents, in order of first mention."""
        return tuple(dict.fromkeys(doc for doc, _ in self.evidence))


def _parse_item(item: object, where: str) -> tuple[Question | None, list[str]]:
    """Validate one decoded JSON line; return the question or the problems."""
    if not isinstance(item, dict):
        return None, [f"{where}: expected a JSON object, got {type(item).__name__}"]
    problems: list[str] = []
    missing = [k for k in FIELDS if k not in item]
    if missing:
        problems.append(f"{where}: missing field(s) {', '.join(missing)}")
    for key in ("id", "question", "reference_answer"):
        if key in item and not (isinstance(item[key], str) and item[key].strip()):
            problems.append(f"{where}: {key} must be a non-empty string")
    if "lang" in item and item["lang"] not in LANGS:
        problems.append(f"{where}: unknown lang {item['lang']!r} (must be one of {', '.join(LANGS)})")
    if "type" in item and item["type"] not in TYPES:
        problems.append(f"{where}: unknown type {item['type']!r} (must be one of {', '.join(TYPES)})")
    facts = item.get("key_facts")
    if "key_facts" in item and not (isinstance(facts, list) and all(isinstance(f, str) for f in facts)):
        problems.append(f"{where}: key_facts must be a list of strings")
    evidence = item.get("evidence")
    pairs: list[tuple[str, str]] = []
    if "evidence" in item:
        if not isinstance(evidence, list):
            problems.append(f"{where}: evidence must be a list of {{doc, quote}} objects")
        else:
            for i, ev in enumerate(evidence):
                if not (isinstance(ev, dict) and isinstance(ev.get("doc"), str) and isinstance(ev.get("quote"), str)):
                    problems.append(f"{where}: evidence[{i}] must be an object with string doc and quote")
                else:
                    pairs.append((ev["doc"], ev["quote"]))
    if problems:
        return None, problems
    return (
        Question(
            id=item["id"],
            question=item["question"],
            lang=item["lang"],
            type=item["type"],
            reference_answer=item["reference_answer"],
            key_facts=tuple(facts),
            evidence=tuple(pairs),
        ),
        [],
    )


def _read_items(lines: list[str], label: str):
    """Each non-blank line parsed: ``(where, question or None, problems)``,
    where the problems include bad JSON and a duplicate id; ``label`` names the
    file in ``where`` ("FILE:LINE (id)")."""
    seen: dict[str, int] = {}
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as e:
            yield f"{label}:{n}", None, [f"{label}:{n}: not valid JSON: {e}"]
            continue
        qid = item.get("id") if isinstance(item, dict) else None
        where = f"{label}:{n}" + (f" ({qid})" if qid else "")
        q, bad = _parse_item(item, where)
        if isinstance(qid, str) and qid:
            if qid in seen:
                bad.append(f"{where}: duplicate id {qid!r} (first on line {seen[qid]})")
            else:
                seen[qid] = n
        yield where, q, bad


def load_testset(path: str | Path) -> list[Question]:
    """Load a JSONL test set.

    Blank lines are skipped; unknown extra fields are ignored. Raises
    ``TestsetError`` listing every bad line as ``FILE:LINE (id): problem`` for
    invalid JSON, missing or mistyped fields, unknown ``type`` or ``lang`` and
    duplicate ids. Whether quotes occur in the corpus is ``check_testset``'s job.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise TestsetError(f"{path}: cannot read test set: {e}") from e
    questions: list[Question] = []
    problems: list[str] = []
    for _, q, bad in _read_items(lines, str(path)):
        if bad:
            problems.extend(bad)
        elif q is not None:
            questions.append(q)
    if problems:
        raise TestsetError(f"{len(problems)} problem(s) in test set {path}:\n" + "\n".join(problems))
    return questions


def check_testset(path: str | Path, corpus_dir: str | Path) -> list[str]:
    """Problems of a test set against a corpus folder; an empty list means valid.

    Same checks as /work/shared/eval/check_testset.py: the structural checks of
    ``load_testset``; answerable items need evidence, unanswerable ones have none;
    every evidence doc is a file in ``corpus_dir``; every folded quote is at least
    12 characters and occurs in its folded document; every key fact occurs
    (folded) in one of the item's evidence documents.
    """
    path = Path(path)
    corpus_dir = Path(corpus_dir)
    docs = {
        p.name: fold(p.read_text(encoding="utf-8", errors="replace"))
        for p in sorted(corpus_dir.iterdir())
        if p.is_file() and not p.name.startswith(".")
    }
    problems: list[str] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        return [f"{path}: cannot read test set: {e}"]
    for where, q, bad in _read_items(lines, path.name):
        problems.extend(bad)
        if q is None:
            continue
        if q.type == "unanswerable":
            if q.evidence:
                problems.append(f"{where}: an unanswerable item has no evidence")
            continue
        if not q.evidence:
            problems.append(f"{where}: no evidence")
        for doc, quote in q.evidence:
            text = docs.get(doc)
            fq = fold(quote)
            if text is None:
                problems.append(f"{where}: unknown doc {doc!r}")
            elif len(fq) < MIN_QUOTE_CHARS or fq not in text:
                problems.append(f"{where}: quote not found (or too short) in {doc}: {quote!r}")
        for fact in q.key_facts:
            if not any(fold(fact) in docs.get(doc, "") for doc, _ in q.evidence):
                problems.append(f"{where}: key fact {fact!r} does not occur in any evidence document")
    return problems
