"""Lexical retrieval: BM25 (bm25s) over per-language Snowball stems.

Each chunk is analysed with the stemmer of its own language; a query is analysed
with the stemmer of its language, and its lexical translation (translate.py) with
the other's, so one index serves German, English and mixed queries.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import bm25s
import numpy as np
import Stemmer

_TOKEN = re.compile(r"\w+", re.UNICODE)
_STEMMERS = {"de": "german", "en": "english"}

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


def analyze(text: str, lang: str) -> list[str]:
    """Lower-cased, stop-word-free Snowball stems of ``text`` in ``lang``."""
    words = [w for w in _TOKEN.findall(text.lower()) if w not in STOPWORDS["de"] and w not in STOPWORDS["en"]]
    words = [w for w in words if len(w) > 1 or w.isdigit()]
    with _stem_lock:
        return _stemmer(lang if lang in _STEMMERS else "de").stemWords(words)


class LexicalIndex:
    def __init__(self, texts: list[str], langs: list[str], k1: float = 1.2, b: float = 0.75):
        self.size = len(texts)
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        corpus = [analyze(t, l) or ["\x00empty"] for t, l in zip(texts, langs)]
        if corpus:
            self._bm25.index(corpus, show_progress=False)
        self._lock = threading.Lock()

    def scores(self, weighted_terms: dict[str, float]) -> np.ndarray:
        """BM25 score of every chunk for stemmed query terms with weights."""
        total = np.zeros(self.size, dtype=np.float32)
        if not self.size or not weighted_terms:
            return total
        by_weight: dict[float, list[str]] = {}
        for term, w in weighted_terms.items():
            by_weight.setdefault(round(w, 4), []).append(term)
        with self._lock:
            for w, terms in by_weight.items():
                total += w * self._bm25.get_scores(terms)
        return total
