"""Search through ``Assistant.search`` on one small index of real excerpts:
filters, bounds and bad input, result fields, and the collapsing of the
English/German twins of the 2024 strategy."""

from __future__ import annotations

import shutil

import pytest

from conftest import CORPUS, excerpt, clean_settings
from ingest.pipeline import ingest
from lsn_assistant import Assistant
from lsn_assistant.config import Settings, get_settings
from lsn_assistant.errors import BadQuery, IndexEmpty

STRATEGY_EN = "lsn-cluster-strategy-2024-en.txt"
STRATEGY_DE = "lsn-clusterstrategie-2024-de.txt"
MASTERPLAN = "lsn-masterplan-2009-de.txt"
STRATEGY_2030 = "lsn-strategie-2030-de.txt"
TITLES = {
    STRATEGY_EN: "LSN Cluster Strategy 2024 (English edition)",
    STRATEGY_DE: "Life Science Nord Clusterstrategie 2024",
    MASTERPLAN: "Masterplan Life Science Nord",
    STRATEGY_2030: "LSN Strategie 2030 (web text)",
}

QUERY_EN = "How many stakeholders does Life Science Nord e.V. bring together?"
QUERY_DE = "Wie viele Akteure vereint der Life Science Nord e. V.?"


def passage(doc: str, start: str, end: str) -> str:
    """A real passage of a corpus file from ``start`` through ``end``."""
    text = excerpt(doc, start, 5000)
    return text[: text.index(end) + len(end)] + "\n"




@pytest.fixture(scope="module")
def index(tmp_path_factory) -> Settings:
    """Four documents, seven chunks; the two 2024 strategy files hold the same
    paragraph (the one about the ~250 members) in English and German."""
    root = tmp_path_factory.mktemp("search-index")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / STRATEGY_EN).write_text(
        passage(STRATEGY_EN, "This strategy should now be implemented jointly", "into the future as Life Science locations."),
        encoding="utf-8",
    )
    (corpus / STRATEGY_DE).write_text(
        passage(STRATEGY_DE, "Diese Strategie gilt es nunmehr gemeinsam", "erfolgreich in die Zukunft zu führen."),
        encoding="utf-8",
    )
    (corpus / MASTERPLAN).write_text(excerpt(MASTERPLAN, "3.2 Das Management von Life Science Nord", 1500), encoding="utf-8")
    (corpus / STRATEGY_2030).write_text(excerpt(STRATEGY_2030, "1. Sichtbarkeit von LSN erhöhen", 1200), encoding="utf-8")
    shutil.copy(CORPUS / "manifest.toml", corpus)  # the real titles, years and languages
    # small chunks: several per document, so ranking and filters have something to choose
    settings = clean_settings(data_dir=root / "data", corpus_dir=corpus, chunk_words=80, chunk_max_words=150)
    report = ingest(settings=settings, progress=False)
    assert not report.failed and report.index_size >= 5
    return settings


@pytest.fixture(scope="module")
def assistant(index) -> Assistant:
    return Assistant.open(index)


def docs(results) -> list[str]:
    return [r.chunk.doc for r in results]


# ---- results


def test_results_are_ranked_with_provenance(assistant):
    results = assistant.search("Sichtbarkeit Leuchtturm-Event Kommunikationsstrategie", k=5)
    assert [r.rank for r in results] == [1, 2, 3, 4, 5]
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True)
    assert len({r.chunk.chunk_id for r in results}) == 5
    top = results[0].chunk
    assert top.doc == STRATEGY_2030
    assert "Leuchtturm-Event" in top.text
    for r in results:
        c = r.chunk
        assert c.doc in TITLES  # the corpus file name, not a path
        assert c.title == TITLES[c.doc]
        assert c.lang in ("de", "en")
        assert c.chunk_id and c.text.strip()
        assert isinstance(c.section, str)


@pytest.mark.parametrize(
    "query, doc, section",
    [
        ("Norgenta Norddeutsche Life Science Agentur gegründet", MASTERPLAN, "3.2 Das Management von Life Science Nord"),
        # a numbered heading followed by a "Ziel:" line, then the body
        ("Leuchtturm-Event Kommunikationsstrategie", STRATEGY_2030, "1. Sichtbarkeit von LSN erhöhen"),
    ],
)
def test_numbered_headings_become_the_section(assistant, query, doc, section):
    top = assistant.search(query, k=1, filters={"doc": [doc]})[0].chunk
    assert top.section == section


def test_to_dict_is_the_documented_shape(assistant):
    d = assistant.search("Clustermanagement Geschäftsstelle", k=1)[0].to_dict()
    assert set(d) >= {"rank", "score", "chunk_id", "doc", "title", "page", "section", "lang", "text"}
    assert d["rank"] == 1 and isinstance(d["score"], float)


def test_k_limits_the_number_of_results(assistant):
    assert len(assistant.search("Life Science Nord", k=1)) == 1
    everything = assistant.search("Life Science Nord", k=100)
    # every chunk at most once (twins may be collapsed, nothing else is dropped)
    assert len(everything) >= assistant.retriever.size - 1
    assert [r.rank for r in everything] == list(range(1, len(everything) + 1))


