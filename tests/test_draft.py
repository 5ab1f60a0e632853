"""Drafts for position papers (lsn_assistant/draft.py, ui/draft_tab.py) on the
small index of real excerpts (tests/ask_index.py): sections per point or per
aspect, verbatim evidence, one numbering across the draft, the Markdown round
trip with edits, the .docx, German/English labels, bad input, the Gradio tab."""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from pathlib import Path

import docx
import gradio as gr
import pytest

from ask_index import STRATEGY_2030, STRATEGY_DE, build
from conftest import free_port
from fake_openai_server import FakeLLMServer
from lsn_assistant import Assistant
from lsn_assistant.draft import (
    is_evidence,
    LABELS,
    build_draft,
    draft_language,
    escape,
    from_markdown,
    to_docx,
    to_markdown,
    unescape,
)
from lsn_assistant.errors import BadQuery
from ui.draft_tab import draft_tab, language_choices, on_build, on_edit, remove_session, status
from ui.i18n import TEXTS

STAKEHOLDERS = "Wie viele Akteure vereint der Life Science Nord e. V.?"
PARTNERS = "Welche Partnerprogramme gibt es für die Mitglieder?"
OFF_TOPIC = "Wie backe ich Brot?"
MARKER = re.compile(r"(?<!\\)\[(\d+)\]")


@pytest.fixture(scope="module")
def index():
    return build()


@pytest.fixture(scope="module")
def assistant(index) -> Assistant:
    return Assistant.open(index)


@pytest.fixture(scope="module")
def points_draft(assistant):
    return build_draft(assistant, "Life Science Nord e. V.", [STAKEHOLDERS, PARTNERS, OFF_TOPIC])


def squash(text: str) -> str:
    return " ".join(text.split())


def markers(text: str) -> list[int]:
    return [int(n) for n in MARKER.findall(text)]


def first_use(text: str) -> list[int]:
    return list(dict.fromkeys(markers(text)))


def body_markers(draft) -> list[int]:
    return first_use("\n".join(s.body for s in draft.sections))


def assert_grounded(draft, assistant):
    """Every quote stands in a passage of its source; markers and sources agree."""
    chunks = {c.chunk_id: c for c in assistant.retriever.chunks}
    sources = {s.n: s for s in draft.sources}
    assert [s.n for s in draft.sources] == list(range(1, len(draft.sources) + 1))
    assert body_markers(draft) == [s.n for s in draft.sources], "numbered in order of first use, none unused"
    for section in draft.sections:
        for ev in section.evidence:
            source = sources[ev.n]
            assert ev.quote and any(ev.quote in squash(chunks[cid].text) for cid in source.chunk_ids), ev
            assert all(chunks[cid].doc == source.doc for cid in source.chunk_ids)
            assert f"[{ev.n}]" in section.body


# ---- building


def test_one_section_per_point_with_verbatim_evidence(points_draft, assistant):
    d = points_draft
    assert d.lang == "de" and d.mode == "extractive" and d.title == "Life Science Nord e. V."
    assert [s.heading for s in d.sections] == [STAKEHOLDERS, PARTNERS, OFF_TOPIC]
    assert [s.question for s in d.sections] == [STAKEHOLDERS, PARTNERS, OFF_TOPIC]
    stakeholders, partners, _ = d.sections
    assert any("rund 250 Akteure" in ev.quote for ev in stakeholders.evidence)
    assert any("Platin, Gold und Silber" in ev.quote for ev in partners.evidence)
    assert {s.doc for s in d.sources} >= {STRATEGY_DE}
    assert_grounded(d, assistant)


def test_a_section_without_evidence_says_so(points_draft):
    off = points_draft.sections[2]
    assert off.evidence == () and off.body == LABELS["de"]["no_evidence"]
    assert not markers(off.body)


def test_prose_then_evidence_under_a_label(points_draft):
    body = points_draft.sections[0].body
    prose, _, evidence = body.partition("\n\n**Belege**\n\n")
    assert "rund 250 Akteure" in prose and markers(prose)
    quotes = evidence.split("\n\n")
    assert len(quotes) == len(points_draft.sections[0].evidence)
    assert all(q.startswith("> „") and "“ [" in q and "— Life Science Nord Clusterstrategie 2024" in q for q in quotes)


