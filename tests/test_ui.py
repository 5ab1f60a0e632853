"""The UI's functions without a browser: the labels per language, the answer
Markdown with its links, the sources panel (quotes highlighted in escaped
passages), the copy text, the chat's streaming over per-user state with a
stand-in assistant, the Documents tab behind the API key, and the Blocks as
built and mounted (concurrency limits; the API routes still answering)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from conftest import clean_settings
from lsn_assistant.errors import BadQuery, IndexEmpty, UploadRejected
from lsn_assistant.types import Answer, Citation, Citations, Delta, Done, Reset
from ui import app as ui_app
from ui import chat, conversations, documents, i18n, render

PASSAGE = (
    "Eine ebenso zentrale Rolle wird auch weiterhin der Life Science Nord e. V. einnehmen. "
    "Dieser vereint rund 250 Akteure aus Wissenschaft,\nWirtschaft und Politik."
)
QUOTE_1 = "Eine ebenso zentrale Rolle wird auch weiterhin der Life Science Nord e. V. einnehmen."
QUOTE_2 = "Dieser vereint rund 250 Akteure aus Wissenschaft, Wirtschaft und Politik."  # one line, as answers show it


def citation(n: int, quote: str, chunk_id: str = "c1", text: str = PASSAGE, **extra) -> Citation:
    fields = dict(doc="strategie.pdf", title="Clusterstrategie 2024", page=4, section="Umsetzung", lang="de")
    fields.update(extra)
    return Citation(n, chunk_id, quote=quote, text=text, **fields)


def answer(**fields) -> dict:
    base = dict(
        text=f"{QUOTE_1} [1] {QUOTE_2} [2]",
        language="de",
        abstained=False,
        citations=(citation(1, QUOTE_1), citation(2, QUOTE_2)),
    )
    base.update(fields)
    return Answer(**base).to_dict()


ABSTAINED = dict(
    text="The documents do not answer this.",
    language="en",
    abstained=True,
    citations=(),
    related=({"rank": 1, "doc": "strategie.pdf", "title": "Clusterstrategie 2024", "page": 2, "section": "",
              "chunk_id": "c9", "text": "Gestaffelt nach den Edelmetallen Platin, Gold und Silber …"},),
)


# ---------------------------------------------------------------- labels


def test_both_languages_have_every_label():
    assert set(i18n.TEXTS["de"]) == set(i18n.TEXTS["en"])
    assert isinstance(i18n.I18N, gr.I18n) and i18n.I18N.translations_dict == i18n.TEXTS


@pytest.mark.parametrize(
    "header, lang",
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de"),
        ("de", "de"),
        ("en-US,en;q=0.9,de;q=0.8", "en"),
        ("fr-FR,fr;q=0.9,de;q=0.8", "en"),  # the browser's first language decides, as in Gradio's frontend
        ("en;q=0.5, de-AT;q=0.9", "de"),
        ("", "en"),
        (None, "en"),
        ("de;q=x, en", "en"),
        ("*", "en"),
    ],
)
def test_language_of_accept_language(header, lang):
    assert i18n.language(header) == lang


def test_request_language_and_text():
    request = SimpleNamespace(headers={"accept-language": "de-DE,de;q=0.9"})
    assert i18n.request_language(request) == "de"
    assert i18n.request_language(None) == "en"
    assert i18n.text("de", "index_size", n=3) == "Der Index umfasst 3 Passagen."
    assert i18n.text("de", "passages", n=1) == "1 Passage" and i18n.text("en", "passages", n=0) == "0 passages"
    assert i18n.text("fr", "ask") == "Ask"
    assert i18n.word("de", "status", "added") == "hinzugefügt"
    assert i18n.word("de", "status", "exotic") == "exotic"


# ---------------------------------------------------------------- the answer in the chat


def test_escape_markdown_keeps_text_as_it_is():
    s = render.escape_markdown("Partner*innen und Mitglied*innen <script>x</script> a_b_c")
    assert s == r"Partner\*innen und Mitglied\*innen &lt;script&gt;x&lt;/script&gt; a\_b\_c"
    assert render.escape_markdown("Die Dokumente nennen:\n- eins [1]\n# keine Überschrift") == (
        "Die Dokumente nennen:\n- eins [1]\n\\# keine Überschrift"
    )


def test_answer_markdown_links_every_marker_to_its_source():
    md = render.answer_markdown("Erstens [1]. Zweitens <b> [2]", turn=3)
    assert md == (
        'Erstens <a class="lsn-cite" href="#src-3-1">[1]</a>. '
        'Zweitens &lt;b&gt; <a class="lsn-cite" href="#src-3-2">[2]</a>'
    )


# ---------------------------------------------------------------- the sources panel


def test_quote_span_verbatim_or_across_line_breaks():
    assert render.quote_span(PASSAGE, QUOTE_1) == (0, len(QUOTE_1))
    a, b = render.quote_span(PASSAGE, QUOTE_2)
    assert PASSAGE[a:b].startswith("Dieser vereint") and PASSAGE[a:b].endswith("Politik.") and "\n" in PASSAGE[a:b]
    assert render.quote_span(PASSAGE, "nicht im Text") is None
    assert render.quote_span(PASSAGE, "  ") is None


def test_highlight_escapes_the_passage_and_marks_each_quote():
    passage = "A <b>bold</b> claim & more. Second sentence here."
    out = render.highlight(passage, [("Second sentence here.", 2), ("A <b>bold</b> claim", 1)], turn=1)
    assert out == (
        '<mark id="src-1-1">A &lt;b&gt;bold&lt;/b&gt; claim</mark><sup class="lsn-n">[1]</sup>'
        ' &amp; more. <mark id="src-1-2">Second sentence here.</mark><sup class="lsn-n">[2]</sup>'
    )


def test_highlight_keeps_the_id_of_a_quote_it_cannot_find():
    out = render.highlight("Some passage.", [("elsewhere", 3)], turn=2)
    assert out == '<span class="lsn-anchor" id="src-2-3"></span>Some passage.'


def test_highlight_clips_long_context_at_word_boundaries():
    passage = " ".join(["vorher"] * 200) + " DIE STELLE. " + " ".join(["nachher"] * 200)
    out = render.highlight(passage, [("DIE STELLE.", 1)], turn=1, context=50)
    before, rest = out.split("<mark", 1)
    after = rest.split("</sup>", 1)[1]
    assert before.startswith("… vorher") and len(before) <= 55
    assert after.endswith("nachher …") and len(after) <= 55


def test_sources_panel_groups_citations_by_passage():
    html = render.sources_panel([{"question": "Wie viele?", "answer": answer()}], "en")
    assert html.count('class="lsn-source"') == 1  # two quotes of one passage: one block
    assert 'id="src-1-1"' in html and 'id="src-1-2"' in html
    assert "Clusterstrategie 2024" in html and "strategie.pdf · p. 4 · Umsetzung" in html
    assert '<details class="lsn-turn" id="turn-1" open>' in html
    assert '<span class="lsn-badge lsn-mode-extractive">extractive</span>' in html


def test_sources_panel_separate_passages_and_german_labels():
    cites = (citation(1, QUOTE_1), citation(2, "Anderswo.", chunk_id="c2", text="Anderswo.", page=None, section=""))
    html = render.sources_panel([{"question": "Q", "answer": answer(citations=cites)}], "de")
    assert html.count('class="lsn-source"') == 2
    assert "strategie.pdf · S. 4 · Umsetzung" in html and "<div class=\"lsn-where\">strategie.pdf</div>" in html
    assert "extraktiv" in html


def test_sources_panel_latest_first_older_folded():
    exchanges = [
        {"question": "eins", "answer": answer()},
        {"question": "kaputt", "answer": None, "error": "the question is empty"},
        {"question": "drei", "answer": answer(mode="llm", notice="<Hinweis>")},
    ]
    html = render.sources_panel(exchanges, "en")
    assert html.index('id="turn-3"') < html.index('id="turn-1"') and 'id="turn-2"' not in html
    assert '<details class="lsn-turn" id="turn-3" open>' in html and '<details class="lsn-turn" id="turn-1">' in html
    assert 'id="src-3-1"' in html and 'id="src-1-1"' in html
    assert "lsn-mode-llm" in html and "&lt;Hinweis&gt;" in html


def test_sources_panel_not_in_the_documents_with_related_passages():
    html = render.sources_panel([{"question": "cost?", "answer": Answer(**ABSTAINED).to_dict()}], "en")
    assert '<p class="lsn-verdict">Not in the documents</p>' in html
    assert "The closest passages" in html and "Gestaffelt nach den Edelmetallen" in html
    assert "strategie.pdf · p. 2" in html and "<mark" not in html


def test_sources_panel_before_any_answer():
    assert "Hier erscheinen die Quellen" in render.sources_panel([], "de")
    assert "The sources of an answer appear here" in render.sources_panel([], "en")


def test_sources_panel_has_its_heading_first():
    """The heading is the panel's own first line (Gradio's floating label
    covered the passages scrolled under it)."""
    for exchanges in ([], [{"question": "Q", "answer": answer()}]):
        assert render.sources_panel(exchanges, "de").startswith('<div class="lsn-sources"><h2 class="lsn-sources-head">Quellen</h2>')
        assert '<h2 class="lsn-sources-head">Sources</h2>' in render.sources_panel(exchanges, "en")


def test_a_pdf_citation_links_its_page_in_the_viewer():
    html = render.sources_panel([{"question": "Q", "answer": answer()}], "de")
    (link,) = re.findall(r'<a class="lsn-pdf" href="([^"]+)" target="_blank" rel="noopener">Seite 4 im PDF öffnen ↗</a>', html)
    path, _, query = link.replace("&amp;", "&").partition("?")
    assert path == "viewer/index.html"  # relative: the UI may be served under a prefix
    from urllib.parse import parse_qs

    params = parse_qs(query)
    assert params == {"doc": ["strategie.pdf"], "page": ["4"], "q": [QUOTE_1, QUOTE_2], "lang": ["de"]}  # both quotes of the passage


@pytest.mark.parametrize(
    "item, linked",
    [
        ({"doc": "a.PDF", "page": 2}, True),
        ({"doc": "a.pdf", "page": None}, False),  # no page to open
        ({"doc": "a.md", "page": 2}, False),  # text documents keep the passage view
        ({"doc": "a.docx", "page": None}, False),
        ({"doc": 'x".pdf', "page": 1}, True),
    ],
)
def test_pdf_link_only_for_a_pdf_page(item, linked):
    out = render.pdf_link(item, ['Ein "Zitat" <b>'], "en")
    assert bool(out) == linked
    if linked:
        assert '"Zitat"' not in out and "<b>" not in out and "Open page" in out  # quoted into the URL, escaped


def test_related_passages_of_a_pdf_link_their_page_too():
    html = render.sources_panel([{"question": "cost?", "answer": Answer(**ABSTAINED).to_dict()}], "en")
    assert "viewer/index.html?doc=strategie.pdf&amp;page=2&amp;lang=en" in html and "Open page 2 of the PDF" in html


def test_copy_text_is_the_answer_with_its_sources_in_its_language():
    text = render.copy_text(answer())
    assert text.splitlines() == [
        f"{QUOTE_1} [1] {QUOTE_2} [2]",
        "",
        "Quellen:",
        f"[1] Clusterstrategie 2024 (strategie.pdf, S. 4) — Umsetzung: „{QUOTE_1}“",
        f"[2] Clusterstrategie 2024 (strategie.pdf, S. 4) — Umsetzung: „{QUOTE_2}“",
    ]
    assert render.copy_text(Answer(**ABSTAINED).to_dict()) == "The documents do not answer this."
    assert render.copy_text(None) == ""


def test_mode_line():
    assert render.mode_line({"mode": "extractive"}, "de") == (
        '<p class="lsn-mode-line">Antwortmodus: extraktiv (Sätze wörtlich aus den Dokumenten)</p>'
    )
    llm = {"mode": "llm", "provider": "ollama", "model": "qwen<3>", "reachable": True}
    assert render.mode_line(llm, "en") == '<p class="lsn-mode-line">Answer mode: LLM (ollama · qwen&lt;3&gt;)</p>'
    down = render.mode_line({**llm, "reachable": False, "detail": "connection refused"}, "en")
    assert "not reachable now (connection refused)" in down


# ---------------------------------------------------------------- the chat over per-user state


class FakeAssistant:
    """Answers from a script of events; records what it was asked."""

    def __init__(self, events=None, error=None):
        self.events = events
        self.error = error
        self.calls = []

    def ask_stream(self, question, history=None, filters=None, k=None):
        self.calls.append({"question": question, "history": history, "filters": filters})
        if self.error:
            raise self.error
        return iter([typed(e) for e in self.events])


class _Answered:
    """An answer as the stream's ``Done`` carries it, from its dict."""

    def __init__(self, d: dict):
        self.d = d

    def to_dict(self) -> dict:
        return self.d


