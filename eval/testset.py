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
from dataclasses import dataclass
from pathlib import Path

from lsn_assistant.errors import LSNError
from lsn_assistant.text import fold as _text_fold

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

# ``fold`` is lsn_assistant.text's (one fold: the comparison check_testset.py
# makes, lower case, 0-9 a-z ä ö ü ß only), re-exported for eval's users.
fold = _text_fold


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
    # Optional: earlier turns of a follow-up, ``({"role", "content"}, ...)``.
    history: tuple[dict, ...] = ()
    # Optional: the document section the question was written from; the
    # train/check split keeps a section on one side.
    section: str = ""
    # Optional: where the item came from ("feedback": a rated answer exported
    # by `lsn feedback export`, its key facts for a person to fill in).
    source: str = ""

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
    history = item.get("history", [])
    if not (
        isinstance(history, list)
        and all(
            isinstance(t, dict) and t.get("role") in ("user", "assistant") and isinstance(t.get("content"), str)
            for t in history
        )
    ):
        problems.append(f"{where}: history must be a list of {{role: user|assistant, content}} objects")
    if "section" in item and not isinstance(item["section"], str):
        problems.append(f"{where}: section must be a string")
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
            history=tuple({"role": t["role"], "content": t["content"]} for t in history),
            section=item.get("section", ""),
            source=item.get("source", "") if isinstance(item.get("source"), str) else "",
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


TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".toml")


def document_text(path: Path) -> str:
    """A corpus file's text as quotes are checked against it: a text file as it
    is; a PDF, DOCX or HTML file as ingestion extracts it (what an answer's
    citation quoted), so a test set can cite uploaded PDFs too."""
    if path.suffix.lower() in TEXT_SUFFIXES:
        return path.read_text(encoding="utf-8", errors="replace")
    # Deferred: the loaders (pypdf, python-docx) are only needed for such files.
    from ingest.load import load_document

    try:
        return "\n".join(page.text for page in load_document(path).pages)
    except Exception:  # noqa: BLE001 - an unreadable file holds no quote; the check says so per quote
        return ""


def check_testset(path: str | Path, corpus_dir: str | Path, strict: bool = False) -> list[str]:
    """Problems of a test set against a corpus folder; an empty list means valid.

    Same checks as /work/shared/eval/check_testset.py: the structural checks of
    ``load_testset``; answerable items need evidence, unanswerable ones have none;
    every evidence doc is a file in ``corpus_dir``; every folded quote is at least
    12 characters and occurs in its folded document; every key fact occurs
    (folded) in one of the item's evidence documents. ``strict``: every key
    fact occurs in the item's evidence quotes themselves.
    """
    path = Path(path)
    corpus_dir = Path(corpus_dir)
    docs = {p.name: fold(document_text(p)) for p in sorted(corpus_dir.iterdir()) if p.is_file() and not p.name.startswith(".")}
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
        if q.source == "feedback" and not q.key_facts:
            problems.append(f"{where}: key facts to be filled in (a candidate from feedback: check its type, evidence and reference too)")
        if not q.evidence:
            problems.append(f"{where}: no evidence")
        for doc, quote in q.evidence:
            text = docs.get(doc)
            fq = fold(quote)
            if text is None:
                problems.append(f"{where}: unknown doc {doc!r}")
            elif len(fq) < MIN_QUOTE_CHARS or fq not in text:
                problems.append(f"{where}: quote not found (or too short) in {doc}: {quote!r}")
        quotes = [fold(quote) for _, quote in q.evidence]
        for fact in q.key_facts:
            if not any(fold(fact) in docs.get(doc, "") for doc, _ in q.evidence):
                problems.append(f"{where}: key fact {fact!r} does not occur in any evidence document")
            elif strict and not any(fold(fact) in quote for quote in quotes):
                problems.append(f"{where}: key fact {fact!r} is in the document but in none of the evidence quotes")
    return problems


SPLITS: tuple[str, ...] = ("train", "check")


def split_of(path: str | Path) -> str:
    """The split a test-set file belongs to: the name of its folder when that
    is ``train`` or ``check`` (``eval/testsets/check/x.jsonl`` -> "check"), else ''."""
    folder = Path(path).parent.name
    return folder if folder in SPLITS else ""


def doc_language(doc: str) -> str:
    """A corpus file's language from its name (``...-de.txt``/``...-en.txt``), or ''."""
    stem = Path(doc).stem
    return stem.rsplit("-", 1)[-1] if stem.rsplit("-", 1)[-1] in LANGS else ""


def stem_overlap(q: Question) -> float | None:
    """Share of the question's content stems that also occur in its evidence quotes.

    Defined for monolingual answerable questions (every evidence document in the
    question's language); ``None`` otherwise. A question phrased in the
    document's own words scores near 1; people asking in their own words score
    low (the dev set's median is about 0.15-0.20).
    """
    # Deferred: the stemmer is only needed for these statistics.
    from lsn_assistant.lexical import analyze

    if not q.answerable or not q.evidence or any(doc_language(d) != q.lang for d, _ in q.evidence):
        return None
    stems = set(analyze(q.question, q.lang))
    if not stems:
        return None
    quoted = set(analyze(" ".join(quote for _, quote in q.evidence), q.lang))
    return len(stems & quoted) / len(stems)


def testset_stats(questions: list[Question]) -> dict:
    """The figures a test set is written to: size, type and language shares,
    follow-ups, the median stem overlap of monolingual questions, duplicates."""
    n = len(questions)
    by_type: dict[str, int] = {}
    for q in questions:
        by_type[q.type] = by_type.get(q.type, 0) + 1
    overlaps = sorted(o for o in (stem_overlap(q) for q in questions) if o is not None)
    median = None
    if overlaps:
        mid = len(overlaps) // 2
        median = overlaps[mid] if len(overlaps) % 2 else (overlaps[mid - 1] + overlaps[mid]) / 2
    seen: dict[str, str] = {}
    duplicates = []
    for q in questions:
        key = fold(q.question)
        if key in seen:
            duplicates.append((seen[key], q.id))
        seen.setdefault(key, q.id)
    return {
        "questions": n,
        "types": {t: by_type.get(t, 0) for t in TYPES},
        "type_shares": {t: round(by_type.get(t, 0) / n, 3) if n else 0.0 for t in TYPES},
        "langs": {lang: sum(q.lang == lang for q in questions) for lang in LANGS},
        "follow_ups": sum(bool(q.history) for q in questions),
        "monolingual_scored": len(overlaps),
        "median_stem_overlap": None if median is None else round(median, 3),
        "duplicate_questions": duplicates,
    }
