"""The public face of the library: ``Assistant.open()`` then ``.search()``,
``.ask()`` and ``.ask_stream()``.

API, UI, CLI and eval all go through this one object. Every text a caller
sends is checked here once (``text.clean_text``), whichever edge it came
through; a search or an answer takes one snapshot of the index at its start
(``Retriever.index``) and uses it to the end, while uploads and deletes swap in
new ones.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from ingest import library
from ingest.pipeline import ingest, recover

from . import llm as llm_module
from .answering import Answerer, Query, labels
from .conversation import content_words
from .config import Settings, get_settings
from .conversation import Resolved, Turn, parse_history, resolve
from .errors import BadQuery, IndexEmpty, LSNError, NotFound
from .feedback import FeedbackStore, feedback_path, fingerprint, new_answer_id
from .language import unsupported_language
from .llm import LLMUnavailable
from .retrieve import MAX_QUERY_CHARS, IndexSnapshot, Retriever, rrf
from .store import ChunkStore
from .text import clean_text, sentence_spans
from .translate import Lexicon
from .types import Answer, Citation, Citations, Delta, Done, Filters, Reset, ScoredChunk, StreamEvent

MAX_ASK_K = 20
REFRESH_EVERY_S = 2.0  # how stale another process's writes may be

FILTER_KEYS = Filters.KEYS


def normalize_filters(filters: dict | Filters | None) -> Filters | None:
    """What a user sends as filters, checked: {"doc": "x"} or {"doc": ["x"]};
    unknown keys and bad values refused clearly. None restricts nothing."""
    if isinstance(filters, Filters):
        filters = filters.to_dict()
    if not filters:
        return None
    unknown = set(filters) - set(FILTER_KEYS)
    if unknown:
        raise BadQuery(f"unknown filter(s) {sorted(unknown)}; use {', '.join(FILTER_KEYS)}")
    out = {}
    for key in FILTER_KEYS:
        value = filters.get(key)
        if value in (None, "", []):
            continue
        values = value if isinstance(value, (list, tuple, set)) else [value]
        if key == "year":
            try:
                values = [int(v) for v in values]
            except (TypeError, ValueError):
                raise BadQuery("year filter values must be whole numbers") from None
            if any(not 0 <= v <= 9999 for v in values):
                raise BadQuery("year filter values must be years (0-9999)")
        else:
            values = [clean_text(str(v), f"{key} filter value", require_visible=False) for v in values]
        out[key] = values
    return Filters.of(out)


class Assistant:
    def __init__(self, settings: Settings, store: ChunkStore):
        self.settings = settings
        self.store = store
        self._generation = store.generation()  # read before the chunks: a write in between shows next check
        self._checked = time.monotonic()
        self._refreshing = threading.Lock()
        self.retriever = Retriever(store, settings)
        self.answerer = Answerer(settings)
        self._lock = threading.Lock()  # one writer (upload, delete) at a time
        self._llm_cached: tuple | None = None
        self.recovered: list[dict] = []  # what start-up recovery did (``recover``), for /health
        self._feedback: FeedbackStore | None = None
        self._feedback_lock = threading.Lock()
        self._fingerprint: tuple | None = None  # (index snapshot, its fingerprint)

    @classmethod
    def open(cls, settings: Settings | None = None) -> "Assistant":
        settings = settings or get_settings()
        return cls(settings, ChunkStore(settings))

    def warm_up(self) -> None:
        """Load what the first query would otherwise wait for: the embedding
        models, the lexicon and simplemma's dictionaries (seconds, once)."""
        if self.retriever.size:
            self.retriever.candidate_lists("Wie viele Mitglieder hat das Netzwerk?", 1)
            self.retriever.candidate_lists("How many members does the network have?", 1)

    def refresh(self) -> None:
        """Pick up what an ingest changed."""
        self._generation = self.store.generation()
        self.retriever.reload()

    def recover(self) -> list[dict]:
        """Finish or roll back what an ingest killed mid-way left (a server
        start-up does this before serving): a document is then complete or
        as it was before, never half there. Returns what was done (also kept
        for /health)."""
        with self._lock:
            self.recovered = [r.to_dict() for r in recover(self.store)]
            if self.recovered:
                self.refresh()
        return self.recovered

    def _fresh(self) -> None:
        """Reload when another process (or ``lsn ingest``) changed the index;
        checked at most every REFRESH_EVERY_S seconds, by one thread at a time
        (the others go on with what they have)."""
        now = time.monotonic()
        if now - self._checked < REFRESH_EVERY_S or not self._refreshing.acquire(blocking=False):
            return
        try:
            self._checked = now
            if self.store.generation() != self._generation:
                self.refresh()
        finally:
            self._refreshing.release()

    def search(self, query: str, k: int | None = None, filters: dict | None = None) -> list[ScoredChunk]:
        """The k best passages (``k``: ``LSN_SEARCH_K`` when not given)."""
        query = clean_text("" if query is None else query, "query")
        k = self.settings.search_k if k is None else k
        flt = normalize_filters(filters)
        self._fresh()
        return self.retriever.search(query, k=k, filters=flt)

    # ---- answers

    def _check(self, question: object, history: object, filters: dict | None, k: int | None):
        """The request checked, and the snapshot of the index it is answered from."""
        if not isinstance(question, str):
            raise BadQuery("the question is empty")
        question = clean_text(question, "question").strip()
        if len(question) > MAX_QUERY_CHARS:
            raise BadQuery(f"the question is too long ({len(question)} characters; at most {MAX_QUERY_CHARS})")
        k = self.answerer.passages if k is None else k
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_ASK_K:
            raise BadQuery(f"k must be between 1 and {MAX_ASK_K}")
        turns = parse_history(history)
        flt = normalize_filters(filters)
        self._fresh()
        index = self.retriever.index
        if not index.size:
            raise IndexEmpty("the index is empty: run `lsn ingest` first")
        return question, turns, flt, k, index

    @staticmethod
    def _known_word(word: str, lang: str) -> bool:
        """Whether the lexicon knows a word (then it is no name), for follow-ups."""
        lex = Lexicon.default()
        if lex._word_translations(word, lang, 1):
            return True
        return lang == "de" and lex.split_compound(word.lower()) is not None

    def resolve(self, question: str, turns: list[Turn], index: IndexSnapshot | None = None) -> Resolved:
        """The standalone form of a question in a conversation (conversation.py)."""
        r = self.retriever
        ix = r.index if index is None else index

        def mentioned(q: str) -> set[str]:
            return r.mentioned_docs(r.plan(q, index=ix)) if ix.size else set()

        doc_terms = {t for terms in ix.title_terms.values() for t in terms}
        return resolve(question, turns, mentioned, self._known_word, doc_terms)

    def _llm(self):
        """The configured LLM (``lsn_assistant.llm.GroundedLLM``) or None, and
        the reason when its set-up failed. Built once per Assistant."""
        if self._llm_cached is None:
            try:
                self._llm_cached = (llm_module.get_llm(self.settings), None)
            except Exception as exc:  # noqa: BLE001 - a broken LLM set-up must not stop answers
                self._llm_cached = (None, f"{type(exc).__name__}: {exc}")
        return self._llm_cached

    def _llm_passages(self, llm, resolved: Resolved, turns: list[Turn], filters: dict | None, k: int,
                      index: IndexSnapshot):
        """The standalone question (condensed by the LLM when there is a
        history) and the passages for it: retrieved with the question and with
        its translation into the other language, fused by rank."""
        standalone = resolved.standalone
        if turns:
            history = [{"role": t.role, "content": t.content} for t in turns]
            standalone = llm.condense(resolved.question, history)
        # what the LLM wrote is text like any other: nothing the embedders cannot encode
        standalone = clean_text(standalone, "condensed question", require_visible=False).strip() or resolved.standalone
        lists = [self.retriever.search(standalone, k=k, filters=filters, index=index)]
        other = "en" if resolved.language == "de" else "de"
        translated = llm.translate(standalone, other) if self.settings.cross_lingual else standalone
        translated = clean_text(translated, "translated question", require_visible=False)
        if translated.strip() and translated.strip().lower() != standalone.strip().lower():
            lists.append(self.retriever.search(translated, k=k, filters=filters, index=index))
        return standalone, fuse_ranked(lists, k)

    def _llm_events(self, llm, resolved: Resolved, turns: list[Turn], filters: dict | None, k: int,
                    index: IndexSnapshot) -> Iterator[Delta | Done]:
        """Checked answer pieces as the LLM writes them (``Delta`` events with
        citation numbers already final), then ``Done``. Raises
        LLMUnavailable (possibly after some deltas) when the server fails."""
        t0 = time.perf_counter()
        lang = resolved.language
        standalone, hits = self._llm_passages(llm, resolved, turns, filters, k, index)
        t1 = time.perf_counter()
        history = [{"role": t.role, "content": t.content} for t in turns]
        numbers = CitationNumbers(hits)
        stream = llm.answer_stream(resolved.question, hits, lang, history)
        for piece in stream:
            yield Delta(numbers.renumber(piece))
        result = stream.result
        timings = {"retrieve": (t1 - t0) * 1000, **(result.timings_ms if result else {})}
        timings["total"] = (time.perf_counter() - t0) * 1000
        text = numbers.renumber(result.text) if result else ""
        citations = numbers.citations(result.quotes if result else {})
        base = dict(language=lang, mode="llm", timings_ms=timings, question=resolved.question, standalone=standalone)
        if result is None or result.abstained or not citations:
            answer = Answer(labels(lang)["abstain"], abstained=True, related=tuple(h.to_dict() for h in hits[:3]), **base)
        else:
            answer = Answer(text.strip(), abstained=False, citations=tuple(citations), **base)
        yield Done(answer)

    def _extractive(self, resolved: Resolved, filters: Filters | None, k: int, index: IndexSnapshot) -> Answer:
        answer = None
        if resolved.carried_docs and not (filters and filters.doc):
            narrowed = dataclasses.replace(filters or Filters(), doc=tuple(resolved.carried_docs))
            answer = self._extractive_once(resolved, narrowed, k, index)
        if answer is None or answer.abstained:
            answer = self._extractive_once(resolved, filters, k, index)
        return dataclasses.replace(answer, question=resolved.question)

    def _extractive_once(self, resolved: Resolved, filters: Filters | None, k: int, index: IndexSnapshot) -> Answer:
        """Retrieve for the standalone question, then let the answerer quote
        from the hits (it never retrieves itself)."""
        t0 = time.perf_counter()
        query, hits = self.answer_inputs(resolved, filters, k, index)
        t1 = time.perf_counter()
        answer = self.answerer.run(query, hits)
        timings = {"retrieve": (t1 - t0) * 1000, **answer.timings_ms, "total": (time.perf_counter() - t0) * 1000}
        return dataclasses.replace(answer, timings_ms=timings)

    def answer_inputs(self, resolved: Resolved, filters: dict | None, k: int, index: IndexSnapshot):
        """The answerer's ``Query`` and the passages retrieved for it (also
        what ``scripts/fit_answerer.py`` fits on)."""
        retrieved = self.retriever.retrieve(resolved.standalone, k=k, filters=filters, index=index)
        hits = retrieved.hits
        plan = dataclasses.replace(retrieved.query, lang=resolved.language)
        qvec = plan.vector("e5", self.settings.embed_threads)  # embedded by the search already when e5 is on
        query = Query(answer_words(resolved), resolved.standalone, resolved.language, plan, qvec,
                      frozenset(self.retriever.mentioned_docs(plan)))
        return query, hits

    def ask(self, question: str, history: list[dict] | None = None, filters: dict | None = None, k: int | None = None) -> Answer:
        """A grounded answer with ``[n]`` citations, or an abstention.

        ``history``: earlier turns, ``[{"role": "user"|"assistant", "content": str}]``
        (an assistant turn may carry the ``citations`` it was given); a
        follow-up question carries over the previous turn's topic. ``k``: the
        passages the answer may draw from (1-20). Extractive unless an LLM is
        configured (``lsn_assistant.llm``); a failing LLM falls back to the
        extractive answer with a notice.
        """
        t0 = time.perf_counter()
        question, turns, flt, k, index = self._check(question, history, filters, k)
        return self._ask(question, turns, flt, k, t0, index)

    def _ask(self, question: str, turns: list[Turn], flt: Filters | None, k: int, t0: float,
             index: IndexSnapshot | None = None) -> Answer:
        return _drain(self._events(question, turns, flt, k, t0, index))

    def _events(self, question: str, turns: list[Turn], flt: Filters | None, k: int, t0: float,
                index: IndexSnapshot | None = None) -> Iterator[Delta | Reset | Done]:
        """The one answer path behind ``ask`` and ``ask_stream``: ``Delta``
        events, possibly a ``Reset`` (what was streamed is withdrawn: the LLM
        failed mid-answer or its answer did not survive the checks), then
        ``Done``. Everything is read from one snapshot of the
        index (``index``, taken when the request was checked)."""
        index = self.retriever.index if index is None else index
        other = unsupported_language(question)
        if other:
            # Nothing in the documents answers a question nobody here can read:
            # quoting the nearest passage would look like an answer.
            answer = unsupported_answer(question, other, t0)
            for piece in stream_pieces(answer.text):
                yield Delta(piece)
            yield Done(dataclasses.replace(answer, answer_id=new_answer_id()))
            return
        resolved = self.resolve(question, turns, index)
        llm, problem = self._llm()
        answer = None
        streamed = ""
        if llm is not None:
            try:
                for event in self._llm_events(llm, resolved, turns, flt, k, index):
                    if isinstance(event, Delta):
                        streamed += event.text
                        yield event
                    else:
                        answer = event.answer
            except LLMUnavailable as exc:
                problem = str(exc)
            except LSNError:
                raise  # the store or the input, not the LLM: the caller's 4xx/503
            except Exception as exc:  # noqa: BLE001 - a failing LLM layer must not stop answers
                problem = f"{type(exc).__name__}: {exc}"
        if answer is None:
            answer = self._extractive(resolved, flt, k, index)
        if streamed and streamed.strip() != answer.text.strip():
            yield Reset()
            streamed = ""
        if not streamed:
            for piece in stream_pieces(answer.text):
                yield Delta(piece)
        notice = labels(resolved.language)["llm_failed"].format(reason=problem) if problem else answer.notice
        timings = dict(answer.timings_ms)
        timings["total"] = (time.perf_counter() - t0) * 1000
        yield Done(dataclasses.replace(answer, notice=notice, timings_ms=timings, answer_id=new_answer_id()))

    def ask_stream(
        self, question: str, history: list[dict] | None = None, filters: dict | None = None, k: int | None = None
    ) -> Iterator[StreamEvent]:
        """``ask`` as typed events (``types.StreamEvent``): ``Delta`` pieces of
        the answer text as it forms (with an LLM: as the model writes, sentence
        by sentence, after the checks); ``Reset`` if what was streamed is
        withdrawn (the LLM failed mid-answer; the extractive answer follows);
        then ``Citations`` and ``Done`` (the whole ``Answer``, whose text is
        authoritative). The edges send ``event.to_dict()`` as JSON. Bad input
        raises here, before the first event."""
        t0 = time.perf_counter()
        question, turns, flt, k, index = self._check(question, history, filters, k)
        return self._stream(question, turns, flt, k, t0, index)

    def _stream(self, question, turns, flt, k, t0, index: IndexSnapshot | None = None) -> Iterator[StreamEvent]:
        for event in self._events(question, turns, flt, k, t0, index):
            if isinstance(event, Done):
                yield Citations(event.answer.citations)
            yield event

    # ---- feedback

    @property
    def feedback(self) -> FeedbackStore:
        """The ratings of answers, in ``data_dir`` (opened on first use)."""
        with self._feedback_lock:
            if self._feedback is None:
                self._feedback = FeedbackStore(feedback_path(self.settings.data_dir))
            return self._feedback

    def record_answer(self, answer: dict, history: list[dict] | None = None) -> None:
        """Keep an answer that was shown to someone (``Answer.to_dict()``), so
        that a rating sent later by its ``answer_id`` is stored with it."""
        if not answer.get("answer_id"):
            return
        turns = [{"role": t["role"], "content": t["content"]} for t in history or [] if isinstance(t, dict) and "content" in t]
        self.feedback.remember(answer["answer_id"], answer, turns, self.index_fingerprint())

    def rate(self, answer_id: str, rating: str, comment: str | None = None) -> int:
        """Store a rating (``up``/``down``, optional comment) of an answer given earlier."""
        return self.feedback.add(answer_id, rating, comment)

    def index_fingerprint(self) -> str:
        """A short hash of the chunk ids of the index now: which index an answer came from."""
        index = self.retriever.index
        cached = self._fingerprint
        if cached is None or cached[0] is not index:
            cached = (index, fingerprint(c.chunk_id for c in index.chunks))
            self._fingerprint = cached
        return cached[1]

    def prepare_answers(self) -> int:
        """Embed the sentences of the whole index for answers now (cached under
        ``data_dir/cache``) instead of on the first question that meets them."""
        return self.answerer.prepare(list(self.retriever.chunks))

    def documents(self) -> list[dict]:
        """The indexed documents: doc, title, year, langs, chunks, pages, and
        where the file is (``corpus``, ``upload``, or ``index`` when only the
        index knows it)."""
        self._fresh()
        docs: dict[str, dict] = {}
        for c in self.retriever.index.chunks:
            d = docs.setdefault(c.doc, {"doc": c.doc, "title": c.title, "year": c.year, "langs": set(), "chunks": 0,
                                        "pages": set()})
            d["chunks"] += 1
            if c.lang:
                d["langs"].add(c.lang)
            if c.page:
                d["pages"].add(c.page)
        where = library.origins(self.settings, docs)
        return [
            {**d, "langs": sorted(d["langs"]), "pages": len(d["pages"]) or None, "source": where[d["doc"]] or "index"}
            for d in sorted(docs.values(), key=lambda d: d["doc"])
        ]

    def document_file(self, doc: str) -> tuple[Path, str]:
        """The file an indexed document was read from (its upload or corpus
        file) and its media type, for showing the original (a PDF at a cited
        page). NotFound for a name the index does not hold (a removed corpus
        file, anything else on disk) and for one whose file is gone."""
        self._fresh()
        if not library.plain_name(doc) or not any(c.doc == doc for c in self.retriever.index.chunks):
            raise NotFound(f"no document named {doc!r} in the index")
        found = library.original(self.settings, doc)
        if found is None:
            raise NotFound(f"the original file of {doc!r} is not available (only the index knows the document)")
        return found

    def add_document(
        self, filename: str, data: bytes, title: str | None = None, year: int | None = None, lang: str | None = None
    ) -> dict:
        """Store an uploaded file in the library and ingest it (only what
        changed is embedded); returns the ingest report. A file that is too big,
        not what its name says, corrupt or encrypted is refused before anything
        is replaced (``UploadRejected``, ``Conflict``)."""
        if title is not None:  # it goes into the manifest and every chunk's metadata
            title = clean_text(title, "title", require_visible=False).strip() or None
        with self._lock:
            path = library.store_upload(self.settings, filename, data, title, year, lang)
            report = ingest([path], self.settings, self.store, progress=False)
            self.refresh()
            report.prepared = self.answerer.prepare([c for c in self.retriever.chunks if c.doc == path.name])
        return report.to_dict()

    def delete_document(self, doc: str) -> dict:
        """Take a document out of the index and the library (an uploaded file
        is deleted; a corpus file stays on disk, marked removed)."""
        with self._lock:
            indexed = any(c.doc == doc for c in self.retriever.chunks)
            where = library.forget(self.settings, doc, indexed)
            deleted = self.store.delete_doc(doc) if indexed else 0
            if deleted:
                self.store.bump_generation()
            self.refresh()
        return {"doc": doc, "deleted_chunks": deleted, "source": where, "index_size": self.store.count()}

    def health(self) -> dict:
        return {
            "status": "ok",
            "index_size": self.store.count(),  # asks the store: a lost server shows here
            "store": "server" if self.settings.chroma_url else "embedded",
            "embedders": self.store.embedders,
            "ingest": self.ingest_status(),
            "llm": self.llm_status(),
            "versions": {name: _version(name) for name in ("lsn-assistant", "chromadb", "llama-index-core", "gradio")},
        }

    def ingest_status(self) -> dict:
        """Documents whose new version is being written (not visible until
        complete, with the chunk writes so far) and what start-up recovery
        finished or rolled back."""
        ledger = self.store.ledger() or {}
        per_version = len(self.store.embedders)
        pending = [
            {"doc": doc, "written": pub.written, "of": len(pub.pending_ids) * per_version}
            for doc, pub in sorted(ledger.items())
            if pub.pending
        ]
        return {"pending": pending, "recovered": list(self.recovered)}

    def llm_status(self) -> dict:
        """``{"mode": "extractive"}``, or the LLM's provider, model, URL and
        whether it answers right now (a 2 s ping)."""
        llm, problem = self._llm()
        if llm is None:
            return {"mode": "extractive", **({"problem": problem} if problem else {})}
        return {"mode": "llm", **llm.ping(timeout_s=2.0)}


