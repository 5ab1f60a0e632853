"""The data that flows through LSN Assistant: documents -> chunks -> scored chunks.

Frozen dataclasses only; this module imports nothing of ours, so every layer
(ingest, retrieval, answers, API, UI, eval) can share it without cycles.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import ClassVar


@dataclass(frozen=True)
class Page:
    """One page of extracted text. ``number`` is 1-based; None where the
    source has no pages (plain text, Markdown, HTML)."""

    number: int | None
    text: str


@dataclass(frozen=True)
class Document:
    """A source file as loaded, before cleaning and chunking."""

    doc: str  # file name inside the corpus; test sets cite documents by it
    path: str
    pages: tuple[Page, ...]
    title: str
    publisher: str = ""
    year: int | None = None
    lang: str = ""  # manifest language; chunks get their own detected one
    content_hash: str = ""  # hash of the raw bytes and the ingest recipe
    clean: tuple[str, ...] = ()  # cleaning profiles it opts into (ingest/clean.py PROFILES)


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage with the provenance a citation needs."""

    chunk_id: str  # content hash: same doc and text -> same id
    doc: str
    text: str  # cleaned passage, what citations quote
    title: str = ""
    page: int | None = None
    section: str = ""  # heading path, " > " separated
    lang: str = ""
    year: int | None = None
    position: int = 0  # order within the document
    doc_hash: str = ""
    # "entry": one line of a passage indexed on its own as well (an abbreviation,
    # an imprint's contact lines: ingest/structure.py); it shares the passage's
    # page and position. What lists passages in order (neighbours, drafts) skips it.
    kind: str = "passage"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ScoredChunk:
    """A chunk as retrieval returns it."""

    chunk: Chunk
    score: float
    rank: int
    scores: dict[str, float] = field(default_factory=dict)  # per-retriever, for inspection

    def to_dict(self) -> dict:
        c = self.chunk
        return {
            "rank": self.rank,
            "score": round(float(self.score), 6),
            "chunk_id": c.chunk_id,
            "doc": c.doc,
            "title": c.title,
            "page": c.page,
            "section": c.section,
            "lang": c.lang,
            "year": c.year,
            "text": c.text,
        }


@dataclass(frozen=True)
class Citation:
    """What an answer's ``[n]`` marker points to: the exact supporting span
    (``quote``, verbatim from ``text``) in one chunk, with its provenance."""

    n: int
    chunk_id: str
    doc: str
    title: str
    page: int | None
    section: str
    quote: str  # a substring of ``text``
    text: str  # the whole chunk
    lang: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    """An answer with inline ``[n]`` markers, each resolving to a citation, or
    an abstention (``abstained``: the documents do not answer) with the closest
    passages in ``related``."""

    text: str
    language: str  # the question's language; the framing words are in it
    abstained: bool
    citations: tuple[Citation, ...] = ()
    mode: str = "extractive"  # "extractive" | "llm"
    notice: str | None = None  # e.g. why the LLM was not used
    related: tuple[dict, ...] = ()  # ScoredChunk.to_dict() of the closest passages when abstaining
    timings_ms: dict[str, float] = field(default_factory=dict)
    question: str = ""  # the question as asked
    standalone: str = ""  # what was searched (a follow-up with the carried-over terms)
    evidence: dict = field(default_factory=dict)  # the abstention features, for inspection
    answer_id: str = ""  # names this answer for a later rating (feedback)

    def to_dict(self) -> dict:
        return {
            "answer_id": self.answer_id,
            "answer": self.text,
            "language": self.language,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
            "mode": self.mode,
            "notice": self.notice,
            "related": [dict(r) for r in self.related],
            "timings_ms": {k: round(float(v), 1) for k, v in self.timings_ms.items()},
            "question": self.question,
            "standalone": self.standalone,
            "evidence": dict(self.evidence),
        }


@dataclass(frozen=True)
class Filters:
    """What a search is restricted to: documents, languages, years (an empty
    field: any). One type from the edge (``assistant.normalize_filters``
    checks what users send) through retrieval (a mask over the snapshot) to
    the store (a Chroma ``where``)."""

    doc: tuple[str, ...] = ()
    lang: tuple[str, ...] = ()
    year: tuple[int, ...] = ()
    KEYS: ClassVar[tuple[str, ...]] = ("doc", "lang", "year")

    def __bool__(self) -> bool:
        return bool(self.doc or self.lang or self.year)

    @classmethod
    def of(cls, value: "Filters | Mapping | None") -> "Filters | None":
        """``value`` as Filters (a mapping of already checked lists), None
        when it restricts nothing."""
        if isinstance(value, Filters):
            return value or None
        if not value:
            return None
        out = cls(**{k: tuple(value.get(k) or ()) for k in cls.KEYS})
        return out or None

    def to_dict(self) -> dict[str, list]:
        return {k: list(getattr(self, k)) for k in self.KEYS if getattr(self, k)}


# ---------------------------------------------------------------- stream events
# What ``Assistant.ask_stream`` yields, in order: ``Delta`` pieces of the answer
# text as it forms; a ``Reset`` if what was streamed is withdrawn (the LLM failed
# mid-answer; the final text follows); ``Citations``; ``Done`` with the whole
# answer, whose text is authoritative. The edges turn them into JSON
# (``to_dict``: ``{"type": "delta", "text": ...}`` and so on).


@dataclass(frozen=True)
class Delta:
    text: str

    def to_dict(self) -> dict:
        return {"type": "delta", "text": self.text}


@dataclass(frozen=True)
class Reset:
    def to_dict(self) -> dict:
        return {"type": "reset"}


@dataclass(frozen=True)
class Citations:
    citations: tuple[Citation, ...]

    def to_dict(self) -> dict:
        return {"type": "citations", "citations": [c.to_dict() for c in self.citations]}


@dataclass(frozen=True)
class Done:
    answer: Answer

    def to_dict(self) -> dict:
        return {"type": "done", "answer": self.answer.to_dict()}


StreamEvent = Delta | Reset | Citations | Done
