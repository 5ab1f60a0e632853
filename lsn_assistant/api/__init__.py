"""The HTTP API (FastAPI) and, mounted at ``/``, the Gradio UI: one app.

Routes stay thin over ``Assistant``, one router per resource (routes/), the
shared dependencies in deps.py (``AssistantDep``, ``RequireKey``), request and
response models in schemas.py, the app with its error handling in main.py.
Read endpoints are open; write endpoints (upload, delete) and the feedback
list need ``Authorization: Bearer <LSN_API_KEY>``. Text fields are checked by
``text.clean_text`` in the request models: invalid characters are a 400
before anything runs. ``/v1/chat/completions`` speaks the OpenAI protocol so
existing chat clients can use the assistant."""

from .main import create_app
from .routes.openai import with_sources

__all__ = ["create_app", "with_sources"]
