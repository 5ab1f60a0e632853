"""The UI in a real browser: `lsn serve` on a free port over a two-document
index (a German PDF of two pages, an English Markdown file), driven by
Debian's headless Chromium through Playwright (never a downloaded browser).

Ask, see the streamed answer with its [n] link and its source (title, page,
the quote highlighted in its passage); follow the link; ask a follow-up; copy;
an unanswerable question shown as "not in the documents" with the related
passages; the language filter; German labels for a German browser, English
ones otherwise, and the library's errors in German too; the sources panel's
heading uncovered and the header in one font; a conversation kept by the
browser, reopened after a reload, continued and deleted; an uploaded PDF's
citation opening its page in the viewer with the quote highlighted; the
Documents tab with a refused and an accepted upload, and a delete, its table
within the window; the Draft tab (a topic and a point -> a section with its [n]
evidence and the reference list, edited, downloaded as .md and as .docx); the
Eval tab over runs stored in the server's runs folder (listed, compared, a new
one found by Refresh and picked); the Draft and Eval tabs in German.

Screenshots of the Draft and Eval tabs go to $LSN_SCREENSHOTS when it is set.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import docx
import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from ask_index import STRATEGY_DE, STRATEGY_EN, passage
from conftest import lsn_serve, make_pdf
from eval.runs import RUNS_DIR_NAME, save_run
from eval.summary import summarize

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LSN = Path(sys.executable).parent / "lsn"
API_KEY = "browser-test-key"
DE_DOC = "clusterstrategie-2024.pdf"
EN_DOC = "cluster-strategy-2024.md"
MANIFEST = f"""
[documents."{DE_DOC}"]
title = "Clusterstrategie 2024"
year = 2019
lang = "de"

[documents."{EN_DOC}"]
title = "Cluster Strategy 2024"
year = 2019
lang = "en"
"""
QUESTION = "Wie viele Akteure vereint der Life Science Nord e. V.?"
FOLLOW_UP = "Und aus welchen Bereichen kommen sie?"
UNANSWERABLE = "How much does the platinum partner programme cost per year?"
TIMEOUT_MS = 60_000  # generous: the machine may be busy with other tests
DRAFT_TOPIC = "Life Science Nord"
DRAFT_POINT = "How many stakeholders does Life Science Nord bring together?"
SCREENSHOTS = os.environ.get("LSN_SCREENSHOTS")  # a folder for screenshots of the tabs, when set

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"Debian's chromium is not installed at {CHROMIUM} (`make test` installs it)"
)


def write_corpus(folder: Path) -> None:
    folder.mkdir()
    make_pdf(
        folder / DE_DOC,
        [
            passage(STRATEGY_DE, "Diese Strategie gilt es nunmehr gemeinsam", "erfolgreich in die Zukunft zu führen."),
            passage(STRATEGY_DE, "Gestaffelt nach den Edelmetallen", "mit all seinen Akteuren."),
        ],
    )
    english = passage(STRATEGY_EN, "This strategy should now be implemented jointly", "into the future as Life Science locations.")
    (folder / EN_DOC).write_text("# Implementation\n\n" + english, encoding="utf-8")
    (folder / "manifest.toml").write_text(MANIFEST, encoding="utf-8")


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """The server's folder: corpus/, data/ (the index, the eval runs), serve.log."""
    return tmp_path_factory.mktemp("browser")


@pytest.fixture(scope="module")
def server(root):
    """The URL of `lsn serve` over the two-document index, with an API key."""
    write_corpus(root / "corpus")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LSN_")}
    env.update(
        LSN_DATA_DIR=str(root / "data"),
        LSN_CORPUS_DIR=str(root / "corpus"),
        LSN_API_KEY=API_KEY,
        LSN_CHUNK_WORDS="80",
        LSN_CHUNK_MAX_WORDS="150",
        GRADIO_ANALYTICS_ENABLED="False",
    )
    ingest = subprocess.run([str(LSN), "ingest"], cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert ingest.returncode == 0, ingest.stderr[-3000:]
    with lsn_serve(root, env) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_page(browser, server, locale: str, **context):
    ctx = browser.new_context(locale=locale, viewport={"width": 1400, "height": 1000}, **context)
    page = ctx.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server)
    return ctx, page


def ask(page, question: str) -> None:
    page.locator("#lsn-question textarea").fill(question)
    page.locator("#lsn-ask").click()


