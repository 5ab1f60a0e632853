"""What the chat shows, made from answer dicts (``Answer.to_dict()``): the
answer as Markdown with its ``[n]`` markers linked to the sources panel, the
sources panel as HTML (each quote highlighted inside its passage), and the
plain text the copy button copies.

Pure functions of their arguments; every document text is HTML-escaped
before it is put into markup.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote, urlencode

from lsn_assistant.answer import labels

from .i18n import text

MARKER = re.compile(r"\[(\d+)\]")
_MD_SPECIAL = re.compile(r"([\\`*_~])")  # "Partner*innen" must not turn italic
_MD_LINE_START = re.compile(r"^(\s*)([#>+=|])", re.MULTILINE)
RELATED_CHARS = 600  # of a related passage shown when the documents do not answer
CONTEXT_CHARS = 400  # of a cited passage shown on either side of its quote


def source_id(turn: int, n: int) -> str:
    """The id of citation ``n`` of the ``turn``-th answer (1-based) in the panel."""
    return f"src-{turn}-{n}"


def escape_markdown(s: str) -> str:
    """Text that Markdown shows as it is (lists, "- " items, stay lists)."""
    s = _MD_SPECIAL.sub(r"\\\1", html.escape(s, quote=False))
    return _MD_LINE_START.sub(r"\1\\\2", s)


def answer_markdown(answer_text: str, turn: int) -> str:
    """The answer for the Chatbot: escaped, each ``[n]`` a link to its source."""

    def link(m: re.Match) -> str:
        n = int(m.group(1))
        return f'<a class="lsn-cite" href="#{source_id(turn, n)}">[{n}]</a>'

    return MARKER.sub(link, escape_markdown(answer_text))


def quote_span(passage: str, quote: str) -> tuple[int, int] | None:
    """Where ``quote`` stands in ``passage``: verbatim, else with any run of
    whitespace matching any other (an answer shows a quote on one line)."""
    if not quote.strip():
        return None
    i = passage.find(quote)
    if i >= 0:
        return i, i + len(quote)
    words = quote.split()
    m = re.search(r"\s+".join(map(re.escape, words)), passage)
    return m.span() if m else None


def _clip_before(s: str, limit: int) -> str:
    if len(s) <= limit:
        return s
    cut = s.find(" ", len(s) - limit)
    return "… " + s[cut + 1 if cut >= 0 else len(s) - limit :]


def highlight(passage: str, quotes: list[tuple[str, int]], turn: int, context: int = CONTEXT_CHARS) -> str:
    """The passage as HTML with each ``(quote, n)`` in ``<mark id="src-<turn>-<n>">``
    followed by its ``[n]``, and at most ``context`` characters of the passage
    before the first quote and after the last. A quote not found (or
    overlapping another) keeps its id on an empty anchor at the start."""
    spans: list[tuple[int, int, int]] = []
    lost: list[int] = []
    for quote, n in quotes:
        span = quote_span(passage, quote)
        if span is None or any(span[0] < b and a < span[1] for a, b, _ in spans):
            lost.append(n)
        else:
            spans.append((*span, n))
    spans.sort()
    out = [f'<span class="lsn-anchor" id="{source_id(turn, n)}"></span>' for n in lost]
    if not spans:
        return "".join(out) + html.escape(shorten(passage, 2 * context))
    out.append(html.escape(_clip_before(passage[: spans[0][0]], context)))
    for i, (a, b, n) in enumerate(spans):
        if i:
            out.append(html.escape(passage[spans[i - 1][1] : a]))
        out.append(f'<mark id="{source_id(turn, n)}">{html.escape(passage[a:b])}</mark><sup class="lsn-n">[{n}]</sup>')
    out.append(html.escape(shorten(passage[spans[-1][1] :], context, strip=False)))
    return "".join(out)


def where(item: dict, lang: str) -> str:
    """"file · p. 4 · Section > Subsection" of a citation or search result."""
    parts = [item.get("doc") or ""]
    if item.get("page"):
        parts.append(f"{text(lang, 'page')} {item['page']}")
    if item.get("section"):
        parts.append(item["section"])
    return " · ".join(html.escape(str(p)) for p in parts if p)


def pdf_link(item: dict, quotes: list[str], lang: str) -> str:
    """A link that opens the cited page of the original PDF in the viewer
    (``ui/static/viewer``, served at ``viewer/``) with the quotes highlighted;
    "" for a passage of any other document (text documents keep the passage
    view), or without a page. The name decides: a file named .pdf was loaded
    as a PDF, or refused (``ingest.load``)."""
    doc, page = item.get("doc") or "", item.get("page")
    if not doc.lower().endswith(".pdf") or not isinstance(page, int) or page < 1:
        return ""
    query = [("doc", doc), ("page", str(page)), *(("q", q) for q in quotes if q.strip()), ("lang", lang)]
    href = "viewer/index.html?" + urlencode(query, quote_via=quote)
    label = html.escape(text(lang, "pdf_page", page=page))
    return f'<div class="lsn-open"><a class="lsn-pdf" href="{html.escape(href)}" target="_blank" rel="noopener">{label}</a></div>'


def shorten(s: str, limit: int = RELATED_CHARS, strip: bool = True) -> str:
    """``s`` cut at a word boundary before ``limit`` characters, with "…"."""
    s = s.strip() if strip else s
    if len(s) <= limit:
        return s
    cut = s.rfind(" ", 0, limit)
    return s[: cut if cut > 0 else limit] + " …"


def mode_badge(answer: dict, lang: str) -> str:
    mode = "llm" if answer.get("mode") == "llm" else "extractive"
    return f'<span class="lsn-badge lsn-mode-{mode}">{text(lang, "badge_" + mode)}</span>'


def cited_passages(citations: list[dict]) -> list[list[dict]]:
    """The citations grouped by passage (answers often quote two sentences of
    one), in the order of their first citation."""
    groups: dict[str, list[dict]] = {}
    for c in citations:
        groups.setdefault(c["chunk_id"], []).append(c)
    return list(groups.values())


def _cited_passage(turn: int, group: list[dict], lang: str) -> str:
    first = group[0]
    numbers = " ".join(f'<span class="lsn-n">[{c["n"]}]</span>' for c in group)
    title = html.escape(first.get("title") or first.get("doc") or "")
    passage = highlight(first.get("text") or "", [(c.get("quote") or "", c["n"]) for c in group], turn)
    return (
        f'<li class="lsn-source"><div class="lsn-source-head">{numbers} <span class="lsn-title">{title}</span></div>'
        f'<div class="lsn-where">{where(first, lang)}</div>'
        f'{pdf_link(first, [c.get("quote") or "" for c in group], lang)}'
        f'<blockquote class="lsn-passage">{passage}</blockquote></li>'
    )


def _related(r: dict, lang: str) -> str:
    title = html.escape(r.get("title") or r.get("doc") or "")
    return (
        f'<li class="lsn-source"><div class="lsn-source-head"><span class="lsn-title">{title}</span></div>'
        f'<div class="lsn-where">{where(r, lang)}</div>'
        f'{pdf_link(r, [], lang)}'
        f'<blockquote class="lsn-passage">{html.escape(shorten(r.get("text") or ""))}</blockquote></li>'
    )


def turn_sources(turn: int, question: str, answer: dict, lang: str, latest: bool) -> str:
    """One answer's part of the panel: its citations, or, when the documents
    do not answer, that verdict and the closest passages."""
    head = f'<summary><span class="lsn-question">{html.escape(question)}</span> {mode_badge(answer, lang)}</summary>'
    body = []
    if answer.get("notice"):
        body.append(f'<p class="lsn-notice">{html.escape(answer["notice"])}</p>')
    if answer.get("abstained"):
        body.append(f'<p class="lsn-verdict">{text(lang, "not_in_docs")}</p>')
        if answer.get("related"):
            body.append(f'<p class="lsn-related-head">{text(lang, "related")}</p>')
            body.append('<ul class="lsn-related">' + "".join(_related(r, lang) for r in answer["related"]) + "</ul>")
    else:
        groups = cited_passages(answer.get("citations", []))
        body.append('<ul class="lsn-citations">' + "".join(_cited_passage(turn, g, lang) for g in groups) + "</ul>")
    return f'<details class="lsn-turn" id="turn-{turn}"{" open" if latest else ""}>{head}{"".join(body)}</details>'


def sources_panel(exchanges: list[dict], lang: str) -> str:
    """All answers' sources, the latest first and open; older ones folded.
    The panel's heading is its own first line (it stays on top while the
    passages scroll), not Gradio's label, which floated over them."""
    head = f'<h2 class="lsn-sources-head">{text(lang, "sources_label")}</h2>'
    answered = [(i, x) for i, x in enumerate(exchanges, start=1) if x.get("answer")]
    if not answered:
        return f'<div class="lsn-sources">{head}<p class="lsn-empty">{text(lang, "sources_empty")}</p></div>'
    last = answered[-1][0]
    parts = [turn_sources(i, x["question"], x["answer"], lang, i == last) for i, x in reversed(answered)]
    return f'<div class="lsn-sources">{head}' + "".join(parts) + "</div>"


