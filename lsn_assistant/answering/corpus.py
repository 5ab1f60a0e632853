"""What the answerer reads of the corpus besides the retrieved passages:
sentence vectors (cached per chunk), IDF statistics of the index, and the
source files (a quote must stand verbatim in its document)."""

from __future__ import annotations

import bisect
import hashlib
import math
import os
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from ..config import Settings
from ..embeddings import get_embedder
from ..lexical import analyze
from ..text import fold, sentence_spans
from ..types import Chunk

SPLIT_VERSION = "s2"  # bump when sentence_spans changes: cached vectors are per split


class SentenceVectors:
    """e5 passage vectors of the sentences of chunks.

    Keyed by chunk text, language and the splitter version, held in memory (a
    bounded LRU) and, when ``cache_dir`` is writable, one small ``.npz`` per
    chunk, so a process start does not embed again. Corpus-derived only.
    """

    def __init__(self, settings: Settings, cache_dir: Path | None = None, embedder: str = "e5", max_chunks: int = 20000):
        self.settings = settings
        self.embedder = embedder
        self.cache_dir = Path(cache_dir) / f"sentences-{embedder}-{SPLIT_VERSION}" if cache_dir else None
        self.max_chunks = max_chunks
        self._mem: OrderedDict[str, tuple[list[tuple[int, int]], np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()
        self._disk_ok = True

    @staticmethod
    def key(chunk: Chunk) -> str:
        h = hashlib.sha256(f"{SPLIT_VERSION}\x1f{chunk.lang}\x1f{chunk.text}".encode("utf-8"))
        return h.hexdigest()[:32]

    def _load(self, key: str) -> tuple[list[tuple[int, int]], np.ndarray] | None:
        if self.cache_dir is None:
            return None
        path = self.cache_dir / f"{key}.npz"
        try:
            with np.load(path) as z:
                spans = [tuple(map(int, s)) for s in z["spans"]]
                vecs = z["vecs"].astype(np.float32)
        except (OSError, KeyError, ValueError):
            return None
        return (spans, vecs) if len(spans) == len(vecs) else None

    def _save(self, key: str, spans, vecs: np.ndarray) -> None:
        if self.cache_dir is None or not self._disk_ok:
            return
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.cache_dir, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, spans=np.asarray(spans, dtype=np.int64).reshape(-1, 2), vecs=vecs.astype(np.float16))
            os.replace(tmp, self.cache_dir / f"{key}.npz")
        except OSError:
            self._disk_ok = False  # read-only data dir: memory only

    def get(self, chunks: list[Chunk]) -> tuple[list[tuple[list[tuple[int, int]], np.ndarray]], int]:
        """(spans, vectors) per chunk, and how many sentences had to be embedded."""
        out: list = [None] * len(chunks)
        todo: list[tuple[int, str, list[tuple[int, int]]]] = []
        for i, c in enumerate(chunks):
            key = self.key(c)
            with self._lock:
                hit = self._mem.get(key)
                if hit is not None:
                    self._mem.move_to_end(key)
            if hit is None:
                hit = self._load(key)
                if hit is not None:
                    self._remember(key, hit)
            if hit is not None:
                out[i] = hit
            else:
                todo.append((i, key, sentence_spans(c.text, c.lang)))
        texts = [chunks[i].text[a:b] for i, _, spans in todo for a, b in spans]
        embedded = len(texts)
        if texts:
            vecs = get_embedder(self.embedder, self.settings.embed_threads).embed_passages(texts)
            pos = 0
            for i, key, spans in todo:
                v = vecs[pos : pos + len(spans)]
                pos += len(spans)
                hit = (spans, v)
                out[i] = hit
                self._remember(key, hit)
                self._save(key, spans, v)
        for i, key, spans in todo:
            if not spans:
                out[i] = ([], np.zeros((0, 0), dtype=np.float32))
        return out, embedded

    def _remember(self, key: str, value) -> None:
        with self._lock:
            self._mem[key] = value
            self._mem.move_to_end(key)
            while len(self._mem) > self.max_chunks:
                self._mem.popitem(last=False)



class SourceTexts:
    """Folded text of the corpus files, to check that a quote stands in its
    document as well as in its chunk (the cleaner repairs extraction damage,
    and a sentence it spliced together is no quote). Text files only; for
    other formats, and where the file is not there, the chunk is trusted."""

    TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".text")

    def __init__(self, corpus_dir: Path | None):
        self.dir = Path(corpus_dir) if corpus_dir else None
        self._cache: dict[str, tuple[tuple[float, int], str | None]] = {}
        self._lock = threading.Lock()

    def folded(self, doc: str) -> str | None:
        if self.dir is None or not doc.lower().endswith(self.TEXT_SUFFIXES):
            return None
        path = self.dir / doc
        try:
            st = path.stat()
        except OSError:
            return None
        stamp = (st.st_mtime, st.st_size)
        with self._lock:
            hit = self._cache.get(doc)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        try:
            text = fold(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            text = None
        with self._lock:
            self._cache[doc] = (stamp, text)
        return text

    def holds(self, doc: str, quote: str) -> bool:
        text = self.folded(doc)
        return text is None or fold(quote) in text


class LexicalStats:
    """Document frequencies of stems over the index, for IDF weights."""

    def __init__(self, chunks: list[Chunk]):
        df: dict[str, int] = {}
        for c in chunks:
            for s in set(analyze(c.text, c.lang or "de")):
                df[s] = df.get(s, 0) + 1
        self.n = max(1, len(chunks))
        self.df = df
        self._sorted = sorted(df)
        self._reversed = sorted(w[::-1] for w in df)

    def known(self, stem: str) -> bool:
        """Whether the index holds the stem, alone or inside a compound
        ("mitglied" in "neumitglied", "weiterbild" in "weiterbildungsangebot")."""
        if stem in self.df:
            return True
        if len(stem) < 6:
            return False
        # a known stem is a prefix or suffix of this one
        if any(stem[:i] in self.df or stem[-i:] in self.df for i in range(6, len(stem))):
            return True
        # this stem is a prefix or suffix of a known one
        i = bisect.bisect_left(self._sorted, stem)
        if i < len(self._sorted) and self._sorted[i].startswith(stem):
            return True
        r = stem[::-1]
        i = bisect.bisect_left(self._reversed, r)
        return i < len(self._reversed) and self._reversed[i].startswith(r)

    def idf(self, stem: str) -> float:
        return math.log(1 + (self.n - self.df.get(stem, 0) + 0.5) / (self.df.get(stem, 0) + 0.5))

