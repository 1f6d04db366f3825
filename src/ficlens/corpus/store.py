"""The corpus store: one embedded DuckDB file (schema in `schema.py`, documented in docs/corpus.md).

One process writes (the run's main process); each batch of results is written in ONE transaction, so a
run killed at any moment leaves every story either complete or absent. Reads (`search`, `facets`,
`stats`, `sql`, `get_story_json`) open the file read-only; DuckDB lets several processes read a store
at once, but not while another process writes to it.

Full-text search uses DuckDB's FTS extension, loaded from the `duckdb-extension-fts` package (nothing
is downloaded). A DuckDB FTS index does not follow inserts, so a run rebuilds it at its end, and a
text query rebuilds it first if the stories changed since (the `fts_signature` in `store_info`).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..errors import Errors, FiclensError
from . import schema
from .schema import STORE_VERSION, STORY_TABLES, TABLES


class StoreError(FiclensError):
    """The store cannot be opened or queried: missing, in use, of another version, or a bad query."""


def fts_extension_path() -> str:
    """The FTS extension file shipped by the `duckdb-extension-fts` package (`INSTALL fts` needs a network)."""
    import duckdb
    import duckdb_extension_fts

    version = duckdb.__version__
    return os.path.join(os.path.dirname(duckdb_extension_fts.__file__), "extensions", f"v{version}",
                        "fts.duckdb_extension")


def connect(path: str | os.PathLike, *, read_only: bool = False):
    """A DuckDB connection to `path` with the FTS extension loaded."""
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as e:
        reason = str(e).splitlines()[0]
        template = Errors.E214 if "lock" in reason.lower() else Errors.E207
        raise StoreError(template.format(path=path, reason=reason)) from e
    con.execute(f"LOAD '{_sql_str(fts_extension_path())}'")
    return con


def _sql_str(value: str) -> str:
    return value.replace("'", "''")


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass
class WriteOutcome:
    """What one `write_results` call did."""

    stories: int = 0      # stories written
    duplicates: int = 0   # inputs whose story was already in the store (same content)
    errors: int = 0       # error rows written
    words: int = 0        # words of the stories written
    written: list[dict[str, Any]] = field(default_factory=list)  # the results, in order, with "status"


@dataclass
class SearchResult:
    """A page of stories: `total` matching, `rows` the page (dicts, see `Store.search`)."""

    total: int
    rows: list[dict[str, Any]]


class Store:
    """A corpus store. `Store(path)` opens (creating if needed) for writing; `Store(path, read_only=True)`
    opens an existing store for reading. Use as a context manager or call `close()`."""

    def __init__(self, path: str | os.PathLike, *, read_only: bool = False):
        """path: the DuckDB file. read_only: open for reading only (the file must exist)."""
        self.path = Path(path)
        self.read_only = read_only
        if read_only and not self.path.exists():
            raise StoreError(Errors.E205.format(path=self.path))
        if self.path.is_dir():
            raise StoreError(Errors.E207.format(path=self.path, reason="it is a folder"))
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = connect(self.path, read_only=read_only)
        try:
            self._check_or_create()
        except BaseException:
            self.con.close()
            raise

    # -- lifecycle -----------------------------------------------------------------------------
    def _check_or_create(self) -> None:
        have = {r[0] for r in self.con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
        if "store_info" in have:
            row = self.con.execute("SELECT value FROM store_info WHERE key = 'store_version'").fetchone()
            found = row[0] if row else "?"
            if str(found) != str(STORE_VERSION):
                raise StoreError(Errors.E206.format(path=self.path, found=found, expected=STORE_VERSION))
            return
        if self.read_only:
            raise StoreError(Errors.E205.format(path=self.path))
        self.con.execute("BEGIN TRANSACTION")
        for table in TABLES:
            self.con.execute(schema.ddl(table))
        for index in schema.INDEXES:
            self.con.execute(index)
        self.con.execute("INSERT INTO store_info VALUES ('store_version', ?)", [str(STORE_VERSION)])
        self.con.execute("COMMIT")

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the database file."""
        self.con.execute("CHECKPOINT")

    # -- runs ----------------------------------------------------------------------------------
    def begin_run(self, *, engine: str, workers: int, sources: Sequence[str]) -> int:
        run_id = self.con.execute("SELECT coalesce(max(id), 0) + 1 FROM runs").fetchone()[0]
        self.con.execute("INSERT INTO runs (id, started_at, engine, workers, sources, stories, skipped, errors, words)"
                         " VALUES (?, ?, ?, ?, ?, 0, 0, 0, 0)", [run_id, utcnow(), engine, workers, list(sources)])
        return run_id

    def end_run(self, run_id: int, *, stories: int, skipped: int, errors: int, words: int,
                finished: bool = True) -> None:
        self.con.execute("UPDATE runs SET finished_at = ?, stories = ?, skipped = ?, errors = ?, words = ? "
                         "WHERE id = ?", [utcnow() if finished else None, stories, skipped, errors, words, run_id])

    # -- what is done --------------------------------------------------------------------------
    def done_lookup(self, items: Sequence[tuple[str, str]]) -> dict[str, Any]:
        """For (path, sha) pairs: what the store already knows about those bytes.

        Returns {"inputs": {sha: {path: story_id}}, "errors": {(path, sha)}}.
        """
        shas = sorted({sha for _, sha in items})
        paths = sorted({p for p, _ in items})
        inputs: dict[str, dict[str, str]] = {}
        for path, sha, story_id in self.con.execute(
                "SELECT path, raw_sha256, story_id FROM inputs WHERE raw_sha256 IN (SELECT unnest(?))",
                [shas]).fetchall():
            inputs.setdefault(sha, {})[path] = story_id
        errors = set(self.con.execute(
            "SELECT path, raw_sha256 FROM errors WHERE path IN (SELECT unnest(?))", [paths]).fetchall())
        return {"inputs": inputs, "errors": errors}

    def add_inputs(self, rows: Sequence[tuple[str, str, str]], run_id: int) -> None:
        """Record (path, sha, story_id) for inputs whose bytes were analysed under another path."""
        if not rows:
            return
        now = utcnow()
        latest = {path: (path, sha, sid, run_id, now) for path, sha, sid in rows}
        self.con.execute("BEGIN TRANSACTION")
        try:
            self._insert("inputs", [dict(zip(schema.columns("inputs"), r)) for r in latest.values()], replace=True)
            self.con.execute("DELETE FROM errors WHERE path IN (SELECT unnest(?))", [list(latest)])
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def clear_errors(self) -> int:
        """Forget recorded errors (so a rerun retries those inputs); returns how many."""
        n = self.con.execute("SELECT count(*) FROM errors").fetchone()[0]
        self.con.execute("DELETE FROM errors")
        return n

    # -- writing -------------------------------------------------------------------------------
    def write_results(self, results: Iterable[dict[str, Any]], *, run_id: int, force: bool = False) -> WriteOutcome:
        """Write worker results (see `work.analyze_batch`) in one transaction.

        A story already in the store is not written again (its input is recorded as a duplicate),
        unless `force` and it was written by an earlier run: then its rows are replaced.
        """
        results = list(results)
        out = WriteOutcome()
        if not results:
            return out
        now = utcnow()
        oks = [r for r in results if "rows" in r]
        errs = [r for r in results if "rows" not in r]
        self.con.execute("BEGIN TRANSACTION")
        try:
            existing = dict(self.con.execute(
                "SELECT id, run_id FROM stories WHERE id IN (SELECT unnest(?))",
                [sorted({r["story_id"] for r in oks})]).fetchall()) if oks else {}
            chosen: dict[str, dict[str, Any]] = {}
            replace: list[str] = []
            for r in oks:
                sid = r["story_id"]
                fresh = sid not in chosen and (sid not in existing or (force and existing[sid] != run_id))
                if fresh:
                    chosen[sid] = r
                    if sid in existing:
                        replace.append(sid)
                    out.stories += 1
                    out.words += r.get("words") or 0
                else:
                    out.duplicates += 1
                out.written.append({**_summary(r), "status": "ok" if fresh else "duplicate"})
            if replace:
                for table in STORY_TABLES:
                    self.con.execute(f"DELETE FROM {table} WHERE story_id IN (SELECT unnest(?))", [replace])
                self.con.execute("DELETE FROM stories WHERE id IN (SELECT unnest(?))", [replace])
            for table in ("stories", *STORY_TABLES):
                rows = [row for r in chosen.values() for row in r["rows"].get(table, [])]
                if table == "stories":
                    rows = [{**row, "run_id": run_id, "analyzed_at": now} for row in rows]
                self._insert(table, rows)
            inputs = {r["path"]: {"path": r["path"], "raw_sha256": r["sha"], "story_id": r["story_id"],
                                  "run_id": run_id, "analyzed_at": now} for r in oks}
            self._insert("inputs", list(inputs.values()), replace=True)
            if inputs:
                self.con.execute("DELETE FROM errors WHERE path IN (SELECT unnest(?))", [list(inputs)])
            errors = {r["path"]: {"path": r["path"], "raw_sha256": r.get("sha"), "error_type": r["error_type"],
                                  "message": r["message"], "run_id": run_id, "at": now} for r in errs}
            self._insert("errors", list(errors.values()), replace=True)
            if errors:
                self.con.execute("DELETE FROM inputs WHERE path IN (SELECT unnest(?))", [list(errors)])
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        out.errors = len(errs)
        out.written.extend({**_summary(r), "status": "error"} for r in errs)
        return out

    def _insert(self, table: str, rows: list[dict[str, Any]], *, replace: bool = False) -> None:
        if not rows:
            return
        import pyarrow as pa

        data = pa.Table.from_pylist(rows, schema=schema.arrow_schema(table))
        name = f"_ficlens_rows_{table}"
        self.con.register(name, data)
        try:
            verb = "INSERT OR REPLACE" if replace else "INSERT"
            self.con.execute(f"{verb} INTO {table} SELECT * FROM {name}")
        finally:
            self.con.unregister(name)

    # -- full-text index -----------------------------------------------------------------------
    def _fts_signature(self) -> str:
        n, x = self.con.execute("SELECT count(*), coalesce(bit_xor(hash(id)), 0) FROM stories").fetchone()
        return f"{n}:{x}"

    def fts_stale(self) -> bool:
        row = self.con.execute("SELECT value FROM store_info WHERE key = 'fts_signature'").fetchone()
        return row is None or row[0] != self._fts_signature()

    def rebuild_fts(self) -> None:
        """(Re)build the full-text index over `stories.text` (Porter stemmer, English stop words)."""
        self.con.execute("PRAGMA create_fts_index('stories', 'id', 'text', stemmer = 'porter', "
                         "stopwords = 'english', strip_accents = 1, lower = 1, overwrite = 1)")
        self.con.execute("INSERT OR REPLACE INTO store_info VALUES ('fts_signature', ?)", [self._fts_signature()])

    def ensure_fts(self) -> None:
        """Make the full-text index current, reopening for writing briefly if this store is read-only."""
        if not self.fts_stale():
            return
        if not self.read_only:
            self.rebuild_fts()
            return
        self.close()
        try:
            with Store(self.path) as writer:
                if writer.fts_stale():
                    writer.rebuild_fts()
        finally:
            self.con = connect(self.path, read_only=True)

    # -- reading -------------------------------------------------------------------------------
    def get_story_json(self, story_id: str) -> dict[str, Any] | None:
        """The story's full JSON document (as `ficlens analyze` writes it), or None if absent."""
        row = self.con.execute("SELECT document FROM stories WHERE id = ?", [story_id]).fetchone()
        return json.loads(row[0]) if row else None

    def get_text(self, story_id: str) -> str | None:
        """The story's normalized text (what the full-text index searches), or None if absent."""
        row = self.con.execute("SELECT text FROM stories WHERE id = ?", [story_id]).fetchone()
        return row[0] if row else None

    def get_source_text(self, story_id: str) -> str | None:
        """The decoded source text, which every span of the JSON document points into."""
        row = self.con.execute("SELECT coalesce(source_text, text) FROM stories WHERE id = ?", [story_id]).fetchone()
        return row[0] if row else None

    def get_story(self, story_id: str) -> dict[str, Any] | None:
        """The story's row (every `stories` column but text, source_text and document), or None."""
        from .query import STORY_COLUMNS

        cur = self.con.execute(f"SELECT {', '.join(STORY_COLUMNS)} FROM stories WHERE id = ?", [story_id])
        row = cur.fetchone()
        return dict(zip(STORY_COLUMNS, row)) if row else None

    def search(self, filters=None, *, sort: str | None = None, limit: int | None = 50,
               offset: int = 0) -> SearchResult:
        """Stories matching `filters` (a `query.Filters`, a mapping of its fields, or None for all).

        sort: "relevance" (BM25 score of `filters.text`; the default when there is text), "title"
        (the default otherwise), "words", "quotes", "analyzed", "id"; a leading "-" reverses.
        limit/offset: the page (limit None = every row). Each row is a dict with id, title, author,
        source_path, fandoms, rating, relationships, warnings, category, pov, reader_insert, words,
        quotes, characters, score (BM25, None without text). `total` counts every match.
        """
        from .query import search

        return search(self, filters, sort=sort, limit=limit, offset=offset)

    def facets(self, filters=None, *, names: Sequence[str] | None = None, limit: int = 20) -> dict[str, list[tuple[str, int]]]:
        """Counts per facet value over the stories matching `filters`: {facet: [(value, stories), ...]},
        most frequent first, at most `limit` values each. Facets: fandom, relationship, character,
        rating, warning, category, freeform, pov (`names` picks some)."""
        from .query import facets

        return facets(self, filters, names=names, limit=limit)

    def stats(self, filters=None, *, top: int = 10) -> dict[str, Any]:
        """Corpus statistics (see `stats.corpus_stats`)."""
        from .stats import corpus_stats

        return corpus_stats(self, filters, top=top)

    def sql(self, query: str, params: Sequence[Any] | None = None) -> tuple[list[str], list[tuple]]:
        """Run any SQL; returns (column names, rows). Read-only stores refuse writes."""
        import duckdb

        try:
            cur = self.con.execute(query, params or [])
            cols = [d[0] for d in cur.description] if cur.description else []
            return cols, cur.fetchall() if cols else []
        except duckdb.Error as e:
            raise StoreError(Errors.E209.format(reason=str(e).strip())) from e

    def counts(self) -> dict[str, int]:
        """Rows per table."""
        return {t: self.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}

    def export_parquet(self, folder: str | os.PathLike, *, include_text: bool = True,
                       tables: Sequence[str] | None = None) -> list[Path]:
        """Write each table to FOLDER/<table>.parquet (zstd); `include_text=False` leaves out the
        stories' text, source_text and document columns. Returns the files written."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for table in tables or [t for t in TABLES if t != "store_info"]:
            cols = schema.columns(table)
            if table == "stories" and not include_text:
                cols = [c for c in cols if c not in ("text", "source_text", "document")]
            target = folder / f"{table}.parquet"
            select = ", ".join(f'"{c}"' for c in cols)
            self.con.execute(f"COPY (SELECT {select} FROM {table}) TO '{_sql_str(str(target))}' "
                             "(FORMAT parquet, COMPRESSION zstd)")
            written.append(target)
        return written


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    return {k: result.get(k) for k in ("path", "story_id", "words", "error_type", "message")}
