"""The UI in a real browser: `lsn serve` on a free port over a two-document
index (a German PDF of two pages, an English Markdown file), driven by
Debian's headless Chromium through Playwright (never a downloaded browser).

Ask, see the streamed answer with its [n] link and its source (title, page,
the quote highlighted in its passage); follow the link; ask a follow-up; copy;
an unanswerable question shown as "not in the documents" with the related
passages; the language filter; German labels for a German browser, English
ones otherwise; the Documents tab with a refused and an accepted upload, and
a delete.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from ask_index import STRATEGY_DE, STRATEGY_EN, passage
from conftest import free_port, make_pdf

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


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, seconds: float = 180) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"lsn serve exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"lsn serve did not answer /health within {seconds:.0f} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The URL of `lsn serve` over the two-document index, with an API key."""
    root = tmp_path_factory.mktemp("browser")
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
    port = free_port()
    log = root / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([str(LSN), "serve", "--port", str(port)], cwd=root, env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


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


def test_ask_shows_the_answer_and_its_source(browser, server):
    ctx, page = open_page(browser, server, "en-US", permissions=["clipboard-read", "clipboard-write"])
    try:
        expect(page.locator("#lsn-mode")).to_contain_text("Answer mode: extractive")
        ask(page, QUESTION)
        chat = page.locator("#lsn-chat")
        expect(chat).to_contain_text("rund 250 Akteure")
        link = chat.locator("a.lsn-cite").last
        expect(link).to_have_attribute("href", re.compile(r"^#src-1-\d+$"))
        quote = page.locator(link.get_attribute("href"))
        expect(quote).to_contain_text("rund 250 Akteure")
        assert quote.evaluate("e => e.tagName") == "MARK"
        source = quote.locator("xpath=ancestor::li[1]")
        expect(source).to_contain_text("Clusterstrategie 2024")
        expect(source.locator(".lsn-where")).to_have_text(f"{DE_DOC} · p. 1")
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
        expect(status).to_have_text("⚠ wrong or missing API key")

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