def typed(event: dict):
    """The typed stream event (lsn_assistant.types) of a scripted dict event."""
    kind = event["type"]
    if kind == "delta":
        return Delta(event["text"])
    if kind == "reset":
        return Reset()
    if kind == "citations":
        return Citations(())
    return Done(_Answered(event["answer"]))


def stream_of(done: dict, pieces: list[str]) -> list[dict]:
    return [*({"type": "delta", "text": p} for p in pieces), {"type": "citations", "citations": done["citations"]},
            {"type": "done", "answer": done}]


def run(assistant, question, state, docs=None, langs=None, lang="en"):
    return list(chat.respond(lambda: assistant, question, state, docs, langs, lang))


def test_respond_streams_then_fills_state_sources_and_copy_text():
    done = answer()
    fake = FakeAssistant(stream_of(done, [f"{QUOTE_1} [1]", f" {QUOTE_2} [2]"]))
    state: list = []
    outputs = run(fake, "  Wie viele Akteure?  ", state, docs=["strategie.pdf"], langs=["de"])
    box, first_messages = outputs[0][0], outputs[0][1]
    assert box == "" and first_messages[-1] == {"role": "assistant", "content": chat.PENDING}
    streamed = [o[1][-1]["content"] for o in outputs[1:3]]
    assert streamed[0] == render.answer_markdown(f"{QUOTE_1} [1]", 1)
    assert streamed[1] == render.answer_markdown(done["answer"], 1)
    assert all(isinstance(o[2], type(gr.skip())) for o in outputs[:-1])  # the state is written once, at the end
    _, messages, new_state, sources, copied = outputs[-1]
    assert state == [] and len(new_state) == 1  # the caller's list is not changed
    assert new_state[0]["answer"] == done and new_state[0]["question"] == "Wie viele Akteure?"
    assert messages[0] == {"role": "user", "content": "Wie viele Akteure?"}
    assert 'href="#src-1-2"' in messages[1]["content"] and 'id="src-1-2"' in sources
    assert copied == render.copy_text(done)
    assert fake.calls == [{"question": "Wie viele Akteure?", "history": [], "filters": {"doc": ["strategie.pdf"], "lang": ["de"]}}]


