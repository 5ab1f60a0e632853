"""Drafts for position papers: a topic (and optional points) -> a skeleton of
sections, each with its cited evidence, editable as Markdown, exported as
Markdown and as a Word document with one reference list.

How a draft is built (``build_draft``):

1. The sections. With points, one section per point, headed by the point and
   asked as written. Without, four aspects of the topic (``ASPECTS``):
   background (the topic itself is asked), goals, measures and figures, each a
   fixed question about the topic. Headings and framing words are in the
   draft's language: the topic's (``draft_language``) unless one is given.
2. Each section's question goes to ``Assistant.ask`` with the draft's filters.
   The section's prose is the answer: the LLM's text when an LLM is
   configured, else the extractive answer (the quoted sentences). Its
   evidence is what the prose cites: verbatim quotes, each with its source.
   Aspects of one topic find the same passages, so an extractive sentence
   already quoted in an earlier section is not quoted again; a section left
   without evidence says so.
3. The ``[n]`` markers are renumbered across the draft, one number per
   place cited (file, page, section) in order of first use, so the
   reference list is one list.

The Markdown (``to_markdown``) is the form a user edits. ``from_markdown``
reads an edited text back against the draft it came from: every section is
kept as edited; markers are renumbered in order of their first remaining use;
the reference list is rebuilt from the markers that remain (its Markdown is
never read back, so a source cannot be invented by editing it); a marker that
names no source of the draft is removed, with a note. ``to_docx`` renders a
draft, built or edited, as a .docx: title, sections as headings, paragraphs,
bullets, the evidence as quotes, then the reference list.

Text from the documents is escaped for Markdown (``escape``), so a ``*`` or a
``[1]`` in a quote stays text and never becomes emphasis or a marker.
"""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from .answer import display
from .assistant import Assistant, normalize_filters, stream_pieces
from .conversation import content_words
from .errors import BadQuery
from .i18n import DRAFT
from .language import question_language
from .lexical import analyze
from .translate import Lexicon
from .types import Answer, Citation

MAX_TOPIC_CHARS = 300
MAX_POINTS = 12

LABELS = DRAFT  # lsn_assistant/i18n.py: the one table of labels

# The sections of a draft without points: (label key, question about the topic).
ASPECTS = {
    "de": (
        ("background", "{topic}"),
        ("goals", "Welche Ziele werden für {topic} verfolgt?"),
        ("measures", "Welche Maßnahmen sind für {topic} vorgesehen?"),
        ("figures", "Welche Zahlen gibt es zu {topic}?"),
    ),
    "en": (
        ("background", "{topic}"),
        ("goals", "Which goals are pursued for {topic}?"),
        ("measures", "Which measures are planned for {topic}?"),
        ("figures", "Which figures are there on {topic}?"),
    ),
}

# Headings under which from_markdown finds the reference list (any language).
SOURCE_HEADINGS = {lab["sources"].casefold() for lab in LABELS.values()} | {"sources"}  # the answers' word


@dataclass(frozen=True)
class Source:
    """An entry of the reference list, cited as ``[n]``: a place in a
    document (file, page, section); ``chunk_ids`` are the passages quoted
    from it."""

    n: int
    doc: str
    title: str
    page: int | None
    section: str
    chunk_ids: tuple[str, ...]


@dataclass(frozen=True)
class Evidence:
    """A quote shown under a section, from source ``n``: verbatim, as answers
    show quotes (whitespace collapsed, without a leading bullet glyph)."""

    n: int
    quote: str


@dataclass(frozen=True)
class Section:
    heading: str  # "" for text before the first heading of an edited draft
    body: str  # Markdown: the prose, then the evidence; [n] markers name sources
    evidence: tuple[Evidence, ...] = ()
    question: str = ""  # what the documents were asked for it


@dataclass(frozen=True)
class Draft:
    title: str
    lang: str  # of the headings and framing words
    sections: tuple[Section, ...]
    sources: tuple[Source, ...]  # the reference list, numbered 1..n in order of first use
    mode: str = "extractive"  # "llm" when an LLM wrote any section's prose
    notes: tuple[str, ...] = ()  # for the user: the LLM failed, a marker was removed


