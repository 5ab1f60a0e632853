"""Lexical query translation German <-> English, without a language model.

A question in one language about a document in the other defeats BM25: no
word is shared. ``Lexicon.translate`` turns the content words of a query into
target-language terms with weights, using a bilingual lexicon generated from
the FreeDict dictionaries (``lsn_assistant/data/lexicon-de-en.tsv.gz``, built
by ``scripts/build_lexicon.py``; see ``data/LEXICON.md``). The lexicon is a
plain gzip TSV shipped with the package: nothing but ``simplemma`` is needed
at run time.

What a query word goes through (source language ``src``):

* stop words are dropped (short lists below);
* multiword entries first: "medical technology" -> "Medizintechnik";
* a word is looked up as written (lower-cased: "investors" -> "Investoren")
  and as its simplemma lemma ("Mitglieder" -> "Mitglied" -> "member"); a
  capitalised German word is read as a noun: noun/verb homographs have a
  case-sensitive noun entry ("Unternehmen" -> "company", while
  "unternehmen" -> "undertake"), and it is not lemmatised into a verb;
* on the German side an unknown compound is split into known words, head
  last, with linking elements (-s-, -es-, -n-, -en-, -e-, -er-):
  "Gemeinschaftsstand" -> Gemeinschaft + Stand -> "community", "stand";
* a word that is still unknown is passed through unchanged: names and
  acronyms are mostly the same in both languages ("BioCon", "OLEC",
  "Regensburg"); so are numbers;
* names: tokens with inner capitals or all capitals ("BioCon", "OLEC") are
  passed through untranslated; in English, a capitalised word inside a
  sentence ("Valley", "Nord") is passed through with full weight and its
  dictionary translations get half weight.

Cost: loading the lexicon takes ~0.3 s; simplemma loads its German model
(~1 s) on the first German word, so call ``Lexicon.default().warm_up()`` at
start-up to keep that off the first query. After that a query takes < 1 ms.

Weights: the i-th translation of a word gets 1/i (best = 1.0); parts of a
split compound and words inside a matched multiword expression are scaled
down. A term reached from several query words keeps its highest weight, so
all weights are in (0, 1].
"""

from __future__ import annotations

import gzip
import re
import threading
from functools import lru_cache
from pathlib import Path

from .errors import ConfigError

DATA_FILE = Path(__file__).resolve().parent / "data" / "lexicon-de-en.tsv.gz"
# Read after DATA_FILE, for headwords it lacks (data/LEXICON.md).
SUPPLEMENTS: list[Path] = []

