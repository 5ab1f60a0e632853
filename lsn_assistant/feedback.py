"""Members' ratings of answers, kept durably, and turned into test-set candidates.

Every answer the service gives gets an ``answer_id`` and is remembered here
(question, answer, citations, mode, the index it came from), so that a thumbs
up or down sent later — from another worker process, or after a restart — is
stored with what it rates. Nothing else about the person is kept.

SQLite in write-ahead-log mode under the data directory: one file, safe for
several processes of one machine, and a committed rating survives a killed
process. The schema is versioned with ``PRAGMA user_version``; ``MIGRATIONS``
brings an older file up to date when it is opened.

Answers nobody rated are pruned beyond ``keep_answers`` (oldest first): the
store is for feedback, not a log of everything asked.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path

from .errors import BadQuery, ConfigError, NotFound

RATINGS: tuple[str, ...] = ("up", "down")
MAX_COMMENT_CHARS = 2000
KEEP_ANSWERS = 20_000

MIGRATIONS: tuple[str, ...] = (
    # 1: answers as given, ratings of them
    """
    CREATE TABLE answers (
        answer_id TEXT PRIMARY KEY,
        created TEXT NOT NULL,
        question TEXT NOT NULL,
        language TEXT NOT NULL,
        history TEXT NOT NULL,
        answer TEXT NOT NULL,
        abstained INTEGER NOT NULL,
        citations TEXT NOT NULL,
        mode TEXT NOT NULL,
        index_fingerprint TEXT NOT NULL
    );
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        answer_id TEXT NOT NULL REFERENCES answers(answer_id),
        created TEXT NOT NULL,
        rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
        comment TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX feedback_created ON feedback(created);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class FeedbackError(BadQuery):
    """A rating that cannot be stored: a bad rating or comment (a 400)."""


class UnknownAnswer(NotFound):
    """No answer with this id was given (or it was pruned long ago): a 404."""


class FeedbackSchemaError(ConfigError):
    """The feedback file was written by a newer version."""


FILE_NAME = "feedback.sqlite3"


def feedback_path(data_dir: str | Path) -> Path:
    """Where the service keeps the feedback of a data directory."""
    return Path(data_dir) / FILE_NAME


def fingerprint(chunk_ids) -> str:
    """A short hash of an index's chunk ids (content hashes): which index an answer came from."""
    import hashlib

    return hashlib.sha256("\n".join(sorted(chunk_ids)).encode()).hexdigest()[:16]


