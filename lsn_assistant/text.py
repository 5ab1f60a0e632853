"""Sentence splitting, shared by ingest (chunk boundaries), answers (quotes)
and the LLM's grounding checks (claims of its text), and the one check of text
that users send (``clean_text``).

One splitter for all, so the sentences an answer quotes are the units the
chunker kept whole and the claims an LLM writes are cut by the same rules.
``sentence_spans`` gives exact character offsets into a text: a quote is always
``text[start:end]``, verbatim.
"""

from __future__ import annotations

import re
import unicodedata

from simplemma.sentences import split_sentences

from .errors import BadQuery

# Abbreviations that end a "sentence" in simplemma's split but not in German prose.
_NO_BREAK_AFTER = re.compile(r"\b(?:Mio|Mrd|Abb|Fig|Nr|Vgl|vgl|ggf|inkl|sog|z\.\s?B|u\.\s?a|bzw|ca|Tel|S|Bd|Jh|Std|Tsd)\.$")


# Citation markers that follow a full stop ("Claim. [1] Next claim.") belong to
# the sentence before them (an LLM's answer; the corpus has none).
_LEADING_MARKERS = re.compile(r"^(?:\[\d+\]\s*)+")


def _split_line(line: str, lang: str) -> list[str]:
    parts = list(split_sentences(line, lang=lang if lang in ("de", "en") else "de"))
    merged: list[str] = []
    for part in parts:
        part = part.strip()
        if not part:
            continue
        if merged and _NO_BREAK_AFTER.search(merged[-1]):
            merged[-1] = merged[-1] + " " + part
            continue
        markers = _LEADING_MARKERS.match(part) if merged else None
        if markers:
            merged[-1] = merged[-1] + " " + markers.group(0).strip()
            part = part[markers.end():].strip()
            if not part:
                continue
        merged.append(part)
    return merged


def sentences(text: str, lang: str) -> list[tuple[str, str]]:
    """Sentences of one paragraph, each with the separator that precedes it in
    the source: "\n\n" opens the paragraph, "\n" a new line (list items stay
    lines), " " inside a line."""
    out: list[tuple[str, str]] = []
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        for i, part in enumerate(_split_line(line, lang)):
            out.append((part, (" " if i else ("\n" if out else "\n\n"))))
    return out


def _locate(haystack: str, needle: str, start: int) -> tuple[int, int] | None:
    """Where ``needle`` stands in ``haystack`` from ``start`` on, allowing the
    whitespace between its words to differ (a merged abbreviation joins parts
    with one space where the source may have had two)."""
    i = haystack.find(needle, start)
    if i >= 0:
        return i, i + len(needle)
    words = needle.split()
    if not words:
        return None
    m = re.compile(r"\s+".join(re.escape(w) for w in words)).search(haystack, start)
    return (m.start(), m.end()) if m else None


def sentence_spans(text: str, lang: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text`` (a chunk: paragraphs,
    lines, sentences), in order. ``text[a:b]`` is each sentence verbatim."""
    spans: list[tuple[int, int]] = []
    for line_match in re.finditer(r"[^\n]+", text):
        line = line_match.group(0)
        if not line.strip():
            continue
        base = line_match.start()
        cursor = 0
        for part in _split_line(line.strip(), lang):
            where = _locate(line, part, cursor)
            if where is None:  # cannot happen with a verbatim splitter; never invent a span
                continue
            a, b = where
            spans.append((base + a, base + b))
            cursor = b
    return spans


# A list item of cleaned text or of an answer: a bullet glyph (cleaning turns
# the glyphs of extracted PDFs into "- "; a passage may keep "•" or "›"), or a
# number ("3." / "3)") where ``numbered``. The one pattern for a bullet, used
# by the answer units and by the LLM's grounding checks.
BULLET_GLYPHS = "-–•·▪●◦*›"
BULLET = re.compile(rf"^\s*[{re.escape(BULLET_GLYPHS)}]\s+")
BULLET_OR_NUMBER = re.compile(rf"^\s*(?:[{re.escape(BULLET_GLYPHS)}]|\d{{1,2}}[.)])\s+")


_FOLD_RE = re.compile(r"[^0-9a-zäöüß]+")


def fold(s: str) -> str:
    """Lower case, letters and digits only (``0-9a-zäöüß``): the comparison
    the evaluation uses (``eval.testset.fold``) for quotes against documents."""
    return _FOLD_RE.sub("", s.lower())


# ---------------------------------------------------------------- text from users

# Characters that render as nothing although Unicode calls them letters or
# symbols (Hangul fillers, the braille blank): a text of only these is empty.
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_ALLOWED_CONTROLS = frozenset("\t\n\r")


def _visible(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LNPS" and ch not in _BLANK_LOOKING


def clean_text(value: object, what: str = "text", require_visible: bool = True) -> str:
    """Text a user sent (a query, a question, a history turn, a title), checked
    once for every edge (API, UI, CLI): ``BadQuery`` when it holds what no
    later step can handle, else the text normalised for search.

    Refused: an unpaired surrogate (what a JSON ``"\\ud800"`` or undecodable
    bytes turn into; no encoder takes it), a control character other than
    tab and line breaks, and, with ``require_visible``, text with nothing
    visible in it (only spaces, zero-width or no-break spaces, ...), which
    would otherwise be searched as if it were a question. Returned: NFC, with
    format characters (zero-width spaces, soft hyphens, direction marks)
    removed and other spaces made plain, so that "Akteure" written with a
    zero-width space inside still matches the word."""
    if not isinstance(value, str):
        raise BadQuery(f"the {what} must be a string")
    for ch in value:
        code = ord(ch)
        if 0xD800 <= code <= 0xDFFF:
            raise BadQuery(
                f"the {what} contains an invalid character (an unpaired surrogate, U+{code:04X}): "
                "send text as valid UTF-8"
            )
        if unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROLS:
            raise BadQuery(f"the {what} contains a control character (U+{code:04X}); remove it")
    text = unicodedata.normalize("NFC", value)
    text = "".join(
        " " if ch.isspace() and ch not in "\n\r\t" else ch
        for ch in text
        if unicodedata.category(ch) != "Cf"
    )
    if require_visible and not any(_visible(ch) for ch in text):
        if value.strip():
            raise BadQuery(f"the {what} has no visible characters (only spaces or invisible characters)")
        raise BadQuery(f"the {what} is empty")
    return text