def test_respond_passes_the_history_with_citations_for_follow_ups():
    first = answer()
    fake = FakeAssistant(stream_of(first, [first["answer"]]))
    state = run(fake, "Wie viele Akteure?", [])[-1][2]
    second = answer(text=f"{QUOTE_2} [1]", citations=(citation(1, QUOTE_2),))
    fake.events = stream_of(second, [second["answer"]])
    _, messages, state, sources, _ = run(fake, "Und in der Strategie 2030?", state)[-1]
    assert fake.calls[1]["history"] == [
        {"role": "user", "content": "Wie viele Akteure?"},
        {"role": "assistant", "content": first["answer"], "citations": first["citations"]},
    ]
    assert fake.calls[1]["filters"] is None
    assert len(state) == 2 and len(messages) == 4
    assert 'href="#src-2-1"' in messages[3]["content"] and 'href="#src-1-1"' in messages[1]["content"]
    assert '<details class="lsn-turn" id="turn-2" open>' in sources


def test_respond_withdraws_what_a_reset_takes_back():
    done = answer(text=f"{QUOTE_1} [1]", citations=(citation(1, QUOTE_1),))
    events = [{"type": "delta", "text": "Ein Entwurf [1]"}, {"type": "reset"}, *stream_of(done, [done["answer"]])]
    outputs = run(FakeAssistant(events), "Frage?", [])
    contents = [o[1][-1]["content"] for o in outputs]
    assert contents[1].startswith("Ein Entwurf") and contents[2] == chat.PENDING
    assert contents[-1] == render.answer_markdown(done["answer"], 1)