def new_answer_id() -> str:
    return uuid.uuid4().hex


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class FeedbackStore:
    """The answers given and their ratings, in ``path`` (SQLite, WAL)."""

    def __init__(self, path: str | Path, keep_answers: int = KEEP_ANSWERS):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.keep_answers = keep_answers
        self._lock = threading.Lock()  # one connection shared by the server's threads
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=10, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a rating acknowledged with 201 is on disk, even if the machine stops
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    def _migrate(self) -> None:
        with self._lock:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise FeedbackSchemaError(
                    f"{self.path} has feedback schema {version}, newer than this version of LSN Assistant ({SCHEMA_VERSION})"
                )
            for n in range(version, SCHEMA_VERSION):
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    for statement in MIGRATIONS[n].split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version = {n + 1}")
                    self._db.execute("COMMIT")
                except Exception:
                    self._db.execute("ROLLBACK")
                    raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ---- answers

    def remember(self, answer_id: str, answer: dict, history: list[dict] | None, index_fingerprint: str) -> None:
        """Keep an answer (``Answer.to_dict()``) so that it can be rated later."""
        citations = [
            {k: c.get(k) for k in ("n", "chunk_id", "doc", "title", "page", "section", "quote")}
            for c in answer.get("citations") or []
        ]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        answer_id,
                        _now(),
                        answer.get("question") or "",
                        answer.get("language") or "",
                        json.dumps(history or [], ensure_ascii=False),
                        answer.get("answer") or "",
                        int(bool(answer.get("abstained"))),
                        json.dumps(citations, ensure_ascii=False),
                        answer.get("mode") or "",
                        index_fingerprint,
                    ),
                )
                # unrated answers beyond the newest keep_answers go
                self._db.execute(
                    """DELETE FROM answers WHERE answer_id IN (
                         SELECT answer_id FROM answers
                         WHERE answer_id NOT IN (SELECT answer_id FROM feedback)
                         ORDER BY created DESC, rowid DESC LIMIT -1 OFFSET ?)""",
                    (self.keep_answers,),
                )
                self._db.execute("COMMIT")
            except Exception:
                self._db.execute("ROLLBACK")
                raise

    # ---- ratings

    def add(self, answer_id: str, rating: str, comment: str | None = None) -> int:
        """Store a rating of an answer given earlier; its id."""
        if rating not in RATINGS:
            raise FeedbackError(f"rating must be one of {', '.join(RATINGS)}")
        comment = (comment or "").strip()
        if len(comment) > MAX_COMMENT_CHARS:
            raise FeedbackError(f"the comment is too long ({len(comment)} characters; at most {MAX_COMMENT_CHARS})")
        with self._lock:
            if self._db.execute("SELECT 1 FROM answers WHERE answer_id = ?", (answer_id,)).fetchone() is None:
                raise UnknownAnswer(f"no answer with id {answer_id!r}")
            cur = self._db.execute(
                "INSERT INTO feedback (answer_id, created, rating, comment) VALUES (?, ?, ?, ?)",
                (answer_id, _now(), rating, comment),
            )
            return int(cur.lastrowid)

    def list(self, rating: str | None = None, limit: int | None = None) -> list[dict]:
        """Ratings with what they rate, newest first."""
        if rating is not None and rating not in RATINGS:
            raise FeedbackError(f"rating must be one of {', '.join(RATINGS)}")
        sql = (
            "SELECT f.id, f.created, f.rating, f.comment, a.* FROM feedback f JOIN answers a USING (answer_id)"
            + (" WHERE f.rating = ?" if rating else "")
            + " ORDER BY f.created DESC, f.id DESC"
            + (" LIMIT ?" if limit else "")
        )
        params: list = [rating] if rating else []
        if limit:
            params.append(int(limit))
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [
            {
                "id": r["id"],
                "created": r["created"],
                "rating": r["rating"],
                "comment": r["comment"],
                "answer_id": r["answer_id"],
                "question": r["question"],
                "language": r["language"],
                "history": json.loads(r["history"]),
                "answer": r["answer"],
                "abstained": bool(r["abstained"]),
                "citations": json.loads(r["citations"]),
                "mode": r["mode"],
                "index_fingerprint": r["index_fingerprint"],
            }
            for r in rows
        ]

    def counts(self) -> dict[str, int]:
        """How many ratings of each kind."""
        with self._lock:
            rows = self._db.execute("SELECT rating, COUNT(*) FROM feedback GROUP BY rating").fetchall()
        out = dict.fromkeys(RATINGS, 0)
        out.update({r[0]: r[1] for r in rows})
        return out


def candidate(item: dict) -> dict:
    """A rated answer as a test-set candidate (eval/testsets format): the
    question, its language and history, the cited quotes as evidence, the
    answer as a draft reference. Key facts are left for a person to fill in;
    ``lsn eval check`` refuses the item until they are. An abstention becomes
    an ``unanswerable`` candidate (a person decides whether it is one)."""
    evidence = [{"doc": c["doc"], "quote": c["quote"]} for c in item["citations"] if c.get("doc") and c.get("quote")]
    out = {
        "id": f"fb-{item['id']}",
        "question": item["question"],
        "lang": item["language"] if item["language"] in ("de", "en") else "de",
        "type": "unanswerable" if item["abstained"] or not evidence else "fact",
        "reference_answer": item["answer"],
        "key_facts": [],
        "evidence": [] if item["abstained"] else evidence,
        "source": "feedback",
        "feedback": {"rating": item["rating"], "comment": item["comment"], "answer_id": item["answer_id"],
                     "created": item["created"], "mode": item["mode"], "index_fingerprint": item["index_fingerprint"]},
    }
    if item["history"]:
        out["history"] = item["history"]
    return out
