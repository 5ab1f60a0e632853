"""Sentence splitting, shared by ingest (chunk boundaries) and answers (quotes).

One splitter for both, so the sentences an answer quotes are the units the
chunker kept whole. ``sentence_spans`` gives exact character offsets into a
chunk's text: a quote is always ``text[start:end]``, verbatim.
"""

from __future__ import annotations

import re

from simplemma.sentences import split_sentences

# Abbreviations that end a "sentence" in simplemma's split but not in German prose.
_NO_BREAK_AFTER = re.compile(r"\b(?:Mio|Mrd|Abb|Fig|Nr|Vgl|vgl|ggf|inkl|sog|z\.\s?B|u\.\s?a|bzw|ca|Tel|S|Bd|Jh|Std|Tsd)\.$")


def _split_line(line: str, lang: str) -> list[str]:
    parts = list(split_sentences(line, lang=lang if lang in ("de", "en") else "de"))
    merged: list[str] = []
    for part in parts:
        part = part.strip()
        if merged and _NO_BREAK_AFTER.search(merged[-1]):
            merged[-1] = merged[-1] + " " + part
        elif part:
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


_FOLD_RE = re.compile(r"[^0-9a-zäöüß]+")


def fold(s: str) -> str:
    """Lower case, letters and digits only (``0-9a-zäöüß``): the comparison
    the evaluation uses (``eval.testset.fold``) for quotes against documents."""
    return _FOLD_RE.sub("", s.lower())