# Stop words: function words plus question scaffolding ("which", "gibt es").
# Kept short on purpose: content words must survive.
STOP_EN = frozenset(
    """a about above after again against all almost also although am among an and another any anyone
    anything are around as at be became because become been before being below between both but by can
    could did do does doing done down during each either else etc even ever every few for from further
    get gets got had has have having he her here hers herself him himself his how however i if in into is
    it its itself just let like may me might more most much must my myself neither no nor not now of off
    often on once one only onto or other others otherwise our ours ourselves out over own per perhaps
    please quite rather really same shall she should since so some something somehow still such than
    that the their theirs them themselves then there therefore these they this those though through thus
    to too toward towards under until up upon us very via was we well were what whatever when whenever
    where whereas whether which while who whoever whom whose why will with within without would yet you
    your yours yourself yourselves apparently actually anyway exactly i.e e.g tell know say said says
    mean means there's what's it's isn't aren't doesn't don't didn't many""".split()
)
STOP_DE = frozenset(
    """aber alle allem allen aller alles als also am an ander andere anderem anderen anderer anderes
    anders auch auf aus bei beim bereits bin bis bisher bist bzw da dabei dadurch dafür dagegen daher
    damals damit danach dann daran darauf daraus darin darüber darum das dass daß dasselbe davon dazu
    dein deine deinem deinen deiner deines dem demnach den denen denn dennoch der deren derer des dessen
    deshalb dich die dies diese dieselbe dieselben diesem diesen dieser dieses dir doch dort du durch eben
    ein eine einem einen einer eines einige einigem einigen einiger einiges einmal er es etwa etwas euch
    euer eure eurem euren eurer eures für gab gegen gemäß gewesen gibt hab habe haben hat hatte hatten
    hier hin hinter ich ihm ihn ihnen ihr ihre ihrem ihren ihrer ihres im in indem ins ist ja je jede
    jedem jeden jeder jedes jedoch jene jenem jenen jener jenes jetzt kann kein keine keinem keinen keiner
    keines können könnte laut man manche manchem manchen mancher manches mein meine meinem meinen meiner
    meines mich mir mit muss musste müssen nach nachdem neben nein nicht nichts noch nun nur ob oder ohne
    per sehr sei sein seine seinem seinen seiner seines seit selbst sich sie sind so sodass solche solchem
    solchen solcher solches soll sollen sollte sollten sondern sonst sowie sowohl statt über um und uns
    unser unsere unserem unseren unserer unseres unter usw viel vom von vor während war waren warst was
    weder weg wegen weil welche welchem welchen welcher welches wem wen wenn wer werde werden wessen wie
    wieder wieso will wir wird wirst wo wobei wodurch wofür woher wohin wollen wollte worden wurde wurden
    würde würden zu zum zur zwar zwischen wann warum wieviel wieviele z.b eigentlich offenbar angeblich
    bzgl viele vielen""".split()
)
STOP = {"de": STOP_DE, "en": STOP_EN}

_TOKEN_RE = re.compile(r"[0-9A-Za-zÀ-ÖØ-öø-ÿß]+(?:[-&'’.][0-9A-Za-zÀ-ÖØ-öø-ÿß]+)*")
_SENT_END = re.compile(r"[.!?:;]\s*$")
_POSSESSIVE = re.compile(r"['’]s$")
# English verb particles: "set up", "team up", "carry out" are dictionary entries
_PARTICLES = frozenset("up out off down on over in back away along through".split())
_LINKS = ("", "s", "es", "n", "en", "e", "er", "ns")  # German linking elements (Fugen)
_MIN_PART = 3

_SIMPLEMMA_LOCK = threading.Lock()


def _lemma(word: str, lang: str) -> str:
    try:
        import simplemma
    except ImportError:  # pragma: no cover - simplemma is a project dependency
        return word
    with _SIMPLEMMA_LOCK:
        return simplemma.lemmatize(word, lang=lang)


def tokenize(text: str) -> list[tuple[str, bool]]:
    """Words of ``text`` with a flag: does the word start a sentence?"""
    out: list[tuple[str, bool]] = []
    last_end = 0
    initial = True
    for m in _TOKEN_RE.finditer(text):
        gap = text[last_end : m.start()]
        if out and _SENT_END.search(gap):
            initial = True
        w = _POSSESSIVE.sub("", m.group(0).rstrip("."))  # "masterplan's" -> "masterplan"
        if w:
            out.append((w, initial))
        initial = False
        last_end = m.end()
    return out


def _is_name(word: str) -> bool:
    """Acronyms and CamelCase names: OLEC, LSN, BioCon, mRNA."""
    letters = [c for c in word if c.isalpha()]
    if len(letters) < 2:
        return False
    if all(c.isupper() for c in letters):
        return True
    return any(c.isupper() for c in letters[1:]) and "-" not in word


