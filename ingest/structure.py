"""Small entries of their own for what definitional questions ask about.

A question like "What does IVDR stand for?" or "What is the postal address
of LSN Management?" is answered by one line of a long passage: the sentence
that introduces an abbreviation in parentheses, an abbreviation list, the
contact lines of an imprint. In a 280-word chunk that line is a small part of
what the dense encoders see and of what BM25 normalises by, so the question
meets the chunk weakly. Each such line also becomes an entry: a chunk of its
own holding the line verbatim, under a section that names what it is
("Abkürzungen > IVDR", "Impressum > Kontakt, Adresse, Telefon"), so the encoders read the
framing and BM25 a short document.

Entries are verbatim text of their chunk (quotable like any sentence) and
carry its page and position, so the answer layer treats an entry and its
chunk as neighbours and does not quote one sentence twice.
"""

from __future__ import annotations

import re

from lsn_assistant.text import sentence_spans
from lsn_assistant.types import Chunk

# "… Medical Device Regulation (MDR, EU 2017/745)": an acronym introduced in
# parentheses, alone or before a comma or semicolon
_DEFINED = re.compile(r"\((?P<abbr>[A-ZÄÖÜ][A-Za-z0-9ÄÖÜäöü&-]{0,8}[A-Z0-9])(?:[,;][^)]{0,60})?\)")
_POSTCODE = re.compile(r"\b\d{5}\s+[A-ZÄÖÜ][a-zäöüß]+")
_CONTACT = re.compile(r"\b(?:Tel|Telefon|Phone|Fax)\b\.?:?|@|\bwww\.", re.IGNORECASE)
_IMPRINT = re.compile(r"^(?:impressum|imprint)$", re.IGNORECASE)
_ABBREVIATION_LIST = re.compile(r"^(?:abkürzungen|abkürzungsverzeichnis|abbreviations|list of abbreviations|glossar|glossary)$", re.IGNORECASE)
# running text, which ends a list: a long paragraph ending a sentence
_PROSE = re.compile(r"[.!?][\"“”»)]?$")


def _paragraphs(chunk: Chunk) -> list[str]:
    return [p.strip() for p in chunk.text.split("\n\n") if p.strip()]


def _is_prose(par: str) -> bool:
    return len(par.split()) >= 12 and bool(_PROSE.search(par))

# What an entry is, in the words a question would use for it.
LABELS = {
    "de": {"abbr": "Abkürzungen", "imprint": "Impressum", "contact": "Kontakt, Adresse, Telefon"},
    "en": {"abbr": "Abbreviations", "imprint": "Imprint", "contact": "Contact, address, phone"},
}


def _is_acronym(abbr: str) -> bool:
    # two capitals at least: "IVDR", "FuE", "DiWiSH"; not "(Hrsg)" or "(2018)"
    return sum(c.isupper() for c in abbr) >= 2 and not abbr.isdigit()


def _introduced(abbr: str, before: str) -> bool:
    """Do the words before the parenthesis spell the acronym out? Loosely (as
    Schwartz & Hearst's test for abbreviation definitions): one of the last
    few words starts with the acronym's first letter ("Medical Device
    Regulation (MDR", "Verordnung über In-vitro-Diagnostika (IVDR"), which
    a party after a name ("Harry Glawe (CDU)") or a file type ("Strategie
    2023 (PDF)") does not."""
    words = re.findall(r"[\w-]+", before)[-(len(abbr) + 4):]
    first = abbr[0].lower()
    pieces = words + [p for w in words for p in w.split("-")]
    return len(words) >= 2 and any((len(w) >= 3 or w[0].isupper()) and w[0].lower() == first for w in pieces)


def abbreviation_lines(chunk: Chunk) -> list[tuple[str, str]]:
    """(abbreviation, verbatim sentence) for each acronym the chunk defines in
    parentheses ("…Verordnung über In-vitro-Diagnostika (IVDR, EU 2017/746)")."""
    out = []
    for a, b in sentence_spans(chunk.text, chunk.lang or "de"):
        sentence = chunk.text[a:b]
        for m in _DEFINED.finditer(sentence):
            abbr = m.group("abbr")
            if _is_acronym(abbr) and _introduced(abbr, sentence[: m.start()]):
                out.append((abbr, sentence.strip()))
    return out