def test_respond_shows_errors_in_the_chat_and_keeps_them_out_of_the_history():
    fake = FakeAssistant(error=IndexEmpty("the index is empty: run `lsn ingest` first"))
    _, messages, state, sources, copied = run(fake, "Frage?", [])[-1]
    assert messages[-1]["content"] == '<span class="lsn-error">⚠ the index is empty: run \\`lsn ingest\\` first</span>'
    assert state[0]["error"] and copied == "" and "lsn-empty" in sources
    fake.error = None
    fake.events = stream_of(answer(), ["…"])
    run(fake, "Noch einmal?", state)
    assert fake.calls[-1]["history"] == []


def test_respond_shows_the_abstention_as_such():
    done = Answer(**ABSTAINED).to_dict()
    _, messages, _, sources, _ = run(FakeAssistant(stream_of(done, [done["answer"]])), "cost?", [])[-1]
    assert messages[-1]["content"] == '<span class="lsn-abstained">The documents do not answer this.</span>'
    assert "Not in the documents" in sources


def test_respond_ignores_an_empty_question():
    fake = FakeAssistant([])
    outputs = run(fake, "   ", [{"question": "x", "text": "", "answer": None, "error": None}])
    assert len(outputs) == 1 and all(isinstance(o, type(gr.skip())) for o in outputs[0]) and fake.calls == []


def test_clear():
    chatbot, state, sources, copied = chat.clear("de")
    assert chatbot == [] and state == [] and copied == "" and "Hier erscheinen" in sources


def test_history_keeps_the_latest_turns_the_assistant_takes():
    from lsn_assistant.conversation import MAX_TURNS

    exchanges = [{"question": f"Frage {i}?", "text": "", "answer": answer(), "error": None} for i in range(40)]
    turns = chat.history(exchanges)
    assert len(turns) == MAX_TURNS and turns[0] == {"role": "user", "content": f"Frage {40 - MAX_TURNS // 2}?"}


def test_errors_are_shown_in_the_ui_language():
    fake = FakeAssistant(error=BadQuery("the question is too long (2500 characters; at most 2000)"))
    _, messages, state, _, _ = run(fake, "x" * 10, [], lang="de")[-1]
    assert state[0]["error"] == "Die Frage ist zu lang (2500 Zeichen; höchstens 2000)."
    assert "Die Frage ist zu lang" in messages[-1]["content"]
    _, _, state, _, _ = run(FakeAssistant(error=IndexEmpty("the index is empty: run `lsn ingest` first")), "Frage?", [], lang="en")[-1]
    assert state[0]["error"] == "the index is empty: run `lsn ingest` first"  # English stays the library's words


@pytest.mark.parametrize(
    "english, german",
    [
        ("the question is empty", "Die Frage ist leer."),
        ("the topic is too long (900 characters; at most 500)", "Das Thema ist zu lang (900 Zeichen; höchstens 500)."),
        ("the question has no visible characters (only spaces or invisible characters)",
         "Die Frage enthält keine sichtbaren Zeichen (nur Leerzeichen oder unsichtbare Zeichen)."),
        ("the question contains a control character (U+0007); remove it", "Die Frage enthält ein Steuerzeichen (U+0007); bitte entfernen."),
        ("the index is empty: run `lsn ingest` first", "Der Index ist leer: Zuerst `lsn ingest` ausführen."),
        ("wrong or missing API key", "Falscher oder fehlender API-Schlüssel."),
        ("write operations are disabled: no API key is configured (set LSN_API_KEY)",
         "Schreiben ist abgeschaltet: Es ist kein API-Schlüssel eingerichtet (LSN_API_KEY setzen)."),
        (".exe files are not accepted; upload .docx, .md, .pdf, .txt", ".exe-Dateien werden nicht angenommen; erlaubt sind .docx, .md, .pdf, .txt."),
        ("the file is 3.2 MB; the limit is 2 MB", "Die Datei ist 3.2 MB groß; erlaubt sind höchstens 2 MB."),
        ("notiz.pdf is named .pdf but holds text content", "notiz.pdf heißt .pdf, enthält aber Inhalt vom Typ text."),
        ("geheim.pdf: the PDF is encrypted with a password; provide an unencrypted copy",
         "geheim.pdf: Die PDF ist mit einem Passwort verschlüsselt; bitte eine unverschlüsselte Kopie verwenden."),
        ("/data/uploads/x.pdf: not a readable PDF (PdfReadError: EOF marker not found)",
         "/data/uploads/x.pdf: Keine lesbare PDF (PdfReadError: EOF marker not found)."),
        ("the corpus folder already has a document named a.pdf; rename the file",
         "Im Korpusordner gibt es schon ein Dokument namens a.pdf; bitte die Datei umbenennen."),
        ("only a file uploaded through this page can be added (the path is outside the upload cache)",
         "Nur eine über diese Seite hochgeladene Datei kann hinzugefügt werden (der Pfad liegt außerhalb des "
         "Upload-Zwischenspeichers)."),
        # unknown messages and subjects stay as they are
        ("something nobody foresaw", "something nobody foresaw"),
        ("the filter value is empty", "the filter value is empty"),
        ("x.pdf: something nobody foresaw", "x.pdf: something nobody foresaw"),
    ],
)
def test_known_library_errors_in_german(english, german):
    assert i18n.error_message("de", english) == german
    assert i18n.error_message("en", english) == english
    assert i18n.error_message("de", UploadRejected(english)) == german  # the exception itself, too


