"""Answer units from the layout of the retrieved passages.

A unit is what an answer quotes whole or not at all: a sentence; a list (its
lead-in and every item, read on into the neighbouring passage of the same
document where the chunk boundary cuts it); the numbered sub-headings of a
section ("1. …" to "6. …"); a label and its value ("Ziel: …"); the lines of a
figure or a table; an entry (one line of an abbreviations list or an
imprint, ``Chunk.kind == "entry"``). Running headers, page furniture, tables of
contents, bare headings and fragments are never units of their own.

Pure layout: nothing here knows a question.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from ..text import BULLET, fold, sentence_spans
from ..types import Chunk, ScoredChunk

KINDS = ("sentence", "paragraph", "item", "list", "headings", "label", "data", "entry")
MAX_PARAGRAPH_WORDS = 70
MAX_WORDS = 80  # a sentence longer than this is a paragraph the splitter could not cut
MAX_LIST_WORDS = 160
MAX_ITEMS = 12

_IS_BULLET = BULLET
_NUMBERED_ITEM = re.compile(r"^(\d{1,2}[.)]|[a-z][.)])\s+\S")
_NUMBERED_HEADING = re.compile(r"^(\d{1,2})[.)]?\s+[A-ZÄÖÜ„\"]")
_END_PUNCT = re.compile(r"[.!?;…\"“”»]\s*$")
# the number of a heading or a caption ("6 THE FUTURE …", "Abb. 2: …"), which is no figure
_LABEL_NUMBER = re.compile(
    r"^\W*((Abb|Abbildung|Fig|Figure|Tab|Tabelle|Table|Kapitel|Chapter)\.?\s*)?[\d.]*\d[.:)]?\s(?!\s*%)", re.IGNORECASE
)
_DIGIT = re.compile(r"\d")
# a line of a table of contents: a page number, then a chapter number and its
# title ("16 2 Die Einbettung von …", "45 8 Review-Prozess")
_TOC_LINE = re.compile(r"^\d{1,3}\s+\d{1,2}(?:\.\d{1,2})*\.?\s+[A-ZÄÖÜ]")
# a pronominal adverb ("Damit …", "Hierunter …"), in both patterns below
_PRONOMINAL_ADVERB = r"(?:Da|Hier)r?(?:an|auf|aus|bei|durch|für|gegen|in|mit|nach|neben|über|um|unter|von|vor|zu)"
# a sentence that opens by pointing back at what stands before it
_ANAPHOR = re.compile(
    rf"^({_PRONOMINAL_ADVERB}|Darüber hinaus|"
    r"Daher|Deshalb|Dies|Diese|Dieser|Dieses|Es|Sie|Er|Hier|So|Außerdem|Zudem|Auch|Gleichzeitig|Ebenso|Zusätzlich|"
    r"Somit|Daneben|Dort|Danach|Demnach|"
    r"This|These|It|They|Its|Their|In addition|Also|At the same time|Thus|Therefore|Here|Such|Moreover|"
    r"Furthermore|He|She|There|Among them|Of these)\b"
)
# ... and those that cannot be read without it: a demonstrative ("Dieser
# Ansatz …", "These …"), a pronominal adverb ("Damit …", "Hierunter …") or a
# personal pronoun ("Sie …", "They …"); not a connective ("Auch …", "So …",
# "Daher …") nor "Es"/"It", mostly an expletive ("Es gibt …")
_POINTS_BACK = re.compile(
    rf"^({_PRONOMINAL_ADVERB}|"
    r"Dies|Diese|Dieser|Dieses|Diesem|Diesen|Sie|Er|This|These|Such|They|He|She|Of these|Among them)\b"
)


def display(quote: str) -> str:
    """A quote as it reads in the answer: one line, without a leading bullet glyph."""
    text = " ".join(quote.split())
    for _ in range(2):  # "- › item": a glyph and a nested one
        text = BULLET.sub("", text, count=1)
    return text


@dataclass(frozen=True)
class Line:
    """One sentence span of a chunk with what its layout says of it."""

    chunk: Chunk
    start: int
    end: int
    idx: int  # the sentence's index in its chunk (its vector's row)
    cls: str  # sentence | item | numbered | label | data | heading | furniture | fragment
    line_start: bool

    @property
    def text(self) -> str:
        return self.chunk.text[self.start : self.end]


@dataclass(frozen=True)
class Part:
    """A contiguous verbatim span of one chunk: what one citation quotes."""

    chunk: Chunk
    start: int
    end: int
    lines: tuple[int, ...]  # sentence indices in the chunk

    @property
    def quote(self) -> str:
        return self.chunk.text[self.start : self.end]


@dataclass
class Unit:
    """A candidate answer unit, with the passage (hit) it was found through."""

    kind: str
    parts: tuple[Part, ...]
    hit: ScoredChunk
    lead: int = 0  # how many of the first lines are a lead-in (list, headings, label)
    items: tuple[str, ...] = ()  # list items / headings, as displayed
    features: dict = field(default_factory=dict)
    prob: float = 0.0
    # what the answer quotes when it is not ``parts``: a sentence that points
    # back ("Dieser Ansatz wird … aufgeführt.") with the sentence it points to
    context: tuple[Part, ...] = ()

    @property
    def quoted(self) -> tuple[Part, ...]:
        return self.context or self.parts

    @property
    def text(self) -> str:
        return "\n".join(p.quote for p in self.parts)

    @property
    def words(self) -> int:
        return len(self.text.split())

    @property
    def lang(self) -> str:
        return self.hit.chunk.lang

    @property
    def key(self) -> str:
        return re.sub(r"\W+", "", fold(self.text))


def _opening(text: str) -> str:
    return display(text).lstrip("„“\"'‚‘»«(")


def refers_back(text: str) -> bool:
    """``text`` opens by pointing back at what stands before it ("Dieser
    Ansatz …", "Damit …", "These …")."""
    return bool(_ANAPHOR.match(_opening(text)))


def points_back(text: str) -> bool:
    """``text`` cannot be read without the sentence before it."""
    return bool(_POINTS_BACK.match(_opening(text)))


def _is_upper_header(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 6 and sum(c.isupper() for c in letters) / len(letters) > 0.8


def classify(chunk: Chunk, start: int, end: int, furniture: frozenset[str]) -> tuple[str, bool]:
    text = chunk.text
    s = text[start:end]
    line_start = start == 0 or text[:start].rstrip(" \t").endswith("\n") or text[:start].strip() == ""
    tail = text[end:].lstrip(" \t")
    line_end = not tail or tail.startswith("\n")
    whole = line_start and line_end
    n = len(s.split())
    if whole and fold(s).strip() in furniture:
        return "furniture", line_start
    if line_start and _IS_BULLET.match(s):
        return "item", line_start
    title_like = whole and not _END_PUNCT.search(s) and n <= 15 and not s.rstrip().endswith(":")
    if title_like and _is_upper_header(s) and _DIGIT.search(s):
        return "furniture", line_start  # a running header with its page number
    if title_like and _NUMBERED_HEADING.match(s):
        return "numbered", line_start
    if line_start and _NUMBERED_ITEM.match(s) and not title_like:
        return "item", line_start
    if whole and s.rstrip().endswith(":") and n <= 5:
        return "label", line_start
    if title_like and _DIGIT.search(_LABEL_NUMBER.sub("", s)):
        return "data", line_start
    if title_like:
        return "heading", line_start
    if n < 4 and not _DIGIT.search(s):
        return "fragment", line_start
    return "sentence", line_start


def lines_of(chunk: Chunk, spans: list[tuple[int, int]], furniture: frozenset[str]) -> list[Line]:
    out = []
    for i, (a, b) in enumerate(spans):
        cls, ls = classify(chunk, a, b, furniture)
        out.append(Line(chunk, a, b, i, cls, ls))
    return out


def furniture_lines(chunks: list[Chunk]) -> frozenset[str]:
    """Lines a document repeats on three or more of its passages (running
    headers and footers, page furniture)."""
    per_doc: dict[str, Counter] = {}
    for c in chunks:
        if c.kind != "passage":
            continue
        seen = {fold(line).strip() for line in c.text.split("\n") if 0 < len(line.split()) <= 15}
        per_doc.setdefault(c.doc, Counter()).update(seen)
    return frozenset(line for cnt in per_doc.values() for line, n in cnt.items() if n >= 3 and line)


def _merge(lines: list[Line]) -> tuple[Part, ...]:
    """Consecutive lines of one chunk become one part (one citation)."""
    parts: list[Part] = []
    for ln in lines:
        last = parts[-1] if parts else None
        if last is not None and last.chunk.chunk_id == ln.chunk.chunk_id and last.lines[-1] == ln.idx - 1:
            parts[-1] = Part(ln.chunk, last.start, ln.end, last.lines + (ln.idx,))
        else:
            parts.append(Part(ln.chunk, ln.start, ln.end, (ln.idx,)))
    return tuple(parts)


def _separate(lines: list[Line]) -> tuple[Part, ...]:
    return tuple(Part(ln.chunk, ln.start, ln.end, (ln.idx,)) for ln in lines)


def stream(neighbourhood: list[list[Line]]) -> list[Line]:
    """The lines of consecutive chunks of one document in reading order, the
    sentences a chunk repeats from the one before (its overlap) left out."""
    out: list[Line] = []
    for lines in neighbourhood:
        recent = {fold(x.text) for x in out[-4:]}
        skipping = True
        for ln in lines:
            if skipping and fold(ln.text) in recent:
                continue
            skipping = False
            out.append(ln)
    return out


def build_units(hit: ScoredChunk, lines: list[Line], wide: list[Line]) -> list[Unit]:
    """The units of one retrieved passage: built over ``lines`` (the passage
    with its neighbours before and after, in reading order) and ``wide`` (a
    few more passages on either side, for numbered headings); only units with
    a line in the passage itself are kept."""
    cid = hit.chunk.chunk_id
    if hit.chunk.kind == "entry":
        text = hit.chunk.text
        if 0 < len(text.split()) <= MAX_WORDS:
            return [Unit("entry", (Part(hit.chunk, 0, len(text), (0,)),), hit)]
        return []
    out: list[Unit] = []

    def touches(ls: list[Line]) -> bool:
        return any(x.chunk.chunk_id == cid for x in ls)

    n = len(lines)
    inside: set[int] = set()  # lines of a list already read (an item's second sentence leads in nothing)
    i = 0
    while i < n:
        ln = lines[i]
        if ln.cls in ("sentence", "item") and touches([ln]) and len(ln.text.split()) <= MAX_WORDS:
            prev = lines[i - 1] if i else None
            context = ()
            if (ln.cls == "sentence" and prev is not None and prev.cls == "sentence" and _same_paragraph(prev, ln)
                    and len(prev.text.split()) + len(ln.text.split()) <= MAX_PARAGRAPH_WORDS and points_back(ln.text)):
                context = _merge([prev, ln])
            out.append(Unit("sentence" if ln.cls == "sentence" else "item", _merge([ln]), hit,
                            items=(display(ln.text),) if ln.cls == "item" else (), context=context))
        # a lead-in (a sentence or a heading or label) followed by items: a list
        # (numbered lines after a lead-in ending with a colon are items too)
        kinds = ("item", "numbered") if ln.text.rstrip().endswith(":") else ("item",)
        if ln.cls in ("sentence", "label", "heading") and i not in inside and i + 1 < n and lines[i + 1].cls in kinds:
            block = [ln]
            items: list[str] = []
            j = i + 1
            while j < n and len(items) < MAX_ITEMS:
                x = lines[j]
                if x.cls in kinds:
                    items.append(display(x.text))
                    block.append(x)
                elif not x.line_start and x.cls in ("sentence", "fragment", "data"):
                    block.append(x)  # the rest of an item that runs over more sentences
                    items[-1] = items[-1] + " " + display(x.text)
                else:
                    break
                inside.add(j)
                j += 1
            if len(items) >= 2 and touches(block):
                words = sum(len(x.text.split()) for x in block)
                if words > MAX_LIST_WORDS:  # keep the first sentence of each item
                    block = [x for x in block if x is ln or x.cls == "item"]
                    items = [display(x.text) for x in block[1:]]
                out.append(Unit("list", _merge(block), hit, lead=1, items=tuple(items)))
        # a label and its value ("Ziel:" + the sentence after it)
        if ln.cls == "label" and i + 1 < n and lines[i + 1].cls == "sentence":
            pair = [ln, lines[i + 1]]
            if touches(pair) and len(pair[1].text.split()) <= MAX_WORDS:
                out.append(Unit("label", _merge(pair), hit, lead=1))
        # a run of figure or table lines, with the caption before it
        if ln.cls == "data" and (i == 0 or lines[i - 1].cls != "data"):
            run = [ln]
            j = i + 1
            while j < n and lines[j].cls == "data" and len(run) < MAX_ITEMS:
                run.append(lines[j])
                j += 1
            lead = [lines[i - 1]] if i > 0 and lines[i - 1].cls in ("heading", "label", "sentence") else []
            if touches(run) and not _is_contents(run):
                out.append(Unit("data", _merge(lead + run), hit, lead=len(lead), items=tuple(display(x.text) for x in run)))
        i += 1
    out.extend(_paragraphs(hit, lines, touches))
    out.extend(_headings(hit, wide))
    return out


def _is_contents(run: list[Line]) -> bool:
    """A run of figure lines that is (a piece of) a table of contents
    (navigation, never an answer): at least half of its lines are
    page-and-chapter entries."""
    toc = sum(bool(_TOC_LINE.match(x.text)) for x in run)
    return toc > 0 and 2 * toc >= len(run)


def _same_paragraph(prev: Line, ln: Line) -> bool:
    """``ln`` follows ``prev`` directly in one paragraph of one chunk."""
    return (prev.chunk.chunk_id == ln.chunk.chunk_id and prev.idx == ln.idx - 1
            and "\n\n" not in ln.chunk.text[prev.end:ln.start])


def _paragraphs(hit: ScoredChunk, lines: list[Line], touches) -> list[Unit]:
    """Paragraphs of two or more sentences, short enough to quote whole."""
    out = []
    group: list[Line] = []

    def close():
        if len(group) >= 2 and all(x.cls == "sentence" for x in group) and touches(group):
            if sum(len(x.text.split()) for x in group) <= MAX_PARAGRAPH_WORDS:
                out.append(Unit("paragraph", _merge(group), hit))
        group.clear()

    for ln in lines:
        prev = group[-1] if group else None
        if prev is None or not _same_paragraph(prev, ln):
            close()
        group.append(ln)
    close()
    return out


def _headings(hit: ScoredChunk, wide: list[Line]) -> list[Unit]:
    """The numbered sub-headings of a section ("1. …", "2. …", …), at least
    three in sequence, with the sentence that introduces them; kept when one
    of them, or the introduction, stands in the passage."""
    cid = hit.chunk.chunk_id
    out = []
    idx = [k for k, x in enumerate(wide) if x.cls == "numbered"]
    used: set[int] = set()
    for k in idx:
        if k in used or int(_NUMBERED_HEADING.match(wide[k].text).group(1)) != 1:
            continue
        seq = [k]
        want = 2
        for m in idx:
            if m > seq[-1] and int(_NUMBERED_HEADING.match(wide[m].text).group(1)) == want:
                seq.append(m)
                want += 1
        if len(seq) < 3:
            continue
        used.update(seq)
        lead = []
        back = k - 1
        while back >= 0 and wide[back].cls in ("heading", "furniture") and k - back <= 1:
            back -= 1
        if back >= 0 and wide[back].cls == "sentence":
            lead = [wide[back]]
        lines = lead + [wide[m] for m in seq]
        if not any(x.chunk.chunk_id == cid for x in lines):
            continue
        out.append(Unit("headings", _separate(lines), hit, lead=len(lead),
                        items=tuple(display(wide[m].text) for m in seq)))
    return out


def span_lines(chunk: Chunk, spans: list[tuple[int, int]] | None, furniture: frozenset[str]) -> list[Line]:
    spans = sentence_spans(chunk.text, chunk.lang) if spans is None else spans
    return lines_of(chunk, spans, furniture)