# ---- filters


def test_doc_filter(assistant):
    results = assistant.search("Sichtbarkeit Leuchtturm-Event", k=10, filters={"doc": [MASTERPLAN]})
    assert results and set(docs(results)) == {MASTERPLAN}
    # a bare string is accepted for a single value
    again = assistant.search("Sichtbarkeit Leuchtturm-Event", k=10, filters={"doc": MASTERPLAN})
    assert docs(again) == docs(results)


def test_lang_filter(assistant):
    results = assistant.search(QUERY_DE, k=10, filters={"lang": ["en"]})
    assert docs(results) == [STRATEGY_EN]
    german = assistant.search(QUERY_EN, k=10, filters={"lang": ["de"]})
    assert german and {r.chunk.lang for r in german} == {"de"}


def test_year_filter(assistant):
    assert set(docs(assistant.search("Management", k=10, filters={"year": [2009]}))) == {MASTERPLAN}
    assert set(docs(assistant.search("Management", k=10, filters={"year": [2019]}))) <= {STRATEGY_EN, STRATEGY_DE}
    # years given as text (as a query string would) are read as numbers
    assert set(docs(assistant.search("Management", k=10, filters={"year": ["2025"]}))) == {STRATEGY_2030}
    both = assistant.search("Management", k=10, filters={"year": [2009, 2025]})
    assert set(docs(both)) == {MASTERPLAN, STRATEGY_2030}


def test_combined_filters_intersect(assistant):
    results = assistant.search(QUERY_EN, k=10, filters={"year": [2019], "lang": ["de"]})
    assert docs(results) == [STRATEGY_DE]
    results = assistant.search(QUERY_EN, k=10, filters={"doc": [MASTERPLAN, STRATEGY_EN], "lang": ["en"]})
    assert docs(results) == [STRATEGY_EN]


@pytest.mark.parametrize(
    "filters",
    [
        {"doc": ["no-such-file.txt"]},
        {"lang": ["fr"]},
        {"year": [1999]},
        {"doc": [MASTERPLAN], "lang": ["en"]},
        {"doc": [STRATEGY_EN], "year": [2009]},
    ],
)
def test_filter_matching_nothing_returns_empty_list(assistant, filters):
    assert assistant.search("Life Science Nord", k=5, filters=filters) == []


def test_empty_filter_values_mean_no_filter(assistant):
    plain = docs(assistant.search("Life Science Nord", k=5))
    assert docs(assistant.search("Life Science Nord", k=5, filters={"doc": [], "lang": None, "year": []})) == plain


# ---- bad input


@pytest.mark.parametrize("k", [0, -1, 101])
def test_k_out_of_bounds(assistant, k):
    with pytest.raises(BadQuery, match="k must be between 1 and 100"):
        assistant.search("Life Science Nord", k=k)


@pytest.mark.parametrize("query", ["", "   ", "\n\t "])
def test_empty_query(assistant, query):
    with pytest.raises(BadQuery, match="empty"):
        assistant.search(query)


def test_query_too_long(assistant):
    query = ("Life Science Nord Clustermanagement " * 200)[:5000]
    with pytest.raises(BadQuery, match=r"too long \(5000 characters; at most 2000\)"):
        assistant.search(query)


def test_unknown_filter_key(assistant):
    with pytest.raises(BadQuery) as err:
        assistant.search("Life Science Nord", filters={"author": ["Norgenta"]})
    assert "author" in str(err.value)
    assert all(key in str(err.value) for key in ("doc", "lang", "year"))


def test_year_filter_not_a_number(assistant):
    with pytest.raises(BadQuery, match="whole numbers"):
        assistant.search("Life Science Nord", filters={"year": ["neunzehn"]})


def test_search_on_empty_index_says_to_ingest():
    empty = Assistant.open(get_settings())  # the test's own, empty data dir
    with pytest.raises(IndexEmpty, match="lsn ingest"):
        empty.search("Life Science Nord")


# ---- English/German twins


@pytest.mark.parametrize("query, doc", [(QUERY_EN, STRATEGY_EN), (QUERY_DE, STRATEGY_DE)])
def test_the_passage_in_the_question_language_ranks_first(index, query, doc):
    """Both twins answer the question; the one in its language comes first
    (with collapsing off, so this is about ranking alone)."""
    strict = Assistant.open(index.model_copy(update={"dedupe_threshold": 1.0}))
    results = strict.search(query, k=3)
    assert results[0].chunk.doc == doc, [(r.chunk.doc, r.scores) for r in results]


def test_english_query_gets_the_english_passage_not_its_german_twin(assistant):
    found = docs(assistant.search(QUERY_EN, k=3))
    assert STRATEGY_EN in found
    assert STRATEGY_DE not in found, "the German translation of the English passage is a duplicate"


def test_german_query_gets_the_german_passage_not_its_english_twin(assistant):
    found = docs(assistant.search(QUERY_DE, k=3))
    assert STRATEGY_DE in found
    assert STRATEGY_EN not in found, "the English translation of the German passage is a duplicate"


