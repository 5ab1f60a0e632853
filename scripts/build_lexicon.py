#!/usr/bin/env python3
"""Build the compact German<->English lexicon used by ``lsn_assistant.translate``.

Source: the FreeDict dictionaries packaged by Debian (dictd format)::

    apt-get install dict-freedict-deu-eng dict-freedict-eng-deu

Build-time only helper (NOT a run-time dependency of the project):
``wordfreq`` (PyPI) supplies general-language word frequencies used to rank
the translations of a headword. Install it anywhere on PYTHONPATH, e.g.::

    python3 -m pip install --target /tmp/lexdeps wordfreq
    PYTHONPATH=/tmp/lexdeps .venv/bin/python scripts/build_lexicon.py

Output: ``lsn_assistant/data/lexicon-de-en.tsv.gz`` (both directions, one file).
Format (UTF-8, gzip)::

    # comment lines (source, versions, licence)
    @de-en                      section marker: German headword -> English
    schiff<TAB>ship|boat|vessel
    @en-de
    boat<TAB>Boot|Schiff

Headwords are lower-cased (except the noun entries of German noun/verb
homographs, see below); translations keep their case and are ordered best
first. See ``lsn_assistant/data/LEXICON.md``.

Ranking of the translations of a headword (all senses are pooled; FreeDict's
sense order is roughly alphabetical, not by frequency, so "first sense" is not
a usable signal on its own), see ``score()``:

* general-language frequency of the translation (wordfreq Zipf value);
* the reverse dictionary: which share of the translation's own senses map
  back to the headword (roughly log P(t) + log P(h|t)); candidates that only
  one of the two dictionaries knows are penalised;
* position of the item inside its sense (the first item is the main one);
* sense tags: off-topic domains (zoology, cooking, military, ...) and marked
  registers (colloquial, dated, regional, ...) are penalised; the domains of
  this project (economy, medicine, science, administration, ...) get a small
  bonus; cognates (Institution / institution) get a small bonus.

The weights were set on a generic calibration list (``CHECK``; ``--check``
prints its accuracy), never on the evaluation questions.

Size: single-word headwords need a wordfreq Zipf >= 1.7, multiword ones
>= 2.5 and a one-word translation (lexicalised units such as "medical
technology" -> "Medizintechnik"); rare inflected forms whose lemma is an
entry are dropped (simplemma finds the lemma at run time); 3 translations per
headword. German noun/verb homographs get an extra case-sensitive noun entry
("Unternehmen" next to "unternehmen").
"""

from __future__ import annotations

import argparse
import gzip
import math
import re
import subprocess
import sys
from collections import defaultdict
from difflib import SequenceMatcher
from pathlib import Path

DICT_DIR = Path("/usr/share/dictd")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "lsn_assistant" / "data" / "lexicon-de-en.tsv.gz"

MAX_TRANSLATIONS = 3  # stored per headword
MAX_HEAD_WORDS = 3  # multiword headwords up to this many words
MAX_TRANS_WORDS = 3

# --- general domain supplements (few, generic, documented in LEXICON.md) ----
# Terms of the life-science / cluster-policy domain that FreeDict lacks or
# ranks badly. Each line: src-lang, headword, translations (best first).
SUPPLEMENT: list[tuple[str, str, list[str]]] = [
    ("de", "cluster", ["cluster"]),
    ("en", "cluster", ["Cluster"]),
    ("de", "clustermanagement", ["cluster management"]),
    ("en", "cluster management", ["Clustermanagement"]),
    ("de", "life science", ["life science", "life sciences"]),
    ("de", "life sciences", ["life sciences", "life science"]),
    ("en", "life science", ["Life Science", "Lebenswissenschaften"]),
    ("en", "life sciences", ["Life Sciences", "Lebenswissenschaften"]),
    ("de", "lebenswissenschaften", ["life sciences"]),
    ("en", "medtech", ["Medizintechnik", "Medtech"]),
    ("de", "medtech", ["medtech", "medical technology"]),
    ("en", "biotech", ["Biotechnologie", "Biotech"]),
    ("de", "biotech", ["biotech", "biotechnology"]),
    ("de", "förderung", ["funding", "support", "promotion"]),
    ("en", "healthcare industry", ["Gesundheitswirtschaft"]),
    ("en", "health economy", ["Gesundheitswirtschaft"]),
    ("de", "gesundheitswirtschaft", ["healthcare industry", "health economy", "health care"]),
    ("en", "start-up", ["Start-up", "Gründung"]),
    ("en", "start-ups", ["Start-ups", "Gründungen"]),
    ("en", "startup", ["Start-up", "Gründung"]),
    ("en", "startups", ["Start-ups", "Gründungen"]),
]

