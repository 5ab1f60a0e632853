"""Request and response models of the HTTP API. The passage and citation
models are shared with the MCP server (``lsn_assistant.schemas``) and
re-exported here. Text fields go through ``text.clean_text``: a refusal is an
``invalid_text`` validation error, which the app answers with 400 and its
message (main.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from ..errors import BadQuery
from ..schemas import CitationOut, DocumentOut, SearchResult
from ..text import clean_text

__all__ = [
    "AskRequest", "AskResponse", "ChatMessage", "ChatRequest", "CitationOut", "DocumentOut", "DocumentsResponse",
    "FeedbackRequest", "Filters", "HistoryTurn", "SearchRequest", "SearchResponse", "SearchResult",
]


def _checked(what: str, visible: bool = True) -> AfterValidator:
    """A request field's text through ``clean_text``; a refusal becomes an
    ``invalid_text`` validation error, answered with 400 and its message."""

    def check(value: str) -> str:
        try:
            return clean_text(value, what, require_visible=visible)
        except BadQuery as exc:
            raise PydanticCustomError("invalid_text", "{reason}", {"reason": str(exc)}) from None

    return AfterValidator(check)


FilterValue = Annotated[str, _checked("filter value", visible=False)]


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    doc: list[FilterValue] | None = None
    lang: list[FilterValue] | None = None
    year: list[Annotated[int, Field(ge=0, le=9999)]] | None = None


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: Annotated[str, _checked("query")] = Field(..., description="What to look for, German or English")
    k: int = Field(10, ge=1, le=100)
    filters: Filters | None = None


class SearchResponse(BaseModel):
    results: list[SearchResult]


class HistoryTurn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: Annotated[str, _checked("history content", visible=False)] = Field(..., max_length=20000)
    citations: list[dict[str, Any]] | None = Field(
        None, description="An assistant turn's citations as /api/ask returned them (their docs scope a follow-up)"
    )
    docs: list[str] | None = None


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: Annotated[str, _checked("question")] = Field(..., description="The question, German or English")
    history: list[HistoryTurn] = Field(default_factory=list, max_length=50)
    filters: Filters | None = None
    k: int | None = Field(None, ge=1, le=20, description="Passages the answer may draw from")

    def args(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "history": [t.model_dump(exclude_none=True) for t in self.history],
            "filters": self.filters.model_dump(exclude_none=True) if self.filters else None,
            "k": self.k,
        }


class AskResponse(BaseModel):
    answer_id: str = Field("", description="names this answer for POST /api/feedback")
    answer: str
    language: str
    abstained: bool
    citations: list[CitationOut]
    timings_ms: dict[str, float]
    mode: str
    notice: str | None = None
    related: list[SearchResult] = []
    question: str = ""
    standalone: str = ""
    evidence: dict[str, Any] = {}


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answer_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    rating: Literal["up", "down"]
    comment: Annotated[str, StringConstraints(max_length=2000), _checked("comment", visible=False)] | None = None


class DocumentsResponse(BaseModel):
    documents: list[DocumentOut]
    index_size: int


# ---- OpenAI-compatible chat

class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # [{"type": "text", "text": ...}, ...]
            return "\n".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    """The fields an OpenAI chat client sends; sampling options are accepted and ignored."""

    model: str = "lsn-assistant"
    messages: list[ChatMessage] = Field(..., min_length=1, max_length=100)
    stream: bool = False
    filters: Filters | None = None
    k: int | None = Field(None, ge=1, le=20)

    def args(self) -> dict[str, Any]:
        turns = [m for m in self.messages if m.role in ("user", "assistant")]
        if not turns or turns[-1].role != "user":
            raise BadQuery("the last message must be the user's question")
        return {
            "question": turns[-1].text(),
            "history": [{"role": m.role, "content": m.text()} for m in turns[:-1]],
            "filters": self.filters.model_dump(exclude_none=True) if self.filters else None,
            "k": self.k,
        }