def test_markers_are_numbered_across_the_draft(points_draft):
    first, second, _ = (markers(s.body) for s in points_draft.sections)
    assert first and second
    new_in_second = set(second) - set(first)
    if new_in_second:  # (both answers may stand in one passage: then it keeps its number)
        assert min(new_in_second) == max(first) + 1, "numbering goes on where the first section ended"
    assert max(first + second) == len(points_draft.sources)
    places = [(s.doc, s.page, s.section) for s in points_draft.sources]
    assert len(set(places)) == len(places), "one number per place cited"


def test_without_points_the_sections_are_aspects_of_the_topic(assistant, index):
    d = build_draft(assistant, "Strategische Themenfelder von LSN")
    lab = LABELS["de"]
    assert d.lang == "de"
    assert [s.heading for s in d.sections] == [lab["background"], lab["goals"], lab["measures"], lab["figures"]]
    assert d.sections[0].question == "Strategische Themenfelder von LSN"
    assert all("Strategische Themenfelder von LSN" in s.question for s in d.sections)
    quoted = [(ev.n, ev.quote) for s in d.sections for ev in s.evidence]
    assert quoted and len(quoted) == len(set(quoted)), "a sentence is quoted in one section only"
    for s in d.sections:
        assert s.evidence or s.body in (lab["no_evidence"], lab["no_more"])
    assert_grounded(d, assistant)


def test_english_topic_gets_english_labels(assistant):
    d = build_draft(assistant, "How many stakeholders does Life Science Nord bring together?")
    md = to_markdown(d)
    assert d.lang == "en" and d.sections[0].heading == "Background"
    assert "**Evidence**" in md and "\n## References\n" in md and "Belege" not in md
    assert "250 stakeholders" in d.sections[0].body
    assert re.search(r"^> “.+” \[1\] — LSN Cluster Strategy 2024", md, re.MULTILINE)


def test_language_can_be_chosen(assistant):
    d = build_draft(assistant, "How many stakeholders does Life Science Nord bring together?", lang="de")
    assert d.lang == "de" and d.sections[0].heading == "Ausgangslage" and "## Quellen" in to_markdown(d)


@pytest.mark.parametrize(
    "topic, points, lang",
    [
        ("Digitalisierung", [], "de"),
        ("Sichtbarkeit von LSN", [], "de"),
        ("Fachkräfte", [], "de"),
        ("Internationalisierung des Clusters", [], "de"),
        ("Visibility of the cluster", [], "en"),
        ("Digital health", [], "en"),
        ("Innovation", ["Wie viele Akteure gibt es im Netzwerk?"], "de"),
    ],
)
def test_draft_language(topic, points, lang):
    assert draft_language(topic, points) == lang


def test_filters_restrict_the_evidence(assistant):
    d = build_draft(assistant, "Innovationskraft", ["Welche Themenfelder gibt es?"], filters={"doc": STRATEGY_2030})
    assert d.sources and {s.doc for s in d.sources} == {STRATEGY_2030}


def test_progress_is_reported_per_section(assistant):
    seen = []
    build_draft(assistant, "LSN", [STAKEHOLDERS, OFF_TOPIC], progress=lambda *a: seen.append(a))
    assert seen == [(0, 2, STAKEHOLDERS), (1, 2, OFF_TOPIC)]


def with_llm(index, url: str) -> Assistant:
    """An assistant whose LLM is the OpenAI-compatible server at ``url``."""
    return Assistant.open(index.model_copy(update={"llm_provider": "openai", "llm_base_url": url, "llm_model": "fake-model"}))


def test_with_an_llm_the_prose_is_its_answer(assistant, index):
    hits = assistant.search(STAKEHOLDERS, k=assistant.answerer.passages)
    n = next(i for i, h in enumerate(hits, start=1) if "rund 250 Akteure" in h.chunk.text)
    with FakeLLMServer() as server:
        server.reply(STAKEHOLDERS)  # its "translation": the same, so one retrieval and the passages above
        server.reply(f"Der Verein bündelt rund 250 Akteure aus Wissenschaft, Wirtschaft und Politik [{n}].")
        d = build_draft(with_llm(index, server.url), "Life Science Nord", [STAKEHOLDERS])
    (section,) = d.sections
    assert d.mode == "llm" and d.notes == ()
    assert section.body.startswith("Der Verein bündelt rund 250 Akteure aus Wissenschaft, Wirtschaft und Politik [1].")
    assert len(section.evidence) == 1 and "rund 250 Akteure" in section.evidence[0].quote
    assert_grounded(d, assistant)


