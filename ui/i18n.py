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

from lsn_assistant.i18n import UI

DEFAULT = "en"

TEXTS: dict[str, dict[str, str]] = UI  # lsn_assistant/i18n.py: the one table of labels

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
