"""Retrieval parameters fitted on the train split, read from a versioned file.

``lsn_assistant/data/fitted-retrieval.json`` is written by
``scripts/fit_retrieval.py`` (never by hand): fusion weights, the RRF
constant, and the knobs of decompounding, query translation and the language
balance of BM25, together with where they came from (test sets and their
hashes, index fingerprint, the objective on train and cross-validated, and
which way of fitting was chosen). Operators' settings stay in ``Settings``;
these are properties of the method, so the retriever reads them from here and
eval manifests record the file's hash.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Iterable, Mapping

from .errors import ConfigError

FITTED_FILE = Path(__file__).resolve().parent / "data" / "fitted-retrieval.json"
FORMAT = 1
ALIAS = "+alias"  # suffix of the fused lists of the question's abbreviated variant


def _frozen(d: Mapping[str, float] | None) -> Mapping[str, float]:
    return MappingProxyType({str(k): float(v) for k, v in (d or {}).items()})


@dataclass(frozen=True)
class FittedRetrieval:
    """The values retrieval runs with. The defaults are the values set by
    hand before any fitting: the fitting script starts from them and keeps
    them when no fitted value does better on held-out questions."""

    weights: Mapping[str, float] = field(
        default_factory=lambda: _frozen({"dense_e5": 1.0, "dense_use": 0.5, "bm25": 1.0, "doc_mention": 1.0})
    )
    rrf_k: float = 10.0
    compounds: bool = True  # German compounds also index and search their parts
    part_weight: float = 0.5  # weight of a question's compound parts in BM25
    translation_weight: float = 1.0  # the question's lexical translation, for other-language chunks
    balance: float = 1.0  # other-language BM25 scores brought towards the question language's best
    # the question with the documents' own abbreviations for what it spells out
    # ("Life Science Nord" -> "LSN"): its lists count this much of the question's
    alias_weight: float = 1.0
    sha256: str = ""  # of the file read ("" for the defaults)

    @classmethod
    def from_dict(cls, data: dict, sha256: str = "") -> "FittedRetrieval":
        if data.get("format") != FORMAT:
            raise ConfigError(f"fitted retrieval parameters: format {data.get('format')!r}, expected {FORMAT}; "
                              "rerun scripts/fit_retrieval.py")
        p = data["parameters"]
        lex = p["lexical"]
        if float(p["rrf_k"]) <= 0 or any(float(w) < 0 for w in p["weights"].values()):
            raise ValueError("the RRF constant must be positive and list weights at least 0")
        return cls(
            weights=_frozen(p["weights"]),
            rrf_k=float(p["rrf_k"]),
            compounds=bool(lex["compounds"]),
            part_weight=float(lex["part_weight"]),
            translation_weight=float(lex["translation_weight"]),
            balance=float(lex["balance"]),
            alias_weight=float(p.get("alias_weight", 1.0)),
            sha256=sha256,
        )

    @classmethod
    def load(cls, path: str | Path = FITTED_FILE) -> "FittedRetrieval":
        path = Path(path)
        try:
            raw = path.read_bytes()
        except FileNotFoundError as exc:
            raise ConfigError(f"{path} is missing: reinstall the package or rerun scripts/fit_retrieval.py") from exc
        try:
            data = json.loads(raw)
            return cls.from_dict(data, hashlib.sha256(raw).hexdigest())
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{path} is not a valid fitted-parameters file ({exc}); rerun scripts/fit_retrieval.py") from exc

    def weights_for(self, lists: Iterable[str]) -> dict[str, float]:
        """The fusion weight of each list: its own, and for a list of the
        question's abbreviated variant (``name + ALIAS``) its original's times
        ``alias_weight``."""
        out = {}
        for name in lists:
            base = name[: -len(ALIAS)] if name.endswith(ALIAS) else name
            w = self.weights.get(base, 1.0)
            out[name] = w * self.alias_weight if name.endswith(ALIAS) else w
        return out

    def to_parameters(self) -> dict:
        """The ``parameters`` block of the file, as the fitting script writes it."""
        return {
            "weights": dict(self.weights),
            "rrf_k": self.rrf_k,
            "alias_weight": self.alias_weight,
            "lexical": {
                "compounds": self.compounds,
                "part_weight": self.part_weight,
                "translation_weight": self.translation_weight,
                "balance": self.balance,
            },
        }


@lru_cache(maxsize=1)
def fitted() -> FittedRetrieval:
    """The packaged fitted parameters, read once per process."""
    return FittedRetrieval.load()