# ---------------------------------------------------------------- conversations kept in the browser


NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def answered(question: str, done: dict | None = None) -> dict:
    done = done or answer()
    return {"question": question, "text": done["answer"], "answer": done, "error": None}


def test_a_conversation_is_saved_reopened_continued_and_deleted():
    first = [answered("Wie viele Akteure?")]
    kept, cid = conversations.save([], None, first, NOW)
    assert len(kept) == 1 and cid == kept[0]["id"] and kept[0]["title"] == "Wie viele Akteure?"
    assert kept[0]["created"] == kept[0]["updated"] == "2026-03-01T09:30:00+00:00"
    json.dumps(kept)  # what the browser stores: JSON

    chatbot, state, sources, copied, reopened = chat.reopen(kept, cid, "de")
    assert reopened == cid and [x["question"] for x in state] == ["Wie viele Akteure?"]
    assert state[0]["answer"]["citations"][0]["text"] == PASSAGE and state[0]["text"] == state[0]["answer"]["answer"]
    assert chatbot == chat.messages(state) and 'id="src-1-2"' in sources and "strategie.pdf · S. 4" in sources
    assert copied == render.copy_text(state[0]["answer"])
    assert chat.history(state)[1]["citations"][0]["doc"] == "strategie.pdf"  # a follow-up keeps its documents

    later = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    kept, same = conversations.save(kept, cid, [*state, answered("Und woher?")], later)
    assert same == cid and len(kept) == 1 and len(kept[0]["exchanges"]) == 2
    assert kept[0]["created"] == "2026-03-01T09:30:00+00:00" and kept[0]["updated"] == "2026-03-01T10:00:00+00:00"

    other, oid = conversations.save(kept, None, [answered("Andere Frage?")], later)
    assert [c["id"] for c in other] == [oid, cid]  # newest first
    assert conversations.choices(other, "de", "Europe/Berlin") == [
        ("Andere Frage? · 01.03.2026 11:00", oid), ("Wie viele Akteure? · 01.03.2026 11:00", cid)]
    assert conversations.choices(other, "en", "Not/AZone")[0] == ("Andere Frage? · 2026-03-01 10:00", oid)  # UTC
    assert [c["id"] for c in conversations.delete(other, cid)] == [oid]
    assert chat.reopen(conversations.delete(other, cid), cid, "en")[:4] == chat.clear("en")  # gone: a new one


def test_what_is_kept_of_an_answer():
    done = answer(mode="llm", notice="Hinweis")
    done["timings_ms"] = {"total": 12.5}
    done["evidence"] = {"score": 0.9}
    (kept,) = conversations.compact([answered("Q", done)])
    assert set(kept["answer"]) == {"answer_id", "answer", "language", "mode", "notice", "abstained", "citations", "related"}
    assert set(kept["answer"]["citations"][0]) == {"n", "chunk_id", "doc", "page", "title", "section", "quote", "text", "lang"}
    related = Answer(**{**ABSTAINED, "related": ({**ABSTAINED["related"][0], "text": "lang " * 500},)}).to_dict()
    (kept,) = conversations.compact([answered("cost?", related)])
    assert len(kept["answer"]["related"][0]["text"]) <= render.RELATED_CHARS + 2


def test_an_answer_is_saved_with_its_last_output():
    """Saved in the same update as the answer: a reload right after it finds it."""
    done = answer()
    fake = FakeAssistant(stream_of(done, [done["answer"]]))
    outputs = list(chat.respond_and_keep(lambda: fake, "Wie viele?", [], None, None, "de", [], None, "Europe/Berlin",
                                         now=lambda: NOW))
    assert all(isinstance(v, type(gr.skip())) for o in outputs[:-1] for v in o[5:])
    *answered_out, kept, cid, listed = outputs[-1]
    assert answered_out[2][0]["answer"] == done and 'id="src-1-1"' in answered_out[3]  # respond's own last output
    assert kept[0]["id"] == cid and listed["value"] == cid and listed["choices"] == [("Wie viele? · 01.03.2026 10:30", cid)]
    fake.events = stream_of(done, [done["answer"]])
    again = list(chat.respond_and_keep(lambda: fake, "Und?", answered_out[2], None, None, "de", kept, cid, None,
                                       now=lambda: NOW))[-1]
    assert again[6] == cid and len(again[5]) == 1 and len(again[5][0]["exchanges"]) == 2  # continued, not a second one


