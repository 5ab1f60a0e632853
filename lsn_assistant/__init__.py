"""LSN Assistant: a document-grounded assistant over the Life Science Nord corpus."""

from .assistant import Assistant
from .types import Chunk, Document, ScoredChunk

__all__ = ["Assistant", "Chunk", "Document", "ScoredChunk"]
