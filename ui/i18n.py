"""The UI's words in English and German.

Static labels go to the browser as ``gr.I18n`` keys; Gradio translates them
there by ``navigator.language``. Text the server makes (the sources panel,
tables, messages) is in the language of the request's first
``Accept-Language`` entry, which is the same browser setting, so both agree:
German when the browser asks for German, English otherwise.
"""

from __future__ import annotations

import re

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
        "conversations": "Earlier conversations (kept in this browser only)",
        "conversations_info": "Choose one to reopen it and ask on",
        "delete_conversation": "Delete conversation",
        "feedback_comment": "Comment on your rating (optional: type it, then 👍 or 👎 the answer)",
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
        "pdf_page": "Open page {page} of the PDF ↗",
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
        # the Draft tab
        "draft_intro": (
            "Give a topic and, if you like, the points you want to make (one per line). The draft has one section "
            "per point, or, without points, background, goals, measures and figures. Each section brings the "
            "passages of the documents that bear on it as verbatim quotes with their source. Edit the Markdown "
            "freely: the downloads are the edited text; markers are renumbered and the reference list is rebuilt "
            "from the `[n]` that remain."
        ),
        "draft_prose_by_llm": "Prose: drafted by the LLM",
        "draft_no_llm": "No LLM is configured: each section's prose is the extractive answer.",
        "draft_topic": "Topic",
        "draft_topic_placeholder": "e.g. Internationalisierung des Clusters",
        "draft_points": "Points (optional, one per line)",
        "draft_docs": "Only these documents (optional)",
        "draft_lang": "Language of the draft",
        "draft_build": "Build draft",
        "draft_editor": "Draft (Markdown, editable)",
        "draft_preview": "Preview",
        "draft_download_md": "Download .md",
        "draft_download_docx": "Download .docx",
        # the Evaluation tab
        "eval_intro": "Runs stored by `lsn eval` in",
        "eval_runs": "Stored runs",
        "eval_a": "A (baseline)",
        "eval_b": "B",
        "eval_deltas": "B − A per measure",
        "eval_open_path": "Open a run folder (one written with `lsn eval --out DIR`)",
        "eval_open_placeholder": "path to the run folder or its run.json",
        "eval_open": "Open",
        "eval_feedback": "Members' feedback",
        # made on the server: the Draft tab
        "draft_lang_auto": "Topic's language",
        "draft_sections": "{n} sections",
        "draft_sections_one": "1 section",
        "draft_sources": "{n} sources",
        "draft_sources_one": "1 source",
        "draft_status": "{sections}, {sources}; prose: {prose}.",
        "draft_prose_llm": "drafted by the LLM",
        "draft_prose_extractive": "the documents' own sentences (extractive)",
        "draft_failed": "Could not build the draft: {error}",
        "draft_no_doc_list": "The document list is not available: {error}",
        # made on the server: the Evaluation tab
        "eval_questions": "{n} questions",
        "eval_questions_one": "1 question",
        "eval_pick_two": "Pick two runs to compare (`lsn eval` stores a run each time it evaluates).",
        "eval_cannot_compare": "Cannot compare: {error}",
        "eval_in_both": "{n} questions in both.",
        "eval_in_both_one": "1 question in both.",
        "eval_worse": "Got worse",
        "eval_better": "Got better",
        "eval_mixed": "Mixed",
        "eval_none": "none",
        "eval_only_a": "Only in A",
        "eval_only_b": "Only in B",
        "eval_col_run": "run",
        "eval_col_created": "created (UTC)",
        "eval_col_commit": "commit",
        "eval_col_questions": "questions",
        "eval_col_testsets": "test sets",
        "eval_col_measure": "measure",
        "eval_col_delta": "delta",
        "eval_col_ci": "95% CI",
        "eval_opened": "Opened {name}: it is in the table and the pickers.",
        "feedback_thanks_up": "Thank you: your 👍 is stored with the answer.",
        "feedback_thanks_down": "Thank you: your 👎 is stored with the answer; the evaluators review it.",
        "feedback_failed": "Your rating could not be stored: {error}",
        "eval_cannot_open": "Cannot open {path}: {error}",
        "eval_settings_differ": "Settings that differ",
        "eval_settings_unknown": "the settings hashes differ, but no recorded setting does (an older run)",
        "eval_feedback_counts": "{up} 👍 and {down} 👎 so far. The disliked answers, newest first "
        "(`lsn feedback export --rating down --out FILE.jsonl` turns them into test-set candidates):",
        "eval_feedback_none": "No ratings yet: members rate answers with 👍/👎 in the chat.",
        "eval_col_when": "when (UTC)",
        "eval_col_question": "question",
        "eval_col_answer": "answer",
        "eval_col_comment": "comment",
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
        "conversations": "Frühere Gespräche (nur in diesem Browser gespeichert)",
        "conversations_info": "Eines auswählen, um es wieder zu öffnen und weiterzufragen",
        "delete_conversation": "Gespräch löschen",
        "feedback_comment": "Kommentar zur Bewertung (optional: erst schreiben, dann die Antwort mit 👍 oder 👎 bewerten)",
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
        "pdf_page": "Seite {page} im PDF öffnen ↗",
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
        "draft_intro": (
            "Geben Sie ein Thema an und, wenn Sie möchten, die Punkte, die Sie machen wollen (einen pro Zeile). "
            "Der Entwurf hat einen Abschnitt je Punkt, ohne Punkte Ausgangslage, Ziele, Maßnahmen sowie Zahlen und "
            "Fakten. Jeder Abschnitt bringt die einschlägigen Passagen der Dokumente als wörtliche Zitate mit ihrer "
            "Quelle. Das Markdown ist frei bearbeitbar: Heruntergeladen wird der bearbeitete Text; die Verweise "
            "werden neu nummeriert und das Quellenverzeichnis aus den verbliebenen `[n]` neu erstellt."
        ),
        "draft_prose_by_llm": "Fließtext: vom LLM entworfen",
        "draft_no_llm": "Kein LLM eingerichtet: Der Text jedes Abschnitts ist die extraktive Antwort.",
        "draft_topic": "Thema",
        "draft_topic_placeholder": "z. B. Internationalisierung des Clusters",
        "draft_points": "Punkte (optional, einer pro Zeile)",
        "draft_docs": "Nur diese Dokumente (optional)",
        "draft_lang": "Sprache des Entwurfs",
        "draft_build": "Entwurf erstellen",
        "draft_editor": "Entwurf (Markdown, bearbeitbar)",
        "draft_preview": "Vorschau",
        "draft_download_md": ".md herunterladen",
        "draft_download_docx": ".docx herunterladen",
        "eval_intro": "Von `lsn eval` gespeicherte Läufe in",
        "eval_runs": "Gespeicherte Läufe",
        "eval_a": "A (Vergleichsbasis)",
        "eval_b": "B",
        "eval_deltas": "B − A je Maß",
        "eval_open_path": "Lauf-Ordner öffnen (z. B. mit `lsn eval --out ORDNER` geschrieben)",
        "eval_open_placeholder": "Pfad zum Lauf-Ordner oder seiner run.json",
        "eval_open": "Öffnen",
        "eval_feedback": "Rückmeldungen der Mitglieder",
        "draft_lang_auto": "Sprache des Themas",
        "draft_sections": "{n} Abschnitte",
        "draft_sections_one": "1 Abschnitt",
        "draft_sources": "{n} Quellen",
        "draft_sources_one": "1 Quelle",
        "draft_status": "{sections}, {sources}; Fließtext: {prose}.",
        "draft_prose_llm": "vom LLM entworfen",
        "draft_prose_extractive": "Sätze aus den Dokumenten selbst (extraktiv)",
        "draft_failed": "Der Entwurf konnte nicht erstellt werden: {error}",
        "draft_no_doc_list": "Die Dokumentliste ist nicht verfügbar: {error}",
        "eval_questions": "{n} Fragen",
        "eval_questions_one": "1 Frage",
        "eval_pick_two": "Zwei Läufe zum Vergleich wählen (`lsn eval` speichert bei jeder Evaluation einen Lauf).",
        "eval_cannot_compare": "Vergleich nicht möglich: {error}",
        "eval_in_both": "{n} Fragen in beiden.",
        "eval_in_both_one": "1 Frage in beiden.",
        "eval_worse": "Schlechter geworden",
        "eval_better": "Besser geworden",
        "eval_mixed": "Gemischt",
        "eval_none": "keine",
        "eval_only_a": "Nur in A",
        "eval_only_b": "Nur in B",
        "eval_col_run": "Lauf",
        "eval_col_created": "erstellt (UTC)",
        "eval_col_commit": "Commit",
        "eval_col_questions": "Fragen",
        "eval_col_testsets": "Testsets",
        "eval_col_measure": "Maß",
        "eval_col_delta": "Differenz",
        "eval_col_ci": "95-%-KI",
        "eval_opened": "{name} geöffnet: Der Lauf steht in der Tabelle und in der Auswahl.",
        "feedback_thanks_up": "Danke: Ihr 👍 ist mit der Antwort gespeichert.",
        "feedback_thanks_down": "Danke: Ihr 👎 ist mit der Antwort gespeichert; das Evaluationsteam sieht es sich an.",
        "feedback_failed": "Ihre Bewertung konnte nicht gespeichert werden: {error}",
        "eval_cannot_open": "{path} kann nicht geöffnet werden: {error}",
        "eval_settings_differ": "Abweichende Einstellungen",
        "eval_settings_unknown": "die Einstellungs-Hashes unterscheiden sich, aber keine gespeicherte Einstellung (ein älterer Lauf)",
        "eval_feedback_counts": "Bisher {up} 👍 und {down} 👎. Die abgelehnten Antworten, neueste zuerst "
        "(`lsn feedback export --rating down --out DATEI.jsonl` macht daraus Kandidaten für Testsets):",
        "eval_feedback_none": "Noch keine Bewertungen: Mitglieder bewerten Antworten im Chat mit 👍/👎.",
        "eval_col_when": "wann (UTC)",
        "eval_col_question": "Frage",
        "eval_col_answer": "Antwort",
        "eval_col_comment": "Kommentar",
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