def test_a_conversation_without_an_answer_is_not_saved():
    failed = [{"question": "Frage?", "text": "", "answer": None, "error": "the index is empty"}]
    assert conversations.save([], None, failed, NOW) == ([], None)
    kept, cid = conversations.save([], None, [*failed, answered("Noch einmal?")], NOW)
    assert kept[0]["title"] == "Noch einmal?" and kept[0]["exchanges"][0]["error"] == "the index is empty"


def test_the_list_is_bounded(monkeypatch):
    kept = []
    for i in range(conversations.MAX_CONVERSATIONS + 3):
        kept, _ = conversations.save(kept, None, [answered(f"Frage {i}?")], NOW)
    assert len(kept) == conversations.MAX_CONVERSATIONS and kept[0]["title"] == f"Frage {conversations.MAX_CONVERSATIONS + 2}?"
    monkeypatch.setattr(conversations, "MAX_CHARS", 6000)
    kept, _ = conversations.save(kept, None, [answered(f"Lang {i}?") for i in range(6)], NOW)
    assert len(kept) == 1 and len(json.dumps(kept, ensure_ascii=False)) <= 6000  # the oldest went, then old exchanges
    assert kept[0]["exchanges"][-1]["question"] == "Lang 5?" and kept[0]["title"] == "Lang 0?"


@pytest.mark.parametrize(
    "stored",
    [
        None, "text", {"id": "x"}, [1, "a", None],
        [{"id": "../../etc", "title": "t", "created": "", "updated": "", "exchanges": [{"question": "q", "answer": None, "error": None}]}],
        [{"id": "abcdef0123", "title": "t", "created": "", "updated": "", "exchanges": []}],
        [{"id": "abcdef0123", "title": "t", "created": "", "updated": "", "exchanges": [{"question": 3}]}],
        [{"id": "abcdef0123", "title": "t", "created": "", "updated": "",
          "exchanges": [{"question": "q", "answer": {"answer": "a", "abstained": False, "citations": [{"n": "1"}]}, "error": None}]}],
    ],
)
def test_what_the_browser_sends_back_is_checked(stored):
    """Storage of another format, or edited: left out, never an error."""
    assert conversations.saved_list(stored) == []
    assert chat.reopen(stored, "abcdef0123", "en")[4] is None
    assert conversations.choices(stored, "en", None) == []


# ---------------------------------------------------------------- documents


DOCS = [
    {"doc": "b.pdf", "title": "Beta", "year": 2019, "langs": ["de", "en"], "chunks": 3, "source": "upload"},
    {"doc": "a.txt", "title": "", "year": None, "langs": [], "chunks": 1, "source": "corpus"},
]


def test_corpus_table_and_choices():
    table = documents.corpus_table(DOCS, "de")
    assert table["headers"] == ["Datei", "Titel", "Jahr", "Sprachen", "Passagen", "Herkunft"]
    assert table["data"] == [["a.txt", "", "", "", 1, "Korpusordner"], ["b.pdf", "Beta", 2019, "de, en", 3, "hochgeladen"]]
    assert documents.doc_choices(DOCS) == [("a.txt (a.txt)", "a.txt"), ("Beta (b.pdf)", "b.pdf")]


class FakeLibrary:
    def __init__(self, error=None):
        self.error = error
        self.added, self.deleted = [], []

    def add_document(self, filename, data):
        if self.error:
            raise self.error
        self.added.append((filename, data))
        return {"files": [{"doc": filename, "status": "added", "chunks": 2, "error": None}], "counts": {"added": 1},
                "index_size": 7}

    def delete_document(self, doc):
        self.deleted.append(doc)
        return {"doc": doc, "deleted_chunks": 2, "source": "upload", "index_size": 5}


def test_upload_needs_the_api_key(tmp_path):
    path = tmp_path / "notiz_2024.txt"
    path.write_text("Eine Notiz.", encoding="utf-8")
    lib = FakeLibrary()
    get = lambda: lib  # noqa: E731
    keyed = clean_settings(api_key="s3cret")
    cache = tmp_path  # Gradio's upload cache, here
    assert documents.upload(get, clean_settings(), "s3cret", str(path), "en", cache) == (
        "⚠ write operations are disabled: no API key is configured (set LSN\\_API\\_KEY)", False)
    assert documents.upload(get, keyed, "wrong", str(path), "en", cache) == ("⚠ wrong or missing API key", False)
    assert documents.upload(get, keyed, "", str(path), "en", cache) == ("⚠ wrong or missing API key", False)
    assert documents.upload(get, keyed, "s3cret", None, "de", cache) == ("Bitte zuerst eine Datei wählen.", False)
    assert lib.added == []
    message, stored = documents.upload(get, keyed, "s3cret", str(path), "de", cache)
    assert stored and lib.added == [("notiz_2024.txt", "Eine Notiz.".encode())]
    assert message == "**notiz\\_2024.txt**: hinzugefügt, 2 Passagen  \nDer Index umfasst 7 Passagen."
    assert not path.exists()  # in the library now: it leaves the cache


