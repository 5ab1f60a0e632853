"""The UI's words in English and German.

Static labels go to the browser as ``gr.I18n`` keys; Gradio translates them
there by ``navigator.language``. Text the server makes (the sources panel,
tables, messages) is in the language of the request's first
``Accept-Language`` entry, which is the same browser setting, so both agree:
German when the browser asks for German, English otherwise.
"""

from __future__ import annotations

import gradio as gr

DEFAULT = "en"

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "subtitle": "Answers from the Life Science Nord strategy documents, each sentence with its source.",
        "tab_chat": "Chat",
        "tab_documents": "Documents",
        "tab_draft": "Draft",
        "tab_eval": "Evaluation",
        "chat_label": "Conversation",
        "question_label": "Your question",
        "question_placeholder": "Ask in German or English, e.g. How many members does Life Science Nord have?",
        "ask": "Ask",
        "copy": "Copy answer",
        "new_chat": "New conversation",
        "filters": "Filters",
        "filter_docs": "Documents",
        "filter_docs_info": "Answer from these documents only (none chosen: all)",
        "filter_lang": "Language of the passages",
        "sources_label": "Sources",
        "corpus": "Documents in the index",
        "refresh": "Refresh",
        "manage": "Upload or delete (API key required)",
        "api_key": "API key",
        "upload_file": "Document (PDF, DOCX, TXT, Markdown)",
        "upload": "Upload and index",
        "delete_doc": "Document to delete",
        "delete": "Delete from the index",
        # made on the server
        "mode": "Answer mode",
        "mode_extractive": "extractive (sentences quoted from the documents)",
        "mode_llm": "LLM {model}",
        "llm_unreachable": "not reachable now ({detail}): answers are extractive until it is",
        "badge_extractive": "extractive",
        "badge_llm": "LLM",
        "not_in_docs": "Not in the documents",
        "related": "The closest passages",
        "sources_empty": "The sources of an answer appear here: click a [n] in the answer to bring its source into view.",
        "page": "p.",
        "col_doc": "File",
        "col_title": "Title",
        "col_year": "Year",
        "col_langs": "Languages",
        "col_chunks": "Passages",
        "col_source": "Origin",
        "source_corpus": "corpus folder",
        "source_upload": "uploaded",
        "source_index": "index only",
        "no_file": "Choose a file first.",
        "no_doc": "Choose a document first.",
        "deleted": "{doc} is no longer in the index.",
        "index_size": "The index holds {n} passages.",
        "index_size_one": "The index holds 1 passage.",
        "status_added": "added",
        "status_updated": "updated",
        "status_unchanged": "unchanged (already indexed)",
        "status_failed": "failed",
        "status_removed": "removed",
        "passages": "{n} passages",
        "passages_one": "1 passage",
    },
    "de": {
        "subtitle": "Antworten aus den Strategiedokumenten von Life Science Nord, jeder Satz mit seiner Quelle.",
        "tab_chat": "Chat",
        "tab_documents": "Dokumente",
        "tab_draft": "Entwurf",
        "tab_eval": "Evaluation",
        "chat_label": "Gespräch",
        "question_label": "Ihre Frage",
        "question_placeholder": "Fragen Sie auf Deutsch oder Englisch, z. B. Wie viele Mitglieder hat Life Science Nord?",
        "ask": "Fragen",
        "copy": "Antwort kopieren",
        "new_chat": "Neues Gespräch",
        "filters": "Filter",
        "filter_docs": "Dokumente",
        "filter_docs_info": "Nur aus diesen Dokumenten antworten (keine Auswahl: alle)",
        "filter_lang": "Sprache der Passagen",
        "sources_label": "Quellen",
        "corpus": "Dokumente im Index",
        "refresh": "Aktualisieren",
        "manage": "Hochladen oder löschen (API-Schlüssel nötig)",
        "api_key": "API-Schlüssel",
        "upload_file": "Dokument (PDF, DOCX, TXT, Markdown)",
        "upload": "Hochladen und indexieren",
        "delete_doc": "Zu löschendes Dokument",
        "delete": "Aus dem Index löschen",
        "mode": "Antwortmodus",
        "mode_extractive": "extraktiv (Sätze wörtlich aus den Dokumenten)",
        "mode_llm": "LLM {model}",
        "llm_unreachable": "gerade nicht erreichbar ({detail}): bis dahin sind die Antworten extraktiv",
        "badge_extractive": "extraktiv",
        "badge_llm": "LLM",
        "not_in_docs": "Nicht in den Dokumenten",
        "related": "Die nächstliegenden Passagen",
        "sources_empty": "Hier erscheinen die Quellen einer Antwort: Ein Klick auf [n] in der Antwort zeigt die Quelle.",
        "page": "S.",
        "col_doc": "Datei",
        "col_title": "Titel",
        "col_year": "Jahr",
        "col_langs": "Sprachen",
        "col_chunks": "Passagen",
        "col_source": "Herkunft",
        "source_corpus": "Korpusordner",
        "source_upload": "hochgeladen",
        "source_index": "nur im Index",
        "no_file": "Bitte zuerst eine Datei wählen.",
        "no_doc": "Bitte zuerst ein Dokument wählen.",
        "deleted": "{doc} ist nicht mehr im Index.",
        "index_size": "Der Index umfasst {n} Passagen.",
        "index_size_one": "Der Index umfasst 1 Passage.",
        "status_added": "hinzugefügt",
        "status_updated": "aktualisiert",
        "status_unchanged": "unverändert (schon im Index)",
        "status_failed": "fehlgeschlagen",
        "status_removed": "entfernt",
        "passages": "{n} Passagen",
        "passages_one": "1 Passage",
    },
}

I18N = gr.I18n(**TEXTS)  # I18N("ask"): the key, translated in the browser


def language(accept_language: str | None) -> str:
    """"de" when the browser's preferred language is German, else "en"."""
    best, best_q = "", -1.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and q > best_q:
            best, best_q = tag, q
    primary = best.split("-")[0].lower()
    return primary if primary in TEXTS else DEFAULT


def request_language(request: gr.Request | None) -> str:
    headers = getattr(request, "headers", None) or {}
    return language(headers.get("accept-language"))


def text(lang: str, key: str, **values) -> str:
    """A server-made string in ``lang`` (English where ``lang`` has none);
    with ``n=1``, the key's singular ``<key>_one`` where there is one."""
    texts = TEXTS.get(lang, TEXTS[DEFAULT])
    if values.get("n") == 1 and f"{key}_one" in texts:
        key = f"{key}_one"
    s = texts.get(key) or TEXTS[DEFAULT][key]
    return s.format(**values) if values else s


def word(lang: str, kind: str, value: object) -> str:
    """The word for a value the library reports (``kind`` "status": added,
    failed, …; "source": corpus, upload, index); the value itself when unknown."""
    key = f"{kind}_{value}"
    return text(lang, key) if key in TEXTS[DEFAULT] else str(value or "")
