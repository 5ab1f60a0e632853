"""The ChunkStore contract, run against both backends: the embedded store and a
real Chroma server started with `chroma run` on a free loopback port. Vectors
are made up here (no embedder), so this is about the store alone: writing,
reading back with provenance, nearest neighbours with filters, per-document
state for incremental ingest, deletion, the generation token, and paging past
Chroma's per-call record limit."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import lsn_assistant.store as store_module
from conftest import clean_settings, free_port, start_chroma, stop
from lsn_assistant.store import ChunkStore, where_clause
from lsn_assistant.types import Chunk

DIM = 8


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    proc = start_chroma(tmp_path_factory.mktemp("chroma-server"), port)
    yield f"http://127.0.0.1:{port}"
    stop(proc)


@pytest.fixture(params=["embedded", "server"])
def store(request, tmp_path) -> ChunkStore:
    url = request.getfixturevalue("server") if request.param == "server" else None
    prefix = f"t{zlib.crc32(request.node.name.encode())}"  # one server, fresh collections per test
    settings = clean_settings(data_dir=tmp_path / "data", chroma_url=url, collection_prefix=prefix, embedders=["e5"])
    return ChunkStore(settings)


def chunk(i: int, doc: str = "a.txt", lang: str = "de", year: int | None = 2020, page: int | None = None) -> Chunk:
    return Chunk(f"{doc}-{i}", doc, f"Text {i} of {doc}", title=f"Title {doc}", page=page, section=f"S{i}",
                 lang=lang, year=year, position=i, doc_hash="h1")


def unit(i: int) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[i % DIM] = 1.0
    return v


def test_write_read_back_with_provenance(store):
    chunks = [chunk(0, page=3), chunk(1, year=None), chunk(0, doc="b.txt", lang="en")]
    store.upsert("e5", chunks, [unit(i) for i in range(3)], {"a.txt": 2, "b.txt": 1})
    assert store.count() == 3
    back = {c.chunk_id: c for c in store.all_chunks()}
    assert back["a.txt-0"] == chunks[0] and back["a.txt-1"].year is None and back["b.txt-0"].lang == "en"
    vecs = store.vectors("e5", ["a.txt-1"])
    assert np.allclose(vecs["a.txt-1"], unit(1))


def test_nearest_neighbours_and_filters(store):
    chunks = [chunk(i, doc=d, lang=l, year=y) for i, (d, l, y) in enumerate(
        [("a.txt", "de", 2009), ("a.txt", "de", 2009), ("b.txt", "en", 2024), ("c.txt", "de", 2024)])]
    store.upsert("e5", chunks, [unit(i) for i in range(4)], {"a.txt": 2, "b.txt": 1, "c.txt": 1})
    got = store.query("e5", unit(2), n=2)
    assert got[0][0] == "b.txt-2" and got[0][1] == pytest.approx(1.0, abs=1e-5)
    only_de = store.query("e5", unit(2), n=4, where=where_clause({"lang": ["de"]}))
    assert {i for i, _ in only_de} == {"a.txt-0", "a.txt-1", "c.txt-3"}
    both = store.query("e5", unit(0), n=4, where=where_clause({"doc": ["c.txt"], "year": [2024]}))
    assert [i for i, _ in both] == ["c.txt-3"]


def test_doc_states_delete_and_generation(store):
    assert store.generation() == ""
    store.upsert("e5", [chunk(0), chunk(1)], [unit(0), unit(1)], {"a.txt": 3})
    state = store.doc_states("e5")["a.txt"]
    assert (state.count, state.expected, state.hashes) == (2, 3, {"h1"})
    assert not state.complete_for("h1")  # the third chunk is missing: an interrupted ingest
    store.update_metadata("e5", [chunk(0), chunk(1)], {"a.txt": 2})
    assert store.doc_states("e5")["a.txt"].complete_for("h1")
    store.bump_generation()
    g1 = store.generation()
    store.bump_generation()
    assert g1 and store.generation() != g1
    assert store.delete_doc("a.txt") == 2 and store.count() == 0


def test_paging_past_the_record_limit(store, monkeypatch):
    monkeypatch.setattr(store_module, "_PAGE_SIZE", 7)
    chunks = [chunk(i) for i in range(30)]
    store.upsert("e5", chunks, [unit(i) for i in range(30)], {"a.txt": 30})
    assert len(store.all_chunks()) == 30 and len(store.ids_of_doc("e5", "a.txt")) == 30
    store.update_metadata("e5", chunks, {"a.txt": 30})
    store.delete("e5", [c.chunk_id for c in chunks[:20]])
    assert store.count() == 10


def test_one_filters_type_from_the_edge_to_the_store():
    """What a user sends is checked once into ``Filters``; retrieval and the
    store take that type (a mapping of checked lists still works)."""
    from lsn_assistant.assistant import normalize_filters
    from lsn_assistant.types import Filters

    f = normalize_filters({"doc": "c.txt", "year": ["2024"], "lang": []})
    assert f == Filters(doc=("c.txt",), year=(2024,)) and f.to_dict() == {"doc": ["c.txt"], "year": [2024]}
    assert normalize_filters({"doc": [], "lang": ""}) is None and Filters.of(Filters()) is None
    assert where_clause(f) == where_clause(f.to_dict()) == {"$and": [{"doc": {"$in": ["c.txt"]}}, {"year": {"$in": [2024]}}]}
    assert where_clause(Filters(lang=("de",))) == {"lang": {"$in": ["de"]}} and where_clause(None) is None


def test_the_vector_index_explores_well_beyond_the_candidates_asked_for(store):
    """Collections are made with ``hnsw_ef_search`` (Chroma's default, 100,
    equals the 100 candidates retrieval asks for, and then the list's tail
    differed between processes); an index made with another value gets
    this one when the store opens it."""
    ef = store.settings.hnsw_ef_search
    assert ef > store.settings.candidate_k
    assert store.collection("e5").configuration_json["hnsw"]["ef_search"] == ef

    name = f"{store.settings.collection_prefix}_e5"
    older = ChunkStore(store.settings.model_copy(update={"hnsw_ef_search": 100}))
    older.client.delete_collection(name)
    assert older.collection("e5").configuration_json["hnsw"]["ef_search"] == 100
    reopened = ChunkStore(store.settings)
    assert reopened.collection("e5").configuration_json["hnsw"]["ef_search"] == ef
    assert reopened.client.get_collection(name).configuration_json["hnsw"]["ef_search"] == ef
