"""Test sets (eval.testset): the optional history and section fields, the
strict key-fact check, the statistics a set is written to, the split taken
from the folder, and the project's own train/check sets held to the bounds
they were written for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.testset import (
    SPLITS,
    TestsetError,
    check_testset,
    fold,
    load_testset,
    split_of,
    stem_overlap,
)
from eval.testset import testset_stats as stats_of  # not collected as a test

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
MASTERPLAN = "lsn-masterplan-2009-de.txt"
QUOTE = "Life Science Nord"  # stands in the masterplan


def item(qid: str, question: str, **kw) -> dict:
    base = {"id": qid, "question": question, "lang": "de", "type": "fact", "reference_answer": "r",
            "key_facts": [], "evidence": [{"doc": MASTERPLAN, "quote": QUOTE}]}
    return {**base, **kw}


def write(path: Path, items: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    return path


def test_history_and_section_are_read_and_checked(tmp_path):
    turns = [{"role": "user", "content": "Wer ist LSN?"}, {"role": "assistant", "content": "Ein Cluster."}]
    (q,) = load_testset(write(tmp_path / "a.jsonl", [item("a", "Und seit wann?", history=turns, section="masterplan/intro")]))
    assert q.history == tuple(turns) and q.section == "masterplan/intro"
    with pytest.raises(TestsetError, match="history must be a list"):
        load_testset(write(tmp_path / "b.jsonl", [item("b", "x", history=[{"role": "system", "content": "x"}])]))


def test_strict_check_wants_key_facts_in_the_quotes(tmp_path):
    # "Norgenta" stands in the masterplan, but not in the quote
    path = write(tmp_path / "a.jsonl", [item("a", "Wer?", key_facts=["Norgenta"])])
    assert check_testset(path, CORPUS) == []
    (problem,) = check_testset(path, CORPUS, strict=True)
    assert "key fact 'Norgenta' is in the document but in none of the evidence quotes" in problem


def test_stem_overlap_and_stats(tmp_path):
    same_words = item("a", "Life Science Nord?")
    own_words = item("b", "Wie heißt das Netzwerk?")
    english = item("c", "What is the network called?", lang="en", type="cross-lingual")
    unanswerable = item("d", "Was kostet es?", type="unanswerable", evidence=[])
    qs = load_testset(write(tmp_path / "s.jsonl", [same_words, own_words, english, unanswerable, dict(own_words, id="e")]))
    assert stem_overlap(qs[0]) == 1.0
    assert stem_overlap(qs[1]) == 0.0
    assert stem_overlap(qs[2]) is None and stem_overlap(qs[3]) is None  # cross-lingual, no evidence
    stats = stats_of(qs)
    assert stats["questions"] == 5 and stats["types"]["unanswerable"] == 1 and stats["type_shares"]["fact"] == 0.6
    assert stats["monolingual_scored"] == 3 and stats["median_stem_overlap"] == 0.0
    assert stats["duplicate_questions"] == [("b", "e")]


def test_split_is_the_folder():
    assert split_of("eval/testsets/train/x.jsonl") == "train"
    assert split_of(Path("/a/check/y.jsonl")) == "check"
    assert split_of("eval/testsets/dev.jsonl") == ""


# --- the project's own sets --------------------------------------------------------


def project_sets() -> dict[str, list]:
    return {s: [q for p in sorted((ROOT / "eval" / "testsets" / s).glob("*.jsonl")) for q in load_testset(p)] for s in SPLITS}


def test_project_sets_pass_the_checker():
    paths = sorted((ROOT / "eval" / "testsets").glob("*/*.jsonl"))
    assert paths, "no test sets in eval/testsets/train and check"
    for path in paths:
        assert check_testset(path, CORPUS, strict=True) == [], path


def test_project_sets_meet_their_bounds():
    """At least 300 questions, 100 held back in check; the type mix; people's
    own words (median stem overlap at most 0.25); no duplicates; and no
    section on both sides of the split."""
    sets = project_sets()
    everything = sets["train"] + sets["check"]
    assert len(everything) >= 300 and len(sets["check"]) >= 100
    stats = stats_of(everything)
    shares = stats["type_shares"]
    assert shares["cross-lingual"] >= 0.25 and shares["list"] >= 0.15 and shares["unanswerable"] >= 0.12
    assert stats["median_stem_overlap"] <= 0.25
    assert stats["duplicate_questions"] == []
    assert len({q.id for q in everything}) == len(everything)
    sections = {s: {q.section for q in qs if q.section} for s, qs in sets.items()}
    assert not sections["train"] & sections["check"]
    assert {fold(q.question) for q in sets["train"]}.isdisjoint(fold(q.question) for q in sets["check"])
