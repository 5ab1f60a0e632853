"""The `lsn` command through typer's CliRunner: JSON output of `search` and
`ingest`, `ingest --if-empty`, and clean error messages (no tracebacks)."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from conftest import CORPUS, excerpt, clean_settings
from ingest.pipeline import ingest
from lsn_assistant.cli import app
from lsn_assistant.config import Settings, get_settings

STRATEGY_EN = "lsn-cluster-strategy-2024-en.txt"
STRATEGY_2030 = "lsn-strategie-2030-de.txt"
RESULT_KEYS = {"rank", "score", "chunk_id", "doc", "title", "page", "section", "lang", "text"}

runner = CliRunner()




def write_corpus(folder, with_2030: bool = True):
    folder.mkdir(parents=True, exist_ok=True)
    text = excerpt(STRATEGY_EN, "This strategy should now be implemented jointly", 1000)
    (folder / STRATEGY_EN).write_text(text[: text.index("Life Science locations.") + 23] + "\n", encoding="utf-8")
    if with_2030:
        (folder / STRATEGY_2030).write_text(excerpt(STRATEGY_2030, "1. Sichtbarkeit von LSN erhöhen", 1200), encoding="utf-8")
    shutil.copy(CORPUS / "manifest.toml", folder)
    return folder


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> Settings:
    root = tmp_path_factory.mktemp("cli-index")
    settings = clean_settings(data_dir=root / "data", corpus_dir=write_corpus(root / "corpus"))
    report = ingest(settings=settings, progress=False)
    assert not report.failed and report.index_size >= 2
    return settings


@pytest.fixture
def use_index(index, monkeypatch):
    """Point the environment (what `lsn` reads) at the shared index."""
    monkeypatch.setenv("LSN_DATA_DIR", str(index.data_dir))
    monkeypatch.setenv("LSN_CORPUS_DIR", str(index.corpus_dir))
    get_settings.cache_clear()
    return index


def lsn(*args):
    return runner.invoke(app, list(args))


def assert_clean_error(result, code: int, mentions: str):
    """A message on stderr and an exit code; no exception escaped, no traceback."""
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stderr.startswith("error: "), result.stderr
    assert mentions in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


# ---- search


def test_search_json(use_index):
    result = lsn("search", "Wie wird die Sichtbarkeit von LSN erhöht?", "--k", "2", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert list(body) == ["results"]
    results = body["results"]
    assert [r["rank"] for r in results] == [1, 2]
    assert all(RESULT_KEYS <= set(r) for r in results)
    assert results[0]["doc"] == STRATEGY_2030
    assert results[0]["score"] >= results[1]["score"]


@pytest.mark.parametrize(
    "options, expected",
    [
        (["--lang", "en"], {STRATEGY_EN}),
        (["--year", "2025"], {STRATEGY_2030}),
        (["--doc", STRATEGY_EN], {STRATEGY_EN}),
        (["--doc", STRATEGY_EN, "--doc", STRATEGY_2030], {STRATEGY_EN, STRATEGY_2030}),
        (["--lang", "en", "--year", "2025"], set()),
    ],
)
def test_search_json_filters(use_index, options, expected):
    result = lsn("search", "Life Science Nord Sichtbarkeit", "--json", *options)
    assert result.exit_code == 0, result.output
    assert {r["doc"] for r in json.loads(result.stdout)["results"]} == expected


def test_search_text_output(use_index):
    result = lsn("search", "Leuchtturm-Event", "--k", "2")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("[1] ")
    assert "\n[2] " in result.stdout and "[3]" not in result.stdout
    assert STRATEGY_2030 in result.stdout
    none = lsn("search", "Leuchtturm-Event", "--lang", "fr")
    assert none.exit_code == 0 and none.stdout.strip() == "no results"


@pytest.mark.parametrize(
    "args, mentions",
    [
        (["search", ""], "empty"),
        (["search", "   "], "empty"),
        (["search", "Life Science Nord", "--k", "0"], "k must be between 1 and 100"),
        (["search", "Life Science Nord", "--k", "101"], "k must be between 1 and 100"),
        (["search", "x" * 5000], "too long"),
    ],
)
def test_search_bad_input_is_a_clean_error(use_index, args, mentions):
    assert_clean_error(lsn(*args), 1, mentions)


def test_search_bad_option_is_a_usage_error(use_index):
    result = lsn("search", "Life Science Nord", "--year", "neunzehn")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_search_on_empty_index_says_to_ingest():
    assert_clean_error(lsn("search", "Life Science Nord"), 1, "lsn ingest")


def test_search_json_on_empty_index_is_still_an_error():
    assert_clean_error(lsn("search", "Life Science Nord", "--json"), 1, "lsn ingest")


# ---- ingest


def test_ingest_json_reports_counts_and_if_empty(tmp_path):
    write_corpus(tmp_path / "corpus", with_2030=False)  # the test's LSN_CORPUS_DIR
    n_emb = len(get_settings().embedders)

    # an empty index: --if-empty ingests
    result = lsn("ingest", "--if-empty", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)  # nothing but the JSON on stdout
    assert report["counts"] == {"added": 1}
    assert report["index_size"] >= 1
    assert report["embedded"] == report["index_size"] * n_emb
    assert report["location"] == str(tmp_path / "data" / "chroma")
    (entry,) = report["files"]
    assert entry["doc"] == STRATEGY_EN and entry["status"] == "added" and entry["error"] is None
    assert entry["chunks"] == report["index_size"]

    # now it holds chunks: --if-empty does nothing
    again = lsn("ingest", "--if-empty")
    assert again.exit_code == 0, again.output
    assert "not ingesting" in again.stdout

    # a plain re-run finds it unchanged and embeds nothing
    rerun = lsn("ingest", "--json")
    assert rerun.exit_code == 0, rerun.output
    rerun_report = json.loads(rerun.stdout)
    assert rerun_report["counts"] == {"unchanged": 1}
    assert rerun_report["embedded"] == 0
    assert rerun_report["index_size"] == report["index_size"]


def test_ingest_if_empty_on_a_non_empty_index_does_not_run_the_pipeline(use_index, monkeypatch):
    import ingest.pipeline

    def must_not_run(*args, **kwargs):
        raise AssertionError("ingest ran although the index holds chunks")

    monkeypatch.setattr(ingest.pipeline, "ingest", must_not_run)
    result = lsn("ingest", "--if-empty")
    assert result.exit_code == 0, (result.output, result.exception)
    assert "not ingesting" in result.stdout


def test_ingest_text_output_of_an_unchanged_index(use_index):
    result = lsn("ingest")
    assert result.exit_code == 0, result.output
    assert f"unchanged {STRATEGY_EN}" in result.stdout
    assert "0 embedded" in result.stdout


def test_ingest_failed_file_exits_2_with_the_reason(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "fake.pdf").write_text("I am not a PDF at all", encoding="utf-8")
    result = lsn("ingest", "--json")
    assert result.exit_code == 2, result.output
    report = json.loads(result.stdout)
    assert report["counts"] == {"failed": 1}
    assert "not a PDF" in report["files"][0]["error"]
    text = lsn("ingest")
    assert text.exit_code == 2
    assert "failed" in text.stdout and "fake.pdf" in text.stdout and "not a PDF" in text.stdout


def test_ingest_missing_path(tmp_path):
    result = lsn("ingest", str(tmp_path / "nope.txt"), "--json")
    assert result.exit_code == 2, result.output
    report = json.loads(result.stdout)
    assert report["files"][0]["status"] == "failed"
    assert "no such file" in report["files"][0]["error"]


def test_bad_setting_is_a_clean_error(monkeypatch):
    monkeypatch.setenv("LSN_CHROMA_URL", "localhost:8000")  # no scheme
    get_settings.cache_clear()
    assert_clean_error(lsn("search", "Life Science Nord"), 1, "LSN_CHROMA_URL")
    assert_clean_error(lsn("ingest"), 1, "LSN_CHROMA_URL")


def test_serve_workers_need_a_chroma_server():
    result = lsn("serve", "--workers", "2")
    assert_clean_error(result, 2, "LSN_CHROMA_URL")