def test_upload_reads_only_files_in_the_upload_cache(tmp_path):
    """The file input's value is a path the browser sends back: a caller can
    name any file of the server. Only files inside Gradio's cache are read."""
    cache = tmp_path / "gradio"
    (cache / "abc123").mkdir(parents=True)
    inside = cache / "abc123" / "notiz.txt"
    inside.write_text("Eine Notiz.", encoding="utf-8")
    secret = tmp_path / "secret.md"
    secret.write_text("# Geheim\n\nNicht für den Index.", encoding="utf-8")
    (cache / "abc123" / "link.md").symlink_to(secret)  # inside by name, outside in fact
    lib = FakeLibrary()
    keyed = clean_settings(api_key="k")
    outside = "⚠ only a file uploaded through this page can be added (the path is outside the upload cache)"
    for path in (str(secret), "/etc/hostname", str(cache / "abc123" / "link.md"), str(cache / "abc123" / ".." / ".." / "secret.md")):
        assert documents.upload(lambda: lib, keyed, "k", path, "en", cache) == (outside, False), path
    assert documents.upload(lambda: lib, keyed, "k", str(cache / "gone.txt"), "en", cache) == (
        "⚠ the uploaded file is no longer there; choose it again", False)
    assert documents.upload(lambda: lib, keyed, "k", str(cache), "en", cache) == (outside, False)  # a folder
    assert lib.added == []
    assert documents.upload(lambda: lib, keyed, "k", str(inside), "en", cache)[1]
    assert lib.added == [("notiz.txt", b"Eine Notiz.")]
    # without the key nothing is said about the path
    assert documents.upload(lambda: lib, keyed, "", "/etc/hostname", "en", cache) == ("⚠ wrong or missing API key", False)


def test_upload_shows_a_rejection():
    lib = FakeLibrary(error=UploadRejected(".exe files are not accepted", 415))
    message, stored = documents.upload(lambda: lib, clean_settings(api_key="k"), "k", __file__, "en", Path(__file__).parent)
    assert message == "⚠ .exe files are not accepted" and not stored
    lib.error = UploadRejected(".exe files are not accepted; upload .docx, .md, .pdf, .txt", 415)
    message, _ = documents.upload(lambda: lib, clean_settings(api_key="k"), "k", __file__, "de", Path(__file__).parent)
    assert message == "⚠ .exe-Dateien werden nicht angenommen; erlaubt sind .docx, .md, .pdf, .txt."
    assert documents.upload(lambda: lib, clean_settings(api_key="k"), "nein", __file__, "de", Path(__file__).parent) == (
        "⚠ Falscher oder fehlender API-Schlüssel.", False)


def test_delete_needs_the_api_key():
    lib = FakeLibrary()
    keyed = clean_settings(api_key="k")
    assert documents.delete(lambda: lib, keyed, "nope", "a.txt", "en") == "⚠ wrong or missing API key"
    assert documents.delete(lambda: lib, keyed, "k", None, "en") == "Choose a document first."
    assert lib.deleted == []
    assert documents.delete(lambda: lib, keyed, "k", "a.txt", "en") == (
        "a.txt is no longer in the index.  \nThe index holds 5 passages.")
    assert lib.deleted == ["a.txt"]


# ---------------------------------------------------------------- the Blocks, built and mounted


class StubAssistant(FakeLibrary):
    def documents(self):
        return DOCS

    def health(self):
        return {"status": "ok", "llm": {"mode": "extractive"}}

    def ask_stream(self, question, history=None, filters=None, k=None):
        raise BadQuery("the question is empty")


def events_of(blocks: gr.Blocks, name: str) -> list:
    return [f for f in blocks.fns.values() if f.name == name]


def test_build_ui_sets_concurrency_limits():
    blocks = ui_app.build_ui(StubAssistant, clean_settings())
    asks = events_of(blocks, "on_ask")  # the button and Enter in the question box
    assert len(asks) == 2
    assert all(f.concurrency_limit == ui_app.ANSWER_CONCURRENCY and f.concurrency_id == "answer" for f in asks)
    writes = [f for f in blocks.fns.values() if f.concurrency_id == "write"]
    assert len(writes) == 2 and all(f.concurrency_limit == 1 for f in writes)
    assert blocks._queue.default_concurrency_limit == ui_app.DEFAULT_CONCURRENCY
    ours = [f for f in blocks.fns.values() if f.fn is None or f.fn.__module__ == "ui.app"]  # not the Draft/Eval tabs'
    assert len(ours) == 14  # with the 👍/👎 rating and the browser's conversations (time zone, list, reopen, delete)
    tabs = {f.fn.__module__ for f in blocks.fns.values() if f.fn is not None} - {"ui.app"}
    assert tabs == {"ui.draft_tab", "ui.eval_tab"}
    assert all(f.api_visibility == "private" for f in blocks.fns.values())
    drafts = events_of(blocks, "build_draft_event")  # a draft is a few answers: it waits with them
    assert [(f.concurrency_id, f.concurrency_limit) for f in drafts] == [("answer", ui_app.ANSWER_CONCURRENCY)]


I18N_KEY = re.compile(r'__i18n__\{"__type__": "translation_metadata", "key": "(\w+)"\}')