def test_a_failing_llm_is_noted_and_the_draft_is_extractive(assistant, index):
    d = build_draft(with_llm(index, f"http://127.0.0.1:{free_port()}/v1"), "Life Science Nord", [STAKEHOLDERS])
    assert d.mode == "extractive" and len(d.notes) == 1 and d.notes[0].startswith("Das Sprachmodell")
    assert any("rund 250 Akteure" in ev.quote for ev in d.sections[0].evidence)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"topic": ""}, "the topic is empty"),
        ({"topic": " \n "}, "the topic is empty"),
        ({"topic": None}, "the topic is empty"),
        ({"topic": "x" * 301}, "too long"),
        ({"topic": "LSN", "points": ["p"] * 13}, "too many points"),
        ({"topic": "LSN", "lang": "fr"}, "unknown language"),
        ({"topic": "LSN", "filters": {"author": "x"}}, "unknown filter"),
    ],
)
def test_bad_input_is_a_clear_error(assistant, kwargs, message):
    with pytest.raises(BadQuery, match=message):
        build_draft(assistant, **kwargs)


# ---- Markdown


def test_markdown_round_trip(points_draft):
    md = to_markdown(points_draft)
    assert md.startswith("# Life Science Nord e. V.\n\n## Wie viele Akteure")
    assert from_markdown(md, points_draft) == dataclasses.replace(points_draft, notes=())
    refs = md.split("\n## Quellen\n\n")[1].splitlines()
    assert len(refs) == len(points_draft.sources)
    assert refs[0].startswith("- [1] Life Science Nord Clusterstrategie 2024") and f"({STRATEGY_DE})" in refs[0]


def test_edits_are_kept_and_the_references_follow_the_markers(points_draft):
    md = to_markdown(points_draft)
    first, second, third = points_draft.sections
    edited = md.replace(first.body, "Mein eigener Absatz, ohne Beleg. Eine Fußnote \\[7\\] bleibt Text.")
    edited = edited.replace(third.heading, "Ausblick").replace(third.body, "Erfunden [42] und belegt [%d]." % markers(second.body)[0])
    edited = edited.replace("# Life Science Nord e. V.", "# Mein Positionspapier")
    d = from_markdown(edited, points_draft)

    assert d.title == "Mein Positionspapier"
    assert [s.heading for s in d.sections] == [first.heading, second.heading, "Ausblick"]
    assert d.sections[0].body == "Mein eigener Absatz, ohne Beleg. Eine Fußnote \\[7\\] bleibt Text."
    assert d.sections[0].evidence == () and d.sections[2].evidence == ()
    assert d.sections[2].body == "Erfunden und belegt [1]."
    assert d.notes == ("[42] verweist auf keine Quelle dieses Entwurfs und wurde entfernt.",)
    # the sources still cited, renumbered from 1 in order of first use
    old = {s.n: s for s in points_draft.sources}
    kept = first_use(second.body)
    assert [s.n for s in d.sources] == list(range(1, len(kept) + 1))
    assert [(s.doc, s.section, s.chunk_ids) for s in d.sources] == [(old[n].doc, old[n].section, old[n].chunk_ids) for n in kept]
    assert body_markers(d) == [s.n for s in d.sources]
    assert [ev.quote for ev in d.sections[1].evidence] == [ev.quote for ev in second.evidence]

    out = to_markdown(d)
    assert "Mein eigener Absatz" in out and "Fußnote \\[7\\]" in out and "[42]" not in out
    assert out.count("\n- [") == len(d.sources)
    assert from_markdown(out, points_draft) == dataclasses.replace(d, notes=())


