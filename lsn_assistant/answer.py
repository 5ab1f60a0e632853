"""Grounded answers without an LLM: quoted sentences with ``[n]`` citations, or
an abstention.

How an extractive answer is made (``Answerer.answer``):

1. Retrieval (``Retriever.search``) gives the top passages, with the
   English/German twins already collapsed to the question's language.
2. Every passage is split into sentences (``text.sentence_spans``: exact
   character spans, so a quote is ``chunk.text[a:b]``, verbatim). A sentence
   the cleaner spliced together (not verbatim in its corpus file) is no
   candidate. Each sentence has an e5 passage vector, computed once per chunk
   and kept (in memory and under ``data_dir/cache``): a property of the
   corpus, never of a user.
3. A sentence's relevance, in standard deviations of the candidates' e5
   cosines: its e5 cosine to the question (centred per language: cross-lingual
   cosines run lower) + the share of the question's IDF-weighted content stems
   it holds (compound parts count; for the other language also the question's
   lexical translation; words that only name a document do not count) + its
   passage's retrieval rank + a bonus when it holds what the question asks for
   (a number, a count of the thing asked about, a date, an amount, a person,
   a frequency, contact details; for a question asking for several things, a
   list item or a list's lead-in) + a little for the question's language - a
   penalty for a bare heading or caption and for contact details nobody asked
   for.
4. MMR picks the sentences (relevance against redundancy), as many as the
   question needs: more for lists (a question with a list cue, or "welche"/
   "which" with a plural noun) and for questions with several parts, none
   below a margin under the best one; of a sentence and its translation only
   one. The answer is then filled, best first, while the word budget lasts:
   each pick with what belongs to it (for a list question the items of its
   bullet block, when the pick is close to the best; for a line of a figure
   the figure's other values); then the best sentence of each of the top
   passages none of the picks came from (the retriever ranks passages better
   than e5 ranks single sentences); then context: a pick that refers back
   ("Dabei …", "„Damit …", "This …") brings the sentence before it, and a
   following one that refers back comes when relevant enough. Every sentence
   is quoted in the question's language when its translation is among the
   candidates.
5. The answer quotes them verbatim (numbers and names exactly as in the
   source), ``[n]`` after each; lists as bullets. Framing words (the list
   intro, the note that the evidence is in the other language, the
   abstention message) are in the question's language.
6. Abstention (``Answerer.abstains``, calibrated on the dev sets with
   scripts/tune_answers.py): nothing to quote; or the question asks for a
   kind of thing (an amount of money, a date, a count of something, a
   figure, contact details) that none of its best sentences holds; or half
   of its content words occur nowhere in the index; or even the best
   sentence is far from it. Then the answer says that the documents do not
   answer and offers the closest passages.
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import itertools
import math
import os
import re
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import Settings
from .embeddings import get_embedder
from .lexical import STOPWORDS, analyze
from .retrieve import IndexSnapshot, QueryPlan, Retriever
from .text import fold, sentence_spans
from .types import Answer, Chunk, Citation, ScoredChunk

SPLIT_VERSION = "s1"  # bump when sentence_spans changes: cached vectors are per split

LABELS = {
    "de": {
        "abstain": "Dazu finden sich in den Dokumenten keine Angaben.",
        "list_intro": "Die Dokumente nennen:",
        "other_all": "Die Belege liegen nur auf {other} vor; sie werden im Wortlaut zitiert:",
        "other_some": "Einige Belege sind auf {other} und werden im Wortlaut zitiert.",
        "sources": "Quellen",
        "related": "Am nächsten kommen diese Passagen",
        "page": "S.",
        "llm_failed": "Das Sprachmodell war nicht verfügbar ({reason}); die Antwort ist aus den Dokumenten zusammengestellt.",
        "unsupported_language": "Ich beantworte nur Fragen auf Deutsch oder Englisch. Bitte stellen Sie Ihre Frage auf Deutsch oder Englisch.",
        "de": "Deutsch",
        "en": "Englisch",
    },
    "en": {
        "abstain": "The documents do not answer this.",
        "list_intro": "The documents list:",
        "other_all": "The evidence is in {other} only; it is quoted verbatim:",
        "other_some": "Some of the evidence is in {other} and is quoted verbatim.",
        "sources": "Sources",
        "related": "The closest passages",
        "page": "p.",
        "llm_failed": "The language model was not available ({reason}); this answer is put together from the documents.",
        "unsupported_language": "Only German and English are supported: please ask your question in German or English. "
        "(Bitte stellen Sie Ihre Frage auf Deutsch oder Englisch.)",
        "de": "German",
        "en": "English",
    },
}


def labels(lang: str) -> dict[str, str]:
    return LABELS.get(lang, LABELS["en"])


# ---------------------------------------------------------------- question form

_LIST_CUES = re.compile(
    r"\b(nenne|nennen|liste|aufz[äa]hl\w*|list|name the|enumerate|what are|which are|welche sind)\b", re.IGNORECASE
)
# after "which"/"what", the words that end the noun phrase it asks about
_EN_STOP = set(
    """is are was were does do did has have had can could will would should shall may might must
    of in for on at to with from by""".split()
)
_PART_CUES = re.compile(
    r"\b(und|and)\s+(wie|wer|was|wo|wann|welche\w*|warum|worauf|womit|how|who|what|where|when|which|why|in welche\w*|in which|is there)\b",
    re.IGNORECASE,
)


# What a question asks for, by cue words. Each kind has a test a sentence that
# answers it passes: a question asking "how much does it cost" is not answered
# by a sentence without an amount of money, whatever else it shares with it.
_Q_MONEY = re.compile(
    r"\b(how much|wie viel|wie hoch)\b.*\b(cost\w*|price\w*|fee\w*|fund\w*|budget\w*|money|pay\w*|spend\w*|"
    r"\w*(?:kost|preis|gebühr|beitr[äa]g|förder|finanz|mittel|geld|budget)\w*|zahl(?:t|en))\b"
    r"|\b(was|what)\b.*\b(kostet|kosten|costs?)\b|\b(wie teuer|how expensive)\b"
    r"|\b(welche[nrs]?|what|which)\s+((?-i:[a-zäöü]\w*)\s+)?(kosten|preise?|gebühre?n?|costs?|prices?|fees?)\b",
    re.IGNORECASE,
)
# "when" as a question word, not as a conjunction ("… when the masterplan was written")
_Q_DATE = re.compile(
    r"(^\W*|\b(und|and|or|oder)\s+|[,;–—]\s*)(wann|when)\b|\b(seit wann|since when|in welchem jahr|in which year|"
    r"zum ersten mal|erstmals|for the first time)\b",
    re.IGNORECASE,
)
_Q_COUNT = re.compile(
    r"\b(wie viele|wieviele|how many|anzahl|zahl der|zahl an|(?<!phone )(?<!fax )number of)\b", re.IGNORECASE
)
_Q_NUMBER = re.compile(
    r"\b(wie gro[ßs]|wie hoch|wie stark|how big|how large|how high|what share|welchen anteil|anteil|share|"
    r"percent\w*|prozent\w*|figures?|zahlen|zahl)\b",
    re.IGNORECASE,
)
_Q_PERSON = re.compile(r"^\W*(wer|who)\b", re.IGNORECASE)
_Q_FREQUENCY = re.compile(
    r"\b(wie oft|wie häufig|wie regelmäßig|in welche[mn] (rhythmus|turnus|abstand|abständen)|"
    r"how often|how frequently|how regularly)\b",
    re.IGNORECASE,
)
_Q_CONTACT = re.compile(
    r"\b(address|adresse|anschrift|postanschrift|phone|telephone|telefon\w*|fax|e-?mail|contact details|kontaktdaten|"
    r"website|webseite|homepage|internetseite|internetadresse)\b",
    re.IGNORECASE,
)
_MONEY = re.compile(r"(€|\$|\b(EUR|Euro|Mio|Mrd|Millionen|Milliarden|million|billion|Tsd)\b)", re.IGNORECASE)
_MONTHS = (
    "januar|februar|märz|april|mai|juni|juli|august|september|oktober|november|dezember|"
    "january|february|march|may|june|july|october|december"
)
_DATE = re.compile(rf"\b(1[89]\d\d|20\d\d)\b|\b({_MONTHS})\b|\b\d{{1,2}}\.\s?\d{{1,2}}\.", re.IGNORECASE)
_YEAR = re.compile(r"^(1[89]|20)\d\d$")
_NUMBER_WORDS = set(
    """zwei drei vier fünf sechs sieben acht neun zehn elf zwölf zwanzig dreißig vierzig fünfzig hundert tausend
    dutzend dutzende hunderte tausende two three four five six seven eight nine ten eleven twelve twenty thirty
    forty fifty hundred hundreds thousand thousands dozen dozens""".split()
)
_PERSON = re.compile(r"\b(Dr\.|Prof\.|Herr|Frau|Mr\.?|Mrs\.?|Ms\.?)\s")
_FREQUENCY = re.compile(
    r"\b((halb|viertel)?jährlich|monatlich|wöchentlich|täglich|quartalsweise|jedes jahr|"
    r"alle \w+ (jahre|monate|wochen|tage)|(ein|zwei|drei|vier|fünf|\d+)\s*-?\s*(mal|x) (im|pro|je) "
    r"(jahr|monat|woche|quartal)|"
    r"(im|pro|je) (jahr|monat|quartal)|annual(ly)?|yearly|monthly|weekly|daily|"
    r"every (\w+ )?(years?|months?|weeks?|days?)|(once|twice|\w+ times) (a|per|each) (year|month|week)|"
    r"per (year|month))\b",
    re.IGNORECASE,
)
# contact details: an e-mail or web address, a phone number, a postcode with its town
_CONTACT = re.compile(
    r"[\w.+-]+@[\w-]+\.\w+|\bwww\.\S+|https?://\S+|(?:\+|\b0)\d[\d\s/().-]{6,}\d|\b(?:Tel|Fax)\b\.?:?"
    r"|\b\d{5}\s+[A-ZÄÖÜ][a-zäöüß]+",
)
_TOKEN = re.compile(r"\w[\w.,]*\w|\w", re.UNICODE)
# the number of a heading or a caption ("6 THE FUTURE …", "Abb. 2: …"), which is no figure
_LABEL = re.compile(
    r"^\W*((Abb|Abbildung|Fig|Figure|Tab|Tabelle|Table|Kapitel|Chapter)\.?\s*)?[\d.]*\d[.:)]?\s(?!\s*%)", re.IGNORECASE
)
_CONJ = {"und", "and", "oder", "or", "sowie"}


def answer_types(question: str) -> set[str]:
    """What kind of thing the question wants: "money" (how much … cost),
    "date" (wann, when), "count" (wie viele, how many), "number" (how big,
    what share), "person" (a question opening with wer/who), "frequency"
    (how often, wie regelmäßig), "contact" (an address, a phone number, a
    website)."""
    out = set()
    if _Q_MONEY.search(question):
        out.add("money")
    if _Q_DATE.search(question):
        out.add("date")
    if _Q_COUNT.search(question):
        out.add("count")
    elif _Q_NUMBER.search(question) and "money" not in out:
        out.add("number")
    if _Q_PERSON.search(question):
        out.add("person")
    if _Q_FREQUENCY.search(question):
        out.add("frequency")
    if _Q_CONTACT.search(question):
        out.add("contact")
    return out


def is_contact_line(text: str) -> bool:
    """Contact details and little else ("+49 381 650 70 90 info@bcv.org
    www.bioconvalley.org"): an answer to where or how to reach someone, to
    nothing else."""
    if not _CONTACT.search(text):
        return False
    rest = _CONTACT.sub(" ", text)
    return sum(1 for w in re.findall(r"[^\W\d_]{2,}", rest) if w.islower()) <= 2


def counted_words(question: str) -> list[str]:
    """The words after "how many"/"wie viele"/"Zahl der": what is being counted
    ("how many hydrogen filling stations have …" -> hydrogen, filling, stations)."""
    m = _Q_COUNT.search(question)
    if not m:
        return []
    words = re.findall(r"[\w\-]+|[,–—?]", question[m.end():])
    out: list[str] = []
    for w in words:
        low = w.lower()
        if not out and low in ("of", "its", "the", "their", "der", "die", "das", "an", "von", "den"):
            continue
        if low in _CONJ or w == ",":
            continue
        if not w[0].isalnum() or low in STOPWORDS["de"] or low in STOPWORDS["en"]:
            break
        out.append(w)
        if len(out) >= 5:
            break
    return out


# A number followed by one of these measures something else than a count of things:
# "vier bis fünf Mal im Jahr", "um 150 Prozent", "seit 20 Jahren", "5 Mio. Euro".
_MEASURE = re.compile(
    r"^(?:mal|times|prozent|percent|jahre?n?|years?|monate?n?|months?|wochen?|weeks?|tage?n?|days?|stunden?|"
    r"hours?|minuten?|minutes?|euro|eur|mio|millionen|million|millions|mrd|milliarden|billion|billions|"
    r"kilometer|km|meter|m²|qm|quadratmeter)$",
    re.IGNORECASE,
)
_RANGE_WORDS = frozenset({"bis", "to", "oder", "or", "und", "and"})


def _is_count(tokens: list[str], i: int) -> bool:
    """Whether the number at ``i`` counts something (not "fünf Mal", "150 Prozent")."""
    for t in tokens[i + 1 : i + 4]:
        low = t.lower()
        if low in _RANGE_WORDS or low in _NUMBER_WORDS or t[0].isdigit():
            continue  # "vier bis fünf Mal": look past the range
        return not _MEASURE.match(low)
    return True


def _numbers_in(tokens: list[str], question_tokens: set[str], count: bool) -> list[int]:
    out = []
    for i, t in enumerate(tokens):
        low = t.lower()
        if low in question_tokens:
            continue
        if low in _NUMBER_WORDS or (t[0].isdigit() and any(ch.isdigit() for ch in t)):
            if count and (_YEAR.match(t) or not _is_count(tokens, i)):
                continue  # a year, a frequency, a share or an amount is no count
            out.append(i)
    return out


def _stem_match(a: str, b: str) -> bool:
    if a == b:
        return True
    if min(len(a), len(b)) >= 5:  # compound parts: "mitglied" in "neumitglied"
        return a.startswith(b) or b.startswith(a) or a.endswith(b) or b.endswith(a)
    return False


def _stem_in(term: str, stems: frozenset[str]) -> bool:
    """A question stem is in a sentence: as is, or as part of a compound."""
    if term in stems:
        return True
    return len(term) >= 5 and any(_stem_match(term, s) for s in stems)


def typed_match(text: str, wants: set[str], question: str = "", counted: list[set[str]] | None = None,
                lang: str = "de", name_words: frozenset[str] = frozenset()) -> bool:
    """Whether a sentence holds something of the kind the question asks for
    (any one of ``wants``). Numbers the question itself names do not count."""
    if not wants:
        return False
    q_tokens = {t.lower() for t in _TOKEN.findall(question)}
    if "money" in wants and _MONEY.search(text) and _numbers_in(_TOKEN.findall(text), q_tokens, False):
        return True
    if "date" in wants:
        for m in _DATE.finditer(text):
            before = re.findall(r"\w+", text[: m.start()])
            if before and before[-1].lower() in name_words:
                continue  # "Clusterstrategie 2024" names a document, it dates nothing
            if m.group(0).lower().strip(". ") not in q_tokens:
                return True
    tokens = _TOKEN.findall(text)
    if "count" in wants:
        numbers = _numbers_in(tokens, q_tokens, True)
        if numbers and not counted:
            return True
        if numbers:
            for i, t in enumerate(tokens):
                stems = analyze(t, lang)
                if not stems:
                    continue
                if any(_stem_match(stems[0], f) for forms in counted for f in forms):
                    if any(abs(i - j) <= 5 for j in numbers):
                        return True
    if "number" in wants and _numbers_in(_TOKEN.findall(_LABEL.sub("", text)), q_tokens, False):
        return True
    if "person" in wants and _PERSON.search(text):
        return True
    if "frequency" in wants and _FREQUENCY.search(text):
        return True
    if "contact" in wants and _CONTACT.search(text):
        return True
    return False


def is_list_question(question: str) -> bool:
    """Whether the question asks for several things: by a cue ("nenne",
    "list", "what are"), or by "welche"/"which" with a plural noun ("Welche
    Themenfelder …", "which stages …"; not "Welche Rolle …", "which year")."""
    if _LIST_CUES.search(question):
        return True
    return any(_plural(noun, lang) for noun, lang in _asked_nouns(question))


def _asked_nouns(question: str) -> list[tuple[str, str]]:
    """The noun after each "welche"/"which"/"what", with its language: in
    German the first capitalised word after it, in English the last word
    before a verb or a preposition."""
    out = []
    for m in re.finditer(r"\b(welche|welchen|which|what)\b", question, re.IGNORECASE):
        words = re.findall(r"[\w\-']+", question[m.end():])[:6]
        if m.group(1).lower().startswith("welche"):
            out += [(w, "de") for w in words if w[:1].isupper()][:1]
        else:
            out += [(w, "en") for w in list(itertools.takewhile(lambda w: w.lower() not in _EN_STOP, words))[-1:]]
    return out


def _plural(noun: str, lang: str) -> bool:
    """A plural noun: its lemma differs ("Themenfelder" -> "Themenfeld",
    "stages" -> "stage"), or that of a German compound's last part
    ("Krankheitsgebiete" -> "Gebiet")."""
    import simplemma

    from .translate import Lexicon

    if lang == "de":
        parts = Lexicon.default().split_compound(noun)
        forms = [noun, parts[-1].capitalize()] if parts else [noun]
        return any(simplemma.lemmatize(w, lang="de").lower() != w.lower() for w in forms)
    low = noun.lower()
    return low.endswith("s") and not low.endswith(("ss", "us", "is")) and simplemma.lemmatize(low, lang="en") != low


def question_parts(question: str) -> int:
    """How many things a question asks for: "Wie viele …, und wie stark …?" is two."""
    marks = max(1, question.count("?"))
    return marks + len(_PART_CUES.findall(question))


# ---------------------------------------------------------------- sentence vectors


class SentenceVectors:
    """e5 passage vectors of the sentences of chunks.

    Keyed by chunk text, language and the splitter version, held in memory (a
    bounded LRU) and, when ``cache_dir`` is writable, one small ``.npz`` per
    chunk, so a process start does not embed again. Corpus-derived only.
    """

    def __init__(self, settings: Settings, cache_dir: Path | None = None, embedder: str = "e5", max_chunks: int = 20000):
        self.settings = settings
        self.embedder = embedder
        self.cache_dir = Path(cache_dir) / f"sentences-{embedder}-{SPLIT_VERSION}" if cache_dir else None
        self.max_chunks = max_chunks
        self._mem: OrderedDict[str, tuple[list[tuple[int, int]], np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()
        self._disk_ok = True

    @staticmethod
    def key(chunk: Chunk) -> str:
        h = hashlib.sha256(f"{SPLIT_VERSION}\x1f{chunk.lang}\x1f{chunk.text}".encode("utf-8"))
        return h.hexdigest()[:32]

    def _load(self, key: str) -> tuple[list[tuple[int, int]], np.ndarray] | None:
        if self.cache_dir is None:
            return None
        path = self.cache_dir / f"{key}.npz"
        try:
            with np.load(path) as z:
                spans = [tuple(map(int, s)) for s in z["spans"]]
                vecs = z["vecs"].astype(np.float32)
        except (OSError, KeyError, ValueError):
            return None
        return (spans, vecs) if len(spans) == len(vecs) else None

    def _save(self, key: str, spans, vecs: np.ndarray) -> None:
        if self.cache_dir is None or not self._disk_ok:
            return
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.cache_dir, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, spans=np.asarray(spans, dtype=np.int64).reshape(-1, 2), vecs=vecs.astype(np.float16))
            os.replace(tmp, self.cache_dir / f"{key}.npz")
        except OSError:
            self._disk_ok = False  # read-only data dir: memory only

    def get(self, chunks: list[Chunk]) -> tuple[list[tuple[list[tuple[int, int]], np.ndarray]], int]:
        """(spans, vectors) per chunk, and how many sentences had to be embedded."""
        out: list = [None] * len(chunks)
        todo: list[tuple[int, str, list[tuple[int, int]]]] = []
        for i, c in enumerate(chunks):
            key = self.key(c)
            with self._lock:
                hit = self._mem.get(key)
                if hit is not None:
                    self._mem.move_to_end(key)
            if hit is None:
                hit = self._load(key)
                if hit is not None:
                    self._remember(key, hit)
            if hit is not None:
                out[i] = hit
            else:
                todo.append((i, key, sentence_spans(c.text, c.lang)))
        texts = [chunks[i].text[a:b] for i, _, spans in todo for a, b in spans]
        embedded = len(texts)
        if texts:
            vecs = get_embedder(self.embedder, self.settings.embed_threads).embed_passages(texts)
            pos = 0
            for i, key, spans in todo:
                v = vecs[pos : pos + len(spans)]
                pos += len(spans)
                hit = (spans, v)
                out[i] = hit
                self._remember(key, hit)
                self._save(key, spans, v)
        for i, key, spans in todo:
            if not spans:
                out[i] = ([], np.zeros((0, 0), dtype=np.float32))
        return out, embedded

    def _remember(self, key: str, value) -> None:
        with self._lock:
            self._mem[key] = value
            self._mem.move_to_end(key)
            while len(self._mem) > self.max_chunks:
                self._mem.popitem(last=False)


# ---------------------------------------------------------------- candidates


@dataclass
class Unit:
    """A candidate sentence: a span of one retrieved chunk."""

    hit: ScoredChunk
    start: int
    end: int
    pos: int  # index of the sentence in its chunk
    vec: np.ndarray
    stems: frozenset[str]
    cos: float = 0.0  # e5
    cos_use: float = 0.0
    lex: float = 0.0
    prior: float = 0.0
    typed: float = 0.0  # 1 when it holds what the question asks for (a number, a person)
    score: float = 0.0

    @property
    def chunk(self) -> Chunk:
        return self.hit.chunk

    @property
    def quote(self) -> str:
        return self.hit.chunk.text[self.start : self.end]

    @property
    def lang(self) -> str:
        return self.hit.chunk.lang


_BULLET = re.compile(r"^[\-–•·▪●◦*]\s+")
_ANAPHOR = re.compile(
    r"^((?:Da|Hier)r?(?:an|auf|aus|bei|durch|für|gegen|in|mit|nach|neben|über|um|unter|von|vor|zu)|Darüber hinaus|"
    r"Daher|Deshalb|Dies|Diese|Dieser|Dieses|Es|Sie|Er|Hier|So|Außerdem|Zudem|Auch|Gleichzeitig|Ebenso|Zusätzlich|"
    r"Somit|Daneben|Dort|Danach|Demnach|"
    r"This|These|It|They|Its|Their|In addition|Also|At the same time|Thus|Therefore|Here|Such|Moreover|"
    r"Furthermore|He|She|There|Among them|Of these)\b"
)


def _refers_back(u: "Unit") -> bool:
    """The sentence opens with a word that refers to the one before ("Dabei …",
    "„Damit …", "This …")."""
    return bool(_ANAPHOR.match(display(u.quote).lstrip("„“\"'‚‘»«(")))


def _line_start(u: "Unit") -> bool:
    """The sentence opens a line of its chunk (list items are lines)."""
    return u.start == 0 or u.chunk.text[u.start - 1] == "\n"


_NUMBERED_ITEM = re.compile(r"^(\d{1,2}[.)]|[a-z][.)])\s+\S")


def _is_item(u: "Unit") -> bool:
    """A bullet or numbered list item ("- …", "• …", "1. …", "a) …")."""
    return _line_start(u) and bool(_BULLET.match(u.quote) or _NUMBERED_ITEM.match(u.quote))


def _is_title(u: "Unit") -> bool:
    """A heading or caption: a whole short line without a sentence's closing
    punctuation ("6 THE FUTURE GUIDING PHILOSOPHIES", "Abbildung 5: Ebenen …",
    "- Maßnahmen zur Förderung der Innovationskultur")."""
    text = u.chunk.text
    line_end = u.end >= len(text.rstrip()) or text[u.end] == "\n"
    return (_line_start(u) and line_end and not re.search(r"[.!?:;…\"“”»]\s*$", u.quote)
            and len(u.quote.split()) <= 15)


def _is_data_line(u: "Unit") -> bool:
    """A line of a figure or a table: a title-like line holding a figure
    ("Medizintechnik 46 % der Funktionen"); a heading's or a caption's
    number ("6 THE FUTURE …", "Abb. 2: …") is none."""
    return _is_title(u) and not _is_item(u) and bool(_NUMBER.search(_LABEL.sub("", u.quote)))


def _leads_in(u: "Unit", at: dict[tuple[str, int], "Unit"]) -> bool:
    """The sentence introduces a list: it ends with a colon, or bullet lines follow."""
    nxt = at.get((u.chunk.chunk_id, u.pos + 1))
    return u.quote.rstrip().endswith(":") or (nxt is not None and _is_item(nxt))


_NUMBER = re.compile(r"\d")


def display(quote: str) -> str:
    """A quote as it reads in the answer: one line, without a leading bullet glyph."""
    return _BULLET.sub("", " ".join(quote.split()))


@dataclass
class Params:
    """Weights and thresholds; chosen on the dev sets with scripts/tune_answers.py
    (README, "Answers"). Relevance is in standard deviations of the candidates'
    cosines, so the weights of the other signals are in the same unit."""

    passages: int = 6  # retrieved passages the answer draws from
    w_use: float = 0.0  # USE cosine beside e5's (better across languages)
    w_lex: float = 1.0  # share of the question's weighted content words in the sentence
    w_prior: float = 0.5  # the passage's retrieval rank: rank ** -prior_exp
    prior_exp: float = 1.0
    w_chunk_centre: float = 0.0  # 0: cosines centred per language; 1: per passage
    w_type: float = 1.0  # holds what the question asks for (a number, a person)
    w_lang: float = 0.1  # in the question's language
    w_list: float = 1.0  # for a list question: a list item or a list's lead-in (counted in ``typed``)
    w_noise: float = 1.0  # cost of a bare heading or caption, or of contact details the question does not ask for
    red_floor: float = 0.85  # e5 similarity to a picked sentence above which redundancy costs
    w_red: float = 10.0  # cost per unit of similarity above red_floor
    dup: float = 0.95  # above this similarity a sentence is a duplicate and never picked
    twin: float = 0.9  # e5 similarity of a sentence and its translation (unrelated ones: at most ~0.85)
    margin: float = 2.0  # a sentence joins when its relevance is within this of the best
    max_sentences: int = 4
    max_list_items: int = 6
    max_list_extra: int = 6  # list items (or figure values) one pick may bring
    list_margin: float = 0.75  # a pick brings its list when its relevance is within this of the best
    context_margin: float = 2.0  # a following sentence that carries on joins within this of the best
    max_context: int = 2  # sentences context may add
    max_total: int = 6  # sentences in an answer, at most
    max_total_list: int = 12
    budget: int = 140  # words of quotes in an answer: no sentence joins beyond (the first always does)
    budget_list: int = 180
    lead: int = 2  # the best sentence of each of the top this many passages is quoted (budget permitting)
    any_next: bool = False  # the following sentence joins even without a reference back
    min_words: int = 4
    max_words: int = 80
    # abstention (see Answerer.abstains)
    min_cos: float = 0.78  # best e5 cosine of any candidate sentence
    max_unknown: float = 0.5  # share of the question's content words the index never uses
    typed_top: int = 10  # the answer type must occur in one of the best this many sentences (per question part)


class SourceTexts:
    """Folded text of the corpus files, to check that a quote stands in its
    document as well as in its chunk (the cleaner repairs extraction damage,
    and a sentence it spliced together is no quote). Text files only; for
    other formats, and where the file is not there, the chunk is trusted."""

    TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".text")

    def __init__(self, corpus_dir: Path | None):
        self.dir = Path(corpus_dir) if corpus_dir else None
        self._cache: dict[str, tuple[tuple[float, int], str | None]] = {}
        self._lock = threading.Lock()

    def folded(self, doc: str) -> str | None:
        if self.dir is None or not doc.lower().endswith(self.TEXT_SUFFIXES):
            return None
        path = self.dir / doc
        try:
            st = path.stat()
        except OSError:
            return None
        stamp = (st.st_mtime, st.st_size)
        with self._lock:
            hit = self._cache.get(doc)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        try:
            text = fold(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            text = None
        with self._lock:
            self._cache[doc] = (stamp, text)
        return text

    def holds(self, doc: str, quote: str) -> bool:
        text = self.folded(doc)
        return text is None or fold(quote) in text


class LexicalStats:
    """Document frequencies of stems over the index, for IDF weights."""

    def __init__(self, chunks: list[Chunk]):
        df: dict[str, int] = {}
        for c in chunks:
            for s in set(analyze(c.text, c.lang or "de")):
                df[s] = df.get(s, 0) + 1
        self.n = max(1, len(chunks))
        self.df = df
        self._sorted = sorted(df)
        self._reversed = sorted(w[::-1] for w in df)

    def known(self, stem: str) -> bool:
        """Whether the index holds the stem, alone or inside a compound
        ("mitglied" in "neumitglied", "weiterbild" in "weiterbildungsangebot")."""
        if stem in self.df:
            return True
        if len(stem) < 6:
            return False
        # a known stem is a prefix or suffix of this one
        if any(stem[:i] in self.df or stem[-i:] in self.df for i in range(6, len(stem))):
            return True
        # this stem is a prefix or suffix of a known one
        i = bisect.bisect_left(self._sorted, stem)
        if i < len(self._sorted) and self._sorted[i].startswith(stem):
            return True
        r = stem[::-1]
        i = bisect.bisect_left(self._reversed, r)
        return i < len(self._reversed) and self._reversed[i].startswith(r)

    def idf(self, stem: str) -> float:
        return math.log(1 + (self.n - self.df.get(stem, 0) + 0.5) / (self.df.get(stem, 0) + 0.5))


class Answerer:
    """The extractive answerer over a Retriever."""

    def __init__(self, retriever: Retriever, settings: Settings, params: Params | None = None, cache_dir: Path | None = "default"):
        self.retriever = retriever
        self.settings = settings
        self.params = params or Params()
        if cache_dir == "default":
            cache_dir = Path(settings.data_dir) / "cache"
        self.vectors = {name: SentenceVectors(settings, cache_dir, name) for name in ("e5", "use")}
        self.sources = SourceTexts(settings.corpus_dir)
        self._stems: OrderedDict[str, tuple[frozenset[str], ...]] = OrderedDict()
        self._lock = threading.Lock()

    # ---- pieces

    def _ix(self, index: IndexSnapshot | None) -> IndexSnapshot:
        return self.retriever.index if index is None else index

    def stats(self, index: IndexSnapshot | None = None) -> LexicalStats:
        """IDF table of one generation of the index (kept with it)."""
        ix = self._ix(index)
        return ix.derived("answer.lexical_stats", lambda: LexicalStats(list(ix.chunks)))

    def sentence_stems(self, chunk: Chunk, spans: list[tuple[int, int]]) -> tuple[frozenset[str], ...]:
        key = SentenceVectors.key(chunk)
        with self._lock:
            hit = self._stems.get(key)
        if hit is None or len(hit) != len(spans):
            hit = tuple(frozenset(analyze(chunk.text[a:b], chunk.lang or "de")) for a, b in spans)
            with self._lock:
                self._stems[key] = hit
                while len(self._stems) > 20000:
                    self._stems.popitem(last=False)
        return hit

    def query_weights(self, plan: QueryPlan) -> tuple[dict[str, float], dict[str, float]]:
        """IDF-weighted stems of the question (own language) and of its lexical
        translation (other language)."""
        st = self.stats(plan.index)
        naming = self.naming_stems(plan)
        own = {t: w * st.idf(t) for t, w in plan.terms.items() if t not in naming}
        trans = {t: w * st.idf(t) for t, w in plan.translated.items() if t not in naming}
        return own, trans

    def naming_stems(self, plan: QueryPlan) -> set[str]:
        """Stems of the words with which the question names a document
        ("Masterplan", "2030"): retrieval already votes for that document, and
        its sentences repeat its name without answering anything."""
        r = self.retriever
        docs = r.mentioned_docs(plan)
        title_terms = self._ix(plan.index).title_terms
        out: set[str] = set()
        for doc in docs:
            for term in title_terms.get(doc, ()):
                out.update(analyze(term, "de"))
                out.update(analyze(term, "en"))
        return out

    def units(self, hits: list[ScoredChunk], qvecs: dict[str, np.ndarray], plan: QueryPlan) -> tuple[list[Unit], int]:
        """The candidate sentences of ``hits`` with their raw signals."""
        p = self.params
        chunks = [h.chunk for h in hits]
        found, embedded = self.vectors["e5"].get(chunks)
        if p.w_use:
            found_use, embedded_use = self.vectors["use"].get(chunks)
        else:  # not weighed: not computed
            found_use, embedded_use = [(spans, [None] * len(spans)) for spans, _ in found], 0
        own, trans = self.query_weights(plan)
        total = sum(own.values()) or 1.0
        out: list[Unit] = []
        seen: dict[str, list[tuple[str, int]]] = {}
        for h, (spans, vecs), (_, vecs_use) in zip(hits, found, found_use):
            stems = self.sentence_stems(h.chunk, spans)
            for i, ((a, b), v, vu, st) in enumerate(zip(spans, vecs, vecs_use, stems)):
                text = h.chunk.text[a:b]
                n_words = len(text.split())
                if n_words > p.max_words:
                    continue
                item = (a == 0 or h.chunk.text[a - 1] == "\n") and _BULLET.match(text)
                if n_words < p.min_words and not (n_words >= 2 and (_NUMBER.search(text) or item)):
                    continue  # a fragment; but a short list item ("- Vermarktung;") is content
                key = re.sub(r"\W+", "", text.lower())
                here = (h.chunk.doc, h.chunk.position)
                if any(d == here[0] and abs(at - here[1]) <= 1 for d, at in seen.get(key, ())):
                    continue  # the overlap sentence of neighbouring chunks (not a sentence the document repeats)
                seen.setdefault(key, []).append(here)
                if not self.sources.holds(h.chunk.doc, text):
                    continue  # spliced by the cleaner: not verbatim in the document
                u = Unit(h, a, b, i, v, st)
                matched = sum(w for t, w in own.items() if _stem_in(t, st))
                if h.chunk.lang != plan.lang:
                    matched += sum(w for t, w in trans.items() if t not in own and _stem_in(t, st))
                u.lex = min(1.0, matched / total)
                u.cos = float(np.dot(qvecs["e5"], v))
                u.cos_use = float(np.dot(qvecs["use"], vu)) if vu is not None else 0.0
                u.prior = h.rank ** -p.prior_exp
                out.append(u)
        return out, embedded + embedded_use

    def _standardise(self, units: list[Unit], attr: str) -> dict[int, float]:
        """Cosines as standard scores, centred per language (a question and a
        sentence in different languages have lower cosines for the same match),
        and partly per passage (``w_chunk_centre``: how a sentence stands out
        within its passage, whose relevance the retrieval prior carries)."""
        values = np.array([getattr(u, attr) for u in units], dtype=float)
        sd = float(values.std()) or 1.0
        centre: dict[str, float] = {}
        for lang in {u.lang for u in units}:
            centre[lang] = float(np.median([getattr(u, attr) for u in units if u.lang == lang]))
        by_chunk: dict[str, list[float]] = {}
        for u in units:
            by_chunk.setdefault(u.chunk.chunk_id, []).append(getattr(u, attr))
        chunk_centre = {cid: float(np.mean(v)) for cid, v in by_chunk.items()}
        a = self.params.w_chunk_centre
        return {
            id(u): (getattr(u, attr) - (1 - a) * centre[u.lang] - a * chunk_centre[u.chunk.chunk_id]) / sd
            for u in units
        }

    def title_words(self, index: IndexSnapshot | None = None) -> frozenset[str]:
        """Words of the document titles ("Clusterstrategie", "Strategy")."""
        ix = self._ix(index)
        return ix.derived(
            "answer.title_words",
            lambda: frozenset(w.lower() for c in ix.chunks for w in re.findall(r"\w+", c.title) if not w.isdigit()),
        )

    def counted_forms(self, question: str, lang: str) -> list[set[str]]:
        """Stems of each counted word, in the question's language and translated."""
        from .translate import Lexicon

        other = "en" if lang == "de" else "de"
        out = []
        for w in counted_words(question):
            forms = set(analyze(w, lang))
            for t, _ in Lexicon.default().translate(w, lang, other):
                forms.update(analyze(t, other))
            if forms:
                out.append(forms)
        return out

    def score(self, units: list[Unit], question: str, lang: str, index: IndexSnapshot | None = None) -> None:
        """Relevance of each candidate (sets ``Unit.score``)."""
        if not units:
            return
        p = self.params
        titles = self.title_words(index)
        listy = is_list_question(question)
        at = self._neighbours(units)
        wants = answer_types(question)
        counted = self.counted_forms(question, lang)
        z = self._standardise(units, "cos")
        z_use = self._standardise(units, "cos_use") if p.w_use else {}
        for u in units:
            u.typed = 1.0 if typed_match(u.quote, wants, question, counted, u.lang or "de", titles) else 0.0
            if listy and (_is_item(u) or _leads_in(u, at)):
                u.typed += p.w_list
            noise = ("contact" not in wants and is_contact_line(u.quote)) or (
                _is_title(u) and not _is_item(u) and not u.typed)
            u.score = (
                z[id(u)]
                + p.w_use * z_use.get(id(u), 0.0)
                + p.w_lex * u.lex
                + p.w_prior * u.prior
                + p.w_type * u.typed
                + (p.w_lang if u.lang == lang else 0.0)
                - (p.w_noise if noise else 0.0)
            )

    def select(self, units: list[Unit], question: str, lang: str = "") -> list[Unit]:
        """MMR picks the sentences; the answer takes them best first, each with
        the items it brings, then the leads of passages not yet quoted, then
        context, while the sentence limit and the word budget last."""
        p = self.params
        if not units:
            return []
        listy = is_list_question(question)
        limit = p.max_list_items if listy else min(p.max_sentences + question_parts(question) - 1, p.max_list_items)
        best = max(u.score for u in units)
        at = self._neighbours(units)
        picks = self._mmr(units, best - p.margin * (1.5 if listy else 1.0), limit)
        groups = [[u, *self._items(u, at, listy and u.score >= best - p.list_margin)[: p.max_list_extra]]
                  for u in picks]
        cited = {u.chunk.chunk_id for u in picks}
        groups.append([u for u in self._lead(units) if u.chunk.chunk_id not in cited and u.score >= best - p.margin])
        groups.append([x for u in picks for x in self._context(u, at, best - p.context_margin)])
        total = p.max_total_list if listy else p.max_total
        budget = p.budget_list if listy else p.budget
        chosen: list[Unit] = []
        quoted: set[str] = set()  # a sentence the document repeats is quoted once
        words = 0
        for group in groups:
            for x in group:
                x = self._in_language(x, units, lang)
                n = len(x.quote.split())
                key = fold(x.quote)
                if key not in quoted and len(chosen) < total and (not chosen or words + n <= budget):
                    chosen.append(x)
                    quoted.add(key)
                    words += n
        return chosen

    def _lead(self, units: list[Unit]) -> list[Unit]:
        """The best sentence of each of the best ``lead`` passages."""
        ranks = sorted({u.hit.rank for u in units})[: self.params.lead]
        return [max((u for u in units if u.hit.rank == r), key=lambda u: u.score) for r in ranks]

    def _mmr(self, units: list[Unit], floor: float, limit: int) -> list[Unit]:
        """Relevance against redundancy, among the sentences scoring ``floor`` or
        more; of a sentence and its translation only one."""
        p = self.params
        chosen: list[Unit] = []
        pool = [u for u in units if u.score >= floor]
        while pool and len(chosen) < limit:
            def mmr(u: Unit) -> float:
                red = max((float(np.dot(u.vec, c.vec)) for c in chosen), default=0.0)
                return u.score - p.w_red * max(0.0, red - p.red_floor)

            u = max(pool, key=mmr)
            pool.remove(u)
            if any(float(np.dot(u.vec, c.vec)) > (p.twin if c.lang != u.lang else p.dup) for c in chosen):
                continue  # a near-duplicate, or the same statement in the other language
            chosen.append(u)
        return chosen

    def _in_language(self, u: Unit, units: list[Unit], lang: str) -> Unit:
        """``u``, or its translation among the candidates when that is in ``lang``."""
        if u.lang == lang:
            return u
        sim, twin = max(((float(np.dot(u.vec, x.vec)), x) for x in units if x.lang == lang),
                        default=(0.0, u), key=lambda t: t[0])
        return twin if sim > self.params.twin else u

    @staticmethod
    def _neighbours(units: list[Unit]) -> dict[tuple[str, int], Unit]:
        return {(u.chunk.chunk_id, u.pos): u for u in units}

    def _context(self, u: Unit, at: dict[tuple[str, int], Unit], floor: float) -> list[Unit]:
        """A picked sentence that refers back ("Dabei …", "This …") brings the
        sentence before it; a following one that refers back and scores
        ``floor`` or more comes too (it usually carries on the answer)."""
        out = []
        prev = at.get((u.chunk.chunk_id, u.pos - 1))
        if prev is not None and _refers_back(u):
            out.append(prev)
        nxt = at.get((u.chunk.chunk_id, u.pos + 1))
        if nxt is not None and nxt.score >= floor and (self.params.any_next or _refers_back(nxt)):
            out.append(nxt)
        return out[: self.params.max_context]

    def _items(self, u: Unit, at: dict[tuple[str, int], Unit], listy: bool) -> list[Unit]:
        """What a pick brings as its own content: the other values of a figure
        or a table; for a list question the items of its list."""
        if _is_data_line(u):
            return self._data_run(u, at)
        return self._list_items(u, at) if listy else []

    @staticmethod
    def _data_run(u: Unit, at: dict[tuple[str, int], Unit]) -> list[Unit]:
        """The data lines next to a data line (a sentence the splitter left out,
        such as a one-word label, does not end the run)."""
        out = []
        for step in (-1, 1):
            pos, gap = u.pos + step, 0
            while gap <= 1:
                x = at.get((u.chunk.chunk_id, pos))
                if x is None:
                    gap += 1
                elif _is_data_line(x):
                    out.append(x)
                    gap = 0
                else:
                    break
                pos += step
        return out

    @staticmethod
    def _list_items(u: Unit, at: dict[tuple[str, int], Unit]) -> list[Unit]:
        """A lead-in ("… folgende Ziele:", or the sentence right before bullet
        lines) or a bullet item brings the first sentence of every item of its
        bullet block."""
        lines: list[Unit] = []  # the first sentence of each line of the chunk, in order
        line_of = 0
        for x in sorted((x for x in at.values() if x.chunk.chunk_id == u.chunk.chunk_id), key=lambda x: x.pos):
            if _line_start(x) or not lines:
                lines.append(x)
            if x is u:
                line_of = len(lines) - 1
        if _is_item(u):
            first = line_of
            while first > 0 and _is_item(lines[first - 1]):
                first -= 1
        elif _leads_in(u, at):
            first = line_of + 1
        else:
            return []
        out = []
        for i in range(first, len(lines)):
            x = lines[i]
            if not (_is_item(x) or (i == first and u.quote.rstrip().endswith(":"))):
                break
            if x is not u:
                out.append(x)
        return out

    # ---- composing

    def compose(self, chosen: list[Unit], question: str, lang: str) -> tuple[str, list[Citation]]:
        lab = labels(lang)
        # passages in order of their best sentence, sentences in document order
        first: dict[str, int] = {}
        for i, u in enumerate(chosen):
            first.setdefault(u.chunk.chunk_id, i)
        ordered = sorted(chosen, key=lambda u: (first[u.chunk.chunk_id], u.pos))
        citations: list[Citation] = []
        pieces: list[str] = []
        for n, u in enumerate(ordered, start=1):
            c = u.chunk
            citations.append(Citation(n, c.chunk_id, c.doc, c.title, c.page, c.section, u.quote, c.text, c.lang))
            pieces.append(f"{display(u.quote)} [{n}]")
        lines: list[str] = []
        other = {u.lang for u in ordered if u.lang and u.lang != lang}
        if other:
            name = lab.get(sorted(other)[0], sorted(other)[0])
            key = "other_all" if all(u.lang != lang for u in ordered) else "other_some"
            lines.append(lab[key].format(other=name))
        if is_list_question(question) and len(pieces) >= 2:
            lines.append(lab["list_intro"])
            lines.extend(f"- {p}" for p in pieces)
            return "\n".join(lines), citations
        body = " ".join(pieces)
        return ("\n".join(lines + [body]) if lines else body), citations

    # ---- abstention

    def coverage(self, chosen: list[Unit], plan: QueryPlan) -> float:
        """Share of the question's IDF-weighted content stems found in the
        picked sentences (a translated stem counts for other-language ones)."""
        own, trans = self.query_weights(plan)
        total = sum(own.values())
        if not total:
            return 1.0
        stems: set[str] = set()
        other: set[str] = set()
        for u in chosen:
            (stems if u.lang == plan.lang else other).update(u.stems)
        covered = sum(w for t, w in own.items() if t in stems or t in other)
        covered += sum(w for t, w in trans.items() if t in other and t not in own)
        return min(1.0, covered / total)

    def features(self, units: list[Unit], chosen: list[Unit], hits: list[ScoredChunk], plan: QueryPlan,
                 question: str = "") -> dict:
        """The evidence signals the abstention decision reads (also returned
        with every answer, for inspection)."""
        p = self.params
        wants = answer_types(question)
        counted = self.counted_forms(question, plan.lang) if "count" in wants else []
        # the best sentences by relevance without the bonus for the answer type:
        # a sentence holding "a number" must not get in for holding a number
        top = sorted(units, key=lambda u: -(u.score - p.w_type * u.typed))[: p.typed_top * question_parts(question)]
        titles = self.title_words(plan.index)
        missing = [
            t for t in sorted(wants)
            if t not in ("person", "frequency")
            and not any(typed_match(u.quote, {t}, question, counted, u.lang or "de", titles) for u in top)
        ]
        return {
            "unknown_share": round(self.unknown_share(question, plan.lang, plan.index), 4),
            "best_cos": round(max((u.cos for u in units), default=0.0), 4),
            "best_cos_use": round(max((u.cos_use for u in units), default=0.0), 4),
            "best_lex": round(max((u.lex for u in units), default=0.0), 4),
            "coverage": round(self.coverage(chosen, plan), 4),
            "top_fused": round(hits[0].score, 5) if hits else 0.0,
            "n_candidates": len(units),
            "answer_types": sorted(wants),
            "missing_types": missing,
        }

    def unknown_share(self, question: str, lang: str, index: IndexSnapshot | None = None) -> float:
        """Share of the question's content words that occur nowhere in the
        index, in either language ("bake", "bread"; "Wetter", "morgen"): a
        question mostly about things the documents never mention is off topic."""
        from .conversation import content_words
        from .translate import Lexicon

        st = self.stats(index)
        other = "en" if lang == "de" else "de"
        words = [w for w in content_words(question) if not w.isdigit()]
        if not words:
            return 0.0
        unknown = 0
        for w in words:
            forms = set(analyze(w, lang)) | set(analyze(w, other))
            for t, weight in Lexicon.default().translate(w, lang, other):
                if weight >= 0.5:  # the first two senses; the rest is noise here
                    forms.update(analyze(t, other))
            if forms and not any(st.known(f) for f in forms):
                unknown += 1
        return unknown / len(words)

    def abstains(self, f: dict) -> bool:
        """Abstain when there is nothing to quote, when even the best sentence
        is far from the question, or when the question asks for a kind of
        thing (an amount, a date, a count of something, contact details) that
        none of the best sentences holds. A "person" and a "frequency" are not
        required: names and rhythms come in too many forms to test."""
        p = self.params
        return (
            f["n_candidates"] == 0
            or f["best_cos"] < p.min_cos
            or f["unknown_share"] >= p.max_unknown
            or bool(f["missing_types"])
        )

    def prepare(self, chunks: list[Chunk] | None = None) -> int:
        """Embed the sentences of every chunk now (into the cache), so that no
        question pays for it later; returns how many were embedded. About as
        long as embedding the chunks once with e5; worth it after an ingest."""
        chunks = list(self.retriever.chunks if chunks is None else chunks)
        total = 0
        for i in range(0, len(chunks), 16):
            _, n = self.vectors["e5"].get(chunks[i : i + 16])
            total += n
            if self.params.w_use:
                total += self.vectors["use"].get(chunks[i : i + 16])[1]
        return total

    # ---- the whole thing

    def answer(
        self,
        question: str,
        search_text: str,
        lang: str,
        filters: dict | None = None,
        k: int | None = None,
        hits: list[ScoredChunk] | None = None,
        index: IndexSnapshot | None = None,
    ) -> Answer:
        """The extractive answer to ``question`` (searched as ``search_text``)
        from one generation of the index (``index``, else the current one)."""
        ix = self._ix(index)
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        k = k or self.params.passages
        trace: dict = {}
        if hits is None:
            hits = self.retriever.search(search_text, k=k, filters=filters, trace=trace, index=ix)
        timings["retrieve"] = (time.perf_counter() - t0) * 1000
        t = time.perf_counter()
        plan = trace.get("plan") or self.retriever.plan(search_text, index=ix)
        plan = dataclasses.replace(plan, lang=lang)
        qvecs = dict(trace.get("qvec", {}))
        for name in ("e5", "use") if self.params.w_use else ("e5",):
            if name not in qvecs:
                qvecs[name] = get_embedder(name, self.settings.embed_threads).embed_queries([search_text])[0]
        units, embedded = self.units(hits, qvecs, plan)
        self.score(units, question, lang, index=ix)
        timings["sentences"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        chosen = self.select(units, question, lang)
        f = self.features(units, chosen, hits, plan, question)
        f["embedded_sentences"] = embedded
        if self.abstains(f):
            text = labels(lang)["abstain"]
            timings["select"] = (time.perf_counter() - t) * 1000
            timings["total"] = (time.perf_counter() - t0) * 1000
            return Answer(text, lang, True, (), "extractive", None, tuple(h.to_dict() for h in hits[:3]), timings,
                          question, search_text, f)
        text, citations = self.compose(chosen, question, lang)
        timings["select"] = (time.perf_counter() - t) * 1000
        timings["total"] = (time.perf_counter() - t0) * 1000
        return Answer(text, lang, False, tuple(citations), "extractive", None, (), timings, question, search_text, f)


# ---------------------------------------------------------------- text with markers (the LLM path)

__all__ = ["Answerer", "Params", "SentenceVectors", "labels", "is_list_question"]