def fits(page, selector: str) -> bool:
    """Whether the table in ``selector`` ends inside it (no column pushed out of view)."""
    return page.evaluate(
        """(selector) => {
            const box = document.querySelector(selector), table = box.querySelector('table');
            return table.getBoundingClientRect().right <= box.getBoundingClientRect().right + 1;
        }""",
        selector,
    )


def fonts_of(page, selector: str) -> list[dict]:
    """The fonts Chromium drew the element's text with (DevTools protocol)."""
    page.evaluate("document.fonts.ready.then(() => true)")
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    return cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]


def screenshot(page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def test_ask_shows_the_answer_and_its_source(browser, server):
    ctx, page = open_page(browser, server, "en-US", permissions=["clipboard-read", "clipboard-write"])
    try:
        expect(page.locator("#lsn-mode")).to_contain_text("Answer mode: extractive")
        ask(page, QUESTION)
        chat = page.locator("#lsn-chat")
        expect(chat).to_contain_text("rund 250 Akteure")
        quote = page.locator("#turn-1 mark", has_text="rund 250 Akteure")  # the answer may cite more places
        expect(quote).to_have_id(re.compile(r"^src-1-\d+$"))
        expect(chat.locator(f"a.lsn-cite[href='#{quote.get_attribute('id')}']")).to_have_count(1)
        source = quote.locator("xpath=ancestor::li[1]")
        expect(source).to_contain_text("Clusterstrategie 2024")
        expect(source.locator(".lsn-where")).to_have_text(f"{DE_DOC} · p. 1")
        expect(source.locator("a.lsn-pdf")).to_have_text("Open page 1 of the PDF ↗")  # the corpus PDF's page
        expect(page.locator("#turn-1 .lsn-badge")).to_have_text("extractive")

        page.locator("#lsn-copy").click()
        expect(page.locator("#lsn-copy")).to_have_class(re.compile("lsn-copied"), timeout=1000)  # for 1.5 s
        copied = page.evaluate("navigator.clipboard.readText()")
        assert "rund 250 Akteure" in copied and "Quellen:" in copied and f"Clusterstrategie 2024 ({DE_DOC}, S. 1)" in copied

        ask(page, FOLLOW_UP)  # "they": the follow-up keeps the first answer's document
        expect(chat.locator("a.lsn-cite[href='#src-2-1']")).to_have_count(1)
        expect(page.locator("#src-2-1").locator("xpath=ancestor::li[1]")).to_contain_text(DE_DOC)
        expect(page.locator("#turn-1")).not_to_have_attribute("open", "")

        url = page.url
        chat.locator("a.lsn-cite[href='#src-1-1']").click()  # an older answer's source: its group opens
        expect(page.locator("#turn-1")).to_have_attribute("open", "")
        expect(page.locator("#src-1-1")).to_be_in_viewport()
        expect(page.locator("#src-1-1")).to_have_class("lsn-flash")
        assert page.url == url and len(ctx.pages) == 1  # no navigation, no new tab
    finally:
        ctx.close()


def test_not_in_the_documents_shows_the_related_passages(browser, server):
    ctx, page = open_page(browser, server, "en-US")
    try:
        ask(page, UNANSWERABLE)
        expect(page.locator("#lsn-chat .lsn-abstained")).to_have_text("The documents do not answer this.")
        panel = page.locator("#turn-1")
        expect(panel.locator(".lsn-verdict")).to_have_text("Not in the documents")
        expect(panel.locator(".lsn-related li").first).to_contain_text("Platin")
    finally:
        ctx.close()


def test_the_language_filter_narrows_the_sources(browser, server):
    ctx, page = open_page(browser, server, "en-US")
    try:
        page.locator("#lsn-filters").click()
        page.get_by_label("English").check()
        ask(page, QUESTION)
        places = page.locator("#turn-1 .lsn-where")
        expect(places.first).to_be_visible()
        assert {text.split(" · ")[0] for text in places.all_inner_texts()} == {EN_DOC}
    finally:
        ctx.close()


@pytest.mark.parametrize(
    "locale, words",
    [
        ("de-DE", {"tab": "Dokumente", "ask": "Fragen", "mode": "Antwortmodus: extraktiv", "empty": "Hier erscheinen"}),
        ("en-GB", {"tab": "Documents", "ask": "Ask", "mode": "Answer mode: extractive", "empty": "appear here"}),
    ],
)
def test_labels_follow_the_browser_language(browser, server, locale, words):
    ctx, page = open_page(browser, server, locale)
    try:
        expect(page.locator("#lsn-ask")).to_have_text(words["ask"])
        expect(page.get_by_role("tab", name=words["tab"])).to_be_visible()
        expect(page.locator("#lsn-mode")).to_contain_text(words["mode"])
        expect(page.locator("#lsn-sources-panel")).to_contain_text(words["empty"])
        assert "__i18n__" not in page.locator("body").inner_text()
    finally:
        ctx.close()


def test_documents_upload_and_delete_behind_the_api_key(browser, server, tmp_path):
    note = tmp_path / "notiz.txt"
    note.write_text("Notiz.\n\nDas Netzwerk trifft sich jedes Jahr im Herbst in Hamburg.\n", encoding="utf-8")
    ctx, page = open_page(browser, server, "de-DE")
    try:
        page.get_by_role("tab", name="Dokumente").click()
        table = page.locator("#lsn-corpus")
        expect(table).to_contain_text("Clusterstrategie 2024")
        expect(table).to_contain_text(EN_DOC)
        status = page.locator("#lsn-doc-status")

        page.locator("#lsn-upload-file input[type=file]").set_input_files(str(note))
        page.locator("#lsn-api-key input").fill("falsch")
        page.locator("#lsn-upload").click()
        expect(status).to_have_text("⚠ Falscher oder fehlender API-Schlüssel.")  # the library's words, in German

        page.locator("#lsn-api-key input").fill(API_KEY)
        page.locator("#lsn-upload").click()
        expect(status).to_contain_text("notiz.txt: hinzugefügt")
        expect(table).to_contain_text("hochgeladen")

        page.locator("#lsn-delete-doc input").fill("notiz")
        page.get_by_role("option", name="notiz.txt").click()
        page.locator("#lsn-delete").click()
        expect(status).to_contain_text("notiz.txt ist nicht mehr im Index.")
        expect(table).not_to_contain_text("notiz.txt")
    finally:
        ctx.close()


def test_german_errors_an_uncovered_sources_heading_and_a_header_in_one_font(browser, server):
    ctx, page = open_page(browser, server, "de-DE")
    try:
        ask(page, "Wie " * 700)  # longer than a question may be: the library's error, in German
        expect(page.locator("#lsn-chat .lsn-error")).to_have_text(
            re.compile(r"^⚠ Die Frage ist zu lang \(\d+ Zeichen; höchstens 2000\)\.$"))
        ask(page, QUESTION)
        expect(page.locator("#turn-2 mark").first).to_be_visible()
        head = page.locator("#lsn-sources-panel .lsn-sources-head")
        expect(head).to_have_text("Quellen")
        covered = page.evaluate(
            """() => {
                const head = document.querySelector('#lsn-sources-panel .lsn-sources-head');
                const r = head.getBoundingClientRect();
                const top = document.elementFromPoint(r.left + 4, r.top + r.height / 2);
                return head.contains(top) ? '' : top.outerHTML.slice(0, 300);
            }"""
        )
        assert covered == ""  # Gradio's floating label lay over the panel's first line
        fonts = fonts_of(page, "#lsn-header h1")
        assert len(fonts) == 1 and fonts[0]["isCustomFont"], fonts  # no glyph from a fallback font
        screenshot(page, "chat-de")
    finally:
        ctx.close()


def test_a_conversation_is_kept_by_the_browser(browser, server):
    """Asked, the page reloaded: the conversation is in the browser's list;
    reopened, its answer and sources are back; continued with a follow-up
    (one conversation, not two); deleted, it is gone, after a reload too."""
    ctx, page = open_page(browser, server, "en-US")
    try:
        chat = page.locator("#lsn-chat")
        kept = page.locator("#lsn-conversations input")
        ask(page, QUESTION)
        expect(chat).to_contain_text("rund 250 Akteure")
        expect(kept).to_have_value(re.compile(f"^{re.escape(QUESTION)} · "))  # saved; the one shown

        page.reload()
        expect(page.locator("#lsn-ask")).to_be_visible()
        expect(chat).not_to_contain_text("rund 250 Akteure")  # a new page starts a new conversation
        expect(kept).to_have_value("")
        kept.click()
        page.get_by_role("option", name=re.compile(f"^{re.escape(QUESTION)} · ")).click()
        expect(chat).to_contain_text("rund 250 Akteure")
        quote = page.locator("#turn-1 mark", has_text="rund 250 Akteure")
        expect(quote.locator("xpath=ancestor::li[1]").locator(".lsn-where")).to_have_text(f"{DE_DOC} · p. 1")
        expect(chat.locator(f"a.lsn-cite[href='#{quote.get_attribute('id')}']")).to_have_count(1)

        ask(page, FOLLOW_UP)  # continued: "they" still means the first answer's stakeholders
        expect(chat.locator("a.lsn-cite[href='#src-2-1']")).to_have_count(1)
        expect(page.locator("#src-2-1").locator("xpath=ancestor::li[1]")).to_contain_text(DE_DOC)

        page.reload()
        expect(page.locator("#lsn-ask")).to_be_visible()
        kept.click()
        option = page.get_by_role("option", name=re.compile(f"^{re.escape(QUESTION)} · "))
        expect(option).to_have_count(1)
        expect(page.get_by_role("option")).to_have_count(1)
        option.click()
        expect(chat.locator("a.lsn-cite[href='#src-2-1']")).to_have_count(1)  # with its follow-up
        screenshot(page, "conversation-reopened")

        page.locator("#lsn-delete-conversation").click()
        expect(chat).not_to_contain_text("rund 250 Akteure")
        expect(kept).to_have_value("")
        page.reload()
        expect(page.locator("#lsn-ask")).to_be_visible()
        kept.click()
        expect(page.get_by_role("option")).to_have_count(0)
    finally:
        ctx.close()


PDF_DOC = "bioregion-nord-annual-report-2025-marine-biotechnology-conference-kiel.pdf"
PDF_TITLE = "Bioregion Nord: Annual Report 2025 of the Association, with the Marine Biotechnology Conference in Kiel"
PDF_PAGES = [
    "Bioregion Nord Annual Report 2025.\n\nThe association Bioregion Nord was founded in Kiel. "
    "Its office lies near the harbour and employs nine people.",
    "Marine Biotechnology Conference.\n\nThe marine biotechnology conference of Bioregion Nord took place in Kiel "
    "in May. It was attended by 412 guests from eleven countries.",
]
PDF_QUESTION = "How many guests attended the marine biotechnology conference in Kiel?"


def test_an_uploaded_pdf_citation_opens_its_page(browser, server, tmp_path):
    """A PDF the test makes, uploaded: its citation links the cited page; the
    viewer (pdf.js from this server) draws that page and highlights the quote."""
    pdf = make_pdf(tmp_path / PDF_DOC, PDF_PAGES).read_bytes()
    auth = {"Authorization": f"Bearer {API_KEY}"}
    added = httpx.post(f"{server}/api/documents", headers=auth, files={"file": (PDF_DOC, pdf)},
                       data={"title": PDF_TITLE, "lang": "en"}, timeout=300)
    assert added.status_code == 200, added.text
    ctx, page = open_page(browser, server, "en-US")
    try:
        served = httpx.get(f"{server}/api/documents/{PDF_DOC}/file", timeout=30)
        assert served.headers["content-type"] == "application/pdf" and served.content == pdf
        ask(page, PDF_QUESTION)
        expect(page.locator("#lsn-chat")).to_contain_text("412 guests")
        source = page.locator("#turn-1 li.lsn-source").filter(has=page.locator(".lsn-where", has_text=f"{PDF_DOC} · p. 2"))
        link = source.locator("a.lsn-pdf")
        expect(link).to_have_text("Open page 2 of the PDF ↗")
        expect(page.locator(f"#turn-1 li.lsn-source:has-text('{EN_DOC}') a.lsn-pdf")).to_have_count(0)  # text keeps its passage view

        with ctx.expect_page() as opened:
            link.click()
        viewer = opened.value
        viewer.set_default_timeout(TIMEOUT_MS)
        expect(viewer.locator("#lsn-viewer-page")).to_have_attribute("data-page", "2")
        expect(viewer.locator("#lsn-viewer-where")).to_have_text("Page 2 of 2")
        expect(viewer.locator("#lsn-viewer-status")).to_have_text(re.compile(r"^The (quote is|\d+ quotes are) highlighted\.$"))
        expect(viewer.locator(".lsn-hit").first).to_be_visible()
        assert "412 guests" in " ".join(viewer.locator(".lsn-hit").all_inner_texts())
        ink = viewer.evaluate(
            """() => {
                const c = document.getElementById('lsn-viewer-canvas');
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let dark = 0;
                for (let i = 0; i < d.length; i += 4) if (d[i] < 100) dark++;
                return dark;
            }"""
        )
        assert ink > 500  # the page itself is drawn, not only its text laid out for the highlight
        screenshot(viewer, "pdf-page")
        viewer.locator("#lsn-viewer-prev").click()
        expect(viewer.locator("#lsn-viewer-page")).to_have_attribute("data-page", "1")
        expect(viewer.locator("#lsn-viewer-where")).to_have_text("Page 1 of 2")

        page.get_by_role("tab", name="Documents").click()
        expect(page.locator("#lsn-corpus")).to_contain_text(PDF_TITLE)
        assert fits(page, "#lsn-corpus")  # a long file name and title: every column still in view
    finally:
        ctx.close()
        httpx.delete(f"{server}/api/documents/{PDF_DOC}", headers=auth, timeout=120)


# ---------------------------------------------------------------- Draft


def test_draft_build_edit_and_download(browser, server):
    ctx, page = open_page(browser, server, "en-US")
    try:
        page.get_by_role("tab", name="Draft").click()
        page.locator("#lsn-draft-topic textarea").fill(DRAFT_TOPIC)
        page.locator("#lsn-draft-points textarea").fill(DRAFT_POINT)
        page.locator("#lsn-draft-build").click()

        status = page.locator("#lsn-draft-status")
        expect(status).to_contain_text(re.compile(r"1 section, \d+ sources?; prose: the documents' own sentences \(extractive\)\."))
        editor = page.locator("#lsn-draft-editor textarea")
        expect(editor).to_have_value(re.compile(r"\[1\]"))
        built = editor.input_value()
        title, section, refs = re.fullmatch(r"# (.+?)\n\n## (.+?)\n\n.*\n\n## References\n\n(.+)\n?", built, re.S).groups()
        assert (title, section) == (DRAFT_TOPIC, DRAFT_POINT)
        assert "**Evidence**" in built and re.search(r"^> “.*250 stakeholders.*” \[\d\] — ", built, re.M)
        refs = refs.splitlines()
        assert refs[0].startswith("- [1] ") and all(re.search(rf"\(({DE_DOC}|{EN_DOC})\)$", r) for r in refs)
        preview = page.locator("#lsn-draft-preview")
        expect(preview.locator("h2", has_text="References")).to_be_visible()
        expect(preview.locator("blockquote").first).to_contain_text("[1]")

        # the title replaced and a paragraph added, as one paste (no key events): the preview and downloads follow
        edited = built.replace(DRAFT_TOPIC, "Our position paper\n\nAn opening of our own, citing [1].", 1)
        editor.fill(edited)
        expect(editor).to_have_value(edited)
        expect(preview.locator("h1")).to_have_text("Our position paper")
        expect(preview).to_contain_text("An opening of our own, citing [1].")
        expect(status).to_contain_text("1 section, ")  # the opening is no section of its own
        screenshot(page, "draft-en")

        with page.expect_download() as download:
            page.locator("#lsn-draft-md").click()
        assert download.value.suggested_filename == "Our-position-paper.md"
        markdown = Path(download.value.path()).read_text(encoding="utf-8")
        assert markdown.startswith("# Our position paper\n\nAn opening of our own, citing [1].\n\n## ")
        assert "\n## References\n\n- [1] " in markdown

        with page.expect_download() as download:
            page.locator("#lsn-draft-docx").click()
        assert download.value.suggested_filename == "Our-position-paper.docx"
        document = docx.Document(download.value.path())
        paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
        assert paragraphs[0] == ("Title", "Our position paper")
        assert ("Normal", "An opening of our own, citing [1].") in paragraphs
        assert [t for style, t in paragraphs if style == "Heading 1"] == [DRAFT_POINT, "References"]
        assert any("250 stakeholders" in t for style, t in paragraphs if style == "Quote")
        references = [t for _, t in paragraphs[[t for _, t in paragraphs].index("References") + 1 :]]
        assert references == [r[2:] for r in refs]  # the list as the editor showed it, without its bullets
    finally:
        ctx.close()


# ---------------------------------------------------------------- Eval


def eval_row(qid: str, question: str, **measures: float) -> dict:
    """A question's row as `lsn eval` stores it (eval/runner.py), with the given measures."""
    return {
        "id": qid, "question": question, "type": "fact", "lang": "de", "answerable": True, "evidence": [],
        "errors": {"search": None, "ask": None}, "answer": None, "measures": measures,
    }


def store_run(runs_dir: Path, name: str, created: str, scores: dict[str, tuple[float, float]]) -> None:
    """A run of the browser test set: per question (hit@5, mrr)."""
    rows = [eval_row(qid, f"Frage {qid}?", **{"hit@5": hit, "mrr": mrr}) for qid, (hit, mrr) in scores.items()]
    manifest = {
        "name": name, "created": created, "git": {"commit": "0123456789abcdef", "dirty": False},
        "settings": {"hash": "s1"}, "index": {"fingerprint": "i1"}, "testsets": [{"path": "eval/testsets/browser.jsonl"}],
    }
    save_run({"manifest": manifest, **summarize(rows), "rows": rows}, runs_dir / name)


@pytest.fixture(scope="module")
def runs_dir(root) -> Path:
    """The server's runs folder with two runs: q1 worse in the newer one, q2 better."""
    runs_dir = root / "data" / RUNS_DIR_NAME
    store_run(runs_dir, "baseline", "2025-01-01T10:00:00+00:00", {"q1": (1, 1.0), "q2": (0, 0.0), "q3": (1, 0.5)})
    store_run(runs_dir, "tuned", "2025-01-02T10:00:00+00:00", {"q1": (0, 0.5), "q2": (1, 1.0), "q3": (1, 0.5)})
    return runs_dir


def test_eval_lists_runs_and_compares_two(browser, server, runs_dir):
    ctx, page = open_page(browser, server, "en-GB")
    try:
        page.get_by_role("tab", name="Evaluation").click()
        runs = page.locator("#lsn-eval-runs")
        for word in ("run", "created", "test sets", "hit@5", "tuned", "baseline", "0123456", "browser"):
            expect(runs).to_contain_text(word)
        expect(page.locator("#lsn-eval-a input")).to_have_value("baseline (3 questions: browser)")
        expect(page.locator("#lsn-eval-b input")).to_have_value("tuned (3 questions: browser)")
        deltas = page.locator("#lsn-eval-deltas")
        expect(deltas).to_contain_text("95% CI")
        # MRR: A (1 + 0 + 0.5) / 3, B (0.5 + 1 + 0.5) / 3, B − A, then the CI, p and the pairs
        expect(deltas.get_by_role("row", name=re.compile(r"^mrr 0\.500 0\.667 \+0\.167 \[.+\] [\d.]+ 3$"))).to_be_visible()
        changes = page.locator("#lsn-eval-changes")
        expect(changes).to_contain_text("A baseline → B tuned: 3 questions in both.")
        expect(changes).to_contain_text("Got worse (1)")
        worse = re.compile(r"q1 \(fact, de\): “.+” — hit@5 1\.000 → 0\.000, mrr 1\.000 → 0\.500")
        expect(changes.locator("li", has_text=worse)).to_have_count(1)  # with the question's text
        expect(changes).to_contain_text("Got better (1)")
        assert fits(page, "#lsn-eval-runs") and fits(page, "#lsn-eval-deltas")
        screenshot(page, "eval-en")

        store_run(runs_dir, "regressed", "2025-01-03T10:00:00+00:00", {"q1": (0, 0.0), "q2": (0, 0.0), "q3": (0, 0.0)})
        page.locator("#lsn-eval-refresh").click()
        expect(runs).to_contain_text("regressed")
        page.locator("#lsn-eval-b input").click()
        page.get_by_role("option", name="regressed (3 questions: browser)").click()
        expect(changes).to_contain_text("A baseline → B regressed: 3 questions in both.")
        expect(changes).to_contain_text("Got worse (2)")
        expect(changes).to_contain_text("Got better (0)")

        # a run written elsewhere (lsn eval --out DIR) is opened by its path
        store_run(runs_dir.parent / "elsewhere", "by-path", "2025-01-04T10:00:00+00:00", {"q1": (1, 1.0), "q2": (1, 1.0), "q3": (1, 1.0)})
        page.locator("#lsn-eval-path input, #lsn-eval-path textarea").first.fill(str(runs_dir.parent / "elsewhere" / "by-path"))
        page.locator("#lsn-eval-open").click()
        expect(page.locator("#lsn-eval-open-status")).to_contain_text("Opened by-path")
        expect(runs).to_contain_text("by-path")
        expect(page.locator("#lsn-eval-b input")).to_have_value("by-path (3 questions: browser)")
    finally:
        ctx.close()


# ---------------------------------------------------------------- German


def test_draft_and_eval_tabs_in_german(browser, server, runs_dir):
    ctx, page = open_page(browser, server, "de-DE")
    try:
        page.get_by_role("tab", name="Entwurf").click()
        expect(page.locator("#lsn-draft-build")).to_have_text("Entwurf erstellen")
        expect(page.get_by_label("Thema", exact=True)).to_be_visible()
        expect(page.get_by_label("Punkte (optional, einer pro Zeile)")).to_be_visible()
        expect(page.locator("#lsn-draft-lang")).to_contain_text("Sprache des Entwurfs")
        expect(page.get_by_label("Sprache des Themas")).to_be_checked()  # made on the server, by Accept-Language
        expect(page.locator("#lsn-draft-md")).to_have_text(".md herunterladen")
        expect(page.locator("#lsn-draft-docx")).to_have_text(".docx herunterladen")
        expect(page.get_by_text("Kein LLM eingerichtet")).to_be_visible()
        assert "__i18n__" not in page.locator("body").inner_text()

        page.locator("#lsn-draft-topic textarea").fill("Life Science Nord")
        page.locator("#lsn-draft-points textarea").fill(QUESTION)
        page.locator("#lsn-draft-build").click()
        expect(page.locator("#lsn-draft-status")).to_contain_text(re.compile(r"1 Abschnitt, \d+ Quellen?; Fließtext: "))
        expect(page.locator("#lsn-draft-preview h2", has_text="Quellen")).to_be_visible()  # the draft is German too
        screenshot(page, "draft-de")

        page.get_by_role("tab", name="Evaluation").click()
        expect(page.locator("#lsn-eval-runs")).to_contain_text("Gespeicherte Läufe")
        expect(page.locator("#lsn-eval-runs")).to_contain_text("Lauf")
        expect(page.locator("#lsn-eval-deltas")).to_contain_text("B − A je Maß")
        expect(page.locator("#lsn-eval-deltas")).to_contain_text("Differenz")
        expect(page.locator("#lsn-eval-a")).to_contain_text("A (Vergleichsbasis)")
        expect(page.locator("#lsn-eval-changes")).to_contain_text("Fragen in beiden.")
        expect(page.locator("#lsn-eval-changes")).to_contain_text("Schlechter geworden")
        expect(page.locator("#lsn-eval-refresh")).to_have_text("Aktualisieren")
        screenshot(page, "eval-de")
        assert "__i18n__" not in page.locator("body").inner_text()
    finally:
        ctx.close()


def test_a_disliked_answer_becomes_a_test_set_candidate(browser, server, root, tmp_path):
    """👎 with a comment in the chat; `lsn feedback export` then holds it as a
    candidate that `lsn eval check` accepts once its key facts are filled in."""
    ctx, page = open_page(browser, server, "en-US")
    try:
        ask(page, QUESTION)
        expect(page.locator("#lsn-chat")).to_contain_text("rund 250 Akteure")
        page.locator("#lsn-rating-comment textarea").fill("Die Zahl der Mitglieder fehlt.")
        page.locator("#lsn-chat button[aria-label='Dislike']").last.click()
        expect(page.locator("#lsn-rating-status")).to_contain_text("Thank you: your 👎 is stored with the answer")
        expect(page.locator("#lsn-rating-comment textarea")).to_have_value("")
        screenshot(page, "feedback")
    finally:
        ctx.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LSN_")}
    env.update(LSN_DATA_DIR=str(root / "data"), LSN_CORPUS_DIR=str(root / "corpus"))
    out = tmp_path / "candidates.jsonl"
    done = subprocess.run([str(LSN), "feedback", "export", "--rating", "down", "--out", str(out)], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    (item,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert item["question"] == QUESTION and item["feedback"]["comment"] == "Die Zahl der Mitglieder fehlt."
    assert item["source"] == "feedback" and item["evidence"]
    check = [str(LSN), "eval", "check", str(out)]
    refused = subprocess.run(check, cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "key facts to be filled in" in refused.stdout
    out.write_text(json.dumps(dict(item, key_facts=["250"]), ensure_ascii=False) + "\n", encoding="utf-8")
    accepted = subprocess.run(check, cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
