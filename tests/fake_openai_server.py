"""A scripted LLM server on a free loopback port, for the contract tests of llm.py.

Speaks the OpenAI chat-completions protocol (``POST /v1/chat/completions``,
plain JSON or server-sent events ending in ``data: [DONE]``, ``GET /v1/models``)
and Ollama's (``POST /api/chat``, JSON or NDJSON lines; ``GET /api/tags``).
Each test queues the replies it wants with ``reply(...)``; every request body
is recorded in ``requests`` so a test can assert what the client sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Scripted:
    text: str = ""
    status: int = 200  # != 200: an error body with this status
    delay: float = 0.0  # seconds before anything is sent
    stall_after: int | None = None  # streaming: chunks sent before stalling
    stall: float = 0.0  # seconds of the stall
    chunk_chars: int = 4  # streaming: characters per chunk


class FakeLLMServer:
    def __init__(self, model: str = "fake-model"):
        self.model = model
        self.script: deque[Scripted] = deque()
        self.requests: list[dict] = []  # {"path", "body", "headers"}
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- scripting

    def reply(self, text: str = "", **kw) -> "FakeLLMServer":
        self.script.append(Scripted(text=text, **kw))
        return self

    def _next(self) -> Scripted:
        return self.script.popleft() if self.script else Scripted(text="NO_ANSWER")

    @property
    def chat_requests(self) -> list[dict]:
        return [r for r in self.requests if r["path"].endswith(("/chat/completions", "/api/chat"))]

    # ---- lifecycle

    @property
    def port(self) -> int:
        assert self._httpd is not None
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """OpenAI-style base URL (with /v1)."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def root(self) -> str:
        """Ollama-style base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FakeLLMServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _send_json(self, status: int, obj: dict) -> None:
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                server.requests.append({"path": self.path, "body": None, "headers": dict(self.headers)})
                if self.path.endswith("/models"):
                    self._send_json(200, {"object": "list", "data": [{"id": server.model, "object": "model"}]})
                elif self.path.endswith("/api/tags"):
                    self._send_json(200, {"models": [{"name": server.model, "model": server.model}]})
                else:
                    self._send_json(404, {"error": "not found"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append({"path": self.path, "body": body, "headers": dict(self.headers)})
                try:
                    if self.path.endswith("/chat/completions"):
                        self._openai(body, server._next())
                    elif self.path.endswith("/api/chat"):
                        self._ollama(body, server._next())
                    else:
                        self._send_json(404, {"error": "not found"})
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            def _pieces(self, s: Scripted) -> list[str]:
                n = max(1, s.chunk_chars)
                return [s.text[i : i + n] for i in range(0, len(s.text), n)] or [""]

            def _openai(self, body: dict, s: Scripted) -> None:
                if s.delay:
                    time.sleep(s.delay)
                if s.status != 200:
                    self._send_json(
                        s.status, {"error": {"message": f"scripted failure {s.status}", "type": "server_error"}}
                    )
                    return
                created = int(time.time())
                if not body.get("stream"):
                    self._send_json(
                        200,
                        {
                            "id": "chatcmpl-fake",
                            "object": "chat.completion",
                            "created": created,
                            "model": server.model,
                            "choices": [
                                {
                                    "index": 0,
                                    "message": {"role": "assistant", "content": s.text},
                                    "finish_reason": "stop",
                                }
                            ],
                            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                        },
                    )
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()

                def event(delta: dict, finish=None) -> None:
                    chunk = {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": server.model,
                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                    }
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()

                event({"role": "assistant", "content": ""})
                for i, piece in enumerate(self._pieces(s)):
                    if s.stall_after is not None and i == s.stall_after:
                        time.sleep(s.stall)
                    event({"content": piece})
                event({}, finish="stop")
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

            def _ollama(self, body: dict, s: Scripted) -> None:
                if s.delay:
                    time.sleep(s.delay)
                if s.status != 200:
                    self._send_json(s.status, {"error": f"scripted failure {s.status}"})
                    return
                base = {"model": body.get("model", server.model), "created_at": "2026-01-01T00:00:00Z"}
                if not body.get("stream", True):
                    self._send_json(
                        200,
                        {
                            **base,
                            "message": {"role": "assistant", "content": s.text},
                            "done": True,
                            "done_reason": "stop",
                            "prompt_eval_count": 10,
                            "eval_count": 5,
                        },
                    )
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.send_header("Connection", "close")
                self.end_headers()
                for i, piece in enumerate(self._pieces(s)):
                    if s.stall_after is not None and i == s.stall_after:
                        time.sleep(s.stall)
                    line = {**base, "message": {"role": "assistant", "content": piece}, "done": False}
                    self.wfile.write((json.dumps(line) + "\n").encode())
                    self.wfile.flush()
                last = {**base, "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop"}
                self.wfile.write((json.dumps(last) + "\n").encode())
                self.wfile.flush()
                self.close_connection = True

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "FakeLLMServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
