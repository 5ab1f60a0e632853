"""The fitted retrieval parameters (lsn_assistant/fitted.py) and the file that
scripts/fit_retrieval.py writes."""

from __future__ import annotations

import json

import pytest

from lsn_assistant.errors import ConfigError
from lsn_assistant.fitted import FITTED_FILE, FittedRetrieval, fitted


def test_the_packaged_file_loads_and_says_where_it_came_from():
    data = json.loads(FITTED_FILE.read_text(encoding="utf-8"))
    assert data["fitted_by"] == "scripts/fit_retrieval.py"
    assert data["fitted_on"]["answerable_questions"] > 0
    assert all("check" not in name for name in data["fitted_on"]["testsets"])  # train only
    p = fitted()
    assert p is fitted()  # read once
    assert p.sha256 and len(p.sha256) == 64
    assert {"dense_e5", "dense_use", "bm25"} <= set(p.weights) and p.rrf_k > 0
    written = p.to_parameters()
    assert {k: written[k] for k in data["parameters"]} == data["parameters"]
    # a knob newer than the file (the abbreviation variant's weight) runs at its default
    assert all(written[k] == FittedRetrieval().to_parameters()[k] for k in written.keys() - data["parameters"].keys())


def test_values_are_read_only():
    p = fitted()
    with pytest.raises(TypeError):
        p.weights["bm25"] = 9.0  # type: ignore[index]


def test_round_trip_and_bad_files(tmp_path):
    p = FittedRetrieval(compounds=True, part_weight=0.25, balance=0.5, rrf_k=15.0)
    path = tmp_path / "fitted.json"
    path.write_text(json.dumps({"format": 1, "parameters": p.to_parameters()}), encoding="utf-8")
    back = FittedRetrieval.load(path)
    assert back.to_parameters() == p.to_parameters() and back.sha256
    with pytest.raises(ConfigError, match="fit_retrieval.py"):
        FittedRetrieval.load(tmp_path / "missing.json")
    path.write_text(json.dumps({"format": 99, "parameters": {}}), encoding="utf-8")
    with pytest.raises(ConfigError, match="format"):
        FittedRetrieval.load(path)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match="not a valid"):
        FittedRetrieval.load(path)