def draft_labels(lang: str) -> dict[str, str]:
    return LABELS.get(lang, LABELS["en"])


# ---------------------------------------------------------------- language


_UMLAUT = re.compile(r"[äöüß]", re.IGNORECASE)


def draft_language(topic: str, points: Sequence[str] = ()) -> str:
    """The language of a topic and its points: function words decide
    (``question_language``); a few words without any ("Digitalisierung",
    "Sichtbarkeit von LSN") are German with an umlaut, else in the language
    whose lexicon knows more of them; English when undecided."""
    text = " ".join([topic, *points])
    lang = question_language(text, default="")
    if lang:
        return lang
    if _UMLAUT.search(text):
        return "de"
    lex = Lexicon.default()
    words = re.findall(r"[^\W\d_]{3,}", text)
    de = sum((w, "de") in lex and (w, "en") not in lex for w in words)
    en = sum((w, "en") in lex and (w, "de") not in lex for w in words)
    return "de" if de > en else "en"


# ---------------------------------------------------------------- Markdown text

_INLINE = re.compile(r"([\\`*_\[\]<])")
_LINE_START = re.compile(r"^([#>])", re.MULTILINE)
_UNESCAPE = re.compile(r"\\([\\`*_\[\]<#>])")
_RAW_MARKER = re.compile(r"(\[\d+\])")  # in answer text, before escaping
_MARKER = re.compile(r"(?P<space>[ \t]*)(?<!\\)\[(?P<n>\d+)\]")  # in Markdown: an escaped \[1\] is text
_REPEAT = re.compile(r"(\[\d+\])(?:[ \t]*\1)+")


def escape(text: str) -> str:
    """Text as Markdown that shows it literally."""
    return _LINE_START.sub(r"\\\1", _INLINE.sub(r"\\\1", text))


def unescape(text: str) -> str:
    return _UNESCAPE.sub(r"\1", text)


def _escape_marked(text: str) -> str:
    """Answer text with ``[n]`` markers as Markdown: the words escaped, the markers kept."""
    parts = _RAW_MARKER.split(text)
    return _LINE_START.sub(r"\\\1", "".join(p if i % 2 else _INLINE.sub(r"\\\1", p) for i, p in enumerate(parts)))


def _renumber(markdown: str, numbers: dict[int, int]) -> str:
    """Markers renumbered by ``numbers`` (old -> new); a marker not in it is
    removed; a marker repeated right after itself is kept once."""

    def sub(m: re.Match) -> str:
        n = int(m.group("n"))
        return f"{m.group('space')}[{numbers[n]}]" if n in numbers else ""

    return _REPEAT.sub(r"\1", _MARKER.sub(sub, markdown))


def _markers(markdown: str) -> list[int]:
    return [int(m.group("n")) for m in _MARKER.finditer(markdown)]


def describe(source: Source, lang: str, short: bool = False) -> str:
    """Where a source is: title, page, section path and file for the
    reference list; title, page and the innermost heading (``short``) under a
    quote."""
    lab = draft_labels(lang)
    parts = [source.title or source.doc]
    if source.page is not None:
        parts.append(f"{lab['page']} {source.page}")
    if source.section and short:
        parts.append(f"{lab['open']}{source.section.split(' > ')[-1]}{lab['close']}")
    elif source.section:
        parts.append(f"{lab['section']} {lab['open']}{source.section}{lab['close']}")
    return ", ".join(parts) if short else f"{', '.join(parts)} ({source.doc})"


def _evidence_line(ev: Evidence, source: Source, lang: str) -> str:
    lab = draft_labels(lang)
    return f"> {lab['open']}{escape(ev.quote)}{lab['close']} [{ev.n}] — {escape(describe(source, lang, short=True))}"


