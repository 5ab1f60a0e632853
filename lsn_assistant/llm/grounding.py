"""What a model says, checked against the passages it cites: the passages as
the model sees them, its sentences, their support, and the composed answer.
Shared with the evaluation's groundedness."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable, Sequence

from lsn_assistant.language import question_language
from lsn_assistant.text import BULLET_OR_NUMBER as _BULLET
from lsn_assistant.text import sentence_spans as _spans
from lsn_assistant.lexical import analyze
from lsn_assistant.translate import Lexicon

from .markers import _MARKER, _VALID, check_markers, strip_sentinel

SUPPORT_MIN = 0.4  # share of a claim's content words its cited passage must contain


# --------------------------------------------------------------------------- passages


@dataclass(frozen=True)
class Passage:
    """One numbered passage as the model sees it."""

    n: int
    text: str
    doc: str = ""
    title: str = ""
    page: int | None = None
    section: str = ""
    lang: str = ""


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def as_passages(items: Iterable[Any]) -> list[Passage]:
    """Passages from dicts or objects with ``n, text, doc, title, page, section``
    (a ScoredChunk's ``.chunk`` is looked into); a missing ``n`` is the position + 1."""
    out: list[Passage] = []
    for i, item in enumerate(items):
        if isinstance(item, Passage):
            out.append(item)
            continue
        src = _get(item, "chunk", None) or item
        n = _get(item, "n", None)
        out.append(
            Passage(
                n=int(n) if n is not None else i + 1,
                text=str(_get(src, "text", "") or ""),
                doc=str(_get(src, "doc", "") or ""),
                title=str(_get(src, "title", "") or ""),
                page=_get(src, "page", None),
                section=str(_get(src, "section", "") or ""),
                lang=str(_get(src, "lang", "") or ""),
            )
        )
    return out


# --------------------------------------------------------------------------- sentences

def sentence_spans(text: str, lang: str | None = None) -> list[tuple[int, int]]:
    """(start, end) of each sentence of an LLM's text or a passage, by the one
    splitter (``text.sentence_spans``): lines are sentences of their own (list
    items), markers after the full stop (``Claim. [1]``) stay with their sentence.
    Its language only picks the splitter's abbreviations (German unless English)."""
    return _spans(text, lang or "de")


def split_sentences(text: str, lang: str | None = None) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text, lang)]


# --------------------------------------------------------------------------- support