def answer_words(resolved: Resolved) -> str:
    """The words that decide what kind of answer a question wants: its own,
    unless it is a follow-up without content words of its own ("Und 2019?"),
    which asks the same kind of thing as the turn before. "Und was ist mit der
    Bruttowertschöpfung?" after "Wie viele Beschäftigte …" asks no count."""
    if resolved.follow_up and not [w for w in content_words(resolved.question) if not w.isdigit()]:
        return resolved.intent
    return resolved.question


def unsupported_answer(question: str, lang: str, t0: float) -> Answer:
    """The answer to a question in neither German nor English: in English,
    saying so (no passage, no citation)."""
    return Answer(
        labels("en")["unsupported_language"],
        "en",
        True,
        timings_ms={"total": (time.perf_counter() - t0) * 1000},
        question=question,
        standalone=question,
        evidence={"question_language": lang, "unsupported_language": True},
    )


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _drain(events: Iterator[Delta | Reset | Done]) -> Answer:
    """The final answer of an event stream."""
    answer = None
    for event in events:
        if isinstance(event, Done):
            answer = event.answer
    assert answer is not None
    return answer


def fuse_ranked(lists: list[list[ScoredChunk]], k: int, rrf_k: int = 10) -> list[ScoredChunk]:
    """Reciprocal-rank fusion of result lists of the same retriever (the
    question and its translation), best k, ranks renumbered."""
    if len(lists) == 1:
        return lists[0][:k]
    first: dict[str, ScoredChunk] = {}
    for hits in lists:
        for hit in hits:
            first.setdefault(hit.chunk.chunk_id, hit)
    ranked = {str(i): [h.chunk.chunk_id for h in hits] for i, hits in enumerate(lists)}
    fused = rrf(ranked, {}, rrf_k)[:k]  # the retriever's one fusion, each list weighted 1
    return [dataclasses.replace(first[c], rank=i + 1, score=score) for i, (c, score, _) in enumerate(fused)]


