"""The fitted scorer: P(a unit holds what the question asks for), a logistic
regression fitted by ``scripts/fit_answerer.py`` on the train split's gold
quotes and kept in ``lsn_assistant/data/answer-model.json``. Inference is
numpy over that file (scikit-learn is needed only to fit it)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import LSNError
from .features import FEATURES, QUESTION_FEATURES
from .question import COUNT_WINDOW

MODEL_PATH = Path(__file__).resolve().parent.parent / "data" / "answer-model.json"


@dataclass(frozen=True)
class Thresholds:
    """Fitted on train's held-out probabilities (``scripts/fit_answerer.py``)."""

    passages: int = 6  # retrieved passages the answer draws from (a request may ask for others)
    answer: float = 0.5  # the best unit must clear this, else the answer abstains
    select: float = 0.5  # a further unit joins when it clears this ...
    relative: float = 0.5  # ... and is at least this share of the best unit's probability
    max_units: int = 3
    list_answer: float = 0.5  # a list question gets the best whole list when it clears this
    per_part: int = 0  # more units for each further part of a question ("…, und wer …?")
    max_list_units: int = 3  # units of a list question answered without a whole list
    abstain: float = 0.0  # the question model's P(the passages answer it) below which the answer abstains
    type_top: int = 0  # abstain when none of the best this many units holds the asked kind of thing (0: never)
    count_window: int = COUNT_WINDOW  # content words between a count and the counted thing, at most


@dataclass(frozen=True)
class Scorer:
    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    thresholds: Thresholds = Thresholds()
    report: dict = field(default_factory=dict)
    question: "Linear | None" = None  # P(the passages answer the question), from QUESTION_FEATURES

    def proba(self, x: np.ndarray) -> np.ndarray:
        if not len(x):
            return np.zeros(0)
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def answerable(self, q: np.ndarray) -> float:
        return 1.0 if self.question is None else float(self.question.proba(q[None, :])[0])

    @classmethod
    def from_dict(cls, d: dict) -> "Scorer":
        if tuple(d["features"]) != FEATURES:
            raise LSNError("the answer model was fitted on other features: run `python scripts/fit_answerer.py`")
        question = None
        if d.get("question"):
            if tuple(d["question"]["features"]) != QUESTION_FEATURES:
                raise LSNError("the answer model was fitted on other features: run `python scripts/fit_answerer.py`")
            question = Linear.from_dict(d["question"])
        return cls(tuple(d["features"]), np.asarray(d["scaler"]["mean"], float), np.asarray(d["scaler"]["scale"], float),
                   np.asarray(d["coef"], float), float(d["intercept"]), Thresholds(**d.get("thresholds", {})),
                   d.get("report", {}), question)

    @classmethod
    def load(cls, path: Path | None = None) -> "Scorer":
        path = Path(path or MODEL_PATH)
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise LSNError(f"no answer model at {path}: run `python scripts/fit_answerer.py`") from None

    @classmethod
    def untrained(cls) -> "Scorer":
        """A neutral stand-in (cosine and overlap only) for fitting runs before a model exists."""
        coef = np.zeros(len(FEATURES))
        coef[FEATURES.index("cos_z")] = 1.0
        coef[FEATURES.index("lex")] = 1.0
        return cls(FEATURES, np.zeros(len(FEATURES)), np.ones(len(FEATURES)), coef, 0.0)


@dataclass(frozen=True)
class Linear:
    """A standardised logistic model: the question-level one."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def proba(self, x: np.ndarray) -> np.ndarray:
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    @classmethod
    def from_dict(cls, d: dict) -> "Linear":
        return cls(np.asarray(d["scaler"]["mean"], float), np.asarray(d["scaler"]["scale"], float),
                   np.asarray(d["coef"], float), float(d["intercept"]))