def test_twins_collapse_to_the_question_language(index):
    """The collapsing itself, with a threshold the twins' similarity reaches."""
    loose = Assistant.open(index.model_copy(update={"dedupe_threshold": 0.8}))
    en = docs(loose.search(QUERY_EN, k=5))
    assert STRATEGY_EN in en and STRATEGY_DE not in en
    de = docs(loose.search(QUERY_DE, k=5))
    assert STRATEGY_DE in de and STRATEGY_EN not in de
    # without collapsing both twins are found
    strict = Assistant.open(index.model_copy(update={"dedupe_threshold": 1.0}))
    assert {STRATEGY_EN, STRATEGY_DE} <= set(docs(strict.search(QUERY_EN, k=5)))


def test_collapsed_twin_keeps_scores_descending(index, monkeypatch):
    """When the German twin outranks the English one for an English question,
    the English one takes its place, and the scores still read best first."""
    loose = Assistant.open(index.model_copy(update={"dedupe_threshold": 0.8}))
    r = loose.retriever
    en = next(c.chunk_id for c in r.chunks if c.doc == STRATEGY_EN and "250 stakeholders" in c.text)
    de = next(c.chunk_id for c in r.chunks if c.doc == STRATEGY_DE and "250 Akteure" in c.text)
    others = [c.chunk_id for c in r.chunks if c.doc not in (STRATEGY_EN, STRATEGY_DE)][:3]
    plan = r.plan("Who is brought together by the cluster?")
    assert plan.lang == "en"
    ranked = [de, others[0], others[1], en, others[2]]
    monkeypatch.setattr(r, "candidate_lists", lambda q, n, f=None, **kw: (plan, {"dense_e5": ranked, "bm25": ranked}))
    results = loose.search("Who is brought together by the cluster?", k=4)
    ids = [x.chunk.chunk_id for x in results]
    assert ids[0] == en and de not in ids
    scores = [x.score for x in results]
    assert scores == sorted(scores, reverse=True), scores



def test_a_question_names_a_document_by_its_title_or_its_year(assistant):
    """A title word no other title has, or the year of publication no other
    document has (the manifest's), names the document; shared or common
    words do not."""
    r = assistant.retriever
    terms = dict(r.index.title_terms)
    assert {"masterplan", "2009"} <= terms[MASTERPLAN]
    assert "2030" in terms[STRATEGY_2030]
    assert "2019" not in terms[STRATEGY_EN] and "2019" not in terms[STRATEGY_DE]  # the twins share their year
    assert r.mentioned_docs(r.plan("Who ran the agency according to the 2009 plan?")) == {MASTERPLAN}
    assert r.mentioned_docs(r.plan("Was steht im Masterplan zur Norgenta?")) == {MASTERPLAN}
    assert r.mentioned_docs(r.plan("Who runs the management?")) == set()
    hits = assistant.search("Which institutions sat on the body where activities were agreed, per the 2009 plan?", k=3)
    assert hits[0].chunk.doc == MASTERPLAN


@pytest.fixture(scope="module")
def abbreviating_index(tmp_path_factory) -> Settings:
    """The German 2024 strategy's front matter (its abbreviation list: "LSN /
    Life Science Nord") and its paragraph on the members, which says "LSN";
    and the masterplan's introduction, which spells "Life Science Nord" out."""
    root = tmp_path_factory.mktemp("alias-index")
    corpus = root / "corpus"
    corpus.mkdir()
    text = (CORPUS / STRATEGY_DE).read_text(encoding="utf-8")
    front = text[: text.index("In Zeiten der digitalen Transformation")]
    members = passage(STRATEGY_DE, "STÄRKUNG DER MITGLIEDERSTRUKTUR", "auf qualitatives Mitgliederwachstum gelegt.")
    (corpus / STRATEGY_DE).write_text(front + "\n\n" + members, encoding="utf-8")
    (corpus / MASTERPLAN).write_text(excerpt(MASTERPLAN, "Aber kein konkurrierendes", 1500), encoding="utf-8")
    shutil.copy(CORPUS / "manifest.toml", corpus)
    settings = clean_settings(data_dir=root / "data", corpus_dir=corpus)
    report = ingest(settings=settings, progress=False)
    assert not report.failed
    return settings


def test_a_spelled_out_name_is_also_searched_as_the_documents_abbreviation(abbreviating_index):
    assistant = Assistant.open(abbreviating_index)
    r = assistant.retriever
    question = "Wie viele Mitglieder hat Life Science Nord?"
    assert r.alias_variant(question) == "Wie viele Mitglieder hat LSN?"
    assert r.alias_variant("Was ist Life Science Nord (LSN)?") is None  # names it already
    assert r.alias_variant("Wie viele Mitglieder hat der Verband?") is None
    found = r.retrieve(question, k=3)
    assert found.query.aliases == {"lif": frozenset({"lsn"}), "scienc": frozenset({"lsn"}), "nord": frozenset({"lsn"})}
    assert "rund 250 Akteure" in found.hits[0].chunk.text
    assert "rank_bm25+alias" in found.hits[0].scores
    answer = assistant.ask(question)
    assert not answer.abstained and "250" in answer.text, answer.text