class Lexicon:
    """German <-> English lexicon: ``translate()`` and ``expand_query()``."""

    _default: "Lexicon | None" = None
    _default_lock = threading.Lock()

    def __init__(self, path: str | Path | None = None, supplements: list[str | Path] | None = None):
        self.path = Path(path) if path else DATA_FILE
        # Supplements only add headwords the main file lacks, so a word it
        # knows is translated the same with or without them.
        self.supplements = [Path(p) for p in (SUPPLEMENTS if supplements is None else supplements)]
        self._maps: dict[str, dict[str, str]] | None = None
        self._load_lock = threading.Lock()
        self.header: list[str] = []

    @classmethod
    def default(cls) -> "Lexicon":
        """The packaged lexicon, created once; the file is read on first use."""
        if cls._default is None:
            with cls._default_lock:
                if cls._default is None:
                    cls._default = cls()
        return cls._default

    # ---- loading

    @property
    def maps(self) -> dict[str, dict[str, str]]:
        if self._maps is None:
            with self._load_lock:
                if self._maps is None:
                    self._maps = self._load()
        return self._maps

    def _load(self) -> dict[str, dict[str, str]]:
        maps: dict[str, dict[str, str]] = {"de": {}, "en": {}}
        for path in (self.path, *self.supplements):
            self._read(path, maps, supplement=path != self.path)
        return maps

    def _read(self, path: Path, maps: dict[str, dict[str, str]], supplement: bool) -> None:
        current: dict[str, str] | None = None
        try:
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                text = fh.read()
        except FileNotFoundError as exc:
            raise ConfigError(
                f"bilingual lexicon {path} is missing: reinstall the package or rebuild it "
                "with scripts/build_lexicon.py or scripts/build_lexicon_ding.py (see lsn_assistant/data/LEXICON.md)"
            ) from exc
        for line in text.split("\n"):
            if not line:
                continue
            if line[0] == "#":
                self.header.append(line[1:].strip())
                continue
            if line[0] == "@":
                current = maps.setdefault(line[1:3], {})
                continue
            key, _, trans = line.partition("\t")
            if current is not None and not (supplement and key in current):
                current[key] = trans

    def warm_up(self) -> "Lexicon":
        """Load the lexicon and simplemma's de/en models now (about 1.5 s
        together) instead of on the first query."""
        self.maps
        _lemma("Häuser", "de")
        _lemma("houses", "en")
        return self

    def lookup(self, word: str, src: str) -> list[str]:
        """Dictionary translations of one headword (lower-cased), best first."""
        hit = self.maps.get(src, {}).get(word.lower())
        return hit.split("|") if hit else []

    def __contains__(self, item: tuple[str, str]) -> bool:
        word, src = item
        return word.lower() in self.maps.get(src, {})

    # ---- word level

    def _word_translations(self, word: str, src: str, max_per_word: int) -> list[str]:
        """Translations of a single word via its written form and its lemma."""
        return list(_cached_word(self, word, src, max_per_word))

    def _lookup_forms(self, word: str, src: str, max_per_word: int) -> list[str]:
        low = word.lower()
        table = self.maps.get(src, {})
        forms = [low]
        if src == "de":
            # simplemma's German model expects nouns capitalised; a
            # capitalised word is lemmatised as written only ("Schiff" must
            # not become the verb "schiffen")
            cands = (word,) if word[:1].isupper() else (word, word[:1].upper() + word[1:])
            for cand in cands:
                lem = _lemma(cand, "de")
                if lem.lower() not in forms:
                    forms.append(lem.lower())
        else:
            lem = _lemma(low, "en").lower()
            if lem not in forms:
                forms.append(lem)
        lists = []
        for f in forms:
            # a capitalised German word is a noun: noun/verb homographs
            # (Unternehmen / unternehmen) have a case-sensitive noun entry
            hit = None
            if src == "de" and word[:1].isupper():
                hit = table.get(f[:1].upper() + f[1:])
            hit = hit or table.get(f)
            if hit:
                lists.append(hit.split("|"))
        if not lists:
            return []
        # interleave written-form and lemma translations: Investoren, Investor, ...
        out: list[str] = []
        seen: set[str] = set()
        for rank in range(max(len(lst) for lst in lists)):
            for lst in lists:
                if rank < len(lst) and lst[rank].lower() not in seen:
                    seen.add(lst[rank].lower())
                    out.append(lst[rank])
        return out[:max_per_word]

    def split_compound(self, word: str) -> list[str] | None:
        """Split a German compound into known lexicon words, head last.

        "Gemeinschaftsstand" -> ["gemeinschaft", "stand"]. Returns None when
        no split into known words exists. Prefers the split with the longest
        head, then the fewest parts. Works on any word; ``translate`` uses it
        only for words that are not in the lexicon themselves.
        """
        return _cached_split(self, word.lower())

    def _split(self, low: str, depth: int = 0) -> list[str] | None:
        if depth > 3 or len(low) < 2 * _MIN_PART:
            return None
        best: list[str] | None = None
        best_key: tuple = ()
        for i in range(_MIN_PART, len(low) - _MIN_PART + 1):
            head = low[i:]
            head_key = self._known_de(head)
            if head_key is None:
                continue
            left = low[:i]
            for link in _LINKS:
                if link and not left.endswith(link):
                    continue
                mod = left[: len(left) - len(link)] if link else left
                if len(mod) < _MIN_PART:
                    continue
                mod_key = self._known_de(mod)
                if mod_key is None and not link:
                    # "Schul" + buch -> Schule
                    mod_key = self._known_de(mod + "e")
                parts = [mod_key] if mod_key else self._split(mod, depth + 1)
                if not parts:
                    continue
                key = (len(head), -len(parts), len(mod))
                if key > best_key:
                    best_key, best = key, parts + [head_key]
            if best is not None:
                break  # longest head found (heads are tried longest first)
        return best

    def _known_de(self, part: str) -> str | None:
        table = self.maps.get("de", {})
        if len(part) < _MIN_PART:
            return None
        if part in table:
            return part
        lem = _lemma(part[:1].upper() + part[1:], "de").lower()
        if lem != part and lem in table:
            return lem
        return None

    # ---- query level

    def translate(
        self,
        tokens_or_text: str | list[str],
        src: str,
        tgt: str,
        max_per_word: int = 3,
        keep_source: float = 0.0,
    ) -> list[tuple[str, float]]:
        """Target-language terms for a query with weights in (0, 1], best first.

        ``tokens_or_text``: the query, or its words. ``src``/``tgt``: "de" or
        "en". ``max_per_word``: translations kept per query word.
        ``keep_source``: if > 0, every translated word is also returned
        unchanged with this weight (loanwords: "Workshop", "Event").
        Unknown words and names come back unchanged with weight 1.0.
        """
        if src == tgt:
            raise ValueError("src and tgt must differ")
        if isinstance(tokens_or_text, str):
            toks = tokenize(tokens_or_text)
        else:
            toks = [(t, i == 0) for i, t in enumerate(tokens_or_text) if t]
        stop = STOP.get(src, frozenset())
        weights: dict[str, float] = {}
        order: dict[str, int] = {}

        def add(term: str, w: float) -> None:
            k = term.lower()
            if k not in order:
                order[k] = len(order)
                weights[term] = w
                _canon[k] = term
            else:
                t0 = _canon[k]
                weights[t0] = max(weights[t0], w)

        _canon: dict[str, str] = {}
        table = self.maps.get(src, {})
        words = [w for w, _ in toks]
        lows = [w.lower() for w in words]
        in_phrase = [False] * len(toks)
        # multiword expressions (3 then 2 words), content word at both ends
        for n in (3, 2):
            for i in range(len(toks) - n + 1):
                span = lows[i : i + n]
                particle = src == "en" and span[-1] in _PARTICLES
                if span[0] in stop or (span[-1] in stop and not particle) or any(in_phrase[i : i + n]):
                    continue
                if any(_is_name(w) for w in words[i : i + n]):
                    continue
                keys = [" ".join(span)]
                if particle:  # "teaming up" -> "team up"
                    first_lem = _lemma(span[0], "en").lower()
                    if first_lem != span[0]:
                        keys.append(" ".join([first_lem] + span[1:]))
                else:
                    last_lem = _lemma(span[-1] if src == "en" else words[i + n - 1], src).lower()
                    if last_lem != span[-1]:
                        keys.append(" ".join(span[:-1] + [last_lem]))
                for key in keys:
                    if key in table:
                        for r, t in enumerate(table[key].split("|")[:max_per_word]):
                            add(t, 1.0 / (r + 1))
                        for j in range(i, i + n):
                            in_phrase[j] = True
                        break
        for idx, (word, initial) in enumerate(toks):
            low = lows[idx]
            if _is_name(word):  # before the stop list: "IT", "WHO"
                add(word, 1.0)
                continue
            if low in stop or (len(low) < 2 and not low.isdigit()):
                continue
            scale = 0.5 if in_phrase[idx] else 1.0
            if low.isdigit() or not any(c.isalpha() for c in low):
                add(word, 1.0)
                continue
            name_like = src == "en" and word[:1].isupper() and not initial
            trans = self._word_translations(word, src, max_per_word)
            if name_like:
                add(word, 1.0)
                scale *= 0.5
            if trans:
                for r, t in enumerate(trans):
                    add(t, scale / (r + 1))
                if keep_source > 0:
                    add(word, keep_source * scale)
                continue
            parts = self._split_any(word, src)
            if parts:
                n = len(parts)
                for p_i, part in enumerate(parts):
                    # the head (last part) carries the meaning of a compound;
                    # German compound parts are nouns as a rule
                    pscale = scale * (0.8 if p_i == n - 1 else 0.5)
                    if src == "de":
                        part = part[:1].upper() + part[1:]
                    for r, t in enumerate(self._word_translations(part, src, max_per_word)):
                        add(t, pscale / (r + 1))
                add(word, 0.5 * scale)  # the compound itself may occur as is
                continue
            if not name_like:
                add(word, scale)  # unknown: pass through
        ranked = sorted(weights.items(), key=lambda kv: (-kv[1], order[kv[0].lower()]))
        return [(t, round(w, 4)) for t, w in ranked]

    def _split_any(self, word: str, src: str) -> list[str] | None:
        """Hyphenated words split at hyphens (both languages); German compounds
        by dictionary lookup."""
        if "-" in word:
            parts = [p for p in word.split("-") if len(p) >= 2]
            known = [p for p in parts if (p.lower(), src) in self or self._word_translations(p, src, 1)]
            if known:
                return known
        if src == "de" and len(word) >= 2 * _MIN_PART + 1 and word.isalpha():
            return self.split_compound(word)
        return None

    def expand_query(self, text: str, src: str, tgt: str, max_per_word: int = 3) -> str:
        """A target-language pseudo-query for BM25: terms best first; a term
        with weight w appears max(1, round(2*w)) times, so the best
        translation of each word counts double."""
        out: list[str] = []
        for term, w in self.translate(text, src, tgt, max_per_word=max_per_word):
            out.extend([term] * max(1, round(2 * w)))
        return " ".join(out)


@lru_cache(maxsize=20000)
def _cached_word(lex: Lexicon, word: str, src: str, max_per_word: int) -> tuple[str, ...]:
    return tuple(lex._lookup_forms(word, src, max_per_word))


@lru_cache(maxsize=20000)
def _cached_split(lex: Lexicon, low: str) -> list[str] | None:
    return lex._split(low)


def translate(tokens_or_text: str | list[str], src: str, tgt: str, max_per_word: int = 3) -> list[tuple[str, float]]:
    """``Lexicon.default().translate(...)``."""
    return Lexicon.default().translate(tokens_or_text, src, tgt, max_per_word=max_per_word)


def expand_query(text: str, src: str, tgt: str) -> str:
    """A target-language pseudo-query string for BM25 (see Lexicon.expand_query)."""
    return Lexicon.default().expand_query(text, src, tgt)
