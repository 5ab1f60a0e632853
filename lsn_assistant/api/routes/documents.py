"""The documents: list them, upload one (API key), serve an original file,
delete one (API key)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse

from ...errors import BadQuery, UploadRejected
from ..deps import AssistantDep, AssistantSlotDep, RequireKey, SettingsDep
from ..schemas import DocumentOut, DocumentsResponse

router = APIRouter(tags=["documents"])

UPLOAD_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "pdf, docx, txt or md"},
                        "title": {"type": "string"},
                        "year": {"type": "integer"},
                        "lang": {"type": "string", "enum": ["de", "en"]},
                    },
                }
            }
        },
    }
}
FORM_OVERHEAD = 64 * 1024  # multipart headers and the small fields around the file


@router.get("/api/documents", response_model=DocumentsResponse)
def documents(assistant: AssistantDep) -> DocumentsResponse:
    return DocumentsResponse(documents=[DocumentOut(**d) for d in assistant.documents()],
                             index_size=assistant.retriever.size)


@router.post("/api/documents", openapi_extra=UPLOAD_SCHEMA)
async def upload(_: RequireKey, request: Request, settings: SettingsDep, assistant: AssistantSlotDep):
    """Add or update a document (pdf, docx, txt, md; the type is checked by
    content). Returns the ingest report. Needs the API key."""
    # the key is checked before a byte of the body is read (RequireKey)
    limit = int(settings.max_upload_mb * 1024 * 1024)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + FORM_OVERHEAD:
        raise UploadRejected(f"the upload is {int(declared) / 1e6:.1f} MB; the limit is {settings.max_upload_mb:g} MB", 413)
    try:
        form = await request.form(max_files=1, max_fields=10)
    except Exception as exc:  # noqa: BLE001 - starlette's parse errors vary by version
        raise BadQuery(f"send the document as multipart/form-data with a 'file' field ({exc})") from exc
    try:
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise BadQuery("send the document as multipart/form-data with a 'file' field")
        data = await upload.read(limit + 1)
        year = form.get("year")
        if year not in (None, "") and not str(year).strip().isdigit():
            raise BadQuery("year must be a whole number")
        args = {
            "title": str(form.get("title") or "") or None,
            "year": int(year) if year not in (None, "") else None,
            "lang": str(form.get("lang") or "") or None,
        }
        if len(data) > limit:
            raise UploadRejected(f"the file is larger than {settings.max_upload_mb:g} MB; the limit is {settings.max_upload_mb:g} MB", 413)
        # opened only now: a refused upload is refused even while the store is down
        report = await run_in_threadpool(assistant().add_document, upload.filename or "", data, **args)
    finally:
        await form.close()
    status = 422 if report["counts"].get("failed") else 200
    return JSONResponse(report, status_code=status)


@router.get("/api/documents/{doc}/file", response_class=FileResponse,
            responses={200: {"content": {"application/pdf": {}, "text/plain": {}}}, 404: {"description": "not indexed"}})
def document_file(doc: str, assistant: AssistantDep):
    """The original file of an indexed document (uploaded, or in the corpus
    folder), as it was ingested: the UI opens a PDF at a cited page from
    here. Only names the index holds are served (404 otherwise, also when
    only the index knows the document); range requests work."""
    path, media_type = assistant.document_file(doc)
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
    if not media_type.startswith("application/pdf"):
        # text and HTML of the corpus are shown, never run, on this origin;
        # a PDF goes to the browser's viewer or pdf.js (fetched), where a sandbox would block it
        headers["Content-Security-Policy"] = "sandbox"
    inline = media_type.startswith(("application/pdf", "text/"))
    return FileResponse(path, media_type=media_type, filename=doc, headers=headers,
                        content_disposition_type="inline" if inline else "attachment")


@router.delete("/api/documents/{doc}")
def delete(_: RequireKey, doc: str, assistant: AssistantDep):
    """Remove a document from the index (and an uploaded file from disk). Needs the API key."""
    return assistant.delete_document(doc)