# The library speaks English (API clients, the CLI and logs read its
# messages). The messages of the errors a user meets in the UI are put into
# German here, matched whole on their English; any other message stays as
# it is. ``{What}`` is the subject the library named (``the question is
# empty``), a pattern with a subject not in _SUBJECTS_DE does not apply.
_SUBJECTS_DE = {
    "question": "Die Frage",
    "query": "Die Suchanfrage",
    "topic": "Das Thema",
    "comment": "Der Kommentar",
    "title": "Der Titel",
}
_ERRORS_DE: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.DOTALL), german)
    for pattern, german in (
        # questions, topics, comments (text.clean_text, Assistant.ask, draft)
        (r"the (?P<what>[a-z ]+?) is empty", "{What} ist leer."),
        (r"the (?P<what>[a-z ]+?) is too long \((?P<n>\d+) characters; at most (?P<max>\d+)\)",
         "{What} ist zu lang ({n} Zeichen; höchstens {max})."),
        (r"the (?P<what>[a-z ]+?) has no visible characters \(only spaces or invisible characters\)",
         "{What} enthält keine sichtbaren Zeichen (nur Leerzeichen oder unsichtbare Zeichen)."),
        (r"the (?P<what>[a-z ]+?) contains a control character \((?P<code>U\+[0-9A-F]+)\); remove it",
         "{What} enthält ein Steuerzeichen ({code}); bitte entfernen."),
        (r"the (?P<what>[a-z ]+?) contains an invalid character \(an unpaired surrogate, (?P<code>U\+[0-9A-F]+)\): "
         r"send text as valid UTF-8", "{What} enthält ein ungültiges Zeichen (ein einzelnes Surrogat, {code})."),
        (r"history is too long \((?P<n>\d+) turns; at most (?P<max>\d+)\)",
         "Das Gespräch ist zu lang ({n} Beiträge; höchstens {max}): Bitte ein neues beginnen."),
        (r"too many points \((?P<n>\d+); at most (?P<max>\d+)\)", "Zu viele Punkte ({n}; höchstens {max})."),
        # the index and the store
        (r"the index is empty: run `lsn ingest` first", "Der Index ist leer: Zuerst `lsn ingest` ausführen."),
        (r"the vector store at (?P<where>.+?) is not reachable: (?P<detail>.*)",
         "Der Vektorspeicher unter {where} ist nicht erreichbar: {detail}"),
        (r"Chroma server at (?P<where>\S+) is not reachable \((?P<detail>.*)\); start it \(`chroma run`\) or unset "
         r"LSN_CHROMA_URL to use the embedded store",
         "Der Chroma-Server unter {where} ist nicht erreichbar ({detail}); bitte starten (`chroma run`) oder "
         "LSN_CHROMA_URL entfernen, um den eingebetteten Speicher zu nutzen."),
        (r"cannot open the index at (?P<where>.+?): (?P<detail>.*)", "Der Index unter {where} lässt sich nicht öffnen: {detail}"),
        (r"the index at (?P<where>.+?) cannot be written \((?P<detail>.*)\); free disk space or make the data "
         r"directory writable, then run the command again: what was written stays consistent",
         "Der Index unter {where} kann nicht geschrieben werden ({detail}); bitte Speicherplatz freigeben oder das "
         "Datenverzeichnis beschreibbar machen und es dann erneut versuchen: Was geschrieben wurde, bleibt stimmig."),
        # the API key, uploads and deletes (auth, library, ui.documents)
        (r"wrong or missing API key", "Falscher oder fehlender API-Schlüssel."),
        (r"write operations are disabled: no API key is configured \(set LSN_API_KEY\)",
         "Schreiben ist abgeschaltet: Es ist kein API-Schlüssel eingerichtet (LSN_API_KEY setzen)."),
        (r"the file name (?P<name>.+) has no usable name and extension", "Der Dateiname {name} hat keinen brauchbaren Namen mit Endung."),
        (r"the file is (?P<size>[\d.]+) MB; the limit is (?P<limit>[\d.]+) MB",
         "Die Datei ist {size} MB groß; erlaubt sind höchstens {limit} MB."),
        (r"the file is larger than (?P<limit>[\d.]+) MB", "Die Datei ist größer als {limit} MB."),
        (r"(?P<ext>\.\w+) files are not accepted; upload (?P<kinds>.+)",
         "{ext}-Dateien werden nicht angenommen; erlaubt sind {kinds}."),
        (r"the file is empty", "Die Datei ist leer."),
        (r"(?P<name>.+) is named (?P<ext>\.\w+) but holds unrecognised binary data",
         "{name} heißt {ext}, enthält aber unbekannte Binärdaten."),
        (r"(?P<name>.+) is named (?P<ext>\.\w+) but holds (?P<kind>\w+) content",
         "{name} heißt {ext}, enthält aber Inhalt vom Typ {kind}."),
        (r"the corpus folder already has a document named (?P<name>.+); rename the file",
         "Im Korpusordner gibt es schon ein Dokument namens {name}; bitte die Datei umbenennen."),
        (r"no document named (?P<name>.+)", "Kein Dokument namens {name}."),
        (r"the uploaded file is no longer there; choose it again", "Die hochgeladene Datei ist nicht mehr da; bitte erneut wählen."),
        (r"only a file uploaded through this page can be added \(the path is outside the upload cache\)",
         "Nur eine über diese Seite hochgeladene Datei kann hinzugefügt werden (der Pfad liegt außerhalb des "
         "Upload-Zwischenspeichers)."),
        # why a file cannot be read (ingest.load, ingest.pipeline), after its name
        (r"the PDF is encrypted with a password; provide an unencrypted copy",
         "Die PDF ist mit einem Passwort verschlüsselt; bitte eine unverschlüsselte Kopie verwenden."),
        (r"not a readable PDF \((?P<detail>.*)\)", "Keine lesbare PDF ({detail})."),
        (r"the PDF has no extractable text \(scanned images\?\); run OCR first",
         "Die PDF enthält keinen auslesbaren Text (gescannte Seiten?); bitte zuerst eine Texterkennung (OCR) ausführen."),
        (r"not a readable \.docx \((?P<detail>.*)\)", "Keine lesbare .docx-Datei ({detail})."),
        (r"the \.docx is too large when unpacked \((?P<detail>.*)\)", "Die .docx-Datei ist entpackt zu groß ({detail})."),
        (r"text file is neither UTF-8 nor Windows-1252", "Die Textdatei ist weder UTF-8 noch Windows-1252."),
        (r"no text left after cleaning", "Nach der Bereinigung bleibt kein Text übrig."),
        (r"named \.pdf but the content is not a PDF", "Heißt .pdf, ist aber keine PDF."),
        (r"named \.docx but the content is not a Word document", "Heißt .docx, ist aber kein Word-Dokument."),
        (r"unsupported file type \(supported: (?P<kinds>.*)\)", "Nicht unterstützter Dateityp (unterstützt: {kinds})."),
        (r"cannot read the file \((?P<detail>.*)\)", "Die Datei lässt sich nicht lesen ({detail})."),
        # a rating
        (r"no answer with id (?P<id>.+)", "Keine Antwort mit der Kennung {id} (zu alt, oder der Server wurde neu aufgesetzt)."),
    )
)
_NAMED = re.compile(r"(?P<name>[^:\n]+): (?P<reason>.+)", re.DOTALL)  # "file.pdf: <why>"


def _german_error(message: str) -> str | None:
    for pattern, german in _ERRORS_DE:
        m = pattern.fullmatch(message)
        if m is None:
            continue
        values = m.groupdict()
        if "what" in values:
            if values["what"] not in _SUBJECTS_DE:
                continue
            values["What"] = _SUBJECTS_DE[values["what"]]
        return german.format(**values)
    m = _NAMED.fullmatch(message)
    if m:
        reason = _german_error(m.group("reason"))
        return f"{m.group('name')}: {reason}" if reason else None
    return None


def error_message(lang: str, error: object) -> str:
    """A library error (or its message) as the UI shows it: in German for a
    German UI where the error is a known one, else its own (English) words."""
    message = str(error).strip()
    if lang == "de":
        return _german_error(message) or message
    return message


def word(lang: str, kind: str, value: object) -> str:
    """The word for a value the library reports (``kind`` "status": added,
    failed, …; "source": corpus, upload, index); the value itself when unknown."""
    key = f"{kind}_{value}"
    return text(lang, key) if key in TEXTS[DEFAULT] else str(value or "")
