"""LSN Assistant: a document-grounded assistant over the Life Science Nord corpus."""

import os

# USE's small matrix products are fastest on one BLAS thread: with OpenBLAS's
# own threads a query took 3 ms or 220 ms depending on the process (eval/bench).
# Must be set before numpy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from .assistant import Assistant
from .types import Chunk, Document, ScoredChunk

__all__ = ["Assistant", "Chunk", "Document", "ScoredChunk"]