def test_the_reference_list_is_rebuilt_not_read(points_draft):
    md = to_markdown(points_draft)
    forged = md + "- [99] Eine erfundene Quelle\n\n## Anhang\n\nNach den Quellen [1].\n"
    d = from_markdown(forged, points_draft)
    assert [s.heading for s in d.sections][-1] == "Anhang", "a section after the references is kept"
    assert len(d.sources) == len(points_draft.sources) and d.notes == ()
    assert "erfundene" not in to_markdown(d)


def test_text_from_the_documents_is_escaped():
    text = "Mitarbeiter*innen [3] <b> _x_ \\ `c`"
    assert unescape(escape(text)) == text
    assert escape("# Titel\n> Zitat") == "\\# Titel\n\\> Zitat"
    assert not MARKER.search(escape(text))


# ---- .docx


def test_docx_has_the_headings_the_quotes_and_the_references(points_draft):
    md = to_markdown(points_draft).replace("Dieser vereint", "Dieser **vereint**", 1)
    edited = from_markdown(md.replace("## Welche Partnerprogramme", "Ein neuer Absatz.\n\n## Welche Partnerprogramme"), points_draft)
    document = docx.Document(io.BytesIO(to_docx(edited)))
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
    assert paragraphs[0] == ("Title", "Life Science Nord e. V.")
    headings = [text for style, text in paragraphs if style == "Heading 1"]
    assert headings == [STAKEHOLDERS, PARTNERS, OFF_TOPIC, "Quellen"]
    quotes = [text for style, text in paragraphs if style == "Quote"]
    assert len(quotes) == sum(len(s.evidence) for s in edited.sections)
    # "Dieser" is quoted with the sentence it points back to
    assert any(t.startswith("„Eine ebenso zentrale Rolle wird auch weiterhin der Life Science Nord e. V. einnehmen. "
                            "Dieser vereint rund 250 Akteure") and "“ [1] — " in t for t in quotes)
    assert ("Normal", "Ein neuer Absatz.") in paragraphs
    assert any("Platin, Gold und Silber" in t for style, t in paragraphs if style in ("List Bullet", "Normal", "Quote"))
    bold = [r.text for p in document.paragraphs for r in p.runs if r.bold]
    assert "vereint" in bold and "Belege" in bold
    refs = paragraphs[[t for _, t in paragraphs].index("Quellen") + 1 :]
    assert [t.split("]")[0] for _, t in refs] == [f"[{s.n}" for s in edited.sources]
    assert all(s.title in t and f"({s.doc})" in t for (_, t), s in zip(refs, edited.sources))
    assert document.core_properties.title == "Life Science Nord e. V."
    assert not any("**" in t or "\\" in t for _, t in paragraphs)


def test_docx_names_the_application_or_the_user_not_python_docx(points_draft):
    """Word's "Info" shows the author and the application: this one, or the
    signed-in user as the author; no trace of the library's template."""
    data = to_docx(points_draft)
    properties = docx.Document(io.BytesIO(data)).core_properties
    assert properties.author == properties.last_modified_by == "LSN Assistant"
    assert properties.comments == "" and properties.revision == 1
    assert properties.created.year >= 2025 and properties.created == properties.modified
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        app = z.read("docProps/app.xml").decode("utf-8")
        assert "<Application>LSN Assistant</Application>" in app
        assert "python-docx" not in z.read("docProps/core.xml").decode("utf-8")
    assert docx.Document(io.BytesIO(to_docx(points_draft, author="Erika Muster"))).core_properties.author == "Erika Muster"


# ---- the Gradio tab


def test_the_tab_builds_inside_blocks(assistant, index):
    with gr.Blocks() as demo:
        with gr.Tab("Draft"):
            draft_tab(lambda: assistant, index)
    kinds = [type(b).__name__ for b in demo.blocks.values()]
    assert kinds.count("DownloadButton") == 2 and "State" in kinds and "Dropdown" in kinds
    labels = {b.label.key for b in demo.blocks.values() if isinstance(getattr(b, "label", None), gr.i18n.I18nData)}
    assert {"draft_topic", "draft_points", "draft_docs", "draft_lang", "draft_editor", "draft_preview"} <= labels
    assert labels <= set(TEXTS["de"]) and labels <= set(TEXTS["en"])
    config = demo.get_config_file()  # what the browser gets: every component and event serialises
    assert len(config["dependencies"]) == 3
    assert "draft_no_llm" in str(config["components"])  # `index` has no LLM


