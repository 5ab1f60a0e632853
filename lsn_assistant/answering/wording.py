"""The answer's text: the chosen units quoted verbatim with ``[n]`` citations,
framed in the question's language (quotes are never translated)."""

from __future__ import annotations

from ..i18n import ANSWER
from ..types import Citation
from .units import Unit, display

LABELS = ANSWER  # lsn_assistant/i18n.py: the one table of labels


def labels(lang: str) -> dict[str, str]:
    return LABELS.get(lang, LABELS["en"])


def compose(chosen: list[Unit], lang: str, listy: bool = False) -> tuple[str, list[Citation]]:
    """Text and citations. Every part of a unit (a verbatim span of one
    passage) is one citation, numbered in order of appearance; a list is
    shown as bullets, each item with the marker of the span that holds it."""
    lab = labels(lang)
    citations: list[Citation] = []
    numbers: dict[tuple[str, int, int], int] = {}

    def cite(part) -> int:
        key = (part.chunk.chunk_id, part.start, part.end)
        if key not in numbers:
            c = part.chunk
            numbers[key] = len(citations) + 1
            citations.append(Citation(numbers[key], c.chunk_id, c.doc, c.title, c.page, c.section, part.quote, c.text, c.lang))
        return numbers[key]

    lines: list[str] = []
    other = {u.lang for u in chosen if u.lang and u.lang != lang}
    if other:
        name = lab.get(sorted(other)[0], sorted(other)[0])
        key = "other_all" if all(u.lang != lang for u in chosen) else "other_some"
        lines.append(lab[key].format(other=name))
    body: list[str] = []
    for u in chosen:
        if u.kind in ("list", "headings", "data") and u.items:
            body.extend(_bulleted(u, cite))
        else:
            body.append(" ".join(f"{display(p.quote)} [{cite(p)}]" for p in u.quoted))
    if listy and len(chosen) > 1 and all(u.kind not in ("list", "headings", "data") for u in chosen):
        lines.append(lab["list_intro"])
        lines.extend(f"- {b}" for b in body)
    elif any("\n" in b for b in body):
        lines.extend(body)
    else:
        lines.append(" ".join(body))
    return "\n".join(lines), citations


def _bulleted(u: Unit, cite) -> list[str]:
    """A list unit: its lead-in, then one bullet per item, each with the
    marker of the part that holds it."""
    out: list[str] = []
    for k, p in enumerate(u.parts):
        n = cite(p)
        lines = [ln for ln in p.quote.split("\n") if ln.strip()]
        # a part that begins inside a line (an item's further sentence) goes on its bullet
        within = k > 0 and p.start > 0 and not p.chunk.text[: p.start].rstrip(" \t").endswith("\n")
        for j, ln in enumerate(lines):
            text = display(ln)
            lead = k == 0 and j == 0 and u.lead
            if j == 0 and within and out:
                out[-1] = f"{out[-1]} {text} [{n}]"
                continue
            out.append(f"{text} [{n}]" if lead else f"- {text} [{n}]")
    # items that run over several sentences of one line: already whole lines here
    return ["\n".join(out)]
