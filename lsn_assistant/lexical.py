"""Lexical retrieval: BM25 (bm25s) over per-language Snowball stems.

Each chunk is analysed with the stemmer of its own language; a query is analysed
with the stemmer of its language, and its lexical translation (translate.py) with
the other's, so one index serves German, English and mixed queries.

German compounds also stand for their parts (``compounds=True``, decompound.py),
in the index and in the question, so "Fachkräftemangel" meets "Mangel an
Fachkräften".
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import bm25s
import numpy as np
import Stemmer

from .decompound import compound_parts
from .translate import Lexicon

_TOKEN = re.compile(r"\w+", re.UNICODE)
_STEMMERS = {"de": "german", "en": "english"}
OTHER_LANG = {"de": "en", "en": "de"}

STOPWORDS = {
    "de": set(
        """aber alle allem allen aller alles als also am an ander andere anderem anderen anderer anderes
        anderm andern anderr anders auch auf aus bei bin bis bist da damit dann das dass dasselbe dazu daß
        dein deine deinem deinen deiner deines dem demselben den denn denselben der derer derselbe derselben
        des desselben dessen dich die dies diese dieselbe dieselben diesem diesen dieser dieses dir doch dort
        du durch ein eine einem einen einer eines einig einige einigem einigen einiger einiges einmal er es
        etwas euch euer eure eurem euren eurer eures für gegen gewesen hab habe haben hat hatte hatten hier
        hin hinter ich ihm ihn ihnen ihr ihre ihrem ihren ihrer ihres im in indem ins ist jede jedem jeden
        jeder jedes jene jenem jenen jener jenes jetzt kann kein keine keinem keinen keiner keines können
        könnte machen man manche manchem manchen mancher manches mein meine meinem meinen meiner meines mich
        mir mit muss musste nach nicht nichts noch nun nur ob oder ohne sehr sein seine seinem seinen seiner
        seines selbst sich sie sind so solche solchem solchen solcher solches soll sollte sondern sonst um
        und uns unsere unserem unseren unser unseres unter viel vom von vor war waren warst was weg weil
        weiter welche welchem welchen welcher welches wenn werde werden wie wieder will wir wird wirst wo
        wollen wollte würde würden zu zum zur zwar zwischen gibt gab wer wann wieviel wieviele viele""".split()
    ),
    "en": set(
        """a about above after again against all am an and any are as at be because been before being below
        between both but by can could did do does doing down during each few for from further had has have
        having he her here hers herself him himself his how i if in into is it its itself just me more most
        my myself no nor not now of off on once only or other our ours ourselves out over own same she should
        so some such than that the their theirs them themselves then there these they this those through to
        too under until up very was we were what when where which while who whom why will with would you your
        yours yourself yourselves also there's what's is it's many much""".split()
    ),
}


@lru_cache(maxsize=None)
def _stemmer(lang: str):
    return Stemmer.Stemmer(_STEMMERS.get(lang, "german"))


_stem_lock = threading.Lock()  # PyStemmer objects are not thread-safe


def analyze(text: str, lang: str, compounds: bool = False) -> list[str]:
    """Lower-cased, stop-word-free Snowball stems of ``text`` in ``lang``.

    ``compounds``: a German compound is followed by the stems of its parts
    ("Fachkräftemangel" -> fachkraftemangel, fachkraft, mangel)."""
    if compounds and lang == "de":
        return analyze(text, lang) + compound_stems(text)
    words = [w for w in _TOKEN.findall(text.lower()) if w not in STOPWORDS["de"] and w not in STOPWORDS["en"]]
    words = [w for w in words if len(w) > 1 or w.isdigit()]
    with _stem_lock:
        return _stemmer(lang if lang in _STEMMERS else "de").stemWords(words)


def compound_stems(text: str) -> list[str]:
    """German stems of the parts of the compounds in ``text``, once per
    occurrence. A text written all in lower case (a typed question) has no
    capitals to tell nouns by, so every long word is tried."""
    any_case = text == text.lower()
    parts: list[str] = []
    for word in _TOKEN.findall(text):
        parts.extend(p for p in compound_parts(word, any_case) if p not in STOPWORDS["de"])
    if not parts:
        return []
    with _stem_lock:
        return _stemmer("de").stemWords(parts)


# A reload after an ingest re-indexes every chunk; the analysis of a text that
# did not change is kept (per process), so only new chunks pay for splitting
# compounds. Keys hold the chunks' own strings, not copies.
@lru_cache(maxsize=50_000)
def _chunk_terms(text: str, lang: str, compounds: bool) -> tuple[str, ...]:
    return tuple(analyze(text, lang, compounds))