def test_the_draft_language_choices_follow_the_ui():
    assert language_choices("de") == [("Sprache des Themas", "auto"), ("Deutsch", "de"), ("English", "en")]
    assert language_choices("en")[0] == ("Topic's language", "auto")


def test_tab_build_and_edit_write_the_downloads(assistant):
    session, editor, preview, md_path, docx_path, message = on_build(
        lambda: assistant, "Life Science Nord e. V.", f"{STAKEHOLDERS}\n\n{PARTNERS}\n", [STRATEGY_DE], "auto", None
    )
    try:
        assert editor == preview == Path(md_path).read_text(encoding="utf-8") == to_markdown(session.draft)
        assert {s.doc for s in session.draft.sources} == {STRATEGY_DE}
        assert message.startswith("2 sections,") and "extractive" in message
        assert re.fullmatch(r"2 Abschnitte, \d+ Quellen?; Fließtext: Sätze aus den Dokumenten selbst \(extraktiv\)\.", status(session.draft, "de"))
        assert docx.Document(docx_path).paragraphs[0].text == "Life Science Nord e. V."
        assert on_edit(editor, session) == (gr.skip(),) * 4  # the editor's change when the build fills it

        edited = editor.replace(session.draft.sections[0].body, "Eigener Text [77].")
        preview, md_path, docx_path, message = on_edit(edited, session)
        exported = Path(md_path).read_text(encoding="utf-8")
        assert preview == exported and "Eigener Text." in exported and "[77]" not in exported
        assert "[77] verweist auf keine Quelle" in message  # the draft's note, in the draft's language
        assert on_edit(edited, session, "de") == (gr.skip(),) * 4  # what the downloads hold already
        assert on_edit(editor, session, "de")[3].startswith("2 Abschnitte, ")  # back to the text as built
        assert Path(on_edit(edited, session)[1]).read_text(encoding="utf-8") == exported
        assert any(p.text == "Eigener Text." for p in docx.Document(docx_path).paragraphs)
        assert len(list(Path(session.folder).iterdir())) == 2
    finally:
        remove_session(session)
    assert not Path(session.folder).exists()


def test_tab_shows_errors_as_messages(assistant):
    with pytest.warns(UserWarning, match="the topic is empty"):  # gr.Warning outside a running app
        *outputs, message = on_build(lambda: assistant, "   ", "", None, "auto", None)
    assert outputs == [gr.skip()] * 5
    assert message == "Could not build the draft: the topic is empty"
    with pytest.warns(UserWarning):
        *_, message = on_build(lambda: assistant, "", "", None, "auto", None, ui_lang="de")
    assert message == "Der Entwurf konnte nicht erstellt werden: Das Thema ist leer."  # the library's words, in German
    assert on_edit("# Nur Text", None) == ("# Nur Text", gr.skip(), gr.skip(), gr.skip())


# ---- what is never evidence, and topics the documents do not cover


@pytest.mark.parametrize(
    "quote, ok",
    [
        ("Dieser vereint rund 250 Akteure aus Wissenschaft, Wirtschaft und Politik.", True),
        ("Präsident der Hochschule Flensburg:", False),  # a fragment
        ("„„Wir sind dabei“, sagt er.", False),  # doubled quotation marks
        ("„Damit versuchen wir Kapital ins Land zu holen“, sagt Lars Bauer.", False),  # its marks would be doubled
        ("Die Reinvestition ihrer Einkommen schafft weitere 12.600 Arbeitsplätze.", False),  # whose income?
        ("Sie bilden den Handlungsrahmen für die Arbeit.", False),
        ("The reinvestment of their incomes will create a further 12,600 jobs.", False),
    ],
)
def test_what_is_never_evidence(quote, ok):
    assert is_evidence(quote) is ok


def test_an_off_topic_topic_gets_a_warning_and_no_invented_structure(assistant):
    d = build_draft(assistant, "Quantencomputing in der Landwirtschaft")
    assert d.sections == () and d.sources == ()
    assert d.notes[0] == LABELS["de"]["off_topic"]
