"""One router per resource: answers (/api/search, /api/ask…), feedback,
documents, the OpenAI-compatible chat (/v1) and health."""