# --- sense tags --------------------------------------------------------------
OFF_DOMAIN = {
    "ornith.", "zool.", "bot.", "cook.", "mil.", "mus.", "textil.", "min.",
    "geol.", "constr.", "mach.", "auto", "anat.", "astron.", "print", "photo.",
    "relig.", "hist.", "sport", "aviat.", "art", "myc.", "meteo.", "arch.",
    "ling.", "phil.", "hunters' parlance", "Jägersprache", "police", "math.",
    "electr.", "telco.", "naut.", "agr.", "geogr.", "transp.", "phys.", "chem.",
    "tm",
}
MARKED_REGISTER = {
    "coll.", "ugs.", "slang", "vulg.", "pej.", "dated", "obs.", "archaic",
    "veraltet", "veraltend", "altertümlich", "alt", "rare", "selten", "poet.",
    "lit.", "humor.", "children's speech", "former name", "frühere Bezeichnung",
    "euphem.", "iron.", "becoming dated", "literary", "fig.", "übtr.", "Sprw.",
    "prov.",
}
REGIONAL = {
    "Ös.", "Schw.", "Bayr.", "Süddt.", "Norddt.", "Mitteldt.", "Westdt.",
    "Mittelwestdt.", "Ostdt.", "Nordostdt.", "Nordwestdt.", "Südtirol", "BW",
    "Austr.", "NZ", "Sc.", "Ir.", "Can.", "South Africa", "Northern English",
    "eAm.", "eBr.",
}
IN_DOMAIN = {
    "econ.", "fin.", "adm.", "med.", "pharm.", "biol.", "biochem.", "sci.",
    "techn.", "comp.", "pol.", "soc.", "envir.", "school", "stud.", "statist.",
    "jur.",
}
# naut./chem./phys. etc. are only mildly off-topic: weight per tag class
TAG_WEIGHT = {**{t: -1.2 for t in OFF_DOMAIN}, **{t: -1.5 for t in MARKED_REGISTER},
              **{t: -0.4 for t in REGIONAL}, **{t: 0.3 for t in IN_DOMAIN}}
for _t in ("naut.", "chem.", "phys.", "agr.", "geogr.", "transp.", "electr.", "math."):
    TAG_WEIGHT[_t] = -0.6

# placeholders of valency that are not part of the translation proper
PLACEHOLDER_RE = re.compile(
    r"(?<![\w])(?:jdn\.|jdm\.|jds\.|jd\.|etw\.|sb\.'s|sth\.'s|sb\.|sth\.|"
    r"sb\./sth\.|jdn\./etw\.|jdm\./etw\.|etw\./jdn\.|sich|oneself|"
    r"one's|jdn|jdm|etw)(?![\w])"
)
B64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


