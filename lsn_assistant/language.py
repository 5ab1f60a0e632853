"""Language of a text with langdetect, made deterministic.

langdetect samples randomly; a fixed seed makes the same text always get the
same answer, so re-ingesting yields identical chunks and ids.
"""

from __future__ import annotations

import threading

from langdetect import DetectorFactory, LangDetectException, detect_langs

DetectorFactory.seed = 0
_lock = threading.Lock()  # the seeded factory is shared state


def detect_language(text: str, allowed: tuple[str, ...] = ("de", "en"), default: str = "") -> str:
    """The most probable of ``allowed`` languages, or ``default`` when the text
    carries too little signal (numbers, names, a few words)."""
    sample = text[:2000]
    if sum(ch.isalpha() for ch in sample) < 20:
        return default
    try:
        with _lock:
            candidates = detect_langs(sample)
    except LangDetectException:
        return default
    for cand in candidates:
        if cand.lang in allowed:
            return cand.lang
    return candidates[0].lang if candidates and not allowed else default


_DE_MARKERS = set("der die das und ist sind wie was wer wann welche welcher welches wo warum gibt es ein eine nicht mit für von im auf dem den des zu zur zum bei hat haben wird werden sich auch oder noch".split())
_EN_MARKERS = set("the and is are how what who when which where why there a an not with for of in on to at has have does do did was were be it this that their its or".split())


def question_language(text: str, default: str = "en") -> str:
    """Language of a short question: function words first (reliable on a few
    words, where langdetect guesses), langdetect for the rest."""
    words = [w.strip(".,;:!?()\"'„“”»«").lower() for w in text.split()]
    de = sum(w in _DE_MARKERS for w in words) + sum(ch in "äöüß" for ch in text.lower())
    en = sum(w in _EN_MARKERS for w in words)
    if de != en and max(de, en) >= 2:
        return "de" if de > en else "en"
    return detect_language(text, default=default) or default
