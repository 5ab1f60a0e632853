"""Retrieval-evaluation core: fold, test-set loading, passage matching, measures.

Expected numbers are worked out by hand in the comments (binary relevance,
DCG = sum over relevant ranks r of 1/log2(r+1)).
"""

from __future__ import annotations

import importlib.util
import json
import math
import random
import time
from pathlib import Path

import ir_measures
import pytest
from ir_measures import RR, Qrel, ScoredDoc

from eval.metrics import (
    build_qrels,
    key_fact_recall,
    label_chunks,
    longest_prefix_in,
    longest_suffix_in,
    match_passages,
    quote_in_chunk,
    quote_overlap,
    score_rankings,
)
from eval.retrieval import evaluate_retrieval, format_table
from eval.testset import Question, TestsetError, check_testset, fold, load_testset

ROOT = Path(__file__).resolve().parent.parent
TESTSETS = sorted((ROOT / "eval" / "testsets" / "train").glob("dev-*.jsonl"))
SHARED_CHECKER = Path("/work/shared/eval/check_testset.py")

L2_3 = 1 / math.log2(3)  # gain at rank 2 = 0.6309297535714575
L2_4 = 1 / math.log2(4)  # rank 3 = 0.5
L2_5 = 1 / math.log2(5)  # rank 4 = 0.43067655807339306


def q(id="q", type="fact", lang="de", evidence=(), key_facts=(), question="?"):
    return Question(
        id=id,
        question=question,
        lang=lang,
        type=type,
        reference_answer="r",
        key_facts=tuple(key_facts),
        evidence=tuple(evidence),
    )


# --- fold -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, folded",
    [
        ("Größe", "größe"),
        ("ÄÖÜ äöü", "äöüäöü"),
        ("Straße ẞ", "straßeß"),  # capital sharp s lowers to ß
        ("Life-Science-\nNord", "lifesciencenord"),  # hyphenation and line break
        ("• Innovation,\r\n  Vernetzung; „Transfer“!", "innovationvernetzungtransfer"),
        ("8,600 of 49.900 (2019)", "8600of499002019"),
        ("LSN e. V.", "lsnev"),
        ("Fußnote¹ – Ende", "fußnoteende"),  # superscript footnote marker and en dash dropped
        ("Café", "caf"),  # as check_testset.py: only 0-9 a-z ä ö ü ß survive
        ("", ""),
    ],
)
def test_fold(raw, folded):
    assert fold(raw) == folded


