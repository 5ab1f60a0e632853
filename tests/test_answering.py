"""The extractive answerer's parts, each alone (lsn_assistant/answering):
units from the layout, features, the fitted scorer, selection and
abstention, wording; no index needed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from lsn_assistant.answering import ChunkLines, Scorer, Thresholds
from lsn_assistant.answering.features import FEATURES, QuestionContext
from lsn_assistant.answering.question import answer_types, typed_match
from lsn_assistant.answering.scorer import MODEL_PATH
from lsn_assistant.answering.select import missing_types, select
from lsn_assistant.answering.units import build_units, lines_of, stream
from lsn_assistant.answering.wording import compose
from lsn_assistant.assistant import answer_words
from lsn_assistant.conversation import Resolved
from lsn_assistant.lexical import analyze
from lsn_assistant.text import sentence_spans
from lsn_assistant.types import Chunk, ScoredChunk

ROOT = Path(__file__).resolve().parent.parent


def chunk(text: str, position: int, cid: str | None = None, kind: str = "passage", lang: str = "de") -> Chunk:
    return Chunk(cid or f"c{position}", "doc.txt", text, lang=lang, position=position, kind=kind)


def lines(c: Chunk):
    return lines_of(c, sentence_spans(c.text, c.lang), frozenset())


def units_for(hit_chunk: Chunk, *neighbours: Chunk):
    ordered = sorted({hit_chunk, *neighbours}, key=lambda c: c.position)
    near = stream([lines(c) for c in ordered])
    return build_units(ScoredChunk(hit_chunk, 1.0, 1), near, near)


# ---- units


def test_a_list_cut_by_a_chunk_boundary_is_read_on_in_the_next_passage():
    a = chunk("Einleitung zum Kapitel.\n\nDas Team hat vier Handlungsfelder definiert:\n- Fachkräfte\n- Sichtbarkeit", 0)
    b = chunk("- Sichtbarkeit\n- Digitale Transformation\n- Nachhaltigkeit\n\nEin neuer Absatz beginnt hier.", 1)
    (lst,) = [u for u in units_for(a, b) if u.kind == "list"]
    assert lst.items == ("Fachkräfte", "Sichtbarkeit", "Digitale Transformation", "Nachhaltigkeit")
    assert [p.chunk.chunk_id for p in lst.parts] == ["c0", "c1"], "each part cites the passage that holds it"
    assert all(p.quote in p.chunk.text for p in lst.parts)
    assert "neuer Absatz" not in lst.text
    # found from the second passage too: the lead-in stands in the one before
    assert any(u.kind == "list" and len(u.items) == 4 for u in units_for(b, a))


def test_the_numbered_headings_of_a_section_are_one_unit():
    a = chunk("Die Strategie fokussiert sich auf drei zentrale Themenfelder.\n\n1. Sichtbarkeit erhöhen\n\nZiel:\n\n"
              "LSN ist eines der sichtbarsten Cluster.\n\n2. Innovationskraft stärken\n\nLSN stärkt Innovation.", 0)
    b = chunk("3. Standort ausbauen\n\nLSN baut den Standort aus.\n\n5 LIFE SCIENCE NORD CLUSTER STRATEGY 2024", 1)
    (h,) = [u for u in units_for(a, b) if u.kind == "headings"]
    assert h.items == ("1. Sichtbarkeit erhöhen", "2. Innovationskraft stärken", "3. Standort ausbauen")
    assert h.text.startswith("Die Strategie fokussiert sich auf drei zentrale Themenfelder.")
    texts = [u.text for u in units_for(a, b)]
    assert not any("LIFE SCIENCE NORD CLUSTER STRATEGY" in t for t in texts), "a running header is never a unit"
    assert "1. Sichtbarkeit erhöhen" not in texts, "a bare heading is never a unit of its own"
    assert any(u.kind == "label" and u.text.startswith("Ziel:") for u in units_for(a, b))


def test_an_abbreviation_entry_is_a_unit_whole():
    e = chunk("Bundesministerium für Wirtschaft und Klimaschutz (BMWK)", 3, "e1", kind="entry")
    (u,) = units_for(e)
    assert u.kind == "entry" and u.text == e.text


# ---- question form and features


def test_address_as_a_verb_is_no_question_for_contact_details():
    assert "contact" not in answer_types("How does LSN want to address the shortage of skilled workers?")
    assert "contact" in answer_types("What is the postal address of LSN?")


def test_mittel_is_money_only_as_funds():
    assert "money" in answer_types("Wie viel Fördermittel hat das Land bereitgestellt?")
    assert "money" in answer_types("Wie viel Haushaltsmittel fließen in das Projekt?")
    assert "money" in answer_types("Wie viel Mittel stehen dafür bereit?")
    assert "money" not in answer_types("Wie viel Desinfektionsmittel konnte das Netzwerk täglich liefern?")
    assert "money" not in answer_types("Wie viele Mitglieder hat der Verbund, und wie viel davon ist Mittelstand?")


def test_a_count_written_as_a_word_is_a_count():
    wants = answer_types("Wie viele Universitäten gibt es?")
    forms = [{"universitat", "universitaten", "university"}]
    assert typed_match("In der Region forschen neun Universitäten.", wants, "Wie viele Universitäten gibt es?", forms)


def test_a_follow_up_with_a_subject_of_its_own_does_not_inherit_the_answer_type():
    r = Resolved("Und was ist mit der Bruttowertschöpfung?", "Beschäftigte Life-Science-Branche – Bruttowertschöpfung",
                 True, (), (), "de", "Wie viele Beschäftigte hat die Branche? Und was ist mit der Bruttowertschöpfung?")
    assert answer_types(answer_words(r)) == set()
    bare = Resolved("Und 2019?", "Wie viele Beschäftigte 2019", True, (), (), "de", "Wie viele Beschäftigte? Und 2019?")
    assert answer_types(answer_words(bare)) == {"count"}


def test_features_hold_what_the_question_asks_for():
    from lsn_assistant.answering.features import featurize

    q = "Welche drei Themenfelder gibt es?"
    ctx = QuestionContext.make(q, "de", {"themenfeld": 2.0}, {}, np.zeros(4))
    a = chunk("Es gibt drei Themenfelder:\n- Eins\n- Zwei\n- Drei", 0)
    units = units_for(a)
    cos = [np.array([0.8] * sum(len(p.lines) for p in u.parts)) for u in units]
    stems = [frozenset({"themenfeld"}) for _ in units]
    x = featurize(units, cos, stems, ctx)
    assert x.shape == (len(units), len(FEATURES))
    (lst,) = [u for u in units if u.kind == "list"]
    assert lst.features["list_q_x_list"] == 1.0 and lst.features["items_match_count"] == 1.0


# ---- the fitted scorer


def test_the_model_file_is_small_and_reports_its_fit():
    d = json.loads(MODEL_PATH.read_text())
    assert MODEL_PATH.stat().st_size < 20_000
    assert d["features"] == list(FEATURES)
    assert {"auc", "log_loss"} <= set(d["report"]["cv"]) and d["report"]["testsets_sha256"]


def test_inference_equals_sklearns_predict_proba_on_the_fitted_file():
    sklearn = pytest.importorskip("sklearn")  # the `fit` extra, installed by `make test`
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    assert sklearn
    d = json.loads(MODEL_PATH.read_text())
    scorer = Scorer.load()
    sc = StandardScaler()
    sc.mean_, sc.scale_ = np.array(d["scaler"]["mean"]), np.array(d["scaler"]["scale"])
    sc.n_features_in_ = len(FEATURES)
    lr = LogisticRegression()
    lr.coef_, lr.intercept_ = np.array([d["coef"]]), np.array([d["intercept"]])
    lr.classes_ = np.array([0, 1])
    x = np.random.default_rng(0).normal(size=(50, len(FEATURES))) * sc.scale_ + sc.mean_
    assert np.allclose(scorer.proba(x), lr.predict_proba(sc.transform(x))[:, 1])


def test_fitting_labels_a_unit_holding_a_gold_quote():
    sys.path.insert(0, str(ROOT / "scripts"))
    from fit_answerer import positive

    from eval.testset import fold

    a = chunk("Erster Satz ohne Belang.\n\nDas Cluster hat rund 250 Mitglieder aus Wirtschaft und Wissenschaft.", 0)
    units = units_for(a)
    gold = [("doc.txt", fold("rund 250 Mitglieder"))]
    assert [positive(u, gold) for u in units] == ["250" in u.text for u in units]


# ---- selection, abstention, wording


def scored(units, probs):
    for u, p in zip(units, probs):
        u.prob = p
    return units


def test_nothing_likely_enough_abstains_and_a_list_question_gets_the_whole_list():
    a = chunk("Das Team hat drei Felder definiert:\n- Eins ist hier\n- Zwei ist dort\n- Drei ist da\n\n"
              "Ein anderer Satz steht hier.", 0)
    units = units_for(a)
    th = Thresholds(answer=0.5, select=0.5, relative=0.5, max_units=3, list_answer=0.3)
    assert select(scored(units, [0.1] * len(units)), th, listy=False) == []
    probs = [0.4 if u.kind == "list" else 0.6 for u in units]
    (chosen,) = select(scored(units, probs), th, listy=True)
    assert chosen.kind == "list"
    chosen = select(scored(units, probs), th, listy=False)
    assert chosen and all(u.kind != "list" for u in chosen) and len(chosen) <= 3


def test_a_unit_saying_nothing_beyond_the_question_is_never_quoted():
    from lsn_assistant.answering.features import featurize

    q = "How many members does Life Science Nord have?"
    ctx = QuestionContext.make(q, "en", {"member": 1.0, "life": 1.0, "scienc": 1.0, "nord": 1.0}, {}, np.zeros(4),
                               aliases={"life": frozenset({"lsn"})})
    a = chunk("LSN Life Science Nord.\n\nAround 250 stakeholders are integrated as members of LSN.", 0)
    units = units_for(a)
    cos = [np.array([0.8] * sum(len(p.lines) for p in u.parts)) for u in units]
    stems = [frozenset(analyze(u.text, "en")) for u in units]
    featurize(units, cos, stems, ctx)
    echo = next(u for u in units if u.text.startswith("LSN Life"))
    count = next(u for u in units if "250" in u.text)
    assert echo.features["novel"] == 0 and count.features["novel"] > 0
    th = Thresholds(answer=0.1, select=0.1, relative=0.1, max_units=3)
    # the echo more likely than the count, as the model rated it: still only the count is quoted
    probs = [0.9 if u is echo else 0.5 for u in units]
    assert echo not in select(scored(units, probs), th, listy=False)
    assert count in select(scored(units, probs), th, listy=False)


def test_an_absent_kind_of_answer_is_missing():
    a = chunk("Die Mitgliedschaft bietet viele Vorteile für Unternehmen.", 0)
    units = scored(units_for(a), [0.9])
    ctx = QuestionContext.make("Wie viel kostet die Mitgliedschaft?", "de", {}, {}, np.zeros(4))
    assert missing_types(units, ctx, 10) == ["money"]
    assert missing_types(units, ctx, 0) == []


def test_wording_quotes_verbatim_with_one_citation_per_span():
    a = chunk("Das Team hat drei Felder definiert:\n- Eins ist hier\n- Zwei ist dort\n- Drei ist da", 0)
    (lst,) = [u for u in units_for(a) if u.kind == "list"]
    text, citations = compose([lst], "de", listy=True)
    assert text.splitlines() == ["Das Team hat drei Felder definiert: [1]", "- Eins ist hier [1]", "- Zwei ist dort [1]",
                                 "- Drei ist da [1]"]
    assert len(citations) == 1 and citations[0].quote in a.text
    b = chunk("A sentence in English about the cluster.", 1, lang="en")
    (s,) = units_for(b)
    text, citations = compose([s], "de")
    assert text.splitlines() == ["Die Belege liegen nur auf Englisch vor; sie werden im Wortlaut zitiert:",
                                 "A sentence in English about the cluster. [1]"]


def test_a_question_with_a_superscript_digit_is_no_count():
    ctx = QuestionContext.make("Wie groß ist die Fläche in m³ und 12 Räumen?", "de", {}, {}, np.zeros(4))
    assert ctx.named_count == 12


def test_a_list_whose_bullet_glyphs_the_cleaner_replaced_is_kept_in_verbatim_parts(tmp_path):
    from types import SimpleNamespace

    from lsn_assistant.answering import Answerer
    from lsn_assistant.answering.corpus import SourceTexts

    # the source has a glyph font's "t" for a bullet and an item's second sentence
    # interrupted by a column of other text; the cleaner made "- " and joined it
    (tmp_path / "doc.txt").write_text(
        "Vier Bereiche sind relevant:\nt Qualifizierung;\nt Finanzierung von Innovationen;\nt Technologietransfer. "
        "Er soll zu-\nKASTEN MIT ANDEREM TEXT\nnehmen.\nt Ansiedlung.\n", encoding="utf-8")
    a = chunk("Vier Bereiche sind relevant:\n- Qualifizierung;\n- Finanzierung von Innovationen;\n- Technologietransfer. "
              "Er soll zunehmen.\n- Ansiedlung.", 0)
    (lst,) = [u for u in units_for(a) if u.kind == "list"]
    sources = SourceTexts(tmp_path)
    assert not all(sources.holds(p.chunk.doc, p.quote) for p in lst.parts)
    parts = Answerer._verbatim_parts(SimpleNamespace(sources=sources), lst, {a.chunk_id: ChunkLines(lines(a), None, None, None)})
    assert parts is not None and all(sources.holds(p.chunk.doc, p.quote) for p in parts)
    quoted = " ".join(p.quote for p in parts)
    assert "Ansiedlung" in quoted and "Qualifizierung" in quoted and "zunehmen" not in quoted
    lst.parts = parts
    text, cits = compose([lst], "de", True)
    assert text.count("\n- ") == 4, text  # one bullet per item, the lead-in first

    # a sentence the cleaner spliced is no quote: a lead-in (or a sentence unit) that is not verbatim drops the unit
    b = chunk("Vier Bereiche sind relevant, so zunehmen:\n- Qualifizierung;\n- Ansiedlung.", 1)
    (lst_b,) = [u for u in units_for(b) if u.kind == "list"]
    assert Answerer._verbatim_parts(SimpleNamespace(sources=sources), lst_b, {b.chunk_id: ChunkLines(lines(b), None, None, None)}) is None


def test_fitting_labels_a_list_stating_the_key_facts_positive():
    sys.path.insert(0, str(ROOT / "scripts"))
    from fit_answerer import positive

    from eval.testset import fold

    a = chunk("Folgende Schwerpunkte wurden identifiziert:\n- Infektion und Hygiene\n- Knochenheilung\n- Digitale Gesundheit", 0)
    (lst,) = [u for u in units_for(a) if u.kind == "list"]
    gold = [("doc.txt", fold("Die Themen Infektion und Hygiene, Knochenheilung und digitale Gesundheit stehen im Fokus"))]
    facts = ["Infektion und Hygiene", "Knochenheilung", "digitale Gesundheit"]
    assert not positive(lst, gold)
    assert positive(lst, gold, (), facts)
    assert not positive(lst, [("other.txt", gold[0][1])], (), facts), "only a list from a gold document"
    assert not positive(lst, gold, (), ["Knochenheilung", "Marketing", "Vertrieb", "Export"]), "one fact of four is no list answer"
