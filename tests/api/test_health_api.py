"""GET /health (api/routes/health.py) and what every route answers when the
index is empty or the Chroma server is unreachable: a 503 that says why."""

from __future__ import annotations

from fastapi.testclient import TestClient

from conftest import free_port, clean_settings
from lsn_assistant import Assistant
from lsn_assistant.api import create_app
from lsn_assistant.config import get_settings
from search_index import client, index  # noqa: F401 - the fixtures


def post(client, body):
    return client.post("/api/search", json=body)


def test_health(client, index):
    r = client.get("/health")
    assert r.status_code == 200
    h = r.json()
    assert h["status"] == "ok"
    assert h["index_size"] == Assistant.open(index).retriever.size > 0
    assert h["store"] == "embedded"


def test_empty_index_is_503_naming_lsn_ingest():
    client = TestClient(create_app(get_settings()), raise_server_exceptions=False)  # the test's empty data dir
    r = post(client, {"query": "Life Science Nord"})
    assert r.status_code == 503
    assert "lsn ingest" in r.json()["detail"]
    h = client.get("/health")  # the service is up; it reports what it holds
    assert h.status_code == 200 and h.json()["index_size"] == 0


def test_unreachable_store_is_503_with_the_reason():
    url = f"http://127.0.0.1:{free_port()}"
    settings = clean_settings(data_dir=get_settings().data_dir, chroma_url=url)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:  # runs the lifespan too
        r = post(client, {"query": "Life Science Nord"})
        assert r.status_code == 503
        assert url in r.json()["detail"]
        h = client.get("/health")
        assert h.status_code == 503
        assert h.json()["status"] == "unavailable" and url in h.json()["detail"]
