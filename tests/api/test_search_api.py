"""POST /api/search (api/routes/answers.py) through FastAPI's TestClient, on
one small index of real excerpts (the ``index`` and ``client`` fixtures of
tests/api/conftest.py): the documented response shape, filters, and bad
requests that must get a 4xx with a JSON ``detail`` (never a 500)."""

from __future__ import annotations

import pytest

from search_index import client, index  # noqa: F401 - the fixtures


STRATEGY_EN = "lsn-cluster-strategy-2024-en.txt"
STRATEGY_2030 = "lsn-strategie-2030-de.txt"
RESULT_KEYS = {"rank", "score", "chunk_id", "doc", "title", "page", "section", "lang", "text"}


def post(client, body):
    return client.post("/api/search", json=body)


# ---- the happy path


def test_search_returns_the_documented_shape(client):
    r = post(client, {"query": "Wie wird die Sichtbarkeit von LSN erhöht?", "k": 2})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"results"}
    results = body["results"]
    assert len(results) == 2
    for res in results:
        assert RESULT_KEYS <= set(res)
        assert isinstance(res["score"], float) and isinstance(res["text"], str) and res["text"]
        assert res["page"] is None or isinstance(res["page"], int)
    assert [res["rank"] for res in results] == [1, 2]
    assert results[0]["score"] >= results[1]["score"]
    assert results[0]["doc"] == STRATEGY_2030
    assert results[0]["title"] == "LSN Strategie 2030 (web text)"
    assert results[0]["lang"] == "de"
    assert "Sichtbarkeit" in results[0]["text"]
    assert all(isinstance(res["section"], str) for res in results)


def test_search_ranks_the_matching_passage_first(client):
    r = post(client, {"query": "Wie wird die Sichtbarkeit von LSN erhöht?", "k": 2})
    assert r.json()["results"][0]["doc"] == STRATEGY_2030


def test_k_defaults_and_limits(client):
    r = post(client, {"query": "Life Science Nord"})
    assert r.status_code == 200
    assert 1 <= len(r.json()["results"]) <= 10
    r = post(client, {"query": "Life Science Nord", "k": 1})
    assert len(r.json()["results"]) == 1


@pytest.mark.parametrize(
    "filters, expected",
    [
        ({"lang": ["en"]}, {STRATEGY_EN}),
        ({"doc": [STRATEGY_2030]}, {STRATEGY_2030}),
        ({"year": [2019]}, {STRATEGY_EN}),
        ({"year": [2025], "lang": ["de"]}, {STRATEGY_2030}),
        ({"doc": [STRATEGY_EN], "lang": ["de"]}, set()),
        ({"year": [1999]}, set()),
        ({"doc": None, "lang": [], "year": None}, {STRATEGY_EN, STRATEGY_2030}),
    ],
)
def test_filters_in_the_body(client, filters, expected):
    r = post(client, {"query": "Life Science Nord stakeholders Sichtbarkeit", "k": 10, "filters": filters})
    assert r.status_code == 200, r.text
    assert {res["doc"] for res in r.json()["results"]} == expected


# ---- bad requests: 4xx with a JSON detail, never a 500


def assert_client_error(r, status=None, mentions=None):
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    if status is not None:
        assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    detail = r.json()["detail"]
    assert detail
    if mentions:
        assert mentions in str(detail), detail
    return detail


@pytest.mark.parametrize("query", ["", "   ", "\n"])
def test_empty_query(client, query):
    assert_client_error(post(client, {"query": query}), 400, "empty")


def test_huge_query(client):
    assert_client_error(post(client, {"query": "Clustermanagement " * 500}), mentions="too long")


@pytest.mark.parametrize("k", [0, -5, 101, "abc", 2.5, None])
def test_bad_k(client, k):
    assert_client_error(post(client, {"query": "Life Science Nord", "k": k}), 422)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"k": 3},
        {"query": None},
        {"query": 42},
        {"query": ["Life", "Science"]},
    ],
)
def test_missing_or_mistyped_query(client, body):
    assert_client_error(post(client, body), 422)


@pytest.mark.parametrize(
    "raw",
    [b'{"query": "Life Science Nord",', b"query=Life+Science", b"", b"[]", b'"Life Science Nord"', b"\xff\xfe"],
)
def test_invalid_json_body(client, raw):
    r = client.post("/api/search", content=raw, headers={"content-type": "application/json"})
    assert_client_error(r, 422)


def test_unknown_filter_key(client):
    detail = assert_client_error(post(client, {"query": "Life Science Nord", "filters": {"author": ["x"]}}), 422)
    assert "author" in str(detail)


def test_unknown_top_level_key(client):
    detail = assert_client_error(post(client, {"query": "Life Science Nord", "top_k": 3}), 422)
    assert "top_k" in str(detail)


@pytest.mark.parametrize(
    "filters",
    [{"year": ["neunzehn"]}, {"doc": "not-a-list.txt"}, {"lang": [1, 2]}, "en", ["en"]],
)
def test_mistyped_filters(client, filters):
    assert_client_error(post(client, {"query": "Life Science Nord", "filters": filters}), 422)


def test_absurd_year_is_no_server_error(client):
    r = post(client, {"query": "Life Science Nord", "filters": {"year": [10**30]}})
    assert r.status_code < 500, r.text


def test_wrong_method_and_path(client):
    assert client.get("/api/search").status_code == 405
    assert client.post("/api/nothing", json={"query": "x"}).status_code == 404


