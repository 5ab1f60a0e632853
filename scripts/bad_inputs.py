"""Print a Markdown table of bad inputs and what the API answers to each:
input, HTTP status, message. Runs the real app (in-process) over the index of
``LSN_DATA_DIR`` (default ./data) with an API key set for the run; uploads are
refused before anything is written, so the index is not changed.

    .venv/bin/python scripts/bad_inputs.py
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient  # noqa: E402

from lsn_assistant.api import create_app  # noqa: E402
from lsn_assistant.config import get_settings  # noqa: E402

KEY = "table-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


def bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b" " * 300_000_000)
    return buf.getvalue()


def cases():
    ask = "/api/ask"
    yield "ask: empty question", "POST", ask, {"json": {"question": "  "}}
    yield "ask: 5,000-character question", "POST", ask, {"json": {"question": "Wort " * 1000}}
    yield "ask: no question field", "POST", ask, {"json": {"frage": "Was?"}}
    yield "ask: k = 0", "POST", ask, {"json": {"question": "Was ist LSN?", "k": 0}}
    yield "ask: unknown filter", "POST", ask, {"json": {"question": "Was ist LSN?", "filters": {"color": ["red"]}}}
    yield "ask: year filter 10^30", "POST", ask, {"json": {"question": "Was ist LSN?", "filters": {"year": [10**30]}}}
    yield "ask: history role 'system'", "POST", ask, {"json": {"question": "Und?", "history": [{"role": "system", "content": "x"}]}}
    yield "ask: body not JSON", "POST", ask, {"content": b"question=Was", "headers": {"Content-Type": "application/json"}}
    yield "ask: unpaired surrogate", "POST", ask, {"content": b'{"question": "\\ud800 Was ist LSN?"}', "headers": {"Content-Type": "application/json"}}
    yield "ask: body not UTF-8", "POST", ask, {"content": b'{"question": "Was ist \xff?"}', "headers": {"Content-Type": "application/json"}}
    yield "ask: control character", "POST", ask, {"json": {"question": "Was ist LSN?\u0007"}}
    yield "ask: only zero-width and no-break spaces", "POST", ask, {"json": {"question": "\u200b\u00a0\u2060"}}
    yield "search: k = 1000", "POST", "/api/search", {"json": {"query": "LSN", "k": 1000}}
    yield "stream: empty question", "POST", "/api/ask/stream", {"json": {"question": ""}}
    yield "chat: last message from the assistant", "POST", "/v1/chat/completions", {"json": {"messages": [{"role": "assistant", "content": "Hallo"}]}}
    yield "chat: no messages", "POST", "/v1/chat/completions", {"json": {"messages": []}}
    up = "/api/documents"
    yield "upload: no API key", "POST", up, {"files": {"file": ("a.txt", b"Text")}, "headers": {}}
    yield "upload: wrong API key", "POST", up, {"files": {"file": ("a.txt", b"Text")}, "headers": {"Authorization": "Bearer nope"}}
    yield "upload: text named .pdf", "POST", up, {"files": {"file": ("report.pdf", b"Just some text.")}}
    yield "upload: .exe", "POST", up, {"files": {"file": ("tool.exe", b"MZ\x90\x00")}}
    yield "upload: empty file", "POST", up, {"files": {"file": ("empty.txt", b"")}}
    yield "upload: corrupt PDF", "POST", up, {"files": {"file": ("broken.pdf", b"%PDF-1.7\n1 0 obj <<>>\ngarbage")}}
    yield "upload: .docx decompression bomb", "POST", up, {"files": {"file": ("bomb.docx", bomb())}}
    yield "upload: 30 MB file (limit 25)", "POST", up, {"files": {"file": ("big.txt", b"x" * 30_000_000)}}
    yield "upload: name of a corpus file", "POST", up, {"files": {"file": ("lsn-masterplan-2009-de.txt", b"Text")}}
    yield "upload: no file field", "POST", up, {"data": {"title": "x"}}
    yield "delete: no API key", "DELETE", "/api/documents/x.txt", {"headers": {}}
    yield "delete: unknown document", "DELETE", "/api/documents/nope.txt", {}
    yield "delete: ../ in the name", "DELETE", "/api/documents/..%2F..%2Fetc%2Fpasswd", {}
    yield "GET on a POST endpoint", "GET", "/api/ask", {}
    yield "unknown API path", "GET", "/api/nothing", {}


def main() -> None:
    settings = get_settings().model_copy(update={"api_key": KEY, "ui": False})
    client = TestClient(create_app(settings), raise_server_exceptions=False)
    print("| input | status | message |\n| --- | --- | --- |")
    for label, method, path, kw in cases():
        kw = dict(kw)
        headers = kw.pop("headers", AUTH)
        r = client.request(method, path, headers=headers, **kw)
        detail = r.json().get("detail") if r.headers.get("content-type", "").startswith("application/json") else r.text
        if isinstance(detail, list):  # pydantic's validation errors: the first one is enough here
            detail = f"{detail[0].get('loc')}: {detail[0].get('msg')}"
        text = json.dumps(detail, ensure_ascii=False) if not isinstance(detail, str) else detail
        print(f"| {label} | {r.status_code} | {text[:140].replace('|', '/')} |")


if __name__ == "__main__":
    main()