_EVIDENCE = re.compile(
    "|".join(
        rf"^> {re.escape(lab['open'])}(?P<{key}>.*){re.escape(lab['close'])} \[(?P<n_{key}>\d+)\](?: — .*)?$"
        for key, lab in LABELS.items()
    ),
    re.MULTILINE,
)


def _parse_evidence(body: str) -> tuple[Evidence, ...]:
    out = []
    for m in _EVIDENCE.finditer(body):
        key = next(k for k in LABELS if m.group(k) is not None)
        out.append(Evidence(int(m.group(f"n_{key}")), unescape(m.group(key))))
    return tuple(dict.fromkeys(out))


# ---------------------------------------------------------------- building


class _Numbering:
    """Global source numbers: one per place (file, page, section), in order
    of first use; passages of one place share its number, as the reference
    list could not tell them apart."""

    def __init__(self):
        self.sources: dict[tuple, Source] = {}

    def number(self, c: Citation) -> int:
        key = (c.doc, c.page, c.section)
        source = self.sources.get(key) or Source(len(self.sources) + 1, c.doc, c.title, c.page, c.section, ())
        if c.chunk_id not in source.chunk_ids:
            source = dataclasses.replace(source, chunk_ids=source.chunk_ids + (c.chunk_id,))
        self.sources[key] = source
        return source.n


def _plan(topic: str, points: list[str], lang: str) -> list[tuple[str, str]]:
    """(heading, question) per section."""
    if points:
        return [(p, p) for p in points]
    lab = draft_labels(lang)
    subject = topic.rstrip(" ?!.:;")
    return [(lab[key], question.format(topic=subject)) for key, question in ASPECTS.get(lang, ASPECTS["en"])]


def _without(text: str, drop: set[int]) -> str:
    """Extractive answer text without the quotes whose markers are all in
    ``drop``; framing lines stay while any quote does."""
    kept = []
    for piece in stream_pieces(text):
        ns = {int(n[1:-1]) for n in _RAW_MARKER.findall(piece)}
        if not (ns and ns <= drop):
            kept.append(piece)
    return "".join(kept) if any(_RAW_MARKER.search(p) for p in kept) else ""


def _prose(text: str) -> str:
    """Answer text as Markdown: each line a paragraph of its own (a note, a
    list intro, the quotes), list items kept together."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    out = lines[:1]
    for line in lines[1:]:
        out.append(("\n" if line.startswith("- ") else "\n\n") + line)
    return _escape_marked("".join(out))


# A section whose best quoted unit the answer model rates below this has thin evidence.
THIN_EVIDENCE = 0.25
# A sentence opening with a personal pronoun, or with a possessive one among its first
# words ("Die Reinvestition ihrer Einkommen …"), points back at a sentence that is not quoted.
_DANGLING = re.compile(
    r"^(?:(sie|er|they|it|he|she)\b|(?:\W*\w+\W+){0,5}?(ihr|ihre|ihrer|ihren|ihrem|ihres|sein|seine|seiner|seinen|"
    r"seinem|seines|their|its|his)\b)",
    re.IGNORECASE,
)


def is_evidence(quote: str) -> bool:
    """Whether a quote can stand under a section as evidence on its own: not
    a fragment ending with a colon ("Präsident der Hochschule Flensburg:"),
    not one with doubled quotation marks, not a sentence whose pronoun points
    back at something not quoted ("… ihrer Einkommen …")."""
    q = display(quote).strip()
    if "\n" not in quote.strip() and q.endswith(":"):
        return False
    if re.search(r"[„“”\"]\s*[„“”\"]", q) or q[:1] in "„“”\"»«‚":
        return False  # doubled quotation marks, or direct speech that the evidence's own marks would double
    return not _DANGLING.match(q)


def topic_covered(assistant: Assistant, topic: str, lang: str) -> bool:
    """Whether some passage holds every content word of the topic (as is, as
    part of a compound, or translated): "Quantencomputing in der
    Landwirtschaft" is not covered by documents that name quantum computing
    once and farming elsewhere, however close single sentences come."""
    words = [w for w in content_words(topic) if not w.isdigit()]
    if not words:
        return True
    other = "en" if lang == "de" else "de"
    forms = []
    for w in words:
        f = set(analyze(w, lang))
        for t, weight in Lexicon.default().translate(w, lang, other):
            if weight >= 0.5:
                f.update(analyze(t, other))
        if f:
            forms.append(f)
    index = assistant.retriever.index
    stems = index.derived("draft.chunk_stems", lambda: [frozenset(analyze(c.text, c.lang or "de")) for c in index.chunks])
    def holds(st: frozenset[str], f: str) -> bool:  # the word, or a compound ending or starting with it
        return f in st or (len(f) >= 5 and any(s.endswith(f) or s.startswith(f) for s in st))

    return any(all(any(holds(st, f) for f in fs) for fs in forms) for st in stems)


def _best(answer: Answer) -> float:
    """The answer model's probability for the best quoted unit (1 for an LLM answer)."""
    if answer.mode != "extractive":
        return 1.0
    return max((c["prob"] for c in answer.evidence.get("chosen") or []), default=0.0)


