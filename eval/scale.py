"""Scale corpora: 10× and 100× the real corpus, made from its chunks.

    python -m eval.scale --source-data data            # 1× (as it is), 10× ingested, 100× synthesized
    python -m eval.scale --source-data data --factors 2 5 --ingest-up-to 2 --repeat 1   # a quick look

Copy 0 of a scaled corpus is the corpus's chunks as they are; every further
copy is each document again under a name of its own (``{stem}-x{copy:03d}.txt``, title
"... (copy n)"), its text perturbed so that no chunk repeats: per document and
language, the sentences of its chunks are shuffled across those chunks (each
chunk keeps its heading and its number of sentences), and every number is
replaced by another with as many digits.

How each figure is measured (the table and the JSON say which applies):

- ``ingest``: the scaled corpus is written as text files with a manifest and
  ingested for real (``ingest()``, into a temporary data dir; the models are
  loaded before the clock starts): wall seconds, chunks/s;
- ``synthesized`` (above ``--ingest-up-to``; embedding 100× = ~20,600 chunks with
  e5 and USE takes hours on 2 cores): the perturbed chunks go into Chroma
  directly, each with its source chunk's vectors plus Gaussian noise (cosine
  about 0.9 to the source). The index (Chroma, HNSW, BM25) is as large as an
  ingested one and searched the same way, but no text was embedded: its
  ingest time is an estimate from the largest measured ingest's chunks/s.
  Where a size is ingested for real, a synthesized twin is searched as well,
  as a check that synthesized vectors search as fast as embedded ones;
- at 1× the source index is searched as it is; its ingest figure is bench's
  first ingest when run from `make bench` (none when run alone);
- search latency: ``perf.common.bench_search`` at 1× and at each size: every dev-set
  question once to warm up, then ``--repeat`` rounds.
  Target: at 100× the search p95 at most 2× the 1× figure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from ingest.chunk import make_chunk_id
from ingest.pipeline import ingest
from lsn_assistant.config import Settings, get_settings
from lsn_assistant.embeddings import get_embedder
from lsn_assistant.store import ChunkStore
from lsn_assistant.text import sentence_spans
from lsn_assistant.types import Chunk

from .perf.common import bench_search, default_queries, load_questions, machine_info, memory

DEFAULT_OUT = Path("bench/results-scale.json")
NOISE = 0.5  # norm of the noise relative to the unit vector: cosine ~ 1/sqrt(1 + NOISE^2) = 0.89
UPSERT_BATCH = 1000
RATIO_TARGET = 2.0  # search p95 at 100× / at 1×

_NUMBER = re.compile(r"\d+")


# ---------------------------------------------------------------- the corpora


def copy_name(doc: str, copy: int) -> str:
    return f"{Path(doc).stem}-x{copy:03d}.txt"


def heading_and_body(chunk: Chunk) -> tuple[str, str]:
    """A chunk's text split into the heading it opens with (if its section's
    own heading stands first, as the chunker leaves it) and the rest."""
    heading = chunk.section.rsplit(" > ", 1)[-1]
    first, _, rest = chunk.text.partition("\n\n")
    if heading and rest and " ".join(first.lstrip("#").split()) == heading:
        return first, rest
    return "", chunk.text


def swap_numbers(text: str, rng: random.Random) -> str:
    """Every number replaced by a random one with as many digits."""

    def other(m: re.Match) -> str:
        n = len(m.group(0))
        first = str(rng.randint(1, 9)) if n > 1 else str(rng.randint(0, 9))
        return first + "".join(str(rng.randint(0, 9)) for _ in range(n - 1))

    return _NUMBER.sub(other, text)


def perturb(chunks: list[Chunk], copy: int, seed: int = 0) -> list[Chunk]:
    """Copy ``copy`` of the chunks: a document name of its own, sentences
    shuffled across the chunks of the same document and language, numbers swapped."""
    rng = random.Random(f"{seed}:{copy}")
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, c in enumerate(chunks):
        groups[(c.doc, c.lang)].append(i)
    texts = [c.text for c in chunks]
    for members in groups.values():
        parts = []
        for i in members:
            heading, body = heading_and_body(chunks[i])
            parts.append((heading, [body[a:b] for a, b in sentence_spans(body, chunks[i].lang)] or [body]))
        pool = [s for _, sents in parts for s in sents]
        rng.shuffle(pool)
        for i, (heading, sents) in zip(members, parts):
            body = swap_numbers(" ".join(pool[: len(sents)]), rng)
            del pool[: len(sents)]
            texts[i] = f"{heading}\n\n{body}" if heading else body
    out = []
    for c, text in zip(chunks, texts):
        doc = copy_name(c.doc, copy)
        out.append(Chunk(
            chunk_id=make_chunk_id(doc, c.section, text, 0),
            doc=doc,
            text=text,
            title=f"{c.title} (copy {copy})",
            page=c.page,
            section=c.section,
            lang=c.lang,
            year=c.year,
            position=c.position,
            doc_hash=hashlib.sha256(doc.encode()).hexdigest()[:32],
            kind=c.kind,
        ))
    return out


def scaled_chunks(chunks: list[Chunk], factor: int, seed: int = 0) -> list[Chunk]:
    """The chunks as they are (copy 0) and ``factor - 1`` perturbed copies."""
    out = list(chunks)
    for copy in range(1, factor):
        out.extend(perturb(chunks, copy, seed))
    return out


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


def write_corpus(chunks: list[Chunk], folder: Path) -> int:
    """The chunks as one text file per document (headings as Markdown headings,
    then each chunk's text as a paragraph) with a manifest; returns the file count."""
    folder.mkdir(parents=True, exist_ok=True)
    docs: dict[str, list[Chunk]] = defaultdict(list)
    for c in chunks:
        if c.kind == "passage":  # ingest makes the entries again from the passages
            docs[c.doc].append(c)
    manifest = []
    for doc, members in docs.items():
        members.sort(key=lambda c: c.position)
        blocks: list[str] = []
        path: list[str] = []
        for c in members:
            section = c.section.split(" > ") if c.section else []
            same = 0
            while same < min(len(path), len(section)) and path[same] == section[same]:
                same += 1
            blocks.extend("#" * (level + 1) + " " + section[level] for level in range(same, len(section)))
            path = section
            blocks.append(heading_and_body(c)[1])
        name = Path(doc).with_suffix(".txt").name
        (folder / name).write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
        lang = Counter(c.lang for c in members).most_common(1)[0][0]
        entry = [f"[documents.{_toml_str(name)}]", f"title = {_toml_str(members[0].title)}", f"lang = {_toml_str(lang)}"]
        if members[0].year is not None:
            entry.append(f"year = {members[0].year}")
        manifest.append("\n".join(entry))
    (folder / "manifest.toml").write_text("\n\n".join(manifest) + "\n", encoding="utf-8")
    return len(docs)


def duplicate_texts(chunks: list[Chunk]) -> int:
    """How many chunks repeat the text of an earlier one."""
    return len(chunks) - len({c.text for c in chunks})


# ---------------------------------------------------------------- building indexes


def ingest_corpus(folder: Path, settings: Settings, progress: bool = True) -> dict[str, Any]:
    """A real ingest of the folder into ``settings.data_dir``, timed (models loaded first)."""
    for name in settings.embedders:
        get_embedder(name, settings.embed_threads).model
    t = time.perf_counter()
    report = ingest([folder], settings=settings, store=ChunkStore(settings), prune=True, progress=progress)
    seconds = time.perf_counter() - t
    chunks = sum(f.chunks for f in report.files)
    return {
        "measured": True,
        "seconds": round(seconds, 2),
        "chunks": chunks,
        "embedded": report.embedded,
        "chunks_per_s": round(chunks / seconds, 3),
        "failed": [f.doc for f in report.failed],
    }


def noisy(vectors: np.ndarray, rng: np.random.Generator, sigma: float = NOISE) -> np.ndarray:
    """Unit vectors near the given ones: add noise of norm ~sigma, renormalise."""
    v = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    v = v + rng.normal(scale=sigma / np.sqrt(v.shape[1]), size=v.shape)
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def synthesize_index(
    source: ChunkStore, chunks: list[Chunk], n_source: int, settings: Settings, seed: int = 0
) -> dict[str, Any]:
    """Write scaled chunks into a fresh store without embedding: the first
    ``n_source`` are the source chunks with their own vectors, every other one
    gets its source chunk's vectors (same position in its copy) plus noise."""
    store = ChunkStore(settings)
    rng = np.random.default_rng(seed)
    n_chunks = Counter(c.doc for c in chunks)
    cosines = []
    t = time.perf_counter()
    for emb in settings.embedders:
        got = source.vectors(emb, [c.chunk_id for c in chunks[:n_source]])
        base = np.asarray([got[c.chunk_id] for c in chunks[:n_source]], dtype=np.float32)
        for start in range(0, len(chunks), UPSERT_BATCH):
            part = chunks[start : start + UPSERT_BATCH]
            rows = np.arange(start, start + len(part)) % n_source
            vecs = base[rows].copy()
            copied = np.arange(start, start + len(part)) >= n_source
            if copied.any():
                vecs[copied] = noisy(base[rows[copied]], rng)
                unit = base[rows[copied]] / np.linalg.norm(base[rows[copied]], axis=1, keepdims=True)
                cosines.extend(np.sum(unit * vecs[copied], axis=1).tolist())
            store.upsert(emb, part, vecs, n_chunks)
    return {
        "measured": False,
        "build_s": round(time.perf_counter() - t, 2),
        "chunks": store.count(),
        "noise": NOISE,
        "cosine_to_source": round(float(np.mean(cosines)), 3) if cosines else None,
    }


# ---------------------------------------------------------------- the run


def _scaled_settings(base: Settings, data_dir: Path) -> Settings:
    return base.model_copy(update={"data_dir": data_dir, "chroma_url": None})


def _source_build(first_ingest: dict[str, Any] | None) -> dict[str, Any]:
    """The 1× row's ingest figure: bench's first ingest without its model load."""
    if not first_ingest or first_ingest.get("skipped") or first_ingest["chunks"] != first_ingest["index_size"]:
        return {"measured": None}
    seconds = first_ingest["seconds_excl_model_load"]
    return {"measured": True, "seconds": seconds, "chunks": first_ingest["chunks"],
            "chunks_per_s": round(first_ingest["chunks"] / seconds, 3), "embedded": first_ingest["embedded"],
            "failed": [f["doc"] for f in first_ingest["failed"]], "note": "bench's first ingest, excl. model load"}


def _size_row(factor: int, method: str, build: dict[str, Any], search: dict[str, Any]) -> dict[str, Any]:
    return {"factor": factor, "method": method, "chunks": search["index_size"], "build": build, "search": search}


def run_scale(
    source_settings: Settings,
    questions: list[str],
    *,
    factors: tuple[int, ...] = (10, 100),
    ingest_up_to: int = 10,
    repeat: int = 3,
    k: int | None = None,
    workdir: Path | None = None,
    keep_data: bool = False,
    progress: bool = True,
    seed: int = 0,
    source_ingest: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Search latency at 1× (the source index) and at each factor, with the
    ingest time of each size (measured up to ``ingest_up_to``, else estimated).
    ``source_ingest``: the source's own first ingest as bench measured it (its
    1× ingest figure, and the basis of estimates when no size is ingested)."""
    source = ChunkStore(source_settings)
    chunks = source.all_chunks()
    if not chunks:
        raise SystemExit(f"{source.location} holds no index: ingest first")
    root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="lsn-scale-"))
    result: dict[str, Any] = {"source": source.location, "source_chunks": len(chunks), "workdir": str(root),
                              "seed": seed, "repeat": repeat, "sizes": []}
    try:
        _say(progress, f"search at 1× ({len(chunks)} chunks) ...")
        build = _source_build(source_ingest)
        result["sizes"].append(_size_row(1, "source index", build,
                                         bench_search(source_settings, questions, repeat=repeat, k=k)))
        ingest_cps = build.get("chunks_per_s")
        for factor in sorted(factors):
            scaled = scaled_chunks(chunks, factor, seed)
            dups = duplicate_texts(scaled)
            if factor <= ingest_up_to:
                _say(progress, f"{factor}×: writing and ingesting {len(scaled)} chunks ...")
                settings = _scaled_settings(source_settings, root / f"x{factor:03d}" / "data")
                files = write_corpus(scaled, root / f"x{factor:03d}" / "corpus")
                build = {**ingest_corpus(root / f"x{factor:03d}" / "corpus", settings, progress), "files": files}
                ingest_cps = build["chunks_per_s"]
                row = _size_row(factor, "ingest", build, bench_search(settings, questions, repeat=repeat, k=k))
                row["duplicate_texts"] = dups
                result["sizes"].append(row)
            _say(progress, f"{factor}×: synthesizing an index of {len(scaled)} chunks ...")
            settings = _scaled_settings(source_settings, root / f"x{factor:03d}-synth" / "data")
            build = synthesize_index(source, scaled, len(chunks), settings, seed)
            if ingest_cps:
                build["estimated_ingest_s"] = round(len(scaled) / ingest_cps, 1)
                build["estimated_from_chunks_per_s"] = ingest_cps
            method = "synthesized (check)" if factor <= ingest_up_to else "synthesized"
            row = _size_row(factor, method, build, bench_search(settings, questions, repeat=repeat, k=k))
            row["duplicate_texts"] = dups
            result["sizes"].append(row)
    finally:
        if not keep_data and not workdir:
            shutil.rmtree(root, ignore_errors=True)
    base_p95 = result["sizes"][0]["search"]["total"]["p95"]
    for row in result["sizes"]:
        row["search_p95_ratio"] = round(row["search"]["total"]["p95"] / base_p95, 3)
    result["target"] = scale_target(result)
    return result


def scale_target(result: dict[str, Any]) -> dict[str, Any]:
    """Search p95 at the largest size (100× by default) / at 1×: at most 2."""
    top = max(result["sizes"], key=lambda r: (r["factor"], r["method"] == "ingest"))
    ratio = top["search_p95_ratio"]
    return {"name": "scale_search_p95_ratio", "what": f"search p95 at {top['factor']}× / at 1×",
            "limit": RATIO_TARGET, "unit": "×", "value": ratio, "pass": ratio <= RATIO_TARGET,
            "factor": top["factor"], "method": top["method"]}


def format_table(result: dict[str, Any]) -> str:
    lines = [f"  scale: search over the dev-set questions, warm-up + {result['repeat']} rounds; "
             f"copies of {result['source_chunks']} source chunks",
             f"    {'size':<6}{'chunks':>7}  {'index':<20}{'ingest / build':<40}{'open s':>7}"
             f"{'p50':>8}{'p95':>8}{'p99':>8}  ms  p95/1×"]
    for row in result["sizes"]:
        b, s = row["build"], row["search"]
        if b.get("measured"):
            how = f"ingest {b['seconds']:.0f} s, {b['chunks_per_s']:.2f} chunks/s"
        elif b.get("measured") is False:
            est = f", ingest ~{b['estimated_ingest_s']:.0f} s (est.)" if b.get("estimated_ingest_s") else ""
            how = f"Chroma write {b['build_s']:.0f} s{est}"
        else:
            how = "-"
        t = s["total"]
        lines.append(f"    {str(row['factor']) + '×':<6}{row['chunks']:>7}  {row['method']:<20}{how:<40}"
                     f"{s['open_s']:>7.1f}{t['p50']:>8.1f}{t['p95']:>8.1f}{t['p99']:>8.1f}      "
                     f"{row['search_p95_ratio']:.2f}")
    tg = result["target"]
    lines.append(f"    target: {tg['what']} ≤ {tg['limit']:g}: {tg['value']:.2f} {'PASS' if tg['pass'] else 'FAIL'}"
                 f" ({tg['method']})")
    return "\n".join(lines)


def _say(on: bool, msg: str) -> None:
    if on:
        print(f"[scale] {msg}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m eval.scale", description=__doc__.split("\n\n")[0])
    p.add_argument("--source-data", type=Path, default=None,
                   help="Data dir of the ingested corpus the copies are made from (default: LSN_DATA_DIR, ./data); "
                        "only read")
    p.add_argument("--factors", type=int, nargs="+", default=[10, 100], help="Sizes as multiples of the corpus")
    p.add_argument("--ingest-up-to", type=int, default=10,
                   help="Ingest sizes up to this factor for real; larger ones are synthesized")
    p.add_argument("--queries", type=Path, nargs="+", default=None,
                   help="Test sets whose questions are searched (default: eval/testsets/*.jsonl)")
    p.add_argument("--repeat", type=int, default=3, help="Timed rounds over all questions after the warm-up")
    p.add_argument("--k", type=int, default=None, help="Results per search (default: settings.search_k)")
    p.add_argument("--workdir", type=Path, default=None, help="Build the corpora and indexes here (kept)")
    p.add_argument("--keep-data", action="store_true", help="Keep the temporary work dir")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON result (default: bench/results-scale.json)")
    p.add_argument("--quiet", action="store_true", help="No progress output on stderr")
    args = p.parse_args(argv)
    if any(f < 2 for f in args.factors):
        p.error("--factors must be at least 2")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    base = get_settings()
    settings = base.model_copy(update={"data_dir": args.source_data}) if args.source_data else base
    questions = load_questions(args.queries or default_queries())
    result = {
        "machine": machine_info(),
        **run_scale(settings, questions, factors=tuple(args.factors), ingest_up_to=args.ingest_up_to,
                    repeat=args.repeat, k=args.k, workdir=args.workdir, keep_data=args.keep_data,
                    progress=not args.quiet),
        "memory": memory(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(format_table(result))
    print(f"\nwritten: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
