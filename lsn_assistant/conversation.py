"""Follow-up questions without an LLM: carry over what the previous turn was about.

A follow-up ("Und in der Strategie 2030?", "And what about BioCon Valley?",
"Wer leitet es?") is detected by its form:

* it starts with a continuation cue (und, aber, was ist mit, wie ist es mit,
  and, what about, how about, same for, …), or
* it has no content words of its own ("Warum?", "Und wann?"), or
* it is short (at most 8 words) and refers back with a pronoun (es/dort/dabei …,
  it/they/them/there …, where "Gibt es" and "Is there" do not count).

The search query of a follow-up is the follow-up plus the key terms (content
words, as written) of the previous user turn, itself resolved the same way, so
a chain of follow-ups keeps its topic. When the follow-up brings a subject of
its own (a name: "BioCon Valley"; or a document: "Strategie 2030"), the names
and document words of the previous turn are not carried over: they are what the
follow-up replaces. The previous turn's aspect words ("Mitglieder", "role",
"Technologietrends") are.

Sources: a follow-up that names no document is answered from the documents the
previous answer cited (an assistant turn in the history may carry ``citations``
with a ``doc`` each, or ``docs``, as the API returns them), when the caller set
no document filter; if that restricted search finds nothing to answer with, the
assistant searches everything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterable

from .errors import BadQuery
from .language import question_language
from .lexical import STOPWORDS
from .text import clean_text

MAX_TURNS = 50
MAX_TURN_CHARS = 20000
ROLES = ("user", "assistant")

_CUES = (
    # German
    "und ", "und,", "aber ", "sowie ", "außerdem ", "ebenso ", "dasselbe ", "gilt das ",
    "was ist mit ", "was ist denn mit ", "wie ist es mit ", "wie ist das mit ", "wie sieht es ",
    "wie steht es ", "was gilt für ", "und was ist mit ", "und wie ist es mit ", "und was ", "und wie ", "und wer ", "und wo ", "und wann ",
    "auch ", "bzw. ",
    # English
    "and ", "and,", "but ", "what about ", "how about ", "same for ", "same question for ",
    "and what about ", "and how about ", "and what ", "and how ", "and who ", "and where ", "and when ", "also ", "what of ",
    "is that also ", "does that also ",
)
_PRONOUNS = {
    "de": {"dort", "dabei", "daran", "davon", "dafür", "darin", "damit", "dazu", "deren", "dessen", "ihm", "ihnen", "ihn", "diese", "dieser", "dieses", "jene", "jener"},
    "en": {"it", "its", "they", "them", "their", "those", "these", "he", "she", "him", "her", "his"},
}
_SHORT_PRONOUNS = {"es", "sie", "er", "ihr"}
_QUESTION_WORDS = set(
    """wie wer was wann wo warum wieso weshalb welche welcher welches welchen welchem wieviel
    viele viel gibt how who what when where why which many much does did is are was were
    there exactly genau denn eigentlich dazu dort heute laut gemäß according nennt nennen genannt beschreibt
    beschrieben erwähnt sagt describe describes described mention mentions say says tell list name give gives""".split()
)
_WORD = re.compile(r"[\w][\w\-.]*\w|\w", re.UNICODE)


@dataclass
class Turn:
    role: str
    content: str
    docs: tuple[str, ...] = ()


@dataclass
class Resolved:
    """What to search for a (possibly follow-up) question."""

    question: str  # as asked
    standalone: str  # what is searched and scored against
    follow_up: bool = False
    carried_terms: list[str] = field(default_factory=list)
    carried_docs: list[str] = field(default_factory=list)  # a doc filter taken from the previous answer
    language: str = ""  # the language to answer in
    intent: str = ""  # what the question asks for, with the previous turn's cue words ("Wie viele …")

    def __post_init__(self):
        if not self.language:
            self.language = question_language(self.question)
        if not self.intent:
            self.intent = self.question


def parse_history(history: object) -> list[Turn]:
    """Validate ``[{"role": "user"|"assistant", "content": str, ...}]``."""
    if history is None:
        return []
    if not isinstance(history, (list, tuple)):
        raise BadQuery("history must be a list of {role, content} objects")
    if len(history) > MAX_TURNS:
        raise BadQuery(f"history is too long ({len(history)} turns; at most {MAX_TURNS})")
    turns: list[Turn] = []
    for i, item in enumerate(history):
        if not isinstance(item, dict):
            raise BadQuery(f"history[{i}] must be an object with role and content")
        role, content = item.get("role"), item.get("content")
        if role not in ROLES:
            raise BadQuery(f"history[{i}].role must be one of {', '.join(ROLES)}")
        if not isinstance(content, str):
            raise BadQuery(f"history[{i}].content must be a string")
        if len(content) > MAX_TURN_CHARS:
            raise BadQuery(f"history[{i}].content is too long (at most {MAX_TURN_CHARS} characters)")
        # an earlier turn's words are searched with a follow-up: no character an encoder rejects
        content = clean_text(content, f"history[{i}].content", require_visible=False)
        docs: list[str] = []
        for c in item.get("citations") or ():
            if isinstance(c, dict) and isinstance(c.get("doc"), str):
                docs.append(c["doc"])
        for d in item.get("docs") or ():
            if isinstance(d, str):
                docs.append(d)
        # document names become a filter of the follow-up's search: a name no
        # document can have (an invalid character) is dropped, not searched
        docs = [d for d in docs if _plain_name(d)]
        turns.append(Turn(role, content, tuple(dict.fromkeys(docs))))
    return turns


def _plain_name(name: str) -> bool:
    try:
        return clean_text(name, "document name") == name
    except BadQuery:
        return False


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def content_words(text: str) -> list[str]:
    """Words that carry the topic, as written: no stop words, no question words."""
    out = []
    for w in words(text):
        low = w.lower()
        if low in STOPWORDS["de"] or low in STOPWORDS["en"] or low in _QUESTION_WORDS:
            continue
        if len(low) < 2 and not low.isdigit():
            continue
        out.append(w)
    return out


def _strip_cue(text: str) -> tuple[str, bool]:
    """The text without its continuation cues ("And what about X?" -> "X?")."""
    rest, cued = text.strip(), False
    while True:
        low = rest.lower()
        for cue in sorted(_CUES, key=len, reverse=True):
            if low.startswith(cue) or low == cue.strip(" ,"):
                rest, cued = rest[len(cue):].strip(), True
                break
        else:
            return rest, cued


def is_follow_up(question: str) -> bool:
    rest, cued = _strip_cue(question)
    if cued:
        return True
    if not content_words(question):
        return True
    ws = [w.lower() for w in words(question)]
    if len(ws) <= 8:
        pron = _PRONOUNS["de"] | _PRONOUNS["en"]
        if any(w in pron for w in ws):
            return True
    if len(ws) <= 4 and any(w in _SHORT_PRONOUNS for w in ws) and "gibt" not in ws:
        return True  # "Wer leitet es?", "Was machen sie?"
    return False


def looks_like_name(word: str, initial: bool, lang: str, known: Callable[[str, str], bool] | None) -> bool:
    """A proper name or acronym: "OLEC", "BioCon", "Valley" inside an English
    sentence, "medways" (no dictionary knows it), "2030"."""
    letters = [c for c in word if c.isalpha()]
    if any(ch.isdigit() for ch in word):
        return True
    if len(letters) >= 2 and (all(c.isupper() for c in letters) or any(c.isupper() for c in letters[1:])):
        return True
    if lang == "en" and word[:1].isupper() and not initial:
        return True
    if known is not None and not known(word, lang):
        return True
    return False


def resolve(
    question: str,
    history: list[Turn],
    mentioned_docs: Callable[[str], set[str]] = lambda q: set(),
    known_word: Callable[[str, str], bool] | None = None,
    doc_terms: Iterable[str] = (),
) -> Resolved:
    """The standalone form of ``question`` given the earlier turns."""
    question = question.strip()
    previous: Resolved | None = None
    last_docs: tuple[str, ...] = ()
    for turn in history:
        if turn.role == "user":
            previous = _resolve_one(turn.content, previous, last_docs, mentioned_docs, known_word, doc_terms)
            last_docs = ()
        elif turn.docs:
            last_docs = turn.docs
    return _resolve_one(question, previous, last_docs, mentioned_docs, known_word, doc_terms)


def _resolve_one(question, previous, last_docs, mentioned_docs, known_word, doc_terms) -> Resolved:
    if previous is None or not is_follow_up(question):
        return Resolved(question, question)
    rest, _ = _strip_cue(question)
    own = content_words(rest)
    names_doc = bool(mentioned_docs(question))
    doc_words = {t.lower() for t in doc_terms}
    lang = question_language(previous.standalone)
    own_names = [w for w in own if looks_like_name(w, False, question_language(question), known_word)]
    carried: list[str] = []
    seen = {w.lower() for w in own}
    first = True
    for w in words(previous.standalone):
        initial = first
        first = False
        low = w.lower()
        if low in seen or w not in content_words(w):
            continue
        is_doc_word = any(low == t or (len(t) >= 5 and low.startswith(t)) for t in doc_words)
        if names_doc and (is_doc_word or low.isdigit()):
            continue  # the follow-up names another document
        if own_names and not names_doc and looks_like_name(w, initial, lang, known_word) and not is_doc_word:
            continue  # the follow-up brings its own subject
        seen.add(low)
        carried.append(w)
    # the carried words first: the previous question's order, then what the
    # follow-up changes ("Rolle LSN Technologietrends einnehmen – in der Strategie 2030")
    standalone = " ".join(carried) + " – " + (rest or question).rstrip(" ?.!") + "?"
    docs = list(last_docs) if (last_docs and not names_doc) else []
    lang = question_language(question) if len(words(question)) >= 3 else previous.language
    intent = f"{previous.intent} {question}"
    return Resolved(question, standalone.strip(" –"), True, carried, docs, lang, intent)