def _thin(answer: Answer) -> bool:
    return answer.mode == "extractive" and not answer.abstained and _best(answer) < THIN_EVIDENCE


def _section(heading: str, question: str, answer: Answer, numbering: _Numbering, quoted: set, lang: str) -> Section:
    lab = draft_labels(lang)
    if answer.abstained or not answer.citations:
        return Section(heading, lab["no_evidence"], (), question)
    text, cites = answer.text, list(answer.citations)
    if answer.mode == "extractive":
        repeated = {c.n for c in cites if (c.chunk_id, display(c.quote)) in quoted or not is_evidence(c.quote)}
        text = _without(text, repeated)
        cites = [c for c in cites if c.n not in repeated]
        if not cites:
            return Section(heading, lab["no_more"], (), question)
    numbers = {c.n: numbering.number(c) for c in cites}
    quoted.update((c.chunk_id, display(c.quote)) for c in cites)
    evidence = tuple(dict.fromkeys(Evidence(numbers[c.n], display(c.quote)) for c in cites))
    by_n = {s.n: s for s in numbering.sources.values()}
    lines = [_evidence_line(ev, by_n[ev.n], lang) for ev in evidence]
    thin = [lab["thin"]] if _thin(answer) else []
    body = "\n\n".join([*thin, _renumber(_prose(text), numbers), f"**{lab['evidence']}**", *lines])
    return Section(heading, body, evidence, question)


