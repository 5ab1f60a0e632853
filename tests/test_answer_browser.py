"""The issue's answer examples, asked in the UI in a real browser (Debian's
headless Chromium through Playwright) over the whole corpus: what a person
would expect to read, not how it is scored."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import lsn_serve
from lsn_assistant.draft import LABELS as DRAFT_LABELS
from test_browser import CHROMIUM, ask, browser, open_page  # noqa: F401 - browser: the fixture, shared

ROOT = Path(__file__).resolve().parent.parent
LSN = Path(sys.executable).parent / "lsn"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"Debian's chromium is not installed at {CHROMIUM} (`make test` installs it)"
)


def write_corpus(folder: Path) -> None:
    """The whole corpus as it ships (the five documents, SOURCES.md and the
    manifest): the examples must hold against the 2009 masterplan and the
    Go-Cluster report too, which name Life Science Nord far more often."""
    shutil.copytree(ROOT / "corpus", folder)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("answers-browser")
    write_corpus(root / "corpus")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LSN_")}
    env.update(LSN_DATA_DIR=str(root / "data"), LSN_CORPUS_DIR=str(root / "corpus"), GRADIO_ANALYTICS_ENABLED="False")
    ingest = subprocess.run([str(LSN), "ingest"], cwd=root, env=env, capture_output=True, text=True, timeout=900)
    assert ingest.returncode == 0, ingest.stderr[-3000:]
    with lsn_serve(root, env) as url:
        yield url


def answer_of(page, turn: int):
    """The text of the ``turn``-th answer in the chat, once it is complete."""
    chat = page.locator("#lsn-chat")
    expect(page.locator(f"#turn-{turn}")).to_have_count(1)
    return chat


def test_the_six_themenfelder_are_listed_without_a_running_header(browser, server):
    ctx, page = open_page(browser, server, "de-DE")
    try:
        ask(page, "Welche sechs Themenfelder hat die LSN Strategie 2030?")
        chat = answer_of(page, 1)
        for item in ("Sichtbarkeit von LSN erhöhen", "Innovationskraft stärken", "Life-Science-Standort ausbauen",
                     "Kompetenzen im Cluster fördern", "Internationalisierung fokussieren",
                     "Organisationsentwicklung von LSN vorantreiben"):
            expect(chat).to_contain_text(item)
        expect(chat).not_to_contain_text("LIFE SCIENCE NORD CLUSTER STRATEGY")
    finally:
        ctx.close()


def test_the_four_guiding_philosophies_are_named(browser, server):
    ctx, page = open_page(browser, server, "en-US")
    try:
        ask(page, "What are the four guiding philosophies of the 2024 strategy?")
        chat = answer_of(page, 1)
        for name in ("Sustainable Cluster Management", "needs-based service spectrum", "intelligent partnering",
                     "focused branding"):
            expect(chat).to_contain_text(name)
        expect(chat).not_to_contain_text("5 LIFE SCIENCE NORD CLUSTER STRATEGY 2024")
    finally:
        ctx.close()


@pytest.mark.parametrize(
    "locale, question",
    [
        ("de-DE", "Wie viele Mitglieder hat Life Science Nord?"),
        # the English text says it with more function words ("around 250 stakeholders
        # from science and industry are integrated in the cluster as members")
        ("en-US", "How many members does Life Science Nord have?"),
    ],
)
def test_the_ui_example_question_is_answered_with_the_member_count(browser, server, locale, question):
    ctx, page = open_page(browser, server, locale)
    try:
        ask(page, question)
        chat = answer_of(page, 1)
        expect(chat).to_contain_text("250")
        expect(chat.locator(".lsn-abstained")).to_have_count(0)
        # only the count: not the abbreviation entry that merely repeats the question's words
        expect(chat).not_to_contain_text("LSN Life Science Nord")
    finally:
        ctx.close()


def test_address_the_shortage_is_answered_not_read_as_a_postal_address(browser, server):
    ctx, page = open_page(browser, server, "en-US")
    try:
        ask(page, "How does LSN want to address the shortage of skilled workers?")
        chat = answer_of(page, 1)
        expect(chat).to_contain_text("skilled workers")
        expect(chat.locator(".lsn-abstained")).to_have_count(0)
    finally:
        ctx.close()


def test_a_follow_up_does_not_inherit_the_count(browser, server):
    ctx, page = open_page(browser, server, "de-DE")
    try:
        ask(page, "Wie viele Beschäftigte hat die Life-Science-Branche im Norden?")
        expect(page.locator("#turn-1")).to_have_count(1)
        ask(page, "Und was ist mit der Bruttowertschöpfung?")
        chat = answer_of(page, 2)
        expect(chat).to_contain_text("4,3 Mrd. EUR")
        expect(chat.locator(".lsn-abstained")).to_have_count(0)
    finally:
        ctx.close()


def test_an_off_topic_draft_warns_and_invents_no_sections(browser, server):
    ctx, page = open_page(browser, server, "en-US")
    try:
        page.get_by_role("tab", name="Draft").click()
        page.locator("#lsn-draft-topic textarea").fill("Quantencomputing in der Landwirtschaft")
        page.locator("#lsn-draft-build").click()
        expect(page.locator("#lsn-draft-status")).to_contain_text(DRAFT_LABELS["de"]["off_topic"])
        assert "## " not in page.locator("#lsn-draft-editor textarea").input_value()
    finally:
        ctx.close()
