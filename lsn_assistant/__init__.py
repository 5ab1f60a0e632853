"""LSN Assistant: a document-grounded assistant over the Life Science Nord corpus."""

import os

# USE's small matrix products are fastest on one BLAS thread: with OpenBLAS's
# own threads a query took 3 ms or 220 ms depending on the process (eval/bench).
# Must be set before numpy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from .types import Chunk, Document, ScoredChunk

__all__ = ["Assistant", "Chunk", "Document", "ScoredChunk"]


def __getattr__(name: str):
    # ``lsn_assistant.Assistant`` is imported on first use: it defers chromadb,
    # the embedders and the rest of the stack, so that importing a bottom
    # module (``lsn_assistant.text``, ``lsn_assistant.errors``) from ingest/
    # loads only that module, and the package never imports its own top layer
    # while a lower one is still loading.
    if name == "Assistant":
        from .assistant import Assistant  # defers chromadb and the models (see above)

        return Assistant
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
