"""Structure-aware chunking: cleaned pages -> chunks with a section path.

The cleaner leaves one paragraph per block ("\\n\\n"-separated) and headings as
blocks of their own. Headings become the section path in the metadata; body
text is cut at sentence boundaries into chunks of about ``target_words``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from lsn_assistant.text import sentences  # noqa: F401  (re-exported: tests and callers use ingest.chunk.sentences)
from lsn_assistant.types import Chunk, Document

_NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2})*)\.?\s+(\S.*)$")
_MD = re.compile(r"^(#{1,6})\s+(.+)$")
_END_PUNCT = re.compile(r"[.:;,!?…)\"“”»]$")


@dataclass
class _Block:
    text: str
    page: int | None
    heading_level: int = 0  # 0 = body


def heading_level(par: str) -> int:
    """0 for body text, else the heading's depth (1 = chapter)."""
    line = par.strip()
    if "\n" in line or not line:
        return 0
    m = _MD.match(line)
    if m:
        return len(m.group(1))
    words = line.split()
    if re.search(r"\b(?:Dr|Prof)\.", line):
        return 0  # a name: signatures and photo captions, not sections
    if len(words) > 12 or len(line) > 100 or _END_PUNCT.search(line) or line.startswith(("- ", "• ")):
        return 0
    m = _NUMBERED.match(line)
    if m and m.group(2)[:1].isalpha() and m.group(2)[:1].isupper():
        return m.group(1).count(".") + 1
    letters = [c for c in line if c.isalpha()]
    if len(letters) >= 4 and all(c.isupper() for c in letters) and len(words) <= 8:
        return 2
    if len(words) >= 2 and line[:1].isupper() and not any(ch.isdigit() for ch in line[:1]):
        return 3
    return 0


def _heading_text(par: str) -> str:
    m = _MD.match(par.strip())
    text = m.group(2) if m else par.strip()
    return " ".join(text.split())


def make_chunk_id(doc: str, section: str, text: str, occurrence: int) -> str:
    """Content hash of everything that is embedded: same id, same vector."""
    h = hashlib.sha256(f"{doc}\x1f{occurrence}\x1f{section}\x1f{text}".encode("utf-8")).hexdigest()
    return h[:24]


def chunk_document(
    doc: Document,
    cleaned_pages: list[tuple[int | None, str]],
    target_words: int = 120,
    max_words: int = 220,
    overlap_sentences: int = 1,
) -> list[Chunk]:
    lang = doc.lang or "de"
    blocks: list[_Block] = []
    for page_no, text in cleaned_pages:
        for par in re.split(r"\n\s*\n", text):
            par = par.strip()
            if par:
                blocks.append(_Block(par, page_no, heading_level(par)))

    # A heading candidate counts only when body text follows it, directly or
    # below deeper headings: figure labels are followed by more labels, a
    # signature ("1. Vorsitzender ...") by nothing. The rest stays body text.
    follows_body = False
    for block in reversed(blocks):
        if block.heading_level:
            if not follows_body:
                block.heading_level = 0
        elif len(block.text.split()) >= 12:
            follows_body = True
        elif not block.text.rstrip().endswith(":"):
            # a short lead-in ("Ziel:") sits between a heading and its body
            follows_body = False

    stack: list[tuple[int, str]] = []  # (level, heading)
    # the chunk being built: (text, page, separator before it)
    pending: list[tuple[str, int | None, str]] = []
    carried = 0  # leading items of `pending` that already end the previous chunk
    pending_section = ""
    out: list[list] = []  # [text, section, page]

    def n_words(items) -> int:
        return sum(len(t.split()) for t, _, _ in items)

    def joined(items) -> str:
        return "".join((sep if i else "") + t for i, (t, _, sep) in enumerate(items)).strip()

    def flush(keep_overlap: bool) -> None:
        nonlocal pending, carried
        if pending[carried:]:
            out.append([joined(pending), pending_section, pending[0][1]])
        pending = pending[-overlap_sentences:] if keep_overlap and overlap_sentences else []
        carried = len(pending)

    def close() -> None:
        """End the chunk at a section boundary. A small remainder (the tail of a
        section) joins the previous chunk rather than standing alone."""
        nonlocal pending, carried
        new = pending[carried:]
        if not new:
            pending, carried = [], 0
            return
        small = n_words(pending) < target_words * 0.4
        if small and out and len(out[-1][0].split()) + n_words(new) <= max_words and new[0][1] == out[-1][2]:
            out[-1][0] = out[-1][0] + new[0][2] + joined(new)
            pending, carried = [], 0
        else:
            flush(keep_overlap=False)

    def section_path() -> str:
        return " > ".join(h for _, h in stack)

    def add(text: str, page: int | None, sep: str) -> None:
        nonlocal pending, pending_section, carried
        if pending and n_words(pending) + len(text.split()) > max_words:
            flush(keep_overlap=True)
            if n_words(pending) + len(text.split()) > max_words:
                pending, carried = [], 0
        if not pending:
            pending_section = section_path()
        pending.append((text, page, sep))
        if n_words(pending) >= target_words:
            flush(keep_overlap=True)

    page_of_pending = None
    for block in blocks:
        # A new PDF page opens a new chunk, so a citation's page number is the
        # page its passage is on (a small remainder joins the chunk before it
        # only on the same page).
        if block.page != page_of_pending and pending:
            close()
        page_of_pending = block.page
        if block.heading_level:
            # A heading opens a new chunk and stays in its text.
            close()
            level = block.heading_level
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, _heading_text(block.text)))
            if not pending:
                pending_section = section_path()
            pending.append((block.text.strip(), block.page, "\n\n"))
            continue
        for sent, sep in sentences(block.text, lang):
            words = sent.split()
            # An over-long "sentence" (a table, a list without stops) is cut by words.
            for i in range(0, len(words), max_words):
                add(" ".join(words[i : i + max_words]), block.page, sep if i == 0 else " ")
    close()

    seen: dict[str, int] = {}
    chunks = []
    for position, (text, section, page) in enumerate(out):
        occurrence = seen.get(section + text, 0)
        seen[section + text] = occurrence + 1
        chunks.append(
            Chunk(
                chunk_id=make_chunk_id(doc.doc, section, text, occurrence),
                doc=doc.doc,
                text=text,
                title=doc.title,
                page=page,
                section=section,
                lang=doc.lang,
                year=doc.year,
                position=position,
                doc_hash=doc.content_hash,
            )
        )
    return chunks
