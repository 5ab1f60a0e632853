#!/usr/bin/env python3
"""Build the Ding supplement of the German<->English lexicon.

Source: Debian's ``trans-de-en`` (the Ding dictionary of TU Chemnitz, GPL-2+,
``/usr/share/trans/de-en``)::

    apt-get update && apt-get install -y trans-de-en
    .venv/bin/python scripts/build_lexicon_ding.py

Output: ``lsn_assistant/data/lexicon-ding-de-en.tsv.gz``, in the format of the
FreeDict lexicon (``data/LEXICON.md``), holding only single-word headwords
that the FreeDict lexicon lacks, even as their lemma (the run time looks a
word up as written and as its simplemma lemma), and multiword terms not at
all (they added no coverage): ``translate.Lexicon`` consults it after FreeDict, so a
word FreeDict knows is translated exactly as before. Build-time only; nothing
here runs when the project runs, and the output is committed.

What Ding adds (measured by ``scripts/measure_lexicon.py --coverage``): its
lines list inflected forms beside the headword ("Aalbestand {m} |
Aalbestände {pl} :: eel stock | eel stocks") and many compounds and
multi-word terms of administration and economy that FreeDict's edition
dropped or the FreeDict build filtered out by general-language frequency.

A Ding line is ``German slots :: English slots``; slots are separated by
`` | `` and aligned (slot i of one side translates slot i of the other);
inside a slot, ``;`` separates synonyms. Each German term of a slot maps to the
English terms of the aligned slot in their order, and the other way round.
Example slots (sentences: several words and final punctuation) are skipped,
and so are terms of more than ``MAX_WORDS`` words. Translations of a
headword are ranked by the order of its lines (Ding puts the main sense
first), a line's own order, and the same sense tags as the FreeDict build
(off-topic domains and marked registers last).
"""

from __future__ import annotations

import argparse
import gzip
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from build_lexicon import TAG_WEIGHT  # noqa: E402

SOURCE = Path("/usr/share/trans/de-en")
OUT = ROOT / "lsn_assistant" / "data" / "lexicon-ding-de-en.tsv.gz"
BASE = ROOT / "lsn_assistant" / "data" / "lexicon-de-en.tsv.gz"
MAX_TRANSLATIONS = 3
MAX_WORDS = 3

_TAG = re.compile(r"\[([^\]]*)\]")
_DROP = re.compile(r"\{[^}]*\}|\[[^\]]*\]|\([^)]*\)|/[^/]*/|<[^>]*>")
_PLACEHOLDER = re.compile(r"(?<![\w])(?:jdn\.|jdm\.|jds\.|jd\.|etw\.|sb\.'s|sth\.'s|sb\.|sth\.|sich|oneself|one's)(?![\w])")
_LEAD = re.compile(r"^(?:to|a|an|the|der|die|das|den|dem|des|ein|eine|einen|einem|einer) (?=\S)")
_SENTENCE = re.compile(r"[.!?]$")