class CitationNumbers:
    """An LLM answer cites passages by their number in the prompt; the user
    sees citations numbered 1, 2, ... in order of first appearance. Renumbers
    streamed pieces consistently and builds the citations at the end."""

    _MARK = re.compile(r"([ \t]*)\[(\d+)\]")

    def __init__(self, passages: list[ScoredChunk]):
        self.passages = passages
        self.order: dict[int, int] = {}

    def renumber(self, text: str) -> str:
        def repl(m: re.Match) -> str:
            n = int(m.group(2))
            if not 1 <= n <= len(self.passages):
                return ""  # the LLM layer already dropped these; never pass one on
            return f"{m.group(1)}[{self.order.setdefault(n, len(self.order) + 1)}]"

        return self._MARK.sub(repl, text)

    def citations(self, quotes: dict[int, str]) -> list[Citation]:
        """One citation per cited passage; its quote is the supporting sentence
        the LLM layer chose, verbatim from the passage (else the passage's first sentence)."""
        out = []
        for n, shown in sorted(self.order.items(), key=lambda kv: kv[1]):
            chunk = self.passages[n - 1].chunk
            quote = quotes.get(n) or ""
            if not quote.strip() or quote not in chunk.text:
                spans = sentence_spans(chunk.text, chunk.lang) or [(0, len(chunk.text))]
                quote = chunk.text[spans[0][0]:spans[0][1]]
            out.append(Citation(shown, chunk.chunk_id, chunk.doc, chunk.title, chunk.page, chunk.section,
                                quote, chunk.text, chunk.lang))
        return out


def stream_pieces(text: str) -> list[str]:
    """The answer text in the pieces it is made of (sentences with their
    markers, lines); joined they are the text again."""
    return [p for p in re.split(r"(?<=\])(?=\s)|(?<=\n)", text) if p]