def copy_text(answer: dict | None) -> str:
    """An answer as plain text with its numbered sources, in the answer's
    language (the words of ``lsn ask``)."""
    if not answer:
        return ""
    lab = labels(answer.get("language") or "en")
    lines = [answer.get("answer", "")]
    if answer.get("citations"):
        lines += ["", f"{lab['sources']}:"]
        for c in answer["citations"]:
            page = f", {lab['page']} {c['page']}" if c.get("page") else ""
            section = f" — {c['section']}" if c.get("section") else ""
            quote = " ".join(c["quote"].split())
            quoted = f"„{quote}“" if answer.get("language") == "de" else f'"{quote}"'
            lines.append(f"[{c['n']}] {c.get('title') or c['doc']} ({c['doc']}{page}){section}: {quoted}")
    return "\n".join(lines)


def mode_line(llm: dict | None, lang: str) -> str:
    """The configured answer mode for the header (HTML), from ``health()["llm"]``."""
    llm = llm or {}
    if llm.get("mode") == "llm":
        model = " · ".join(str(p) for p in (llm.get("provider"), llm.get("model")) if p)
        line = f"{text(lang, 'mode')}: {text(lang, 'mode_llm', model=f'({model})' if model else '').strip()}"
        if llm.get("reachable") is False:
            line += f" — {text(lang, 'llm_unreachable', detail=llm.get('detail') or '?')}"
    else:
        line = f"{text(lang, 'mode')}: {text(lang, 'mode_extractive')}"
    return f'<p class="lsn-mode-line">{html.escape(line)}</p>'


def problem_line(message: str) -> str:
    """The header's line when the assistant cannot be reached (HTML)."""
    return f'<p class="lsn-mode-line lsn-error">⚠ {html.escape(message)}</p>'