def split_outside(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside brackets of any kind."""
    out, depth, cur = [], 0, []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "[({<":
            depth += 1
        elif ch in "])}>":
            depth = max(0, depth - 1)
        if depth == 0 and text.startswith(sep, i):
            out.append("".join(cur))
            cur = []
            i += len(sep)
            continue
        cur.append(ch)
        i += 1
    out.append("".join(cur))
    return out


def clean(term: str) -> tuple[str, float]:
    """A term without annotations, and the weight of its tags (0 = neutral)."""
    tags = [t.strip() for t in _TAG.findall(term)]
    weight = sum(TAG_WEIGHT.get(t, 0.0) for t in tags)
    s = _DROP.sub(" ", term)
    s = _PLACEHOLDER.sub(" ", s)
    s = re.sub(r"\s+", " ", s).strip(" ,;:-…")
    s = _LEAD.sub("", s)
    return s, weight


def usable(term: str) -> bool:
    if not term or len(term) > 40 or _SENTENCE.search(term):
        return False
    words = term.split()
    return 0 < len(words) <= MAX_WORDS and any(c.isalpha() for c in term)


def parse(path: Path) -> dict[str, dict[str, list[tuple[float, int, int, str]]]]:
    """{direction: {headword (lower): [(tag weight, line no, position, translation)]}}."""
    table: dict[str, dict[str, list]] = {"de": defaultdict(list), "en": defaultdict(list)}
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if line.startswith("#") or " :: " not in line:
                continue
            de_side, en_side = line.rstrip("\n").split(" :: ", 1)
            de_slots, en_slots = split_outside(de_side, " | "), split_outside(en_side, " | ")
            if len(de_slots) != len(en_slots):
                de_slots, en_slots = de_slots[:1], en_slots[:1]
            for de_slot, en_slot in zip(de_slots, en_slots):
                de_terms = [clean(t) for t in split_outside(de_slot, ";")]
                en_terms = [clean(t) for t in split_outside(en_slot, ";")]
                de_terms = [(t, w) for t, w in de_terms if usable(t)]
                en_terms = [(t, w) for t, w in en_terms if usable(t)]
                for src, tgt, lang in ((de_terms, en_terms, "de"), (en_terms, de_terms, "en")):
                    for s, sw in src:
                        for pos, (t, tw) in enumerate(tgt):
                            table[lang][s.lower()].append((sw + tw, n, pos, t))
    return table


def ranked(cands: list[tuple[float, int, int, str]]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for _, _, _, t in sorted(cands, key=lambda c: (-c[0], c[1], c[2])):
        if t.lower() not in seen:
            seen.add(t.lower())
            out.append(t)
        if len(out) == MAX_TRANSLATIONS:
            break
    return out


def base_headwords() -> dict[str, set[str]]:
    heads: dict[str, set[str]] = {"de": set(), "en": set()}
    current = None
    with gzip.open(BASE, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            if line.startswith("@"):
                current = line[1:3]
                continue
            if current:
                heads[current].add(line.split("\t", 1)[0].lower())
    return heads


def package_version() -> str:
    try:
        return subprocess.run(["dpkg-query", "-W", "-f=${Version}", "trans-de-en"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", type=Path, default=SOURCE)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    if not args.source.exists():
        sys.exit(f"{args.source} is missing: apt-get install trans-de-en")
    header = args.source.open(encoding="utf-8").readline().strip("# \n")
    table = parse(args.source)
    base = base_headwords()
    lines = [
        "# Ding German-English dictionary, supplement to lexicon-de-en.tsv.gz (headwords FreeDict lacks)",
        f"# source: Debian trans-de-en {package_version()} ({header}), /usr/share/trans/de-en",
        "# Copyright (c) 1995-2023 Frank Richter <frank.richter@hrz.tu-chemnitz.de>; licence: GPL-2.0-or-later",
        "# built by scripts/build_lexicon_ding.py; see lsn_assistant/data/LEXICON.md",
    ]
    counts = {}
    from lsn_assistant.translate import _lemma

    for lang, section in (("de", "@de-en"), ("en", "@en-de")):
        lines.append(section)
        kept = 0
        for head in sorted(table[lang]):
            if head in base[lang] or "\t" in head or " " in head:
                continue
            # the run time looks a word up as its lemma too: an inflected form
            # of a FreeDict headword adds nothing
            lemma = _lemma(head[:1].upper() + head[1:] if lang == "de" else head, lang).lower()
            if lemma != head and lemma in base[lang]:
                continue
            trans = ranked(table[lang][head])
            if trans:
                lines.append(f"{head}\t{'|'.join(trans)}")
                kept += 1
        counts[lang] = kept
    data = ("\n".join(lines) + "\n").encode("utf-8")
    args.out.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    print(f"wrote {args.out}: {counts['de']} German and {counts['en']} English headwords, "
          f"{args.out.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