class LexicalIndex:
    """BM25 over the chunks' stems (with the parts of German compounds when
    ``compounds``)."""

    def __init__(self, texts: list[str], langs: list[str], k1: float = 1.2, b: float = 0.75, compounds: bool = False):
        self.size = len(texts)
        self.compounds = compounds
        self._bm25 = self._build([list(_chunk_terms(t, l, compounds)) for t, l in zip(texts, langs)], k1, b)
        self._lock = threading.Lock()

    @staticmethod
    def _build(corpus: list[list[str]], k1: float, b: float) -> "bm25s.BM25 | None":
        if not corpus:
            return None
        index = bm25s.BM25(k1=k1, b=b)
        index.index([terms or ["\x00empty"] for terms in corpus], show_progress=False)
        return index

    def scores(self, weighted_terms: dict[str, float]) -> np.ndarray:
        """BM25 score of every chunk for stemmed query terms with weights."""
        total = np.zeros(self.size, dtype=np.float32)
        if self._bm25 is None or not weighted_terms:
            return total
        by_weight: dict[float, list[str]] = {}
        for term, w in weighted_terms.items():
            by_weight.setdefault(round(w, 4), []).append(term)
        with self._lock:
            for w, terms in by_weight.items():
                total += w * self._bm25.get_scores(terms)
        return total


# ---- the pieces of a cross-lingual BM25 search (retrieve.py puts them together)


def query_terms(text: str, lang: str, compounds: bool = False, part_weight: float = 0.5) -> dict[str, float]:
    """A question's stems with weights: 1 per occurrence, and ``part_weight``
    for the parts of its compounds (a part is a weaker cue than a word the
    question wrote out)."""
    terms: dict[str, float] = {}
    for t in analyze(text, lang):
        terms[t] = terms.get(t, 0.0) + 1.0
    if compounds and lang == "de":
        for t in compound_stems(text):
            terms[t] = max(terms.get(t, 0.0), part_weight)
    return terms


def translated_terms(text: str, lang: str, compounds: bool = False, lexicon=None) -> dict[str, float]:
    """Stems of the question's lexical translation into the other language,
    each with the weight of its best translation (translate.py)."""
    lexicon = lexicon or Lexicon.default()
    other = OTHER_LANG.get(lang, "de")
    out: dict[str, float] = {}
    for term, w in lexicon.translate(text, lang, other):
        for stem in analyze(term, other, compounds):
            out[stem] = max(out.get(stem, 0.0), w)
    return out


def cross_lingual_scores(
    index: LexicalIndex,
    terms: dict[str, float],
    translated: dict[str, float],
    other: np.ndarray,
    translation_weight: float = 1.0,
) -> np.ndarray:
    """BM25 of every chunk for one question. Chunks in the question's language
    (``other`` False) are scored with its own terms only: there the
    translation's wrong senses are noise. Chunks in the other language with
    its terms plus its translation, each translated stem at
    ``translation_weight`` times its translation's weight."""
    scores = index.scores(terms)
    if translated and other.any():
        merged = dict(terms)
        for t, w in translated.items():
            merged[t] = max(merged.get(t, 0.0), translation_weight * w)
        scores = np.where(other, index.scores(merged), scores)
    return scores


def balance_languages(scores: np.ndarray, other: np.ndarray, balance: float) -> np.ndarray:
    """Scores through a translation run lower than exact matches: scale the
    other language's scores so that its best chunk comes to (``balance`` = 1;
    part of the way below 1) the level of the best chunk in the question's
    language. A passage then wins no place in the ranking for being in the
    question's language: a German-only passage must not lose to an English
    neighbour because the question is English."""
    if not balance:
        return scores
    top_same, top_other = float(scores[~other].max(initial=0.0)), float(scores[other].max(initial=0.0))
    if top_same > 0 and top_other > 0:
        return np.where(other, scores * (top_same / top_other) ** balance, scores)
    return scores


def bm25_scores(
    index: LexicalIndex,
    terms: dict[str, float],
    translated: dict[str, float],
    chunk_langs: np.ndarray,
    query_lang: str,
    translation_weight: float = 1.0,
    balance: float = 0.0,
) -> np.ndarray:
    """The BM25 list's scores for one question: ``cross_lingual_scores``,
    then ``balance_languages``."""
    other = chunk_langs != query_lang
    scores = cross_lingual_scores(index, terms, translated, other, translation_weight)
    return balance_languages(scores, other, balance)
