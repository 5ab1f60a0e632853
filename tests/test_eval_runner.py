"""`eval.runner.run_eval` on a scripted assistant: every measure of every
question worked out by hand, with ties, an empty retrieval, a duplicate chunk,
a question with two gold passages (one across a chunk boundary), two
unanswerable questions, a failing search and a failing ask.

``scripted_run`` is shared with the report, export, judge and compare tests.

Ranking gains: binary relevance, DCG = sum over relevant ranks r of 1/log2(r+1).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import clean_settings
from eval.runner import FORMAT, load_questions, run_eval
from eval.stats import bootstrap_ci
from eval.testset import TestsetError
from lsn_assistant.answer import labels
from lsn_assistant.errors import IndexEmpty
from lsn_assistant.types import Answer, Chunk, Citation, ScoredChunk

L2_3 = 1 / math.log2(3)  # gain at rank 2
L2_4 = 1 / math.log2(4)  # rank 3
L2_5 = 1 / math.log2(5)  # rank 4

A_QUOTE = "Im Jahr 2019 gab es 33 Veranstaltungen"
B_QUOTE = "Das Netzwerk hat rund 130 Mitglieder"
C_QUOTE = "Die Clusteragentur sitzt in Hamburg und Kiel"  # folded 38: a boundary part needs 19

CORPUS = {
    "a.txt": "Rückblick. Im Jahr 2019 gab es 33 Veranstaltungen.\n\nDas Netzwerk hat rund 130 Mitglieder.\n\nKiel ist schön. Nichts weiter.\n",
    "b.txt": "Hinweis: Die Clusteragentur sitzt in Hamburg und Kiel. Ende.\n\nEtwas anderes.\n",
}
CHUNKS = {
    c.chunk_id: c
    for c in (
        Chunk("a1", "a.txt", "Rückblick. Im Jahr 2019 gab es 33 Veranstaltungen.", lang="de"),
        Chunk("a2", "a.txt", "Das Netzwerk hat rund 130 Mitglieder.", lang="de"),
        Chunk("a3", "a.txt", "Kiel ist schön. Nichts weiter.", lang="de"),
        Chunk("b1", "b.txt", "Hinweis: Die Clusteragentur sitzt in Ham-", lang="de"),  # prefix 27 of 38
        Chunk("b2", "b.txt", "agentur sitzt in Hamburg und Kiel. Ende.", lang="de"),  # suffix 28 of 38
        Chunk("b3", "b.txt", "Etwas anderes.", lang="de"),
    )
}


def item(id, type, lang, question, evidence=(), key_facts=()):
    return {
        "id": id,
        "question": question,
        "lang": lang,
        "type": type,
        "reference_answer": f"reference of {id}",
        "key_facts": list(key_facts),
        "evidence": [{"doc": d, "quote": q} for d, q in evidence],
    }


TESTSET = [
    item("q1", "fact", "de", "Wie viele Veranstaltungen gab es 2019?", [("a.txt", A_QUOTE)], ["2019", "33"]),
    item("q2", "multi-doc", "en", "Members and seat?", [("a.txt", B_QUOTE), ("b.txt", C_QUOTE)], ["Kiel", "Lübeck"]),
    item("q3", "unanswerable", "en", "Who is the <b>chair</b>?"),
    item("q4", "numeric", "de", "Wie viele Mitglieder?", [("a.txt", B_QUOTE)], ["130"]),
    item("q5", "cross-lingual", "en", "Where is the agency?", [("b.txt", C_QUOTE)], ["Hamburg"]),
    item("q6", "unanswerable", "de", "Wer leitet das Netzwerk?"),
]

SEARCH = {  # every score equal: only the order may count
    "q1": ["a3", "a1", "a1", "b3"],  # gold at 2, then a duplicate of it
    "q2": ["b2", "a3", "a2", "b1"],  # passage 1 at rank 1 (b2) and 4 (b1), passage 0 at rank 3
    "q3": ["a3"],
    "q5": [],
    "q6": ["a3", "b3"],
}


def cite(n: int, chunk_id: str, quote: str) -> Citation:
    c = CHUNKS[chunk_id]
    return Citation(n, chunk_id, c.doc, "", None, "", quote, c.text, c.lang)


ANSWERS = {
    "q1": Answer("Im Jahr 2019 gab es 33 Veranstaltungen. [1]", "de", False, (cite(1, "a1", "Im Jahr 2019 gab es 33 Veranstaltungen."),)),
    "q2": Answer("Kiel ist schön. [1]", "en", False, (cite(1, "a3", "Kiel ist schön."),)),
    "q3": Answer(labels("en")["abstain"], "en", True),
    "q4": Answer("Das Netzwerk hat rund 130 Mitglieder. [1]", "de", False, (cite(1, "a2", "Das Netzwerk hat rund 130 Mitglieder."),)),
    "q6": Answer("Kiel ist schön. [1]", "de", False, (cite(1, "a3", "Kiel ist schön."),)),
}


class ScriptedAssistant:
    """What run_eval uses of an Assistant, answering from the scripts above:
    q4's search fails, q5's ask fails."""

    def __init__(self, settings):
        self.settings = settings
        self.retriever = SimpleNamespace(size=len(CHUNKS), chunks=list(CHUNKS.values()))
        self.answerer = SimpleNamespace()
        self.questions = {t["question"]: t["id"] for t in TESTSET}

    def warm_up(self):
        pass

    def search(self, query, k=10):
        qid = self.questions[query]
        if qid == "q4":
            raise RuntimeError("index offline")
        return [ScoredChunk(CHUNKS[cid], 0.5, rank) for rank, cid in enumerate(SEARCH[qid][:k], 1)]

    def ask(self, question):
        qid = self.questions[question]
        if qid == "q5":
            raise RuntimeError("llm down")
        return ANSWERS[qid]


def write_scripted(root: Path) -> tuple[Path, object]:
    """The test set file and settings of a corpus folder holding a.txt and b.txt."""
    corpus = root / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for name, text in CORPUS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    testset = root / "scripted.jsonl"
    testset.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in TESTSET), encoding="utf-8")
    return testset, clean_settings(data_dir=root / "data", corpus_dir=corpus)


def scripted_run(root: Path, **kw) -> dict:
    testset, settings = write_scripted(root)
    return run_eval([testset], k=10, assistant=ScriptedAssistant(settings), **kw)


@pytest.fixture
def run(tmp_path):
    return scripted_run(tmp_path)


def rows_by_id(run):
    return {r["id"]: r for r in run["rows"]}


# --- per question --------------------------------------------------------------


def test_tie_and_duplicate(run):
    r = rows_by_id(run)["q1"]
    assert r["first_gold_rank"] == 2 and r["passage_ranks"] == [2]
    assert [(c["chunk_id"], c["gold"], c["duplicate"], c["cited"]) for c in r["retrieved"]] == [
        ("a3", False, False, False), ("a1", True, False, True), ("a1", False, True, True), ("b3", False, False, False)
    ]
    assert r["measures"] == pytest.approx({
        "hit@1": 0.0, "hit@3": 1.0, "hit@5": 1.0, "hit@10": 1.0, "mrr": 0.5,
        "ndcg@10": L2_3,  # one relevant chunk in the index: ideal DCG 1
        "ctx_fact_recall@5": 1.0,
        "answer_fact_recall": 1.0, "citations_valid": 1.0, "cited_gold": 1.0,
        "abstain_unanswerable": None, "abstain_answerable": 0.0, "language_ok": 1.0, "groundedness": 1.0,
        "citation_precision": 1.0,
    })
    assert r["answer"]["facts"] == [{"fact": "2019", "found": True}, {"fact": "33", "found": True}]
    assert r["answer"]["citations"][0]["gold"] is True
    assert r["errors"] == {"search": None, "ask": None}


def test_several_gold_passages(run):
    r = rows_by_id(run)["q2"]
    # relevant: a2 (passage 0) at rank 3; b2 and b1 (passage 1, boundary halves) at ranks 1 and 4
    assert r["gold_chunks"] == ["a2", "b1", "b2"]
    assert r["first_gold_rank"] == 1 and r["passage_ranks"] == [3, 1]
    m = r["measures"]
    assert (m["hit@1"], m["mrr"]) == (1.0, 1.0)
    assert m["ndcg@10"] == pytest.approx((1 + L2_4 + L2_5) / (1 + L2_3 + L2_4))  # 0.9060254
    assert m["ctx_fact_recall@5"] == 0.5  # Kiel yes, Lübeck no
    # the answer cites a3, which holds neither passage
    assert (m["answer_fact_recall"], m["cited_gold"], m["citations_valid"]) == (0.5, 0.0, 1.0)
    assert m["citation_precision"] == 0.0  # its one citation holds no gold quote
    assert r["answer"]["facts"] == [{"fact": "Kiel", "found": True}, {"fact": "Lübeck", "found": False}]


def test_unanswerable_questions_are_searched_but_not_ranked(run):
    rows = rows_by_id(run)
    abstained, answered = rows["q3"], rows["q6"]
    assert [c["chunk_id"] for c in abstained["retrieved"]] == ["a3"]  # searched, for the drill-down
    assert abstained["gold_chunks"] == [] and abstained["first_gold_rank"] is None
    assert abstained["measures"] == {
        "hit@1": None, "hit@3": None, "hit@5": None, "hit@10": None, "mrr": None, "ndcg@10": None,
        "ctx_fact_recall@5": None, "answer_fact_recall": None, "citations_valid": 1.0, "cited_gold": None,
        "abstain_unanswerable": 1.0, "abstain_answerable": None, "language_ok": 1.0,
        "groundedness": None,  # an abstention states nothing
        "citation_precision": None,
    }
    assert answered["measures"]["abstain_unanswerable"] == 0.0 and answered["measures"]["groundedness"] == 1.0


def test_failed_search_scores_zero_and_is_kept(run):
    r = rows_by_id(run)["q4"]
    assert r["errors"]["search"] == "RuntimeError: index offline"
    assert r["retrieved"] == [] and r["first_gold_rank"] is None and r["passage_ranks"] == [None]
    assert {k: r["measures"][k] for k in ("hit@1", "hit@10", "mrr", "ndcg@10", "ctx_fact_recall@5")} == dict.fromkeys(
        ("hit@1", "hit@10", "mrr", "ndcg@10", "ctx_fact_recall@5"), 0.0
    )
    # the ask did not fail: its measures are scored
    assert (r["measures"]["answer_fact_recall"], r["measures"]["cited_gold"]) == (1.0, 1.0)


def test_empty_retrieval_and_failed_ask_score_the_worst_value(run):
    r = rows_by_id(run)["q5"]
    assert r["errors"] == {"search": None, "ask": "RuntimeError: llm down"}
    assert r["retrieved"] == [] and r["measures"]["hit@10"] == 0.0 and r["measures"]["ndcg@10"] == 0.0
    assert r["answer"]["text"] == "" and r["answer"]["citation_problems"] == ["RuntimeError: llm down"]
    m = r["measures"]
    assert (m["answer_fact_recall"], m["citations_valid"], m["cited_gold"], m["language_ok"], m["groundedness"]) == (0, 0, 0, 0, 0)
    assert m["abstain_answerable"] == 1.0  # lower is better: a failure is the worst, 1


# --- summary -----------------------------------------------------------------------


def test_summary_hand_computed(run):
    s = run["summary"]
    assert s == pytest.approx({
        "hit@1": 0.25,  # q2 of q1, q2, q4, q5
        "hit@3": 0.5, "hit@5": 0.5, "hit@10": 0.5,  # q1, q2
        "mrr": 0.375,  # (0.5 + 1) / 4
        "ndcg@10": (L2_3 + (1 + L2_4 + L2_5) / (1 + L2_3 + L2_4)) / 4,  # 0.3842388
        "ctx_fact_recall@5": 0.375,  # (1 + 0.5) / 4
        "answer_fact_recall": 0.625,  # (1 + 0.5 + 1 + 0) / 4
        "citations_valid": 5 / 6,  # all but the failed ask
        "cited_gold": 0.5,  # q1, q4
        "abstain_unanswerable": 0.5,  # q3 of q3, q6
        "abstain_answerable": 0.25,  # the failed q5
        "language_ok": 5 / 6,
        "groundedness": 0.8,  # q1, q2, q4, q6 of the five not abstained (q5 failed)
        "citation_precision": 0.5,  # q1 1, q2 0, q4 1, q5 failed 0; none for q3, q6 (unanswerable)
    })
    m = run["measures"]
    assert (m["hit@1"]["n_scored"], m["hit@1"]["n_total"]) == (3, 4)  # q4's search failed
    assert (m["answer_fact_recall"]["n_scored"], m["answer_fact_recall"]["n_total"]) == (3, 4)  # q5's ask failed
    assert (m["citations_valid"]["n_scored"], m["citations_valid"]["n_total"]) == (5, 6)
    assert (m["abstain_unanswerable"]["n_scored"], m["abstain_unanswerable"]["n_total"]) == (2, 2)
    assert (m["groundedness"]["n_scored"], m["groundedness"]["n_total"]) == (4, 5)
    assert m["hit@1"]["ci"] == pytest.approx(list(bootstrap_ci([0, 1, 0, 0])))
    assert m["hit@1"]["ci"][0] <= 0.25 <= m["hit@1"]["ci"][1]
    assert m["citations_valid"]["ci"][1] == 1.0


def test_breakdowns_confusion_and_retrieval_x_answer(run):
    by_type = run["breakdowns"]["type"]
    assert list(by_type) == ["fact", "numeric", "multi-doc", "cross-lingual", "unanswerable"]
    assert by_type["unanswerable"]["n"] == 2 and by_type["unanswerable"]["measures"]["abstain_unanswerable"]["value"] == 0.5
    assert by_type["unanswerable"]["measures"]["mrr"] == {"value": None, "ci": None, "n_scored": 0, "n_total": 0}
    by_lang = run["breakdowns"]["lang"]
    assert by_lang["de"]["n"] == 3 and by_lang["de"]["measures"]["mrr"]["value"] == 0.25  # q1 0.5, q4 0
    by_doc = run["breakdowns"]["doc"]  # a.txt <- q1, q2, q4; b.txt <- q2, q5
    assert (by_doc["a.txt"]["n"], by_doc["b.txt"]["n"]) == (3, 2)
    assert by_doc["b.txt"]["measures"]["hit@1"]["value"] == 0.5
    assert run["confusion"] == {"unanswerable": {"abstained": 1, "answered": 1}, "answerable": {"abstained": 0, "answered": 4}}
    assert run["hit_vs_answer"] == {
        "hit": {"all": ["q1"], "some": ["q2"], "none": []},
        "miss": {"all": ["q4"], "some": [], "none": ["q5"]},
    }


def test_run_is_json_with_a_manifest(run, tmp_path):
    assert run["format"] == FORMAT
    json.dumps(run)
    m = run["manifest"]
    assert m["index"] == {"fingerprint": m["index"]["fingerprint"], "chunks": 6, "docs": 2}
    assert m["corpus"]["files"] == 2
    (entry,) = m["testsets"]
    assert entry["questions"] == 6 and len(entry["sha256"]) == 64
    assert len(m["settings"]["hash"]) == 16 and "llm_api_key" not in m["settings"]["settings"]
    assert m["settings"]["settings"]["answer_max_unknown"] == 0.5 and len(m["settings"]["answer_model_sha256"]) == 64
    assert m["options"] == {"k": 10, "answers": True, "judge": False} and m["judge"] is None
    assert m["packages"]["ir-measures"] and m["seconds"] >= 0
    assert "commit" in m["git"] and m["name"].startswith(m["created"][:4])
    # the same index and test set give the same fingerprints, and the same intervals (fixed seed)
    again = scripted_run(tmp_path / "again")
    assert again["manifest"]["index"] == m["index"] and again["manifest"]["testsets"][0]["sha256"] == entry["sha256"]
    assert again["summary"] == run["summary"] and again["measures"] == run["measures"]  # fixed bootstrap seed


def test_without_answers_only_retrieval_measures(tmp_path):
    run = scripted_run(tmp_path, answers=False)
    assert set(run["summary"]) == {"hit@1", "hit@3", "hit@5", "hit@10", "mrr", "ndcg@10", "ctx_fact_recall@5"}
    assert all(r["answer"] is None for r in run["rows"]) and run["hit_vs_answer"] is None


def test_progress_bar_on_stderr(tmp_path, capsys):
    scripted_run(tmp_path, progress=True)
    err = capsys.readouterr().err
    assert "search" in err and "ask" in err and "12/12" in err


def test_ids_must_be_unique_across_test_sets(tmp_path):
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    for path in (one, two):
        path.write_text(json.dumps(TESTSET[0]) + "\n", encoding="utf-8")
    with pytest.raises(TestsetError, match="'q1' is in both"):
        load_questions([one, two])


def test_empty_index_is_an_error(tmp_path):
    testset, settings = write_scripted(tmp_path)
    assistant = ScriptedAssistant(settings)
    assistant.retriever.size = 0
    with pytest.raises(IndexEmpty, match="lsn ingest"):
        run_eval([testset], assistant=assistant)


# --- splits and follow-ups ------------------------------------------------------------


class FollowUpAssistant(ScriptedAssistant):
    """Resolves a follow-up by prefixing the earlier question, as the real
    Assistant makes a standalone question; records what it was asked."""

    def __init__(self, settings):
        super().__init__(settings)
        self.asked = []

    def resolve(self, question, turns):
        return SimpleNamespace(standalone=turns[0].content if turns else question)

    def ask(self, question, history=None):
        self.asked.append((question, history))
        return super().ask(question if not history else history[0]["content"])


def test_splits_from_folders_with_gaps_and_follow_ups(tmp_path):
    """Test sets in train/ and check/ folders give per-split measures and the
    gap train - check; a follow-up is searched in its standalone form and asked
    with its history."""
    testset, settings = write_scripted(tmp_path)
    items = [json.loads(line) for line in testset.read_text(encoding="utf-8").splitlines()]
    (tmp_path / "train").mkdir()
    (tmp_path / "check").mkdir()
    follow_up = dict(items[0], id="q4b", question="Und wie viele?", history=[
        {"role": "user", "content": items[0]["question"]}, {"role": "assistant", "content": "33."}])
    train = [items[0], items[1], items[2], follow_up]  # q1, q2, q3, and q1 again as a follow-up
    check = [items[3], items[4], items[5]]  # q4 (search fails), q5 (ask fails), q6
    (tmp_path / "train" / "a.jsonl").write_text("".join(json.dumps(t) + "\n" for t in train), encoding="utf-8")
    (tmp_path / "check" / "b.jsonl").write_text("".join(json.dumps(t) + "\n" for t in check), encoding="utf-8")
    assistant = FollowUpAssistant(settings)
    run = run_eval([tmp_path / "train" / "a.jsonl", tmp_path / "check" / "b.jsonl"], assistant=assistant)
    rows = rows_by_id(run)
    assert [rows[q]["split"] for q in ("q1", "q4b", "q4")] == ["train", "train", "check"]
    # the follow-up: searched as q1's question, asked with its history
    assert rows["q4b"]["retrieved"][1]["chunk_id"] == "a1"
    assert ("Und wie viele?", follow_up["history"]) in assistant.asked
    assert rows["q4b"]["history"] == follow_up["history"]
    splits = run["splits"]
    assert splits["n"] == {"train": 4, "check": 3}
    # hit@5: train q1 1, q2 1, q4b 1 (its standalone is q1's question) -> 1.0; check q4 0 (failed), q5 0 -> 0.0
    assert splits["train"]["hit@5"] == 1.0 and splits["check"]["hit@5"] == 0.0
    assert splits["gap"]["hit@5"] == 1.0 and "hit@5" in splits["flagged"]
    assert splits["gap"]["mrr"] == pytest.approx(splits["train"]["mrr"] - splits["check"]["mrr"])
    assert splits["answer_length"]["train"]["n"] == 3  # q1, q2, q4b answered; q3 abstained
    from eval.report import markdown_report

    md = markdown_report(run)
    assert "## Generalisation: train and check" in md
    assert "| hit@5 | 1.000 | 0.000 | +1.000 | gap above 0.05 |" in md
    assert "| questions | 4 | 3 |" in md


def test_one_split_gives_no_split_table(run):
    assert run["splits"] == {}  # scripted.jsonl is in no train/ or check/ folder
    # q1 7 words, q2 3, q4 6, q6 3 (markers not counted); q3 abstained, q5's ask failed
    assert run["answer_length"] == {"words_p50": 4.5, "words_mean": 4.8, "n": 4}