def build_draft(
    assistant: Assistant,
    topic: str,
    points: list[str] | None = None,
    filters: dict | None = None,
    lang: str | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> Draft:
    """A skeleton for a position paper on ``topic``: one section per point,
    or per aspect of the topic without points, each with its cited evidence.
    ``filters`` as for ``Assistant.ask``; ``lang`` ("de"/"en") overrides the
    topic's language; ``progress(done, total, heading)`` is called before
    each section is asked."""
    if not isinstance(topic, str) or not topic.strip():
        raise BadQuery("the topic is empty")
    topic = " ".join(topic.split())
    if len(topic) > MAX_TOPIC_CHARS:
        raise BadQuery(f"the topic is too long ({len(topic)} characters; at most {MAX_TOPIC_CHARS})")
    points = [" ".join(p.split()) for p in points or [] if isinstance(p, str) and p.strip()]
    if len(points) > MAX_POINTS:
        raise BadQuery(f"too many points ({len(points)}; at most {MAX_POINTS})")
    if lang is not None and lang not in LABELS:
        raise BadQuery(f"unknown language {lang!r}; use {' or '.join(LABELS)}")
    normalize_filters(filters)  # a bad filter fails before the first question
    lang = lang or draft_language(topic, points)
    plan = _plan(topic, points, lang)
    numbering, quoted = _Numbering(), set()
    sections, notes, modes, answers = [], [], set(), []
    for i, (heading, question) in enumerate(plan):
        if progress:
            progress(i, len(plan), heading)
        answer = assistant.ask(question, filters=filters)
        sections.append(_section(heading, question, answer, numbering, quoted, lang))
        if answer.notice and answer.notice not in notes:
            notes.append(answer.notice)
        if not answer.abstained:
            modes.add(answer.mode)
        answers.append(answer)
    topic_answer = answers[0] if answers and not points else None  # the first aspect asks the topic itself
    if (all(a.abstained or _thin(a) for a in answers) or (topic_answer is not None and topic_answer.abstained)
            or not topic_covered(assistant, topic, lang)):
        # a topic the documents do not cover: a warning, not a structure made of loose quotes
        return Draft(topic, lang, (), (), "extractive", (draft_labels(lang)["off_topic"], *notes))
    mode = "llm" if "llm" in modes else "extractive"
    return Draft(topic, lang, tuple(sections), tuple(numbering.sources.values()), mode, tuple(notes))


# ---------------------------------------------------------------- Markdown


def to_markdown(draft: Draft) -> str:
    """The draft as Markdown: ``# title``, ``## section`` with its body, then
    the reference list."""
    out = [f"# {escape(draft.title)}"]
    for s in draft.sections:
        if s.heading:
            out.append(f"## {escape(s.heading)}")
        if s.body:
            out.append(s.body)
    if draft.sources:
        out.append(f"## {draft_labels(draft.lang)['sources']}")
        out.append("\n".join(f"- [{s.n}] {escape(describe(s, draft.lang))}" for s in draft.sources))
    return "\n\n".join(out) + "\n"


_HEADING = re.compile(r"^(#{1,2})[ \t]+(.*?)[ \t]*$")


def _split_markdown(text: str) -> tuple[str, list[tuple[str, str]]]:
    """The title (the first ``#`` heading before any ``##``) and the
    (heading, body) parts; text before the first ``##`` is a part with the
    heading ""."""
    title, heading, lines = "", "", []
    parts: list[tuple[str, str]] = []
    for line in text.splitlines():
        m = _HEADING.match(line)
        if m and len(m.group(1)) == 1 and not title and not parts:
            title = unescape(m.group(2))
        elif m and len(m.group(1)) == 2:
            parts.append((heading, "\n".join(lines).strip()))
            heading, lines = unescape(m.group(2)), []
        else:
            lines.append(line)
    parts.append((heading, "\n".join(lines).strip()))
    return title, [(h, b) for h, b in parts if h or b]


def from_markdown(text: str, base: Draft) -> Draft:
    """The draft as the user edited its Markdown: sections as edited, markers
    renumbered in order of first use, the reference list rebuilt from the
    markers that remain (``base`` is the draft the Markdown came from: its
    sources are the ones a marker may name)."""
    title, parts = _split_markdown(text)
    parts = [(h, b) for h, b in parts if h.casefold() not in SOURCE_HEADINGS]
    known = {s.n: s for s in base.sources}
    numbers: dict[int, int] = {}
    unknown: set[int] = set()
    for _, body in parts:
        for n in _markers(body):
            if n not in known:
                unknown.add(n)
            elif n not in numbers:
                numbers[n] = len(numbers) + 1
    questions = {s.heading: s.question for s in base.sections}
    sections = []
    for heading, body in parts:
        body = _renumber(body, numbers)
        sections.append(Section(heading, body, _parse_evidence(body), questions.get(heading, "")))
    sources = tuple(dataclasses.replace(known[old], n=new) for old, new in numbers.items())
    lab = draft_labels(base.lang)
    notes = tuple(lab["unknown_marker"].format(n=n) for n in sorted(unknown))
    return Draft(title or base.title, base.lang, tuple(sections), sources, base.mode, notes)


# ---------------------------------------------------------------- .docx

_BLOCK_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*)$")
_BULLET = re.compile(r"^[-*+][ \t]+(.*)$")
_EMPHASIS = re.compile(r"(?<!\\)(\*\*|\*)(?=\S)(.+?)(?<=\S)(?<!\\)\1")


