"""One loaded document -> its chunks: clean, chunk, tag languages, add the
entries of abbreviations and imprints. The pipeline runs it before embedding;
the library runs it on an upload to refuse a file that yields no text before
anything is replaced."""

from __future__ import annotations

from dataclasses import replace

from lsn_assistant.config import Settings
from lsn_assistant.language import detect_language
from lsn_assistant.types import Chunk, Document

from .chunk import chunk_document, make_chunk_id
from .clean import clean_pages
from .structure import entries


def prepare(doc: Document, settings: Settings) -> list[Chunk]:
    """Clean, chunk and language-tag one loaded document; then the entries of
    its abbreviations and imprint contacts (ingest/structure.py)."""
    cleaned = clean_pages([p.text for p in doc.pages], doc.clean)
    if not doc.lang:
        doc = replace(doc, lang=detect_language(" ".join(cleaned)[:5000], default="de"))
    chunks = chunk_document(
        doc,
        [(p.number, text) for p, text in zip(doc.pages, cleaned)],
        target_words=settings.chunk_words,
        max_words=settings.chunk_max_words,
        overlap_sentences=settings.chunk_overlap_sentences,
    )
    chunks = [replace(c, lang=detect_language(c.text, default=doc.lang)) for c in chunks]
    # After language detection: an entry is a line of its passage and takes
    # the passage's language (one line is too short to detect it from), and
    # its section label is in that language.
    return chunks + entries(chunks, lambda section, text, occ: make_chunk_id(doc.doc, section, text, occ))