@pytest.mark.skipif(not SHARED_CHECKER.exists(), reason="shared checker not available")
def test_fold_is_the_shared_checkers_fold():
    spec = importlib.util.spec_from_file_location("shared_check_testset", SHARED_CHECKER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    samples = ["Größe ẞ Café ø ą ¹²³ 8,600\n-–—•\u00a0\u2009", "İstanbul ǅ Ωmega ½ ⅷ"]
    for path in TESTSETS:
        samples.extend(path.read_text(encoding="utf-8").splitlines())
    for s in samples:
        assert fold(s) == mod.fold(s)


# --- test sets ------------------------------------------------------------------


def test_load_dev_testsets():
    assert len(TESTSETS) == 3
    loaded = {p.name: load_testset(p) for p in TESTSETS}
    assert {n: len(v) for n, v in loaded.items()} == {
        "dev-gocluster.jsonl": 16,
        "dev-masterplan-2030.jsonl": 16,
        "dev-strategy2024.jsonl": 18,
    }
    qs = [x for v in loaded.values() for x in v]
    assert len({x.id for x in qs}) == 50
    unanswerable = [x for x in qs if x.type == "unanswerable"]
    assert len(unanswerable) == 6 and all(x.evidence == () for x in unanswerable)
    first = loaded["dev-gocluster.jsonl"][0]
    assert first.id == "dgc-01" and first.lang == "de" and first.type == "numeric"
    assert first.key_facts == ("33", "2019")
    assert first.evidence == (
        ("go-cluster-expedition-clusterinitiative-2-de.txt", "Im Jahr 2019 gab es allein 33 Veranstaltungen und Weiterbildungen"),
    )
    assert first.evidence_docs == ("go-cluster-expedition-clusterinitiative-2-de.txt",)


def test_dev_testsets_check_clean_against_corpus():
    for p in TESTSETS:
        assert check_testset(p, ROOT / "corpus") == []


def _good(id, **over):
    item = {
        "id": id,
        "question": "Wie viele?",
        "lang": "de",
        "type": "fact",
        "reference_answer": "Drei.",
        "key_facts": ["drei"],
        "evidence": [{"doc": "a.txt", "quote": "es sind genau drei Stück"}],
    }
    item.update(over)
    return json.dumps(item, ensure_ascii=False)


def test_load_testset_rejects_broken_line(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text(_good("ok-1") + "\n" + '{"id": "bad-2", "question": "unterminated\n', encoding="utf-8")
    with pytest.raises(TestsetError) as e:
        load_testset(path)
    msg = str(e.value)
    assert f"{path}:2: not valid JSON" in msg
    assert "broken.jsonl:1" not in msg


def test_load_testset_names_every_bad_line(tmp_path):
    missing = json.loads(_good("m-2"))
    del missing["evidence"]
    lines = [
        _good("a-1"),
        json.dumps(missing),
        "",  # blank lines are skipped but still counted
        _good("t-4", type="opinion"),
        _good("l-5", lang="fr"),
        _good("a-1"),
        _good("k-7", key_facts="drei"),
    ]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(TestsetError) as e:
        load_testset(path)
    msg = str(e.value)
    assert f"{path}:2 (m-2): missing field(s) evidence" in msg
    assert f"{path}:4 (t-4): unknown type 'opinion'" in msg
    assert f"{path}:5 (l-5): unknown lang 'fr'" in msg
    assert f"{path}:6 (a-1): duplicate id 'a-1' (first on line 1)" in msg
    assert f"{path}:7 (k-7): key_facts must be a list of strings" in msg
    assert msg.startswith("5 problem(s)")


def test_check_testset_reports_quote_doc_and_fact_problems(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Hier sind ge-\nnau drei Stück, nicht vier.", encoding="utf-8")
    lines = [
        _good("ok-1", evidence=[{"doc": "a.txt", "quote": "sind genau drei Stück"}]),  # folded match across hyphen
        _good("q-2", evidence=[{"doc": "a.txt", "quote": "sind genau fünf Stück"}]),
        _good("d-3", evidence=[{"doc": "missing.txt", "quote": "sind genau drei Stück"}]),
        _good("f-4", key_facts=["fünf"], evidence=[{"doc": "a.txt", "quote": "sind genau drei Stück"}]),
        _good("u-5", type="unanswerable", evidence=[], key_facts=[]),
        _good("s-6", evidence=[{"doc": "a.txt", "quote": "drei Stück"}]),  # 9 folded chars: too short
    ]
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    problems = check_testset(path, corpus)
    assert len(problems) == 5, problems
    assert problems[0].startswith("t.jsonl:2 (q-2): quote not found")
    assert problems[1] == "t.jsonl:3 (d-3): unknown doc 'missing.txt'"
    assert problems[2].startswith("t.jsonl:3 (d-3): key fact 'drei'")  # no evidence doc holds it
    assert problems[3] == "t.jsonl:4 (f-4): key fact 'fünf' does not occur in any evidence document"
    assert problems[4].startswith("t.jsonl:6 (s-6): quote not found (or too short)")


# --- quote matching ----------------------------------------------------------------


def test_quote_in_chunk_whole_prefix_suffix():
    quote = "abcdefghij"  # 10 chars: a boundary part needs >= 5
    assert quote_in_chunk(quote, "xxabcdefghijyy")
    assert quote_in_chunk(quote, "zzzzabcde")  # prefix of 5 = 50 %
    assert not quote_in_chunk(quote, "zzzzabcd")  # prefix of 4
    assert quote_in_chunk(quote, "fghijzzzz")  # suffix of 5
    assert not quote_in_chunk(quote, "ghijzzzz")  # suffix of 4
    assert not quote_in_chunk(quote, "cdefghi")  # a middle part is neither prefix nor suffix
    assert quote_in_chunk(quote, "abcdefgh", min_share=0.8)
    assert not quote_in_chunk(quote, "abcdefg", min_share=0.8)
    assert not quote_in_chunk(quote, "abcdefghi", min_share=1.0)
    assert quote_in_chunk("abcdefghijk", "abcdef")  # 11 chars: needs ceil(5.5) = 6
    assert not quote_in_chunk("abcdefghijk", "abcde")
    assert not quote_in_chunk("", "anything")
    assert not quote_in_chunk("abc", "")


def test_longest_prefix_suffix_and_overlap():
    assert longest_prefix_in("abcdefghij", "zzabcdezz") == 5
    assert longest_suffix_in("abcdefghij", "zzabcdezz") == 0
    assert longest_suffix_in("abcdefghij", "hijklm") == 3
    assert longest_prefix_in("abcdefghij", "abcdefghij") == 10
    assert quote_overlap("abcdefghij", "qqghij") == 0.4
    assert quote_overlap("abcdefghij", "..abcdefghij..") == 1.0
    assert quote_overlap("", "x") == 0.0


def test_quote_in_chunk_agrees_with_binary_search():
    rng = random.Random(7)
    for _ in range(3000):
        quote = "".join(rng.choice("ab") for _ in range(rng.randint(1, 14)))
        chunk = "".join(rng.choice("abc") for _ in range(rng.randint(0, 20)))
        share = rng.choice([0.3, 0.5, 0.75, 1.0])
        assert quote_in_chunk(quote, chunk, share) == (quote_overlap(quote, chunk) >= share), (quote, chunk, share)


def test_quote_in_chunk_is_fast():
    rng = random.Random(1)
    words = [fold(w) for w in "Die Life Science Nord Strategie bündelt Kräfte in Hamburg und Kiel".split()]
    chunks = ["".join(rng.choice(words) for _ in range(200)) for _ in range(100)]
    quotes = ["".join(rng.choice(words) for _ in range(10)) for _ in range(1000)]
    start = time.perf_counter()
    for quote in quotes:
        for chunk in chunks:
            quote_in_chunk(quote, chunk)
    assert time.perf_counter() - start < 5.0  # 100k calls; about 0.2 s here


# --- relevance labels --------------------------------------------------------------

SPLIT_QUOTE = "Life Science Nord bündelt die Kräfte"  # folded: 31 chars, a boundary part needs 16


def test_label_chunks_doc_must_match_and_boundary_quotes():
    question = q(
        evidence=[("a.txt", "The quick brown fox jumps"), ("b.txt", "over the lazy dog today")],
    )
    chunks = [
        {"chunk_id": "c1", "doc": "a.txt", "text": "Intro. The quick\nbrown fox jumps, it says."},
        {"chunk_id": "c2", "doc": "b.txt", "text": "The quick brown fox jumps"},  # right text, wrong doc
        {"chunk_id": "c3", "doc": "b.txt", "text": "... lazy dog today. Next."},  # suffix 12 of 19 >= 10
        {"chunk_id": "c4", "doc": "a.txt", "text": "The quick"},  # prefix 8 of 21 < 11
        {"chunk_id": "c1", "doc": "a.txt", "text": "duplicate id, labelled by its first occurrence"},
        {"chunk_id": "c5", "doc": "corpus/b.txt", "text": "over the lazy dog today"},  # path vs file name
    ]
    assert label_chunks(question, chunks) == {"c1": (0,), "c3": (1,), "c5": (1,)}
    assert match_passages(question, chunks[1]) == ()


def test_quote_spanning_chunk_boundary():
    question = q(evidence=[("a.txt", SPLIT_QUOTE)])
    # two chunks overlapping by "Nord bündelt", as a chunker with overlap cuts them
    left = {"chunk_id": "L", "doc": "a.txt", "text": "Seit 2004 gilt: Life Science Nord bündelt"}
    right = {"chunk_id": "R", "doc": "a.txt", "text": "Nord bündelt die Kräfte der Region."}
    # left holds the prefix "lifesciencenordbündelt" (22 >= 16), right the suffix
    # "nordbündeltdiekräfte" (20 >= 16); a chunk holding only "diekräfte" (9) does not count
    tail = {"chunk_id": "T", "doc": "a.txt", "text": "die Kräfte der Region."}
    assert label_chunks(question, [left, right, tail]) == {"L": (0,), "R": (0,)}
    # min_share 0.7 needs ceil(31 * 0.7) = 22: left has 22 -> relevant, right has 20 -> not
    assert label_chunks(question, [left, right, tail], min_share=0.7) == {"L": (0,)}


def test_build_qrels_over_index_with_several_gold_passages():
    q1 = q(id="q1", evidence=[("a.txt", "alpha beta gamma delta"), ("b.txt", "eins zwei drei vier")])
    q2 = q(id="q2", evidence=[("c.txt", "nothing like this is indexed")])
    index = [
        {"chunk_id": "a1", "doc": "a.txt", "text": "alpha beta gamma delta epsilon"},
        {"chunk_id": "a2", "doc": "a.txt", "text": "more: Alpha-Beta-Gamma-Delta!"},
        {"chunk_id": "b1", "doc": "b.txt", "text": "eins zwei drei vier"},
        {"chunk_id": "b2", "doc": "b.txt", "text": "alpha beta gamma delta"},  # wrong doc for that quote
        {"chunk_id": "ab", "doc": "a.txt", "text": "eins zwei drei vier"},  # wrong doc for that quote
    ]
    assert build_qrels([q1, q2], index) == {"q1": {"a1": (0,), "a2": (0,), "b1": (1,)}, "q2": {}}


# --- ranking measures --------------------------------------------------------------


def test_score_rankings_hand_computed():
    got = score_rankings(
        {"q1": ["x", "g1", "y", "g2"], "q2": ["g"], "q3": []},
        {"q1": ["g1", "g2", "g3"], "q2": ["g"], "q3": ["g"]},
    )
    # q1: first gold at rank 2; 3 relevant in the index, 2 retrieved at ranks 2 and 4
    assert got["q1"] == pytest.approx(
        {
            "hit@1": 0.0,
            "hit@3": 1.0,
            "hit@5": 1.0,
            "hit@10": 1.0,
            "mrr": 0.5,
            "ndcg@10": (L2_3 + L2_5) / (1 + L2_3 + L2_4),  # 1.0616063 / 2.1309298 = 0.4981902
        }
    )
    assert got["q1"]["ndcg@10"] == pytest.approx(0.49819, abs=1e-5)
    assert got["q2"] == {"hit@1": 1.0, "hit@3": 1.0, "hit@5": 1.0, "hit@10": 1.0, "mrr": 1.0, "ndcg@10": 1.0}
    # empty retrieval: present, all zero
    assert got["q3"] == {"hit@1": 0.0, "hit@3": 0.0, "hit@5": 0.0, "hit@10": 0.0, "mrr": 0.0, "ndcg@10": 0.0}


def test_score_rankings_missing_queries_count_as_zero():
    got = score_rankings(
        {"q1": ["g"], "only-run": ["g"]},  # "only-run" has no qrels at all
        {"q1": ["g"], "only-qrels": ["h"], "no-gold": []},
    )
    assert set(got) == {"q1", "only-run", "only-qrels", "no-gold"}
    assert got["q1"]["mrr"] == 1.0
    for qid in ("only-run", "only-qrels", "no-gold"):
        assert set(got[qid].values()) == {0.0}
    # nothing to evaluate at all: still every query, all zero
    assert score_rankings({"a": []}, {"a": []}) == {"a": dict.fromkeys(got["q1"], 0.0)}


def test_ties_are_broken_by_rank_not_by_doc_id():
    # what we guard against: pytrec_eval orders equal scores by doc id, descending
    raw = ir_measures.calc_aggregate([RR], [Qrel("q", "a", 1)], [ScoredDoc("q", "a", 1.0), ScoredDoc("q", "z", 1.0)])
    assert raw[RR] == 0.5
    # our run keeps the retrieved order whatever the retriever's scores were
    assert score_rankings({"q": ["a", "z"]}, {"q": ["a"]})["q"]["mrr"] == 1.0
    assert score_rankings({"q": ["z", "a"]}, {"q": ["a"]})["q"]["mrr"] == 0.5


def test_duplicate_chunks_keep_their_slot_and_count_once():
    got = score_rankings({"q": ["g", "g", "x"]}, {"q": ["g", "h"]})["q"]
    # relevant at rank 1 only (the repeat at rank 2 earns nothing); ideal: ranks 1 and 2
    assert got["mrr"] == 1.0
    assert got["ndcg@10"] == pytest.approx(1 / (1 + L2_3))  # 0.6131472
    got = score_rankings({"q": ["x", "x", "g"]}, {"q": ["g"]})["q"]
    # the repeated x still takes rank 2, so g is at rank 3 (not 2)
    assert got["mrr"] == pytest.approx(1 / 3)
    assert (got["hit@1"], got["hit@3"]) == (0.0, 1.0)
    assert got["ndcg@10"] == pytest.approx(L2_4)  # 0.5


def test_key_fact_recall():
    texts = ["Es arbeiten 8600 Beschäftigte", "von 49 900 in der GRÖSSE"]
    # "8,600" -> 8600 found; "49.900" -> 49900 found (across the space); "Größe" folds to
    # "größe", the text has "grösse": ß is not expanded to ss, so not found
    assert key_fact_recall(["8,600", "49.900", "Größe"], texts) == pytest.approx(2 / 3)
    assert key_fact_recall(["Kiel"], []) == 0.0
    assert key_fact_recall([], ["anything"]) == 1.0
    assert key_fact_recall(["Life-Science-\nNord"], ["life science nord"]) == 1.0


# --- evaluate_retrieval ------------------------------------------------------------

A_QUOTE = "Im Jahr 2019 gab es 33 Veranstaltungen"
B_QUOTE = "Das Netzwerk hat rund 130 Mitglieder"
C_QUOTE = "Die Clusteragentur sitzt in Hamburg und Kiel"  # folded 38: boundary part needs 19

INDEX = [
    {"chunk_id": "a1", "doc": "a.txt", "text": "Rückblick. Im Jahr 2019 gab es 33\nVeranstaltungen."},
    {"chunk_id": "a2", "doc": "a.txt", "text": "Das Netz-\nwerk hat rund 130 Mitglieder."},
    {"chunk_id": "a3", "doc": "a.txt", "text": "Kiel ist schön. Nichts weiter."},
    {"chunk_id": "b1", "doc": "b.txt", "text": "Hinweis: Die Clusteragentur sitzt in Ham-"},  # prefix 27 of 38
    {"chunk_id": "b2", "doc": "b.txt", "text": "agentur sitzt in Hamburg und Kiel. Ende."},  # suffix 28 of 38
    {"chunk_id": "b3", "doc": "b.txt", "text": "Etwas anderes."},
]
BY_ID = {c["chunk_id"]: c for c in INDEX}

QUESTIONS = [
    q("q1", "fact", "de", [("a.txt", A_QUOTE)], ["2019", "33"]),
    q("q2", "multi-doc", "en", [("a.txt", B_QUOTE), ("b.txt", C_QUOTE)], ["Kiel", "Lübeck"]),
    q("q3", "unanswerable", "en"),
    q("q4", "numeric", "de", [("a.txt", B_QUOTE)], ["130"]),
    q("q5", "cross-lingual", "en", [("b.txt", C_QUOTE)], ["Hamburg"]),
]

RESULTS = {
    "q1": ["a3", "a1", "a1", "b3"],  # gold at 2, then a duplicate of it
    "q2": ["b2", "a3", "a2", "b1"],  # golds at 1, 3, 4
    "q5": [],
}


def fake_search(question, k):
    assert question.id != "q3", "unanswerable questions are not searched"
    if question.id == "q4":
        raise RuntimeError("index offline")
    # every score equal: only the order may count
    return [dict(BY_ID[cid], score=0.5) for cid in RESULTS[question.id]]


def test_evaluate_retrieval_end_to_end():
    res = evaluate_retrieval(QUESTIONS, fake_search, INDEX, k=10)
    rows = {r["id"]: r for r in res["questions"]}
    assert list(rows) == ["q1", "q2", "q4", "q5"]
    assert res["excluded"] == ["q3"]

    # q1: 1 relevant chunk in the index (a1), first at rank 2; the duplicate earns nothing
    r1 = rows["q1"]
    assert r1["first_gold_rank"] == 2
    assert [(t["chunk_id"], t["relevant"]) for t in r1["top"]] == [
        ("a3", False), ("a1", True), ("a1", False), ("b3", False)
    ]
    assert (r1["hit@1"], r1["hit@3"], r1["mrr"]) == (0.0, 1.0, 0.5)
    assert r1["ndcg@10"] == pytest.approx(L2_3)  # 0.6309298
    assert r1["ctx_fact_recall@5"] == 1.0

    # q2: relevant a2 (passage 0), b1 and b2 (passage 1, boundary halves); ranks 1, 3, 4
    r2 = rows["q2"]
    assert r2["n_gold_chunks"] == 3
    assert r2["first_gold_rank"] == 1 and r2["mrr"] == 1.0
    assert r2["gold_passages_retrieved"] == [0, 1]
    assert r2["ndcg@10"] == pytest.approx((1 + L2_4 + L2_5) / (1 + L2_3 + L2_4))  # 0.9060254
    assert r2["ctx_fact_recall@5"] == 0.5  # Kiel yes, Lübeck no
    assert r2["gold_docs"] == ["a.txt", "b.txt"]

    # q4: search raised -> error recorded, zeros, still counted
    r4 = rows["q4"]
    assert r4["error"] == "RuntimeError: index offline"
    assert r4["top"] == [] and r4["first_gold_rank"] is None
    assert r4["mrr"] == 0.0 and r4["ctx_fact_recall@5"] == 0.0

    # q5: empty retrieval -> zeros, no error
    assert rows["q5"]["error"] is None and rows["q5"]["hit@10"] == 0.0 and rows["q5"]["ndcg@10"] == 0.0

    s = res["summary"]
    assert (s["n"], s["n_unanswerable_excluded"], s["n_errors"], s["k"]) == (4, 1, 1, 10)
    assert s["hit@1"] == 0.25  # q2 only
    assert s["hit@3"] == s["hit@5"] == s["hit@10"] == 0.5  # q1, q2
    assert s["mrr"] == 0.375  # (0.5 + 1) / 4
    assert s["ndcg@10"] == pytest.approx((L2_3 + (1 + L2_4 + L2_5) / (1 + L2_3 + L2_4)) / 4)  # 0.3842388
    assert s["ctx_fact_recall@5"] == 0.375  # (1 + 0.5 + 0 + 0) / 4

    assert list(res["by_type"]) == ["fact", "numeric", "multi-doc", "cross-lingual"]
    assert {t: g["n"] for t, g in res["by_type"].items()} == {"fact": 1, "numeric": 1, "multi-doc": 1, "cross-lingual": 1}
    assert res["by_type"]["fact"]["mrr"] == 0.5
    assert res["by_lang"]["de"] == pytest.approx(
        {"n": 2, "hit@1": 0.0, "hit@3": 0.5, "hit@5": 0.5, "hit@10": 0.5, "mrr": 0.25,
         "ndcg@10": L2_3 / 2, "ctx_fact_recall@5": 0.5}
    )
    assert res["by_lang"]["en"]["n"] == 2 and res["by_lang"]["en"]["mrr"] == 0.5
    # by evidence doc: a.txt <- q1, q2, q4; b.txt <- q2, q5
    assert res["by_doc"]["a.txt"]["n"] == 3 and res["by_doc"]["a.txt"]["mrr"] == pytest.approx(0.5)
    assert res["by_doc"]["b.txt"]["n"] == 2 and res["by_doc"]["b.txt"]["hit@1"] == 0.5
    json.dumps(res)  # serialisable as is


def test_evaluate_retrieval_cuts_at_k():
    res = evaluate_retrieval([QUESTIONS[1]], fake_search, INDEX, k=3)
    row = res["questions"][0]
    assert [t["chunk_id"] for t in row["top"]] == ["b2", "a3", "a2"]
    # DCG 1 + 1/log2(4); the ideal still has 3 relevant chunks
    assert row["ndcg@10"] == pytest.approx((1 + L2_4) / (1 + L2_3 + L2_4))  # 0.7039180


def test_evaluate_retrieval_gold_missing_from_index_counts_zero():
    question = q("qx", evidence=[("a.txt", "ein Satz, den kein Chunk enthält")], key_facts=["Satz"])
    res = evaluate_retrieval([question], lambda qq, k: [dict(INDEX[0], score=1.0)], INDEX)
    row = res["questions"][0]
    assert row["n_gold_chunks"] == 0 and row["gold_passages_unindexed"] == [0]
    assert res["summary"]["n"] == 1 and res["summary"]["mrr"] == 0.0 and res["summary"]["ndcg@10"] == 0.0


def test_format_table():
    res = evaluate_retrieval(QUESTIONS, fake_search, INDEX)
    table = format_table(res)
    lines = table.splitlines()
    assert lines[0].split() == ["n", "hit@1", "hit@3", "hit@5", "hit@10", "MRR", "nDCG@10", "facts@5"]
    overall = next(line for line in lines if line.startswith("overall"))
    assert overall.split() == ["overall", "4", "0.250", "0.500", "0.500", "0.500", "0.375", "0.384", "0.375"]
    assert "by type" in lines and "by language" in lines
    assert next(line for line in lines if line.strip().startswith("de")).split()[:2] == ["de", "2"]
    rows = [line for line in lines if line[:1] in (" ", "o") and line.split()[1].isdigit()]
    assert len(rows) == 1 + 4 + 2 and len({len(line) for line in rows}) == 1
    assert lines[-1] == "k=10; 1 unanswerable excluded; 1 search error(s)"
