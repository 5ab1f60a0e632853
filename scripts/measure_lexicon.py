#!/usr/bin/env python3
"""How much of the gold evidence does lexical query translation reach?

For every English question of type "cross-lingual" in eval/testsets/train/*.jsonl
(the evidence quotes are German), compare the content words of the gold
quotes (lower-cased, stop words, numbers and 1-letter tokens removed) with

* before: the words of the English question as typed (no translation);
* after:  the words of the German translation terms (Lexicon.translate);
* union:  both (what the retriever actually searches with).

Shares are reported two ways: exact lower-cased word match, and match after
German Snowball stemming of both sides (what a stemmed BM25 index sees).
Micro = pooled over all gold words; macro = mean of per-question shares;
q>=2 = questions where at least two gold words are reached.

    .venv/bin/python scripts/measure_lexicon.py [--verbose] [--max-per-word 3]

``--coverage``: instead, the share of content words the lexicon translates,
in the corpus (per language) and in the train questions: by its headwords
(as written or as lemma), and with German compounds split into known words.
Content words: not stop words, not numbers, not names (acronyms, CamelCase),
at least 3 letters. ``--supplement FILE`` compares the lexicon with a
supplement (e.g. the Ding one) against the lexicon alone.

    .venv/bin/python scripts/measure_lexicon.py --coverage --supplement lsn_assistant/data/lexicon-ding-de-en.tsv.gz
"""

from __future__ import annotations

import argparse
import glob
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lsn_assistant.translate import DATA_FILE, STOP, STOP_DE, STOP_EN, Lexicon, _is_name, tokenize  # noqa: E402

WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿß]+(?:-[A-Za-zÀ-ÖØ-öø-ÿß]+)*")


def words(text: str) -> set[str]:
    out = set()
    for w in WORD.findall(text):
        w = w.lower()
        if len(w) > 1 and w not in STOP_DE and w not in STOP_EN:
            out.add(w)
    return out


def load_questions(pattern: str) -> list[dict]:
    qs = []
    for path in sorted(glob.glob(pattern)):
        for line in open(path, encoding="utf-8"):
            if line.strip():
                q = json.loads(line)
                if q.get("type") == "cross-lingual" and q.get("lang") == "en":
                    qs.append(q)
    return qs


def content_words(text: str, lang: str) -> list[str]:
    stop = STOP[lang]
    out = []
    for w, _ in tokenize(text):
        letters = sum(c.isalpha() for c in w)
        if letters < 3 or w.lower() in stop or _is_name(w):
            continue
        out.append(w)
    return out


def covered(lex: Lexicon, word: str, lang: str) -> str | None:
    """How the lexicon translates a word: "word" (headword or lemma),
    "compound" (known parts), or None."""
    if lex._word_translations(word, lang, 3):
        return "word"
    parts = lex._split_any(word, lang)
    if parts and any(lex._word_translations(p[:1].upper() + p[1:] if lang == "de" else p, lang, 1) for p in parts):
        return "compound"
    return None


