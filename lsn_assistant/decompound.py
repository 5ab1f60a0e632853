"""German compounds split into their parts, for BM25.

"Fachkräftemangel" shares no word with "Mangel an Fachkräften", nor
"Landesförderung" with "Förderung des Landes": a German question and a German
passage (or a translated English question) often name one thing once as a
compound and once as a phrase. Lexical retrieval indexes and searches a
compound's parts next to the compound itself, so either form meets the other.

The parts are words of the bilingual lexicon (``translate.Lexicon``, ~90,000
German headwords, found through simplemma's lemmas as well), joined with the
linking elements German uses (-s-, -es-, -n-, -en-, -e-, -er-). No model is
needed: the lexicon is already loaded for query translation.

Deliberately conservative, because a wrong split adds a wrong term to a
passage ("Entscheidung" is not "Ente" + "Scheidung"):

* only capitalised words (German nouns; compounds are nouns as a rule) of at
  least ``MIN_WORD`` letters, or words of a query written all in lower case;
* every part has at least ``MIN_PART`` letters: the short words that end so
  many German words ("eln", "bar", "sch") are never parts;
* after a nominal suffix that takes the linking -s- ("-ung", "-heit", "-keit",
  "-schaft", "-ion", "-tät", "-ling", "-tum") the -s- links, it does not start
  the next part: "Bundesverwaltungsamt" is Verwaltung + Amt, not + "Samt";
* among the splits left, the longest head wins, then the fewest parts.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

from .translate import Lexicon, _lemma

MIN_WORD = 8
MIN_PART = 4
_LINKS = ("s", "es", "n", "en", "e", "er", "ns", "")
# Nominal suffixes after which German puts the linking -s- (Fugen-s).
_S_SUFFIXES = ("ung", "heit", "keit", "schaft", "ion", "tät", "ität", "ling", "tum")
_WORD = re.compile(r"^[a-zäöüß]+$")
# Word endings the lexicon also lists as words: "Mitglied|schaft",
# "Diskuss|ionen", "Bestehe|nde" are derivations, not compounds.
_NOT_HEADS = frozenset({"schaft", "schaften", "ende", "enden", "ionen", "ismus", "linge"})

_lock = threading.Lock()


def _known(part: str) -> str | None:
    """The lexicon's headword for ``part`` (lower case), as written or as its
    noun lemma ("kräfte" -> "kraft"), or None."""
    table = Lexicon.default().maps.get("de", {})
    if len(part) < MIN_PART:
        return None
    if part in table:
        return part
    lem = _lemma(part[:1].upper() + part[1:], "de").lower()
    if lem != part and len(lem) >= MIN_PART and lem in table:
        return lem
    return None


def _split(low: str, depth: int = 0) -> tuple[str, ...] | None:
    if depth > 3 or len(low) < 2 * MIN_PART:
        return None
    best: tuple[str, ...] | None = None
    best_key: tuple = ()
    for i in range(MIN_PART, len(low) - MIN_PART + 1):
        head, left = low[i:], low[:i]
        # "verwaltungs|amt", never "verwaltung|samt": the s after such a
        # suffix is the linking element
        if head.startswith("s") and left.endswith(_S_SUFFIXES):
            continue
        head_key = _known(head) if head not in _NOT_HEADS else None
        if head_key is None:
            continue
        for link in _LINKS:
            if link and not left.endswith(link):
                continue
            mod = left[: len(left) - len(link)] if link else left
            if len(mod) < MIN_PART:
                continue
            mod_key = _known(mod) or (None if link else _known(mod + "e"))  # "Schul|buch" -> Schule
            parts = (mod_key,) if mod_key else _split(mod, depth + 1)
            if not parts:
                continue
            key = (len(head), -len(parts), -len(link))
            if key > best_key:
                best_key, best = key, (*parts, head_key)
        if best is not None:
            break  # the longest known head (heads are tried longest first)
    return best


@lru_cache(maxsize=200_000)
def _cached(low: str) -> tuple[str, ...]:
    with _lock:  # simplemma and the lazy lexicon load are not re-entrant
        return _split(low) or ()


def compound_parts(word: str, any_case: bool = False) -> tuple[str, ...]:
    """The parts of a German compound, lower case, head last; () when
    ``word`` is not one (or not a noun and ``any_case`` is False).

    Hyphenated words split at their hyphens ("Life-Science-Branche"), and
    each piece is split in turn."""
    if "-" in word:
        pieces = [p for p in word.split("-") if p]
        out: list[str] = []
        for p in pieces:
            sub = compound_parts(p, any_case) if len(p) >= MIN_WORD else ()
            out.extend(sub or ([p.lower()] if len(p) >= 2 else []))
        return tuple(out) if len(out) > 1 else ()
    if len(word) < MIN_WORD or not (any_case or (word[:1].isupper() and not word.isupper())):
        return ()
    low = word.lower()
    if not _WORD.match(low):
        return ()
    return _cached(low)