def listed_abbreviations(chunk: Chunk) -> list[tuple[str, str]]:
    """(abbreviation, "ABBR\\n\\nexpansion") from an abbreviation list whose
    lines alternate between a short form and its expansion."""
    lines = _paragraphs(chunk)
    start = next((i for i, p in enumerate(lines) if _ABBREVIATION_LIST.match(p)), None)
    if start is None:
        return []
    out = []
    body = lines[start + 1 :]
    for short, long in zip(body[::2], body[1::2]):
        if _is_prose(short) or _is_prose(long):
            break
        if len(short.split()) <= 3 and len(long.split()) > len(short.split()) and short.split()[0].isupper():
            out.append((short, f"{short}\n\n{long}"))
    return out


def expansion(abbr: str, before: str) -> str | None:
    """The words that ``abbr`` abbreviates, from the text before its opening
    parenthesis: Schwartz & Hearst's algorithm (2003): the shortest run of
    final words (at most min(n + 5, 2n) for an n-letter acronym) whose
    characters hold the acronym's letters in order, its first letter starting
    a word ("… Mitglieder von Life Science Nord (LSN" -> "Life Science Nord").
    None when no run does."""
    letters = [ch.lower() for ch in abbr if ch.isalnum()]
    if len(letters) < 2:
        return None
    words = before.split()[-min(len(letters) + 5, 2 * len(letters)):]
    long = " ".join(words).rstrip(" ,;:-–")
    i = len(long) - 1
    for k in range(len(letters) - 1, -1, -1):
        c = letters[k]
        while i >= 0 and (long[i].lower() != c or (k == 0 and i > 0 and long[i - 1].isalnum())):
            i -= 1
        if i < 0:
            return None
        i -= 1
    start = long.rfind(" ", 0, i + 1) + 1
    found = long[start:].strip("„“\"'( ")
    return found if len(found.split()) >= 2 and len(found) > len(abbr) else None


def defined_abbreviations(entry: Chunk) -> list[tuple[str, str]]:
    """(abbreviation, what it stands for) that an abbreviation entry
    (``entries``) defines: a list's "ABBR\n\nexpansion", or the words before
    "(ABBR" in a sentence."""
    text = entry.text
    head, sep, rest = text.partition("\n\n")
    if sep and len(head.split()) <= 3 and rest.strip() and "\n\n" not in rest.strip():
        return [(head.strip(), rest.strip())]
    out = []
    for m in _DEFINED.finditer(text):
        abbr = m.group("abbr")
        if _is_acronym(abbr):
            long = expansion(abbr, text[: m.start()])
            if long:
                out.append((abbr, long))
    return out


def contact_lines(chunk: Chunk) -> str | None:
    """The paragraph of an imprint with a postal address and phone, mail or web
    contact, verbatim."""
    lines = _paragraphs(chunk)
    start = next((i for i, p in enumerate(lines) if _IMPRINT.match(p)), None)
    if start is None:
        return None
    for par in lines[start + 1 :]:
        if _is_prose(par):
            break
        if _POSTCODE.search(par) and _CONTACT.search(par):
            return par
    return None


def entries(chunks: list[Chunk], make_id) -> list[Chunk]:
    """The entries of one document's chunks: one per abbreviation (its first
    definition) and one per imprint contact paragraph. ``make_id(section,
    text, occurrence)`` gives the content-hash id."""
    from dataclasses import replace

    out: list[Chunk] = []
    seen: set[str] = set()
    for c in chunks:
        labels = LABELS.get(c.lang or "de", LABELS["de"])
        # one entry per sentence, naming every acronym it introduces
        by_text: dict[str, list[str]] = {}
        for abbr, text in listed_abbreviations(c) + abbreviation_lines(c):
            if abbr not in seen:
                seen.add(abbr)
                by_text.setdefault(text, []).append(abbr)
        for text, abbrs in by_text.items():
            section = f"{labels['abbr']} > {', '.join(abbrs)}"
            out.append(replace(c, chunk_id=make_id(section, text, 0), text=text, section=section, kind="entry"))
        contact = contact_lines(c)
        if contact and "contact" not in seen:
            seen.add("contact")
            section = f"{labels['imprint']} > {labels['contact']}"
            out.append(replace(c, chunk_id=make_id(section, contact, 0), text=contact, section=section, kind="entry"))
    return out