def coverage(args) -> None:
    import collections

    corpus = {"de": collections.Counter(), "en": collections.Counter()}
    for path in sorted((ROOT / "corpus").glob("*.txt")):
        lang = "en" if path.stem.endswith("-en") else "de"
        corpus[lang].update(content_words(path.read_text(encoding="utf-8"), lang))
    asked = {"de": collections.Counter(), "en": collections.Counter()}
    for path in sorted(glob.glob(args.testsets)):
        for line in open(path, encoding="utf-8"):
            if line.strip():
                q = json.loads(line)
                asked[q["lang"]].update(content_words(q["question"], q["lang"]))
    lexicons = {"lexicon": Lexicon(DATA_FILE, supplements=[])}
    for sup in args.supplement:
        lexicons[f"+ {Path(sup).name}"] = Lexicon(DATA_FILE, supplements=[sup])
    print(f"{'words':22} {'lexicon':28} {'tokens: word':>13} {'+compound':>10} {'types: word':>12} {'+compound':>10}")
    for label, counts in (("corpus", corpus), ("questions", asked)):
        for lang in ("de", "en"):
            c = counts[lang]
            if not c:
                continue
            for name, lex in lexicons.items():
                how = {w: covered(lex, w, lang) for w in c}
                tok = sum(c.values())
                tw = sum(n for w, n in c.items() if how[w] == "word") / tok
                tc = sum(n for w, n in c.items() if how[w]) / tok
                yw = sum(1 for w in c if how[w] == "word") / len(c)
                yc = sum(1 for w in c if how[w]) / len(c)
                print(f"{label + ' ' + lang + f' ({tok}/{len(c)})':22} {name:28} {tw:13.1%} {tc:10.1%} {yw:12.1%} {yc:10.1%}")
                if args.verbose:
                    missing = collections.Counter({w: n for w, n in c.items() if not how[w]})
                    print("    most frequent untranslated:", ", ".join(f"{w} {n}" for w, n in missing.most_common(40)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--testsets", default=str(ROOT / "eval" / "testsets" / "train" / "*.jsonl"))
    ap.add_argument("--max-per-word", type=int, default=3)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--coverage", action="store_true", help="share of content words the lexicon translates")
    ap.add_argument("--supplement", action="append", default=[], help="a supplement lexicon to compare (repeatable)")
    args = ap.parse_args()
    if args.coverage:
        coverage(args)
        return

    import Stemmer

    stem_de = Stemmer.Stemmer("german")

    def stems(ws: set[str]) -> set[str]:
        return set(stem_de.stemWords(sorted(ws)))

    lex = Lexicon.default()
    t0 = time.perf_counter()
    lex.maps
    load_s = time.perf_counter() - t0
    qs = load_questions(args.testsets)
    if not qs:
        sys.exit("no English cross-lingual questions found")
    lex.translate("warm up the lemmatizer", "en", "de")
    tot = {k: [0, 0] for k in ("before", "after", "union", "before_st", "after_st", "union_st")}
    macro = {k: [] for k in tot}
    anyhit = {k: 0 for k in tot}  # questions with >= 2 gold words reached
    n_terms = []
    times = []
    for q in qs:
        gold = set()
        for ev in q.get("evidence", []):
            gold |= words(ev["quote"])
        before = words(q["question"])
        t = time.perf_counter()
        terms = lex.translate(q["question"], "en", "de", max_per_word=args.max_per_word)
        times.append(time.perf_counter() - t)
        n_terms.append(len(terms))
        after = set()
        for term, _w in terms:
            after |= words(term)
        union = before | after
        gst = stems(gold)
        sets = {
            "before": (gold, before), "after": (gold, after), "union": (gold, union),
            "before_st": (gst, stems(before)), "after_st": (gst, stems(after)), "union_st": (gst, stems(union)),
        }
        for k, (g, s) in sets.items():
            hit = len(g & s)
            tot[k][0] += hit
            tot[k][1] += len(g)
            macro[k].append(hit / len(g) if g else 0.0)
            anyhit[k] += hit >= 2
        if args.verbose:
            print(f"\n{q['id']}: {q['question']}")
            print("  translation:", ", ".join(f"{t}:{w:.2f}" for t, w in terms))
            print("  gold hit (exact, after):", sorted(gold & after))
            print("  gold missed (exact, union):", sorted(gold - union))
    print(f"questions: {len(qs)} English cross-lingual (German gold quotes)")
    print(f"lexicon load: {load_s * 1000:.0f} ms; translate: mean {1000 * sum(times) / len(times):.2f} ms, "
          f"max {1000 * max(times):.2f} ms")
    print(f"translation terms per question: mean {sum(n_terms) / len(n_terms):.1f}")
    print(f"{'':10s} {'micro':>16s} {'macro':>7s} {'q>=2':>5s}")
    for k in tot:
        hit, n = tot[k]
        print(f"{k:10s} {hit:4d}/{n:<4d} = {hit / n:5.1%} {sum(macro[k]) / len(macro[k]):7.1%} "
              f"{anyhit[k]:3d}/{len(qs)}")
    print("(_st: German Snowball stems on both sides; q>=2: questions reaching >= 2 gold words)")


if __name__ == "__main__":
    main()
