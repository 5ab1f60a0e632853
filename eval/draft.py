"""Candidate test-set questions drafted from a document, for a person to edit.

``draft_questions`` cleans and chunks the file as ingest does
(``ingest.prepare.prepare``) and takes the sentences of its chunks. It keeps
those a test set can quote (``MIN_WORDS``..``MAX_WORDS`` words, found folded
in the file, as ``lsn eval check`` requires), prefers sentences that carry
numbers and names, spreads its picks over the document (one per chunk while
there are enough chunks) and turns each into an item in the format of
eval/testsets (/work/shared/eval/FORMAT.md):

* ``evidence``: the sentence, verbatim, as the gold quote;
* ``key_facts``: its numbers and names (acronyms; in English also capitalised
  words inside the sentence), at most ``MAX_FACTS``;
* ``reference_answer``: the sentence;
* ``question``: written by the LLM when one is given, else a draft that
  quotes the sentence with its key facts blanked out;
* ``type``: numeric when a key fact is a number, else fact; ``lang``: the
  chunk's language.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ingest.load import load_document, read_manifest
from ingest.prepare import prepare
from lsn_assistant.errors import LSNError
from lsn_assistant.llm import LANG_NAMES
from lsn_assistant.text import sentence_spans

from .answers import CorpusText
from .testset import MIN_QUOTE_CHARS, fold

MIN_WORDS, MAX_WORDS = 8, 45
MAX_FACTS = 3
_NUMBER = re.compile(r"\d[\d.,]*\d%?|\d{2,}%?")
_ACRONYM = re.compile(r"\b[A-ZÄÖÜ][A-ZÄÖÜ0-9&-]*[A-ZÄÖÜ0-9]\b")
_CAPITALISED = re.compile(r"(?<=\s)[A-ZÄÖÜ][a-zäöüß]+(?:\s+[A-ZÄÖÜ][a-zäöüß]+)*")
QUESTION_PROMPT = (
    "Write one question in {language} that a user of a document assistant might ask and that the sentence "
    "below answers. Do not copy the sentence and do not give its answer away. Reply with the question only.\n\n"
    "Document: {title}\nSentence: {sentence}"
)
CLOZE = {
    "de": "Was steht in „{title}“ zu folgender Aussage: „{cloze}“?",
    "en": "What does “{title}” say here: “{cloze}”?",
}


class DraftError(LSNError):
    """The document to draft from cannot be found."""


def resolve_doc(doc: str | Path, corpus_dir: Path) -> Path:
    """A file path as given, else the file of that name in the corpus folder."""
    path = Path(doc)
    for candidate in (path, Path(corpus_dir) / path.name):
        if candidate.is_file():
            return candidate
    raise DraftError(f"no document {str(doc)!r} (neither a file nor in the corpus folder {corpus_dir})")


def key_facts(sentence: str, lang: str) -> list[str]:
    """Numbers first, then names, each once, at most MAX_FACTS."""
    facts = _NUMBER.findall(sentence) + _ACRONYM.findall(sentence)
    if lang == "en":
        facts += _CAPITALISED.findall(sentence)
    unique = list(dict.fromkeys(f.rstrip(".,") for f in facts if fold(f)))
    return unique[:MAX_FACTS]


def _candidates(chunks: list[Any], doc_folded: str) -> list[dict]:
    out = []
    for position, chunk in enumerate(chunks):
        for a, b in sentence_spans(chunk.text, chunk.lang or "de"):
            sentence = chunk.text[a:b].strip()
            words = len(sentence.split())
            folded = fold(sentence)
            if not MIN_WORDS <= words <= MAX_WORDS or len(folded) < MIN_QUOTE_CHARS or folded not in doc_folded:
                continue
            facts = key_facts(sentence, chunk.lang)
            numbers = sum(1 for f in facts if _NUMBER.fullmatch(f))
            out.append({
                "chunk": position,
                "order": (position, a),
                "sentence": sentence,
                "lang": chunk.lang or "de",
                "facts": facts,
                "numeric": numbers > 0,
                "score": 2 * numbers + (len(facts) - numbers),
            })
    return out


def _pick(candidates: list[dict], n: int) -> list[dict]:
    """Best first, one per chunk while chunks last; then in document order."""
    ranked = sorted(candidates, key=lambda c: (-c["score"], c["order"]))
    picked, used = [], set()
    for c in ranked:
        if len(picked) < n and c["chunk"] not in used:
            picked.append(c)
            used.add(c["chunk"])
    for c in ranked:
        if len(picked) < n and not any(c is p for p in picked):
            picked.append(c)
    return sorted(picked, key=lambda c: c["order"])


def _cloze(sentence: str, facts: list[str], lang: str, title: str) -> str:
    for f in facts:
        sentence = sentence.replace(f, "…")
    return CLOZE.get(lang, CLOZE["en"]).format(title=title, cloze=sentence.rstrip(".!?:;"))


def _llm_question(llm: Any, sentence: str, lang: str, title: str) -> str:
    prompt = QUESTION_PROMPT.format(language=LANG_NAMES.get(lang, lang), title=title, sentence=sentence)
    reply = llm.chat([("user", prompt)])
    return next((line.strip() for line in reply.splitlines() if line.strip()), "")


def draft_questions(doc: str | Path, n: int, settings: Any, llm: Any = None) -> list[dict]:
    """Up to ``n`` test-set items drafted from one document (see the module doc).
    ``llm``: a ``GroundedLLM`` to write the questions, or None for cloze drafts."""
    path = resolve_doc(doc, settings.corpus_dir)
    document = load_document(path, read_manifest(path.parent).entries.get(path.name))
    chunks = [c for c in prepare(document, settings) if c.kind == "passage"]  # an entry repeats a passage's line
    doc_folded = CorpusText(path.parent).folded(path.name) or ""
    items = []
    for i, c in enumerate(_pick(_candidates(chunks, doc_folded), n), 1):
        question = _llm_question(llm, c["sentence"], c["lang"], document.title) if llm is not None else ""
        items.append({
            "id": f"{path.stem}-draft-{i:02d}",
            "question": question or _cloze(c["sentence"], c["facts"], c["lang"], document.title),
            "lang": c["lang"],
            "type": "numeric" if c["numeric"] else "fact",
            "reference_answer": c["sentence"],
            "key_facts": c["facts"],
            "evidence": [{"doc": path.name, "quote": c["sentence"]}],
        })
    return items