_WORD = re.compile(r"\w+", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,' ]\d{3})*(?:[.,]\d+)?")


def _numbers(text: str) -> set[str]:
    out = set()
    for m in _NUMBER.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if digits:
            out.add(digits.lstrip("0") or "0")
    return out


def _guess_lang(text: str) -> str:
    return question_language(text, default="en") if text.strip() else "en"


def _claim_body(sentence: str) -> str:
    body = _VALID.sub(" ", sentence)
    body = _MARKER.sub(" ", body)
    return _BULLET.sub("", body)


@lru_cache(maxsize=4096)
def _word_forms(word: str, src: str, tgt: str) -> frozenset[str]:
    """Stems a claim word can appear as in a passage of language ``tgt``."""
    forms = set(analyze(word, "de")) | set(analyze(word, "en"))
    if src != tgt and not word.isdigit():
        try:
            for term, _w in Lexicon.default().translate([word], src, tgt, max_per_word=4):
                forms.update(analyze(term, tgt))
        except Exception:  # no lexicon: same-language matching only
            pass
    return frozenset(forms)


@lru_cache(maxsize=1024)
def _bag(text: str) -> frozenset[str]:
    return frozenset(analyze(text, "de")) | frozenset(analyze(text, "en"))


def _claim_words(claim: str) -> list[str]:
    body = _claim_body(claim)
    words = []
    for w in _WORD.findall(body):
        if analyze(w, "de") or analyze(w, "en"):  # content word
            words.append(w)
    return words


def support_score(claim: str, passage_text: str, claim_lang: str | None = None, passage_lang: str | None = None) -> float:
    """Share of the claim's content words found in the passage (0..1); 0 when
    the claim names a number the passage does not contain."""
    words = _claim_words(claim)
    if not words:
        return 1.0
    src = claim_lang or _guess_lang(_claim_body(claim))
    tgt = passage_lang or _guess_lang(passage_text[:600])
    bag = _bag(passage_text)
    if not _numbers(_claim_body(claim)) <= _numbers(passage_text):
        return 0.0
    hit = sum(1 for w in words if _word_forms(w.lower(), src, tgt) & bag)
    return hit / len(words)


def support_sentence(claim: str, passage_text: str, claim_lang: str | None = None, passage_lang: str | None = None) -> str:
    """The sentence of the passage that best supports the claim, verbatim.

    Scored by the share of the claim's content words it contains (numbers count
    double), ties broken towards the shorter sentence."""
    spans = sentence_spans(passage_text, passage_lang)
    if not spans:
        return passage_text.strip()
    words = _claim_words(claim)
    if not words:
        a, b = spans[0]
        return passage_text[a:b]
    src = claim_lang or _guess_lang(_claim_body(claim))
    tgt = passage_lang or _guess_lang(passage_text[:600])
    forms = [(_word_forms(w.lower(), src, tgt), 2.0 if w.isdigit() else 1.0) for w in words]
    best, best_key = spans[0], (-1.0, 0.0)
    for a, b in spans:
        sent = passage_text[a:b]
        bag = _bag(sent)
        score = sum(wt for f, wt in forms if f & bag)
        key = (score, -len(sent))
        if key > best_key:
            best, best_key = (a, b), key
    a, b = best
    return passage_text[a:b]


@dataclass
class Claim:
    """One sentence (or list item) of an answer and how well its passages back it."""

    sentence: str
    ns: list[int]  # markers it carries (or inherited, see ``inherited``)
    supported: bool
    score: float
    reason: str = ""  # "", "no marker", "weak support", "number not in passage"
    inherited: bool = False  # no marker of its own: checked against the previous sentence's
    kind: str = "claim"  # "claim" | "filler" (no content words) | "intro" (ends with ':')


def _passage_map(passages: Sequence[Any]) -> dict[int, Passage]:
    return {p.n: p for p in as_passages(passages)}


def _passage_text(p: Passage) -> str:
    return " \n".join(x for x in (p.title, p.section, p.text) if x)


def _judge(sentence: str, ns: list[int], pmap: dict[int, Passage], lang: str | None) -> tuple[float, str]:
    body = _claim_body(sentence)
    best = 0.0
    number_missing = True
    for n in ns:
        p = pmap.get(n)
        if p is None:
            continue
        text = _passage_text(p)
        if _numbers(body) <= _numbers(text):
            number_missing = False
        best = max(best, support_score(sentence, text, lang, p.lang or None))
    if best >= SUPPORT_MIN:
        return best, ""
    if number_missing and _numbers(body):
        return best, "number not in passage"
    return best, "weak support"


def assess(text: str, passages: Sequence[Any], lang: str | None = None, inherit: bool = False) -> list[Claim]:
    """Every sentence of an answer, judged against the passages it cites.

    A sentence without a marker is unsupported, unless ``inherit`` is set and
    it is backed by the passages the previous sentence of the same paragraph
    cited (a list under a cited introduction, a second sentence on the same
    source). Sentences without content words ("Ja.") and introductions ending
    with ':' are not claims."""
    pmap = _passage_map(passages)
    claims: list[Claim] = []
    prev_ns: list[int] = []
    last_end = 0
    for a, b in sentence_spans(text, lang):
        sentence = text[a:b]
        if "\n\n" in text[last_end:a]:
            prev_ns = []
        last_end = b
        claims.append(_claim(sentence, pmap, lang, prev_ns if inherit else []))
        if claims[-1].ns:
            prev_ns = claims[-1].ns
    return claims


def _claim(sentence: str, pmap: dict[int, Passage], lang: str | None, carried: list[int]) -> Claim:
    ns = [int(x) for x in _VALID.findall(sentence) if int(x) in pmap]
    ns = list(dict.fromkeys(ns))
    if not _claim_words(sentence):
        return Claim(sentence, ns, True, 1.0, kind="filler")
    if not ns and sentence.rstrip().endswith(":"):
        return Claim(sentence, carried, True, 1.0, kind="intro")
    if ns:
        score, reason = _judge(sentence, ns, pmap, lang)
        return Claim(sentence, ns, not reason, score, reason)
    if carried:
        score, reason = _judge(sentence, carried, pmap, lang)
        if not reason:
            return Claim(sentence, carried, True, score, inherited=True)
    return Claim(sentence, [], False, 0.0, "no marker")


def unsupported_sentences(text: str, passages: Sequence[Any], lang: str | None = None) -> list[str]:
    """Answer sentences to remove or flag: those whose cited passages share too
    little content with them (or lack a number they state), and those without
    any marker."""
    return [c.sentence for c in assess(text, passages, lang) if not c.supported]


# --------------------------------------------------------------------------- results


@dataclass
class LLMAnswer:
    """What ``GroundedLLM.answer`` returns; ``str(answer)`` is the text.

    ``text``: the checked answer (valid ``[n]`` markers only; unsupported
    sentences removed when asked). ``abstained``: the model said the passages
    do not answer, or no cited claim survived the checks; the caller then shows
    its own "not in the documents" message. ``quotes``: for each cited n, the
    sentence of passage n that best supports the claims citing it."""

    text: str
    abstained: bool
    used: list[int] = field(default_factory=list)
    quotes: dict[int, str] = field(default_factory=dict)
    dropped_markers: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    raw: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text


def _insert_markers(sentence: str, ns: list[int]) -> str:
    m = re.search(r"[.!?:;…]*$", sentence)
    i = m.start() if m else len(sentence)
    return sentence[:i].rstrip() + " " + "".join(f"[{n}]" for n in ns) + sentence[i:]


class _Composer:
    """Turns a model's raw output, delta by delta, into checked text.

    Works sentence by sentence: a sentence is released once the next one has
    begun (or the output ended), after its markers were checked and its support
    judged. The streamed pieces joined are exactly ``result().text``."""

    def __init__(self, passages: Sequence[Any], lang: str | None, drop_unsupported: bool = True):
        self.pmap = _passage_map(passages)
        self.lang = lang
        self.drop = drop_unsupported
        self.raw = ""
        self.out = ""
        self.done = 0  # sentences handled
        self.prev_ns: list[int] = []
        self.claims: list[Claim] = []
        self.pending_sep = ""
        self.sentinel = False
        self.dropped: list[str] = []
        self._last_dropped: list[str] = []
        self.held: list[str] = []  # non-claims not yet released

    def _safe_len(self, raw: str) -> int:
        k = len(raw)
        k = len(raw[:k].rstrip())
        tail = raw[:k]
        open_at = tail.rfind("[")
        if open_at > tail.rfind("]") and k - open_at < 40:
            k = open_at
        for j in range(min(12, k), 0, -1):  # a sentinel may be forming
            t = raw[k - j : k].lstrip("[ ")
            if t and any(v.startswith(t) for v in ("NO_ANSWER", "NO ANSWER", "NO-ANSWER", "NOANSWER")):
                k -= j
                break
        return k

    def _clean(self, raw: str) -> str:
        text, found = strip_sentinel(raw)
        self.sentinel = self.sentinel or found
        text, _, dropped = check_markers(text, set(self.pmap))
        self._last_dropped = dropped
        return text

    def feed(self, delta: str) -> str:
        self.raw += delta
        return self._release(self._clean(self.raw[: self._safe_len(self.raw)]), final=False)

    def finish(self) -> str:
        text = self._clean(self.raw)
        self.dropped = list(self._last_dropped)
        return self._release(text, final=True)

    def _release(self, text: str, final: bool) -> str:
        spans = sentence_spans(text, self.lang)
        ready = spans if final else spans[:-1]
        piece = ""
        for i in range(self.done, len(ready)):
            a, b = ready[i]
            p_end = ready[i - 1][1] if i > 0 else 0
            sep = text[p_end:a] if i > 0 else ""
            if "\n\n" in sep:
                self.prev_ns = []
            claim = _claim(text[a:b], self.pmap, self.lang, self.prev_ns)
            self.claims.append(claim)
            if claim.ns and claim.kind == "claim":
                self.prev_ns = claim.ns
            if sep.count("\n") > self.pending_sep.count("\n"):
                self.pending_sep = sep
            elif not self.pending_sep:
                self.pending_sep = sep
            if not claim.supported and self.drop:
                continue
            sentence = _insert_markers(claim.sentence, claim.ns) if claim.inherited else claim.sentence
            if claim.inherited:
                claim.sentence = sentence
            lead = "" if not self.out and not piece and not self.held else (self.pending_sep or " ")
            if "\n" not in lead:
                lead = " " if lead else ""
            self.pending_sep = ""
            if claim.kind != "claim":
                # an introduction ("Die Ziele sind:") or filler waits for a claim to follow it
                self.held.append(lead + sentence)
                continue
            piece += "".join(self.held) + lead + sentence
            self.held = []
        self.done = len(ready)
        self.out += piece
        return piece

    def result(self) -> LLMAnswer:
        cited = [c for c in self.claims if c.kind == "claim" and c.supported and c.ns]
        used = list(dict.fromkeys(int(n) for n in _VALID.findall(self.out)))
        quotes: dict[int, str] = {}
        for n in used:
            best = max(
                (c for c in self.claims if n in c.ns and (c.supported or not self.drop)),
                key=lambda c: c.score,
                default=None,
            )
            claim_text = best.sentence if best else self.out
            quotes[n] = support_sentence(claim_text, self.pmap[n].text, self.lang, self.pmap[n].lang or None)
        return LLMAnswer(
            text=self.out,
            abstained=self.sentinel or not cited,
            used=used,
            quotes=quotes,
            dropped_markers=self.dropped,
            unsupported=[c.sentence for c in self.claims if not c.supported],
            claims=self.claims,
            raw=self.raw,
        )


def compose(raw: str, passages: Sequence[Any], lang: str | None = None, drop_unsupported: bool = True) -> LLMAnswer:
    """Check a complete model output against the passages (what ``answer`` does
    with the server's reply; usable on any text)."""
    c = _Composer(passages, lang, drop_unsupported)
    c.feed(raw)
    c.finish()
    return c.result()