def b64(s: str) -> int:
    n = 0
    for c in s:
        n = n * 64 + B64[c]
    return n


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split on `sep` outside of <>, [], (), {}."""
    out, depth, cur = [], 0, []
    for ch in text:
        if ch in "<[({":
            depth += 1
        elif ch in ">])}":
            depth = max(0, depth - 1)
        if ch == sep and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


TAG_RE = re.compile(r"\[([^\]]*)\]")


def clean_item(item: str) -> tuple[str, list[str], str]:
    """-> (term, tags, pos) from a raw translation item like
    '[fin.] investor <n> [Br.]'."""
    tags = [t.strip() for t in TAG_RE.findall(item)]
    pos_m = re.search(r"<([^>]*)>", item)
    pos = pos_m.group(1) if pos_m else ""
    s = item.strip()
    # strip leading tags
    while s.startswith("["):
        end = s.find("]")
        if end < 0:
            break
        s = s[end + 1 :].strip()
    # the term ends at the first POS / tag marker (things after are
    # abbreviations or pronunciations)
    cut = len(s)
    for mark in ("<", "[", " /"):
        i = s.find(mark)
        if 0 <= i < cut:
            cut = i
    s = s[:cut]
    s = re.sub(r"\([^)]*\)", " ", s)  # optional parts
    s = PLACEHOLDER_RE.sub(" ", s)
    s = re.sub(r"\s+", " ", s).strip(" ,;:!?-")
    # "to develop" -> "develop", "das Neue" -> "Neue"
    s = re.sub(r"^(?:to|a|an|the|der|die|das|den|dem|des|ein|eine|einen|einem|einer) (?=\S)", "", s)
    return s, tags, pos


def valid_term(t: str, max_words: int) -> bool:
    if not t or len(t) > 40:
        return False
    if any(c in t for c in "…{}<>[]/=\"_") or "..." in t:
        return False
    if not re.search(r"[A-Za-zÄÖÜäöüß]", t):
        return False
    if len(t.split()) > max_words:
        return False
    return True


def parse_dict(name: str):
    """Parse /usr/share/dictd/<name>.dict.dz into
    ({headword_lower: [sense, ...]}, {headword_lower: headword},
    {headword: [sense, ...]}), sense = [(term, tag_score, item_index)].
    The last dict keeps the case (German noun "Unternehmen" vs verb
    "unternehmen").

    A dictd entry is: a headword line, translation lines (unindented or
    starting with " [tag]"), then indented notes, examples, synonyms and
    cross references, which are ignored. Each entry is one sense.
    """
    data = gzip.open(DICT_DIR / f"{name}.dict.dz").read()
    seen: set[int] = set()
    out: dict[str, list[list[tuple[str, float, int]]]] = defaultdict(list)
    heads: dict[str, str] = {}
    exact: dict[str, list] = defaultdict(list)
    with open(DICT_DIR / f"{name}.index", encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3 or parts[0].startswith("00"):
                continue
            off, ln = b64(parts[1]), b64(parts[2])
            if off in seen:
                continue
            seen.add(off)
            lines = data[off : off + ln].decode("utf-8", "replace").split("\n")
            m = re.match(r"^(.*?)(?:\s+/[^/]*/|\s+<|\s+\(|$)", lines[0])
            head = (m.group(1) if m else lines[0]).strip()
            head = re.sub(r"\s+", " ", PLACEHOLDER_RE.sub(" ", head)).strip(" ,;:!?-")
            head = re.sub(r"^(?:to|a|an|the) (?=\S)", "", head)
            if not valid_term(head, MAX_HEAD_WORDS) or _all_stop(head):
                continue
            sense: list[tuple[str, float, int]] = []
            idx = 0
            for tl in lines[1:]:
                if not tl.strip() or (tl.startswith(" ") and not tl.startswith(" [")):
                    continue
                # domain and register tags describe the whole sense; regional
                # tags ([Br.], [Ös.]) belong to the single item
                line_tags = {t.strip() for t in TAG_RE.findall(tl)}
                sense_score = sum(TAG_WEIGHT.get(t, 0.0) for t in line_tags if t not in REGIONAL)
                for raw in split_top(tl):
                    term, tags, _pos = clean_item(raw)
                    if valid_term(term, MAX_TRANS_WORDS) and not _all_stop(term):
                        reg = sum(TAG_WEIGHT[t] for t in set(tags) if t in REGIONAL)
                        sense.append((term, sense_score + reg, idx))
                    idx += 1
            if sense:
                out[head.lower()].append(sense)
                heads.setdefault(head.lower(), head)
                exact[head].append(sense)
    return dict(out), heads, dict(exact)


def _all_stop(term: str) -> bool:
    """Function words only ("as of"), or a fragment ending in one ("board of")."""
    from lsn_assistant.translate import STOP_DE, STOP_EN

    words = [w.lower() for w in term.split()]
    stop = STOP_DE | STOP_EN
    return all(w in stop for w in words) or (len(words) > 1 and words[-1] in stop)


def collect(src_dict, rev_dict, keep_case: bool = False):
    """Reverse view of the other dictionary, for the headwords of src_dict.

    -> {src_word: {tgt_head: (share, tag_score, item_index)}} where share is
    the fraction of tgt_head's senses that list src_word as a translation.
    keep_case: src_word as written ("Unternehmen"), else lower-cased.
    """
    # reverse view of the other dictionary: src-word -> {tgt head: (share, tag, pos)}
    rev: dict[str, dict[str, tuple[float, float, int]]] = defaultdict(dict)
    for thead, senses in rev_dict.items():
        n = len(senses)
        acc: dict[str, list] = {}
        for sense in senses:
            for term, tag, idx in sense:
                tl = term if keep_case else term.lower()
                a = acc.setdefault(tl, [0, -9.0, 99])
                a[0] += 1
                a[1] = max(a[1], tag)
                a[2] = min(a[2], idx)
        for tl, (cnt, tag, idx) in acc.items():
            rev[tl][thead] = (cnt / n, tag, idx)
    return rev


def rank(feats: dict[str, dict], key: str, tgt: str, zipf) -> list[str]:
    """The best MAX_TRANSLATIONS candidate terms, best first."""
    nwords = key.count(" ") + 1
    scored = []
    for tl, f in feats.items():
        if tl == key and nwords > 1:
            continue
        f["z"] = zipf(tl, tgt)
        scored.append((score(f), f["term"]))
    scored.sort(key=lambda x: (-x[0], x[1]))
    out, seen = [], set()
    for _s, term in scored:
        if term.lower() not in seen:
            seen.add(term.lower())
            out.append(term)
        if len(out) == MAX_TRANSLATIONS:
            break
    return out


def features(key: str, senses, rev_entry: dict, tgt_heads: dict) -> dict[str, dict]:
    """Candidate translations of headword `key` with their features.

    senses: the headword's senses in its own dictionary; rev_entry: the
    reverse view for the headword (see collect). -> {term_lower: feats},
    feats: term, d_share/d_tag/d_pos (direct dictionary), r_share/r_tag/r_pos
    (reverse dictionary), words. The Zipf value "z" is added by the caller.
    """
    nwords = key.count(" ") + 1
    feats: dict[str, dict] = {}
    for sense in senses:
        for term, tag, idx in sense:
            f = feats.setdefault(term.lower(), {"term": term, "d_share": 0.0, "d_tag": -9.0, "d_pos": 99})
            f["d_share"] += 1.0 / len(senses)
            f["d_tag"] = max(f["d_tag"], tag)
            f["d_pos"] = min(f["d_pos"], idx)
    for thead, (share, tag, idx) in rev_entry.items():
        if thead not in feats and thead.count(" ") + 1 > nwords:
            continue  # "Mitglieder" -/-> "untraceable members"
        f = feats.setdefault(thead, {"term": tgt_heads.get(thead, thead)})
        f["r_share"], f["r_tag"], f["r_pos"] = share, tag, idx
    for tl, f in feats.items():
        f["words"] = tl.count(" ") + 1
        f["cog"] = cognate(key, tl)
    return feats


def cognate(a: str, b: str) -> bool:
    """Same or nearly the same word in both languages (Institution /
    institution, Strategie / strategy, Technologie / technology)."""
    if a == b:
        return True
    if " " in a or " " in b or len(a) < 4 or len(b) < 4 or a[:3] != b[:3]:
        return False
    return SequenceMatcher(None, a, b).ratio() >= 0.75


def build(args) -> None:
    import pickle

    from wordfreq import zipf_frequency

    cache = Path(args.cache) if args.cache else None
    if cache and cache.exists():
        dicts, heads, exact = pickle.loads(cache.read_bytes())
    else:
        dicts, heads, exact = {}, {}, {}
        dicts["de"], heads["de"], exact["de"] = parse_dict("freedict-deu-eng")
        dicts["en"], heads["en"], exact["en"] = parse_dict("freedict-eng-deu")
        if cache:
            cache.write_bytes(pickle.dumps((dicts, heads, exact)))
    for lang in ("de", "en"):
        print(f"{lang}: {len(dicts[lang])} headwords parsed", file=sys.stderr)

    zc: dict[tuple[str, str], float] = {}

    def zipf(t: str, lang: str) -> float:
        k = (t, lang)
        if k not in zc:
            zc[k] = zipf_frequency(t, lang)
        return zc[k]

    lexicon: dict[str, dict[str, list[str]]] = {"de": {}, "en": {}}
    for src, tgt in (("de", "en"), ("en", "de")):
        rev = collect(dicts[src], dicts[tgt])
        for key in set(dicts[src]) | set(rev):
            nwords = key.count(" ") + 1
            # multiword headwords: only the dictionary's own headwords (the
            # reverse side has countless free phrases), and only frequent ones
            if nwords > 1 and key not in dicts[src]:
                continue
            hz = zipf(key, src)
            if hz < (args.min_zipf_single if nwords == 1 else args.min_zipf_multi):
                continue
            feats = features(key, dicts[src].get(key, []), rev.get(key, {}), heads[tgt])
            out = rank(feats, key, tgt, zipf)
            if not out:
                continue
            if nwords > 1 and hz < args.keep_zipf_multi and not any(
                " " not in t and zipf(t.lower(), tgt) >= args.min_zipf_single for t in out[:2]
            ):
                # a free phrase: word-by-word translation does as well; keep
                # only lexicalised units that map to one word (usually a
                # German compound: "medical technology" -> "Medizintechnik")
                continue
            lexicon[src][key] = out
    # German noun/verb homographs (Unternehmen / unternehmen, Leben / leben):
    # an extra case-sensitive entry for the noun, which run-time lookup of a
    # capitalised word (and of compound parts) tries first
    rev_cased = collect(dicts["de"], dicts["en"], keep_case=True)
    n_nouns = 0
    for key in [k for k in lexicon["de"] if " " not in k]:
        cap = key[:1].upper() + key[1:]
        if cap == key or cap not in exact["de"] or key not in exact["de"]:
            continue
        feats = features(key, exact["de"][cap], rev_cased.get(cap, {}), heads["en"])
        out = rank(feats, key, "en", zipf)
        if out and out != lexicon["de"][key]:
            lexicon["de"][cap] = out
            n_nouns += 1
    print(f"de: {n_nouns} noun entries for noun/verb homographs", file=sys.stderr)
    # inflected forms (Mitglieder, dämpfte, cooks) whose lemma is in the
    # lexicon are found through simplemma at run time: keep only frequent ones
    import simplemma

    for src in ("de", "en"):
        drop = []
        for key in lexicon[src]:
            if " " in key or key != key.lower() or zipf(key, src) >= args.keep_zipf_inflected:
                continue
            cands = {simplemma.lemmatize(key, lang=src).lower()}
            if src == "de":
                cands.add(simplemma.lemmatize(key[:1].upper() + key[1:], lang="de").lower())
            if any(c != key and c in lexicon[src] for c in cands):
                drop.append(key)
        for key in drop:
            del lexicon[src][key]
        print(f"{src}: dropped {len(drop)} rare inflected forms", file=sys.stderr)
    for src, key, trans in SUPPLEMENT:
        merged = trans + [t for t in lexicon[src].get(key, []) if t.lower() not in {x.lower() for x in trans}]
        lexicon[src][key] = merged[:MAX_TRANSLATIONS]

    if args.check:
        check(lexicon)
    if args.dry_run:
        return
    version = _pkg_versions()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(OUT, "wt", encoding="utf-8", compresslevel=9) as fh:
        fh.write("# LSN Assistant bilingual lexicon (German<->English), generated by scripts/build_lexicon.py\n")
        fh.write(f"# source: FreeDict deu-eng + eng-deu 1.9-fd1 (from Ding 1.9), Debian packages {version}\n")
        fh.write("# licence: GPL-3.0-or-later (FreeDict deu-eng/eng-deu, (C) 1995-2022 Frank Richter, "
                 "2020-2022 Einhard Leichtfuss, 2021 Sebastian Humenda); derived data; see LEXICON.md\n")
        fh.write(f"# ranking: wordfreq Zipf + bidirectional agreement + sense tags; "
                 f"min_zipf_single={args.min_zipf_single} min_zipf_multi={args.min_zipf_multi}\n")
        for src, tgt in (("de", "en"), ("en", "de")):
            fh.write(f"@{src}-{tgt}\n")
            for key in sorted(lexicon[src]):
                fh.write(f"{key}\t{'|'.join(lexicon[src][key])}\n")
    print(
        f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB): "
        f"de-en {len(lexicon['de'])} headwords, en-de {len(lexicon['en'])} headwords",
        file=sys.stderr,
    )


def score(f: dict) -> float:
    """Translation score of one candidate (higher is better).

    Roughly log P(t) + log P(h | t): general frequency of the translation t
    (Zipf, log10 scale) plus the share of t's senses in the reverse
    dictionary that translate back to the headword h, with corrections for
    sense tags and item position. Weights W were chosen on the generic
    calibration list CHECK below (see --check), not on evaluation questions.
    """
    s = W["z"] * f["z"] - (W["unknown"] if f["z"] == 0.0 else 0.0)
    has_d, has_r = "d_share" in f, "r_share" in f
    if has_d:
        s += W["tag"] * f["d_tag"] + (W["first"] if f["d_pos"] == 0 else -W["pos"] * min(f["d_pos"], 5))
    if has_r:
        s += W["r_share"] * math.log10(f["r_share"])
        if not has_d:
            s += W["tag"] * f["r_tag"] - W["rev_only"]
        if f["r_pos"] == 0:
            s += W["r_first"]
    else:
        s -= W["no_rev"]
    s -= W["words"] * (f["words"] - 1)
    if f.get("cog"):
        s += W["cognate"]
    return s


W = {"z": 1.0, "unknown": 1.0, "tag": 0.5, "first": 0.5, "pos": 0.1, "r_share": 0.5,
     "rev_only": 0.5, "r_first": 0.3, "no_rev": 2.0, "words": 0.6, "cognate": 0.5}

# A generic calibration list (NOT taken from the evaluation questions):
# headword -> acceptable best translations. Used by --check to report the
# top-1 / top-3 accuracy of the ranking.
CHECK = {
    "en": {
        "member": "Mitglied", "event": "Veranstaltung|Ereignis", "boat": "Boot|Schiff",
        "investor": "Investor|Anleger", "university": "Universität|Hochschule",
        "training": "Ausbildung|Schulung|Weiterbildung|Training", "research": "Forschung",
        "funding": "Förderung|Finanzierung|Fördermittel", "company": "Unternehmen|Firma",
        "network": "Netzwerk|Netz", "hospital": "Krankenhaus|Klinik", "health": "Gesundheit",
        "industry": "Industrie|Branche|Wirtschaft", "strategy": "Strategie", "goal": "Ziel",
        "partner": "Partner", "cooperation": "Zusammenarbeit|Kooperation", "region": "Region",
        "employee": "Mitarbeiter|Arbeitnehmer|Beschäftigter|Angestellter",
        "workshop": "Workshop|Werkstatt|Seminar", "support": "Unterstützung|Förderung|unterstützen",
        "device": "Gerät|Vorrichtung", "measure": "Maßnahme|Maß|messen", "government": "Regierung",
        "education": "Bildung|Ausbildung", "application": "Anwendung|Antrag|Bewerbung",
        "project": "Projekt|Vorhaben", "success": "Erfolg", "growth": "Wachstum", "market": "Markt",
        "patient": "Patient", "medicine": "Medizin|Arznei|Medikament", "drug": "Medikament|Arzneimittel|Droge",
        "development": "Entwicklung", "product": "Produkt|Erzeugnis", "job": "Arbeitsplatz|Stelle|Job|Arbeit",
        "shortage": "Mangel|Knappheit", "budget": "Budget|Haushalt|Etat", "money": "Geld",
        "area": "Bereich|Gebiet|Fläche", "task": "Aufgabe", "science": "Wissenschaft",
        "knowledge": "Wissen|Kenntnis", "law": "Gesetz|Recht", "standard": "Standard|Norm",
        "approval": "Zulassung|Genehmigung|Zustimmung", "laboratory": "Labor|Laboratorium", "city": "Stadt",
        "country": "Land", "meeting": "Treffen|Sitzung|Besprechung|Versammlung",
        "conference": "Konferenz|Tagung", "trade fair": "Messe", "booth": "Stand", "survey": "Umfrage|Befragung|Erhebung",
        "result": "Ergebnis", "increase": "Erhöhung|Zunahme|Anstieg|erhöhen|steigern",
        "offer": "Angebot|anbieten", "promote": "fördern", "work": "Arbeit|arbeiten",
        "companies": "Unternehmen|Firmen", "members": "Mitglieder", "universities": "Universitäten|Hochschulen",
        "events": "Veranstaltungen|Ereignisse", "location": "Standort|Ort|Lage", "sales": "Umsatz|Verkauf|Absatz",
        "share": "Anteil|teilen", "competition": "Wettbewerb|Konkurrenz", "founding": "Gründung",
        "health care": "Gesundheitswesen|Gesundheitsversorgung", "medical technology": "Medizintechnik",
        "skilled workers": "Fachkräfte|Facharbeiter", "state": "Staat|Land|Zustand|Bundesland",
    },
    "de": {
        "mitglied": "member", "veranstaltung": "event", "schiff": "ship|boat",
        "hochschule": "university|college", "weiterbildung": "further education|training|continuing education",
        "forschung": "research", "förderung": "funding|support|promotion",
        "unternehmen": "company|enterprise|business", "netzwerk": "network", "gesundheit": "health",
        "wirtschaft": "economy|industry|business", "ziel": "goal|target|aim|objective",
        "zusammenarbeit": "cooperation|collaboration|co-operation", "beschäftigte": "employees|employee",
        "messe": "fair|trade fair|trade show", "gründung": "founding|foundation|establishment|start-up",
        "maßnahme": "measure", "land": "country|state|land", "bund": "federal government|federation|federal",
        "bildung": "education", "stand": "stand|booth|state|status|level", "ausrichtung": "orientation|focus|alignment",
        "entwicklung": "development", "wachstum": "growth", "markt": "market",
        "arzneimittel": "drug|medicine|medicinal product|pharmaceutical|medication",
        "fachkräfte": "skilled workers|professionals|specialists|skilled staff",
        "arbeitsplatz": "job|workplace", "standort": "location|site", "anteil": "share|proportion|part",
        "umsatz": "turnover|sales|revenue", "vorstand": "board|executive board|management board",
        "zulassung": "approval|admission|authorization|licence|registration", "verordnung": "regulation|ordinance",
        "aufgabe": "task|job|function", "wissen": "knowledge", "erfolg": "success", "wettbewerb": "competition",
        "antrag": "application|proposal|request", "kooperation": "cooperation|co-operation",
        "krankenhaus": "hospital", "klinik": "clinic|hospital", "labor": "laboratory|lab", "stadt": "city|town",
        "bundesland": "federal state|state", "sitzung": "meeting|session", "tagung": "conference|meeting",
        "umfrage": "survey|poll", "ergebnis": "result|outcome", "angebot": "offer|supply|range",
        "fördern": "promote|support|fund|foster", "gewinnen": "win|gain|attract|recruit",
        "entwickeln": "develop", "vermarktung": "marketing|commercialization|commercialisation",
        "mitglieder": "members", "hochschulen": "universities|colleges",
        "investoren": "investors", "veranstaltungen": "events", "medizintechnik": "medical technology|medtech",
        "gesundheitswesen": "health care|healthcare|health system", "handlungsfeld": "field of action|field of activity|area of action",
    },
}


def check(lexicon) -> None:
    for src, gold in CHECK.items():
        top1 = top3 = 0
        misses = []
        for key, ok in gold.items():
            okset = {o.lower() for o in ok.split("|")}
            got = [t.lower() for t in lexicon[src].get(key, [])]
            if got[:1] and got[0] in okset:
                top1 += 1
            if okset & set(got[:3]):
                top3 += 1
            else:
                misses.append(f"{key}->{'|'.join(got[:3])}")
        n = len(gold)
        print(f"check {src}: top1 {top1}/{n}  top3 {top3}/{n}", file=sys.stderr)
        print("  top3 misses: " + "; ".join(misses), file=sys.stderr)


def _pkg_versions() -> str:
    out = []
    for pkg in ("dict-freedict-deu-eng", "dict-freedict-eng-deu"):
        try:
            v = subprocess.run(
                ["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True, check=True
            ).stdout.strip()
        except Exception:
            v = "unknown"
        out.append(f"{pkg}={v}")
    return " ".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--min-zipf-single", type=float, default=1.7,
                    help="keep single-word headwords with wordfreq Zipf >= this (0 keeps all)")
    ap.add_argument("--min-zipf-multi", type=float, default=2.5,
                    help="keep multiword headwords with wordfreq Zipf >= this")
    ap.add_argument("--keep-zipf-multi", type=float, default=4.5,
                    help="keep multiword headwords this frequent even without a one-word translation")
    ap.add_argument("--keep-zipf-inflected", type=float, default=3.0,
                    help="keep inflected forms with a known lemma only when this frequent")
    ap.add_argument("--check", action="store_true", help="print ranking accuracy on a generic calibration list")
    ap.add_argument("--dry-run", action="store_true", help="do not write the lexicon")
    ap.add_argument("--cache", default="", help="pickle file caching the parsed dictionaries (speeds up reruns)")
    args = ap.parse_args()
    if not (DICT_DIR / "freedict-deu-eng.index").exists():
        sys.exit("FreeDict not installed: apt-get install dict-freedict-deu-eng dict-freedict-eng-deu")
    try:
        import wordfreq  # noqa: F401
    except ImportError:
        sys.exit("build needs wordfreq: python3 -m pip install --target /tmp/lexdeps wordfreq; "
                 "then PYTHONPATH=/tmp/lexdeps")
    build(args)


if __name__ == "__main__":
    main()