def _blocks(body: str) -> list[tuple[str, str]]:
    """A section body's Markdown as (kind, text) blocks: "h2".."h6" (level of
    the Markdown heading), "quote", "bullet", "paragraph"; lines of one
    paragraph or quote are joined."""
    blocks: list[tuple[str, str]] = []
    open_kind = None  # the kind a following line continues
    for line in body.splitlines():
        s = line.strip()
        heading, bullet = _BLOCK_HEADING.match(s), _BULLET.match(s)
        if not s:
            open_kind = None
        elif heading:
            blocks.append((f"h{len(heading.group(1))}", heading.group(2)))
            open_kind = None
        elif s.startswith(">"):
            inner = s[1:].strip()
            if not inner:
                open_kind = None
            elif open_kind == "quote":
                blocks[-1] = ("quote", f"{blocks[-1][1]} {inner}")
            else:
                blocks.append(("quote", inner))
                open_kind = "quote"
        elif bullet:
            blocks.append(("bullet", bullet.group(1)))
            open_kind = "bullet"
        elif open_kind in ("paragraph", "bullet"):
            blocks[-1] = (blocks[-1][0], f"{blocks[-1][1]} {s}")
        else:
            blocks.append(("paragraph", s))
            open_kind = "paragraph"
    return blocks


def _add_runs(paragraph, markdown: str) -> None:
    """Inline Markdown as runs: **bold**, *italic*, escapes undone."""
    last = 0
    for m in _EMPHASIS.finditer(markdown):
        if m.start() > last:
            paragraph.add_run(unescape(markdown[last : m.start()]))
        run = paragraph.add_run(unescape(m.group(2)))
        run.bold, run.italic = m.group(1) == "**", m.group(1) == "*"
        last = m.end()
    if last < len(markdown):
        paragraph.add_run(unescape(markdown[last:]))


_STYLES = {"quote": "Quote", "bullet": "List Bullet", "paragraph": None}


APPLICATION = "LSN Assistant"  # the .docx's author when the user is not known, and its application
_APP_NAME = re.compile(rb"<Application>[^<]*</Application>")


def _named_application(data: bytes) -> bytes:
    """The saved .docx with this application named in its extended properties
    (docProps/app.xml), where python-docx's template names Microsoft Word and
    offers no setter."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename == "docProps/app.xml":
                content = _APP_NAME.sub(f"<Application>{APPLICATION}</Application>".encode(), content, count=1)
            dst.writestr(item, content)
    return out.getvalue()


def to_docx(draft: Draft, author: str | None = None) -> bytes:
    """The draft as a Word document: the title, each section as a heading
    with its body (paragraphs, bullets, quotes, sub-headings), then the
    reference list under "Quellen"/"References". Its properties name the
    author (the user when known, else this application) and this
    application, and today's date, not python-docx's template's."""
    import docx

    document = docx.Document()
    properties = document.core_properties
    properties.title = draft.title
    properties.language = draft.lang
    properties.author = properties.last_modified_by = (author or "").strip() or APPLICATION
    properties.comments = ""  # the template's says "generated by python-docx"
    properties.created = properties.modified = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    properties.revision = 1
    document.add_heading(draft.title, level=0)
    for section in draft.sections:
        if section.heading:
            document.add_heading(section.heading, level=1)
        for kind, text in _blocks(section.body):
            if kind.startswith("h"):
                _add_runs(document.add_heading(level=min(int(kind[1:]) - 1, 9) or 1), text)
            else:
                _add_runs(document.add_paragraph(style=_STYLES[kind]), text)
    if draft.sources:
        document.add_heading(draft_labels(draft.lang)["sources"], level=1)
        for source in draft.sources:
            document.add_paragraph(f"[{source.n}] {describe(source, draft.lang)}")
    buf = io.BytesIO()
    document.save(buf)
    return _named_application(buf.getvalue())


__all__ = [
    "Draft",
    "Evidence",
    "Section",
    "Source",
    "build_draft",
    "describe",
    "draft_language",
    "from_markdown",
    "to_docx",
    "to_markdown",
]