def strings(value) -> list[str]:
    """Every string in a JSON-like value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [s for v in value for s in strings(v)] if isinstance(value, (list, tuple)) else []


def test_every_label_the_browser_gets_is_in_both_languages(tmp_path):
    blocks = ui_app.build_ui(StubAssistant, clean_settings(data_dir=tmp_path))
    config = json.loads(json.dumps(blocks.get_config_file(), default=str))
    keys = {key for s in strings(config["components"]) for key in I18N_KEY.findall(s)}
    assert {"tab_draft", "tab_eval", "draft_topic", "draft_build", "draft_download_docx", "eval_runs", "eval_a"} <= keys
    assert keys <= set(i18n.TEXTS["en"]) and keys <= set(i18n.TEXTS["de"])
    tabs = [c["props"]["label"] for c in config["components"] if c["type"] == "tabitem"]
    assert [I18N_KEY.fullmatch(label).group(1) for label in tabs] == ["tab_chat", "tab_documents", "tab_draft", "tab_eval"]
    assert "__i18n__" not in str([i18n.TEXTS[lang][key] for lang in i18n.TEXTS for key in keys])


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_server_made_words_of_draft_and_eval_are_in_both_languages(lang):
    other = "en" if lang == "de" else "de"
    for key in [k for k in i18n.TEXTS["en"] if k.startswith(("draft_", "eval_"))]:
        assert i18n.TEXTS[lang][key].count("{") == i18n.TEXTS[other][key].count("{"), key  # the same placeholders
    assert i18n.text("de", "draft_sections", n=1) == "1 Abschnitt" and i18n.text("en", "draft_sources", n=3) == "3 sources"


def test_mount_ui_keeps_the_api_routes():
    api = FastAPI()

    @api.get("/health")
    def health():
        return {"status": "ok"}

    @api.get("/api/documents")
    def docs():
        return {"documents": []}

    app = ui_app.mount_ui(api, StubAssistant, clean_settings())
    with TestClient(app) as client:
        assert client.get("/health").json() == {"status": "ok"}
        assert client.get("/api/documents").json() == {"documents": []}
        assert client.get("/openapi.json").status_code == 200
        assert client.get("/").status_code == 200
        config = client.get("/config").json()
        assert config["title"] == "LSN Assistant" and config["i18n_translations"] == i18n.TEXTS
        assert ".lsn-passage mark" in config["css"] and "window.lsnCopy" in config["js"]
        # the PDF viewer and the pdf.js it loads, from this server
        page = client.get("/viewer/index.html")
        assert page.status_code == 200 and "viewer.js" in page.text
        for path in ("/viewer/viewer.js", "/viewer/pdfjs/pdf.min.mjs", "/viewer/pdfjs/pdf.worker.min.mjs"):
            r = client.get(path)
            assert r.status_code == 200 and re.match(r"(text|application)/javascript", r.headers["content-type"]), path
        assert client.get("/viewer/pdfjs/standard_fonts/LiberationSans-Regular.ttf").status_code == 200
        assert client.get("/viewer/../health").json() == {"status": "ok"}  # nothing outside its folder
        assert client.get("/viewer/%2e%2e/app.css").status_code == 404
        # weight 600 from the complete Bold file, not Gradio's few-glyph SemiBold (the header's odd "A")
        theme = client.get("/theme.css").text
        assert "SourceSansPro-Bold.woff2" in theme and "SourceSansPro-SemiBold.woff2" not in theme


def test_a_rating_in_the_chat_is_stored_with_its_answer():
    """👍/👎 on an answer (message 1, 3, …) stores the rating and the comment;
    one on a question, a taken-back rating, or an answer without id is ignored."""
    from ui.chat import rate

    rated = []

    class Rater:
        def rate(self, answer_id, rating, comment):
            rated.append((answer_id, rating, comment))
            return 1

    state = [{"question": "Q1", "text": "A1", "answer": {"answer_id": "a1", "answer": "A1"}, "error": None},
             {"question": "Q2", "text": "", "answer": None, "error": "x"}]
    assert rate(Rater, state, 1, False, "zu lang", "de") == ("Danke: Ihr 👎 ist mit der Antwort gespeichert; das Evaluationsteam sieht es sich an.", "")
    assert rate(Rater, state, 1, True, "", "en")[0].startswith("Thank you: your 👍")
    assert rate(Rater, state, 0, True, "c", "en") == ("", "c")  # the question
    assert rate(Rater, state, 3, True, "c", "en") == ("", "c")  # no answer
    assert rate(Rater, state, 1, None, "c", "en") == ("", "c")  # taken back
    assert rated == [("a1", "down", "zu lang"), ("a1", "up", "")]


def test_every_label_comes_from_one_table():
    """The UI's words, the answers' framing, the drafts' and the API's
    "Quellen"/"S." are all read from lsn_assistant/i18n.py, in both languages."""
    from lsn_assistant import draft, i18n as table
    from lsn_assistant.answering import wording
    from lsn_assistant.api.routes.openai import with_sources

    assert i18n.TEXTS is table.UI and wording.LABELS is table.ANSWER and draft.LABELS is table.DRAFT
    for area in table.LABELS.values():
        assert set(area["de"]) == set(area["en"])  # no label missing in one language
    d = answer()
    assert "\n\nQuellen:\n[1] Clusterstrategie 2024, S. 4" in with_sources(d)
    assert "\n\nSources:\n[1] Clusterstrategie 2024, p. 4" in with_sources({**d, "language": "en"})
